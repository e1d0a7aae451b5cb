"""Newton's method or gradient descent? One sigmoid neuron ŷ = σ(w·x + b), its two parameters.

The loss is the mean log loss L(w, b) = (1/n) Σ -[y ln ŷ + (1 - y) ln(1 - ŷ)] on ten points
x = 0.5, 1, ..., 5 whose labels overlap (a 1 at x = 2 before a 0 at x = 2.5 and 3.5), so no
threshold separates them and the minimum is finite. Both methods start at (w, b) = (-2, 4), where
the neuron predicts the opposite of the data, and stop when ‖∇L‖ < 1e-8.

- Gradient descent: θ ← θ - η ∇L with η = 1/β, where β = ¼ λ_max((1/n) Σ [x² x; x 1]) bounds the
  curvature everywhere (σ' ≤ ¼), the largest fixed step that is guaranteed to lower the loss.
  Near the minimum ‖∇L‖ shrinks by the factor 1 - η λ_min(H) per step: linear convergence, slow
  when the loss valley is long and narrow (the data's x are not centred, so w and b trade off).
- Newton's method: θ ← θ - H⁻¹ ∇L, with H from ``autograd.hessian`` (the gradient of the gradient,
  built by ``grad(create_graph=True)``). It rescales every direction by its curvature; near the
  minimum the number of correct digits doubles per step (quadratic convergence).

Newton's step is made robust in two ways, both reported as it runs:

- If H is not positive definite (an eigenvalue below MIN_CURVATURE = 1e-8), the step uses H with
  each eigenvalue λ replaced by max(|λ|, MIN_CURVATURE) instead: the same directions and the same
  amounts of curvature, but every one curving upwards, so the step goes downhill and away from a
  saddle (a negative λ would send plain Newton towards it). The log loss is convex, so here H is
  never indefinite, only nearly singular where the neuron saturates (the change is tested on a
  non-convex function).
- A positive definite H can still point a step far too long: far from the minimum the neuron
  saturates, the curvature vanishes, and H⁻¹ is huge. So the step is halved until the loss drops by
  at least 1e-4 of what the gradient predicts (Armijo's backtracking line search). Undamped, the
  demo's first Newton step would raise the loss, and the second would saturate the neuron on all but
  one point, where H is that one point's σ'(z) [x² x; x 1]: singular, its determinant exactly 0.
  Near the minimum the full step is accepted and the convergence is quadratic again.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import autograd
from autograd import Value, grad, vsum

from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure
from ._networks import log_loss_from_logit

NAME = "newton"
QUESTION = (
    "Newton's method or gradient descent? One sigmoid neuron (w, b), Newton's step from autograd.hessian"
)
DATA_X = tuple(0.5 * i for i in range(1, 11))  # 0.5, 1.0, ..., 5.0
DATA_Y = (0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0)  # overlapping: not separable
START = (-2.0, 4.0)
TOLERANCE = 1e-8  # stop when ‖∇L‖ < TOLERANCE
MIN_CURVATURE = 1e-8  # Newton's step uses max(|λ|, MIN_CURVATURE) for H's eigenvalues λ below it
ARMIJO_FRACTION = 1e-4  # accept a step when the loss drops by this fraction of the predicted drop
MAX_HALVINGS = 60
MAX_NEWTON_ITERATIONS = 100
MAX_GD_ITERATIONS = 20_000

Matrix = list[list[float]]
Loss = Callable[[list[Value]], Value]


def neuron_loss(parameters: Sequence[Value]) -> Value:
    """L(w, b): the mean log loss of σ(w·x + b) on the data (from the logit, stably)."""
    if len(parameters) != 2:
        raise ValueError(f"neuron_loss: expected the 2 parameters (w, b), got {len(parameters)}")
    w, b = parameters
    return vsum([log_loss_from_logit(w * x + b, y) for x, y in zip(DATA_X, DATA_Y)]) / len(DATA_X)


def loss_at(f: Loss, point: Sequence[float]) -> float:
    """f at `point` as a float."""
    return f([Value(p) for p in point]).data


def gradient_at(f: Loss, point: Sequence[float]) -> list[float]:
    """∇f at `point`: one backward pass (``autograd.grad``)."""
    leaves = [Value(p) for p in point]
    return grad(f(leaves), leaves)


def textbook_hessian(w: float, b: float) -> Matrix:
    """The log loss's Hessian written out: (1/n) Σ σ'(z) [x² x; x 1], σ'(z) = σ(z)(1 - σ(z))."""
    entries = [[0.0, 0.0], [0.0, 0.0]]
    for x in DATA_X:
        s = 1.0 / (1.0 + math.exp(-(w * x + b)))
        curvature = s * (1.0 - s) / len(DATA_X)
        entries[0][0] += curvature * x * x
        entries[0][1] += curvature * x
        entries[1][0] += curvature * x
        entries[1][1] += curvature
    return entries


