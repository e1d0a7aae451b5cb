"""The engine: every op's derivative, backward's semantics, topological order, errors, deep graphs."""

from __future__ import annotations

import gc
import math
import pickle
import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import OPS, Value, check_grads, dot, topological_order, vsum
from tests.fixtures import LECTURE_NEURON_INPUTS, lecture_neuron
from tests.strategies import (
    NUMBER_FORMS,
    OP_CASES,
    WITH_CONSTANT,
    Backend,
    build_checked,
    programs,
    run_program,
)

# ---------------------------------------------------------------------------------------------------
# Every registered op, gradient-checked against central differences.
# Each op's one test row is `OP_CASES` in tests/strategies.py; a new op without a row fails
# `test_every_registered_op_has_a_test_row`.
# ---------------------------------------------------------------------------------------------------


def test_every_registered_op_has_a_test_row():
    assert set(OP_CASES) == set(OPS), "every registered op needs a row in tests/strategies.py OP_CASES"


@pytest.mark.parametrize("name", sorted(OPS))
def test_registered_op_gradient_matches_central_differences(name):
    case = OP_CASES[name]
    for point in case.points:
        leaves = [Value(x, f"a{i}") for i, x in enumerate(point)]
        out = case.build(*leaves)
        assert out.op == name, f"the case for {name!r} must build a {name!r} node"
        assert out.data == pytest.approx(case.reference(*point), rel=1e-15, abs=1e-300)
        if case.zero_derivative:
            assert all(local == 0.0 for local in out.local_grads)
        else:
            check_grads(case.build, leaves)


@pytest.mark.parametrize("name", sorted(OPS))
def test_registry_entry_is_complete(name):
    spec = OPS[name]
    assert spec.name == name
    assert spec.symbol
    expected = 1 if spec.arity is None else spec.arity
    assert len(spec.derivatives) == expected
    texts = [spec.derivative_text(position) for position in range(expected)]
    for position, text in enumerate(texts):
        # "d(a*b)/db = a": the op's expression, the operand it is differentiated by, a formula
        match = re.fullmatch(r"d(.+?)/d(\S+) = (.+)", text)
        assert match is not None, f"{name}: derivative text {text!r} is not 'd(...)/dx = ...'"
        if spec.arity is not None:
            assert match.group(2) == "ab"[position], (
                f"{name}: operand {position} is called {match.group(2)!r}"
            )
    assert len(set(texts)) == len(texts), f"{name}: two operands share a derivative text {texts}"


def test_registry_rejects_a_duplicate_name():
    with pytest.raises(ValueError, match="already registered"):
        autograd.register_op("mul", 2, "*", "x", "y")


def test_registering_returns_the_function_unchanged():
    def fn():
        return 1

    decorated = autograd.register_op("test_only_op", 1, "t", "d(t a)/da = 1")(fn)  # no code: eager only
    try:
        assert decorated is fn
        assert OPS["test_only_op"].derivatives == ("d(t a)/da = 1",)
    finally:
        del OPS["test_only_op"]


# ---------------------------------------------------------------------------------------------------
# Random programs with reuse against finite differences
# ---------------------------------------------------------------------------------------------------


@given(programs())
def test_random_programs_match_finite_differences(program):
    leaves, out = build_checked(program)

    def rebuild(*xs):
        return run_program(program, xs, Backend())

    assert rebuild(*leaves).data == out.data
    check_grads(rebuild, leaves, eps=1e-6, rtol=1e-5, atol=1e-6)


def test_reused_operands_count_every_edge():
    x = Value(3.0, "x")
    y = x * x  # children (x, x): two edges
    assert y.children == (x, x)
    y.backward()
    assert x.grad == 6.0
    x.grad = 0.0
    z = x / x
    z.backward()
    assert z.data == 1.0
    assert x.grad == 0.0


def test_fan_out_sums_contributions():
    x = Value(2.0)
    a = x * 3.0
    b = x.exp()
    out = a + b + x
    out.backward()
    assert x.grad == pytest.approx(3.0 + math.exp(2.0) + 1.0, rel=1e-15)


# ---------------------------------------------------------------------------------------------------
# PyTorch float64 parity
# ---------------------------------------------------------------------------------------------------


