"""Ng's δ = a - y or Mitchell's δ = (a - y)·a·(1 - a)? Both: each is right for its own loss.

The output delta is ∂L/∂z at the output unit's pre-activation z, with a = σ(z). `backward()` leaves
exactly that number in ``z.grad``:

    log loss        L = -[y ln a + (1 - y) ln(1 - a)]   →  z.grad = a - y              (Ng)
    squared error   L = ½ (y - a)²                       →  z.grad = (a - y)·a·(1 - a)  (Mitchell)

Then the classic 3-4-1 XOR network of Trask's "neural network in 11 lines" is trained from its
published initial weights (full batch, step size 1, gradient of ½Σ(y - ŷ)² summed over the 4 examples),
reproducing its published error trace, and once more with log loss for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograd import Value, dot, vsum

from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure
from ._networks import log_loss_from_logit

NAME = "deltas"
QUESTION = "Ng's δ = a - y or Mitchell's δ = (a - y)·a·(1 - a)? (and Trask's 3-4-1 XOR net)"
LOSSES = ("squared", "log")

# Trask's data: the third input column is always 1 and acts as a bias.
TRASK_INPUTS = ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 0.0, 1.0), (1.0, 1.0, 1.0))
TRASK_TWO_LAYER_TARGETS = (0.0, 0.0, 1.0, 1.0)
TRASK_TWO_LAYER_WEIGHTS = (((-0.16595599,), (0.44064899,), (-0.99977125,)),)  # one layer: 3 inputs × 1 unit
TRASK_XOR_TARGETS = (0.0, 1.0, 1.0, 0.0)
TRASK_XOR_WEIGHTS = (
    (  # W0: 3 inputs × 4 hidden units
        (-0.16595599, 0.44064899, -0.99977125, -0.39533485),
        (-0.70648822, -0.81532281, -0.62747958, -0.30887855),
        (-0.20646505, 0.07763347, -0.16161097, 0.370439),
    ),
    ((-0.5910955,), (0.75623487,), (-0.94522481,), (0.34093502,)),  # W1: 4 hidden × 1 output
)
TRASK_CHECKPOINTS = (0, 10_000, 20_000, 30_000, 40_000, 50_000)
# What Trask's post prints for the 3-4-1 net (docs/reference-numbers.md): mean |error| at the checkpoints
# (5 significant digits) and the final outputs (4 decimals). The demo compares its run with them.
TRASK_PUBLISHED_ERRORS = (0.49641, 0.0085845, 0.0057895, 0.0046292, 0.0039588, 0.0035101)
TRASK_PUBLISHED_OUTPUTS = (0.0026, 0.9967, 0.9970, 0.0039)
SIGMOID_GRADIENT_POINTS = (-1.0, -0.5, 0.0, 0.5, 1.0)


def output_loss(z: Value, y: float, loss: str) -> Value:
    """The loss of one sigmoid output unit with pre-activation z and target y."""
    if loss == "squared":
        return 0.5 * (y - z.sigmoid()) ** 2
    if loss == "log":
        return log_loss_from_logit(z, y)
    raise ValueError(f"output_loss: unknown loss {loss!r}; expected one of {LOSSES}")


def output_delta(z_data: float, y: float, loss: str) -> float:
    """∂L/∂z at the output pre-activation, as `backward()` computes it."""
    z = Value(z_data, "z")
    output_loss(z, y, loss).backward()
    return z.grad


def textbook_delta(z_data: float, y: float, loss: str) -> float:
    """Ng's a - y for log loss, Mitchell's (a - y)·a·(1 - a) for squared error (the comparison)."""
    a = 1.0 / (1.0 + math.exp(-z_data))
    if loss == "log":
        return a - y
    if loss == "squared":
        return (a - y) * a * (1.0 - a)
    raise ValueError(f"textbook_delta: unknown loss {loss!r}; expected one of {LOSSES}")


def sigmoid_gradient(z_data: float) -> float:
    """g'(z) for the sigmoid, from `backward()` (Ng's sigmoidGradient)."""
    z = Value(z_data)
    z.sigmoid().backward()
    return z.grad


@dataclass(frozen=True)
class TraskRun:
    """A training run: mean |y - ŷ| at every iteration (before its update) and the last outputs."""

    mean_abs_errors: list[float]
    final_outputs: list[float]


def _unit_weights(layer: Sequence[Sequence[float]]) -> list[list[Value]]:
    # Trask's matrices are inputs × units; a neuron wants its own incoming weights, one column.
    return [[Value(row[unit]) for row in layer] for unit in range(len(layer[0]))]


def train_trask(
    weight_layers: Sequence[Sequence[Sequence[float]]] = TRASK_XOR_WEIGHTS,
    targets: Sequence[float] = TRASK_XOR_TARGETS,
    loss: str = "squared",
    iterations: int = 60_000,
    step_size: float = 1.0,
) -> TraskRun:
    """Full-batch gradient descent on Σ loss over Trask's 4 examples (summed, not averaged), no biases."""
    if iterations < 1:
        raise ValueError(f"train_trask: iterations must be >= 1, got {iterations}")
    layers = [_unit_weights(layer) for layer in weight_layers]
    parameters = [w for layer in layers for unit in layer for w in unit]
    errors: list[float] = []
    outputs: list[float] = []
    for _ in range(iterations):
        terms, outputs = [], []
        for x, y in zip(TRASK_INPUTS, targets):
            activations: Sequence[float | Value] = x
            for layer in layers[:-1]:
                activations = [dot(unit, activations).sigmoid() for unit in layer]
            z = dot(layers[-1][0], activations)
            outputs.append(1.0 / (1.0 + math.exp(-z.data)))
            terms.append(output_loss(z, y, loss))
        errors.append(math.fsum(abs(y - o) for y, o in zip(targets, outputs)) / len(targets))
        for p in parameters:
            p.grad = 0.0
        vsum(terms).backward()
        for p in parameters:
            p.data -= step_size * p.grad
    return TraskRun(errors, outputs)