def eigenvalues(matrix: Matrix) -> tuple[float, float]:
    """(smallest, largest) eigenvalue of the symmetric part of a 2 x 2 matrix."""
    a, d = matrix[0][0], matrix[1][1]
    c = 0.5 * (matrix[0][1] + matrix[1][0])
    middle, radius = 0.5 * (a + d), math.hypot(0.5 * (a - d), c)
    return middle - radius, middle + radius


def newton_direction(gradient: Sequence[float], hessian: Matrix) -> tuple[list[float], bool]:
    """(d, modified): Newton's direction d = -H⁻¹∇ for a 2 x 2 H (its symmetric part), and whether
    H had to be modified first. When an eigenvalue of H is below MIN_CURVATURE, d is computed with
    every eigenvalue λ replaced by max(|λ|, MIN_CURVATURE), so that d always points downhill
    (∇·d < 0 for a non-zero gradient)."""
    if len(gradient) != 2 or len(hessian) != 2 or any(len(row) != 2 for row in hessian):
        raise ValueError("newton_direction: expects a 2-entry gradient and a 2 x 2 Hessian")
    if not all(math.isfinite(v) for v in [*gradient, *hessian[0], *hessian[1]]):
        raise ValueError(f"newton_direction: non-finite gradient {list(gradient)} or Hessian {hessian}")
    a, d = hessian[0][0], hessian[1][1]
    c = 0.5 * (hessian[0][1] + hessian[1][0])
    smallest, largest = eigenvalues(hessian)
    if smallest >= MIN_CURVATURE:  # positive definite: solve H d = -∇ directly
        determinant = a * d - c * c
        return [
            -(d * gradient[0] - c * gradient[1]) / determinant,
            -(a * gradient[1] - c * gradient[0]) / determinant,
        ], False
    # H = Σ λ v vᵀ / |v|²: for c ≠ 0 the eigenvector of λ is (λ - d, c); for c = 0 the axes.
    if c == 0.0:
        pairs = [(a, (1.0, 0.0)), (d, (0.0, 1.0))]
    else:
        pairs = [(value, (value - d, c)) for value in (smallest, largest)]
    direction = [0.0, 0.0]
    for value, (vx, vy) in pairs:
        curvature = max(abs(value), MIN_CURVATURE)
        along = (vx * gradient[0] + vy * gradient[1]) / (curvature * (vx * vx + vy * vy))
        direction[0] -= along * vx
        direction[1] -= along * vy
    return direction, True


@dataclass(frozen=True)
class Iterate:
    """One point of a run: the parameters, the loss and gradient there, and the step taken from it.

    `step_size` is the fraction of the Newton step (or the learning rate, for gradient descent)
    that was applied; `modified` whether the Hessian's eigenvalues had to be changed (see
    `newton_direction`); both None at the last point.
    """

    iteration: int
    point: tuple[float, float]
    loss: float
    gradient_norm: float
    smallest_curvature: float | None = None  # λ_min(H), Newton only
    step_size: float | None = None
    modified: bool | None = None


def newton(
    f: Loss = neuron_loss,
    start: Sequence[float] = START,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_NEWTON_ITERATIONS,
) -> list[Iterate]:
    """Damped Newton's method from `start` until ‖∇f‖ < tolerance: H from ``autograd.hessian``,
    modified if not positive definite, and a backtracking line search (see the module docstring).
    Raises RuntimeError if it does not converge in `max_iterations` or a line search fails."""
    point = [float(p) for p in start]
    history: list[Iterate] = []
    for iteration in range(max_iterations + 1):
        loss = loss_at(f, point)
        gradient = gradient_at(f, point)
        norm = math.hypot(*gradient)
        hessian = autograd.hessian(f, point)
        smallest, _ = eigenvalues(hessian)
        if norm < tolerance:
            history.append(Iterate(iteration, (point[0], point[1]), loss, norm, smallest))
            return history
        direction, modified = newton_direction(gradient, hessian)
        predicted = gradient[0] * direction[0] + gradient[1] * direction[1]  # < 0: downhill
        step_size = 1.0
        for _ in range(MAX_HALVINGS):
            trial = [p + step_size * d for p, d in zip(point, direction)]
            if loss_at(f, trial) <= loss + ARMIJO_FRACTION * step_size * predicted:
                break
            step_size /= 2.0
        else:
            raise RuntimeError(f"newton: no step along {direction} lowers the loss at {point}")
        history.append(Iterate(iteration, (point[0], point[1]), loss, norm, smallest, step_size, modified))
        point = trial
    raise RuntimeError(f"newton: ‖∇f‖ still {norm:.3g} after {max_iterations} iterations")


