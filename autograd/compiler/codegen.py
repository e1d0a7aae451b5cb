"""Code generation: straight-line Python written from the op registry's templates.

Every fixed-arity op declares its forward value, local derivatives and domain guards as Python
expressions (`autograd.engine.OpCode`). Writing a node's code is then generic: parse the template
once, put the operands' variables (or literal numbers) where ``a``, ``b``, ``c`` and ``out`` stand,
fold what involves numbers alone, and print it. The scalar dialect keeps the template's
conditional expressions, so branches are re-decided on every call; the NumPy dialect rewrites them
as ``numpy.where`` and ``and``/``or`` as ``&``/``|``. The n-ary ops (`vsum`, `dot`) are written from
their records: their terms added left to right, exactly as the eager op adds them.

The backward pass is one line per node: the node's grad is the sum of its incoming edges
(local derivative × the parent's grad) in exactly the order `Value.backward()` adds them.
"""

from __future__ import annotations

import ast
import builtins
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..engine import OPS, Value, power_slope
from .graph import DotTerms, Graph, SumTerms, Term
from .trace import TracingError

__all__ = [
    "BATCHED",
    "BATCHED_CAREFUL",
    "CAREFUL",
    "SCALAR",
    "Dialect",
    "build",
    "generate",
    "literal",
    "literal_node",
    "literal_value",
    "scalar_namespace",
    "substitute",
]


@dataclass(frozen=True)
class Dialect:
    """Which numbers the generated code runs on: floats, or NumPy arrays (one entry per example)."""

    batched: bool
    # The chain rule's one special case (see `Value.backward`): a zero local derivative passes on
    # exactly 0 even from an infinite upstream grad. The plain code multiplies (0 × inf is NaN);
    # the careful variant writes each edge as ``up * local if local or up - up == 0.0 else 0.0``
    # and is run only when the plain code's gradients are not all finite, so both give eager's bits.
    careful: bool = False


SCALAR = Dialect(batched=False)
BATCHED = Dialect(batched=True)
CAREFUL = Dialect(batched=False, careful=True)
BATCHED_CAREFUL = Dialect(batched=True, careful=True)

# `dot` adds its products left to right from 0.0 on every Python (`engine.sum_in_order`), so the
# code writes them out as ``0.0 + w0 * x0 + w1 * x1 ...``: the same bits, faster to run, easier to read.

_TERMS_PER_LINE = 8

# The names a template may call or use besides its operands: math's functions, abs and inf.
_TEMPLATE_FUNCTIONS: dict[str, Any] = {
    name: getattr(math, name) for name in dir(math) if not name.startswith("_")
} | {"abs": abs, "power_slope": power_slope}
_OPERAND_NAMES = ("a", "b")


def literal(number: float) -> str:
    """A float as code: its repr (which round-trips exactly), in parentheses when negative."""
    text = repr(float(number))
    return f"({text})" if text.startswith("-") else text


def literal_node(number: float | int | bool) -> ast.expr:
    """A number as an expression node (a negative one as unary minus, so it prints in parentheses)."""
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return ast.Constant(number)
    if number < 0 or (number == 0 and math.copysign(1.0, number) < 0):
        return ast.UnaryOp(ast.USub(), ast.Constant(-number))
    return ast.Constant(number)


