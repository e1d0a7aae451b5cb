"""The formula language: Python's arithmetic and precedence, and nothing else of Python."""

from __future__ import annotations

import contextlib
import math
import pickle
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import OPS, ExpressionError, Value, parse, topological_order
from autograd.expr import FUNCTIONS, MAX_FORMULA_LENGTH, MAX_NESTING
from tests.fixtures import LECTURE_NEURON_INPUTS
from tests.strategies import OP_CASES

NEURON = LECTURE_NEURON_INPUTS


def fails(formula: str, **variables) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse(formula, **variables)
    return caught.value


# ---------------------------------------------------------------------------------------------------
# Building graphs
# ---------------------------------------------------------------------------------------------------


def test_lecture_neuron_value_and_grads():
    out = parse("tanh(w1*x1 + w2*x2 + b)", **NEURON)
    assert out.op == "tanh"
    assert out.data == pytest.approx(0.7071067811865476)
    out.backward()
    leaves = {node.label: node for node in topological_order(out) if node.label}
    assert set(leaves) == set(NEURON)
    grads = {name: leaf.grad for name, leaf in leaves.items()}
    assert grads == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5})


def test_a_variable_used_twice_is_one_leaf_that_fans_out():
    out = parse("x*x + x", x=3)
    (x,) = [node for node in topological_order(out) if node.label == "x"]
    product = out.children[0]
    assert product.children == (x, x)
    assert out.children[1] is x
    out.backward()
    assert x.grad == 7.0


def test_value_arguments_are_used_as_given():
    x = Value(0.5, "my x")
    out = parse("sigmoid(x) * 2", x=x)
    out.backward()
    assert out.children[0].children == (x,)
    s = 1 / (1 + math.exp(-0.5))
    assert x.grad == pytest.approx(2 * s * (1 - s))


@pytest.mark.parametrize(
    ("formula", "op", "constant"),
    [
        ("x**2", "pow", 2.0),
        ("x**(1/2)", "pow", 0.5),  # arithmetic on numbers alone is folded, as in Python
        ("x ** -1", "pow", -1.0),
        ("2**x", "rpow", 2.0),
        ("x**y", "vpow", None),
    ],
)
def test_powers_pick_the_engine_op(formula, op, constant):
    out = parse(formula, x=4.0, y=0.5)
    assert (out.op, out.params) == (op, constant)


def test_numbers_are_recorded_in_the_node_and_a_constant_formula_is_a_leaf():
    out = parse("3*x", x=2)
    assert (out.op, out.params, [child.label for child in out.children]) == ("rmul_const", 3.0, ["x"])
    assert parse("x - 1", x=2).op == "sub_const" and parse("1/x", x=2).op == "rdiv_const"
    constant = parse("2*3 + 1")
    assert (constant.data, constant.children) == (7.0, ())


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("-x**2", -9.0),
        ("2**3**2", 512.0),
        ("x - 1 - 1", 1.0),
        ("x / 3 / 2", 0.5),
        ("--x", 3.0),
        ("+x", 3.0),
        ("2**-1", 0.5),
        ("(x+1)*2", 8.0),
        ("1.5e1 + .5 + 2. + 1E-1", 17.6),
        ("abs(-x) + relu(-x) + sqrt(x*3)", 6.0),
        ("log(exp(x))", 3.0),
        (" \tx\n*\r2 ", 6.0),
    ],
)
def test_precedence_and_literals_follow_python(formula, expected):
    assert parse(formula, x=3.0).data == pytest.approx(expected)


def test_every_function_is_available():
    for name, method in FUNCTIONS.items():
        out = parse(f"{name}(x)", x=0.25)
        assert out.op == method(Value(0.25)).op
        assert out.data == method(Value(0.25)).data


