"""Reading a traced graph: which nodes need code, what each one computed, and what to call it.

Nothing here guesses: every node's structure comes from its record. A fixed-arity op's operands
are its children (and its constant, `Value.params`); `vsum` records its terms when numbers were
among them; `dot` records ``(weights, inputs, bias)`` as it was given. The graph turns those records
into child positions and plain numbers, which code generation and the comments read.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import OPS, Value, topological_order
from .trace import TracingError, describe_node

__all__ = ["DotTerms", "Graph", "SumTerms", "identifier"]

_IDENTIFIER_JUNK = re.compile(r"[^0-9A-Za-z_]+")

# An operand in a structure: the position of one of the node's children, or a number that was
# folded in (a float).
Term = int | float


def identifier(label: str, fallback: str) -> str:
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


@dataclass(frozen=True)
class SumTerms:
    """A `vsum` node: its terms in the order they were added (child positions and numbers)."""

    terms: tuple[Term, ...]


@dataclass(frozen=True)
class DotTerms:
    """A `dot` node: Σ weights × inputs added in order (+ bias), each a child position or a number."""

    weights: tuple[Term, ...]
    inputs: tuple[Term, ...]
    bias: Term | None


def _positions(items: Sequence[object], children: tuple[Value, ...], start: int) -> tuple[list[Term], int]:
    """Map the Values of a record to the child positions they took (in order), numbers to floats."""
    mapped: list[Term] = []
    position = start
    for item in items:
        if isinstance(item, Value):
            if position >= len(children) or children[position] is not item:
                raise ValueError("the record does not match the children")
            mapped.append(position)
            position += 1
        else:
            mapped.append(float(item))  # type: ignore[arg-type]  # records hold floats
    return mapped, position


def _structure(node: Value, caller: str) -> SumTerms | DotTerms | None:
    """The recorded structure of an n-ary node, checked against its children."""
    spec = OPS[node.op]
    try:
        if spec.params_kind == "terms":
            if node.params is None:
                return SumTerms(tuple(range(len(node.children))))
            terms, used = _positions(node.params, node.children, 0)
            if used != len(node.children):
                raise ValueError("the record does not match the children")
            return SumTerms(tuple(terms))
        if spec.params_kind == "operands":
            weights, inputs, bias = node.params
            weight_terms, used = _positions(weights, node.children, 0)
            input_terms, used = _positions(inputs, node.children, used)
            bias_term: Term | None = None
            if bias is not None:
                (bias_term,), used = _positions([bias], node.children, used)
            if used != len(node.children):
                raise ValueError("the record does not match the children")
            return DotTerms(tuple(weight_terms), tuple(input_terms), bias_term)
    except (TypeError, ValueError) as error:
        raise TracingError(
            f"{caller}: the {node.op!r} node {describe_node(node)} has a record ({node.params!r:.80}) "
            f"that does not describe its children ({error}); was it built by hand?"
        ) from None
    return None


class Graph:
    """The traced graph, read once: order, which nodes are inputs or constants, names, structures."""

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
            shown = ", ".join(describe_node(node) for node in frozen[:3])
            more = f" and {len(frozen) - 3} more" if len(frozen) > 3 else ""
            raise TracingError(
                f"{caller}: the output depends on {len(frozen)} leaf Value(s) that are not among the "
                f"inputs: {shown}{more}. Pass them as inputs (so their gradients are computed), or "
                "compile(..., freeze_leaves=True) to bake their current values in as constants."
            )
        self.structure: dict[Value, SumTerms | DotTerms] = {}
        for node in self.order:
            if node in self.depends and node not in input_set:
                spec = OPS.get(node.op)
                if spec is None:
                    raise TracingError(f"{caller}: {describe_node(node)}: op {node.op!r} is not registered")
                if spec.code is None:
                    structure = _structure(node, caller)
                    if structure is None:
                        raise TracingError(f"{caller}: op {node.op!r} has no code templates (OpCode)")
                    self.structure[node] = structure
        self._name_nodes(input_names)

    def _name_nodes(self, input_names: Sequence[str]) -> None:
        names = _Names()
        self.name: dict[Value, str] = {}
        for index, node in enumerate(self.inputs):
            self.name[node] = names.claim(identifier(input_names[index], f"x{index}"))
        temporaries = 0
        for node in self.order:
            if node in self.depends and node not in self.name:
                name = identifier(node.label, "")
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
                node.params if isinstance(node.params, float) else None,
                node.label,
                tuple(number[c] if c in self.depends else repr(c.data) for c in node.children),
                self.structure.get(node),
            )
            for node in self.order
            if node in self.depends
        ]

    @property
    def operation_count(self) -> int:
        """How many nodes the generated code computes (one line each in the forward pass)."""
        return sum(1 for node in self.order if node in self.depends and node.children)