def undamped_newton(f: Loss = neuron_loss, start: Sequence[float] = START, steps: int = 2) -> list[Iterate]:
    """Plain θ ← θ - H⁻¹∇ from `start` for `steps` steps, stopping early where H is singular
    (its determinant exactly 0): what the damping protects against."""
    point = [float(p) for p in start]
    history = []
    for iteration in range(steps + 1):
        gradient = gradient_at(f, point)
        history.append(Iterate(iteration, (point[0], point[1]), loss_at(f, point), math.hypot(*gradient)))
        hessian = autograd.hessian(f, point)
        determinant = hessian[0][0] * hessian[1][1] - hessian[0][1] * hessian[1][0]
        if iteration == steps or determinant == 0.0:
            break
        point = [
            point[0] - (hessian[1][1] * gradient[0] - hessian[0][1] * gradient[1]) / determinant,
            point[1] - (hessian[0][0] * gradient[1] - hessian[1][0] * gradient[0]) / determinant,
        ]
    return history


def hessian_is_singular(point: Sequence[float]) -> bool:
    """Whether ``autograd.hessian`` of the neuron's loss at `point` has determinant exactly 0."""
    h = autograd.hessian(neuron_loss, point)
    return h[0][0] * h[1][1] - h[0][1] * h[1][0] == 0.0


def saturated_points(point: Sequence[float], margin: float = 40.0) -> int:
    """How many data points have |w·x + b| > margin at `point`: there σ'(z) < e⁻⁴⁰ ≈ 4e-18, so
    next to an unsaturated point's σ'(z) they add nothing to H in double precision."""
    w, b = point
    return sum(1 for x in DATA_X if abs(w * x + b) > margin)


def curvature_bound() -> float:
    """β = ¼ λ_max((1/n) Σ [x² x; x 1]) ≥ λ_max(H) at every (w, b), since σ'(z) ≤ ¼."""
    n = len(DATA_X)
    moments = [[sum(x * x for x in DATA_X) / n, sum(DATA_X) / n], [sum(DATA_X) / n, 1.0]]
    return 0.25 * eigenvalues(moments)[1]


def gradient_descent(
    f: Loss = neuron_loss,
    start: Sequence[float] = START,
    learning_rate: float | None = None,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_GD_ITERATIONS,
) -> list[Iterate]:
    """θ ← θ - η∇f from `start` until ‖∇f‖ < tolerance (η = 1/β, `curvature_bound`, by default).
    Raises RuntimeError if it does not converge in `max_iterations`."""
    eta = 1.0 / curvature_bound() if learning_rate is None else learning_rate
    if not eta > 0.0:
        raise ValueError(f"gradient_descent: learning_rate must be > 0, got {learning_rate!r}")
    point = [float(p) for p in start]
    history = []
    for iteration in range(max_iterations + 1):
        leaves = [Value(p) for p in point]
        loss = f(leaves)
        gradient = grad(loss, leaves)
        norm = math.hypot(*gradient)
        if norm < tolerance:
            history.append(Iterate(iteration, (point[0], point[1]), loss.data, norm))
            return history
        history.append(Iterate(iteration, (point[0], point[1]), loss.data, norm, step_size=eta))
        point = [p - eta * g for p, g in zip(point, gradient)]
    raise RuntimeError(f"gradient_descent: ‖∇f‖ still {norm:.3g} after {max_iterations} iterations")


def quadratic_ratios(history: Sequence[Iterate]) -> list[float]:
    """‖∇‖ₖ₊₁ / ‖∇‖ₖ² for every step: bounded when the convergence is quadratic."""
    return [after.gradient_norm / before.gradient_norm**2 for before, after in itertools.pairwise(history)]


def linear_rates(history: Sequence[Iterate]) -> list[float]:
    """‖∇‖ₖ₊₁ / ‖∇‖ₖ for every step: a constant below 1 when the convergence is linear."""
    return [after.gradient_norm / before.gradient_norm for before, after in itertools.pairwise(history)]


def predicted_gd_rate(minimum: Sequence[float], learning_rate: float | None = None) -> float:
    """max |1 - η λ| over the Hessian's eigenvalues at the minimum: GD's factor per step near it."""
    eta = 1.0 / curvature_bound() if learning_rate is None else learning_rate
    smallest, largest = eigenvalues(autograd.hessian(neuron_loss, minimum))
    return max(abs(1.0 - eta * smallest), abs(1.0 - eta * largest))


