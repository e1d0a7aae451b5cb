"""Compile a traced graph to straight-line Python: the code backprop derived, at hand-written speed.

    from autograd import Value, compile

    def cost(w, b, x, y):
        a = (w * x + b).sigmoid()
        return (y - a) ** 2 / 2

    step = compile(cost, [Value(0.6, "w"), Value(0.9, "b"), Value(1.0, "x"), Value(0.0, "y")])
    print(step.source)                      # readable Python, one line per operation
    value, grads = step(0.6, 0.9, 1.0, 0.0)  # grads == {"w": ..., "b": ..., "x": ..., "y": ...}

`compile` runs the function ONCE on the given leaf Values, walks the graph it built, and writes a
Python function with one line per operation for the forward pass and, for the backward pass, one
line per node that sums its incoming edges (local derivative × the parent's grad) in exactly the
order `Value.backward()` adds them. The lines repeat the engine's float operations one for one, so
the compiled function returns bit-for-bit the numbers the eager graph gives, for any inputs that
take the same path through the Python code. `compile` checks that at the traced inputs before it
returns.

What cannot be compiled: Python control flow that depends on the data. Tracing records the
operations one run performed; an ``if``, a ``max`` or a loop whose decision looked at a traced
value is frozen into the branch seen while tracing. Branches *inside* an op (relu, abs, sigmoid,
the special cases of ``**``) are fine: they are written out as code and re-decided on every call.
Comparisons (``<`` ``<=`` ``>`` ``>=``, so also ``max(values)``, ``sorted``) of a value that
depends on the inputs are detected while tracing and raise `TracingError`. Reading ``.data`` or
``float(value)`` cannot be seen; pass ``check_inputs`` (a second set of input values) and
`compile` traces again there and raises `TracingError` if the program or its results differ.
Also refused, because tracing cannot see where the numbers went: plain numbers folded into a
``vsum``, and a ``dot`` with numbers and Values mixed on one side (make each side all Values or all
numbers). Leaf Values the output uses that are not among the inputs are an error unless
``freeze_leaves=True`` bakes them in as constants.

Batched mode (`CompiledFunction.batched`, needs NumPy: ``pip install gradstep[compile]``) evaluates
a second, vectorised variant of the same code with one array entry per example, branches turned
into ``numpy.where``, and sums or averages the gradients over the batch.
"""

from __future__ import annotations

import builtins
import keyword
import math
import operator
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from .engine import Value, dot, topological_order

__all__ = ["BatchResult", "CompiledFunction", "CompiledResult", "TracingError", "compile"]

# The engine's own `1.0` object that `dot` appends as a bias's local derivative; its identity tells
# a bias apart from a weight whose input happened to be 1.0 (the two sum differently on Python ≥ 3.12).
_DOT_BIAS_ONE = dot([], [], Value(0.0)).local_grads[0]

REDUCTIONS = ("sum", "mean", "none")


class TracingError(ValueError):
    """The function cannot be compiled faithfully (data-dependent control flow, untraceable input)."""


class CompiledResult(NamedTuple):
    """The output of a compiled function and d(output)/d(input) for every input, by input name."""

    value: float
    grads: dict[str, float]


class BatchResult(NamedTuple):
    """A batched evaluation: the reduced output, the reduced gradients, and every example's output.

    With ``reduction="sum"`` `value` is Σ outputs and each gradient is d(Σ outputs)/d(input); with
    ``"mean"`` both are divided by the batch size; with ``"none"`` nothing is reduced (`value` is the
    array of outputs and every gradient is an array with one entry per example).
    """

    value: Any
    grads: dict[str, Any]
    outputs: Any


# ---------------------------------------------------------------------------------------------------
# Tracing: run the function once, and notice when it looks at the data of a traced value.
# ---------------------------------------------------------------------------------------------------

# Comparisons are how Python code branches on a value. float() is not watched: validation such as
# math.isfinite(value) reads the data without deciding anything (check_inputs catches real uses).
_WATCHED_METHODS = ("__lt__", "__le__", "__gt__", "__ge__")


@contextmanager
def _watch_data_reads(reads: list[tuple[str, Value]]) -> Iterator[None]:
    """While active, every comparison of a Value is recorded in `reads`.

    The methods are swapped on the class for the duration of the trace only, so the engine pays
    nothing when no trace is running. (Tracing is therefore not thread-safe.)
    """
    originals = {name: Value.__dict__[name] for name in _WATCHED_METHODS}

    def watched(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Value, *args: Any) -> Any:
            reads.append((name, self))
            reads.extend((name, arg) for arg in args if isinstance(arg, Value))
            return original(self, *args)

        return method

    try:
        for name, original in originals.items():
            setattr(Value, name, watched(name, original))
        yield
    finally:
        for name, original in originals.items():
            setattr(Value, name, original)


_READ_SYMBOLS = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}


def _trace(fn: Callable[..., Any], inputs: Sequence[Value], caller: str) -> Value:
    reads: list[tuple[str, Value]] = []
    with _watch_data_reads(reads):
        root = fn(*inputs)
    if not isinstance(root, Value):
        raise TracingError(f"{caller}: the function must return a Value, got {type(root).__name__}")
    input_set = set(inputs)
    seen: set[Value] = set()
    for method, value in reads:
        if value in seen:
            continue
        seen.add(value)
        if any(node in input_set for node in topological_order(value)):
            raise TracingError(
                f"{caller}: while tracing, the function read the data of a value that depends on the "
                f"inputs ({_READ_SYMBOLS[method]} on {_describe_node(value)}). Python control flow "
                "that depends on the data cannot be compiled: the compiled code would always take "
                "the branch seen while tracing. Use an op that holds the branch (relu, abs, "
                "sigmoid), or keep this part eager."
            )
    return root


def _describe_node(node: Value) -> str:
    name = f" {node.label!r}" if node.label else ""
    origin = f"made by op {node.op!r}" if node.op else "a leaf"
    return f"Value{name} = {node.data!r}, {origin}"


# ---------------------------------------------------------------------------------------------------
# Reading the graph: names, constants, and the operand structure of dot and sum.
# ---------------------------------------------------------------------------------------------------

