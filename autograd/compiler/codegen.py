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
import operator
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import OPS, Value
from .graph import DotTerms, Graph, SumTerms, Term
from .trace import TracingError

__all__ = ["BATCHED", "SCALAR", "Dialect", "build", "generate", "literal", "scalar_namespace"]


@dataclass(frozen=True)
class Dialect:
    """Which numbers the generated code runs on: floats, or NumPy arrays (one entry per example)."""

    batched: bool


SCALAR = Dialect(batched=False)
BATCHED = Dialect(batched=True)

# Up to Python 3.11, sum() adds floats one after the other from 0, like 0.0 + a + b + ..., so the
# sum(map(mul, weights, inputs)) of `dot` can be written out as products added left to right, which
# the interpreter runs faster and people read more easily. From 3.12 sum() compensates its rounding
# errors, and the compiled code calls sum() just as the engine does.
SUM_IS_SEQUENTIAL = sys.version_info < (3, 12)

_TERMS_PER_LINE = 8

# The names a template may call or use besides its operands: math's functions, abs and inf.
_TEMPLATE_FUNCTIONS: dict[str, Any] = {
    name: getattr(math, name) for name in dir(math) if not name.startswith("_")
} | {"abs": abs}
_OPERAND_NAMES = ("a", "b")


def literal(number: float) -> str:
    """A float as code: its repr (which round-trips exactly), in parentheses when negative."""
    text = repr(float(number))
    return f"({text})" if text.startswith("-") else text


def _literal_node(number: float | int | bool) -> ast.expr:
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return ast.Constant(number)
    if number < 0 or (number == 0 and math.copysign(1.0, number) < 0):
        return ast.UnaryOp(ast.USub(), ast.Constant(-number))
    return ast.Constant(number)


def _literal_value(node: ast.expr) -> tuple[bool, Any]:
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
        known, value = _literal_value(test)
        if known:
            return self.visit(node.body if value else node.orelse)
        return ast.IfExp(test, self.visit(node.body), self.visit(node.orelse))

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        # Only conditions use and/or, so a literal operand decides or drops out.
        is_and = isinstance(node.op, ast.And)
        kept = []
        for operand in node.values:
            operand = self.visit(operand)
            known, value = _literal_value(operand)
            if not known:
                kept.append(operand)
            elif bool(value) != is_and:
                return ast.Constant(not is_and)
        if not kept:
            return ast.Constant(is_and)
        return kept[0] if len(kept) == 1 else ast.BoolOp(node.op, kept)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call)):
            return _fold(node)
        return node


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
    if not all(_literal_value(part)[0] for part in parts):
        return node
    try:
        code = builtins.compile(ast.fix_missing_locations(ast.Expression(node)), "<fold>", "eval")
        value = eval(code, {"__builtins__": {}}, dict(_TEMPLATE_FUNCTIONS))
    except (ArithmeticError, ValueError):
        return node  # left for run time, where it raises as the eager op would
    if isinstance(value, float) and math.isnan(value):
        return node
    return _literal_node(value)


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


def _expression(template: str, op: str, names: dict[str, ast.expr], dialect: Dialect) -> ast.expr:
    tree = _Substitute(names).visit(_copy(_parsed(template, op)))
    if dialect.batched:
        tree = _NumpyDialect().visit(tree)
    return _Rename().visit(tree)


def _copy(tree: ast.expr) -> ast.expr:
    return ast.parse(ast.unparse(tree), mode="eval").body


def _code(tree: ast.expr) -> str:
    return ast.unparse(ast.fix_missing_locations(tree))


# ---------------------------------------------------------------------------------------------------
# One node's code
# ---------------------------------------------------------------------------------------------------


@dataclass
class _NodeCode:
    lines: list[str]  # guards, then the assignment(s) of the node's variable
    locals: list[ast.expr]  # the local derivative per child, as code


def _operand(graph: Graph, child: Value) -> ast.expr:
    if child in graph.depends:
        return ast.Name(graph.name[child])
    return _literal_node(child.data)


def _template_code(node: Value, graph: Graph, dialect: Dialect) -> _NodeCode:
    spec = OPS[node.op]
    code = spec.code
    assert code is not None
    out = graph.name[node]
    names = {name: _operand(graph, child) for name, child in zip(_OPERAND_NAMES, node.children)}
    if isinstance(node.params, float):
        names["c"] = _literal_node(node.params)
    lines = []
    for guard in code.guards:
        condition = _expression(guard.condition, node.op, names, dialect)
        known, value = _literal_value(condition)
        if known and not value:
            continue  # the constants already rule the error out
        test = f"_any({_code(condition)})" if dialect.batched else _code(condition)
        message = guard.message.format(c=repr(node.params))
        operand = _code(names[_OPERAND_NAMES[guard.operand]])
        lines.append(
            f"if {test}: _fail({guard.error.__name__!r}, {f'compiled {node.op}: {message}'!r}, {operand})"
        )
    lines.append(f"{out} = {_code(_expression(code.forward, node.op, names, dialect))}")
    names["out"] = ast.Name(out)
    locals_ = [_expression(template, node.op, names, dialect) for template in code.locals]
    return _NodeCode(lines, locals_)


