"""chain_rule_steps: the stepper is backward(), one edge at a time, and leaves the same grads."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import nn
from autograd import OPS, ChainRuleStep, Value, chain_rule_steps, dot, topological_order, vsum
from autograd.engine import edge_contribution
from autograd.steps import (
    AfterStep,
    ForwardStep,
    UpdateStep,
    describe_node,
    forward_equation,
    forward_steps,
    grads_before,
    node_names,
    training_step_steps,
)
from tests import strategies
from tests.fixtures import all_same_bits, lecture_neuron, same_bits
from tests.strategies import Backend, build_checked, programs, run_program

# ---------------------------------------------------------------------------------------------------
# Random straight-line programs with reuse: a recipe is replayed to build identical fresh graphs.
# ---------------------------------------------------------------------------------------------------

# Every registered op of one or two operands (from the registry), plus ways of using constants.
UNARY = [*strategies.UNARY, "square", "cube", "sqrt_abs"]
BINARY = [*strategies.BINARY, "radd", "rmul"]
NARY = ["sum", "dot"]

leaf_data = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)
instruction = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(UNARY), st.integers(0, 10**6)),
    st.tuples(st.just("binary"), st.sampled_from(BINARY), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(
        st.just("nary"), st.sampled_from(NARY), st.lists(st.integers(0, 10**6), min_size=1, max_size=6)
    ),
)
recipes = st.tuples(st.lists(leaf_data, min_size=1, max_size=5), st.lists(instruction, max_size=25))


def _registered(op: str, *operands: Value) -> Value:
    return OPS[op].function(*operands)  # a domain error skips the instruction (see build)


def _apply(kind: str, op: str, operands: list[Value]) -> Value:
    a = operands[0]
    if kind == "unary":
        if op == "square":
            return a**2
        if op == "cube":
            return a**3
        if op == "sqrt_abs":
            return (abs(a) + 0.5).sqrt()
        return _registered(op, a)
    if kind == "binary":
        b = operands[1]
        if op == "radd":
            return 1.5 + a
        if op == "rmul":
            return -0.5 * b
        return _registered(op, a, b)
    if op == "sum":
        return vsum([*operands, 0.25])
    half = (len(operands) + 1) // 2
    weights, inputs = operands[:half], operands[half:]
    inputs = inputs + [0.5] * (len(weights) - len(inputs))
    return dot(weights, inputs, bias=operands[0])


def build(recipe) -> tuple[list[Value], Value]:
    """Replay a recipe; every instruction picks operands among all values made so far (reuse)."""
    leaf_values, instructions = recipe
    values = [Value(x, f"x{i}") for i, x in enumerate(leaf_values)]
    leaves = list(values)
    for kind, op, *picks in instructions:
        indices = picks[0] if kind == "nary" else picks
        operands = [values[i % len(values)] for i in indices]
        try:
            values.append(_apply(kind, op, operands))
        except (ArithmeticError, ValueError):
            continue  # a domain error or overflow: skip this instruction, as a user would
    return leaves, values[-1]


def run_steps(root: Value, **kwargs) -> list[ChainRuleStep]:
    return list(chain_rule_steps(root, **kwargs))


def grads_in_order(root: Value) -> list[float]:
    return [node.grad for node in topological_order(root)]


@given(recipes)
def test_steps_leave_bit_identical_grads_to_backward(recipe):
    _, by_backward = build(recipe)
    by_backward.backward()
    _, by_steps = build(recipe)
    steps = run_steps(by_steps)
    assert all_same_bits(grads_in_order(by_steps), grads_in_order(by_backward))
    edge_count = sum(len(node.children) for node in topological_order(by_steps))
    assert [s.index for s in steps] == list(range(1, edge_count + 1))


@given(recipes, st.lists(st.floats(-5, 5), min_size=5, max_size=5))
def test_repeated_passes_accumulate_into_leaves_exactly_like_backward(recipe, initial_grads):
    # Leaves start with arbitrary grads and both passes run twice: interior resets, leaf accumulation.
    graphs = []
    for _ in range(2):
        leaves, root = build(recipe)
        for leaf, grad in zip(leaves, initial_grads):
            leaf.grad = grad
        for node in topological_order(root):
            if node.children:
                node.grad = 123.0  # stale interior grads must be reset
        graphs.append(root)
    by_backward, by_steps = graphs
    for _ in range(2):
        by_backward.backward()
        run_steps(by_steps)
        assert all_same_bits(grads_in_order(by_steps), grads_in_order(by_backward))


@given(recipes)
# x / x at a subnormal x: both slopes overflow (inf and -inf), so the leaf's grad becomes inf + -inf = nan
@example(([2.225073858507203e-309], [("binary", "div", 0, 0)]))
def test_each_record_is_consistent_and_in_backward_order(recipe):
    _, root = build(recipe)
    order = topological_order(root)
    expected_edges = [
        (node, position, child) for node in reversed(order) for position, child in enumerate(node.children)
    ]
    steps = run_steps(root)
    assert [(s.node, s.child_position, s.child) for s in steps] == expected_edges
    for step in steps:
        assert step.kind == "edge"
        assert order[step.node_number] is step.node
        assert order[step.child_number] is step.child
        assert same_bits(step.local_grad, step.node.local_grads[step.child_position])
        assert repr(step.contribution) == repr(edge_contribution(step.local_grad, step.upstream_grad))
        # repr: NaN-safe (x/x at a subnormal x adds inf and -inf, as PyTorch does)
        assert repr(step.child_grad_after) == repr(step.child_grad_before + step.contribution)
        assert repr(step.upstream_grad) == repr(step.node.grad)  # the node's grad is final when processed
        assert step.op == step.node.op
        assert step.derivative_text == OPS[step.op].derivative_text(step.child_position)


def test_x_times_x_gives_two_steps_into_the_same_leaf():
    x = Value(3.0, "x")
    y = x * x
    steps = run_steps(y)
    assert len(steps) == 2
    first, second = steps
    assert (first.node, first.child, first.child_position) == (y, x, 0)
    assert (second.node, second.child, second.child_position) == (y, x, 1)
    assert (first.upstream_grad, first.local_grad, first.contribution) == (1.0, 3.0, 3.0)
    assert (first.child_grad_before, first.child_grad_after) == (0.0, 3.0)
    assert (second.child_grad_before, second.child_grad_after) == (3.0, 6.0)
    assert first.derivative_text == "d(a*b)/da = b"
    assert second.derivative_text == "d(a*b)/db = a"
    assert first.equation() == "1.0 × 3.0 = 3.0"
    assert x.grad == 6.0


def test_lecture_neuron_records():
    neuron = lecture_neuron(label_n_and_o=False)
    x1, x2, w1, w2, b = neuron.leaves
    x1w1, x2w2, n, o = neuron.x1w1, neuron.x2w2, neuron.n, neuron.o
    steps = run_steps(o)
    sum_of_products = n.children[0]
    table = [(s.node, s.child, s.derivative_text) for s in steps]
    assert table == [
        (o, n, "d(tanh a)/da = (1-t)*(1+t), t = tanh a"),
        (n, sum_of_products, "d(a+b)/da = 1"),
        (n, b, "d(a+b)/db = 1"),
        (sum_of_products, x1w1, "d(a+b)/da = 1"),
        (sum_of_products, x2w2, "d(a+b)/db = 1"),
        (x1w1, x1, "d(a*b)/da = b"),
        (x1w1, w1, "d(a*b)/db = a"),
        (x2w2, x2, "d(a*b)/da = b"),
        (x2w2, w2, "d(a*b)/db = a"),
    ]
    tanh_step = steps[0]
    assert tanh_step.upstream_grad == 1.0
    assert tanh_step.local_grad == pytest.approx(0.5)
    # the edge into w1 carries upstream 0.5 (the grad of x1*w1) times the local derivative x1 = 2
    to_w1 = steps[6]
    assert to_w1.upstream_grad == pytest.approx(0.5)
    assert to_w1.local_grad == 2.0
    assert to_w1.contribution == pytest.approx(1.0)
    assert [x1.grad, w1.grad, x2.grad, w2.grad, b.grad] == pytest.approx([-1.5, 1.0, 0.5, 0.0, 0.5])


def test_squared_error_loss_records():
    w, x, target = Value(0.5, "w"), Value(2.0, "x"), 3.0
    prediction = w * x
    error = prediction - target
    loss = error**2
    steps = run_steps(loss)
    assert [(s.node.op, s.child_position) for s in steps] == [
        ("pow", 0),
        ("sub_const", 0),  # the target 3.0 is recorded in the node: no step into a number
        ("mul", 0),
        ("mul", 1),
    ]
    pow_step, sub_step, to_w, to_x = steps
    assert (pow_step.upstream_grad, pow_step.local_grad) == (1.0, 2 * (1.0 - 3.0))
    assert pow_step.derivative_text == "d(a**c)/da = c*a**(c-1)"
    assert sub_step.contribution == -4.0
    assert sub_step.derivative_text == "d(a-c)/da = 1" and sub_step.node.params == 3.0
    assert (to_w.child, to_w.contribution) == (w, -8.0)
    assert (to_x.child, to_x.contribution) == (x, -2.0)


def test_seed_record_comes_first_when_asked_for():
    o = lecture_neuron(label_n_and_o=False).o
    o.grad = 42.0  # stale: the seed resets an interior root to 1
    steps = run_steps(o, include_seed=True)
    seed = steps[0]
    assert (seed.index, seed.kind, seed.node, seed.child, seed.child_position) == (0, "seed", o, o, -1)
    assert (seed.child_grad_before, seed.child_grad_after) == (0.0, 1.0)
    assert seed.node_number == seed.child_number == len(topological_order(o)) - 1
    assert [s.index for s in steps] == list(range(len(steps)))
    assert all(s.kind == "edge" for s in steps[1:])


def test_a_leaf_root_is_seeded_by_accumulation_and_has_no_edges():
    x = Value(2.0, "x")
    x.grad = 0.5
    steps = run_steps(x, include_seed=True)
    assert len(steps) == 1
    assert (steps[0].child_grad_before, steps[0].child_grad_after) == (0.5, 1.5)
    assert x.grad == 1.5
    assert run_steps(x) == []
    assert x.grad == 2.5


def test_nothing_happens_before_the_first_step_and_stopping_leaves_a_partial_pass():
    x = Value(3.0, "x")
    y = (x * x).tanh()
    stepper = chain_rule_steps(y)
    assert (y.grad, x.grad) == (0.0, 0.0)
    next(stepper)  # tanh -> x*x
    assert y.grad == 1.0 and x.grad == 0.0
    first_into_x = next(stepper)  # x*x -> x, the first of two edges
    assert x.grad == first_into_x.contribution != 0.0
    next(stepper)
    assert x.grad == 2 * first_into_x.contribution


def test_records_are_frozen():
    step = run_steps(Value(1.0) * Value(2.0))[0]
    with pytest.raises(AttributeError):
        step.contribution = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("bad", [1.0, "x", None, [Value(1.0)]])
def test_rejects_non_values(bad):
    with pytest.raises(TypeError, match="chain_rule_steps"):
        next(chain_rule_steps(bad))


def test_long_chain_needs_no_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    last = None
    for last in chain_rule_steps(y):  # noqa: B007
        pass
    assert last is not None and x.grad == 1.0


def test_describe_node_names_nodes_by_label_number_or_formula():
    neuron = lecture_neuron(label_n_and_o=False)
    x1, x2, w1, x1w1, n = neuron.x1, neuron.x2, neuron.w1, neuron.x1w1, neuron.n
    assert describe_node(x1) == "x1"
    assert describe_node(x1w1) == "x1*w1"
    assert describe_node(n.children[0]) == "x1*w1 + x2*w2"
    assert describe_node(n, max_length=10) is None
    assert describe_node(Value(2.0) * x1) == "2*x1"
    assert describe_node(-((x1 + 1) ** 2)) == "-(x1 + 1)**2"
    assert describe_node(x1 - (x2 - w1)) == "x1 - (x2 - w1)"
    assert describe_node((x1 - x2) - w1) == "x1 - x2 - w1"
    assert describe_node((x1 / x2.exp()) ** w1) == "(x1/exp(x2))**w1"
    assert describe_node(x1 ** (-w1)) == "x1**(-w1)"
    assert describe_node(x1 * -2) == "x1*-2"
    assert describe_node((x1 * x2).tanh()) == "tanh(x1*x2)"
    assert describe_node(2**x1) == "2**x1"
    assert describe_node(vsum([x1, x2])) is None
    deep = x1
    for _ in range(10_000):
        deep = -deep
    assert describe_node(deep) is None  # bounded work, no recursion error


def test_node_names_fall_back_to_op_and_value():
    neuron = lecture_neuron(label_n_and_o=False)
    x1w1, n, o = neuron.x1w1, neuron.n, neuron.o
    order = topological_order(o)
    names = node_names(order, lambda x: f"{x:.2f}", max_length=10)
    assert names[order.index(x1w1)] == "x1*w1"
    assert names[order.index(n)] == "add = 0.88"  # its formula is longer than 10 characters
    assert names[-1] == "tanh = 0.71"


def test_grads_before_recovers_the_state_before_the_pass():
    neuron = lecture_neuron(label_n_and_o=False)
    x1, o = neuron.x1, neuron.o
    x1.grad = 0.25  # leaves accumulate onto what they hold
    order = topological_order(o)
    for node in order:
        if node.children:
            node.grad = 9.0  # stale interior grads are reset by the pass
    steps = run_steps(o, include_seed=True)
    before = grads_before(order, steps)
    assert before[order.index(x1)] == 0.25
    assert all(before[i] == 0.0 for i, node in enumerate(order) if node.children)
    # replaying the records from there gives the final grads
    for step in steps:
        before[step.child_number] = step.child_grad_after
    assert before == [node.grad for node in order]


# ---------------------------------------------------------------------------------------------------
# A whole training step: forward, seed, backward, update, after
# ---------------------------------------------------------------------------------------------------


def lecture_neuron_parts() -> tuple[Value, dict[str, Value]]:
    leaves = {
        "x1": Value(2.0, "x1"),
        "x2": Value(0.0, "x2"),
        "w1": Value(-3.0, "w1"),
        "w2": Value(1.0, "w2"),
        "b": Value(6.8813735870195432, "b"),
    }
    x1, x2, w1, w2, b = leaves.values()
    return (x1 * w1 + x2 * w2 + b).tanh(), leaves


@given(programs(max_ops=12))
def test_forward_steps_report_every_computed_node_with_its_data_in_topological_order(program):
    _, root = build_checked(program)
    order = topological_order(root)
    steps = list(forward_steps(root))
    computed = [number for number, node in enumerate(order) if node.children]
    assert [step.node_number for step in steps] == computed
    assert [step.index for step in steps] == list(range(1, len(computed) + 1))
    for step in steps:
        assert step.node is order[step.node_number] and step.phase == "forward"
        assert step.value == step.node.data
        assert step.operands == tuple(child.data for child in step.node.children)
        assert step.equation().endswith(f"= {step.node.data!r}")


def _one_node_per_op() -> dict[str, Value]:
    a, b, c = Value(1.5, "a"), Value(0.5, "b"), Value(2.0, "c")
    return {
        "add": a + b,
        "add_const": a + 0.5,
        "radd_const": 0.5 + a,
        "sub_const": a - 0.5,
        "rsub_const": 0.5 - a,
        "mul_const": a * 0.5,
        "rmul_const": 0.5 * a,
        "div_const": a / 0.5,
        "rdiv_const": 0.5 / a,
        "max_const": a.max(0.5),
        "sub": a - b,
        "mul": a * b,
        "div": a / b,
        "neg": -a,
        "pow": a**3,
        "rpow": 2.0**a,
        "vpow": a**b,
        "exp": a.exp(),
        "log": a.log(),
        "sqrt": a.sqrt(),
        "tanh": a.tanh(),
        "sigmoid": a.sigmoid(),
        "relu": a.relu(),
        "abs": abs(a),
        "sin": a.sin(),
        "cos": a.cos(),
        "softplus": a.softplus(),
        "max": a.max(b),
        "stop_gradient": a.stop_gradient(),
        "sum": vsum([a, b, c]),
        "dot": dot([a, b], [c, Value(3.0, "d")], bias=Value(0.25, "e")),
    }


EXPECTED_EQUATIONS = {  # the registry's formulas, with numbers
    "add": "1.5 + 0.5 = 2.0",
    "sub": "1.5 - 0.5 = 1.0",
    "mul": "1.5*0.5 = 0.75",
    "div": "1.5/0.5 = 3.0",
    "neg": "-1.5 = -1.5",
    "pow": "1.5**3.0 = 3.375",
    "rpow": "2.0**1.5 = 2.8284271247461903",
    "vpow": "1.5**0.5 = 1.224744871391589",
    "max": "max(1.5, 0.5) = 1.5",
    "add_const": "1.5 + 0.5 = 2.0",
    "radd_const": "0.5 + 1.5 = 2.0",
    "sub_const": "1.5 - 0.5 = 1.0",
    "rsub_const": "0.5 - 1.5 = -1.0",
    "mul_const": "1.5*0.5 = 0.75",
    "rmul_const": "0.5*1.5 = 0.75",
    "div_const": "1.5/0.5 = 3.0",
    "rdiv_const": "0.5/1.5 = 0.3333333333333333",
    "max_const": "max(1.5, 0.5) = 1.5",
    "sum": "Σ(1.5, 0.5, 2.0) = 4.0",
    "dot": "1.5×2.0 + 0.5×3.0 + 0.25 = 4.75",
}


def test_every_registered_op_has_a_forward_equation_with_its_numbers():
    nodes = _one_node_per_op()
    assert set(nodes) == set(OPS), "a new op needs a forward equation test"
    for name, node in nodes.items():
        assert node.op == name
        text = forward_equation(node)
        assert text.endswith(f"= {node.data!r}"), name
        for child in node.children:
            assert repr(child.data) in text, (name, text)
        if name in EXPECTED_EQUATIONS:
            assert text == EXPECTED_EQUATIONS[name]
        else:  # functions: name(operand)
            assert text == f"{name}({node.children[0].data!r}) = {node.data!r}"


def test_negative_numbers_get_parentheses_outside_function_calls():
    a, b = Value(-1.5, "a"), Value(-2.0, "b")
    assert forward_equation(-a) == "-(-1.5) = 1.5"
    assert forward_equation(a * b) == "(-1.5)*(-2.0) = 3.0"
    assert forward_equation(a.tanh()) == f"tanh(-1.5) = {math.tanh(-1.5)!r}"


def test_long_sums_and_dots_are_shortened_with_a_count():
    xs = [Value(float(i), f"x{i}") for i in range(10)]
    assert forward_equation(vsum(xs)) == "Σ(0.0, 1.0, 2.0, 3.0, … 6 more) = 45.0"
    assert forward_equation(dot(xs[:5], [1.0] * 5), max_terms=2) == "0.0×1.0 + 1.0×1.0 + … 3 more = 10.0"


def test_a_training_step_without_optimizer_is_forward_seed_backward():
    root, _ = lecture_neuron_parts()
    steps = list(training_step_steps(root))
    phases = [step.phase for step in steps]
    forward = len([n for n in topological_order(root) if n.children])
    edges = sum(len(n.children) for n in topological_order(root))
    assert phases == ["forward"] * forward + ["seed"] + ["backward"] * edges
    assert isinstance(steps[0], ForwardStep)


def test_default_is_a_fresh_pass_even_after_backward_and_accumulate_is_explicit():
    root, leaves = lecture_neuron_parts()
    root.backward()
    root.backward()  # leaves now hold twice the gradient
    list(training_step_steps(root))
    assert leaves["x1"].grad == pytest.approx(-1.5) and leaves["w1"].grad == pytest.approx(1.0)
    fresh = [node.grad for node in topological_order(root)]
    list(training_step_steps(root, accumulate=True))
    assert leaves["x1"].grad == 2 * fresh[[*topological_order(root)].index(leaves["x1"])]
    assert leaves["w1"].grad == pytest.approx(2.0)
    # a fresh pass equals zero_grad + backward, to the bit
    for node in topological_order(root):
        node.grad = 0.0
    root.backward()
    assert all_same_bits([node.grad for node in topological_order(root)], fresh)


OPTIMIZERS = {
    "SGD": lambda params: nn.SGD(params, lr=0.1),
    "SGD momentum": lambda params: nn.SGD(params, lr=0.1, momentum=0.9),
    "SGD Nesterov, dampening-free, weight decay": lambda params: nn.SGD(
        params, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01
    ),
    "SGD dampening": lambda params: nn.SGD(params, lr=0.05, momentum=0.5, dampening=0.3),
    "Adam": lambda params: nn.Adam(params, lr=0.01),
    "Adam L2": lambda params: nn.Adam(params, lr=0.01, weight_decay=0.1),
    "AdamW": lambda params: nn.AdamW(params, lr=0.01),
}


def _bits(values) -> list[float]:
    return [float(v) for v in values]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@settings(max_examples=40)
@given(program=programs(max_ops=10))
def test_update_steps_reproduce_optimizer_step_bit_for_bit(name, program):
    leaves_a, _ = build_checked(program)
    leaves_b, _ = build_checked(program)

    def loss_of(leaves):
        return lambda: run_program(program, leaves, Backend())

    optimizer_a = OPTIMIZERS[name](leaves_a)
    optimizer_b = OPTIMIZERS[name](leaves_b)
    for leaf in leaves_b:
        leaf.grad = 7.0  # stale grads: the stepper starts fresh anyway
    for _ in range(3):  # several steps, so momentum and Adam's moments carry state
        optimizer_a.zero_grad()
        try:  # a step may leave the program's domain (log of a negative number, ...): stop there
            loss_a = loss_of(leaves_a)()
            loss_a.backward()
            grads_a = [leaf.grad for leaf in leaves_a]
            optimizer_a.step()
            loss_of(leaves_a)()
        except (ArithmeticError, ValueError):
            return
        steps = list(training_step_steps(loss_of(leaves_b), optimizer_b))
        updates = [step for step in steps if isinstance(step, UpdateStep)]
        assert [u.update.parameter for u in updates] == leaves_b
        assert all_same_bits([u.update.data_after for u in updates], [leaf.data for leaf in leaves_a])
        assert all_same_bits([u.update.grad for u in updates], grads_a)
        assert all_same_bits([leaf.data for leaf in leaves_b], [leaf.data for leaf in leaves_a])
        assert all_same_bits([leaf.grad for leaf in leaves_b], grads_a)
        assert optimizer_b.state_dict() == optimizer_a.state_dict()
        after = steps[-1]
        assert isinstance(after, AfterStep) and after.loss_before == loss_a.data
        assert all_same_bits([after.loss_after], [loss_of(leaves_a)().data])
        # The state the records show is the state the optimiser keeps.
        state = optimizer_b.state_dict()
        for position, step in enumerate(updates):
            shown = {quantity[0]: quantity[2] for quantity in step.update.quantities}
            if "velocity" in shown:
                assert shown["velocity"] == state["momentum_buffers"][position]
            if "m" in shown:
                assert shown["m"] == state["first_moments"][position]
                assert shown["v"] == state["second_moments"][position]


def _adam_by_the_textbook(p, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8):
    """Kingma & Ba's Algorithm 1, written independently of nn.optim (a second implementation)."""
    m = betas[0] * m + (1 - betas[0]) * grad
    v = betas[1] * v + (1 - betas[1]) * grad * grad
    m_hat = m / (1 - betas[0] ** t)
    v_hat = v / (1 - betas[1] ** t)
    return p - lr * m_hat / (math.sqrt(v_hat) + eps), m, v, m_hat, v_hat


