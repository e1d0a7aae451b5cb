"""The textbook's backprop, written out by hand with plain floats: the thing the demos compare with.

Nothing here trains anything. It is the independent check: Ng's and UFLDL's delta recursion for a
fully connected sigmoid network, with weights laid out as Ng does (one matrix Θ per layer, one row per
unit, column 0 the bias weight):

    δ(L) = output_delta(a(L), y)             (a - y for log loss, (a - y)·a·(1 - a) for ½ squared error)
    δ(l) = (Θ(l)ᵀ δ(l+1))[1:] ∘ a(l)(1 - a(l))
    Δ(l) += δ(l+1) [1; a(l)]ᵀ                (summed over the examples)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Matrix = list[list[float]]
Example = tuple[Sequence[float], Sequence[float]]
OutputDelta = Callable[[float, float], float]


def sigmoid(z: float) -> float:
    """σ(z) = 1 / (1 + e^-z), without overflow for any finite z."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def log_loss_delta(a: float, y: float) -> float:
    """Ng's output delta for log loss with a sigmoid output: δ = a - y."""
    return a - y


def squared_error_delta(a: float, y: float) -> float:
    """Mitchell's output delta for ½(y - a)² with a sigmoid output: δ = (a - y)·a·(1 - a)."""
    return (a - y) * a * (1.0 - a)


def forward_activations(thetas: Sequence[Matrix], x: Sequence[float]) -> list[list[float]]:
    """The activations a(1) = x, a(2), ..., a(L) of a sigmoid network (no bias units included)."""
    activations = [list(x)]
    for theta in thetas:
        inputs = activations[-1]
        activations.append(
            [sigmoid(row[0] + math.fsum(w * a for w, a in zip(row[1:], inputs))) for row in theta]
        )
    return activations


def delta_sums(
    thetas: Sequence[Matrix], examples: Sequence[Example], output_delta: OutputDelta
) -> list[Matrix]:
    """Δ(l) for every layer: the per-example gradients of the loss, summed over the examples."""
    totals = [[[0.0] * len(row) for row in theta] for theta in thetas]
    for x, y in examples:
        activations = forward_activations(thetas, x)
        delta = [output_delta(a, target) for a, target in zip(activations[-1], y)]
        for layer in reversed(range(len(thetas))):
            inputs = [1.0, *activations[layer]]
            for unit, d in enumerate(delta):
                row = totals[layer][unit]
                for column, a in enumerate(inputs):
                    row[column] += d * a
            if layer > 0:
                theta = thetas[layer]
                delta = [
                    math.fsum(theta[unit][column + 1] * delta[unit] for unit in range(len(theta)))
                    * a
                    * (1.0 - a)
                    for column, a in enumerate(activations[layer])
                ]
    return totals


def averaged_gradient(
    thetas: Sequence[Matrix], examples: Sequence[Example], output_delta: OutputDelta, decay: float = 0.0
) -> list[float]:
    """The textbook's gradient D = Δ/m + decay·Θ, flat (layer by layer, row by row, bias first).

    The bias column is not decayed. UFLDL's weight decay (λ/2)ΣW² has decay = λ; Ng's λ/(2m)ΣΘ²
    has decay = λ/m.
    """
    m = len(examples)
    deltas = delta_sums(thetas, examples, output_delta)
    return [
        total / m + (decay * theta[unit][column] if column > 0 else 0.0)
        for theta, delta in zip(thetas, deltas)
        for unit, row in enumerate(delta)
        for column, total in enumerate(row)
    ]
