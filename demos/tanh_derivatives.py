"""What is the derivative of the derivative? tanh and its first six derivatives, each one a graph.

``grad(y, [x], create_graph=True)`` returns d y / d x as a Value whose graph is the backward pass,
so calling `grad` on that Value again gives the second derivative, and so on: the n-th derivative
is n calls. This demo does that for y = tanh x on x ∈ [-3, 3] and checks every sample two ways:

- against the closed form. With t = tanh x, tanh' = 1 - t², and every further derivative is a
  polynomial in t, found by the chain rule d/dx p(t) = p'(t) · dt/dx = p'(t) (1 - t²):

      tanh'    =  1 - t²
      tanh''   = -2t + 2t³                      = -2t (1 - t²)
      tanh'''  = -2 + 8t² - 6t⁴
      tanh⁽⁴⁾  =  16t - 40t³ + 24t⁵
      tanh⁽⁵⁾  =  16 - 136t² + 240t⁴ - 120t⁶
      tanh⁽⁶⁾  = -272t + 1232t³ - 1680t⁵ + 720t⁷

  (`tanh_polynomials` runs the recurrence on integer coefficients; at x = 0 the odd orders give
  tanh's Taylor coefficients 1, -2, 16, -272 times k!, as they must).
- against central differences of the previous order, (f⁽ᵏ⁻¹⁾(x + h) - f⁽ᵏ⁻¹⁾(x - h)) / 2h.

The graph grows with the order: each `grad` writes out the backward pass of the whole graph it is
given, forward part included, and nothing simplifies it, so the node count roughly doubles per order
while the polynomial gains one term every second order. The demo counts the nodes and draws the
second derivative's graph with the backward pass's nodes outlined (``draw(..., backward_nodes=...)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import autograd
from autograd import Value, grad, topological_order

from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure

NAME = "derivatives"
QUESTION = "What is the derivative of the derivative? tanh and six derivatives, by grad(create_graph=True)"
ORDERS = 6  # tanh itself is order 0
X_MIN, X_MAX, SAMPLES = -3.0, 3.0, 121  # x = -3, -2.95, ..., 3
STEP = 1e-5  # h of the central differences
CLOSED_FORM_TOLERANCE = 1e-9  # |graph - closed form| / max(1, |closed form|)
DIFFERENCE_TOLERANCE = 1e-7  # |graph - central difference| / max(1, |graph|)
TABLE_X = 0.5
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def tanh_polynomials(orders: int = ORDERS) -> list[list[int]]:
    """Integer coefficients (index = power of t) of p₀ .. p_orders with tanh⁽ᵏ⁾(x) = pₖ(tanh x).

    p₀(t) = t and pₖ₊₁(t) = pₖ'(t) · (1 - t²), the chain rule with dt/dx = 1 - t².
    """
    if orders < 0:
        raise ValueError(f"tanh_polynomials: orders must be >= 0, got {orders}")
    polynomials = [[0, 1]]
    for _ in range(orders):
        previous = polynomials[-1]
        slope = [power * coefficient for power, coefficient in enumerate(previous)][1:]  # p'(t)
        following = [0] * (len(slope) + 2)
        for power, coefficient in enumerate(slope):  # p'(t) · (1 - t²)
            following[power] += coefficient
            following[power + 2] -= coefficient
        while len(following) > 1 and following[-1] == 0:
            following.pop()
        polynomials.append(following)
    return polynomials


def evaluate_polynomial(coefficients: Sequence[int], t: float) -> float:
    """Σ cᵢ tⁱ by Horner's rule."""
    total = 0.0
    for coefficient in reversed(coefficients):
        total = total * t + coefficient
    return total


def format_polynomial(coefficients: Sequence[int]) -> str:
    """``-2t + 2t³`` style text for a coefficient list (index = power of t)."""
    terms = []
    for power, coefficient in enumerate(coefficients):
        if coefficient == 0:
            continue
        size = abs(coefficient)
        number = "" if size == 1 and power > 0 else str(size)
        variable = "" if power == 0 else "t" if power == 1 else "t" + str(power).translate(SUPERSCRIPTS)
        sign = "-" if coefficient < 0 else "+"
        terms.append((sign, number + variable))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    text = ("-" if first_sign == "-" else "") + first
    return text + "".join(f" {sign} {term}" for sign, term in terms[1:])


def order_name(order: int) -> str:
    """tanh, tanh', tanh'', tanh''', tanh⁽⁴⁾, ..."""
    return "tanh" + ("'" * order if order <= 3 else f"⁽{str(order).translate(SUPERSCRIPTS)}⁾")


