"""Backprop one chain-rule step at a time.

`chain_rule_steps(root)` runs exactly the backward pass of `Value.backward()`, but pauses after
every edge and tells you what happened there::

    child.grad += local_grad * upstream_grad          # one edge = one step

Each step is a `ChainRuleStep` record: which node and which of its children, the upstream grad
(d root / d node), the local derivative (d node / d child), their product (the contribution) and the
child's grad before and after, with the op's derivative written as text from the op registry.
The terminal stepper (`gradstep step`) and the browser stepper (`write_stepper_html`) show these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from .engine import ATOM, OPS, UNARY, Value, edge_contribution, seed_backward, topological_order

__all__ = ["ChainRuleStep", "chain_rule_steps", "describe_node", "grads_before", "node_names"]


@dataclass(frozen=True)
class ChainRuleStep:
    """One step of backprop: the chain rule applied to one edge ``node -> child``.

    Attributes:
        index: the step number. Edge steps are numbered 1, 2, 3, ... in the order backward()
            processes them; the seeding step (only with ``include_seed=True``) is step 0.
        kind: ``"edge"`` for a chain-rule step, ``"seed"`` for setting d root / d root = 1.
        node: the node whose grad flows down (for the seed: the root).
        child: the operand receiving grad (for the seed: the root itself).
        child_position: which operand of `node` the child is (0 for ``a`` in ``a*b``, 1 for ``b``;
            a value used twice, as in ``x*x``, gets one step per position). -1 for the seed.
        node_number, child_number: positions of `node` and `child` in ``topological_order(root)``,
            the numbers the renderer draws them with (``v{number}`` in the SVG).
        upstream_grad: d root / d node, final by the time the node is processed.
        local_grad: d node / d child at this position, recorded by the op in the forward pass.
        contribution: ``local_grad * upstream_grad``, the amount added to the child's grad (exactly 0
            when the local derivative is 0, even from an infinite upstream grad).
        child_grad_before, child_grad_after: the child's grad around the update
            (``after == before + contribution``, computed with the very same float operations as
            backward()).
        op: the op name of `node` (a key of `autograd.OPS`).
        derivative_text: the op's derivative for this operand, such as ``d(a*b)/da = b``.
    """

    index: int
    kind: Literal["edge", "seed"]
    node: Value
    child: Value
    child_position: int
    node_number: int
    child_number: int
    upstream_grad: float
    local_grad: float
    contribution: float
    child_grad_before: float
    child_grad_after: float
    op: str
    derivative_text: str

    def equation(self) -> str:
        """The step as one line of arithmetic: ``upstream × local = contribution``."""
        return f"{self.upstream_grad!r} × {self.local_grad!r} = {self.contribution!r}"


def chain_rule_steps(root: Value, *, include_seed: bool = False) -> Iterator[ChainRuleStep]:
    """Run ``root.backward()`` one edge at a time, yielding a `ChainRuleStep` after each edge.

    The order, the arithmetic and the grads left behind are exactly those of `Value.backward()`:
    nodes in reverse ``topological_order(root)``, each node's children in order, and
    ``child.grad += local_grad * upstream_grad`` per edge, so after the generator is exhausted
    every grad is bit-for-bit what ``root.backward()`` would have left. The same reset rules apply:
    interior grads are reset to 0, `root` gets grad 1.0 (added if `root` is a leaf), and leaves
    accumulate onto whatever grad they already hold.

    With ``include_seed=True`` the first record (index 0, kind ``"seed"``) is the root's seeding
    d root / d root = 1, so a viewer can show it as the starting step.

    Nothing happens until you ask for the first step (it is a generator), and the graph's grads
    are updated step by step as you iterate: stopping half-way leaves a half-finished backward
    pass. Don't change grads or build new nodes on this graph while stepping through it.
    """
    if not isinstance(root, Value):
        raise TypeError(f"chain_rule_steps: expected a Value, got {type(root).__name__} {root!r}")
    order = topological_order(root)
    number_of = {node: number for number, node in enumerate(order)}
    root_number = len(order) - 1

    root_grad_before = seed_backward(order, root)  # the very start of Value.backward()
    if include_seed:
        yield ChainRuleStep(
            index=0,
            kind="seed",
            node=root,
            child=root,
            child_position=-1,
            node_number=root_number,
            child_number=root_number,
            upstream_grad=1.0,
            local_grad=1.0,
            contribution=1.0,
            child_grad_before=root_grad_before,
            child_grad_after=root.grad,
            op=root.op,
            derivative_text="d(root)/d(root) = 1",
        )

    index = 0
    for node_number in range(root_number, -1, -1):
        node = order[node_number]
        if not node.children:
            continue
        upstream = node.grad
        spec = OPS.get(node.op)
        for position, (child, local) in enumerate(zip(node.children, node.local_grads)):
            before = child.grad
            contribution = edge_contribution(local, upstream)
            # Written as `before + contribution` on purpose: this is exactly what backward()'s
            # `child.grad += local * upstream` computes, so the grads agree to the last bit.
            child.grad = before + contribution
            index += 1
            yield ChainRuleStep(
                index=index,
                kind="edge",
                node=node,
                child=child,
                child_position=position,
                node_number=node_number,
                child_number=number_of[child],
                upstream_grad=upstream,
                local_grad=local,
                contribution=contribution,
                child_grad_before=before,
                child_grad_after=child.grad,
                op=node.op,
                derivative_text=spec.derivative_text(position) if spec is not None else f"d({node.op})",
            )


def describe_node(node: Value, max_length: int = 32) -> str | None:
    """A short human name for `node`: its label, its number if it is a constant, or its formula.

    For an unlabelled interior node the formula is written from its children's names
    (``w1*x1 + w2*x2``). Returns None when that formula would be longer than `max_length`, so the
    caller can fall back to another name. A label is always returned as it is.
    """
    if node.label:
        return node.label
    text = _describe(node, max_length)
    return text if text is not None and len(text) <= max_length else None


def node_names(order: Sequence[Value], fmt: Callable[[float], str] = repr, max_length: int = 32) -> list[str]:
    """A name for every node of `order`: `describe_node`, else its op and value (``tanh = 0.5481``),
    which is what a drawing of the graph shows in the node's box. `fmt` formats the value."""
    return [describe_node(node, max_length) or f"{node.op} = {fmt(node.data)}" for node in order]


