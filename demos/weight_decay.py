"""Why average over examples, and what does the weight-decay term do? (UFLDL's J(W, b))

UFLDL's backpropagation tutorial minimises

    J(W, b) = (1/m) Σᵢ ½‖h(xᵢ) - yᵢ‖²  +  (λ/2) Σ W²        (weights only: no biases, not divided by m)

and states its gradient as ∇W J = (1/m) ΔW + λW, ∇b J = (1/m) Δb, with Δ the per-example gradients
summed by the delta recursion. Here `backward()` computes ∇J and three things are checked:

- averaging only rescales: ∇ of the average = (1/m) × ∇ of the sum, for every parameter;
- the decay term adds exactly λW to each weight's gradient and nothing to the biases';
- the whole gradient equals the textbook's (1/m)ΔW + λW, with Δ from the hand-written recursion.

A gradient step is then W ← W - α((1/m)ΔW + λW) = (1 - αλ)·W - α(1/m)ΔW: every step first shrinks
each weight by the factor (1 - αλ), which is why it is called weight decay. Training with several λ
shows the weights' size falling as λ grows.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograd import GradCheckReport, Value, check_grads, vsum

from . import _textbook
from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure
from ._networks import as_values, flat, pre_activations, reshape_like

NAME = "weight-decay"
QUESTION = "Why average over examples, and what does the weight-decay term do? (UFLDL's J(W, b))"
LAYER_SIZES = (3, 4, 2)
LAMBDAS = (0.0, 0.0001, 0.001, 0.01)

Thetas = list[list[list[float]]]
Examples = list[tuple[tuple[float, ...], tuple[float, ...]]]


def make_examples() -> Examples:
    """The 8 three-bit inputs; targets: the majority bit, and x1 XOR x3."""
    examples = []
    for bits in itertools.product((0.0, 1.0), repeat=3):
        majority = 1.0 if sum(bits) >= 2 else 0.0
        examples.append((bits, (majority, float(bits[0] != bits[2]))))
    return examples


def initial_weights(seed: int = 0, sizes: Sequence[int] = LAYER_SIZES) -> Thetas:
    """Small random weights N(0, 0.5²), one row per unit with the bias in column 0."""
    rng = random.Random(seed)
    return [
        [[rng.gauss(0.0, 0.5) for _ in range(fan_in + 1)] for _ in range(fan_out)]
        for fan_in, fan_out in itertools.pairwise(sizes)
    ]


def cost(
    thetas: Sequence[Sequence[Sequence[Value]]], examples: Examples, lam: float = 0.0, average: bool = True
) -> Value:
    """UFLDL's J(W, b): the (averaged or summed) half squared error plus (λ/2) Σ W² over weights only."""
    terms = []
    for x, y in examples:
        outputs = [z.sigmoid() for z in pre_activations(thetas, x)[-1]]
        terms.append(0.5 * vsum([(o - target) ** 2 for o, target in zip(outputs, y)]))
    data_term = vsum(terms)
    if average:
        data_term = data_term / len(examples)
    if not lam:
        return data_term
    # Column 0 of each row is the bias: UFLDL does not decay biases.
    return data_term + lam / 2.0 * vsum([w * w for theta in thetas for row in theta for w in row[1:]])


def gradient(thetas: Thetas, examples: Examples, lam: float = 0.0, average: bool = True) -> list[float]:
    """∇J from `backward()`, flat (layer by layer, row by row, bias first)."""
    weights = as_values(thetas, "W")
    cost(weights, examples, lam, average).backward()
    return [w.grad for w in flat(weights)]


def textbook_gradient(thetas: Thetas, examples: Examples, lam: float) -> list[float]:
    """UFLDL's ∇W J = (1/m)ΔW + λW, ∇b J = (1/m)Δb, with Δ from the hand-written delta recursion."""
    return _textbook.averaged_gradient(thetas, examples, _textbook.squared_error_delta, decay=lam)


def is_bias(thetas: Thetas) -> list[bool]:
    """For each flat position: is it a bias (column 0)?"""
    return [column == 0 for theta in thetas for row in theta for column in range(len(row))]


def run_check(lam: float = 0.01) -> GradCheckReport:
    """check_grads on J with UFLDL's ε = 1e-4, asking for 4 significant digits (rtol 1e-4)."""
    thetas, examples = initial_weights(), make_examples()

    def j(*weights: Value) -> Value:
        return cost(reshape_like(weights, thetas), examples, lam)

    return check_grads(j, flat(as_values(thetas, "W")), eps=1e-4, rtol=1e-4, atol=1e-8)


@dataclass(frozen=True)
class DecayRun:
    """Training with one λ: √ΣW² and the data term after every step, and the final weights."""

    lam: float
    weight_norms: list[float]
    data_costs: list[float]
    final_weights: list[float]


