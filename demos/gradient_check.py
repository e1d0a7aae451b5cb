"""Gradient checking as Ng's ex4 does it: is backprop's gradient the slope the cost really has?

The check network of Coursera ML ex4: 3 inputs, 5 sigmoid hidden units, 3 sigmoid outputs, m = 5
examples. Weights and inputs are sin(1..n)/10 laid out column by column (MATLAB order), labels
y = 1 + (i mod 3). The cost is the (optionally regularised) log loss

    J(Θ) = (1/m) Σᵢ Σₖ [-yₖ log hₖ - (1 - yₖ) log(1 - hₖ)] + λ/(2m) Σ Θ²  (bias columns excluded)

`autograd.check_grads` compares `backward()`'s gradient with two-sided differences (ε = 1e-4);
Ng's test passes when ‖numeric - analytic‖ / ‖numeric + analytic‖ < 1e-9. As a second, independent
check, the textbook's recursion (δ3 = a3 - y, δ2 = Θ2ᵀδ3 ∘ g'(z2), D = Δ/m + (λ/m)Θ) is computed by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from autograd import GradCheckReport, Value, check_grads, vsum

from . import _textbook
from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure
from ._networks import as_values, flat, log_loss_from_logit, pre_activations, reshape_like

NAME = "gradcheck"
QUESTION = "Is backprop right? Gradient checking as in Ng's ex4 (3-5-3 net, relative difference < 1e-9)"
INPUT_SIZE, HIDDEN_SIZE, NUM_LABELS, NUM_EXAMPLES = 3, 5, 3, 5
EPSILON = 1e-4
THRESHOLD = 1e-9


def debug_matrix(rows: int, columns: int) -> list[list[float]]:
    """sin(1), sin(2), ... / 10 filled column by column, as MATLAB's reshape(sin(1:n), rows, columns)."""
    return [[math.sin(1 + row + rows * column) / 10.0 for column in range(columns)] for row in range(rows)]


def check_problem() -> tuple[list[list[list[float]]], list[list[float]], list[list[float]]]:
    """(thetas, inputs, one-hot targets) of ex4's checkNNGradients."""
    thetas = [debug_matrix(HIDDEN_SIZE, 1 + INPUT_SIZE), debug_matrix(NUM_LABELS, 1 + HIDDEN_SIZE)]
    inputs = debug_matrix(NUM_EXAMPLES, INPUT_SIZE)
    labels = [1 + (i % 3) for i in range(1, NUM_EXAMPLES + 1)]  # 1 + mod(1:m, 3): 2, 3, 1, 2, 3
    targets = [[1.0 if label == k + 1 else 0.0 for k in range(NUM_LABELS)] for label in labels]
    return thetas, inputs, targets


def ng_cost(
    thetas: Sequence[Sequence[Sequence[Value]]],
    inputs: Sequence[Sequence[float]],
    targets: Sequence[Sequence[float]],
    lam: float = 0.0,
) -> Value:
    """Ng's regularised log loss J(Θ) as one Value (computed from the output logits, stably)."""
    m = len(inputs)
    terms = []
    for x, y in zip(inputs, targets):
        output_z = pre_activations(thetas, x)[-1]
        for z, target in zip(output_z, y):
            terms.append(log_loss_from_logit(z, target))
    cost = vsum(terms) / m
    if lam:
        cost = cost + lam / (2.0 * m) * vsum([w * w for theta in thetas for row in theta for w in row[1:]])
    return cost


def run_check(lam: float = 0.0) -> GradCheckReport:
    """check_grads on the ex4 check network with ε = 1e-4 (raises GradientMismatchError on a mismatch)."""
    thetas, inputs, targets = check_problem()
    leaves = flat(as_values(thetas))

    def cost(*weights: Value) -> Value:
        return ng_cost(reshape_like(weights, thetas), inputs, targets, lam)

    return check_grads(cost, leaves, eps=EPSILON, rtol=1e-6, atol=1e-9)


def textbook_gradient(lam: float = 0.0) -> list[float]:
    """Ng's D = Δ/m + (λ/m)Θ (no decay on the bias column) from the hand-written delta recursion."""
    thetas, inputs, targets = check_problem()
    examples = list(zip(inputs, targets))
    return _textbook.averaged_gradient(thetas, examples, _textbook.log_loss_delta, decay=lam / len(examples))


def plot_reports(reports: Mapping[float, GradCheckReport], path: Path) -> Path:
    """Per weight, |central difference - backward()| on a log scale, one series per λ."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(8, 4.5))
    floor = 1e-18  # an exact agreement (difference 0) is drawn at the bottom of the scale
    for (lam, report), marker in zip(reports.items(), ("o", "s")):
        ax.scatter(
            [entry.index for entry in report.entries],
            [max(entry.abs_error, floor) for entry in report.entries],
            marker=marker,
            s=22,
            label=f"λ = {lam:g}: ‖num - backward‖ / ‖num + backward‖ = {report.relative_difference:.1e}",
        )
    ax.set(
        yscale="log",
        xlabel="weight (Θ1 then Θ2, column by column)",
        ylabel="|central difference - backward()|",
        title=f"Gradient check of Ng's 3-5-3 network (ε = {EPSILON:g}); Ng's test passes below 1e-9",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=9)
    return save_figure(figure, path)


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    print(QUESTION)
    reports = {}
    for lam in (0.0, 3.0):
        report = reports[lam] = run_check(lam)
        textbook = textbook_gradient(lam)
        worst = max(abs(entry.analytic - t) for entry, t in zip(report.entries, textbook))
        thetas, inputs, targets = check_problem()
        cost = ng_cost(as_values(thetas), inputs, targets, lam).data
        print(f"\nλ = {lam:g}: J = {cost:.6f}, {len(report.entries)} weights, ε = {EPSILON:g}")
        print(f"{'weight':<10}{'backward()':>14}{'numeric':>14}")
        for entry in report.entries[:6]:
            print(f"{entry.label:<10}{entry.analytic:>14.10f}{entry.numeric:>14.10f}")
        print(f"... ({len(report.entries) - 6} more)")
        print(
            f"relative difference ‖num - backward‖ / ‖num + backward‖ = {report.relative_difference:.2e}"
            f" ({'below' if report.relative_difference < THRESHOLD else 'ABOVE'} Ng's 1e-9)"
        )
        print(f"backward() vs the textbook recursion D = Δ/m + (λ/m)Θ: largest difference {worst:.1e}")
    folder = output_folder(NAME, args.out)
    print_written([plot_reports(reports, folder / "gradient_check.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
