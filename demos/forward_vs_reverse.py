"""Forward or reverse mode: why does backprop run backwards?

Both modes apply the chain rule edge by edge with the very same local derivatives; they differ in
the direction they sweep and in what one sweep gives:

- reverse mode (`backward()`, `autograd.grad`) starts at the output with d o / d o = 1 and sends
  ``grad(child) += local × grad(node)`` down every edge: ONE sweep gives d o / d x for every input;
- forward mode (`autograd.jvp`, `autograd.tangent_steps`) starts at the inputs with a direction t
  and sends ``t(node) += local × t(child)`` up every edge: one sweep gives ONE directional
  derivative, so the whole gradient of n inputs costs n sweeps (along each basis vector eᵢ).

Part 1 measures it on a neuron's output as a function of its n weights, o = tanh(w·x + b) (the
shape of every training problem: many parameters, one loss). Its graph has n + 1 edges (n into the
``dot`` node, one into tanh), and every edge costs one multiply-add in either sweep, so the full
gradient costs n·(n + 1) multiply-adds forwards and n + 1 backwards: counted here by running the
steppers (one record per multiply-add), timed in CPU time, and checked entry by entry (the jvp
along eᵢ is gradient entry i, bit for bit: the same two factors, multiplied in the other order).

Part 2 shows the two sets of steps side by side for the lecture neuron o = tanh(x1·w1 + x2·w2 + b):
nine reverse steps giving all five gradients, and nine forward steps giving d o / d w1 alone.

    python -m demos.forward_vs_reverse [--out DIR]
"""

from __future__ import annotations

import gc
import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograd import Value, chain_rule_steps, dot, grad, jvp, topological_order
from autograd.drawing.pages import build_page
from autograd.files import atomic_write
from autograd.forward import forward_tangents, tangent_steps
from autograd.steps import node_names

from ._common import demo_arguments, output_folder, print_written, pyplot, save_figure

NAME = "forward-vs-reverse"
QUESTION = "Forward or reverse mode: what does the gradient of n inputs cost each way?"
SIZES = (1, 3, 10, 30, 100, 300, 1000)
BIAS = 0.1
# Each timed chunk repeats its sweep until it has done about this many multiply-adds (so the small
# sizes are not timed below the clock's resolution); the best of ROUNDS interleaved rounds is kept.
CHUNK_MULTIPLY_ADDS = 20_000
ROUNDS = 3
CLOCK = time.process_time  # CPU time: other processes on a shared machine disturb it less

# The lecture's neuron (x1=2, x2=0, w1=-3, w2=1 and the bias that makes o = 1/√2).
LECTURE_NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
FORWARD_DIRECTION = "w1"  # the one input the forward sweep of part 2 moves


# ---------------------------------------------------------------------------------------------------
# 1. Cost: n forward sweeps vs one reverse sweep
# ---------------------------------------------------------------------------------------------------