def grads_before(order: Sequence[Value], steps: Iterable[ChainRuleStep]) -> list[float]:
    """Every node's grad before `steps` ran (by position in `order`), recovered from the records.

    A node's grad before the pass is the "before" of the first step that touched it (interior
    grads after the reset, leaves with what they had accumulated); untouched nodes keep their grad.
    Together with each step's ``child_grad_after`` this gives the grads at any point of the pass.
    """
    grads = [node.grad for node in order]
    for step in reversed(list(steps)):
        grads[step.child_number] = step.child_grad_before
    return grads


def _describe(node: Value, budget: int) -> str | None:
    described = _describe_with_precedence(node, budget)
    return None if described is None else described[0]


def _describe_with_precedence(node: Value, budget: int) -> tuple[str, int] | None:
    """(text, precedence) of `node`'s formula, or None if it does not fit in `budget` characters.

    Each op's formula and precedences come from its registry entry (`OpSpec.formula`)."""
    # Every level of nesting costs at least one character, so the budget also bounds the recursion.
    if budget <= 0:
        return None
    if node.label:
        return node.label, ATOM
    if not node.children:
        text = _number_text(node.data)
        return text, (UNARY if text.startswith("-") else ATOM)
    spec = OPS.get(node.op)
    if spec is None or spec.formula is None or spec.arity != len(node.children):
        return None  # n-ary nodes (sum, dot) have no short formula
    operands = []
    for child, needed in zip(node.children, spec.operand_precedence):
        operand = _operand(child, budget - 1, needed)
        if operand is None:
            return None
        operands.append(operand)
    fields = dict(zip("ab", operands))
    if spec.params_kind == "constant":
        fields["c"] = _number_text(node.params)
    return spec.formula.format(**fields), spec.precedence


def _operand(node: Value, budget: int, needed_precedence: int) -> str | None:
    """The operand's text, in parentheses if it binds less tightly than `needed_precedence`."""
    described = _describe_with_precedence(node, budget)
    if described is None:
        return None
    text, precedence = described
    return text if precedence >= needed_precedence else f"({text})"


def _number_text(number: float | None) -> str:
    if number is None:
        return "?"
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(float(number))
