"""A small, safe expression language: build a graph from a formula such as ``tanh(w*x + b)``.

    >>> from autograd import parse
    >>> out = parse("tanh(w1*x1 + w2*x2 + b)", x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
    >>> round(out.data, 4)
    0.7071

The language has numbers (``2``, ``0.5``, ``.5``, ``1e-3``), the variables you pass in, the operators
``+ - * / **`` (with unary ``-`` and ``+``), parentheses, and the one-argument functions of the op
registry (`FUNCTIONS`: ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``, ... every op registered
with a ``parse_name``). Precedence and associativity are Python's:
``-x**2`` is ``-(x**2)`` and ``2**3**2`` is ``2**(3**2)``.

Safety: the formula is read by a hand-written tokenizer and recursive-descent parser; it is never
given to `eval`, `compile` or `ast`. There is no attribute access, no indexing, no strings, no
keywords, and a name can only be one of your variables or one of the functions above. Length and
nesting depth are limited, so no input can exhaust memory or the recursion limit. Every problem,
including math errors such as ``log(0)``, raises `ExpressionError` (a `ValueError`) that says what
is wrong and points at the offending part of the formula.

Each variable becomes ONE leaf Value labelled with its name, so a variable used twice fans out
(``x*x`` has the child ``x`` twice). Arithmetic on numbers alone is done on the spot, as Python would
(``x ** (1/2)`` is a power with the constant exponent 0.5), with the engine's rules and errors.
"""

from __future__ import annotations

import keyword
import math
import numbers
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from .engine import OPS, Value

__all__ = ["FUNCTIONS", "MAX_FORMULA_LENGTH", "MAX_NESTING", "ExpressionError", "parse"]

MAX_FORMULA_LENGTH = 10_000
"""Longest formula accepted, in characters."""

MAX_NESTING = 64
"""Deepest nesting accepted: parentheses, function calls, unary signs and ``**`` each count one level.
Each level costs the parser about five Python frames, so this stays far below the recursion limit."""


class _RegisteredFunctions(Mapping[str, Callable[[Value], Value]]):
    """The one-argument functions a formula may call: every op registered with a `parse_name`.

    A live view of `autograd.OPS`, so an op registered later is callable in formulas at once.
    """

    def _table(self) -> dict[str, Callable[[Value], Value]]:
        return {
            spec.parse_name: spec.function
            for spec in OPS.values()
            if spec.parse_name is not None and spec.arity == 1 and spec.function is not None
        }

    def __getitem__(self, name: str) -> Callable[[Value], Value]:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return f"FUNCTIONS({', '.join(self)})"


FUNCTIONS: Mapping[str, Callable[[Value], Value]] = _RegisteredFunctions()
"""The functions a formula may call, each with exactly one argument (read from the op registry)."""

_EXCERPT_WIDTH = 72  # characters of formula shown above the caret line


class ExpressionError(ValueError):
    """A formula that cannot be turned into a graph, with where the problem is.

    Attributes:
        message: what is wrong, in one sentence.
        formula: the formula as given.
        start, end: the offending part is ``formula[start:end]`` (0-based; ``end > start``
            except at the end of the formula).
        column: ``start + 1``, as people count.

    ``str(error)`` is the message followed by the formula and a caret line under the offending part;
    `one_line()` gives everything on a single line (for command-line messages).
    """

    def __init__(self, message: str, formula: str, start: int, end: int | None = None) -> None:
        self.message = message
        self.formula = formula
        self.start = max(0, min(start, len(formula)))
        self.end = max(self.start, min(len(formula), start + 1 if end is None else end))
        excerpt, caret = _caret_lines(formula, self.start, self.end)
        super().__init__(f"{message} (at column {self.column})\n  {excerpt}\n  {caret}")

    @property
    def column(self) -> int:
        return self.start + 1

    def __reduce__(self) -> tuple[type, tuple[str, str, int, int]]:
        # So the error survives pickling (multiprocessing, pytest-xdist) with all its fields.
        return type(self), (self.message, self.formula, self.start, self.end)

    def one_line(self) -> str:
        """``message (at column N): excerpt``, on one line."""
        excerpt, _ = _caret_lines(self.formula, self.start, self.end)
        return f"{self.message} (at column {self.column}): {excerpt.strip()}"


