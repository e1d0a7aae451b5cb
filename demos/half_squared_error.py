"""Why the ½ in squared error, and why may we drop the 2 but not σ'(z)?

The gradient of (t - o)² is exactly twice the gradient of ½(t - o)², for every weight: a constant
factor, so it only rescales the step (the learning rate absorbs it) and the direction is unchanged.

The sigmoid's derivative σ'(z) = a(1 - a) is not a constant: it differs from unit to unit (weight to
weight) and from example to example. "Simplified" backprop that drops it, i.e. treats δ = error at a
unit, points the update in a different direction. Both simplified gradients here come from
`backward()` on a graph whose sigmoid passes its value forward unchanged but its derivative back as 1
(value σ(z), slope 1: a "straight-through" sigmoid). That is exactly the textbook's simplification,
and nothing is derived by hand:

    drop the output σ'(z):   δ_out = o - t instead of (o - t)·σ'(z_out)
    drop every σ'(z):        also δ_hidden = Σ w·δ instead of Σ w·δ·σ'(z_hidden)

Dropping only the output's σ'(z) turns out to be the gradient of cross-entropy (the demo checks it):
training with it minimises a different cost. Dropping every σ'(z) is the gradient of no cost at all.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograd import Value, dot, vsum

from . import _textbook
from ._common import angle_degrees, demo_arguments, output_folder, print_written, pyplot, save_figure
from ._networks import as_values, flat, log_loss_from_logit

NAME = "half"
QUESTION = "Why the ½ in squared error, and why may we drop the 2 but not σ'(z)?"
SCHEMES = ("squared", "half", "drop-output-sigmoid", "drop-every-sigmoid", "cross-entropy")
SCHEME_TEXT = {
    "squared": "(t - o)²",
    "half": "½(t - o)²: the true gradient",
    "drop-output-sigmoid": "½(t - o)² with the output's σ'(z) dropped (= cross-entropy's gradient)",
    "drop-every-sigmoid": "½(t - o)² with every σ'(z) dropped",
    "cross-entropy": "cross-entropy",
}
LAYER_SIZES = (2, 3, 1)
# XOR: the smallest problem a net needs a hidden layer for.
XOR_EXAMPLES = (((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0))

Thetas = list[list[list[float]]]


def initial_weights(seed: int = 3, sizes: Sequence[int] = LAYER_SIZES) -> Thetas:
    """Uniform(-1, 1) weights in the textbook layout: one row per unit, column 0 the bias."""
    rng = random.Random(seed)
    return [
        [[rng.uniform(-1.0, 1.0) for _ in range(fan_in + 1)] for _ in range(fan_out)]
        for fan_in, fan_out in itertools.pairwise(sizes)
    ]


def _activation(z: Value, keep_sigmoid_derivative: bool) -> Value:
    if keep_sigmoid_derivative:
        return z.sigmoid()
    # Straight-through: forward value σ(z), derivative 1 (z plus a constant), i.e. σ'(z) dropped.
    return z + (_textbook.sigmoid(z.data) - z.data)


def example_loss(
    thetas: Sequence[Sequence[Sequence[Value]]], x: Sequence[float], t: float, scheme: str
) -> Value:
    """One example's loss under `scheme` (its gradient is the scheme's gradient)."""
    if scheme not in SCHEMES:
        raise ValueError(f"example_loss: unknown scheme {scheme!r}; expected one of {SCHEMES}")
    activations: Sequence[float | Value] = x
    for layer, theta in enumerate(thetas):
        is_output = layer == len(thetas) - 1
        keep = not (scheme == "drop-every-sigmoid" or (scheme == "drop-output-sigmoid" and is_output))
        zs = [dot(row[1:], activations, bias=row[0]) for row in theta]
        if is_output and scheme == "cross-entropy":
            return log_loss_from_logit(zs[0], t)
        activations = [_activation(z, keep) for z in zs]
    output = activations[0]
    if scheme == "squared":
        return (t - output) ** 2
    return 0.5 * (t - output) ** 2


def gradient(thetas: Thetas, examples: Sequence[tuple[Sequence[float], float]], scheme: str) -> list[float]:
    """The scheme's gradient, summed over `examples`, for every weight (flat, layer by layer)."""
    weights = as_values(thetas)
    vsum([example_loss(weights, x, t, scheme) for x, t in examples]).backward()
    return [w.grad for w in flat(weights)]


def squared_error(thetas: Thetas, examples: Sequence[tuple[Sequence[float], float]]) -> float:
    """½ Σ (t - o)² over the examples."""
    return sum(0.5 * (t - _textbook.forward_activations(thetas, x)[-1][0]) ** 2 for x, t in examples)


@dataclass(frozen=True)
class TrainingRun:
    """One scheme's training run: ½Σ(t - o)² after every epoch, the angle to the true gradient per step."""

    scheme: str
    errors: list[float]
    angles: list[float]
    thetas: Thetas