@pytest.mark.torch
@given(program=programs())
def test_random_programs_match_pytorch_float64(torch, program):
    leaves, out = build_checked(program)
    out.backward()
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in program.inputs]
    expected = run_program(program, tensors, Backend(torch))
    assert out.data == pytest.approx(expected.item(), rel=1e-9, abs=1e-12)
    if expected.requires_grad:
        expected.backward()
    for leaf, tensor in zip(leaves, tensors):
        torch_grad = 0.0 if tensor.grad is None else tensor.grad.item()
        assert leaf.grad == pytest.approx(torch_grad, rel=1e-9, abs=1e-12), str(program)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_matches_pytorch_float64(torch, name):
    case = OP_CASES[name]
    for point in case.points:
        leaves = [Value(x) for x in point]
        out = case.build(*leaves)
        out.backward()
        tensors = [torch.tensor(x, requires_grad=True) for x in point]
        expected = (case.torch or case.build)(*tensors)
        expected.backward()
        assert out.data == pytest.approx(expected.item(), rel=1e-12)
        for leaf, tensor in zip(leaves, tensors):
            assert leaf.grad == pytest.approx(tensor.grad.item(), rel=1e-12)


@pytest.mark.torch
def test_derivatives_at_the_edges_of_their_domains_match_pytorch(torch):
    # (gradstep builder, torch builder, input): values where a naive formula breaks.
    cases = [
        (lambda a: a.sqrt(), torch.sqrt, 0.0),  # infinite slope: inf, as in PyTorch
        (lambda a: a.relu(), torch.relu, 0.0),  # 0 at the kink
        (lambda a: abs(a), torch.abs, 0.0),  # 0 at the kink
        (lambda a: a**0.5, lambda t: t**0.5, 0.0),
        (lambda a: a**0, lambda t: t**0, 0.0),
        (lambda a: a**2, lambda t: t**2, 0.0),
        (lambda a: a.sigmoid(), torch.sigmoid, -800.0),
        (lambda a: a.sigmoid(), torch.sigmoid, 800.0),
        (lambda a: a.tanh(), torch.tanh, 30.0),
    ]
    for build, build_torch, x in cases:
        v = Value(x)
        out = build(v)
        out.backward()
        t = torch.tensor(x, requires_grad=True)
        expected = build_torch(t)
        expected.backward()
        assert out.data == expected.item()
        assert v.grad == t.grad.item(), (build, x)


# ---------------------------------------------------------------------------------------------------
# backward(): semantics
# ---------------------------------------------------------------------------------------------------


def test_backward_twice_resets_interior_and_accumulates_leaves():
    x = Value(3.0, "x")
    w = Value(-2.0, "w")
    h = (x * w).tanh()
    out = h * h + x**3
    out.backward()
    first_interior = {id(n): n.grad for n in topological_order(out) if n.children}
    first_leaves = (x.grad, w.grad)
    out.backward()
    second_interior = {id(n): n.grad for n in topological_order(out) if n.children}
    assert second_interior == first_interior
    assert (x.grad, w.grad) == (2 * first_leaves[0], 2 * first_leaves[1])


def test_micrograd_double_backward_bug_is_absent():
    # micrograd gives 27 then 72 for x**3 at 3; the right answer is 27, then 27 more on the leaf.
    x = Value(3.0)
    y = x**3
    y.backward()
    assert x.grad == 27.0
    y.backward()
    assert x.grad == 54.0
    assert y.grad == 1.0


def test_backward_on_a_leaf_accumulates_one():
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_constants_do_not_leak_between_graphs():
    x = Value(2.0)
    (x + 1.0).backward()
    (x * 5.0).backward()
    assert x.grad == 6.0


def test_lecture_neuron():
    neuron = lecture_neuron(backward=True)
    x1, x2, w1, w2, b, o = neuron.x1, neuron.x2, neuron.w1, neuron.w2, neuron.b, neuron.o
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), abs=1e-4)
    # the same neuron with one dot node gives the same numbers
    leaves = [Value(LECTURE_NEURON_INPUTS[name]) for name in ("x1", "x2", "w1", "w2", "b")]
    o2 = dot(leaves[2:4], leaves[0:2], bias=leaves[4]).tanh()
    o2.backward()
    assert o2.data == o.data
    assert [v.grad for v in leaves] == [x1.grad, x2.grad, w1.grad, w2.grad, b.grad]