def test_adam_records_agree_with_an_independent_textbook_adam():
    w = Value(0.7, "w")
    x = Value(-1.3, "x")
    optimizer = nn.Adam([w], lr=0.05)
    m = v = 0.0
    p = w.data
    for t in (1, 2, 3):
        steps = list(training_step_steps(lambda: (w * x - 0.4) ** 2, optimizer))
        update = next(step for step in steps if isinstance(step, UpdateStep)).update
        shown = {q[0]: q[2] for q in update.quantities}
        p, m, v, m_hat, v_hat = _adam_by_the_textbook(p, update.grad, m, v, t, 0.05)
        assert shown["m"] == pytest.approx(m, rel=1e-15) and shown["v"] == pytest.approx(v, rel=1e-15)
        assert shown["m̂"] == pytest.approx(m_hat, rel=1e-14) and shown["v̂"] == pytest.approx(v_hat, rel=1e-14)
        assert update.data_after == pytest.approx(p, rel=1e-14)
        assert w.data == update.data_after


def test_momentum_records_agree_with_an_independent_heavy_ball():
    w = Value(2.0, "w")
    optimizer = nn.SGD([w], lr=0.1, momentum=0.9)
    velocity, p = 0.0, 2.0
    for t in range(3):
        steps = list(training_step_steps(lambda: w * w, optimizer))
        update = next(step for step in steps if isinstance(step, UpdateStep)).update
        grad = 2 * p
        velocity = grad if t == 0 else 0.9 * velocity + grad
        p = p - 0.1 * velocity
        assert dict((q[0], q[2]) for q in update.quantities)["velocity"] == pytest.approx(velocity)
        assert w.data == pytest.approx(p) and update.rule == "p − lr·velocity"


