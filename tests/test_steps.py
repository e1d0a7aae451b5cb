"""chain_rule_steps: the stepper is backward(), one edge at a time, and leaves the same grads."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autograd import OPS, ChainRuleStep, Value, chain_rule_steps, dot, topological_order, vsum
from autograd.engine import edge_contribution
from autograd.steps import describe_node, grads_before, node_names
from tests import strategies
from tests.fixtures import all_same_bits, lecture_neuron, same_bits

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
        ("sub", 0),
        ("sub", 1),
        ("mul", 0),
        ("mul", 1),
    ]
    pow_step, sub_step, _, to_w, to_x = steps
    assert (pow_step.upstream_grad, pow_step.local_grad) == (1.0, 2 * (1.0 - 3.0))
    assert pow_step.derivative_text == "d(a**c)/da = c*a**(c-1)"
    assert sub_step.contribution == -4.0
    assert steps[2].child.op == "const" and steps[2].contribution == 4.0  # d(a-b)/db = -1
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
