"""Forward mode: push a direction through the graph, one edge at a time (dual numbers).

Reverse mode (`Value.backward`) answers "how does the output change with each input?" in one sweep
from the output down. Forward mode answers "how does everything change if the inputs move in the
direction t?" in one sweep from the inputs up: every value carries a *tangent*, d value / d s
along the path ``inputs + s·t``, and for each edge

    tangent(child → node) = local derivative × tangent(child)

the node's tangent being the sum over its operands. The local derivatives are the very floats the
ops stored for backprop (`Value.local_grads`), and the sweep visits `topological_order` forwards
(backward() visits it in reverse). One forward sweep gives one directional derivative, so the
gradient of an n-input function costs n sweeps against backprop's one: `jvp` along the i-th basis
vector is the i-th gradient entry (the same products, associated in the other order).

`jvp(f, values, tangents)` returns the output and its directional derivative; `tangent_steps` runs
the same sweep one edge at a time, yielding a `TangentStep` per edge, as `chain_rule_steps` does
for the backward pass. Neither touches any ``grad`` attribute.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .derivatives import leaves_for
from .engine import OPS, Operand, Value, describe_operand, topological_order

__all__ = ["TangentStep", "forward_tangents", "jvp", "tangent_steps"]


@dataclass(frozen=True)
class TangentStep:
    """One step of forward mode: the tangent of `child` carried along the edge ``child → node``.

    Attributes:
        index: edge steps are numbered 1, 2, 3, ... in sweep order; seeds (``include_seed=True``)
            are numbered 0 (one per seeded input).
        kind: ``"edge"``, or ``"seed"`` for an input receiving its tangent.
        node, child: the edge (for a seed both are the input).
        child_position: which operand of `node` the child is (-1 for a seed).
        node_number, child_number: positions in ``topological_order(root)``, as the drawing numbers them.
        child_tangent: d child / d s, final when the step runs (children come first).
        local_grad: d node / d child, the float the op stored for backprop.
        contribution: ``local_grad * child_tangent``.
        node_tangent_before, node_tangent_after: the node's tangent around the addition.
        op: `node`'s op; derivative_text: the op's derivative for this operand, from the registry.
    """

    index: int
    kind: Literal["edge", "seed"]
    node: Value
    child: Value
    child_position: int
    node_number: int
    child_number: int
    child_tangent: float
    local_grad: float
    contribution: float
    node_tangent_before: float
    node_tangent_after: float
    op: str
    derivative_text: str

    def equation(self) -> str:
        """The step as one line of arithmetic: ``local × child tangent = contribution``."""
        return f"{self.local_grad!r} × {self.child_tangent!r} = {self.contribution!r}"


def _checked_seeds(root: Value, seeds: Mapping[Value, float], caller: str) -> dict[Value, float]:
    if not isinstance(root, Value):
        raise TypeError(f"{caller}: expected a Value, got {describe_operand(root)}")
    checked: dict[Value, float] = {}
    for value, tangent in seeds.items():
        if not isinstance(value, Value):
            raise TypeError(f"{caller}: tangents must be keyed by Values, got {describe_operand(value)}")
        if value.children:
            raise ValueError(f"{caller}: only leaves take a tangent, got a Value made by op {value.op!r}")
        if isinstance(tangent, bool) or not isinstance(tangent, (int, float)):
            raise TypeError(
                f"{caller}: the tangent of {value!r} must be a number, got {describe_operand(tangent)}"
            )
        if not math.isfinite(tangent):
            raise ValueError(f"{caller}: the tangent of {value!r} must be finite, got {tangent!r}")
        checked[value] = float(tangent)
    return checked


def forward_tangents(root: Value, seeds: Mapping[Value, float]) -> dict[Value, float]:
    """The forward sweep: d node / d s for every node of `root`'s graph that depends on a seeded
    leaf (the others are absent: their tangent is 0), given each leaf's tangent in `seeds`.

    Edge by edge in `topological_order(root)`, operands in order, a node's tangent is
    ``0.0 + local₁ × tangent₁ + local₂ × tangent₂ + ...`` over its operands that have a tangent,
    with backward()'s zero rule: a zero local derivative passes on exactly 0, even from an
    infinite tangent.
    """
    tangents = _checked_seeds(root, seeds, "forward_tangents")
    get = tangents.get
    for node in topological_order(root):
        children = node.children
        if not children:
            continue
        total: float | None = None
        for child, local in zip(children, node.local_grads):
            incoming = get(child)
            if incoming is None:
                continue
            contribution = local * incoming if incoming - incoming == 0.0 or local != 0.0 else 0.0
            total = (0.0 if total is None else total) + contribution
        if total is not None:
            tangents[node] = total
    return tangents


def tangent_steps(
    root: Value, seeds: Mapping[Value, float], *, include_seed: bool = False
) -> Iterator[TangentStep]:
    """Run `forward_tangents` one edge at a time, yielding a `TangentStep` after each edge (and,
    with ``include_seed=True``, first a seed step per seeded leaf of the graph). The products and
    sums are those of `forward_tangents`, so the last step's ``node_tangent_after`` at the root is
    bit for bit its tangent. Nothing is stored on the Values."""
    tangents = _checked_seeds(root, seeds, "tangent_steps")
    order = topological_order(root)
    number_of = {node: number for number, node in enumerate(order)}
    if include_seed:
        for node in order:
            if node in tangents:
                n = number_of[node]
                t = tangents[node]
                yield TangentStep(0, "seed", node, node, -1, n, n, t, 1.0, t, 0.0, t, node.op, "d(x)/ds = t")
    get = tangents.get
    index = 0
    for node_number, node in enumerate(order):
        if not node.children:
            continue
        spec = OPS.get(node.op)
        total: float | None = None
        for position, (child, local) in enumerate(zip(node.children, node.local_grads)):
            incoming = get(child)
            if incoming is None:
                continue
            contribution = local * incoming if incoming - incoming == 0.0 or local != 0.0 else 0.0
            before = 0.0 if total is None else total
            total = before + contribution
            index += 1
            yield TangentStep(
                index,
                "edge",
                node,
                child,
                position,
                node_number,
                number_of[child],
                incoming,
                local,
                contribution,
                before,
                total,
                node.op,
                spec.derivative_text(position) if spec is not None else f"d({node.op})",
            )
        if total is not None:
            tangents[node] = total


def jvp(
    f: Callable[[list[Value]], Value], values: Sequence[Operand], tangents: Sequence[float]
) -> tuple[float, float]:
    """(f(values), the derivative of f at `values` in the direction `tangents`), by one forward sweep.

    `f` is called once with a list of leaves, one per entry of `values` (numbers become fresh
    leaves, Values are used as they are) and must return a Value; ``tangents[i]`` is how fast
    ``values[i]`` moves. Along the i-th basis vector the result is d f / d valueᵢ.
    """
    leaves = leaves_for(values, "jvp")
    tangents = list(tangents)
    if len(tangents) != len(leaves):
        raise ValueError(f"jvp: {len(tangents)} tangents for {len(leaves)} values")
    output = f(leaves)
    if not isinstance(output, Value):
        raise TypeError(f"jvp: f must return a Value, got {describe_operand(output)}")
    swept = forward_tangents(output, dict(zip(leaves, tangents)))
    return output.data, swept.get(output, 0.0)
