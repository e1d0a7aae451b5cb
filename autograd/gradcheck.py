"""Gradient checking: backprop against central finite differences, as Ng's and UFLDL's exercises do.

    report = check_grads(lambda w, b: loss(w, b), [w, b])
    print(report)                      # one line per input
    report.relative_difference         # Ng's ‖num - backprop‖ / ‖num + backprop‖

`check_grads` raises `GradientMismatchError` listing every input whose two gradients disagree.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .engine import Value, topological_order

__all__ = [
    "GradCheckEntry",
    "GradCheckReport",
    "GradientMismatchError",
    "check_grads",
    "numerical_grad",
]

Function = Callable[..., "Value | float"]


class GradientMismatchError(AssertionError):
    """Backprop and central differences disagree; `report` holds every input's numbers."""

    def __init__(self, message: str, report: GradCheckReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class GradCheckEntry:
    """One input's gradient by backprop (`analytic`) and by central differences (`numeric`)."""

    index: int
    label: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool

    @property
    def name(self) -> str:
        return repr(self.label) if self.label else f"#{self.index}"


@dataclass(frozen=True, repr=False)
class GradCheckReport:
    """The result of `check_grads`: one entry per input, plus whole-vector summaries.

    ``print(report)`` shows the table (one line per input); ``repr(report)`` one summary line; in
    Jupyter the report is an HTML table, in IPython the printed table.
    """

    entries: tuple[GradCheckEntry, ...]
    eps: float
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return all(entry.ok for entry in self.entries)

    @property
    def mismatches(self) -> tuple[GradCheckEntry, ...]:
        return tuple(entry for entry in self.entries if not entry.ok)

    @property
    def max_abs_error(self) -> float:
        return max((entry.abs_error for entry in self.entries), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((entry.rel_error for entry in self.entries), default=0.0)

    @property
    def relative_difference(self) -> float:
        """Ng's criterion ‖numeric - analytic‖ / ‖numeric + analytic‖ (0.0 when both are zero)."""
        difference = math.sqrt(sum((e.numeric - e.analytic) ** 2 for e in self.entries))
        total = math.sqrt(sum((e.numeric + e.analytic) ** 2 for e in self.entries))
        if total == 0.0:
            return 0.0 if difference == 0.0 else math.inf
        return difference / total

    def _verdict(self) -> str:
        return "all agree" if self.ok else f"{len(self.mismatches)} of {len(self.entries)} disagree"

    def __repr__(self) -> str:
        plural = "input" if len(self.entries) == 1 else "inputs"
        return (
            f"<GradCheckReport: {len(self.entries)} {plural}, {self._verdict()}; largest rel error "
            f"{self.max_rel_error:.2e}, relative difference {self.relative_difference:.3e}>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr{style}><td>{name}</td><td>{a}</td><td>{n}</td><td>{rel:.2e}</td><td>{ok}</td></tr>".format(
                style="" if entry.ok else ' style="color:#b00"',
                name=html.escape(entry.name),
                a=f"{entry.analytic:.15g}",
                n=f"{entry.numeric:.15g}",
                rel=entry.rel_error,
                ok="ok" if entry.ok else "MISMATCH",
            )
            for entry in self.entries
        )
        caption = html.escape(
            f"{self._verdict()} (eps={self.eps:g}, rtol={self.rtol:g}, atol={self.atol:g}; "
            f"relative difference {self.relative_difference:.3e})"
        )
        return (
            f"<table><caption>gradient check: {caption}</caption>"
            "<tr><th>input</th><th>backprop</th><th>central difference</th><th>rel error</th><th></th></tr>"
            f"{rows}</table>"
        )

    def __str__(self) -> str:
        width = max([5, *(len(entry.name) for entry in self.entries)])
        lines = [
            f"{'input':<{width}}  {'backprop':>22}  {'central difference':>22}  {'rel error':>9}",
        ]
        for entry in self.entries:
            flag = "" if entry.ok else "  MISMATCH"
            lines.append(
                f"{entry.name:<{width}}  {entry.analytic:>22.15g}  {entry.numeric:>22.15g}"
                f"  {entry.rel_error:>9.2e}{flag}"
            )
        lines.append(
            f"{self._verdict()} (eps={self.eps:g}, rtol={self.rtol:g}, atol={self.atol:g}; "
            f"relative difference {self.relative_difference:.3e})"
        )
        return "\n".join(lines)


def _check_inputs(values: Sequence[Value], eps: float, caller: str) -> list[Value]:
    values = list(values)
    for position, value in enumerate(values):
        if not isinstance(value, Value):
            raise TypeError(
                f"{caller}: values[{position}] must be a Value, got {value!r} ({type(value).__name__})"
            )
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"{caller}: eps must be a positive finite number, got {eps!r}")
    return values


def _evaluate(f: Function, values: list[Value], caller: str) -> float:
    out = f(*values)
    if isinstance(out, Value):
        return out.data
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return float(out)
    raise TypeError(f"{caller}: f must return a Value or a number, got {out!r} ({type(out).__name__})")


def numerical_grad(f: Function, values: Sequence[Value], eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + eps) - f(x - eps)) / (2 eps) for each of `values`.

    `f(*values)` must rebuild its result from the given Values (it is called 2 times per input with
    one input's `data` nudged); every input's `data` is restored afterwards, even on error.
    """
    values = _check_inputs(values, eps, "numerical_grad")
    gradients = []
    for position, value in enumerate(values):
        original = value.data
        try:
            value.data = original + eps
            above = _evaluate(f, values, "numerical_grad")
            value.data = original - eps
            below = _evaluate(f, values, "numerical_grad")
        except (ArithmeticError, ValueError) as error:
            error.add_note(
                f"numerical_grad: f failed with input {position} ({value.label or 'unlabelled'}) "
                f"nudged to {value.data!r} (eps={eps!r})"
            )
            raise
        finally:
            value.data = original
        gradients.append((above - below) / (2.0 * eps))
    return gradients


def check_grads(
    f: Function,
    values: Sequence[Value],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    raise_on_mismatch: bool = True,
) -> GradCheckReport:
    """Compare backprop's gradient of ``f(*values)`` with central differences, input by input.

    An input passes when ``|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)``.
    Returns a `GradCheckReport`; when any input fails and `raise_on_mismatch` is true, raises
    `GradientMismatchError` naming every failing input with both numbers.

    The grads of the graph's leaves are restored afterwards, so checking does not disturb training.
    `values` must be leaves (Values you created), since f rebuilds everything else from them.
    """
    values = _check_inputs(values, eps, "check_grads")
    for position, value in enumerate(values):
        if value.children:
            raise ValueError(
                f"check_grads: values[{position}] is computed by op {value.op!r}; pass leaf Values"
            )
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"check_grads: f must return a Value, got {out!r} ({type(out).__name__})")

    leaves = [node for node in topological_order(out) if not node.children]
    saved = {leaf: leaf.grad for leaf in [*leaves, *values]}
    try:
        for leaf in saved:
            leaf.grad = 0.0
        out.backward()
        analytic = [value.grad for value in values]
    finally:
        for leaf, grad in saved.items():
            leaf.grad = grad
    numeric = numerical_grad(f, values, eps)

    entries = []
    for position, (value, a, n) in enumerate(zip(values, analytic, numeric)):
        abs_error = abs(a - n)
        scale = max(abs(a), abs(n))
        rel_error = abs_error / scale if scale > 0.0 else 0.0
        ok = math.isfinite(a) and abs_error <= atol + rtol * scale
        if not math.isfinite(abs_error):
            rel_error = math.inf
        entries.append(GradCheckEntry(position, value.label, a, n, abs_error, rel_error, ok))
    report = GradCheckReport(tuple(entries), float(eps), float(rtol), float(atol))
    if raise_on_mismatch and not report.ok:
        lines = [
            f"check_grads: {len(report.mismatches)} of {len(entries)} gradients disagree with central "
            f"differences (eps={eps:g}, rtol={rtol:g}, atol={atol:g}):"
        ]
        for entry in report.mismatches:
            lines.append(
                f"  input {entry.name}: backprop {entry.analytic!r}, central difference "
                f"{entry.numeric!r} (abs error {entry.abs_error:.3g}, rel error {entry.rel_error:.3g})"
            )
        raise GradientMismatchError("\n".join(lines), report)
    return report
