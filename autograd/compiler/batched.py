"""Batched evaluation: the same generated code run on NumPy arrays, one entry per example.

The NumPy dialect of the code (`codegen.BATCHED`) writes branches as ``numpy.where`` and each
`dot` as one ``numpy.dot`` when one side is numbers and the other per-example columns. Gradients
come back per example and are reduced here: summed, averaged, or left as they are.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from .codegen import scalar_namespace

__all__ = ["REDUCTIONS", "BatchResult", "evaluate", "numpy_namespace", "require_numpy"]

REDUCTIONS = ("sum", "mean", "none")


class BatchResult(NamedTuple):
    """A batched evaluation: the reduced output, the reduced gradients, and every example's output.

    With ``reduction="sum"`` `value` is Σ outputs and each gradient is d(Σ outputs)/d(input); with
    ``"mean"`` both are divided by the batch size; with ``"none"`` nothing is reduced (`value` is the
    array of outputs and every gradient is an array with one entry per example).
    """

    value: Any
    grads: dict[str, Any]
    outputs: Any


def require_numpy() -> Any:
    """The numpy module, or an ImportError that says how to install it."""
    try:
        import numpy
    except ImportError:
        raise ImportError(
            'batched mode needs NumPy: pip install numpy (in a clone of gradstep: pip install ".[compile]")'
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


def numpy_namespace(np: Any) -> dict[str, Any]:
    """The scalar namespace with NumPy's functions of the same names, where, any and the dot."""
    namespace = scalar_namespace()
    for name in list(namespace):
        function = getattr(np, name[1:], None)
        if name not in ("_fail", "_inf") and callable(function):
            namespace[name] = function
    namespace.update(_abs=np.abs, _where=np.where, _any=np.any, _dot=_batched_dot(np))
    return namespace


def evaluate(
    function: Callable[..., Any],
    careful_function: Callable[[], Callable[..., Any]],
    name: str,
    input_names: Sequence[str],
    grad_names: Sequence[str],
    grad_positions: Sequence[int],
    args: tuple[Any, ...],
    reduction: str,
) -> BatchResult:
    """Check a batch's inputs, run the NumPy code on them and reduce the gradients.

    `careful_function()` gives the code's careful variant, run instead when a gradient is not finite
    (as `CompiledFunction.evaluate` does): it differs only where a zero local derivative meets an
    inf or NaN upstream grad, which passes on 0 as in `backward()` (the plain code's 0 × inf is NaN).
    """
    np = require_numpy()
    caller = f"{name}.batched"
    if reduction not in REDUCTIONS:
        raise ValueError(f"{caller}: reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
    if len(args) == 1 and isinstance(args[0], Mapping):
        missing = [key for key in input_names if key not in args[0]]
        if missing:
            raise ValueError(f"{caller}: missing inputs {missing}")
        args = tuple(args[0][key] for key in input_names)
    if len(args) != len(input_names):
        raise TypeError(f"{caller}: expected {len(input_names)} inputs, got {len(args)}")
    values: list[Any] = []
    size: int | None = None
    for key, value in zip(input_names, args):
        if isinstance(value, (bool, str, bytes)):
            raise TypeError(f"{caller}: input {key!r} must be a number or an array, got {value!r}")
        if isinstance(value, (int, float)):
            values.append(float(value))
            continue
        array = np.asarray(value, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"{caller}: input {key!r} must be a number or 1-D, got shape {array.shape}")
        if size is not None and len(array) != size:
            raise ValueError(f"{caller}: input {key!r} has {len(array)} entries, others have {size}")
        size = len(array)
        values.append(array)
    if size is None:
        raise ValueError(f"{caller}: give at least one input as an array (one entry per example)")
    if not all(np.isfinite(v).all() if isinstance(v, np.ndarray) else math.isfinite(v) for v in values):
        raise ValueError(f"{caller}: every input must be finite")
    # Both sides of every numpy.where are evaluated, so the branch not taken may overflow
    # harmlessly; a real overflow shows up as a non-finite output, checked below.
    with np.errstate(all="ignore"):
        output, grads = function(*values)
        if not all(np.isfinite(g).all() for g in grads):
            output, grads = careful_function()(*values)
    outputs = np.broadcast_to(np.asarray(output, dtype=np.float64), (size,)).copy()
    bad = np.flatnonzero(~np.isfinite(outputs))
    if len(bad):
        raise ValueError(
            f"{caller}: example {int(bad[0])} gives {outputs[bad[0]]!r}: an operation "
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
        return BatchResult(outputs, dict(zip(grad_names, per_example)), outputs)
    scale = 1.0 if reduction == "sum" else 1.0 / size
    totals = per_example.sum(axis=1) * scale
    reduced: dict[str, Any] = {}
    for row, (key, index) in enumerate(zip(grad_names, grad_positions)):
        # A shared input's gradient adds up over the examples; a per-example input's stays its own.
        shared = not isinstance(values[index], np.ndarray)
        reduced[key] = float(totals[row]) if shared else per_example[row] * scale
    value = float(outputs.sum()) * scale
    return BatchResult(value, reduced, outputs)