def train(
    scheme: str,
    thetas: Thetas | None = None,
    examples: Sequence[tuple[Sequence[float], float]] = XOR_EXAMPLES,
    epochs: int = 2000,
    learning_rate: float = 2.0,
) -> TrainingRun:
    """Full-batch gradient descent on XOR with the scheme's gradient, measured by ½Σ(t - o)²."""
    current = [[list(row) for row in theta] for theta in (initial_weights() if thetas is None else thetas)]
    errors, angles = [squared_error(current, examples)], []
    for _ in range(epochs):
        step = gradient(current, examples, scheme)
        angles.append(angle_degrees(step, gradient(current, examples, "half")) if scheme != "half" else 0.0)
        flat_weights = iter(step)
        for theta in current:
            for row in theta:
                for column in range(len(row)):
                    row[column] -= learning_rate * next(flat_weights)
        errors.append(squared_error(current, examples))
    return TrainingRun(scheme, errors, angles, current)


def plot_runs(runs: Sequence[TrainingRun], path: Path) -> Path:
    """The squared error while training with each gradient, and each gradient's angle to the true one."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    colours = {"half": "black", "drop-output-sigmoid": "tab:blue", "drop-every-sigmoid": "tab:red"}
    for run in runs:
        label = SCHEME_TEXT[run.scheme]
        axes[0].plot(run.errors, color=colours[run.scheme], linewidth=2, label=label)
        if run.scheme != "half":
            axes[1].plot(
                range(1, len(run.angles) + 1), run.angles, color=colours[run.scheme], linewidth=2, label=label
            )
    axes[0].set(
        title="Training XOR (2-3-1 sigmoid net) with each gradient",
        xlabel="epoch (full batch, η = 2)",
        ylabel="½ Σ (t - o)²",
        yscale="log",
    )
    axes[1].set(
        title="Angle between the gradient used and the true ½(t - o)² gradient",
        xlabel="epoch",
        ylabel="angle (degrees)",
    )
    axes[1].axhline(90, color="grey", linestyle=":", label="90°: no longer a descent direction")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    return save_figure(
        figure,
        path,
        title="Dropping the constant 2 only rescales the gradient; dropping σ'(z) changes its direction",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    thetas = initial_weights()
    print(QUESTION)
    full = gradient(thetas, XOR_EXAMPLES, "squared")
    half = gradient(thetas, XOR_EXAMPLES, "half")
    ratios = [f / h for f, h in zip(full, half) if h != 0.0]
    print(f"\n2-3-1 sigmoid net on XOR, {len(half)} weights. ∂(t-o)²/∂w ÷ ∂½(t-o)²/∂w for every weight:")
    print(f"  min {min(ratios):.12f}, max {max(ratios):.12f}: exactly 2, so the direction is the same.")

    print("\nAngle between the true gradient and the 'simplified' ones:")
    print(f"{'':<28}{'drop output σ′':>16}{'drop every σ′':>16}")
    for number, example in enumerate(XOR_EXAMPLES, start=1):
        one = [example]
        true_one = gradient(thetas, one, "half")
        print(
            f"{f'example {number} alone':<28}"
            f"{angle_degrees(true_one, gradient(thetas, one, 'drop-output-sigmoid')):>15.2f}°"
            f"{angle_degrees(true_one, gradient(thetas, one, 'drop-every-sigmoid')):>15.2f}°"
        )
    print(
        f"{'all 4 examples (the batch)':<28}"
        f"{angle_degrees(half, gradient(thetas, XOR_EXAMPLES, 'drop-output-sigmoid')):>15.2f}°"
        f"{angle_degrees(half, gradient(thetas, XOR_EXAMPLES, 'drop-every-sigmoid')):>15.2f}°"
    )
    print(
        "For one example the output's σ'(z) is a single positive number, so dropping it only rescales;\n"
        "over a batch it weights each example differently, and inside the net it differs per unit."
    )
    cross = gradient(thetas, XOR_EXAMPLES, "cross-entropy")
    difference = max(abs(a - b) for a, b in zip(cross, gradient(thetas, XOR_EXAMPLES, "drop-output-sigmoid")))
    print(
        "Dropping the output's σ'(z) gives exactly the cross-entropy gradient"
        f" (largest difference {difference:.1e})."
    )

    runs = [train(scheme) for scheme in ("half", "drop-output-sigmoid", "drop-every-sigmoid")]
    print("\nTraining XOR for 2000 epochs (η = 2) with each gradient, ½Σ(t - o)² at the end:")
    for run in runs:
        print(f"  {SCHEME_TEXT[run.scheme]:<70} {run.errors[-1]:.5f}")
    folder = output_folder(NAME, args.out)
    print_written([plot_runs(runs, folder / "half_squared_error.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