# ---------------------------------------------------------------------------------------------------
# n-ary ops against the chain of binary ops they replace
# ---------------------------------------------------------------------------------------------------


@given(
    st.lists(st.floats(-10, 10), min_size=1, max_size=12),
    st.data(),
)
def test_dot_equals_the_chain_of_binary_ops(ws, data):
    xs = data.draw(st.lists(st.floats(-10, 10), min_size=len(ws), max_size=len(ws)))
    # every mix: Value/number on each side, per position
    w_is_value = data.draw(st.lists(st.booleans(), min_size=len(ws), max_size=len(ws)))
    x_is_value = data.draw(st.lists(st.booleans(), min_size=len(ws), max_size=len(ws)))
    bias = data.draw(st.one_of(st.none(), st.floats(-5, 5), st.floats(-5, 5).map(Value)))
    w_args = [Value(w) if flag else w for w, flag in zip(ws, w_is_value)]
    x_args = [Value(x) if flag else x for x, flag in zip(xs, x_is_value)]
    out = dot(w_args, x_args, bias=bias)
    assert out.op == "dot"
    assert len(out.children) == sum(w_is_value) + sum(x_is_value) + isinstance(bias, Value)
    out.backward()
    expected = sum(w * x for w, x in zip(ws, xs))
    bias_data = bias.data if isinstance(bias, Value) else (bias or 0.0)
    assert out.data == pytest.approx(expected + bias_data, rel=1e-12, abs=1e-12)
    for w, x, w_arg, x_arg in zip(ws, xs, w_args, x_args):
        if isinstance(w_arg, Value):
            assert w_arg.grad == x
        if isinstance(x_arg, Value):
            assert x_arg.grad == w
    if isinstance(bias, Value):
        assert bias.grad == 1.0


def test_dot_adds_its_products_in_order_on_every_python():
    # Left to right from 0.0: 1e16 + 1.0 rounds back to 1e16, so the sum is 0.0. (Python 3.12's
    # compensated sum() of floats would give 1.0; dot must not, on any version, nor compiled code.)
    weights = [Value(1e16, "a"), Value(1.0, "b"), Value(-1e16, "c")]
    assert dot(weights, [1.0, 1.0, 1.0]).data == 0.0
    compiled = autograd.compile(lambda a, b, c: dot([a, b, c], [1.0, 1.0, 1.0]), weights)
    assert compiled(1e16, 1.0, -1e16).value == 0.0


def test_dot_with_one_value_on_both_sides_counts_both_edges():
    x = Value(3.0)
    out = dot([x, 2.0], [x, 4.0])  # x*x + 8
    out.backward()
    assert out.data == 17.0
    assert x.grad == 6.0


def test_vsum_folds_numbers_and_keeps_values_as_children():
    a, b = Value(1.0), Value(2.0)
    out = vsum([a, 3, b, 0.5, a])
    assert out.data == 7.5
    assert out.children == (a, b, a)
    out.backward()
    assert (a.grad, b.grad) == (2.0, 1.0)
    assert vsum([]).data == 0.0


def test_neuron_weighted_sum_is_one_node():
    ws = [Value(0.1 * i) for i in range(10)]
    out = dot(ws, [float(i) for i in range(10)])
    order = topological_order(out)
    assert len(order) == 11  # 10 weights + one dot node


# ---------------------------------------------------------------------------------------------------
# topological_order
# ---------------------------------------------------------------------------------------------------


@given(programs(max_ops=15))
def test_topological_order_lists_each_node_once_after_its_children(program):
    leaves = [Value(x) for x in program.inputs]
    try:
        out = run_program(program, leaves, Backend())
    except (ValueError, ArithmeticError):
        return
    order = topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order), "a node appears twice"
    assert order[-1] is out
    for node in order:
        for child in node.children:
            assert position[child] < position[node]
    # exactly the reachable nodes
    reachable, stack = set(), [out]
    while stack:
        node = stack.pop()
        if node not in reachable:
            reachable.add(node)
            stack.extend(node.children)
    assert reachable == set(order)