def literal_value(node: ast.expr) -> tuple[bool, Any]:
    """(True, number) if `node` is a literal number or bool, else (False, None)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool)):
        return True, node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        return True, -node.operand.value
    return False, None


@functools.cache
def _parsed(template: str, op: str) -> ast.expr:
    """The template's tree, checked to use only the template language's names (never changed)."""
    try:
        tree = ast.parse(template, mode="eval").body
    except SyntaxError as error:
        message = f"op {op!r}: its code template {template!r} is not a Python expression ({error})"
        raise TracingError(message) from None
    allowed = {*_OPERAND_NAMES, "c", "out", "inf", *_TEMPLATE_FUNCTIONS}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise TracingError(f"op {op!r}: its code template {template!r} uses the unknown name {node.id!r}")
    return tree


class _Substitute(ast.NodeTransformer):
    """Operands and constants in, numbers folded (with Python's own float arithmetic, so exactly)."""

    def __init__(self, names: dict[str, ast.expr]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.names:
            return self.names[node.id]
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        test = self.visit(node.test)
        known, value = literal_value(test)
        if known:
            return self.visit(node.body if value else node.orelse)
        return ast.IfExp(test, self.visit(node.body), self.visit(node.orelse))

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        # Only conditions use and/or, so a literal operand decides or drops out.
        is_and = isinstance(node.op, ast.And)
        kept = []
        for operand in node.values:
            operand = self.visit(operand)
            known, value = literal_value(operand)
            if not known:
                kept.append(operand)
            elif bool(value) != is_and:
                return ast.Constant(not is_and)
        if not kept:
            return ast.Constant(is_and)
        return kept[0] if len(kept) == 1 else ast.BoolOp(node.op, kept)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        # A new node rather than the base class's edit in place: the parsed templates are cached.
        fields: dict[str, Any] = {}
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                value = self.visit(value)
            elif isinstance(value, list):
                value = [self.visit(item) if isinstance(item, ast.AST) else item for item in value]
            fields[name] = value
        rebuilt = type(node)(**fields)
        if isinstance(rebuilt, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call)):
            return _fold(rebuilt)
        return rebuilt


def _fold(node: ast.expr) -> ast.expr:
    parts: list[ast.expr]
    if isinstance(node, ast.BinOp):
        parts = [node.left, node.right]
    elif isinstance(node, ast.UnaryOp):
        parts = [node.operand]
    elif isinstance(node, ast.Compare):
        parts = [node.left, *node.comparators]
    else:
        assert isinstance(node, ast.Call)
        if not (isinstance(node.func, ast.Name) and node.func.id in _TEMPLATE_FUNCTIONS) or node.keywords:
            return node
        parts = list(node.args)
    if not all(literal_value(part)[0] for part in parts):
        return node
    try:
        code = builtins.compile(ast.fix_missing_locations(ast.Expression(node)), "<fold>", "eval")
        value = eval(code, {"__builtins__": {}}, dict(_TEMPLATE_FUNCTIONS))
    except (ArithmeticError, ValueError):
        return node  # left for run time, where it raises as the eager op would
    if isinstance(value, float) and math.isnan(value):
        return node
    return literal_node(value)


class _NumpyDialect(ast.NodeTransformer):
    """Branches as numpy.where (both sides are evaluated), conditions combined elementwise."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        return ast.Call(ast.Name("_where"), [node.test, node.body, node.orelse], [])

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        combine: ast.operator = ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr()
        result = node.values[0]
        for operand in node.values[1:]:
            result = ast.BinOp(result, combine, operand)
        return result


class _Rename(ast.NodeTransformer):
    """Template functions and inf to the generated code's private names (_exp, _inf, ...)."""

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == "inf" or node.id in _TEMPLATE_FUNCTIONS:
            return ast.Name(f"_{node.id}")
        return node


def substitute(tree: ast.expr, names: dict[str, ast.expr]) -> ast.expr:
    """A new tree: `tree` with `names` put in (operands, constants), every part made of numbers
    alone folded. `tree` itself is left as it is."""
    return _Substitute(names).visit(tree)


def _expression(template: str, op: str, names: dict[str, ast.expr], dialect: Dialect) -> ast.expr:
    tree = substitute(_parsed(template, op), names)
    if dialect.batched:
        tree = _NumpyDialect().visit(tree)
    return _Rename().visit(tree)


def _code(tree: ast.expr) -> str:
    # The shapes that make up most lines (names, numbers, x * y, -x) are printed directly:
    # ast.unparse costs about 20 µs a call, and a large graph has hundreds of thousands of them.
    if isinstance(tree, ast.Name):
        return tree.id
    known, value = literal_value(tree)
    if known and isinstance(value, float):
        return literal(value)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        left, right = _simple_code(tree.left), _simple_code(tree.right)
        if left is not None and right is not None:
            return f"{left} * {right}"
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub) and isinstance(tree.operand, ast.Name):
        return f"-{tree.operand.id}"
    return ast.unparse(tree)


def _simple_code(tree: ast.expr) -> str | None:
    if isinstance(tree, ast.Name):
        return tree.id
    known, value = literal_value(tree)
    return literal(value) if known and isinstance(value, float) else None


# ---------------------------------------------------------------------------------------------------
# One node's code
# ---------------------------------------------------------------------------------------------------


class _Local(NamedTuple):
    """A local derivative as code: its text, whether it needs parentheses as a factor, its value
    when it is a number (1.0 and -1.0 make an edge just the upstream grad or its negation)."""

    text: str
    needs_parentheses: bool
    number: float | None


_ONE = _Local("1.0", False, 1.0)


def _local(tree: ast.expr) -> _Local:
    known, value = literal_value(tree)
    if known:
        return _Local(literal(value), False, float(value))
    return _Local(_code(tree), not isinstance(tree, (ast.Name, ast.Call)), None)


@dataclass
class _NodeCode:
    lines: list[str]  # guards, then the assignment(s) of the node's variable
    locals: list[_Local]  # the local derivative per child


# Placeholders for the operands' variables while a template is turned into text once per shape;
# generated identifiers never start with an underscore, so these cannot clash with them.
_MARKERS = {"a": "__a__", "b": "__b__", "out": "__out__"}