def derivative_graphs(x: float, orders: int = ORDERS) -> tuple[Value, list[Value]]:
    """(the leaf x, [tanh x, tanh' x, ..., tanh⁽ᵒʳᵈᵉʳˢ⁾ x]), each derivative the Value
    ``grad(previous, [x], create_graph=True)`` returns. Each graph is built on the values of the
    one before (its backward pass reads them) and adds the nodes of that backward pass."""
    if orders < 0:
        raise ValueError(f"derivative_graphs: orders must be >= 0, got {orders}")
    leaf = Value(x, "x")
    derivatives = [leaf.tanh()]
    for _ in range(orders):
        (following,) = grad(derivatives[-1], [leaf], create_graph=True)
        derivatives.append(following)
    return leaf, derivatives


def derivatives_at(x: float, orders: int = ORDERS) -> list[float]:
    """tanh⁽ᵏ⁾(x) for k = 0 .. orders, from the graphs of `derivative_graphs`."""
    return [value.data for value in derivative_graphs(x, orders)[1]]


def node_counts(orders: int = ORDERS, x: float = TABLE_X) -> list[int]:
    """How many values (constants included) the graph of each order holds: len(topological_order)."""
    return [len(topological_order(value)) for value in derivative_graphs(x, orders)[1]]


@dataclass(frozen=True)
class DerivativeCheck:
    """Every order sampled on the grid, with the worst disagreement with each reference."""

    xs: list[float]
    computed: list[list[float]]  # computed[order][sample], from the graphs
    closed_form: list[list[float]]  # pₖ(tanh x)
    closed_form_error: list[float]  # per order: max |computed - closed| / max(1, |closed|)
    difference_error: list[float | None]  # per order >= 1: max |computed - central diff| / max(1, |computed|)
    nodes: list[int]


def relative_difference(value: float, reference: float) -> float:
    """|value - reference| / max(1, |reference|): absolute near 0, relative for large numbers."""
    return abs(value - reference) / max(1.0, abs(reference))


def grid(samples: int = SAMPLES) -> list[float]:
    """`samples` evenly spaced points from X_MIN to X_MAX, both included."""
    if samples < 2:
        raise ValueError(f"grid: needs at least 2 samples, got {samples}")
    return [X_MIN + (X_MAX - X_MIN) * i / (samples - 1) for i in range(samples)]


def check_derivatives(samples: int = SAMPLES, orders: int = ORDERS, step: float = STEP) -> DerivativeCheck:
    """Compute every order at every sample and compare it with the closed form and with central
    differences of the order below (the derivatives at x ± step, also from graphs)."""
    if not step > 0.0:
        raise ValueError(f"check_derivatives: step must be > 0, got {step!r}")
    xs = grid(samples)
    polynomials = tanh_polynomials(orders)
    computed = [derivatives_at(x, orders) for x in xs]
    closed = [[evaluate_polynomial(p, row[0]) for p in polynomials] for row in computed]
    above = [derivatives_at(x + step, orders - 1) for x in xs] if orders else []
    below = [derivatives_at(x - step, orders - 1) for x in xs] if orders else []
    closed_error = [
        max(relative_difference(c[k], r[k]) for c, r in zip(computed, closed)) for k in range(orders + 1)
    ]
    difference_error: list[float | None] = [None]
    for k in range(1, orders + 1):
        difference_error.append(
            max(
                relative_difference((up[k - 1] - down[k - 1]) / (2.0 * step), c[k])
                for c, up, down in zip(computed, above, below)
            )
        )
    return DerivativeCheck(
        xs=xs,
        computed=[[c[k] for c in computed] for k in range(orders + 1)],
        closed_form=[[r[k] for r in closed] for k in range(orders + 1)],
        closed_form_error=closed_error,
        difference_error=difference_error,
        nodes=node_counts(orders),
    )


def format_table(check: DerivativeCheck, x: float = TABLE_X) -> str:
    """One row per order: the closed form, the value at x, both checks' worst error, the node count."""
    polynomials = tanh_polynomials(len(check.nodes) - 1)
    values = derivatives_at(x, len(check.nodes) - 1)
    width = max(len(format_polynomial(p)) for p in polynomials)
    header = (
        f"{'order':<8}{'closed form in t = tanh x':<{width + 2}}{f'at x = {x:g}':>12}"
        f"{'vs closed':>11}{'vs diff.':>10}{'nodes':>7}"
    )
    lines = [header, "-" * len(header)]
    for k, polynomial in enumerate(polynomials):
        difference = check.difference_error[k]
        lines.append(
            f"{order_name(k):<8}{format_polynomial(polynomial):<{width + 2}}{values[k]:>12.6f}"
            f"{check.closed_form_error[k]:>11.1e}{'' if difference is None else f'{difference:.1e}':>10}"
            f"{check.nodes[k]:>7}"
        )
    return "\n".join(lines)


