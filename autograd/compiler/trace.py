"""Tracing: run the function once on the input Values, and notice when it decides on their data.

Python code branches on a Value through its comparisons (``<``, ``<=``, ``>``, ``>=``, so also
``max``, ``sorted``) or by turning it into a float (``float(v)``, ``math.isfinite(v)``). Both go
through the engine's own hook (`autograd.engine.watch_data_reads`), which watches the current
thread only and is gone when the trace ends: nothing on `Value` is patched, so traces in several
threads can overlap. A read of a value that depends on the inputs would freeze the branch seen
while tracing into the compiled code, so it is an error. Reading ``.data`` is a plain attribute
access that no hook can see; `compile`'s ``check_inputs`` (a second trace elsewhere) catches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..engine import Value, watch_data_reads

__all__ = ["TracingError", "describe_node", "trace_once"]


class TracingError(ValueError):
    """The function cannot be compiled faithfully (data-dependent control flow, untraceable input)."""


def describe_node(node: Value) -> str:
    """``Value 'z' = 1.5, made by op 'add'``: how compile's errors name a node."""
    name = f" {node.label!r}" if node.label else ""
    origin = f"made by op {node.op!r}" if node.op else "a leaf"
    return f"Value{name} = {node.data!r}, {origin}"


def trace_once(fn: Callable[..., Any], inputs: Sequence[Value], caller: str) -> Value:
    """``fn(*inputs)``, checked to be a Value whose Python code never decided on traced data."""
    reads: list[tuple[str, Value]] = []

    def observe(kind: str, operands: tuple[object, ...]) -> None:
        reads.extend((kind, operand) for operand in operands if isinstance(operand, Value))

    with watch_data_reads(observe):
        root = fn(*inputs)
    if not isinstance(root, Value):
        raise TracingError(f"{caller}: the function must return a Value, got {type(root).__name__}")
    depends = _depends_on_inputs((value for _, value in reads), inputs)
    for kind, value in reads:
        if depends[value]:
            how = "float() (or math.isfinite, ...)" if kind == "float" else kind
            raise TracingError(
                f"{caller}: while tracing, the function read the data of a value that depends on the "
                f"inputs ({how} on {describe_node(value)}). Python control flow that depends on the "
                "data cannot be compiled: the compiled code would always take the branch seen while "
                "tracing. Use an op that holds the branch (relu, abs, max, sigmoid; autograd.vmax), "
                "or keep this part eager."
            )
    return root


def _depends_on_inputs(values: Iterable[Value], inputs: Sequence[Value]) -> dict[Value, bool]:
    """For each value (and everything below it): does it depend on one of `inputs`?

    One memoised depth-first pass over all of them together, so many reads cost one graph walk.
    """
    known: dict[Value, bool] = {node: True for node in inputs}
    for start in values:
        if start in known:
            continue
        stack: list[tuple[Value, bool]] = [(start, False)]
        while stack:
            node, children_done = stack.pop()
            if node in known:
                continue
            if children_done:
                known[node] = any(known[child] for child in node.children)
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in node.children if child not in known)
    return known