@functools.cache
def _template_texts(
    op: str, constant: str | None, operands: tuple[str | None, ...], batched: bool
) -> tuple[tuple[str, ...], str, tuple[_Local, ...]]:
    """An op's guard lines, forward and locals as text with placeholders, for one shape of node:
    which operands are numbers (their repr) and which are variables (None), and its constant.

    Parsing, folding and printing are done once per shape, not once per node (a large graph has
    thousands of nodes of a few shapes)."""
    code = OPS[op].code
    assert code is not None
    dialect = BATCHED if batched else SCALAR
    names: dict[str, ast.expr] = {}
    for name, number in zip(_OPERAND_NAMES, operands):
        names[name] = ast.Name(_MARKERS[name]) if number is None else literal_node(float(number))
    if constant is not None:
        names["c"] = literal_node(float(constant))
    guards = []
    for guard in code.guards:
        condition = _expression(guard.condition, op, names, dialect)
        known, value = literal_value(condition)
        if known and not value:
            continue  # the constants already rule the error out
        test = f"_any({_code(condition)})" if batched else _code(condition)
        message = guard.message.format(c=constant)
        operand = _code(names[_OPERAND_NAMES[guard.operand]])
        failure = f"_fail({guard.error.__name__!r}, {f'compiled {op}: {message}'!r}, {operand})"
        guards.append(f"if {test}: {failure}")
    forward = _code(_expression(code.forward, op, names, dialect))
    names["out"] = ast.Name(_MARKERS["out"])
    locals_ = tuple(_local(_expression(template, op, names, dialect)) for template in code.locals)
    return tuple(guards), forward, locals_


def _template_code(node: Value, graph: Graph, dialect: Dialect) -> _NodeCode:
    shape = tuple(None if child in graph.depends else repr(child.data) for child in node.children)
    constant = repr(node.params) if isinstance(node.params, float) else None
    guards, forward, locals_ = _template_texts(node.op, constant, shape, dialect.batched)
    out = graph.name[node]
    variables = {_MARKERS["out"]: out}
    for name, child in zip(_OPERAND_NAMES, node.children):
        if child in graph.depends:
            variables[_MARKERS[name]] = graph.name[child]

    def fill(text: str) -> str:
        for marker, variable in variables.items():
            text = text.replace(marker, variable)
        return text

    lines = [fill(line) for line in guards]
    lines.append(f"{out} = {fill(forward)}")
    return _NodeCode(lines, [local._replace(text=fill(local.text)) for local in locals_])


def _term(graph: Graph, node: Value, term: Term) -> str:
    """A child's variable (or its number, for a constant child), or a number from the record."""
    if isinstance(term, int):
        child = node.children[term]
        return graph.name[child] if child in graph.depends else literal(child.data)
    return literal(term)