def format_newton(history: Sequence[Iterate]) -> str:
    """Newton's iterations as a table."""
    header = (
        f"{'k':>3} {'w':>10} {'b':>10} {'L':>12} {'‖∇L‖':>9} {'λ_min(H)':>9} {'step':>8}"
        f" {'‖∇L‖ₖ₊₁/‖∇L‖ₖ²':>15}"
    )
    lines = [header]
    ratios = [*quadratic_ratios(history), None]
    for entry, ratio in zip(history, ratios):
        step = "" if entry.step_size is None else f"{entry.step_size:g}"
        smallest = "" if entry.smallest_curvature is None else f"{entry.smallest_curvature:.2e}"
        ratio_text = "" if ratio is None else f"{ratio:.2f}"
        lines.append(
            f"{entry.iteration:>3} {entry.point[0]:>10.6f} {entry.point[1]:>10.6f} {entry.loss:>12.10f}"
            f" {entry.gradient_norm:>9.2e} {smallest:>9} {step:>8} {ratio_text:>15}"
        )
    return "\n".join(lines)


def loss_grid(
    w_range: tuple[float, float], b_range: tuple[float, float], size: int = 81
) -> tuple[list[float], list[float], list[list[float]]]:
    """(ws, bs, L[b][w]) on a size x size grid, for the contour plot."""
    ws = [w_range[0] + (w_range[1] - w_range[0]) * i / (size - 1) for i in range(size)]
    bs = [b_range[0] + (b_range[1] - b_range[0]) * i / (size - 1) for i in range(size)]
    return ws, bs, [[loss_at(neuron_loss, (w, b)) for w in ws] for b in bs]


