"""Numerically stable composites built only from the registered primitives.

None of these declares a derivative of its own: each is a small graph of engine ops, so backprop
derives its gradient like any other. They are arranged so that no finite input overflows:
log-sum-exp and softmax subtract the maximum first; softplus only exponentiates non-positive numbers.

Every choice they make from the data (which value is the largest, which formula of softplus is
stable) is made by an op (`Value.max`, `Value.softplus`), never by Python code reading ``.data``,
so `autograd.compile` writes the choice into the compiled code and makes it again on every call.
"""

from __future__ import annotations

from collections.abc import Iterable

from .engine import Operand, Value, as_value, vsum

__all__ = ["log_sigmoid", "log_softmax", "logsumexp", "softmax", "softplus", "vmax"]


def _as_values(values: Iterable[Operand], caller: str) -> list[Value]:
    items = [as_value(v, caller) for v in values]
    if not items:
        raise ValueError(f"{caller}: needs at least one value, got an empty sequence")
    return items


def _shift(items: list[Value]) -> Value:
    """The maximum of `items` as a constant for backprop: subtracting it changes no result."""
    return _max_of(items).stop_gradient()


def logsumexp(values: Iterable[Operand]) -> Value:
    """log Σ exp(vᵢ), computed as m + log Σ exp(vᵢ - m) with m = max vᵢ.

    m passes through `Value.stop_gradient`: the result does not depend on which m is subtracted,
    so treating m as a constant is exact, and no gradient flows through it.
    """
    items = _as_values(values, "logsumexp")
    m = _shift(items)
    return vsum([(item - m).exp() for item in items]).log() + m


def softmax(values: Iterable[Operand]) -> list[Value]:
    """exp(vᵢ) / Σ exp(vⱼ) for each i, max-subtracted (as in `logsumexp`) so no finite input overflows."""
    items = _as_values(values, "softmax")
    m = _shift(items)
    exps = [(item - m).exp() for item in items]
    total = vsum(exps)
    return [e / total for e in exps]


def log_softmax(values: Iterable[Operand]) -> list[Value]:
    """vᵢ - logsumexp(v) for each i: the log-probabilities of a softmax, without log(0)."""
    items = _as_values(values, "log_softmax")
    lse = logsumexp(items)
    return [item - lse for item in items]


def softplus(value: Operand) -> Value:
    """log(1 + exp(v)), stable for every finite v: the op `Value.softplus` (derivative σ(v))."""
    (v,) = _as_values([value], "softplus")
    return v.softplus()


def log_sigmoid(value: Operand) -> Value:
    """log σ(v) = -softplus(-v), stable for every finite v (log loss on logits uses it)."""
    (v,) = _as_values([value], "log_sigmoid")
    return -(-v).softplus()


def vmax(values: Iterable[Operand]) -> Value:
    """The largest of `values` (the first one on ties).

    One value is returned as it is; more are compared pairwise by `Value.max` nodes, so the
    choice is part of the graph: the gradient flows to the chosen value only, exactly as max's
    derivative says, and compiled code chooses again on every call.
    """
    return _max_of(_as_values(values, "vmax"))


def _max_of(items: list[Value]) -> Value:
    largest = items[0]
    for item in items[1:]:
        largest = largest.max(item)
    return largest