def _order_by_the_plain_depth_first_search(root):
    """The order `topological_order` promises, found the plain way: pop a node, put it back under a
    marker with its unvisited children above (a leaf is listed when first seen), list it when the
    marker comes off. `topological_order` follows one-child nodes without the stack round trip."""
    order, visited, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
            continue
        if node in visited:
            continue
        visited.add(node)
        stack += [node, None]
        for child in node.children:
            if child not in visited:
                if child.children:
                    stack.append(child)
                else:
                    visited.add(child)
                    order.append(child)
    return order


@given(programs(max_ops=15), st.booleans())
def test_topological_order_is_the_plain_depth_first_search_order(program, chain_on_top):
    leaves = [Value(x) for x in program.inputs]
    try:
        out = run_program(program, leaves, Backend())
        if chain_on_top:  # a run of one-child nodes above the program, and one into its leaves
            out = (out * 0.5).relu().tanh().exp() + leaves[0].sin().cos()
    except (ValueError, ArithmeticError):
        return
    assert topological_order(out) == _order_by_the_plain_depth_first_search(out)


def test_topological_order_rejects_non_values():
    with pytest.raises(TypeError, match="topological_order: expected a Value, got 3"):
        topological_order(3)


# ---------------------------------------------------------------------------------------------------
# Deep graphs: no recursion anywhere
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_million_op_chain_backpropagates_with_the_default_recursion_limit():
    # A fresh interpreter, so the recursion limit is the untouched default and the chain is freed
    # at exit (freeing must not recurse either).
    code = textwrap.dedent(
        """
        import sys
        from autograd import Value
        assert sys.getrecursionlimit() == 1000, sys.getrecursionlimit()
        x = Value(0.5)
        y = x
        for _ in range(1_000_000):
            y = -y
        y.backward()
        print(x.grad)
        del y
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout) == 1.0


def test_deep_chain_in_process():
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y.tanh() + 0.5
    limit = sys.getrecursionlimit()
    y.backward()
    assert math.isfinite(x.grad)
    assert sys.getrecursionlimit() == limit  # backward did not raise the limit to get through


# ---------------------------------------------------------------------------------------------------
# Errors: each names the op and the operand
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (
            lambda: Value(1.0) + "2",
            TypeError,
            "add: unsupported operand '2' (str); expected a number or a Value",
        ),
        (lambda: "2" * Value(1.0), TypeError, "unsupported operand"),
        (lambda: Value(1.0) * None, TypeError, "mul: unsupported operand None (NoneType)"),
        (lambda: Value(1.0) - True, TypeError, "sub: unsupported operand True (bool)"),
        (lambda: Value(1.0) / (1 + 2j), TypeError, "div: unsupported operand (1+2j) (complex)"),
        (lambda: Value("3"), TypeError, "Value: unsupported operand '3' (str)"),
        (lambda: Value(True), TypeError, "Value: unsupported operand True (bool)"),
        (lambda: Value(1.0, label=3), TypeError, "Value: label must be a str, got 3 (int)"),
        (lambda: Value(float("nan")), ValueError, "Value: data must be a finite number, got nan"),
        (lambda: Value(float("inf")), ValueError, "Value: data must be a finite number, got inf"),
        (lambda: Value(1.0) + float("inf"), ValueError, "add: operand must be a finite number, got inf"),
        (lambda: Value(1.0) ** "x", TypeError, "pow: unsupported operand 'x' (str)"),
        (lambda: Value(0.0).log(), ValueError, "log: operand must be > 0, got 0.0"),
        (lambda: Value(-1.0).log(), ValueError, "log: operand must be > 0, got -1.0"),
        (lambda: Value(-4.0).sqrt(), ValueError, "sqrt: operand must be >= 0, got -4.0"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, "div: division by zero (1.0 / 0.0)"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, "div: division by zero (1.0 / 0.0)"),
        (
            lambda: Value(-8.0) ** (1 / 3),
            ValueError,
            "pow: negative base -8.0 with non-integer exponent 0.333",
        ),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, "pow: 0.0 cannot be raised to the negative power -1.0"),
        (
            lambda: Value(-2.0) ** Value(2.0),
            ValueError,
            "vpow: base must be >= 0 when the exponent is a Value (d/db needs log(base)), got -2.0",
        ),
        (
            lambda: Value(0.0) ** Value(-1.0),
            ZeroDivisionError,
            "vpow: 0.0 cannot be raised to the power -1.0",
        ),
        (lambda: (-2) ** Value(1.0), ValueError, "rpow: the base of c ** x must be > 0, got -2.0"),
        (
            lambda: Value(1000.0).exp(),
            OverflowError,
            "exp: result is too large for a float (operands: 1000.0)",
        ),
        (
            lambda: Value(1e200) * 1e200,
            OverflowError,
            "mul: result is too large for a float (operands: 1e+200, 1e+200)",
        ),
        (lambda: Value(10.0) ** 400, OverflowError, "pow: result is too large"),
        (lambda: 10.0 ** Value(400.0), OverflowError, "rpow: result is too large"),
        (lambda: Value(1e308) + 1e308, OverflowError, "add: result is too large"),
        (
            lambda: dot([Value(1.0)], [1.0, 2.0]),
            ValueError,
            "dot: weights and inputs differ in length (1 != 2)",
        ),
        (lambda: dot([Value(1.0)], ["a"]), TypeError, "dot: unsupported operand 'a' (str)"),
        (
            lambda: dot([Value(1.0)], [float("nan")]),
            ValueError,
            "dot: operand must be a finite number, got nan",
        ),
        (lambda: dot([Value(1.0)], [1.0], bias="b"), TypeError, "dot: unsupported operand 'b' (str)"),
        (lambda: vsum([Value(1.0), None]), TypeError, "sum: unsupported operand None"),
        (lambda: Value(1.0) < "a", TypeError, "<: unsupported operand 'a' (str)"),
    ],
)
def test_documented_errors(action, error, message):
    with pytest.raises(error) as caught:
        action()
    assert message in str(caught.value)


@pytest.mark.parametrize("x", [-1000.0, -745.5, -50.0, 0.0, 50.0, 745.5, 1000.0, 1e308, -1e308])
def test_sigmoid_and_tanh_never_overflow(x):
    s = Value(x).sigmoid()
    t = Value(x).tanh()
    assert 0.0 <= s.data <= 1.0
    assert -1.0 <= t.data <= 1.0
    assert all(math.isfinite(g) for g in s.local_grads + t.local_grads)


def test_sigmoid_is_accurate_in_both_tails():
    assert Value(-40.0).sigmoid().data == pytest.approx(math.exp(-40.0), rel=1e-15)
    assert Value(40.0).sigmoid().local_grads[0] == pytest.approx(math.exp(-40.0), rel=1e-12)


def test_tanh_derivative_keeps_precision_near_saturation():
    t = Value(10.0).tanh()
    exact = 1.0 / math.cosh(10.0) ** 2
    assert t.local_grads[0] == pytest.approx(exact, rel=1e-7)


# ---------------------------------------------------------------------------------------------------
# The Value object itself
# ---------------------------------------------------------------------------------------------------


def test_value_fields_and_repr():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    assert (c.data, c.children, c.local_grads, c.op, c.label) == (-6.0, (a, b), (-3.0, 2.0), "mul", "")
    assert repr(c) == "Value(data=-6.0, grad=0.0, op='mul')"
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert float(c) == -6.0
    assert (a**2).params == 2.0  # the recorded constant
    assert (2**a).params == 2.0
    # A number operand is recorded in the node, not made into a leaf: one child, the number in params.
    shifted, halved, reflected = a + 1, a * 0.5, 1 - a
    assert (shifted.op, shifted.children, shifted.params) == ("add_const", (a,), 1.0)
    assert (halved.op, halved.local_grads, halved.params) == ("mul_const", (0.5,), 0.5)
    assert (reflected.op, reflected.local_grads, reflected.data) == ("rsub_const", (-1.0,), -1.0)


def test_values_hash_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b
    assert len({a, b, a}) == 2
    assert [a, b].index(b) == 1  # `==` is identity: b is not found at a's place despite equal data


def test_comparisons_look_at_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > a and a <= 1 and b >= 2.0
    assert max([a, b]) is b


def test_integers_and_numpy_style_reals_are_accepted():
    from fractions import Fraction

    assert (Value(1) + Fraction(1, 2)).data == 1.5
    assert isinstance(Value(3).data, float)


def test_uses_slots():
    with pytest.raises(AttributeError):
        Value(1.0).extra = 1  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------
# Adding an op is one definition: a throwaway op works everywhere at once
# ---------------------------------------------------------------------------------------------------


def test_a_new_op_registered_in_one_place_works_eagerly_in_steps_parse_draw_and_compile():
    # In a fresh process, so the throwaway op never reaches this process's registry.
    code = textwrap.dedent(
        """
        import math

        import numpy as np

        import autograd
        from autograd.engine import Guard, OpCode, Value, register_op
        from autograd.steps import describe_node


        @register_op(
            "log1p", 1, "log1p", "d(log1p a)/da = 1/(1+a)", parse_name="log1p",
            code=OpCode(
                "log1p(a)", ("1.0 / (1.0 + a)",), (Guard("a <= -1.0", ValueError, "operand must be > -1"),)
            ),
        )
        def log1p(self):
            a = self.data
            if a <= -1.0:
                raise ValueError(f"log1p: operand must be > -1, got {a!r}")
            return Value(math.log1p(a), "", (self,), (1.0 / (1.0 + a),), "log1p")


        Value.log1p = log1p

        def f(x):
            return x.log1p() * 2.0

        x = Value(0.5, "x")
        y = f(x)
        y.backward()
        assert (y.data, x.grad) == (2.0 * math.log1p(0.5), 2.0 * (1.0 / 1.5))
        steps = list(autograd.chain_rule_steps(y))
        assert "d(log1p a)/da = 1/(1+a)" in [step.derivative_text for step in steps]
        assert describe_node(y.children[0]) == "log1p(x)"
        assert autograd.parse("log1p(x) * 2", x=0.5).data == y.data
        assert "log1p" in autograd.draw(y).source
        compiled = autograd.compile(f, [Value(0.5, "x")])
        assert "_log1p(x)" in compiled.source and "(1 / (1 + x))" in compiled.source
        for value in (0.5, -0.5, 3.0, 0.0):
            leaf = Value(value)
            out = f(leaf)
            out.backward()
            assert compiled(value) == (out.data, {"x": leaf.grad}), value
        try:
            compiled(-2.0)
        except ValueError as error:
            assert "compiled log1p: operand must be > -1" in str(error)
        else:
            raise AssertionError("the guard did not fire")
        batch = compiled.batched(np.array([0.5, 3.0]), reduction="none")
        assert abs(batch.outputs[1] - 2.0 * math.log1p(3.0)) <= 1e-15 * 3
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


# ---- how a node stores its edges ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_node_gives_its_edges_as_tuples_and_stores_one_child_without_one(name):
    case = OP_CASES[name]
    leaves = [Value(x) for x in case.points[0]]
    out = case.build(*leaves)
    assert type(out.children) is tuple and type(out.local_grads) is tuple
    assert len(out.children) == len(out.local_grads) >= 1
    assert all(type(local) is float for local in out.local_grads)
    if len(out.children) == 1:
        # No one-element tuple per node for the cyclic GC to walk: the node refers to its child itself.
        assert not any(type(referent) is tuple for referent in gc.get_referents(out))
        assert out.children[0] in gc.get_referents(out)


@pytest.mark.parametrize(
    ("children", "local_grads"),
    [((), ()), ([], []), (("a",), (2.0,)), (("a", "b"), (2.0, 3.0)), (["a", "b", "a"], [1.0, 2.0, 3.0])],
)
def test_value_constructor_gives_back_the_edges_it_was_given(children, local_grads):
    named = {"a": Value(1.0, "a"), "b": Value(2.0, "b")}
    nodes = [named[name] for name in children]
    out = Value(5.0, "out", nodes, local_grads, "custom" if nodes else "")
    assert out.children == tuple(nodes)
    assert out.local_grads == tuple(local_grads)
    out.backward()
    for node in named.values():
        expected = sum(local for child, local in zip(nodes, local_grads) if child is node)
        assert node.grad == expected


@pytest.mark.parametrize(
    ("children", "local_grads", "message"),
    [
        ((0,), (), "custom: 1 children but 0 local derivatives"),
        ((0, 1), (1.0,), "custom: 2 children but 1 local derivatives"),
        ((), (1.0,), "custom: 0 children but 1 local derivatives"),
    ],
)
def test_value_constructor_refuses_edges_without_one_local_derivative_each(children, local_grads, message):
    leaves = [Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match=re.escape(message)):
        Value(3.0, "", tuple(leaves[i] for i in children), local_grads, "custom")


def test_children_and_local_grads_are_read_only():
    x = Value(2.0)
    y = x * 3.0
    with pytest.raises(AttributeError):
        y.children = (x, x)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        y.local_grads = (1.0,)  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_node_keeps_its_params_when_labelled_and_unlabelled(name):
    case = OP_CASES[name]
    out = case.build(*[Value(x) for x in case.points[0]])
    params = out.params
    assert out.label == ""
    out.label = "n"
    assert (out.label, out.params) == ("n", params)
    assert repr(out).endswith("label='n')")
    out.label = "renamed"
    assert (out.label, out.params) == ("renamed", params)
    out.label = ""
    assert (out.label, out.params) == ("", params)
    assert out.params is params


def test_label_and_params_share_one_slot():
    # Each slot costs the cyclic GC a visit per node per collection (see `Value.__slots__`).
    assert Value.__slots__ == ("data", "grad", "_children", "_local_grads", "op", "_params_label")
    x = Value(1.0, "x")
    y = x * 0.5
    assert (y.params, y.label) == (0.5, "")
    z = Value(3.0, "z", (x,), (1.0,), "custom", params=(1, 2))
    assert (z.label, z.params) == ("z", (1, 2))


@pytest.mark.parametrize("bad", [3, None, ("a",), b"x"])
def test_setting_a_label_that_is_not_a_str_is_refused_naming_it(bad):
    y = Value(1.0) * 2.0
    with pytest.raises(TypeError, match=re.escape(f"Value: label must be a str, got {bad!r}")):
        y.label = bad
    assert (y.label, y.params) == ("", 2.0)  # unchanged


def _runs_above(below: Value, length: int) -> Value:
    out = below
    for i in range(length):
        out = (out * 0.5) if i % 2 else out.tanh()
    return out


@pytest.mark.parametrize("length", [1, 2, 3, 9])
@pytest.mark.parametrize(
    "shape",
    ["ends in a new leaf", "ends in a listed leaf", "ends in a listed node", "ends above two children"],
)
def test_topological_order_of_one_child_runs_is_the_plain_order(length, shape):
    a, b = Value(1.0, "a"), Value(2.0, "b")
    shared = (a * b).exp()
    if shape == "ends in a new leaf":
        out = shared + _runs_above(Value(0.3, "c"), length)
    elif shape == "ends in a listed leaf":
        out = shared + _runs_above(a, length)
    elif shape == "ends in a listed node":
        out = shared + _runs_above(shared, length) * _runs_above(shared.tanh(), length)
    else:
        out = _runs_above(a * b + _runs_above(a, length), length)
    order = topological_order(out)
    assert order == _order_by_the_plain_depth_first_search(out)
    assert len(order) == len(set(order))


# The op each number form's errors name: the operator as written (`2 - x` is "sub"), but `2 ** x`
# names rpow, as it always has.
_WRITTEN_AS = {
    "add_const": "add", "radd_const": "add", "sub_const": "sub", "rsub_const": "sub",
    "mul_const": "mul", "rmul_const": "mul", "div_const": "div", "rdiv_const": "div",
    "pow": "pow", "rpow": "rpow", "max_const": "max",
}  # fmt: skip
_WITH_A_NUMBER = {**NUMBER_FORMS, "max_const": lambda a, c: a.max(c)}
assert set(_WRITTEN_AS) == set(_WITH_A_NUMBER) == set(WITH_CONSTANT)


@pytest.mark.parametrize("form", sorted(_WITH_A_NUMBER))
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, "numpy inf"])
def test_number_forms_refuse_a_non_finite_number_naming_the_op(form, bad):
    np = pytest.importorskip("numpy")
    number = np.float64("inf") if bad == "numpy inf" else bad
    message = f"{_WRITTEN_AS[form]}: operand must be a finite number, got {float(number)!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        _WITH_A_NUMBER[form](Value(2.0), number)


