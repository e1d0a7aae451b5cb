"""Why does cross-entropy learn faster than the quadratic cost with a sigmoid? (Nielsen, ch. 3)

One sigmoid neuron, input x = 1, target y = 0, learning rate 0.15, plain gradient descent on w and b,
from two starts (w, b) = (0.6, 0.9) and (2, 2), with two costs:

    quadratic       C = (y - a)² / 2                    ∂C/∂w = x (a - y) σ'(z)
    cross-entropy   C = -[y ln a + (1 - y) ln(1 - a)]   ∂C/∂w = x (σ(z) - y)

The gradients come from `backward()`; the two formulas on the right are computed separately and
compared with them. From (2, 2) the neuron starts saturated (a = 0.98), σ'(z) is tiny, and the
quadratic cost barely moves for ~150 epochs; cross-entropy has no σ'(z) factor and learns at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograd import Value

from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure
from ._networks import log_loss_from_logit

NAME = "cross-entropy"
QUESTION = "Why does cross-entropy learn faster than the quadratic cost with a sigmoid? (Nielsen)"
COSTS = ("quadratic", "cross-entropy")
STARTS = ((0.6, 0.9), (2.0, 2.0))
TABLE_EPOCHS = (0, 50, 100, 150, 200, 250, 300)


@dataclass(frozen=True)
class NeuronStep:
    """The neuron at the start of one epoch, with the gradients `backward()` found there."""

    epoch: int
    w: float
    b: float
    z: float
    output: float
    cost: float
    grad_w: float
    grad_b: float


def neuron_cost(w: Value, b: Value, cost: str, x: float = 1.0, y: float = 0.0) -> tuple[Value, Value]:
    """(z, C) for one sigmoid neuron a = σ(w·x + b) under the named cost."""
    z = w * x + b
    if cost == "quadratic":
        return z, 0.5 * (y - z.sigmoid()) ** 2
    if cost == "cross-entropy":
        return z, log_loss_from_logit(z, y)
    raise ValueError(f"neuron_cost: unknown cost {cost!r}; expected one of {COSTS}")


def train_neuron(
    w0: float, b0: float, cost: str, epochs: int = 300, eta: float = 0.15, x: float = 1.0, y: float = 0.0
) -> list[NeuronStep]:
    """Gradient descent on (w, b); one `NeuronStep` per epoch 0..epochs (the last one is not applied)."""
    if epochs < 0:
        raise ValueError(f"train_neuron: epochs must be >= 0, got {epochs}")
    w, b = Value(w0, "w"), Value(b0, "b")
    history = []
    for epoch in range(epochs + 1):
        w.grad = b.grad = 0.0
        z, c = neuron_cost(w, b, cost, x, y)
        c.backward()
        history.append(NeuronStep(epoch, w.data, b.data, z.data, _sigmoid(z.data), c.data, w.grad, b.grad))
        if epoch < epochs:
            w.data -= eta * w.grad
            b.data -= eta * b.grad
    return history


def textbook_grad_w(step: NeuronStep, cost: str, x: float = 1.0, y: float = 0.0) -> float:
    """Nielsen's closed forms: x(a - y)σ'(z) for the quadratic cost, x(σ(z) - y) for cross-entropy."""
    a = step.output
    if cost == "quadratic":
        return x * (a - y) * a * (1.0 - a)
    if cost == "cross-entropy":
        return x * (a - y)
    raise ValueError(f"textbook_grad_w: unknown cost {cost!r}; expected one of {COSTS}")


def run_all(epochs: int = 300) -> dict[tuple[str, tuple[float, float]], list[NeuronStep]]:
    """All four runs: every cost from every start."""
    return {(cost, start): train_neuron(*start, cost, epochs=epochs) for cost in COSTS for start in STARTS}


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _label(cost: str, start: tuple[float, float]) -> str:
    return f"{cost}, start w={start[0]:g}, b={start[1]:g}"


def plot_runs(runs: dict[tuple[str, tuple[float, float]], list[NeuronStep]], path: Path) -> Path:
    """Output, cost and |∂C/∂w| against epoch for all four runs in one figure."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    colours = {STARTS[0]: "tab:blue", STARTS[1]: "tab:red"}
    styles = {"quadratic": "-", "cross-entropy": "--"}
    for (cost, start), history in runs.items():
        epochs = [step.epoch for step in history]
        style = {
            "color": colours[start],
            "linestyle": styles[cost],
            "linewidth": 2,
            "label": _label(cost, start),
        }
        axes[0].plot(epochs, [step.output for step in history], **style)
        axes[1].plot(epochs, [step.cost for step in history], **style)
        axes[2].plot(epochs, [abs(step.grad_w) for step in history], **style)
    axes[0].set(title="Output a = σ(w·1 + b) (target 0)", xlabel="epoch", ylabel="output a", ylim=(0, 1))
    axes[1].set(title="Cost", xlabel="epoch", ylabel="cost C (log scale)", yscale="log")
    axes[2].set(title="|∂C/∂w| from backward()", xlabel="epoch", ylabel="|∂C/∂w| (log scale)", yscale="log")
    for ax in axes:
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=10, bbox_to_anchor=(0.5, -0.06))
    return save_figure(
        figure,
        path,
        title=(
            "One sigmoid neuron, x = 1, y = 0, η = 0.15: the quadratic cost stalls when the neuron "
            "starts saturated; cross-entropy does not"
        ),
    )


def format_table(runs: dict[tuple[str, tuple[float, float]], list[NeuronStep]]) -> str:
    """Output a at epochs 0, 50, ..., 300 for each run, as a text table."""
    header = f"{'run':<38}" + "".join(f"{epoch:>8}" for epoch in TABLE_EPOCHS)
    lines = [header, "-" * len(header)]
    for (cost, start), history in runs.items():
        cells = "".join(f"{history[epoch].output:>8.4f}" for epoch in TABLE_EPOCHS if epoch < len(history))
        lines.append(f"{_label(cost, start):<38}{cells}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    runs = run_all()
    print(QUESTION)
    print("\nOutput a at epoch (x = 1, y = 0, η = 0.15):")
    print(format_table(runs))
    worst = max(
        abs(step.grad_w - textbook_grad_w(step, cost))
        for (cost, _), history in runs.items()
        for step in history
    )
    print(
        "\n∂C/∂w from backward() vs Nielsen's formulas x(a-y)σ'(z) and x(σ(z)-y), over all 4 × 301 epochs:"
        f" largest difference {worst:.1e}"
    )
    slow, fast = runs[("quadratic", (2.0, 2.0))][0], runs[("cross-entropy", (2.0, 2.0))][0]
    print(
        f"At (w, b) = (2, 2): σ'(z) = {slow.output * (1 - slow.output):.4f}, so the quadratic cost's"
        f" ∂C/∂w = {slow.grad_w:.4f} while cross-entropy's = {fast.grad_w:.4f}"
    )
    folder = output_folder(NAME, args.out)
    print_written([plot_runs(runs, folder / "cross_entropy_vs_quadratic.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