_IDENTIFIER_JUNK = re.compile(r"[^0-9A-Za-z_]+")


def _identifier(label: str, fallback: str) -> str:
    """A readable ASCII identifier from a label ('layers.0.neurons.2.b' -> 'layers_0_neurons_2_b')."""
    name = _IDENTIFIER_JUNK.sub("_", label).strip("_")
    if not name:
        return fallback
    if name[0].isdigit():
        name = f"v_{name}"
    if keyword.iskeyword(name):
        name += "_"
    return name


class _Names:
    """Hands out identifiers that are unique in the generated function."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def claim(self, wanted: str) -> str:
        name, suffix = wanted, 2
        while name in self.used:
            name = f"{wanted}_{suffix}"
            suffix += 1
        self.used.add(name)
        return name


def _literal(number: float) -> str:
    text = repr(float(number))  # repr round-trips every float exactly
    return f"({text})" if text.startswith("-") else text


def _same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@dataclass(frozen=True)
class _DotTerms:
    """How a `dot` node's children pair up: sum(map(mul, weights, inputs)) (+ bias).

    `weights` and `inputs` hold child positions (int) or plain numbers (float) that were folded in.
    """

    weights: tuple[int | float, ...]
    inputs: tuple[int | float, ...]
    bias: int | None


def _dot_terms(node: Value, caller: str) -> _DotTerms:
    """Recover the operand pairs of a dot node from its children and local derivatives.

    `dot` stores the Value weights, then the Value inputs, then the bias; each child's local
    derivative is its partner's data. Two layouts cover every call whose sides are each all
    Values or all numbers: Value × Value pairs (children w₀..wₙ₋₁, x₀..xₙ₋₁), and Values times
    numbers (each child's partner is the number in its local derivative). The layout found is
    checked by recomputing the node's value bit for bit.
    """
    children, locals_ = node.children, node.local_grads
    count = len(children)
    candidates: list[_DotTerms] = []
    # Value × Value pairs: an even number of children, or an odd one when a Value bias comes last.
    has_bias = count % 2 == 1
    pairs = count // 2
    if (
        pairs
        and (not has_bias or locals_[-1] is _DOT_BIAS_ONE)
        and all(
            locals_[i] is children[pairs + i].data and locals_[pairs + i] is children[i].data
            for i in range(pairs)
        )
    ):
        candidates.append(
            _DotTerms(tuple(range(pairs)), tuple(range(pairs, 2 * pairs)), count - 1 if has_bias else None)
        )
    # Values times numbers: no local derivative may be the data of a child (that would be a partner).
    child_data = {id(child.data) for child in children}
    if not any(id(local) in child_data for local in locals_):
        if count and locals_[-1] is _DOT_BIAS_ONE:
            candidates.append(_DotTerms(tuple(range(count - 1)), tuple(locals_[:-1]), count - 1))
        candidates.append(_DotTerms(tuple(range(count)), tuple(locals_), None))
    for terms in candidates:
        if _same_float(_dot_value(terms, children), node.data):
            return terms
    raise TracingError(
        f"{caller}: cannot recover the operands of a dot node ({_describe_node(node)}): dot calls that "
        "mix numbers and Values on the same side, or multiply two numbers, fold those numbers in "
        "where tracing cannot see them. Make every weight and every input a Value (or every one a "
        "number) on each side."
    )


def _dot_value(terms: _DotTerms, children: tuple[Value, ...]) -> float:
    def data(item: int | float) -> float:
        return children[item].data if isinstance(item, int) else item

    total = sum(map(operator.mul, [data(w) for w in terms.weights], [data(x) for x in terms.inputs]))
    if terms.bias is not None:
        total = total + children[terms.bias].data
    return total


def _check_sum(node: Value, caller: str) -> None:
    total = 0.0
    for child in node.children:
        total += child.data
    if not _same_float(total, node.data):
        raise TracingError(
            f"{caller}: a vsum node ({_describe_node(node)}) has plain numbers folded into it, and "
            "tracing cannot see where they were. Add numbers outside vsum (vsum(values) + 1.0), or "
            "pass them as inputs."
        )


class _Graph:
    """The traced graph, read once: order, which nodes are inputs or constants, names, dot layouts."""

    def __init__(
        self,
        root: Value,
        inputs: Sequence[Value],
        input_names: Sequence[str],
        wrt: set[Value],
        freeze: bool,
        caller: str,
    ) -> None:
        self.root = root
        self.order = topological_order(root)
        self.inputs = list(inputs)
        self.wrt = [node for node in inputs if node in wrt]
        input_set = set(inputs)
        self.depends: set[Value] = set()  # nodes whose value depends on an input (they need code)
        self.needs_grad: set[Value] = set()  # nodes whose value depends on an input in `wrt`
        frozen: list[Value] = []
        for node in self.order:
            if node in input_set:
                self.depends.add(node)
                if node in wrt:
                    self.needs_grad.add(node)
            elif not node.children and node.op == "":
                frozen.append(node)
            elif any(child in self.depends for child in node.children):
                self.depends.add(node)
                if any(child in self.needs_grad for child in node.children):
                    self.needs_grad.add(node)
        if frozen and not freeze:
            shown = ", ".join(_describe_node(node) for node in frozen[:3])
            more = f" and {len(frozen) - 3} more" if len(frozen) > 3 else ""
            raise TracingError(
                f"{caller}: the output depends on {len(frozen)} leaf Value(s) that are not among the "
                f"inputs: {shown}{more}. Pass them as inputs (so their gradients are computed), or "
                "compile(..., freeze_leaves=True) to bake their current values in as constants."
            )
        self.dots: dict[Value, _DotTerms] = {}
        for node in self.order:
            if node in self.depends and node not in input_set:
                if node.op == "dot":
                    self.dots[node] = _dot_terms(node, caller)
                elif node.op == "sum":
                    _check_sum(node, caller)
                elif node.op not in _FORWARD:
                    raise TracingError(f"{caller}: op {node.op!r} has no compiler rule")
        self._name_nodes(input_names)

    def _name_nodes(self, input_names: Sequence[str]) -> None:
        names = _Names()
        self.name: dict[Value, str] = {}
        for index, node in enumerate(self.inputs):
            self.name[node] = names.claim(_identifier(input_names[index], f"x{index}"))
        temporaries = 0
        for node in self.order:
            if node in self.depends and node not in self.name:
                name = _identifier(node.label, "")
                if not name:
                    temporaries += 1
                    name = f"t{temporaries}"
                self.name[node] = names.claim(name)
        self.grad_name = {
            node: names.claim(f"d_{self.name[node]}") for node in self.order if node in self.name
        }

    def fingerprint(self) -> list[tuple[Any, ...]]:
        """Everything the generated code depends on, node by node: equal fingerprints, equal code."""
        number = {node: index for index, node in enumerate(self.order) if node in self.depends}
        input_position = {node: index for index, node in enumerate(self.inputs)}
        return [
            (
                input_position.get(node),
                node.op,
                node.constant,
                node.label,
                tuple(number[c] if c in self.depends else repr(c.data) for c in node.children),
                self.dots.get(node),
            )
            for node in self.order
            if node in self.depends
        ]

    def expr(self, node: Value) -> str:
        """How the code refers to a node's value: its variable, or a literal for a constant."""
        return self.name[node] if node in self.depends else _literal(node.data)


# ---------------------------------------------------------------------------------------------------
# Code generation: the same text serves floats and NumPy arrays; only branches differ.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dialect:
    batched: bool

    def where(self, condition: str, yes: str, no: str) -> str:
        if self.batched:
            return f"_where({condition}, {yes}, {no})"
        return f"({yes} if {condition} else {no})"

    def any(self, condition: str) -> str:
        return f"_any({condition})" if self.batched else condition

    def both(self, first: str, second: str) -> str:
        return f"({first}) & ({second})" if self.batched else f"{first} and {second}"


_SCALAR = _Dialect(batched=False)
_BATCHED = _Dialect(batched=True)


def _domain_error(op: str, message: str, value: object) -> None:
    raise ValueError(f"compiled {op}: {message}, got {value!r}")


def _zero_division(op: str, message: str, value: object) -> None:
    raise ZeroDivisionError(f"compiled {op}: {message}, got {value!r}")


# Each rule returns (guard lines, forward expression, local derivative per child), all as code text.
# `a`, `b`: the operands' code; `out`: the node's own variable; `node`: the Value (for constants).
_Rule = Callable[[Value, list[str], str, _Dialect, "_Graph"], tuple[list[str], str, list[str]]]


def _rule_pow(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
    (a,) = ops
    c = node.constant
    assert c is not None
    guards = []
    if not c.is_integer():
        guards.append(
            f"if {d.any(f'{a} < 0.0')}: _domain_error('pow', "
            f"'negative base with non-integer exponent {c!r}', {a})"
        )
    if c == 0.0:
        local = "0.0"
    else:
        slope = f"{_literal(c)} * {a} ** {_literal(c - 1.0)}"
        local = d.where(f"{a} != 0.0", slope, "_inf") if c < 1.0 else slope
    return guards, f"{a} ** {_literal(c)}", [local]


def _rule_vpow(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
    a, b = ops
    guards = [
        f"if {d.any(f'{a} < 0.0')}: "
        f"_domain_error('vpow', 'base must be >= 0 when the exponent is a Value', {a})",
        f"if {d.any(d.both(f'{a} == 0.0', f'{b} <= 0.0'))}: "
        f"_zero_division('vpow', '0.0 cannot be raised to a power <= 0', {b})",
    ]
    at_zero = d.where(f"{b} < 1.0", "_inf", d.where(f"{b} == 1.0", "1.0", "0.0"))
    d_base = d.where(f"{a} == 0.0", at_zero, f"{b} * {a} ** ({b} - 1.0)")
    d_exponent = d.where(f"{a} == 0.0", "0.0", f"{out} * _log({a})")
    return guards, f"{a} ** {b}", [d_base, d_exponent]


def _rule_sigmoid(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
    (a,) = ops
    # The engine's two branches: only ever exponentiate a non-positive number.
    value = d.where(f"{a} >= 0.0", f"1.0 / (1.0 + _exp(-{a}))", f"_exp({a}) / (1.0 + _exp({a}))")
    local = d.where(f"{a} >= 0.0", f"{out} * (1.0 - {out})", f"{out} * (1.0 / (1.0 + _exp({a})))")
    return [], value, [local]


def _rule_dot(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
    terms = graph.dots[node]

    def code(item: int | float) -> str:
        return ops[item] if isinstance(item, int) else _literal(item)

    def as_tuple(items: Sequence[int | float]) -> str:
        parts = [code(item) for item in items]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    weights, inputs = as_tuple(terms.weights), as_tuple(terms.inputs)
    if d.batched:  # one matrix-vector product instead of a NumPy call per term (not bit-exact; 1e-15)
        value = f"_dot({weights}, {inputs})"
    elif _SUM_IS_SEQUENTIAL:  # written out by _generate as 0.0 + w0 * x0 + w1 * x1 ...
        value = ""
    else:
        value = f"_sum(_map(_mul, {weights}, {inputs}))"
    if terms.bias is not None and value:
        value += f" + {ops[terms.bias]}"
    locals_ = ["1.0"] * len(ops)  # the bias, if any
    for w, x in zip(terms.weights, terms.inputs):
        if isinstance(w, int):
            locals_[w] = code(x)
        if isinstance(x, int):
            locals_[x] = code(w)
    return [], value, locals_


def _dot_products(terms: _DotTerms, operands: list[str]) -> list[str]:
    """The terms of a dot written out: w0 * x0, w1 * x1, ..., then the bias."""

    def code(item: int | float) -> str:
        return operands[item] if isinstance(item, int) else _literal(item)

    products = [f"{code(w)} * {code(x)}" for w, x in zip(terms.weights, terms.inputs)]
    return products if terms.bias is None else [*products, operands[terms.bias]]


def _simple(template: str, *local_templates: str) -> _Rule:
    """A rule from templates over {a}, {b}, {out}."""

    def rule(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
        fields = dict(zip("ab", ops), out=out)
        return [], template.format(**fields), [t.format(**fields) for t in local_templates]

    return rule


def _rule_div(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
    a, b = ops
    divisor = node.children[1]
    # 1.0 / b for a constant divisor is folded into a literal: the same float division, done now.
    over_b = f"1.0 / {b}" if divisor in graph.depends else _literal(1.0 / divisor.data)
    return [], f"{a} / {b}", [over_b, f"-{a} / ({b} * {b})"]


def _rule_branchy(kind: str) -> _Rule:
    def rule(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
        (a,) = ops
        if kind == "relu":
            return [], d.where(f"{a} > 0.0", a, "0.0"), [d.where(f"{a} > 0.0", "1.0", "0.0")]
        if kind == "abs":
            sign = d.where(f"{a} > 0.0", "1.0", d.where(f"{a} < 0.0", "-1.0", "0.0"))
            return [], f"_abs({a})", [sign]
        # sqrt: an infinite slope at 0, as the engine stores it
        return [], f"_sqrt({a})", [d.where(f"{out} > 0.0", f"0.5 / {out}", "_inf")]

    return rule


def _rule_rpow(node: Value, ops: list[str], out: str, d: _Dialect, graph: _Graph) -> tuple:
    (a,) = ops
    c = node.constant
    assert c is not None
    # The engine multiplies by math.log(c) at run time; the literal is that very float.
    return [], f"{_literal(c)} ** {a}", [f"{out} * {_literal(math.log(c))}"]


_FORWARD: dict[str, _Rule] = {
    "add": _simple("{a} + {b}", "1.0", "1.0"),
    "sub": _simple("{a} - {b}", "1.0", "-1.0"),
    "mul": _simple("{a} * {b}", "{b}", "{a}"),
    "div": _rule_div,
    "neg": _simple("-{a}", "-1.0"),
    "pow": _rule_pow,
    "rpow": _rule_rpow,
    "vpow": _rule_vpow,
    "exp": _simple("_exp({a})", "{out}"),
    "log": _simple("_log({a})", "1.0 / {a}"),
    "sqrt": _rule_branchy("sqrt"),
    "tanh": _simple("_tanh({a})", "(1.0 - {out}) * (1.0 + {out})"),
    "sigmoid": _rule_sigmoid,
    "relu": _rule_branchy("relu"),
    "abs": _rule_branchy("abs"),
    "sin": _simple("_sin({a})", "_cos({a})"),
    "cos": _simple("_cos({a})", "-_sin({a})"),
    "sum": lambda node, ops, out, d, graph: ([], "", ["1.0"] * len(ops)),  # written by _sum_lines
    "dot": _rule_dot,
}

# Up to Python 3.11, sum() adds floats one after the other from 0, like 0.0 + a + b + ..., so the
# sum(map(mul, weights, inputs)) of `dot` can be written out as products added left to right, which
# the interpreter runs faster and people read more easily. From 3.12 sum() compensates its rounding
# errors, and the compiled code calls sum() just as the engine does.
_SUM_IS_SEQUENTIAL = sys.version_info < (3, 12)

_ATOM = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\(?-?[0-9.e+-]+\)?")


def _is_atom(code: str) -> bool:
    if _ATOM.fullmatch(code):
        return True
    if not code.endswith(")"):
        return False
    # a call or a parenthesised expression whose first "(" closes at the very end
    start = code.find("(")
    if start < 0 or not (start == 0 or _ATOM.fullmatch(code[:start])):
        return False
    depth = 0
    for position, char in enumerate(code[start:], start):
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return position == len(code) - 1
    return False


def _edge_term(local: str, upstream: str) -> str:
    """The code for one edge: local derivative × upstream grad (x*1.0 and x*-1.0 are exact as x, -x)."""
    if local == "1.0":
        return upstream
    if local == "-1.0":
        return f"-{upstream}"
    return f"{upstream} * {local if _is_atom(local) else f'({local})'}"


_TERMS_PER_LINE = 8


def _sum_lines(target: str, terms: Sequence[str], start: str | None) -> list[str]:
    """`target = start + t1 + t2 ...`, left to right, wrapped every few terms (same evaluation order)."""
    parts = [start, *terms] if start is not None else list(terms)
    lines = []
    for offset in range(0, len(parts), _TERMS_PER_LINE):
        chunk = parts[offset : offset + _TERMS_PER_LINE]
        if offset:
            chunk = [target, *chunk]
        text = chunk[0]
        for term in chunk[1:]:
            text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
        lines.append(f"{target} = {text}")
    return lines


def _generate(graph: _Graph, function_name: str, dialect: _Dialect, comments: dict[Value, str]) -> str:
    inputs = graph.inputs
    params = ", ".join(graph.name[node] for node in inputs)
    body: list[str] = []
    n_ops = sum(1 for node in graph.order if node in graph.depends and node.children)
    kind = "NumPy arrays (one entry per example)" if dialect.batched else "floats"
    body.append('"""Generated by gradstep from a traced graph')
    body.append(f"of {n_ops} operations on {len(inputs)} inputs, evaluated on {kind}.")
    body.append("")
    which = "each input" if len(graph.wrt) == len(inputs) else f"each of the {len(graph.wrt)} inputs in wrt"
    body.append(f"Returns (output, (d output / d input for {which}, in order)).")
    body.append('"""')
    body.append("# forward pass: one line per operation, children before parents")
    locals_of: dict[Value, list[str]] = {}
    for node in graph.order:
        if node not in graph.depends or not node.children:
            continue
        out = graph.name[node]
        operands = [graph.expr(child) for child in node.children]
        guards, value, locals_ = _FORWARD[node.op](node, operands, out, dialect, graph)
        body.extend(guards)
        if node.op == "sum":  # left to right from 0.0, as vsum adds; wrapped so long sums stay readable
            body.extend(_sum_lines(out, operands, "0.0"))
        elif node.op == "dot" and not value:
            body.extend(_sum_lines(out, _dot_products(graph.dots[node], operands), "0.0"))
        else:
            body.append(f"{out} = {value}")
        locals_of[node] = locals_

    body.append("# backward pass: each node's grad sums local derivative * parent's grad over its")
    body.append("# edges, in the order backward() adds them (inputs start from 0.0 like a zeroed .grad)")
    input_set = set(inputs)
    incoming: dict[Value, list[str]] = {node: [] for node in graph.needs_grad}
    root = graph.root
    backward_lines = []
    for node in reversed(graph.order):
        if node not in graph.needs_grad:
            continue
        target = graph.grad_name[node]
        terms = incoming[node]
        if node is root:
            lines = [f"{target} = 1.0"]
        elif node in input_set:
            lines = _sum_lines(target, terms, "0.0")
        else:
            lines = _sum_lines(target, terms, None)
        if node in comments:
            lines[-1] += f"  # = {comments[node]}"
        backward_lines.extend(lines)
        for child, local in zip(node.children, locals_of.get(node, ())):
            if child in graph.needs_grad:
                incoming[child].append(_edge_term(local, target))
    body.extend(backward_lines)
    grads = [graph.grad_name[node] if node in graph.needs_grad else "0.0" for node in graph.wrt]
    output = graph.expr(root)
    body.append(f"return {output}, ({', '.join(grads)}{',' if len(grads) == 1 else ''})")
    return (
        f"def {function_name}({params}):\n" + "\n".join(f"    {line}" if line else "" for line in body) + "\n"
    )


# ---------------------------------------------------------------------------------------------------
# Comments: the gradient of each node as a formula, when it stays short (the textbook deltas).
# ---------------------------------------------------------------------------------------------------


class _Factor(NamedTuple):
    text: str
    negated: str | None = None  # the same factor times -1 when that reads better: (y - a) -> (a - y)


_Term = tuple[float, tuple[_Factor, ...]]
_MAX_TERMS = 3
_MAX_COMMENT = 72
_MAX_INLINE = 20


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _render(terms: list[_Term]) -> str:
    pieces = []
    for coefficient, factors in terms:
        factor_texts = [factor.text for factor in factors]
        if coefficient < 0:
            for position, factor in enumerate(factors):
                if factor.negated is not None:
                    factor_texts[position] = factor.negated
                    coefficient = -coefficient
                    break
        text = " * ".join(factor_texts)
        if not factor_texts:
            text = _number_text(coefficient)
        elif coefficient == -1.0:
            text = f"-{text}"
        elif coefficient != 1.0:
            text = f"{_number_text(coefficient)} * {text}"
        pieces.append(text)
    rendered = pieces[0]
    for piece in pieces[1:]:
        rendered += f" - {piece[1:]}" if piece.startswith("-") else f" + {piece}"
    return rendered


def _formula_comments(graph: _Graph) -> dict[Value, str]:
    """d(root)/d(node) for every node whose formula is short, in terms of the forward variables."""
    shown: dict[Value, _Factor] = {}
    for node in graph.order:
        if node in graph.depends:
            shown[node] = _show(node, graph, shown)

    def operand(child: Value) -> tuple[float, tuple[_Factor, ...]]:
        if child in graph.depends:
            return 1.0, (shown[child],)
        return child.data, ()

    def local_terms(node: Value, position: int) -> list[_Term] | None:
        op = node.op
        out = shown[node]
        a = shown.get(node.children[0])
        if op in ("add", "sum") or (op == "sub" and position == 0):
            return [(1.0, ())]
        if op in ("neg", "sub"):
            return [(-1.0, ())]
        if op == "mul":
            return [operand(node.children[1 - position])]
        if op == "dot":
            terms = graph.dots[node]
            for w, x in zip(terms.weights, terms.inputs):
                for mine, partner in ((w, x), (x, w)):
                    if mine == position:
                        return (
                            [operand(node.children[partner])] if isinstance(partner, int) else [(partner, ())]
                        )
            return [(1.0, ())]
        if a is None:
            return None
        if op == "div":
            divisor = node.children[1]
            if position == 0:
                if divisor not in graph.depends:
                    return [(1.0 / divisor.data, ())]
                return [(1.0, (_Factor(f"(1 / {shown[divisor].text})"),))]
            return None
        if op == "pow":
            c = node.constant
            assert c is not None
            if c - 1.0 == 0.0:
                return [(c, ())]
            power = a if c - 1.0 == 1.0 else _Factor(f"{a.text} ** {_number_text(c - 1.0)}")
            return [(c, (power,))]
        one_minus = _Factor(f"(1 - {out.text})", f"({out.text} - 1)")
        simple = {
            "exp": [(1.0, (out,))],
            "log": [(1.0, (_Factor(f"(1 / {a.text})"),))],
            "sqrt": [(1.0, (_Factor(f"(0.5 / {out.text})"),))],
            "tanh": [(1.0, (one_minus, _Factor(f"(1 + {out.text})")))],
            "sigmoid": [(1.0, (out, one_minus))],
            "relu": [(1.0, (_Factor(f"[{a.text} > 0]"),))],
            "abs": [(1.0, (_Factor(f"sign({a.text})"),))],
            "sin": [(1.0, (_Factor(f"cos({a.text})"),))],
            "cos": [(-1.0, (_Factor(f"sin({a.text})"),))],
            "rpow": [(math.log(node.constant or 1.0), (out,))],
        }
        return simple.get(op)

    formulas: dict[Value, list[_Term] | None] = {node: [] for node in graph.needs_grad}
    comments: dict[Value, str] = {}
    for node in reversed(graph.order):
        if node not in graph.needs_grad:
            continue
        terms = [(1.0, ())] if node is graph.root else formulas[node]
        if terms is not None and node is not graph.root:
            text = _render(terms) if terms else None
            if text is not None and len(text) <= _MAX_COMMENT:
                comments[node] = text
            else:
                terms = None
        for position, child in enumerate(node.children):
            if child not in graph.needs_grad or formulas[child] is None:
                continue
            local = local_terms(node, position) if terms is not None else None
            if local is None:
                formulas[child] = None
                continue
            formulas[child] = _add_terms(formulas[child], _multiply(terms, local))
    return comments


def _multiply(upstream: list[_Term], local: list[_Term]) -> list[_Term]:
    return [(cu * cl, fu + fl) for cu, fu in upstream for cl, fl in local]


def _add_terms(total: list[_Term] | None, more: list[_Term]) -> list[_Term] | None:
    if total is None:
        return None
    merged = list(total)
    for coefficient, factors in more:
        for index, (existing, existing_factors) in enumerate(merged):
            if existing_factors == factors:
                merged[index] = (existing + coefficient, factors)
                break
        else:
            merged.append((coefficient, factors))
    merged = [term for term in merged if term[0] != 0.0]
    return merged if 0 < len(merged) <= _MAX_TERMS else None


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _show(node: Value, graph: _Graph, shown: dict[Value, _Factor]) -> _Factor:
    """How a node appears inside a formula: its name, or its own short expression if unlabelled."""
    name = graph.name[node]
    if not node.children or node.label or node.op not in (*_INFIX, "pow", "neg"):
        return _Factor(name)

    def text(child: Value) -> str:
        return shown[child].text if child in graph.depends else _number_text(child.data)

    if node.op == "neg":
        expression, negated = f"-{text(node.children[0])}", None
    elif node.op == "pow":
        expression, negated = f"{text(node.children[0])} ** {_number_text(node.constant or 0.0)}", None
    else:
        a, b = (text(child) for child in node.children)
        expression = f"({a} {_INFIX[node.op]} {b})"
        negated = f"({b} - {a})" if node.op == "sub" else None
    return _Factor(expression, negated) if len(expression) <= _MAX_INLINE else _Factor(name)


# ---------------------------------------------------------------------------------------------------
# The public API
# ---------------------------------------------------------------------------------------------------


def _scalar_namespace() -> dict[str, Any]:
    return {
        "__builtins__": {},
        "_exp": math.exp,
        "_log": math.log,
        "_sqrt": math.sqrt,
        "_tanh": math.tanh,
        "_sin": math.sin,
        "_cos": math.cos,
        "_abs": abs,
        "_sum": sum,
        "_map": map,
        "_mul": operator.mul,
        "_inf": math.inf,
        "_domain_error": _domain_error,
        "_zero_division": _zero_division,
    }


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError(
            "batched mode needs NumPy: pip install 'gradstep[compile]' (or pip install numpy)"
        ) from None
    return numpy


def _batched_dot(np: Any) -> Callable[[tuple[Any, ...], tuple[Any, ...]], Any]:
    """Σ wᵢ·xᵢ over a batch: one np.dot when one side is all numbers and the other all 1-D arrays."""

    def is_number(item: Any) -> bool:
        return not isinstance(item, np.ndarray) or item.ndim == 0

    def is_column(item: Any) -> bool:
        return isinstance(item, np.ndarray) and item.ndim == 1

    def batched_dot(weights: tuple[Any, ...], inputs: tuple[Any, ...]) -> Any:
        if all(map(is_number, weights)) and all(map(is_column, inputs)):
            return np.dot(np.array(weights, dtype=np.float64), np.array(inputs))
        if all(map(is_number, inputs)) and all(map(is_column, weights)):
            return np.dot(np.array(inputs, dtype=np.float64), np.array(weights))
        return sum(map(operator.mul, weights, inputs))

    return batched_dot


def _batched_namespace(np: Any) -> dict[str, Any]:
    namespace = _scalar_namespace()
    namespace.update(
        _exp=np.exp,
        _log=np.log,
        _sqrt=np.sqrt,
        _tanh=np.tanh,
        _sin=np.sin,
        _cos=np.cos,
        _abs=np.abs,
        _where=np.where,
        _any=np.any,
        _dot=_batched_dot(np),
    )
    return namespace


def _build(source: str, function_name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    # Only source generated above is ever executed: names are sanitised identifiers and every
    # number is a float repr. (`compile` in this module is ours; the built-in is builtins.compile.)
    code = builtins.compile(source, f"<gradstep compiled {function_name}>", "exec")
    exec(code, namespace)
    return namespace[function_name]


def _input_keys(inputs: Sequence[Value]) -> tuple[str, ...]:
    keys: list[str] = []
    used: set[str] = set()
    for index, node in enumerate(inputs):
        wanted = node.label or f"x{index}"
        key, suffix = wanted, 2
        while key in used:
            key = f"{wanted}#{suffix}"
            suffix += 1
        used.add(key)
        keys.append(key)
    return tuple(keys)


class CompiledFunction:
    """A traced function compiled to straight-line Python. Made by `autograd.compile`.

    Calling it with new input values (floats, in input order, or one mapping by input name)
    returns ``CompiledResult(value, grads)``, the output and d(output)/d(input) by input name, bit
    for bit what the eager graph computes. `function` is the generated function itself (floats in,
    ``(output, tuple of grads)`` out, no checks): the fastest way to call it in a loop.
    `source` is its readable code; `batched` evaluates a vectorised variant over many examples.

    `input_names` are the arguments in order; `grad_names` the inputs whose gradients are
    returned (all of them unless `compile` was given `wrt`), in the same order as the arguments.
    """

    def __init__(self, graph: _Graph, function_name: str, input_keys: tuple[str, ...]) -> None:
        self._graph = graph
        self.name = function_name
        self.input_names = input_keys
        wrt = set(graph.wrt)
        self._grad_positions = [index for index, node in enumerate(graph.inputs) if node in wrt]
        self.grad_names = tuple(input_keys[index] for index in self._grad_positions)
        self.operation_count = sum(1 for node in graph.order if node in graph.depends and node.children)
        self._comments = _formula_comments(graph)
        self.source: str = _generate(graph, function_name, _SCALAR, self._comments)
        self.function: Callable[..., tuple[float, tuple[float, ...]]] = _build(
            self.source, function_name, _scalar_namespace()
        )
        self._batched_source: str | None = None
        self._batched_function: Callable[..., Any] | None = None

    def __repr__(self) -> str:
        return (
            f"<CompiledFunction {self.name}: {self.operation_count} operations, "
            f"inputs {list(self.input_names)[:6]}{'...' if len(self.input_names) > 6 else ''}>"
        )

    @property
    def batched_source(self) -> str:
        """The NumPy variant's code: the same lines, with branches written as ``numpy.where``."""
        if self._batched_source is None:
            self._batched_source = _generate(self._graph, self.name, _BATCHED, self._comments)
        return self._batched_source

    def _floats(self, args: tuple[Any, ...]) -> list[float]:
        if len(args) == 1 and isinstance(args[0], Mapping):
            by_name = args[0]
            missing = [name for name in self.input_names if name not in by_name]
            extra = [name for name in by_name if name not in self.input_names]
            if missing or extra:
                raise ValueError(
                    f"{self.name}: the mapping must hold exactly the inputs {list(self.input_names)}; "
                    f"missing {missing}, unexpected {extra}"
                )
            args = tuple(by_name[name] for name in self.input_names)
        if len(args) != len(self.input_names):
            raise TypeError(f"{self.name}: expected {len(self.input_names)} input values, got {len(args)}")
        values = []
        for name, value in zip(self.input_names, args):
            if type(value) is not float:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(f"{self.name}: input {name!r} must be a number, got {value!r}")
                value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{self.name}: input {name!r} must be finite, got {value!r}")
            values.append(value)
        return values

    def __call__(self, *args: Any) -> CompiledResult:
        """Evaluate at new inputs: ``f(0.6, 0.9, 1.0, 0.0)`` or ``f({"w": 0.6, ...})``."""
        output, grads = self.function(*self._floats(args))
        if not math.isfinite(output):
            raise OverflowError(
                f"{self.name}: the output is {output!r}; an operation overflowed (the eager graph "
                "raises at the operation; run it eagerly to see which)"
            )
        return CompiledResult(output, dict(zip(self.grad_names, grads)))

    def batched(self, *args: Any, reduction: str = "sum") -> BatchResult:
        """Evaluate over a batch: each input is a number (shared by every example, e.g. a weight)
        or a 1-D sequence/array with one entry per example (e.g. a data feature).

        Gradients are reduced as `reduction` says: "sum" (of the per-example outputs), "mean", or
        "none" (one entry per example). Results match the eager per-example loop to ~1e-15
        relative (NumPy's exp, log, ... may differ from math's in the last bit).
        """
        np = _numpy()
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{self.name}.batched: reduction must be one of {list(REDUCTIONS)}, got {reduction!r}"
            )
        if len(args) == 1 and isinstance(args[0], Mapping):
            missing = [name for name in self.input_names if name not in args[0]]
            if missing:
                raise ValueError(f"{self.name}.batched: missing inputs {missing}")
            args = tuple(args[0][name] for name in self.input_names)
        if len(args) != len(self.input_names):
            raise TypeError(f"{self.name}.batched: expected {len(self.input_names)} inputs, got {len(args)}")
        values: list[Any] = []
        size: int | None = None
        for name, value in zip(self.input_names, args):
            if isinstance(value, (bool, str, bytes)):
                raise TypeError(
                    f"{self.name}.batched: input {name!r} must be a number or an array, got {value!r}"
                )
            if isinstance(value, (int, float)):
                values.append(float(value))
                continue
            array = np.asarray(value, dtype=np.float64)
            if array.ndim != 1:
                raise ValueError(
                    f"{self.name}.batched: input {name!r} must be a number or 1-D, got shape {array.shape}"
                )
            if size is not None and len(array) != size:
                raise ValueError(
                    f"{self.name}.batched: input {name!r} has {len(array)} entries, others have {size}"
                )
            size = len(array)
            values.append(array)
        if size is None:
            raise ValueError(
                f"{self.name}.batched: give at least one input as an array (one entry per example)"
            )
        if not all(np.isfinite(v).all() if isinstance(v, np.ndarray) else math.isfinite(v) for v in values):
            raise ValueError(f"{self.name}.batched: every input must be finite")
        if self._batched_function is None:
            self._batched_function = _build(self.batched_source, self.name, _batched_namespace(np))
        # Both sides of every numpy.where are evaluated, so the branch not taken may overflow
        # harmlessly; a real overflow shows up as a non-finite output, checked below.
        with np.errstate(all="ignore"):
            output, grads = self._batched_function(*values)
        outputs = np.broadcast_to(np.asarray(output, dtype=np.float64), (size,)).copy()
        bad = np.flatnonzero(~np.isfinite(outputs))
        if len(bad):
            raise ValueError(
                f"{self.name}.batched: example {int(bad[0])} gives {outputs[bad[0]]!r}: an operation "
                "overflowed or left its domain there; run that example eagerly to see which"
            )
        # One (inputs × examples) array: a gradient that no example's data touched is the same
        # number for every example and is broadcast along its row.
        per_example = np.empty((len(grads), size))
        per_example[:] = np.array([g if np.ndim(g) == 0 else np.nan for g in grads])[:, None]
        columns = [row for row, g in enumerate(grads) if np.ndim(g) == 1]
        if columns:
            per_example[columns] = np.array([grads[row] for row in columns])
        if reduction == "none":
            return BatchResult(outputs, dict(zip(self.grad_names, per_example)), outputs)
        scale = 1.0 if reduction == "sum" else 1.0 / size
        totals = per_example.sum(axis=1) * scale
        reduced: dict[str, Any] = {}
        for row, (name, index) in enumerate(zip(self.grad_names, self._grad_positions)):
            # A shared input's gradient adds up over the examples; a per-example input's stays its own.
            shared = not isinstance(values[index], np.ndarray)
            reduced[name] = float(totals[row]) if shared else per_example[row] * scale
        value = float(outputs.sum()) * scale
        return BatchResult(value, reduced, outputs)


def _eager_results(root: Value, inputs: Sequence[Value]) -> tuple[float, list[float]]:
    """The output and input grads by the engine's own backward(), leaving every grad as it was."""
    order = topological_order(root)
    saved = [node.grad for node in order]
    saved_inputs = [node.grad for node in inputs]
    try:
        for node in inputs:
            node.grad = 0.0
        for node in order:
            if not node.children:
                node.grad = 0.0
        root.backward()
        return root.data, [node.grad for node in inputs]
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad
        for node, grad in zip(inputs, saved_inputs):
            node.grad = grad


def _check_against_eager(compiled: CompiledFunction, root: Value, graph: _Graph, caller: str) -> None:
    output, grads = compiled.function(*[node.data for node in graph.inputs])
    eager_output, eager_grads = _eager_results(root, graph.wrt)
    mismatches = [
        f"{name}: compiled {got!r}, eager {want!r}"
        for name, got, want in zip(
            ("output", *compiled.grad_names), (output, *grads), (eager_output, *eager_grads)
        )
        if not _same_float(got, want) and not (math.isnan(got) and math.isnan(want))
    ]
    if mismatches:
        raise TracingError(
            f"{caller}: the compiled code does not reproduce the eager graph at the traced inputs "
            f"({'; '.join(mismatches[:3])}). Please report this as a gradstep bug."
        )


def _function_name(fn: Callable[..., Any]) -> str:
    name = _identifier(getattr(fn, "__name__", "") or "", "compiled")
    return "compiled" if name == "lambda" else name


def compile(
    fn: Callable[..., Value],
    inputs: Sequence[Value],
    *,
    wrt: Sequence[Value] | None = None,
    check_inputs: Sequence[float] | None = None,
    freeze_leaves: bool = False,
) -> CompiledFunction:
    """Trace ``fn(*inputs)`` once and compile its graph to straight-line Python.

    Args:
        fn: builds a Value from the leaf Values it is given (it may also ignore its arguments
            and use the same Values from elsewhere, e.g. a model's parameters).
        inputs: the leaf Values the compiled function takes as arguments, in order. Their labels
            name the arguments, the source variables and the keys of the returned gradients
            (``"layers.0.neurons.2.b"`` becomes the variable ``layers_0_neurons_2_b``; an unlabelled
            input is ``x0``, ``x1``, ...). Their current data are the values traced with.
        wrt: the inputs to differentiate with respect to (default: all of them). Leaving out
            data inputs (a training example's features) skips the backward work for them.
        check_inputs: optional second set of input values: `fn` is traced again there and must give
            the same program, and the compiled code must match the eager graph there too.
        freeze_leaves: leaf Values that the output depends on but that are not `inputs` normally
            raise `TracingError`; with True their current data are baked in as constants.

    Returns:
        A `CompiledFunction`: call it with new floats to get the output and every input's gradient.

    Raises:
        TracingError: `fn` compared a value that depends on the inputs (data-dependent
            control flow), its program changed at `check_inputs`, or the graph holds something that
            cannot be reproduced exactly (a leaf outside `inputs`, numbers folded into vsum/dot
            where they cannot be recovered).

    Numbers are the same as the eager engine's for every input that takes the same path through
    `fn`'s Python code; see the module docstring for what that excludes.
    """
    caller = "compile"
    if not callable(fn):
        raise TypeError(f"{caller}: fn must be callable, got {fn!r}")
    if isinstance(inputs, Value) or not isinstance(inputs, Sequence):
        raise TypeError(f"{caller}: inputs must be a list of leaf Values, got {type(inputs).__name__}")
    inputs = list(inputs)
    for index, node in enumerate(inputs):
        if not isinstance(node, Value):
            raise TypeError(f"{caller}: input {index} must be a Value, got {node!r}")
        if node.children:
            raise ValueError(f"{caller}: input {index} ({_describe_node(node)}) is not a leaf Value")
    if len(set(inputs)) != len(inputs):
        raise ValueError(f"{caller}: the same Value appears twice among the inputs")
    for node in inputs:
        # A fresh float object with the same bits for every input, so that `dot`'s layout can be
        # recognised by identity (two leaves made from one literal would otherwise share an object).
        node.data = node.data * 1.0

    wrt_set = set(inputs) if wrt is None else _checked_wrt(wrt, inputs, caller)
    if check_inputs is not None and len(check_inputs) != len(inputs):
        raise ValueError(f"{caller}: check_inputs has {len(check_inputs)} values for {len(inputs)} inputs")
    keys = _input_keys(inputs)

    def trace() -> tuple[Value, _Graph]:
        root = _trace(fn, inputs, caller)
        return root, _Graph(root, inputs, keys, wrt_set, freeze_leaves, caller)

    root, graph = trace()
    compiled = CompiledFunction(graph, _function_name(fn), keys)
    _check_against_eager(compiled, root, graph, caller)
    if check_inputs is not None:
        _retrace(trace, inputs, check_inputs, compiled, caller)
    return compiled


def _checked_wrt(wrt: Sequence[Value], inputs: list[Value], caller: str) -> set[Value]:
    if isinstance(wrt, Value) or not isinstance(wrt, Sequence):
        raise TypeError(f"{caller}: wrt must be a list of some of the inputs, got {type(wrt).__name__}")
    input_set = set(inputs)
    for index, node in enumerate(wrt):
        if node not in input_set:
            shown = _describe_node(node) if isinstance(node, Value) else repr(node)
            raise ValueError(f"{caller}: wrt[{index}] ({shown}) is not one of the inputs")
    return set(wrt)


def _retrace(
    trace: Callable[[], tuple[Value, _Graph]],
    inputs: list[Value],
    check_inputs: Sequence[float],
    compiled: CompiledFunction,
    caller: str,
) -> None:
    saved = [node.data for node in inputs]
    try:
        for node, value in zip(inputs, compiled._floats(tuple(check_inputs))):
            node.data = value * 1.0
        root, graph = trace()
        if graph.fingerprint() != compiled._graph.fingerprint():
            first = _generate(compiled._graph, compiled.name, _SCALAR, {}).splitlines()
            second = _generate(graph, compiled.name, _SCALAR, {}).splitlines()
            where = next(
                (f"{a.strip()!r} became {b.strip()!r}" for a, b in zip(first, second) if a != b),
                f"{len(first)} lines became {len(second)}",
            )
            raise TracingError(
                f"{caller}: tracing at check_inputs gave a different program ({where}): the function's "
                "Python code depends on the data (an if, a max, a loop, or a .data read), so it "
                "cannot be compiled."
            )
        _check_against_eager(compiled, root, graph, caller)
    finally:
        for node, value in zip(inputs, saved):
            node.data = value