@pytest.mark.parametrize("form", sorted(_WITH_A_NUMBER))
def test_number_forms_record_a_plain_float_whatever_number_type_they_get(form):
    np = pytest.importorskip("numpy")
    for number in (0.5, 3, np.float64(0.5), np.int64(3)):
        out = _WITH_A_NUMBER[form](Value(2.0), number)
        assert out.op == form and type(out.params) is float and out.params == float(number)
        expected = (
            max(2.0, float(number)) if form == "max_const" else _WITH_A_NUMBER[form](2.0, float(number))
        )
        assert out.data == expected


def _stored_slots(node: Value) -> dict:
    return {name: getattr(node, name) for name in Value.__slots__}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_node_is_the_node_the_value_constructor_makes(name):
    # Some ops set a node's slots themselves instead of calling `_node`: whatever way an op builds
    # its node, it holds what Value(data, label, children, local_grads, op, params) holds.
    case = OP_CASES[name]
    for point in case.points:
        leaves = [Value(x) for x in point]
        try:
            out = case.build(*leaves)
        except (ValueError, ArithmeticError):
            continue
        same = Value(out.data, out.label, out.children, out.local_grads, out.op, out.params)
        stored, expected = _stored_slots(out), _stored_slots(same)
        assert stored.keys() == expected.keys()
        for slot in stored:
            assert type(stored[slot]) is type(expected[slot]), slot
            assert stored[slot] == expected[slot] or stored[slot] is expected[slot], slot
        assert all(type(x) is float for x in (out.data, out.grad, *out.local_grads))
        kind = OPS[name].params_kind
        if kind == "none":
            assert out.params is None
        elif kind == "constant":
            assert type(out.params) is float
        assert out.label == "" and out.grad == 0.0