def _caret_lines(formula: str, start: int, end: int) -> tuple[str, str]:
    """The formula (or a window of it around `start`) and a line of carets under [start, end)."""
    # Every character is shown as exactly one character so the carets line up.
    shown = "".join(c if c.isprintable() else " " for c in formula)
    first, last = 0, len(shown)
    if len(shown) > _EXCERPT_WIDTH:
        first = max(0, min(start - _EXCERPT_WIDTH // 3, len(shown) - _EXCERPT_WIDTH))
        last = first + _EXCERPT_WIDTH
    prefix = "..." if first > 0 else ""
    suffix = "..." if last < len(shown) else ""
    caret_start = len(prefix) + start - first
    caret_end = len(prefix) + min(end, last) - first
    excerpt = prefix + shown[first:last] + suffix
    return excerpt, " " * caret_start + "^" * max(1, caret_end - caret_start)


# ---------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


# ASCII only, on purpose: `\d` and float() would also accept other scripts' digits and underscores.
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("**", "+", "-", "*", "/", "(", ")")
_WHITESPACE = " \t\r\n"
_NOT_ALLOWED = {
    ".": "attribute access ('.') is not allowed in a formula",
    "[": "indexing and lists ('[') are not allowed in a formula",
    "]": "indexing and lists (']') are not allowed in a formula",
    "{": "braces ('{') are not allowed in a formula",
    "}": "braces ('}') are not allowed in a formula",
    "'": "strings are not allowed in a formula",
    '"': "strings are not allowed in a formula",
    ",": "functions take exactly one argument (',' is not allowed)",
    "=": "'=' is not allowed in a formula (give variable values separately)",
    "^": "'^' is not a power: write x**2",
    ":": "':' is not allowed in a formula",
}


def _tokenize(formula: str) -> Iterator[_Token]:
    """The tokens of `formula`, ending with an "end" token. Lazy, so that problems are reported in
    reading order (``__import__('os')`` fails at the unknown function, before the string)."""
    position = 0
    length = len(formula)
    while position < length:
        char = formula[position]
        if char in _WHITESPACE:
            position += 1
            continue
        number = _NUMBER.match(formula, position)
        if number:
            text = number.group()
            following = formula[number.end() : number.end() + 1]
            if following and (following.isalnum() or following in "._"):
                raise ExpressionError(
                    f"malformed number {formula[position : number.end() + 1]!r}"
                    " (to multiply, write an explicit '*', as in 2*x)",
                    formula,
                    position,
                    number.end() + 1,
                )
            if not math.isfinite(float(text)):
                raise ExpressionError(
                    f"number {text} is too large for a float", formula, position, number.end()
                )
            yield _Token("number", text, position)
            position = number.end()
            continue
        name = _NAME.match(formula, position)
        if name:
            text = name.group()
            if keyword.iskeyword(text):
                raise ExpressionError(
                    f"Python keyword {text!r} is not allowed in a formula", formula, position, name.end()
                )
            yield _Token("name", text, position)
            position = name.end()
            continue
        operator = next((op for op in _OPERATORS if formula.startswith(op, position)), None)
        if operator:
            yield _Token("op", operator, position)
            position += len(operator)
            continue
        reason = _NOT_ALLOWED.get(char) or f"unexpected character {char!r}"
        raise ExpressionError(reason, formula, position)
    yield _Token("end", "", length)


# ---------------------------------------------------------------------------------------------------
# Parser: recursive descent into a postfix program, checked completely before anything is computed.
# ---------------------------------------------------------------------------------------------------
#
#   sum     := product (("+" | "-") product)*
#   product := unary (("*" | "/") unary)*
#   unary   := ("-" | "+") unary | power
#   power   := atom ("**" unary)?              (so -x**2 is -(x**2) and 2**-x works, as in Python)
#   atom    := number | variable | function "(" sum ")" | "(" sum ")"


@dataclass(frozen=True)
class _Instruction:
    kind: str  # "number", "variable", "neg", "binary", "call"
    argument: object  # the float, the variable name, the operator or the function name
    start: int  # the part of the formula this instruction computes, for error messages
    end: int


class _Parser:
    def __init__(self, formula: str, variables: dict[str, Value]) -> None:
        self.formula = formula
        self.variables = variables
        self.tokens = _tokenize(formula)
        self.token = next(self.tokens)
        self.depth = 0
        self.program: list[_Instruction] = []

    # -- helpers ---------------------------------------------------------------------------------

    def error(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.token
        return ExpressionError(message, self.formula, token.start, token.end)

    def advance(self) -> _Token:
        token = self.token
        if token.kind != "end":
            self.token = next(self.tokens)
        return token

    def at(self, *texts: str) -> bool:
        return self.token.kind == "op" and self.token.text in texts

    def emit(self, kind: str, argument: object, start: int, end: int) -> tuple[int, int]:
        self.program.append(_Instruction(kind, argument, start, end))
        return start, end

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"formula is nested too deeply (more than {MAX_NESTING} levels)")

    # -- grammar ---------------------------------------------------------------------------------

    def parse(self) -> list[_Instruction]:
        if not self.formula.strip():
            raise ExpressionError("the formula is empty", self.formula, 0)
        self.parse_sum()
        if self.token.kind != "end":
            if self.at(")"):
                raise self.error("unmatched ')'")
            raise self.error(
                f"expected an operator before {self.token.text!r}"
                " (to multiply, write an explicit '*', as in 2*x)"
            )
        return self.program

    def parse_sum(self) -> tuple[int, int]:
        start, end = self.parse_product()
        while self.at("+", "-"):
            operator = self.advance().text
            _, end = self.parse_product()
            self.emit("binary", operator, start, end)
        return start, end

    def parse_product(self) -> tuple[int, int]:
        start, end = self.parse_unary()
        while self.at("*", "/"):
            operator = self.advance().text
            _, end = self.parse_unary()
            self.emit("binary", operator, start, end)
        return start, end

    def parse_unary(self) -> tuple[int, int]:
        if not self.at("-", "+"):
            return self.parse_power()
        sign = self.advance()
        self.nest()
        _, end = self.parse_unary()
        self.depth -= 1
        if sign.text == "-":
            self.emit("neg", None, sign.start, end)
        return sign.start, end

    def parse_power(self) -> tuple[int, int]:
        start, end = self.parse_atom()
        if self.at("**"):
            self.advance()
            self.nest()
            _, end = self.parse_unary()
            self.depth -= 1
            self.emit("binary", "**", start, end)
        return start, end

    def parse_atom(self) -> tuple[int, int]:
        token = self.token
        if token.kind == "number":
            self.advance()
            return self.emit("number", float(token.text), token.start, token.end)
        if token.kind == "name":
            return self.parse_name()
        if self.at("("):
            self.advance()
            self.nest()
            self.parse_sum()
            self.depth -= 1
            closing = self.expect_closing(token)
            return token.start, closing.end
        if token.kind == "end":
            raise self.error("the formula ends too early: expected a number, a variable or '('")
        raise self.error(f"expected a number, a variable or '(' but found {token.text!r}")

    def parse_name(self) -> tuple[int, int]:
        name = self.advance()
        if self.at("("):
            if name.text not in FUNCTIONS:
                known = ", ".join(FUNCTIONS)
                raise self.error(f"unknown function {name.text!r}; the functions are: {known}", name)
            opening = self.advance()
            self.nest()
            self.parse_sum()
            self.depth -= 1
            closing = self.expect_closing(opening)
            return self.emit("call", name.text, name.start, closing.end)
        if name.text in FUNCTIONS:
            raise self.error(f"{name.text!r} is a function: call it as {name.text}(...)", name)
        if name.text not in self.variables:
            given = ", ".join(self.variables) or "none"
            message = f"unknown variable {name.text!r}: no value was given for it (given: {given})"
            raise self.error(message, name)
        return self.emit("variable", name.text, name.start, name.end)

    def expect_closing(self, opening: _Token) -> _Token:
        if self.at(")"):
            return self.advance()
        if self.token.kind == "end":
            raise self.error("'(' is never closed", opening)
        raise self.error(f"expected ')' to close the '(' at column {opening.start + 1}")


# ---------------------------------------------------------------------------------------------------
# Running the postfix program: no recursion, every math error reported at its place in the formula.
# ---------------------------------------------------------------------------------------------------

_BINARY: dict[str, Callable[[Value | float, Value | float], Value | float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def _run(program: list[_Instruction], formula: str, variables: dict[str, Value]) -> Value:
    stack: list[Value | float] = []
    for instruction in program:
        kind, argument = instruction.kind, instruction.argument
        try:
            if kind == "number":
                stack.append(cast(float, argument))
            elif kind == "variable":
                stack.append(variables[cast(str, argument)])
            elif kind == "neg":
                stack.append(-stack.pop())
            elif kind == "call":
                operand = stack.pop()
                stack.append(_on_numbers_too(FUNCTIONS[cast(str, argument)], operand))
            else:
                right = stack.pop()
                left = stack.pop()
                stack.append(_on_numbers_too(_BINARY[cast(str, argument)], left, right))
        except (ArithmeticError, ValueError) as error:
            raise ExpressionError(str(error), formula, instruction.start, instruction.end) from None
    (result,) = stack
    return result if isinstance(result, Value) else Value(result)


def _on_numbers_too(operation: Callable, first: Value | float, *rest: Value | float) -> Value | float:
    """Apply `operation`; when every operand is a plain number, compute it with the engine's own
    arithmetic and errors (a real result or a clear error, never Python's complex numbers or inf),
    and give back a plain number so it folds into the next operation."""
    if isinstance(first, Value) or any(isinstance(operand, Value) for operand in rest):
        return operation(first, *rest)
    return operation(Value(first), *rest).data


# ---------------------------------------------------------------------------------------------------
# The public entry point
# ---------------------------------------------------------------------------------------------------


def parse(formula: str, /, **variables: Value | float) -> Value:
    """Build the graph of `formula` over the named `variables` and return its output Value.

    Each variable is a number (it becomes a leaf Value labelled with the variable's name) or a
    Value of yours (used as it is, so you can read its grad after ``backward()``). Variables you pass
    but do not use are ignored.

    Raises:
        ExpressionError: the formula is malformed, uses an unknown name, is too long or too deeply
            nested, or computes something undefined (``log(0)``, ``1/0``, ``exp(1000)``); the error
            points at the offending part.
        TypeError / ValueError: a variable's value is not a finite number or a Value, or its name
            is not a valid variable name.
    """
    if not isinstance(formula, str):
        raise TypeError(f"parse: the formula must be a str, got {type(formula).__name__}")
    if len(formula) > MAX_FORMULA_LENGTH:
        raise ExpressionError(
            f"formula is too long ({len(formula)} characters; the limit is {MAX_FORMULA_LENGTH})",
            formula,
            MAX_FORMULA_LENGTH,
        )
    leaves = {name: _leaf(name, value) for name, value in variables.items()}
    program = _Parser(formula, leaves).parse()
    return _run(program, formula, leaves)


def _leaf(name: str, value: object) -> Value:
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ValueError(f"parse: {name!r} is not a valid variable name (letters, digits and _)")
    if name in FUNCTIONS:
        raise ValueError(f"parse: variable name {name!r} is taken by the function {name}()")
    if isinstance(value, Value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"parse: variable {name!r} must be a number or a Value, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"parse: variable {name!r} must be a finite number, got {number!r}")
    return Value(number, name)