def neuron_data(n: int) -> tuple[list[float], list[float]]:
    """(weights, inputs) of the n-weight neuron: wᵢ = sin(i + 1), xᵢ = cos(i + 1) / √n."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"neuron_data: n must be a positive int, got {n!r}")
    weights = [math.sin(i + 1) for i in range(n)]
    inputs = [math.cos(i + 1) / math.sqrt(n) for i in range(n)]
    return weights, inputs


def neuron_of_weights(inputs: Sequence[float]) -> Callable[[list[Value]], Value]:
    """f(w) = tanh(w·x + b) for the fixed inputs x: one ``dot`` node (n edges) and one tanh (1 edge)."""
    data = [float(x) for x in inputs]

    def f(weights: list[Value]) -> Value:
        return dot(weights, data, bias=BIAS).tanh()

    return f


def basis(n: int, i: int) -> list[float]:
    return [1.0 if k == i else 0.0 for k in range(n)]


@dataclass(frozen=True)
class CostRow:
    """Part 1 at one n: the multiply-adds each way (counted), their CPU time, and the agreement."""

    n: int
    edges: int  # edges of the graph: what one sweep visits in either direction
    forward_multiply_adds: int  # all n forward sweeps, counted with tangent_steps
    reverse_multiply_adds: int  # the one reverse sweep, counted with chain_rule_steps
    forward_seconds: float  # CPU time of the n forward sweeps (best round)
    reverse_seconds: float  # CPU time of one reverse sweep (best round)
    jvp_equals_gradient: bool  # jvp along eᵢ == gradient entry i, bit for bit, for every i
    largest_difference: float  # max |jvp along eᵢ - gradient entry i|

    @property
    def count_ratio(self) -> float:
        return self.forward_multiply_adds / self.reverse_multiply_adds

    @property
    def time_ratio(self) -> float:
        return self.forward_seconds / self.reverse_seconds


def best_times(
    work: dict[str, Callable[[], object]], repeats: dict[str, int], rounds: int
) -> dict[str, float]:
    """Each callable's best CPU time per call over `rounds` interleaved rounds, each sample `repeats`
    calls (benchmarks/bench_derivatives.py times with it too)."""
    best = {name: math.inf for name in work}
    for _ in range(rounds):
        for name, fn in work.items():
            gc.collect()
            start = CLOCK()
            for _ in range(repeats[name]):
                fn()
            best[name] = min(best[name], (CLOCK() - start) / repeats[name])
    return best


def measure_cost(n: int, rounds: int = ROUNDS) -> CostRow:
    """Build the n-weight neuron once; count, check and time n forward sweeps against one reverse sweep."""
    weights, inputs = neuron_data(n)
    f = neuron_of_weights(inputs)
    leaves = [Value(w, f"w{i + 1}") for i, w in enumerate(weights)]
    out = f(leaves)
    edges = sum(len(node.children) for node in topological_order(out))
    seeds = [dict(zip(leaves, basis(n, i))) for i in range(n)]

    # Checks first: the jvp along every basis vector (jvp builds its own graph) against the gradient.
    gradient = grad(out, leaves)
    directional = [jvp(f, weights, basis(n, i))[1] for i in range(n)]
    same_sweep = [forward_tangents(out, seed)[out] for seed in seeds]
    assert directional == same_sweep, "jvp and forward_tangents must be the same sweep"
    equal = directional == gradient
    largest = max(abs(a - b) for a, b in zip(directional, gradient))

    # The machine-independent cost: the steppers yield one record per multiply-add of their sweep.
    forward_count = sum(sum(1 for _ in tangent_steps(out, seed)) for seed in seeds)
    reverse_count = sum(1 for _ in chain_rule_steps(out))

    def all_forward_sweeps() -> None:
        for seed in seeds:
            forward_tangents(out, seed)

    def one_reverse_sweep() -> None:
        grad(out, leaves)

    repeats = {
        "forward": max(1, CHUNK_MULTIPLY_ADDS // forward_count),
        "reverse": max(1, CHUNK_MULTIPLY_ADDS // reverse_count),
    }
    times = best_times({"forward": all_forward_sweeps, "reverse": one_reverse_sweep}, repeats, rounds)
    return CostRow(n, edges, forward_count, reverse_count, times["forward"], times["reverse"], equal, largest)


def measure_costs(sizes: Sequence[int] = SIZES, rounds: int = ROUNDS) -> list[CostRow]:
    return [measure_cost(n, rounds) for n in sizes]


def cost_table(rows: Sequence[CostRow]) -> list[str]:
    lines = [
        f"{'n':>5}  {'edges':>5}  {'multiply-adds: n forward':>24}  {'1 reverse':>9}  {'ratio':>5}"
        f"  {'CPU: n forward':>14}  {'1 reverse':>9}  {'ratio':>6}  jvp(eᵢ) == gradient[i]",
    ]
    for row in rows:
        lines.append(
            f"{row.n:>5}  {row.edges:>5}  {row.forward_multiply_adds:>24,}  {row.reverse_multiply_adds:>9,}"
            f"  {row.count_ratio:>5.0f}  {_ms(row.forward_seconds):>14}  {_ms(row.reverse_seconds):>9}"
            f"  {row.time_ratio:>6.1f}  {'yes, bit for bit' if row.jvp_equals_gradient else 'NO'}"
        )
    return lines


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def plot_costs(rows: Sequence[CostRow], path: Path) -> Path:
    """Log-log: multiply-adds (left, exact) and CPU time (right) of the gradient, each way, against n."""
    plt = pyplot()
    sizes = [row.n for row in rows]
    figure, (counts, times) = plt.subplots(1, 2, figsize=(10, 4.2))
    forward_style = {"marker": "o", "color": "#d9480f", "label": "forward mode: n jvp sweeps"}
    reverse_style = {"marker": "s", "color": "#1f6feb", "label": "reverse mode: 1 backward sweep"}
    counts.plot(sizes, [row.forward_multiply_adds for row in rows], **forward_style)
    counts.plot(sizes, [row.reverse_multiply_adds for row in rows], **reverse_style)
    counts.set(
        xscale="log",
        yscale="log",
        xlabel="n (weights of o = tanh(w·x + b))",
        ylabel="multiply-adds for the whole gradient",
        title="Counted: n·(n + 1) against n + 1",
    )
    times.plot(sizes, [row.forward_seconds * 1e3 for row in rows], **forward_style)
    times.plot(sizes, [row.reverse_seconds * 1e3 for row in rows], **reverse_style)
    times.set(
        xscale="log",
        yscale="log",
        xlabel="n (weights of o = tanh(w·x + b))",
        ylabel="CPU time for the whole gradient (ms)",
        title="Measured on this machine",
    )
    for ax in (counts, times):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=9)
    return save_figure(figure, path, title="The gradient of a many-input, one-output function", dpi=100)


# ---------------------------------------------------------------------------------------------------
# 2. The lecture neuron: the two sets of steps side by side
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    """One step of either sweep as the columns show it."""

    index: int
    edge: str  # "o → n" (reverse: from node to child) or "w1 → x1*w1" (forward: from child to node)
    derivative_text: str  # the op's derivative from the registry, e.g. d(tanh a)/da = 1 - tanh²
    local: float
    incoming: float  # reverse: grad(node); forward: t(child)
    contribution: float
    target: str  # whose number the step adds to
    after: float  # that number after the step


@dataclass(frozen=True)
class SideBySide:
    """Both sweeps of the lecture neuron, and what each one found."""

    reverse: list[StepRow]
    forward: list[StepRow]
    output: float
    gradients: dict[str, float]  # reverse mode: every input's gradient, from its one sweep
    direction: str  # the input forward mode moved (tangent 1, the others 0)
    directional: float  # forward mode: d o / d direction, from its one sweep
    seeds: dict[str, float]


def lecture_neuron() -> dict[str, Value]:
    """The lecture neuron's graph, every value labelled as in the lecture: leaves x1 x2 w1 w2 b, then
    x1w1, x2w2, x1w1+x2w2, n and o."""
    values = {name: Value(number, name) for name, number in LECTURE_NEURON.items()}
    x1w1 = values["x1"] * values["w1"]
    x2w2 = values["x2"] * values["w2"]
    both = x1w1 + x2w2
    n = both + values["b"]
    o = n.tanh()
    for value, label in ((x1w1, "x1w1"), (x2w2, "x2w2"), (both, "x1w1+x2w2"), (n, "n"), (o, "o")):
        value.label = label
    return {**values, "x1w1": x1w1, "x2w2": x2w2, "x1w1+x2w2": both, "n": n, "o": o}


def side_by_side(direction: str = FORWARD_DIRECTION) -> SideBySide:
    """Run `chain_rule_steps` and `tangent_steps` on two fresh lecture neurons (seeding every input,
    as `jvp` does: `direction` with tangent 1, the others 0)."""
    if direction not in LECTURE_NEURON:
        choices = ", ".join(LECTURE_NEURON)
        raise ValueError(f"side_by_side: direction must be one of {choices}, got {direction!r}")
    backward_graph = lecture_neuron()
    o = backward_graph["o"]
    order = topological_order(o)
    names = dict(zip(order, node_names(order)))
    reverse = [
        StepRow(
            step.index,
            f"{names[step.node]} → {names[step.child]}",
            step.derivative_text,
            step.local_grad,
            step.upstream_grad,
            step.contribution,
            f"grad {names[step.child]}",
            step.child_grad_after,
        )
        for step in chain_rule_steps(o)
    ]
    gradients = {name: backward_graph[name].grad for name in LECTURE_NEURON}

    forward_graph = lecture_neuron()
    o = forward_graph["o"]
    order = topological_order(o)
    names = dict(zip(order, node_names(order)))
    seeds = {name: 1.0 if name == direction else 0.0 for name in LECTURE_NEURON}
    forward = [
        StepRow(
            step.index,
            f"{names[step.child]} → {names[step.node]}",
            step.derivative_text,
            step.local_grad,
            step.child_tangent,
            step.contribution,
            f"t {names[step.node]}",
            step.node_tangent_after,
        )
        for step in tangent_steps(o, {forward_graph[name]: t for name, t in seeds.items()})
    ]
    return SideBySide(reverse, forward, o.data, gradients, direction, forward[-1].after, seeds)


def _step_text(row: StepRow, edge_width: int) -> str:
    return (
        f"{row.index:>2}  {row.edge:<{edge_width}}  {row.local:>+6.3f} × {row.incoming:>+10.3f} = "
        f"{row.contribution:>+6.3f}  {row.after:>+11.3f}"
    )


def side_by_side_lines(result: SideBySide) -> list[str]:
    """The two sweeps as two terminal columns, one step per line (the number a step adds to is the
    one at its arrow's head: the child in reverse mode, the node in forward mode)."""
    edge_width = max(len(row.edge) for row in [*result.reverse, *result.forward])
    seed_text = ", ".join(f"{name} {t:g}" for name, t in result.seeds.items())
    left = [
        "REVERSE (backward): grad(child) += local × grad(node)",
        f" #  {'edge':<{edge_width}}  {'local':>6} × {'grad(node)':>10} = {'adds':>6}  {'grad(child)':>11}",
        f" 0  {'seed':<{edge_width}}  grad o = 1",
        *(_step_text(row, edge_width) for row in result.reverse),
    ]
    right = [
        f"FORWARD (jvp along {result.direction}): t(node) += local × t(child)",
        f" #  {'edge':<{edge_width}}  {'local':>6} × {'t(child)':>10} = {'adds':>6}  {'t(node)':>11}",
        f" 0  {'seed':<{edge_width}}  t: {seed_text}",
        *(_step_text(row, edge_width) for row in result.forward),
    ]
    width = max(len(line) for line in left)
    height = max(len(left), len(right))
    left += [""] * (height - len(left))
    right += [""] * (height - len(right))
    return [f"{a:<{width}}  |  {b}".rstrip() for a, b in zip(left, right)]


def summary_lines(result: SideBySide) -> list[str]:
    grads = ", ".join(f"{name} {value:+.4f}" for name, value in result.gradients.items())
    inputs = len(result.gradients)
    agree = result.directional == result.gradients[result.direction]
    return [
        f"reverse: {len(result.reverse)} steps, one sweep: every gradient ({grads})",
        f"forward: {len(result.forward)} steps, one sweep: d o / d {result.direction} = "
        f"{result.directional:+.4f} only; all {inputs} entries take {inputs} sweeps = "
        f"{inputs * len(result.forward)} steps",
        f"the forward d o / d {result.direction} equals the reverse grad {result.direction} "
        f"bit for bit: {agree}",
    ]


def _html_column(title: str, rule: str, incoming: str, seed: str, rows: Sequence[StepRow], total: str) -> str:
    body = "".join(
        "<tr>"
        f"<td>{row.index}</td><td>{html.escape(row.edge)}"
        f'<div class="text">{html.escape(row.derivative_text)}</div></td>'
        f"<td>{row.local:+.4f} × {row.incoming:+.4f} = {row.contribution:+.4f}</td>"
        f"<td>{html.escape(row.target)} = {row.after:+.4f}</td>"
        "</tr>"
        for row in rows
    )
    return (
        f'<section class="column"><h2>{html.escape(title)}</h2><p><code>{html.escape(rule)}</code></p>'
        "<table><thead><tr><th>step</th><th>edge and its local derivative</th>"
        f"<th>local × {html.escape(incoming)} = adds</th><th>after the step</th></tr></thead>"
        f'<tbody><tr class="seed"><td>0</td><td colspan="3">{html.escape(seed)}</td></tr>{body}</tbody>'
        f"</table><p>{html.escape(total)}</p></section>"
    )


_STYLE = """
main { max-width: 1400px; margin: 0 auto; padding: 0.5em 1.5em 1em; }
.columns {
  display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.2em; align-items: start;
}
@media (max-width: 1100px) { .columns { grid-template-columns: minmax(0, 1fr); } }
.column {
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: 0 1em; overflow-x: auto;
}
table { border-collapse: collapse; font-family: var(--mono); font-size: 13px; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.25em 0.5em; border-bottom: 1px solid var(--line); }
td:nth-child(3), td:nth-child(4) { white-space: nowrap; }
.text { color: var(--muted); font-size: 12px; }
tr.seed td { color: var(--muted); font-style: italic; }
"""


def steps_page(result: SideBySide) -> str:
    """A self-contained HTML page with the two sweeps in two columns (no script of its own, no network)."""
    summary = summary_lines(result)
    seed_text = ", ".join(f"t {name} = {t:g}" for name, t in result.seeds.items())
    reverse = _html_column(
        "Reverse mode (backward)",
        "grad(child) += local × grad(node)",
        "grad(node)",
        "seed: grad o = 1",
        result.reverse,
        summary[0],
    )
    forward = _html_column(
        f"Forward mode (jvp along {result.direction})",
        "t(node) += local × t(child)",
        "t(child)",
        f"seed: {seed_text}",
        result.forward,
        summary[1],
    )
    body = (
        "<main><h1>Forward and reverse mode on the lecture neuron</h1>"
        f"<p><code>o = tanh(x1·w1 + x2·w2 + b)</code> at x1 = 2, x2 = 0, w1 = −3, w2 = 1, "
        f"b = 6.8813735870195432: o = {result.output:.4f}. Both sweeps multiply the same local "
        "derivatives, one edge a step. Reverse mode starts at the output and goes down: one sweep finds "
        "every gradient. Forward mode starts at the inputs, moving them in one direction (here only "
        f"{result.direction}), and goes up: one sweep finds one directional derivative.</p>"
        f'<div class="columns">{reverse}{forward}</div>'
        f"<p>{html.escape(summary[2])}.</p></main>"
    )
    return build_page(title="gradstep: forward and reverse mode, side by side", body=body, styles=[_STYLE])


# ---------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv)
    print(QUESTION)
    print("\n1. o = tanh(w·x + b) as a function of its n weights: the whole gradient each way")
    print("   (multiply-adds counted by the steppers; CPU time, best of 3 rounds)\n")
    rows = []
    table = cost_table([])
    print(table[0])
    for n in SIZES:
        row = measure_cost(n)
        rows.append(row)
        print(cost_table([row])[1])
    print(
        "\nForward mode pays n sweeps of n + 1 multiply-adds for what reverse mode gets from one: "
        f"at n = {rows[-1].n:,}, {rows[-1].count_ratio:,.0f} times the work."
    )

    print("\n2. The lecture neuron o = tanh(x1·w1 + x2·w2 + b), both sweeps step by step:\n")
    result = side_by_side()
    for line in side_by_side_lines(result):
        print(line)
    print()
    for line in summary_lines(result):
        print(line)

    folder = output_folder(NAME, args.out)
    written = [
        plot_costs(rows, folder / "forward_vs_reverse.png"),
        atomic_write(folder / "forward_vs_reverse_steps.html", steps_page(result)),
    ]
    print_written(written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