def test_commit_false_shows_the_update_but_leaves_parameters_and_optimizer_alone():
    model = nn.MLP(2, [3, 1], rng=1)
    optimizer = nn.Adam(model.parameters(), lr=0.1)
    before = [p.data for p in model.parameters()]
    state = optimizer.state_dict()
    steps = list(
        training_step_steps(lambda: nn.squared_error([model([0.5, -1.0])], [1.0]), optimizer, commit=False)
    )
    assert [p.data for p in model.parameters()] == before and optimizer.state_dict() == state
    after = steps[-1]
    assert isinstance(after, AfterStep)
    optimizer.zero_grad()
    loss = nn.squared_error([model([0.5, -1.0])], [1.0])
    loss.backward()
    optimizer.step()
    assert after.loss_after == nn.squared_error([model([0.5, -1.0])], [1.0]).data


@pytest.mark.parametrize(
    ("loss", "optimizer", "error", "message"),
    [
        ("value", "sgd", TypeError, "pass the loss as a function that builds it"),
        ("value", "list", TypeError, "optimizer must have staged_step() (nn.SGD, nn.Adam, ...), got list"),
        (3.0, None, TypeError, "loss must be a Value or a function returning one, got float"),
        ("returns float", None, TypeError, "the loss function must return a Value, got float"),
    ],
)
def test_training_step_steps_refuses_bad_arguments(loss, optimizer, error, message):
    w = Value(1.0, "w")
    loss = {"value": w * 2.0, "returns float": lambda: 1.0}.get(loss, loss)
    optimizer = {"sgd": nn.SGD([w], lr=0.1), "list": [w]}.get(optimizer, optimizer)
    with pytest.raises(error, match=re.escape(message)):
        list(training_step_steps(loss, optimizer))
