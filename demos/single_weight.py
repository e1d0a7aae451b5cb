"""How does ∂E/∂w move a weight? The single-weight network ŷ = σ(w·x) learning the identity.

Data: x ∈ {0, 1} with targets y = x; error E = ½ Σ (y - ŷ)². Gradient descent w ← w - η ∂E/∂w moves w
against the sign of the gradient: where ∂E/∂w < 0 the error falls as w grows, so w grows.

What the model cannot learn, honestly: at x = 0 the output is σ(w·0) = σ(0) = 0.5 whatever w is, so
that example always contributes ½(0 - 0.5)² = 0.125 and E never drops below 0.125. Adding a bias,
ŷ = σ(w·x + b), lets the net push σ(b) towards 0 for x = 0, and E goes to 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograd import Value, vsum

from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure

NAME = "single-weight"
QUESTION = "How does ∂E/∂w move a weight? (ŷ = σ(w·x) learning the identity on x ∈ {0, 1})"
DATA = ((0.0, 0.0), (1.0, 1.0))  # (x, y): the identity on {0, 1}
ERROR_FLOOR = 0.125  # ½ (0 - σ(0))², the part of E that no weight can remove without a bias


@dataclass(frozen=True)
class WeightStep:
    """One gradient-descent step: the parameters before it, E there, and ∂E/∂w (and ∂E/∂b)."""

    step: int
    w: float
    b: float | None
    error: float
    grad_w: float
    grad_b: float | None

    @property
    def moves_w_up(self) -> bool:
        """Gradient descent increases w exactly when ∂E/∂w is negative."""
        return self.grad_w < 0.0


def error(w: Value, b: Value | None = None, data: Sequence[tuple[float, float]] = DATA) -> Value:
    """E = ½ Σ (y - σ(w·x [+ b]))² over the data."""
    terms = []
    for x, y in data:
        z = w * x if b is None else w * x + b
        terms.append((y - z.sigmoid()) ** 2)
    return 0.5 * vsum(terms)


def train(
    w0: float = -2.0, b0: float | None = None, learning_rate: float = 2.0, steps: int = 200
) -> list[WeightStep]:
    """Gradient descent from w0 (and bias b0, if given); one `WeightStep` per step, plus the final state."""
    if steps < 0:
        raise ValueError(f"train: steps must be >= 0, got {steps}")
    w = Value(w0, "w")
    b = None if b0 is None else Value(b0, "b")
    history = []
    for step in range(steps + 1):
        w.grad = 0.0
        if b is not None:
            b.grad = 0.0
        e = error(w, b)
        e.backward()
        history.append(
            WeightStep(
                step,
                w.data,
                None if b is None else b.data,
                e.data,
                w.grad,
                None if b is None else b.grad,
            )
        )
        if step < steps:
            w.data -= learning_rate * w.grad
            if b is not None:
                b.data -= learning_rate * b.grad
    return history


def textbook_grad_w(w: float) -> float:
    """∂E/∂w = Σ (ŷ - y)·ŷ(1 - ŷ)·x for the bias-free model, written out by hand (the comparison)."""
    total = 0.0
    for x, y in DATA:
        y_hat = 1.0 / (1.0 + math.exp(-w * x))
        total += (y_hat - y) * y_hat * (1.0 - y_hat) * x
    return total


def format_steps(history: Sequence[WeightStep], count: int = 6) -> str:
    """The first `count` steps as a table: w, E, ∂E/∂w, its sign and the move it causes."""
    lines = [f"{'step':>4} {'w':>9} {'E':>9} {'∂E/∂w':>10}  move"]
    for entry in history[:count]:
        sign = "negative" if entry.grad_w < 0 else "positive" if entry.grad_w > 0 else "zero"
        move = "w goes up" if entry.moves_w_up else "w goes down"
        lines.append(
            f"{entry.step:>4} {entry.w:>9.4f} {entry.error:>9.5f} {entry.grad_w:>+10.5f}  {sign} → {move}"
        )
    return "\n".join(lines)


def plot_training(no_bias: Sequence[WeightStep], with_bias: Sequence[WeightStep], path: Path) -> Path:
    """E(w) with the trajectory on it, the parameters against step, and E against step."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8))

    grid = [-4.0 + 0.05 * i for i in range(int(14.0 / 0.05) + 1)]
    curve = [error(Value(w)).data for w in grid]
    axes[0].plot(grid, curve, color="black", linewidth=2, label="E(w) for ŷ = σ(w·x)")
    axes[0].axhline(ERROR_FLOOR, color="grey", linestyle=":", label="floor 0.125 = ½(0 - σ(0))²")
    shown = no_bias[:12]
    axes[0].scatter(
        [s.w for s in shown],
        [s.error for s in shown],
        color="tab:blue",
        zorder=3,
        label="first gradient-descent steps (η = 2)",
    )
    for entry in shown[:6]:
        # An arrow along -∂E/∂w: the direction the update moves w.
        axes[0].annotate(
            "",
            xy=(entry.w - 0.6 * entry.grad_w / abs(entry.grad_w), entry.error),
            xytext=(entry.w, entry.error),
            arrowprops={"arrowstyle": "->", "color": "tab:blue"},
        )
    axes[0].text(
        3.0,
        0.45,
        "∂E/∂w < 0 at every w:\nthe update -η·∂E/∂w always\nmoves w to the right (→)",
        fontsize=10,
        color="tab:blue",
    )
    axes[0].set(title="E(w): w moves against the sign of ∂E/∂w", xlabel="w", ylabel="E", ylim=(0, 0.7))
    axes[0].legend(fontsize=9)

    steps = [s.step for s in no_bias]
    bias_steps = [s.step for s in with_bias]
    axes[1].plot(steps, [s.w for s in no_bias], color="tab:blue", linewidth=2, label="w (no bias)")
    axes[1].plot(
        bias_steps,
        [s.w for s in with_bias],
        color="tab:orange",
        linewidth=2,
        label="w (with bias)",
    )
    axes[1].plot(
        bias_steps,
        [s.b for s in with_bias],
        color="tab:orange",
        linestyle="--",
        linewidth=2,
        label="b (with bias)",
    )
    axes[1].axhline(0, color="grey", linewidth=0.8)
    axes[1].set(title="Parameters during training", xlabel="step", ylabel="value")
    axes[1].legend(fontsize=9)

    axes[2].plot(steps, [s.error for s in no_bias], color="tab:blue", linewidth=2, label="ŷ = σ(w·x)")
    axes[2].plot(
        bias_steps,
        [s.error for s in with_bias],
        color="tab:orange",
        linewidth=2,
        label="ŷ = σ(w·x + b)",
    )
    axes[2].axhline(ERROR_FLOOR, color="grey", linestyle=":", label="0.125: σ(0) = 0.5 whatever w is")
    axes[2].set(title="Error: without a bias it cannot go below 0.125", xlabel="step", ylabel="E")
    axes[2].legend(fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    return save_figure(figure, path, title="The single-weight network learning the identity on x ∈ {0, 1}")


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    no_bias = train()
    with_bias = train(b0=0.0)
    print(QUESTION)
    print("\nŷ = σ(w·x), E = ½Σ(y - ŷ)², η = 2, starting at w = -2:")
    print(format_steps(no_bias))
    print(
        f"\nAfter {no_bias[-1].step} steps: w = {no_bias[-1].w:.3f}, E = {no_bias[-1].error:.5f}."
        f" ∂E/∂w was negative at every step: {all(s.moves_w_up for s in no_bias)}."
    )
    print(f"E cannot go below {ERROR_FLOOR}: at x = 0 the output is σ(w·0) = σ(0) = 0.5 for every w.")
    print(
        f"With a bias, ŷ = σ(w·x + b): after {with_bias[-1].step} steps w = {with_bias[-1].w:.3f},"
        f" b = {with_bias[-1].b:.3f}, E = {with_bias[-1].error:.5f}."
    )
    folder = output_folder(NAME, args.out)
    print_written([plot_training(no_bias, with_bias, folder / "single_weight.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
