"""The comments of compiled code: each node's gradient as a short formula (the textbook deltas).

d(root)/d(node) is built symbolically, in the same reverse order as the backward pass: a node's
formula is the sum over its parents of (the parent's formula × the local derivative). The local
derivatives come from the op registry (`OpSpec.local_formulas`, else the op's code templates), so a
new op shows up in the comments with no change here. A formula is kept while it stays short (a few
terms, one line); otherwise that node, and everything below it, gets no comment.
"""

from __future__ import annotations

import ast
import functools
from typing import NamedTuple

from ..engine import ATOM, MULTIPLICATIVE, OPS, Value
from .codegen import literal_node, literal_value, substitute
from .graph import DotTerms, Graph

__all__ = ["formula_comments", "number_text"]


class _Factor(NamedTuple):
    text: str
    negated: str | None = None  # the same factor times -1 when that reads better: (y - a) -> (a - y)


_Term = tuple[float, tuple[_Factor, ...]]
_MAX_TERMS = 3
_MAX_COMMENT = 72
_MAX_INLINE = 20


def number_text(number: float) -> str:
    """A number as people write it: 2 rather than 2.0, the exact repr otherwise."""
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e15 else repr(float(number))


# ---------------------------------------------------------------------------------------------------
# How a node appears inside a formula
# ---------------------------------------------------------------------------------------------------


def _show(node: Value, graph: Graph, shown: dict[Value, _Factor]) -> _Factor:
    """Its name, or its own short expression when it is unlabelled and written with an operator."""
    name = graph.name[node]
    spec = OPS.get(node.op)
    if not node.children or node.label or spec is None or spec.formula is None or spec.precedence == ATOM:
        return _Factor(name)

    def text(child: Value) -> str:
        return shown[child].text if child in graph.depends else number_text(child.data)

    fields = dict(zip("ab", (text(child) for child in node.children)))
    if isinstance(node.params, float):
        fields["c"] = number_text(node.params)
    expression = spec.formula.format(**fields)
    negated = None
    if spec.precedence <= MULTIPLICATIVE:
        expression = f"({expression})"
        if spec.formula == "{a} - {b}":
            negated = f"({fields['b']} - {fields['a']})"
    return _Factor(expression, negated) if len(expression) <= _MAX_INLINE else _Factor(name)


# ---------------------------------------------------------------------------------------------------
# A local derivative, from the registry, as terms: coefficient × factors
# ---------------------------------------------------------------------------------------------------


def _local_terms(node: Value, position: int, graph: Graph, shown: dict[Value, _Factor]) -> list[_Term] | None:
    structure = graph.structure.get(node)
    if structure is not None:
        if isinstance(structure, DotTerms):
            for w, x in zip(structure.weights, structure.inputs):
                for mine, partner in ((w, x), (x, w)):
                    if mine == position:
                        return (
                            [_operand_term(node.children[partner], graph, shown)]
                            if isinstance(partner, int)
                            else [(partner, ())]
                        )
        return [(1.0, ())]  # a sum's terms, a dot's bias
    spec = OPS[node.op]
    if spec.local_formulas:
        formula = spec.local_formulas[position]
    else:
        formula = spec.code.locals[position] if spec.code is not None else None
    if formula is None:
        return None
    return _Reader(node, graph, shown).terms(formula)


def _operand_term(child: Value, graph: Graph, shown: dict[Value, _Factor]) -> _Term:
    if child in graph.depends:
        return 1.0, (shown[child],)
    return child.data, ()