def matches_published(errors_at_checkpoints: Sequence[float], final_outputs: Sequence[float]) -> bool:
    """Do the checkpoint errors (5 significant digits) and outputs (4 decimals) equal Trask's?"""
    errors_match = all(
        f"{ours:.5g}" == f"{theirs:.5g}"
        for ours, theirs in zip(errors_at_checkpoints, TRASK_PUBLISHED_ERRORS)
    )
    outputs_match = all(
        f"{ours:.4f}" == f"{theirs:.4f}" for ours, theirs in zip(final_outputs, TRASK_PUBLISHED_OUTPUTS)
    )
    return errors_match and outputs_match


def plot_trask(runs: dict[str, TraskRun], path: Path) -> Path:
    """Mean |error| against iteration for both losses, log scale, the published checkpoints marked."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(9, 5))
    styles = {
        "squared": ("tab:blue", "½ squared error: δ = (a - y)·a·(1 - a) (Trask, Mitchell)"),
        "log": ("tab:red", "log loss: δ = a - y (Ng)"),
    }
    for loss, run in runs.items():
        colour, label = styles[loss]
        ax.plot(range(len(run.mean_abs_errors)), run.mean_abs_errors, color=colour, linewidth=2, label=label)
    squared = runs.get("squared")
    if squared is not None:
        marks = [i for i in TRASK_CHECKPOINTS if i < len(squared.mean_abs_errors)]
        ax.scatter(
            marks,
            [squared.mean_abs_errors[i] for i in marks],
            color="black",
            zorder=3,
            label="Trask's printed checkpoints (reproduced)",
        )
    ax.set(
        xscale="symlog",
        yscale="log",
        xlabel="iteration (symmetric log scale)",
        ylabel="mean |y - ŷ| over the 4 examples",
        title="Trask's 3-4-1 XOR net from its published initial weights, step size 1",
    )
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(figure, path)


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    print(QUESTION)
    print("\nNg's sigmoidGradient from backward(), g'(z) at z = -1, -0.5, 0, 0.5, 1:")
    print("  " + " ".join(f"{sigmoid_gradient(z):.6f}" for z in SIGMOID_GRADIENT_POINTS))

    print("\nz.grad at the output pre-activation (backward) vs the textbook deltas:")
    print(f"{'z':>6} {'y':>3} {'log loss':>12} {'a - y':>12} {'½ sq. error':>13} {'(a-y)a(1-a)':>13}")
    for z in (-2.0, -0.5, 0.0, 1.5, 3.0):
        for y in (0.0, 1.0):
            print(
                f"{z:>6.1f} {y:>3.0f} {output_delta(z, y, 'log'):>12.8f} {textbook_delta(z, y, 'log'):>12.8f}"
                f" {output_delta(z, y, 'squared'):>13.8f} {textbook_delta(z, y, 'squared'):>13.8f}"
            )

    two_layer = train_trask(TRASK_TWO_LAYER_WEIGHTS, TRASK_TWO_LAYER_TARGETS, "squared", iterations=10_000)
    print("\nTrask's 2-layer net (y = [0, 0, 1, 1]), 10,000 iterations, outputs:")
    print("  " + " ".join(f"{o:.8f}" for o in two_layer.final_outputs))

    runs = {loss: train_trask(loss=loss) for loss in LOSSES}
    print("\nTrask's 3-4-1 XOR net, 60,000 iterations, mean |error| at iteration:")
    print(f"{'loss':<10}" + "".join(f"{i:>11,}" for i in TRASK_CHECKPOINTS) + "   final outputs")
    for loss, run in runs.items():
        trace = "".join(f"{run.mean_abs_errors[i]:>11.7f}" for i in TRASK_CHECKPOINTS)
        print(f"{loss:<10}{trace}   " + " ".join(f"{o:.4f}" for o in run.final_outputs))
    print(
        f"{'Trask':<10}"
        + "".join(f"{e:>11.7f}" for e in TRASK_PUBLISHED_ERRORS)
        + "   "
        + " ".join(f"{o:.4f}" for o in TRASK_PUBLISHED_OUTPUTS)
    )
    squared = runs["squared"]
    same = matches_published([squared.mean_abs_errors[i] for i in TRASK_CHECKPOINTS], squared.final_outputs)
    print(
        "The squared-error run matches Trask's published trace to the digits he printed: "
        + ("yes" if same else "NO")
    )
    folder = output_folder(NAME, args.out)
    print_written([plot_trask(runs, folder / "trask_xor_error.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