# A pickle of ``y = Value(2.0, "x") * 3.0; y.label = "y"`` made (protocol 4) when `label` and `params`
# were slots of their own: it sets them by name.
_PICKLE_WITH_LABEL_AND_PARAMS_SLOTS = (
    b"\x80\x04\x95\xd2\x00\x00\x00\x00\x00\x00\x00\x8c\x0fautograd.engine\x94\x8c\x05Value\x94\x93\x94)\x81"
    b"\x94N}\x94(\x8c\x04data\x94G@\x18\x00\x00\x00\x00\x00\x00\x8c\x04grad\x94G\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x8c\t_children\x94h\x02)\x81\x94N}\x94(h\x05G@\x00\x00\x00\x00\x00\x00\x00h\x06G\x00\x00\x00\x00"
    b"\x00\x00\x00\x00h\x07)\x8c\x0c_local_grads\x94)\x8c\x02op\x94\x8c\x00\x94\x8c\x05label\x94\x8c\x01x\x94"
    b"\x8c\x06params\x94Nu\x86\x94bh\nG@\x08\x00\x00\x00\x00\x00\x00h\x0b\x8c\tmul_const\x94h\r\x8c\x01y\x94h"
    b"\x0fG@\x08\x00\x00\x00\x00\x00\x00u\x86\x94b."
)