def train(lam: float, steps: int = 1000, learning_rate: float = 2.0) -> DecayRun:
    """Gradient descent on J(W, b) with the given λ from the same initial weights."""
    thetas = initial_weights()
    examples = make_examples()
    weights = as_values(thetas, "W")
    parameters = flat(weights)
    decayed = [w for w, bias in zip(parameters, is_bias(thetas)) if not bias]
    norms, data_costs = [], []
    for step in range(steps + 1):
        norms.append(math.sqrt(math.fsum(w.data * w.data for w in decayed)))
        for p in parameters:
            p.grad = 0.0
        j = cost(weights, examples, lam)
        data_costs.append(j.data - lam / 2.0 * norms[-1] ** 2)
        if step == steps:
            break
        j.backward()
        for p in parameters:
            p.data -= learning_rate * p.grad
    return DecayRun(lam, norms, data_costs, [w.data for w in decayed])


def plot_runs(runs: Sequence[DecayRun], path: Path) -> Path:
    """The weights' norm, the data term, and the final weights, for each λ."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    colours = plt.get_cmap("viridis")
    for index, run in enumerate(runs):
        colour = colours(index / max(1, len(runs) - 1) * 0.85)
        label = f"λ = {run.lam:g}"
        axes[0].plot(run.weight_norms, color=colour, linewidth=2, label=label)
        axes[1].plot(run.data_costs, color=colour, linewidth=2, label=label)
        jitter = [index + 0.25 * math.sin(7.0 * k) for k in range(len(run.final_weights))]
        axes[2].scatter(jitter, run.final_weights, color=colour, s=18, label=label)
    axes[0].set(title="Size of the weights √ΣW² (biases excluded)", xlabel="gradient step", ylabel="√ΣW²")
    axes[1].set(
        title="Data term (1/m) Σ ½‖h(x) - y‖²", xlabel="gradient step", ylabel="data term", yscale="log"
    )
    axes[2].set(
        title="Every weight after training",
        xticks=range(len(runs)),
        xticklabels=[f"λ = {run.lam:g}" for run in runs],
        ylabel="weight value",
    )
    axes[2].axhline(0, color="grey", linewidth=0.8)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend()
    axes[1].legend()
    return save_figure(
        figure,
        path,
        title=(
            "Weight decay on a 3-4-2 sigmoid net (8 examples, α = 2): each step multiplies W by (1 - αλ) "
            "before the data pulls on it"
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    print(QUESTION)
    thetas, examples = initial_weights(), make_examples()
    m = len(examples)
    averaged = gradient(thetas, examples, average=True)
    summed = gradient(thetas, examples, average=False)
    print(f"\n3-4-2 sigmoid net, m = {m} examples, {len(averaged)} parameters.")
    print(
        "∇(average) vs (1/m)·∇(sum): largest difference"
        f" {max(abs(a - s / m) for a, s in zip(averaged, summed)):.1e}: averaging only rescales the gradient"
        " (so the learning rate does not depend on m)."
    )
    lam = 0.01
    decayed = gradient(thetas, examples, lam)
    weights = [w for theta in thetas for row in theta for w in row]
    extra = [d - a for d, a in zip(decayed, averaged)]
    bias = is_bias(thetas)
    print(
        f"∇J(λ = {lam}) - ∇J(λ = 0): equals λW for every weight (largest difference"
        f" {max(abs(e - lam * w) for e, w, b in zip(extra, weights, bias) if not b):.1e}) and is"
        f" {max(abs(e) for e, b in zip(extra, bias) if b):.1e} for the biases."
    )
    textbook = textbook_gradient(thetas, examples, lam)
    print(
        "backward() vs the textbook (1/m)ΔW + λW, (1/m)Δb from the delta recursion: largest difference"
        f" {max(abs(d - t) for d, t in zip(decayed, textbook)):.1e}"
    )
    report = run_check(lam)
    print(
        f"Gradient check (ε = 1e-4): largest relative error {report.max_rel_error:.1e}"
        f" ({'at least 4 significant digits' if report.ok else 'MISMATCH'})"
    )

    runs = [train(lam) for lam in LAMBDAS]
    print(f"\nTraining {len(runs[0].weight_norms) - 1} steps (α = 2) from the same start, per λ:")
    print(f"{'λ':>8} {'√ΣW² at the end':>17} {'data term':>11}")
    for run in runs:
        print(f"{run.lam:>8g} {run.weight_norms[-1]:>17.3f} {run.data_costs[-1]:>11.5f}")
    folder = output_folder(NAME, args.out)
    print_written([plot_runs(runs, folder / "weight_decay.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
