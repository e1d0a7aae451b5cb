"""The layer-structured batched path (autograd/compiler/layers.py) against the eager per-example loop."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import Backend, programs, run_program

import autograd
import nn
from autograd import TracingError, Value, dot, vsum
from autograd import compile as compile_graph
from autograd.compiler.layers import SHARED_EXP_FORMS

np = pytest.importorskip("numpy")


def eager_loop(fn, shared: list[float], rows: list[list[float]], n_wrt: int):
    """Σ over examples of the output and of d(output)/d(first n_wrt leaves), by the eager engine."""
    total, grads = 0.0, [0.0] * n_wrt
    outputs = []
    for row in rows:
        leaves = [Value(v) for v in [*shared, *row]]
        root = fn(*leaves)
        root.backward()
        outputs.append(root.data)
        total += root.data
        grads = [g + leaf.grad for g, leaf in zip(grads, leaves)]
    return total, grads, outputs


@settings(max_examples=80, deadline=None)
@given(
    program=programs(max_inputs=3, max_ops=10),
    batch=st.lists(st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3), min_size=1, max_size=5),
)
def test_random_programs_match_the_eager_loop(program, batch):
    fn = lambda *leaves: run_program(program, leaves, Backend())  # noqa: E731
    n = len(program.inputs)
    leaves = [Value(x, f"x{i}") for i, x in enumerate(program.inputs)]
    try:
        compiled = compile_graph(fn, leaves)
    except TracingError:
        raise
    except (ValueError, ArithmeticError):
        assume(False)
    shared = list(program.inputs[:1])
    rows = [row[: n - 1] for row in batch]
    try:
        total, grads, outputs = eager_loop(fn, shared, rows, n)
    except (ValueError, ArithmeticError):
        assume(False)
    assume(all(map(math.isfinite, [total, *grads])))
    layered = compiled.layered(data=[f"x{i}" for i in range(1, n)])
    data = np.array(rows, dtype=float).reshape(len(rows), n - 1)
    result = layered(shared, data)
    assert result.value == pytest.approx(total, rel=1e-9, abs=1e-12)
    assert result.outputs == pytest.approx(outputs, rel=1e-9, abs=1e-12)
    assert result.grad == pytest.approx(grads[:1], rel=1e-9, abs=1e-12)
    if n > 1:
        assert result.data_grad.sum(axis=0) == pytest.approx(grads[1:], rel=1e-9, abs=1e-9)


def test_a_zero_local_derivative_passes_zero_from_an_infinite_slope_as_backward_does():
    # sqrt(relu(w·x)) and sqrt(relu(2 - x0)) where the relu is 0 for some examples: sqrt's slope
    # there is inf and relu's local derivative 0, and backward() passes exactly 0 (not 0 × inf).
    def fn(w0, w1, x0, x1):
        layer = dot([w0, w1], [x0, x1]).relu().sqrt()
        return layer + (2.0 - x0).relu().sqrt() + w0 * x1

    shared, rows = [0.5, -1.0], [[1.0, 0.5], [2.0, 4.0], [3.0, 1.0], [-1.0, 2.0]]
    total, grads, _ = eager_loop(fn, shared, rows, 4)
    assert all(map(math.isfinite, grads)), grads  # the rows with w·x <= 0 or x0 >= 2 add 0
    leaves = [Value(v, name) for v, name in zip([*shared, *rows[0]], ["w0", "w1", "x0", "x1"])]
    layered = compile_graph(fn, leaves).layered(data=["x0", "x1"])
    result = layered(shared, np.array(rows))
    assert result.value == pytest.approx(total, rel=1e-12)
    assert result.grad.tolist() == pytest.approx(grads[:2], rel=1e-12)
    assert result.data_grad.sum(axis=0).tolist() == pytest.approx(grads[2:], rel=1e-12)
    assert np.isfinite(result.data_grad).all()


def squared_error(outputs, targets):
    return vsum([(o - t) ** 2 for o, t in zip(outputs, targets)]) * 0.5


def cross_entropy(outputs, targets):  # targets one-hot
    return autograd.functions.logsumexp(outputs) - dot(targets, outputs)


def hinge(outputs, targets):  # targets ±1
    return vsum([(1.0 - t * o).relu() for o, t in zip(outputs, targets)])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", [squared_error, cross_entropy, hinge])
def test_mlp_losses_match_the_eager_mean_to_1e_12(activation, loss):
    model = nn.MLP(5, [6, 3], activation=activation, init="lecun", rng=3)
    params = model.parameters()
    xs = [Value(0.0, f"x{i}") for i in range(5)]
    ts = [Value(0.0, f"t{k}") for k in range(3)]
    step = compile_graph(lambda *_: loss(model(xs), ts), [*params, *xs, *ts], wrt=params)
    layered = step.layered(data=[*(f"x{i}" for i in range(5)), *(f"t{k}" for k in range(3))])
    assert layered.groups < step.operation_count  # families of nodes, not scalars
    rng = random.Random(5)
    rows = []
    for _ in range(16):
        label = rng.randrange(3)
        target = [(1.0 if k == label else (0.0 if loss is cross_entropy else -1.0)) for k in range(3)]
        rows.append([rng.uniform(-2, 2) for _ in range(5)] + target)
    theta = [p.data for p in params]
    total, grads = 0.0, [0.0] * len(params)
    for row in rows:  # the eager reference: the model itself on fresh data leaves
        model.zero_grad()
        root = loss(model([Value(v) for v in row[:5]]), [Value(v) for v in row[5:]])
        root.backward()
        total += root.data
        grads = [g + p.grad for g, p in zip(grads, params)]
    result = layered(theta, np.array(rows), reduction="mean")
    assert result.value == pytest.approx(total / 16, rel=1e-12, abs=1e-14)
    assert result.grad == pytest.approx([g / 16 for g in grads], rel=1e-12, abs=1e-14)
    assert result.grads == pytest.approx(dict(zip(result.grad_names, result.grad.tolist())))
    assert list(result.grad_names) == list(step.grad_names)


def test_shared_exp_forms_equal_the_eager_ops():
    values = [-800.0, -40.0, -3.5, -1e-300, -0.0, 0.0, 1e-300, 0.7, 3.5, 40.0, 800.0]
    for op, form in SHARED_EXP_FORMS.items():
        forward, (local,) = form(np)
        a = np.array(values)
        out, saved = forward(a, None)
        slopes = local(a, None, out, saved)
        for k, x in enumerate(values):
            node = getattr(Value(x), op)()
            assert out[k] == pytest.approx(node.data, rel=1e-15, abs=0.0), (op, x)
            assert slopes[k] == pytest.approx(node.local_grads[0], rel=1e-15, abs=0.0), (op, x)


def test_one_exp_per_sigmoid_group():
    calls = []
    real_exp = np.exp

    class Counting:
        def __getattr__(self, name):
            if name == "exp":
                return lambda x: calls.append(1) or real_exp(x)
            return getattr(np, name)

    counted, _ = SHARED_EXP_FORMS["sigmoid"](Counting())
    counted(np.array([-1.0, 1.0]), None)
    assert len(calls) == 1


def make_layered():
    w, x = Value(0.5, "w"), Value(1.0, "x")
    step = compile_graph(lambda w, x: (w * x).log(), [w, x])
    return step.layered(data=["x"])


@pytest.mark.parametrize(
    "params, data, reduction, error, text",
    [
        ([0.5, 1.0], [[1.0]], "sum", ValueError, "params must have shape (1,)"),
        ([0.5], [1.0], "sum", ValueError, "data must be (examples >= 1, 1)"),
        ([0.5], [[1.0, 2.0]], "sum", ValueError, "got shape (1, 2)"),
        ([math.nan], [[1.0]], "sum", ValueError, "params must be finite; entry (0,) is nan"),
        ([0.5], [[1.0], [math.inf]], "sum", ValueError, "data must be finite; entry (1, 0) is inf"),
        ([0.5], [[1.0]], "none", ValueError, "reduction must be 'sum' or 'mean', got 'none'"),
        ({"v": 1.0}, [[1.0]], "sum", ValueError, "missing ['w'], unexpected ['v']"),
        ([0.5], [[1.0], [-1.0]], "sum", ValueError, "compiled log: operand must be > 0"),
    ],
)
def test_input_errors_name_the_problem(params, data, reduction, error, text):
    with pytest.raises(error) as caught:
        make_layered()(params, data, reduction=reduction)
    assert text in str(caught.value)


def test_unknown_data_name_is_an_error():
    w, x = Value(0.5, "w"), Value(1.0, "x")
    step = compile_graph(lambda w, x: w * x, [w, x])
    with pytest.raises(ValueError, match=r"\['y'\] are not inputs"):
        step.layered(data=["y"])


def test_a_layer_is_one_matrix_product():
    model = nn.MLP(64, [16, 10], activation="sigmoid", rng=1)
    params = model.parameters()
    xs = [Value(0.0, f"x{i}") for i in range(64)]
    step = compile_graph(lambda *_: vsum(model(xs)), [*params, *xs], wrt=params)
    layered = step.layered(data=[f"x{i}" for i in range(64)])
    # two dot groups, one activation group per layer (the output layer's is linear), one sum
    assert layered.groups == 4