def test_a_pickle_from_before_label_and_params_shared_a_slot_still_loads():
    y = pickle.loads(_PICKLE_WITH_LABEL_AND_PARAMS_SLOTS)
    assert (y.data, y.op, y.label, y.params) == (6.0, "mul_const", "y", 3.0)
    (x,) = y.children
    assert (x.data, x.label, x.params, x.children) == (2.0, "x", None, ())
    y.backward()
    assert x.grad == 3.0


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_labelled_leaves_pickle_at_every_protocol(protocol):
    from gradstep.micrograd import Value as MicrogradValue

    for leaf in (Value(1.0, "a"), MicrogradValue(1.0, label="a")):
        if protocol < 2 and type(leaf) is Value:
            continue  # a slotted class without __getstate__: protocols 0 and 1 refuse it (as ever)
        copy_ = pickle.loads(pickle.dumps(leaf, protocol))
        assert (type(copy_), copy_.data, copy_.label) == (type(leaf), 1.0, "a")


def test_params_can_be_set_and_keep_the_label():
    y = Value(1.0) * 3.0
    y.params = 4.0
    assert (y.params, y.label) == (4.0, "")
    y.label = "y"
    y.params = 5.0
    assert (y.params, y.label) == (5.0, "y")


def test_an_empty_str_subclass_label_keeps_its_type():
    class Name(str):
        pass

    assert type(Value(1.0, Name("")).label) is Name
