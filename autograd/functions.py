"""Numerically stable composites built only from the registered primitives.

None of these declares a derivative of its own: each is a small graph of engine ops, so backprop
derives its gradient like any other. They are arranged so that no finite input overflows:
log-sum-exp and softmax subtract the maximum first; softplus only exponentiates non-positive numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

from .engine import Operand, Value, _as_value, vsum

__all__ = ["log_sigmoid", "log_softmax", "logsumexp", "softmax", "softplus", "vmax"]


def _as_values(values: Iterable[Operand], caller: str) -> list[Value]:
    items = [_as_value(v, caller) for v in values]
    if not items:
        raise ValueError(f"{caller}: needs at least one value, got an empty sequence")
    return items


def logsumexp(values: Iterable[Operand]) -> Value:
    """log Σ exp(vᵢ), computed as m + log Σ exp(vᵢ - m) with m = max vᵢ (a number, not a node).

    Treating m as a constant is exact: the result does not depend on which m is subtracted.
    """
    items = _as_values(values, "logsumexp")
    m = max(item.data for item in items)
    return vsum([(item - m).exp() for item in items]).log() + m


def softmax(values: Iterable[Operand]) -> list[Value]:
    """exp(vᵢ) / Σ exp(vⱼ) for each i, max-subtracted so no finite input overflows."""
    items = _as_values(values, "softmax")
    m = max(item.data for item in items)
    exps = [(item - m).exp() for item in items]
    total = vsum(exps)
    return [e / total for e in exps]


def log_softmax(values: Iterable[Operand]) -> list[Value]:
    """vᵢ - logsumexp(v) for each i: the log-probabilities of a softmax, without log(0)."""
    items = _as_values(values, "log_softmax")
    lse = logsumexp(items)
    return [item - lse for item in items]


def softplus(value: Operand) -> Value:
    """log(1 + exp(v)), stable for every finite v.

    For v ≥ 0 it is computed as v + log(1 + exp(-v)), otherwise as log(1 + exp(v)); both
    formulas are smooth everywhere, so the branch never changes the derivative (σ(v)).
    """
    (v,) = _as_values([value], "softplus")
    if v.data >= 0.0:
        return v + ((-v).exp() + 1.0).log()
    return (v.exp() + 1.0).log()


def log_sigmoid(value: Operand) -> Value:
    """log σ(v) = -softplus(-v), stable for every finite v (log loss on logits uses it)."""
    (v,) = _as_values([value], "log_sigmoid")
    return -softplus(-v)


def vmax(values: Iterable[Operand]) -> Value:
    """The largest of `values` (the first one on ties), returned as that very Value.

    Choosing the maximum is piecewise constant, so the gradient flows to the chosen value only,
    exactly as max's derivative says; no new node and no rounding are involved.
    """
    items = _as_values(values, "vmax")
    return max(items, key=_data)


def _data(value: Value) -> float:
    return value.data