# ---------------------------------------------------------------------------------------------------
# Rejecting everything that is not a formula, with the place of the problem
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "message", "column"),
    [
        ("__import__('os')", "unknown function '__import__'", 1),
        ("__import__", "unknown variable '__import__'", 1),
        ("x.__class__", "attribute access", 2),
        ("(1).real", "attribute access", 4),
        ("lambda: x", "Python keyword 'lambda'", 1),
        ("[x for x in y]", "lists", 1),
        ("(x for x in (1,))", "Python keyword 'for'", 4),
        ("{x: 1}", "braces", 1),
        ("x if x else y", "Python keyword 'if'", 3),
        ("open('f')", "unknown function 'open'", 1),
        ("exp(x, 2)", "exactly one argument", 6),
        ("x = 1", "'=' is not allowed", 3),
        ("x ^ 2", "write x**2", 3),
        ("eval", "unknown variable 'eval'", 1),
        ("exp", "is a function", 1),
        ("2x", "malformed number", 1),
        ("1.2.3", "malformed number", 1),
        ("1e", "malformed number", 1),
        ("x y", "expected an operator", 3),
        ("2(x)", "expected an operator", 2),
        ("x +", "ends too early", 4),
        ("(x", "never closed", 1),
        ("exp(x", "never closed", 4),
        ("x)", "unmatched ')'", 2),
        ("x * * 2", "expected a number", 5),
        ("", "empty", 1),
        ("   ", "empty", 1),
        ("1e999", "too large", 1),
        ("z + x", "unknown variable 'z': no value was given for it (given: x)", 1),
        ("x @ x", "unexpected character '@'", 3),
        ("x ; y", "unexpected character ';'", 3),
        ("x²", "unexpected character '²'", 2),
        ("١", "unexpected character", 1),
        ("1_000", "malformed number", 1),
        ("x\x00", "unexpected character '\\x00'", 2),
    ],
)
def test_rejects_non_formulas_with_a_pointer(formula, message, column):
    error = fails(formula, x=1.0)
    assert message in error.message
    assert error.column == column
    assert isinstance(error, ValueError)
    lines = str(error).splitlines()
    assert len(lines) == 3
    assert lines[0] == f"{error.message} (at column {column})"
    assert lines[2].index("^") == len("  ") + column - 1


def test_caret_line_underlines_the_offending_part():
    error = fails("tanh(w*x) + log(x - 2)", w=1.0, x=2.0)
    _, shown, carets = str(error).splitlines()
    assert shown == "  tanh(w*x) + log(x - 2)"
    assert carets == "              ^^^^^^^^^^"
    assert error.message == "log: operand must be > 0, got 0.0"
    assert error.one_line() == "log: operand must be > 0, got 0.0 (at column 13): tanh(w*x) + log(x - 2)"


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("1/(x-1)", "division by zero"),
        ("log(x - 1)", "log"),
        ("sqrt(-x)", "sqrt"),
        ("exp(x*1000)", "too large"),
        ("(-8)**(1/3)", "not real"),  # Python would give a complex number
        ("(x-1)**-1", "negative power"),
        ("(-2)**x", "base"),
        ("(x - 2)**y", "vpow"),
        ("1e300*1e300", "too large"),
    ],
)
def test_math_errors_are_expression_errors_at_their_place(formula, message):
    error = fails(formula, x=1.0, y=2.0)
    assert message in error.message
    assert error.formula[error.start : error.end] == formula or error.start > 0


def test_errors_survive_pickling():
    error = fails("x + y", x=1.0)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.formula, copy.start, copy.end, str(copy)) == (
        error.message,
        error.formula,
        error.start,
        error.end,
        str(error),
    )


def test_long_formulas_show_a_window_around_the_problem():
    formula = "x+" * 3000 + "zz"
    error = fails(formula, x=1.0)
    _, shown, carets = str(error).splitlines()
    assert len(shown) < 100 and shown.strip().startswith("...")
    assert shown[carets.index("^") :].startswith("zz")