def plot_runs(
    newton_run: Sequence[Iterate], gd_run: Sequence[Iterate], undamped: Sequence[Iterate], path: Path
) -> Path:
    """The two trajectories over L's contours in (w, b), and L - L* against the iteration."""
    plt = pyplot()
    figure, (contours, losses) = plt.subplots(
        1, 2, figsize=(12.5, 5.2), gridspec_kw={"width_ratios": [1.15, 1]}
    )
    best = min(newton_run[-1].loss, gd_run[-1].loss)
    w_range, b_range = (-3.0, 7.0), (-13.0, 5.5)
    ws, bs, grid = loss_grid(w_range, b_range)
    levels = [best + 0.0025 * 2.0**i for i in range(14)]
    drawn = contours.contour(ws, bs, grid, levels=levels, cmap="Greys_r", linewidths=0.8, alpha=0.7)
    contours.clabel(drawn, drawn.levels[::3], fmt="%.2f", fontsize=7)
    contours.plot(
        [s.point[0] for s in gd_run],
        [s.point[1] for s in gd_run],
        color="tab:blue",
        linewidth=1.8,
        label=f"gradient descent, η = {gd_run[0].step_size:.3f}: {len(gd_run) - 1} steps",
    )
    contours.plot(
        [s.point[0] for s in gd_run[:: max(1, len(gd_run) // 40)]],
        [s.point[1] for s in gd_run[:: max(1, len(gd_run) // 40)]],
        "o",
        color="tab:blue",
        markersize=2.5,
    )
    contours.plot(
        [s.point[0] for s in newton_run],
        [s.point[1] for s in newton_run],
        "o-",
        color="tab:red",
        linewidth=1.8,
        markersize=5,
        label=f"Newton (damped): {len(newton_run) - 1} steps",
    )
    for entry in newton_run[:4]:
        contours.annotate(
            str(entry.iteration),
            entry.point,
            textcoords="offset points",
            xytext=(6, 4),
            color="tab:red",
            fontsize=9,
        )
    first, second = undamped[0].point, undamped[1].point
    contours.annotate(
        f"undamped Newton's first step\n→ ({second[0]:.1f}, {second[1]:.1f}), L = {undamped[1].loss:.2f}",
        xy=(min(second[0], w_range[1] - 0.2), max(second[1], b_range[0] + 0.2)),
        xytext=(first[0] + 0.4, b_range[0] + 1.2),
        fontsize=8,
        color="dimgrey",
        arrowprops={"arrowstyle": "->", "color": "dimgrey", "linestyle": "--"},
    )
    contours.plot(*newton_run[-1].point, "*", color="black", markersize=12, label="minimum")
    contours.set(
        xlim=w_range,
        ylim=b_range,
        xlabel="w",
        ylabel="b",
        title="Trajectories over the loss contours L(w, b)",
    )
    contours.legend(fontsize=8, loc="upper right")

    for run, colour, label in (
        (gd_run, "tab:blue", "gradient descent"),
        (newton_run, "tab:red", "Newton (damped)"),
    ):
        gaps = [(s.iteration, s.loss - best) for s in run if s.loss - best > 0.0]
        losses.plot(
            [i for i, _ in gaps],
            [g for _, g in gaps],
            "o-" if run is newton_run else "-",
            color=colour,
            linewidth=1.8,
            markersize=4,
            label=label,
        )
    losses.set_xscale("symlog", linthresh=10)
    losses.set_yscale("log")
    losses.set(
        xlabel="iteration (linear to 10, then log scale)",
        ylabel="L - L* (log scale)",
        title="Loss above the minimum L* (Newton's last loss is L*)",
    )
    losses.grid(alpha=0.3, which="both")
    losses.legend(fontsize=9)
    return save_figure(
        figure,
        path,
        title=(
            "One sigmoid neuron, 10 overlapping points: Newton's method with autograd.hessian"
            " vs gradient descent"
        ),
        dpi=90,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    print(QUESTION)
    print(f"\ndata: x = {', '.join(f'{x:g}' for x in DATA_X)}")
    print(f"      y = {', '.join(f'{y:g}' for y in DATA_Y)}   (overlapping: no threshold separates them)")
    print(f"L(w, b) = mean log loss of σ(w·x + b); start (w, b) = {START}; stop when ‖∇L‖ < {TOLERANCE:g}")

    from_hessian, written_out = autograd.hessian(neuron_loss, START), textbook_hessian(*START)
    worst = max(abs(a - e) for row_a, row_e in zip(from_hessian, written_out) for a, e in zip(row_a, row_e))
    print(f"\nautograd.hessian at the start vs (1/n) Σ σ'(z) [x² x; x 1]: largest difference {worst:.1e}")

    undamped = undamped_newton()
    print(
        f"Undamped Newton from {START}: L = {undamped[0].loss:.4f} → {undamped[1].loss:.4f} at"
        f" ({undamped[1].point[0]:.2f}, {undamped[1].point[1]:.2f}) → {undamped[2].loss:.0f} at"
        f" ({undamped[2].point[0]:.0f}, {undamped[2].point[1]:.0f}), where the neuron is saturated on"
        f" {saturated_points(undamped[2].point)} of {len(DATA_X)} points and H is singular"
        " (determinant exactly 0)."
    )

    newton_run = newton()
    print("\nNewton's method, damped (H modified if not positive definite, steps halved until L drops):")
    print(format_newton(newton_run))
    shortened = sum(1 for s in newton_run if s.step_size is not None and s.step_size < 1.0)
    modified = sum(1 for s in newton_run if s.modified)
    smallest = min(newton_run, key=lambda s: s.smallest_curvature or 0.0)
    print(
        f"Smallest λ_min(H): {smallest.smallest_curvature:.1e}, at iteration {smallest.iteration}, where"
        f" the neuron saturates; H was not positive definite at {modified} iterations. The line search"
        f" shortened {shortened} of {len(newton_run) - 1} steps; the rest were full Newton steps."
    )

    gd_run = gradient_descent()
    eta = gd_run[0].step_size or 0.0
    rate = linear_rates(gd_run)[-1]
    predicted = predicted_gd_rate(newton_run[-1].point)
    print(
        f"\nGradient descent, η = 1/β = {eta:.4f} (β = {curvature_bound():.4f} bounds the curvature):"
        f" ‖∇L‖ shrinks by {rate:.5f} per step at the end, as predicted by 1 - η·λ_min(H*) = {predicted:.5f}."
    )

    print(f"\n{'':<22}{'iterations':>11}{'w':>12}{'b':>12}{'L':>22}")
    for label, run in (("Newton (damped)", newton_run), ("gradient descent", gd_run)):
        last = run[-1]
        print(
            f"{label:<22}{last.iteration:>11}{last.point[0]:>12.7f}{last.point[1]:>12.7f}{last.loss:>22.17f}"
        )
    print(
        f"Both reach ‖∇L‖ < {TOLERANCE:g} at the same minimum: the losses differ by"
        f" {abs(newton_run[-1].loss - gd_run[-1].loss):.1e}; Newton needed"
        f" {gd_run[-1].iteration / newton_run[-1].iteration:.0f}x fewer iterations."
    )
    folder = output_folder(NAME, args.out)
    print_written([plot_runs(newton_run, gd_run, undamped, folder / "newton_vs_gradient_descent.png")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