def _tuple(items: Sequence[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _structure_code(node: Value, graph: Graph, dialect: Dialect) -> _NodeCode:
    structure = graph.structure[node]
    out = graph.name[node]
    if isinstance(structure, SumTerms):
        terms = [_term(graph, node, term) for term in structure.terms]
        return _NodeCode(_sum_lines(out, terms, "0.0"), [_ONE] * len(node.children))
    assert isinstance(structure, DotTerms)
    weights = [_term(graph, node, w) for w in structure.weights]
    inputs = [_term(graph, node, x) for x in structure.inputs]
    bias = "" if structure.bias is None else f" + {_term(graph, node, structure.bias)}"
    if dialect.batched:  # one matrix-vector product instead of a NumPy call per term (not bit-exact; 1e-15)
        lines = [f"{out} = _dot({_tuple(weights)}, {_tuple(inputs)}){bias}"]
    else:
        products = [
            literal(w * x) if isinstance(w, float) and isinstance(x, float) else f"{w_code} * {x_code}"
            for w, x, w_code, x_code in zip(structure.weights, structure.inputs, weights, inputs)
        ]
        if bias:
            products.append(bias[3:])
        lines = _sum_lines(out, products, "0.0")
    locals_ = [_ONE] * len(node.children)  # the bias's, if any
    for w, x, w_code, x_code in zip(structure.weights, structure.inputs, weights, inputs):
        # A partner that is a number from the record: its literal; else its variable.
        if isinstance(w, int):
            locals_[w] = _Local(x_code, False, x if isinstance(x, float) else None)
        if isinstance(x, int):
            locals_[x] = _Local(w_code, False, w if isinstance(w, float) else None)
    return _NodeCode(lines, locals_)


def _sum_lines(target: str, terms: Sequence[str], start: str | None) -> list[str]:
    """`target = start + t1 + t2 ...`, left to right, wrapped every few terms (same evaluation order).

    Terms are variables, parenthesised numbers, products and negated variables (``-d_t``), which
    are written ``x - d_t`` rather than ``x + -d_t``: the same float operation.
    """
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


def _edge(local: _Local, upstream: str, careful: bool = False, batched: bool = False) -> str:
    """One edge: local derivative × upstream grad (x*1.0 and x*-1.0 are exact as x, -x)."""
    if local.number == 1.0:
        return upstream
    if local.number == -1.0:
        return f"-{upstream}"
    factor = f"({local.text})" if local.needs_parentheses else local.text
    product = f"{upstream} * {factor}"
    if not careful or (local.number is not None and local.number != 0.0):
        return product
    # Only a zero local derivative meeting an inf/NaN upstream grad gives 0 (see Dialect.careful).
    if batched:  # per example: numpy.where evaluates both sides, and picks 0.0 where the rule says
        finite = f"{upstream} - {upstream} == 0.0"
        return f"_where(({local.text}) != 0.0, {product}, _where({finite}, {product}, 0.0))"
    return f"({product} if ({local.text}) or {upstream} - {upstream} == 0.0 else 0.0)"


# ---------------------------------------------------------------------------------------------------
# The whole function
# ---------------------------------------------------------------------------------------------------


def generate(graph: Graph, function_name: str, dialect: Dialect, comments: dict[Value, str]) -> str:
    """The source of ``def function_name(inputs...): return output, (grads...)``."""
    inputs = graph.inputs
    params = ", ".join(graph.name[node] for node in inputs)
    body: list[str] = []
    kind = "NumPy arrays (one entry per example)" if dialect.batched else "floats"
    body.append('"""Generated by gradstep from a traced graph')
    body.append(f"of {graph.operation_count} operations on {len(inputs)} inputs, evaluated on {kind}.")
    body.append("")
    which = "each input" if len(graph.wrt) == len(inputs) else f"each of the {len(graph.wrt)} inputs in wrt"
    body.append(f"Returns (output, (d output / d input for {which}, in order)).")
    body.append('"""')
    body.append("# forward pass: one line per operation, children before parents")
    locals_of: dict[Value, list[_Local]] = {}
    for node in graph.order:
        if node not in graph.depends or not node.children:
            continue
        if node in graph.structure:
            written = _structure_code(node, graph, dialect)
        else:
            written = _template_code(node, graph, dialect)
        body.extend(written.lines)
        locals_of[node] = written.locals

    body.append("# backward pass: each node's grad sums local derivative * parent's grad over its")
    body.append("# edges, in the order backward() adds them (inputs start from 0.0 like a zeroed .grad)")
    input_set = set(inputs)
    incoming: dict[Value, list[str]] = {node: [] for node in graph.needs_grad}
    for node in reversed(graph.order):
        if node not in graph.needs_grad:
            continue
        target = graph.grad_name[node]
        terms = incoming[node]
        if node is graph.root:
            lines = [f"{target} = 1.0"]
        else:
            lines = _sum_lines(target, terms, "0.0" if node in input_set else None)
        if node in comments:
            lines[-1] += f"  # = {comments[node]}"
        body.extend(lines)
        for child, local in zip(node.children, locals_of.get(node, ())):
            if child in graph.needs_grad:
                incoming[child].append(_edge(local, target, dialect.careful, dialect.batched))
    grads = [graph.grad_name[node] if node in graph.needs_grad else "0.0" for node in graph.wrt]
    root = graph.root
    output = graph.name[root] if root in graph.depends else literal(root.data)
    body.append(f"return {output}, ({', '.join(grads)}{',' if len(grads) == 1 else ''})")
    return (
        f"def {function_name}({params}):\n" + "\n".join(f"    {line}" if line else "" for line in body) + "\n"
    )


# ---------------------------------------------------------------------------------------------------
# Running the source
# ---------------------------------------------------------------------------------------------------


def _fail(error: str, message: str, value: object) -> None:
    raise _guard_errors()[error](f"{message}, got {value!r}")


def _guard_errors() -> dict[str, type[Exception]]:
    return {
        guard.error.__name__: guard.error
        for spec in OPS.values()
        if spec.code is not None
        for guard in spec.code.guards
    }


def scalar_namespace() -> dict[str, Any]:
    """What the float code may call: math's functions as _exp, _log, ..., inf and the guard failure."""
    namespace: dict[str, Any] = {f"_{name}": function for name, function in _TEMPLATE_FUNCTIONS.items()}
    namespace.update(__builtins__={}, _inf=math.inf, _fail=_fail)
    return namespace


def build(source: str, function_name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Execute generated source in `namespace` and return the function it defines."""
    # Only source generated above is ever executed: names are sanitised identifiers and every
    # number is a float repr. (`compile` in this package is ours; the built-in is builtins.compile.)
    code = builtins.compile(source, f"<gradstep compiled {function_name}>", "exec")
    exec(code, namespace)
    return namespace[function_name]