def test_length_limit():
    error = fails("x+" * (MAX_FORMULA_LENGTH // 2) + "x", x=1.0)
    assert "too long" in error.message
    assert parse("+".join(["x"] * (MAX_FORMULA_LENGTH // 2)), x=1.0).data == MAX_FORMULA_LENGTH // 2


@pytest.mark.parametrize(
    "formula",
    [
        "(" * 5000 + "x" + ")" * 4999,
        "-" * 9000 + "x",
        "x**" * 3000 + "x",
        "exp(" * 1500 + "x" + ")" * 1500,
        "(" * 9000,
    ],
)
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(formula):
    error = fails(formula, x=1.0)
    assert "nested too deeply" in error.message


def test_nesting_up_to_the_limit_works_even_close_to_the_recursion_limit():
    formula = "(" * (MAX_NESTING - 1) + "-x" + ")" * (MAX_NESTING - 1)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(600)
    try:
        assert parse(formula, x=2.0).data == -2.0
    finally:
        sys.setrecursionlimit(old_limit)


def test_bad_variables_are_rejected_by_name():
    with pytest.raises(TypeError, match="'x'"):
        parse("x", x="1")
    with pytest.raises(TypeError, match="'x'"):
        parse("x", x=True)
    with pytest.raises(ValueError, match="finite"):
        parse("x", x=math.inf)
    with pytest.raises(ValueError, match="function"):
        parse("exp", exp=1.0)
    with pytest.raises(ValueError, match="not a valid variable name"):
        parse("x", **{"x-1": 1.0})
    with pytest.raises(ValueError, match="not a valid variable name"):
        parse("x", **{"if": 1.0})
    with pytest.raises(TypeError, match="formula"):
        parse(b"x", x=1.0)


def test_unused_variables_are_fine():
    assert parse("x", x=1.0, unused=2.0).data == 1.0


# ---------------------------------------------------------------------------------------------------
# Property-based: fuzzing, and agreement with Python's own evaluation of the same text
# ---------------------------------------------------------------------------------------------------

FORMULA_CHARS = "xyz0123456789.eE+-*/() \t_abcdfghijklmnopqrstuvw,[]{}'\"=^!@#;:\\\n<>%&|~`"


@given(st.one_of(st.text(max_size=80), st.text(alphabet=FORMULA_CHARS, max_size=80)))
def test_random_text_never_raises_anything_but_expression_error(text):
    try:
        result = parse(text, x=1.5, y=-0.5, z=2.0)
    except ExpressionError as error:
        assert 0 <= error.start <= error.end <= len(text)
        assert str(error)
    else:
        assert isinstance(result, Value) and math.isfinite(result.data)


def _words():
    names = st.sampled_from(["x", "y", "z", "exp(", "log(", "sqrt(", "tanh(", "sin(", "relu(", "abs("])
    ops = st.sampled_from(["+", "-", "*", "/", "**", "(", ")", " ", "--", "1", "2.5", ".5", "1e-2"])
    return st.lists(st.one_of(names, ops), max_size=30).map("".join)


@given(_words())
def test_random_token_soup_never_raises_anything_but_expression_error(text):
    with contextlib.suppress(ExpressionError):
        parse(text, x=1.5, y=-0.5, z=2.0)


# Random expression trees written as text (Python syntax), evaluated by Python and by parse().

VARIABLES = {"x": 1.25, "y": -0.75, "z": 2.0}


# Each formula function's value on plain floats, from its op's test row (written with `math`).
PYTHON_FUNCTIONS = {
    spec.parse_name: OP_CASES[spec.name].reference for spec in OPS.values() if spec.parse_name
}

number_literals = st.sampled_from(["2.0", "0.5", ".5", "3.", "1e0", "2.5E-1", "10.0", "1e1", "0.0"])
spaces = st.sampled_from(["", "", " ", "  "])


@st.composite
def python_expressions(draw, depth: int = 0) -> str:
    if depth >= 5 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(st.sampled_from(sorted(VARIABLES)), number_literals))
    kind = draw(st.sampled_from(["binary", "binary", "unary", "call", "parens"]))
    if kind == "binary":
        op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
        left = draw(python_expressions(depth + 1))
        right = draw(python_expressions(depth + 1))
        return f"{left}{draw(spaces)}{op}{draw(spaces)}{right}"
    if kind == "unary":
        return draw(st.sampled_from(["-", "+"])) + draw(python_expressions(depth + 1))
    if kind == "call":
        return f"{draw(st.sampled_from(sorted(FUNCTIONS)))}({draw(python_expressions(depth + 1))})"
    return f"({draw(python_expressions(depth + 1))})"


def _python_value(text: str) -> float | None:
    """What Python makes of the same text, or None where Python fails or leaves the real floats.

    The text comes from the strategy above (never from a user), over a namespace without builtins.
    """
    try:
        result = eval(text, {"__builtins__": {}}, {**PYTHON_FUNCTIONS, **VARIABLES})
    except (ArithmeticError, ValueError, TypeError):  # TypeError: a complex number reached math.*
        return None
    if not isinstance(result, float) or not math.isfinite(result):
        return None  # complex (negative base, fractional power) or an overflow to inf
    return result


@given(python_expressions())
def test_random_formulas_compute_what_python_computes(text):
    expected = _python_value(text)
    try:
        got = parse(text, **VARIABLES).data
    except ExpressionError as error:
        # parse may only refuse what Python also refuses, plus the engine's two stricter rules:
        # an overflow that Python lets through as inf and on to a finite value (e.g. tanh(inf)),
        # and a power with a Value exponent (x**y, 2**y), which needs a base > 0 for the
        # derivative with respect to the exponent, log(base).
        engine_rules = ("too large", "vpow", "rpow")
        assert expected is None or any(rule in error.message for rule in engine_rules), (
            f"{text!r}: Python gives {expected!r}, parse says {error.message}"
        )
        return
    assert expected is not None, f"{text!r}: parse gives {got!r} where Python fails"
    assert got == expected or (got == 0.0 and expected == 0.0), text


def test_the_module_docstring_example_runs():
    import doctest

    import autograd.expr

    result = doctest.testmod(autograd.expr, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, "autograd/expr.py lost its example"
    assert result.failed == 0