def _term(graph: Graph, node: Value, term: Term) -> ast.expr:
    if isinstance(term, int):
        return _operand(graph, node.children[term])
    return _literal_node(term)


def _tuple(items: Sequence[ast.expr]) -> str:
    return _code(ast.Tuple(list(items), ast.Load()))


def _structure_code(node: Value, graph: Graph, dialect: Dialect) -> _NodeCode:
    structure = graph.structure[node]
    out = graph.name[node]
    if isinstance(structure, SumTerms):
        terms = [_term(graph, node, term) for term in structure.terms]
        return _NodeCode(_sum_lines(out, terms, "0.0"), [ast.Constant(1.0)] * len(node.children))
    assert isinstance(structure, DotTerms)
    weights = [_term(graph, node, w) for w in structure.weights]
    inputs = [_term(graph, node, x) for x in structure.inputs]
    bias = None if structure.bias is None else _term(graph, node, structure.bias)
    if dialect.batched:  # one matrix-vector product instead of a NumPy call per term (not bit-exact; 1e-15)
        lines = [f"{out} = _dot({_tuple(weights)}, {_tuple(inputs)})" + (f" + {_code(bias)}" if bias else "")]
    elif SUM_IS_SEQUENTIAL:
        products = [_fold(ast.BinOp(w, ast.Mult(), x)) for w, x in zip(weights, inputs)]
        lines = _sum_lines(out, products if bias is None else [*products, bias], "0.0")
    else:
        lines = [
            f"{out} = _sum(_map(_mul, {_tuple(weights)}, {_tuple(inputs)}))"
            + (f" + {_code(bias)}" if bias else "")
        ]
    locals_: list[ast.expr] = [ast.Constant(1.0)] * len(node.children)  # the bias's, if any
    for w, x, w_code, x_code in zip(structure.weights, structure.inputs, weights, inputs):
        if isinstance(w, int):
            locals_[w] = x_code
        if isinstance(x, int):
            locals_[x] = w_code
    return _NodeCode(lines, locals_)


def _sum_lines(target: str, terms: Sequence[ast.expr | str], start: str | None) -> list[str]:
    """`target = start + t1 + t2 ...`, left to right, wrapped every few terms (same evaluation order).

    A negated term is written ``x - t`` rather than ``x + -t``: the same float operation.
    """
    parts: list[ast.expr | str] = [start, *terms] if start is not None else list(terms)
    lines = []
    for offset in range(0, len(parts), _TERMS_PER_LINE):
        chunk = parts[offset : offset + _TERMS_PER_LINE]
        if offset:
            chunk = [target, *chunk]
        text = chunk[0] if isinstance(chunk[0], str) else _code(chunk[0])
        for term in chunk[1:]:
            text += _added(term)
        lines.append(f"{target} = {text}")
    return lines


def _added(term: ast.expr | str) -> str:
    if isinstance(term, str):
        return f" + {term}"
    if isinstance(term, ast.UnaryOp) and isinstance(term.op, ast.USub):
        operand = term.operand
        tight = isinstance(operand, (ast.Name, ast.Constant, ast.Call)) or (
            isinstance(operand, ast.BinOp) and isinstance(operand.op, (ast.Mult, ast.Div, ast.Pow))
        )
        if tight:
            return f" - {_code(operand)}"
    return f" + {_code(term)}"


def _edge(local: ast.expr, upstream: str) -> ast.expr:
    """One edge: local derivative × upstream grad (x*1.0 and x*-1.0 are exact as x, -x)."""
    known, value = _literal_value(local)
    if known and value == 1.0:
        return ast.Name(upstream)
    if known and value == -1.0:
        return ast.UnaryOp(ast.USub(), ast.Name(upstream))
    return ast.BinOp(ast.Name(upstream), ast.Mult(), local)


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
    locals_of: dict[Value, list[ast.expr]] = {}
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
    incoming: dict[Value, list[ast.expr]] = {node: [] for node in graph.needs_grad}
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
                incoming[child].append(_edge(local, target))
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
    """What the float code may call: math's functions as _exp, _log, ..., and the dot helpers."""
    namespace: dict[str, Any] = {f"_{name}": function for name, function in _TEMPLATE_FUNCTIONS.items()}
    namespace.update(__builtins__={}, _inf=math.inf, _sum=sum, _map=map, _mul=operator.mul, _fail=_fail)
    return namespace


def build(source: str, function_name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Execute generated source in `namespace` and return the function it defines."""
    # Only source generated above is ever executed: names are sanitised identifiers and every
    # number is a float repr. (`compile` in this package is ours; the built-in is builtins.compile.)
    code = builtins.compile(source, f"<gradstep compiled {function_name}>", "exec")
    exec(code, namespace)
    return namespace[function_name]  # type: ignore[no-any-return]
