"""grad (floats and graphs), derivatives of any order, hessian and hvp; every op's graph derivatives."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings

import autograd
from autograd import OPS, Value, compile
from autograd.derivatives import grad, hessian, hvp
from autograd.steps import chain_rule_steps
from tests.strategies import OP_CASES, build_checked, programs


def test_every_op_declares_graph_derivatives_matching_its_floats_bit_for_bit():
    for name, spec in OPS.items():
        assert spec.graph_derivatives is not None, name
        case = OP_CASES[name]
        for point in case.points:
            operands = [Value(x) for x in point]
            node = case.build(*operands)
            locals_ = spec.graph_derivatives(node)
            numbers = [v.data if isinstance(v, Value) else v for v in locals_]  # a number stays a float
            assert numbers == list(node.local_grads), (name, point)


def _central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_every_op_has_a_second_derivative_check():
    """d²/da² of each op (first operand) vs central differences of the first derivative."""
    for name in OPS:
        case = OP_CASES[name]
        for point in case.points:

            def first(a, point=point, case=case):
                operands = [Value(a)] + [Value(x) for x in point[1:]]
                return grad(case.build(*operands), operands[:1])[0]

            operands = [Value(x) for x in point]
            (d1,) = grad(case.build(*operands), operands[:1], create_graph=True)
            assert d1.data == first(point[0]), name
            (d2,) = grad(d1, operands[:1])
            expected = _central(first, point[0])
            assert d2 == pytest.approx(expected, rel=1e-5, abs=1e-6), (name, point)


@settings(max_examples=60, deadline=None)
@given(programs())
def test_graph_gradient_data_equals_float_gradient_and_backward(program):
    leaves, out = build_checked(program)
    floats = grad(out, leaves)
    graphs = grad(out, leaves, create_graph=True)
    assert [g.data for g in graphs] == floats  # bit for bit, but for the sign of a zero (see grad)
    assert all(leaf.grad == 0.0 for leaf in leaves)  # grad() leaves .grad alone
    out.backward()
    assert [leaf.grad for leaf in leaves] == floats


@settings(max_examples=40, deadline=None)
@given(programs(max_ops=6))
def test_second_derivatives_match_central_differences_of_first(program):
    leaves, out = build_checked(program)
    try:
        graphs = grad(out, leaves, create_graph=True)
    except (ValueError, ArithmeticError):
        return
    for i, g in enumerate(graphs):
        row = grad(g, leaves)
        for j, entry in enumerate(row):
            h = 1e-6

            def first_at(shift, i=i, j=j):
                from tests.strategies import Backend, run_program

                moved = [Value(x + (shift if k == j else 0.0)) for k, x in enumerate(program.inputs)]
                return grad(run_program(program, moved, Backend()), moved)[i]

            try:
                expected = (first_at(h) - first_at(-h)) / (2 * h)
            except (ValueError, ArithmeticError):
                continue
            assert entry == pytest.approx(expected, rel=1e-3, abs=1e-4)


def test_higher_derivatives_of_tanh_by_repetition():
    x = Value(0.3)
    d = x.tanh()
    values = []
    for _ in range(4):
        (d,) = grad(d, [x], create_graph=True)
        values.append(d.data)
    t = math.tanh(0.3)
    s = 1 - t * t
    assert values[0] == pytest.approx(s, rel=1e-15)
    assert values[1] == pytest.approx(-2 * t * s, rel=1e-14)
    assert values[2] == pytest.approx((6 * t * t - 2) * s, rel=1e-13)
    assert values[3] == pytest.approx((16 * t - 24 * t**3) * s, rel=1e-12)


def test_hessian_and_hvp():
    def f(v):
        return v[0] * v[0] * v[1] + v[1].sin()

    h = hessian(f, [1.0, 2.0])
    assert h == [[4.0, 2.0], [2.0, -math.sin(2.0)]]
    assert hvp(f, [1.0, 2.0], [1.0, -1.0]) == pytest.approx([2.0, 2.0 + math.sin(2.0)])


def test_errors_name_the_problem():
    x = Value(0.0)
    with pytest.raises(ValueError, match="sqrt"):
        grad(x.sqrt(), [x], create_graph=True)
    with pytest.raises(TypeError, match="inputs\\[0\\]"):
        grad(x * 2, [1.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="appears twice"):
        hessian(lambda v: v[0], [x, x])
    with pytest.raises(ValueError, match="vector has 1 entries"):
        hvp(lambda v: v[0] * v[1], [1.0, 2.0], [1.0])


def _wrong_count_op():
    """A node of an op registered here whose graph_derivatives gives two slopes for one operand."""
    name = "test_two_slopes"
    autograd.register_op(name, 1, "w", "d(w a)/da = 1", graph_derivatives=lambda n: (1.0, 1.0))(lambda: None)
    return name


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (  # one child
            lambda x, y: x.sqrt(),
            "grad(create_graph=True): the local derivative of sqrt at (0.0) is inf (operand 0); "
            "a gradient graph holds finite numbers only",
        ),
        (  # two children, the infinite one first
            lambda x, y: x**y,
            "grad(create_graph=True): the local derivative of vpow at (0.0, 0.5) is inf (operand 0); "
            "a gradient graph holds finite numbers only",
        ),
        (  # sqrt's gradient is an exact 0 (times 0.0), but 0 × its infinite slope is NaN
            lambda x, y: x.sqrt() * 0.0,
            "grad(create_graph=True): the local derivative of sqrt at (0.0) is inf (operand 0); "
            "a gradient graph holds finite numbers only",
        ),
        (
            lambda x, y: Value(1.0, "", (x,), (1.0,), "custom"),
            "grad(create_graph=True): op 'custom' declares no graph_derivatives (its local derivatives "
            "as Values), so its gradient cannot be a graph",
        ),
        (
            lambda x, y: Value(1.0, "", (x,), (1.0,), _wrong_count_op()),
            "grad(create_graph=True): op 'test_two_slopes': its graph_derivatives gave 2 derivatives "
            "for 1 operands",
        ),
    ],
)
def test_create_graph_errors_name_the_op_and_operand(build, message):
    x, y = Value(0.0, "x"), Value(0.5, "y")
    try:
        out = build(x, y)
        with pytest.raises(ValueError) as raised:
            grad(out, [x, y], create_graph=True)
        assert str(raised.value) == message
    finally:
        OPS.pop("test_two_slopes", None)


@pytest.mark.parametrize(("label", "named"), [("x", "'x'"), ("", "the leaf of value 1e-300")])
def test_a_gradient_too_large_for_a_float_is_refused_naming_its_value(label, named):
    x = Value(1e-300, label)
    out = x * 1e300 * 1e300  # 1e300, and d out / dx = 1e600
    assert grad(out, [x]) == [math.inf]  # the float pass overflows to inf, as backward() does
    with pytest.raises(OverflowError) as raised:
        grad(out, [x], create_graph=True)
    assert str(raised.value) == (
        f"grad(create_graph=True): the gradient with respect to {named} is too large for a float "
        "(backward() gives ±inf there; a gradient graph holds finite numbers only): "
        "mul: result is too large for a float (operands: 1e+300, 1e+300)"
    )


def test_graph_gradient_can_be_stepped_and_compiled():
    x = Value(0.4, "x")
    w = Value(-1.5, "w")
    (gx, _gw) = grad((x * w).tanh(), [x, w], create_graph=True)
    steps = list(chain_rule_steps(gx))
    assert steps and x.grad == grad(gx, [x])[0]

    def dfdx(x, w):
        return grad((x * w).tanh(), [x], create_graph=True)[0]

    compiled = compile(dfdx, [Value(0.4, "x"), Value(-1.5, "w")])
    value, grads = compiled(0.9, 0.2)
    xs, ws = Value(0.9), Value(0.2)
    eager = dfdx(xs, ws)
    assert value == eager.data
    assert grads["x"] == grad(eager, [xs])[0]


def test_compile_refuses_a_choice_inside_a_derivative():
    def dfdx(x):
        return grad(x.relu() * x, [x], create_graph=True)[0]

    with pytest.raises(autograd.TracingError, match="relu"):
        compile(dfdx, [Value(0.4, "x")])


@pytest.mark.slow
def test_deep_chain_graph_gradient_and_its_backward_without_recursion():
    code = (
        "import sys; from autograd import Value; from autograd.derivatives import grad\n"
        "assert sys.getrecursionlimit() == 1000\n"
        "x = Value(0.5); y = x\n"
        "for _ in range(100000): y = y * 0.99999 + 0.0\n"
        "(g,) = grad(y, [x], create_graph=True); g.backward(); print(g.data, x.grad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert result.returncode == 0, result.stderr
    g, second = map(float, result.stdout.split())
    assert g == pytest.approx(0.99999**100000, rel=1e-9) and second == 0.0


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(programs(max_ops=6))
def test_second_and_third_derivatives_match_torch(program):
    torch_module = pytest.importorskip("torch")
    from tests.strategies import Backend, run_program

    leaves, out = build_checked(program)
    try:
        first = grad(out, leaves, create_graph=True)
        second = [grad(g, leaves, create_graph=True) for g in first]
    except (ValueError, ArithmeticError):
        return
    xs = [torch_module.tensor(x, dtype=torch_module.float64, requires_grad=True) for x in program.inputs]
    t_out = run_program(program, xs, Backend(torch_module))
    t_first = torch_module.autograd.grad(t_out, xs, create_graph=True, allow_unused=True)
    for i, tg in enumerate(t_first):
        if tg is None or not tg.requires_grad:
            continue
        t_second = torch_module.autograd.grad(tg, xs, create_graph=True, retain_graph=True, allow_unused=True)
        for j, t2 in enumerate(t_second):
            mine = second[i][j].data
            expected = 0.0 if t2 is None else float(t2.detach())
            assert mine == pytest.approx(expected, rel=1e-9, abs=1e-12)
            # x**x at 1: PyTorch's third derivative is 2.0, the true value is 3 (1 + 3 - 1): skip vpow.
            if t2 is not None and t2.requires_grad and all(ins.op != "vpow" for ins in program.instructions):
                t_third = torch_module.autograd.grad(t2, xs, retain_graph=True, allow_unused=True)
                mine3 = grad(second[i][j], leaves)
                for k, t3 in enumerate(t_third):
                    assert mine3[k] == pytest.approx(0.0 if t3 is None else float(t3), rel=1e-9, abs=1e-12)


@pytest.mark.torch
def test_mlp_loss_hessian_matches_torch_func_hessian():
    torch_module = pytest.importorskip("torch")
    import nn

    model = nn.MLP(2, [4, 1], rng=3)
    params = model.parameters()
    index = {p: k for k, p in enumerate(params)}
    data = [([0.5, -1.0], 1.0), ([-0.3, 0.8], -1.0)]

    def loss(_):
        return autograd.vsum([(model(x) - y) ** 2 for x, y in data])

    h = hessian(loss, params)
    assert len(h) == len(params) == 17

    def t_loss(flat):
        total = 0.0
        for x, y in data:
            acts = [torch_module.tensor(v, dtype=torch_module.float64) for v in x]
            for layer in model.layers:
                new = []
                for neuron in layer.neurons:
                    z = sum(flat[index[w]] * a for w, a in zip(neuron.w, acts)) + flat[index[neuron.b]]
                    new.append(torch_module.tanh(z) if neuron.activation == "tanh" else z)
                acts = new
            total = total + (acts[0] - y) ** 2
        return total

    start = torch_module.tensor([p.data for p in params], dtype=torch_module.float64)
    expected = torch_module.func.hessian(t_loss)(start)
    for i in range(17):
        for j in range(17):
            assert h[i][j] == pytest.approx(float(expected[i, j]), rel=1e-9, abs=1e-12)


def test_draw_tells_backward_nodes_apart():
    from autograd.derivatives import backward_nodes
    from autograd.drawing.render import draw

    x = Value(0.5, "x")
    y = x.tanh()
    (g,) = grad(y, [x], create_graph=True)
    made = backward_nodes(g, y)
    assert made and y not in made and x not in made
    source = draw(g, backward_nodes=made, legend=True).source
    assert source.count("#d9480f") == len(made) + 1  # each backward node, and the legend
    assert "#d9480f" not in draw(g).source


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # inside torch.func
@settings(max_examples=40, deadline=None)
@given(programs(max_ops=6))
def test_hessian_of_random_programs_matches_torch_func_hessian(torch, program):
    from tests.strategies import Backend, run_program

    build_checked(program)  # rejects programs unfit for comparison (domain errors, kinks, huge values)
    try:
        mine = hessian(lambda xs: run_program(program, xs, Backend()), list(program.inputs))
    except ValueError:  # an infinite local derivative cannot be a graph (checked elsewhere)
        return

    def torch_program(x):
        return run_program(program, list(x.unbind()), Backend(torch))

    expected = torch.func.hessian(torch_program)(torch.tensor(program.inputs, dtype=torch.float64))
    n = len(program.inputs)
    assert len(mine) == n and all(len(row) == n for row in mine)
    for i in range(n):
        for j in range(n):
            assert mine[i][j] == pytest.approx(float(expected[i, j]), rel=1e-9, abs=1e-12), (i, j)