class _Reader:
    """Reads one local-derivative formula of one node into terms, with the node's operands in it."""

    def __init__(self, node: Value, graph: Graph, shown: dict[Value, _Factor]) -> None:
        self.node, self.graph, self.shown = node, graph, shown
        self.operands = dict(zip("ab", node.children))

    def terms(self, formula: str) -> list[_Term] | None:
        tree = _parsed_formula(formula)
        if tree is None:
            return None
        numbers: dict[str, ast.expr] = {
            name: literal_node(child.data)
            for name, child in self.operands.items()
            if child not in self.graph.depends
        }
        if isinstance(self.node.params, float):
            numbers["c"] = literal_node(self.node.params)
        tree = substitute(tree, numbers)
        coefficient = 1.0
        factors: list[_Factor] = []
        for factor in _product(tree):
            known, value = literal_value(factor)
            if known:
                coefficient *= value
                continue
            if isinstance(factor, ast.UnaryOp) and isinstance(factor.op, ast.USub):
                coefficient, factor = -coefficient, factor.operand
            if isinstance(factor, ast.Name) and factor.id in ("a", "b", "out"):
                child = self.node if factor.id == "out" else self.operands[factor.id]
                factors.append(self.shown[child])
                continue
            text = self.text(factor)
            if text is None:
                return None
            if isinstance(factor, ast.BinOp):
                negated = None
                if isinstance(factor.op, ast.Sub):
                    left, right = self.text(factor.left), self.text(factor.right)
                    negated = f"({right} - {left})"
                factors.append(_Factor(f"({text})", negated))
            else:
                factors.append(_Factor(text))
        return [(coefficient, tuple(factors))]

    def text(self, tree: ast.expr) -> str | None:
        """The formula as people write it, or None for what reads badly (a branch)."""
        known, value = literal_value(tree)
        if known:
            return number_text(value)
        if isinstance(tree, ast.Name):
            if tree.id == "out":
                return self.shown[self.node].text
            if tree.id in self.operands:
                return self.shown[self.operands[tree.id]].text
            return tree.id
        if isinstance(tree, ast.BinOp):
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}.get(
                type(tree.op)
            )
            if symbol == "**" and literal_value(tree.right) == (True, 1):
                return self.text(tree.left)
            left, right = self.inner(tree.left), self.inner(tree.right)
            return None if symbol is None or left is None or right is None else f"{left} {symbol} {right}"
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
            inner = self.inner(tree.operand)
            return None if inner is None else f"-{inner}"
        if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and not tree.keywords:
            args = [self.text(arg) for arg in tree.args]
            return None if None in args else f"{tree.func.id}({', '.join(args)})"  # type: ignore[arg-type]
        if isinstance(tree, ast.Compare) and len(tree.ops) == 1:
            symbol = {
                ast.Gt: ">",
                ast.GtE: ">=",
                ast.Lt: "<",
                ast.LtE: "<=",
                ast.Eq: "==",
                ast.NotEq: "!=",
            }.get(type(tree.ops[0]))
            left, right = self.text(tree.left), self.text(tree.comparators[0])
            return None if symbol is None or left is None or right is None else f"{left} {symbol} {right}"
        if isinstance(tree, ast.List) and len(tree.elts) == 1:  # [condition]: 1 where it holds, else 0
            inner = self.text(tree.elts[0])
            return None if inner is None else f"[{inner}]"
        if isinstance(tree, ast.IfExp):  # `1.0 if cond else 0.0` is the indicator [cond]
            body, orelse = literal_value(tree.body), literal_value(tree.orelse)
            if body == (True, 1.0) and orelse == (True, 0.0):
                inner = self.text(tree.test)
                return None if inner is None else f"[{inner}]"
        return None

    def inner(self, tree: ast.expr) -> str | None:
        text = self.text(tree)
        if text is not None and isinstance(tree, (ast.BinOp, ast.Compare)):
            return f"({text})"
        return text


@functools.cache
def _parsed_formula(formula: str) -> ast.expr | None:
    try:
        return ast.parse(formula, mode="eval").body
    except SyntaxError:
        return None


def _product(tree: ast.expr) -> list[ast.expr]:
    """The factors of a product, with x ** 1 read as x and x ** 0 as 1 (for reading, not for code)."""
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        return [*_product(tree.left), *_product(tree.right)]
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Pow):
        known, exponent = literal_value(tree.right)
        if known and exponent == 1:
            return _product(tree.left)
        if known and exponent == 0:
            return [ast.Constant(1.0)]
    return [tree]


# ---------------------------------------------------------------------------------------------------
# Putting the formulas together
# ---------------------------------------------------------------------------------------------------


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
            text = number_text(coefficient)
        elif coefficient == -1.0:
            text = f"-{text}"
        elif coefficient != 1.0:
            text = f"{number_text(coefficient)} * {text}"
        pieces.append(text)
    rendered = pieces[0]
    for piece in pieces[1:]:
        rendered += f" - {piece[1:]}" if piece.startswith("-") else f" + {piece}"
    return rendered


def formula_comments(graph: Graph) -> dict[Value, str]:
    """d(root)/d(node) for every node whose formula is short, in terms of the forward variables."""
    shown: dict[Value, _Factor] = {}
    for node in graph.order:
        if node in graph.depends:
            shown[node] = _show(node, graph, shown)
    formulas: dict[Value, list[_Term] | None] = {node: [] for node in graph.needs_grad}
    comments: dict[Value, str] = {}
    for node in reversed(graph.order):
        if node not in graph.needs_grad:
            continue
        terms: list[_Term] | None = [(1.0, ())] if node is graph.root else formulas[node]
        if terms is not None and node is not graph.root:
            text = _render(terms) if terms else None
            if text is not None and len(text) <= _MAX_COMMENT:
                comments[node] = text
            else:
                terms = None
        for position, child in enumerate(node.children):
            if child not in graph.needs_grad or formulas[child] is None:
                continue
            local = _local_terms(node, position, graph, shown) if terms is not None else None
            if local is None:
                formulas[child] = None
                continue
            formulas[child] = _add_terms(formulas[child], _multiply(terms, local))  # type: ignore[arg-type]
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