def growth_factors(nodes: Sequence[int]) -> list[float]:
    """nodes[k] / nodes[k - 1] for every order after the first derivative."""
    return [after / before for before, after in itertools.pairwise(nodes[1:])]


def plot_derivatives(check: DerivativeCheck, path: Path) -> Path:
    """One panel per order (the graph's samples on the closed form), and the node counts."""
    plt = pyplot()
    orders = len(check.computed) - 1
    columns = 4
    rows = (orders + 2 + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.9 * rows))
    flat_axes = [ax for row in axes for ax in row]
    polynomials = tanh_polynomials(orders)
    colours = plt.get_cmap("viridis")
    for k in range(orders + 1):
        ax = flat_axes[k]
        colour = colours(0.85 * k / max(1, orders))
        ax.plot(check.xs, check.closed_form[k], color="black", linewidth=1, label="closed form pₖ(tanh x)")
        ax.plot(
            check.xs[::3],
            check.computed[k][::3],
            "o",
            color=colour,
            markersize=3,
            label="grad(…, create_graph=True)",
        )
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_title(f"{order_name(k)} = {format_polynomial(polynomials[k])}", fontsize=8.5 if k >= 5 else 10)
        ax.set_xlim(X_MIN, X_MAX)
        ax.set_xlabel("x", fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    flat_axes[0].legend(fontsize=7, loc="upper left")
    counts = flat_axes[orders + 1]
    counts.bar(
        range(orders + 1), check.nodes, color=[colours(0.85 * k / max(1, orders)) for k in range(orders + 1)]
    )
    for k, count in enumerate(check.nodes):
        counts.text(k, count, str(count), ha="center", va="bottom", fontsize=8)
    counts.set_yscale("log")
    counts.set_ylim(1, max(check.nodes) * 3)
    counts.set_title("values in the graph of each order", fontsize=10)
    counts.set_xlabel("order of the derivative", fontsize=8)
    counts.set_xticks(range(orders + 1))
    counts.tick_params(labelsize=8)
    for ax in flat_axes[orders + 2 :]:
        ax.axis("off")
    return save_figure(
        figure,
        path,
        title=(
            f"tanh and its first {orders} derivatives on [{X_MIN:g}, {X_MAX:g}]: each is grad() of the one "
            "before, and matches its closed form in t = tanh x"
        ),
        dpi=100,
    )


def draw_second_derivative(path: Path, x: float = TABLE_X) -> Path:
    """The graph of tanh''(x) as an SVG, the nodes the two backward passes made outlined in orange."""
    _, derivatives = derivative_graphs(x, 2)
    graph = autograd.draw(
        derivatives[2],
        show_grads=False,
        backward_nodes=autograd.backward_nodes(derivatives[2], derivatives[0]),
        legend=True,
    )
    return graph.save(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv, renderer=True)
    check = check_derivatives()
    print(QUESTION)
    print(
        f"\nEach order is grad(previous, [x], create_graph=True); {len(check.xs)} points x in"
        f" [{X_MIN:g}, {X_MAX:g}]. Worst |graph - reference| / max(1, |reference|):"
    )
    print(format_table(check))
    worst_closed = max(check.closed_form_error)
    worst_difference = max(error for error in check.difference_error if error is not None)
    print(
        f"\nAgainst the closed forms: {worst_closed:.1e} at worst (< {CLOSED_FORM_TOLERANCE:g});"
        f" against central differences of the order below (h = {STEP:g}): {worst_difference:.1e}"
        f" (< {DIFFERENCE_TOLERANCE:g})."
    )
    factors = growth_factors(check.nodes)
    print(
        f"The graph grows {min(factors):.2f}x to {max(factors):.2f}x per order ({check.nodes[1]} values"
        f" for tanh', {check.nodes[-1]} for {order_name(len(check.nodes) - 1)}): each grad writes out the"
        " backward pass of the whole graph before it, and nothing simplifies it, while the closed form"
        " gains one term every second order."
    )
    folder = output_folder(NAME, args.out)
    print_written(
        [
            plot_derivatives(check, folder / "tanh_derivatives.png"),
            draw_second_derivative(folder / "tanh_second_derivative_graph.svg"),
        ]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
