"""Derivatives of derivatives and forward mode: what `grad(create_graph=True)` and `jvp` cost.

    python benchmarks/bench_derivatives.py            # full run (about 2 minutes)
    python benchmarks/bench_derivatives.py --quick    # fewer rounds, smaller graphs

1. On three graphs (a deep chain, a moons-size MLP loss, a wide sum), each built once: `backward()`,
   `grad(out, inputs)` (the same pass into a dict), `grad(out, inputs, create_graph=True)` (the
   backward pass built as a graph of Values) and the backward pass through that gradient graph
   (`grad(dot(gradient, v), inputs)`: a Hessian-vector product's second sweep). Before timing, the
   graph gradient's data must equal backward()'s grads bit for bit, and the second derivative must
   match central differences of the first.
2. Forward against reverse mode on a 16-hidden-unit tanh net of n = 1, 10, 100 inputs (its weights
   are numbers, so every edge carries a tangent): one forward sweep (`forward_tangents`, what `jvp`
   runs) against one `backward()` on the same graph; the n forward sweeps the whole gradient needs;
   and the user's whole calls, `jvp(f, values, e₀)` against building f and calling `backward()`.
   Before timing, the jvp along every basis vector must equal the gradient entry (to 1e-12).

Every comparison is a ratio measured in this process, in CPU time (time.process_time), in
interleaved rounds (each round times every contender once, repeated to at least 20 ms), each
contender reported by its best round. A missed target is printed as MISSED.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import L2, moons_data

import nn
from autograd import Value, dot, grad, jvp, topological_order, vsum
from autograd.forward import forward_tangents
from demos.forward_vs_reverse import basis
from demos.forward_vs_reverse import best_times as interleaved_best_times

CLOCK = time.process_time  # CPU time: other processes on a shared machine disturb it less
MIN_SAMPLE_SECONDS = 0.02

# Targets, set before measuring. A create_graph gradient builds about three nodes per edge of the
# forward graph (the local derivative as ops, times the upstream, plus the sum), each a Python Value
# with its own local derivatives: 10x one float sweep is the budget. The second sweep runs over
# the forward graph plus that gradient graph (about 4x the nodes): 10x as well. A forward sweep does
# the same multiply-adds as a backward sweep, over edges in the other order: 3x is the budget.
TARGET_CREATE_GRAPH = 10.0
TARGET_SECOND_SWEEP = 10.0
TARGET_ONE_JVP = 3.0


def best_times(work: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Each callable's best CPU seconds per call over `rounds` interleaved rounds; a callable faster
    than MIN_SAMPLE_SECONDS is repeated within a sample (the count fixed by one calibration call)."""
    repeats = {}
    for name, fn in work.items():
        start = CLOCK()
        fn()
        repeats[name] = max(1, math.ceil(MIN_SAMPLE_SECONDS / max(CLOCK() - start, 1e-7)))
    return interleaved_best_times(work, repeats, rounds)


# ---------------------------------------------------------------------------------------------------
# 1. grad(create_graph=True) and the second sweep, against backward()
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A graph to differentiate: `build(point)` makes (inputs, output) with the inputs at `point`."""

    title: str
    start: list[float]
    build: Callable[[Sequence[float]], tuple[list[Value], Value]]


def deep_chain(length: int) -> Case:
    """v ← tanh(0.9·v + 0.1), `length` times: 3 ops a link, one input."""

    def build(point: Sequence[float]) -> tuple[list[Value], Value]:
        x = Value(point[0], "x")
        v = x
        for _ in range(length):
            v = (v * 0.9 + 0.1).tanh()
        return [x], v

    return Case(f"deep chain ({3 * length:,} ops: mul, add, tanh)", [0.3], build)


def moons_mlp_loss(points: int) -> Case:
    """Hinge loss + L2 of an MLP 2-16-16-1 (relu) over the moons points: inputs are its 337 weights."""
    model = nn.MLP(2, [16, 16, 1], activation="relu", init="lecun", rng=0)
    params = model.parameters()
    xs, ys = moons_data(points)

    def build(point: Sequence[float]) -> tuple[list[Value], Value]:
        for p, value in zip(params, point):
            p.data = value
        margins = [(1.0 - y * model(x)).relu() for x, y in zip(xs, ys)]
        return params, vsum(margins) * (1.0 / len(margins)) + L2 * dot(params, params)

    return Case(
        f"moons MLP 2-16-16-1 loss ({points} points, {len(params)} weights)", [p.data for p in params], build
    )


def wide_sum(width: int) -> Case:
    """Σ sin(xᵢ)·xᵢ over `width` inputs."""

    def build(point: Sequence[float]) -> tuple[list[Value], Value]:
        xs = [Value(value) for value in point]
        return xs, vsum([x.sin() * x for x in xs])

    return Case(f"wide sum ({width:,} terms sin(x)·x)", [math.sin(i) for i in range(width)], build)


def direction(n: int) -> list[float]:
    return [math.cos(1.0 + i) for i in range(n)]


def check_case(case: Case) -> None:
    """The graph gradient's data is backward()'s grads bit for bit; its second sweep (H·v) matches
    central differences of the float gradient along v."""
    inputs, out = case.build(case.start)
    floats = grad(out, inputs)
    graphs = grad(out, inputs, create_graph=True)
    for value in inputs:
        value.grad = 0.0
    out.backward()
    assert [g.data for g in graphs] == floats == [value.grad for value in inputs], case.title
    v = direction(len(inputs))
    hessian_v = grad(dot(graphs, v), inputs)
    h = 1e-5
    plus = grad(*reversed(case.build([x + h * d for x, d in zip(case.start, v)])))
    minus = grad(*reversed(case.build([x - h * d for x, d in zip(case.start, v)])))
    central = [(a - b) / (2 * h) for a, b in zip(plus, minus)]
    error = math.sqrt(math.fsum((a - b) ** 2 for a, b in zip(hessian_v, central)))
    scale = math.sqrt(math.fsum(b * b for b in central)) or 1.0
    assert error / scale < 1e-5, (case.title, error / scale)
    case.build(case.start)  # leave shared weights (the MLP's) at the start point


def create_graph_rows(cases: Sequence[Case], rounds: int) -> tuple[list[str], dict[str, dict[str, float]]]:
    rows = [
        "| graph (built once) | edges | backward() | grad() | grad(create_graph=True) "
        "| backward through it (H·v) | create_graph / backward | H·v sweep / backward "
        "| create_graph / backward, cyclic GC paused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios: dict[str, dict[str, float]] = {}
    for case in cases:
        check_case(case)
        inputs, out = case.build(case.start)
        edges = sum(len(node.children) for node in topological_order(out))
        gradient_graph = grad(out, inputs, create_graph=True)
        directional = dot(gradient_graph, direction(len(inputs)))
        times = best_times(
            {
                "backward": out.backward,
                "grad": lambda out=out, inputs=inputs: grad(out, inputs),
                "create_graph": lambda out=out, inputs=inputs: grad(out, inputs, create_graph=True),
                "second": lambda directional=directional, inputs=inputs: grad(directional, inputs),
                "create_graph, GC paused": lambda out=out, inputs=inputs: _without_gc(
                    lambda: grad(out, inputs, create_graph=True)
                ),
            },
            rounds,
        )
        base = times["backward"]
        ratios[case.title] = {
            "create_graph": times["create_graph"] / base,
            "second": times["second"] / base,
            "paused": times["create_graph, GC paused"] / base,
        }
        rows.append(
            f"| {case.title} | {edges:,} | {_ms(base)} | {_ms(times['grad'])} | {_ms(times['create_graph'])} "
            f"| {_ms(times['second'])} | {ratios[case.title]['create_graph']:.1f}x "
            f"| {ratios[case.title]['second']:.1f}x | {ratios[case.title]['paused']:.1f}x |"
        )
    return rows, ratios


def _without_gc(work: Callable[[], object]) -> None:
    """Run `work` with Python's cyclic garbage collector paused: building a gradient graph allocates
    several Values per edge, and each full collection it triggers walks every live Value (the
    forward graph's too). The column shows how much of create_graph's cost that is."""
    gc.disable()
    try:
        work()
    finally:
        gc.enable()


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms" if seconds < 10 else f"{seconds:,.1f} s"


# ---------------------------------------------------------------------------------------------------
# 2. Forward mode (jvp) against reverse mode (backward)
# ---------------------------------------------------------------------------------------------------

HIDDEN = 16


def tanh_net(n: int) -> Callable[[list[Value]], Value]:
    """f(x) = tanh(v · tanh(W x + b)): 16 hidden tanh units, fixed number weights, n inputs."""
    weights = [[math.sin(1.0 + k * n + i) / math.sqrt(n) for i in range(n)] for k in range(HIDDEN)]
    biases = [math.cos(1.0 + k) / 2 for k in range(HIDDEN)]
    out_weights = [math.sin(2.0 + k) / math.sqrt(HIDDEN) for k in range(HIDDEN)]

    def f(xs: list[Value]) -> Value:
        hidden = [dot(row, xs, bias=b).tanh() for row, b in zip(weights, biases)]
        return dot(out_weights, hidden).tanh()

    return f


def jvp_rows(sizes: Sequence[int], rounds: int) -> tuple[list[str], dict[int, dict[str, float]]]:
    rows = [
        "| n inputs | edges | one forward sweep | one backward() | forward / backward "
        "| n forward sweeps (whole gradient) | n sweeps / backward | jvp() call | f + backward() "
        "| jvp() / (f + backward()) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios: dict[int, dict[str, float]] = {}
    for n in sizes:
        f = tanh_net(n)
        values = [math.cos(0.5 + i) for i in range(n)]
        leaves = [Value(value) for value in values]
        out = f(leaves)
        edges = sum(len(node.children) for node in topological_order(out))
        seeds = [dict(zip(leaves, basis(n, i))) for i in range(n)]
        # Correctness first: every basis direction's jvp is the gradient's entry.
        gradient = grad(out, leaves)
        for i in range(n):
            value, slope = jvp(f, values, basis(n, i))
            assert value == out.data and forward_tangents(out, seeds[i])[out] == slope
            assert math.isclose(slope, gradient[i], rel_tol=1e-12, abs_tol=1e-300), (n, i, slope, gradient[i])

        def all_sweeps(out: Value = out, seeds: list[dict[Value, float]] = seeds) -> None:
            for seed in seeds:
                forward_tangents(out, seed)

        def build_and_backward(f: Callable[[list[Value]], Value] = f, values: list[float] = values) -> None:
            f([Value(value) for value in values]).backward()

        first_basis = basis(n, 0)
        times = best_times(
            {
                "one sweep": lambda out=out, seed=seeds[0]: forward_tangents(out, seed),
                "backward": out.backward,
                "all sweeps": all_sweeps,
                "jvp call": lambda f=f, values=values, e0=first_basis: jvp(f, values, e0),
                "f + backward": build_and_backward,
            },
            rounds,
        )
        base = times["backward"]
        ratios[n] = {
            "one": times["one sweep"] / base,
            "all": times["all sweeps"] / base,
            "call": times["jvp call"] / times["f + backward"],
        }
        rows.append(
            f"| {n} | {edges:,} | {_us(times['one sweep'])} | {_us(base)} | {ratios[n]['one']:.2f}x "
            f"| {_us(times['all sweeps'])} | {ratios[n]['all']:.1f}x | {_us(times['jvp call'])} "
            f"| {_us(times['f + backward'])} | {ratios[n]['call']:.2f}x |"
        )
    return rows, ratios


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


# ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7, smaller graphs")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    scale = 10 if args.quick else 1
    cases = [deep_chain(10_000 // scale), moons_mlp_loss(100 // scale), wide_sum(30_000 // scale)]
    graph_rows, graph_ratios = create_graph_rows(cases, rounds)
    forward_rows, forward_ratios = jvp_rows((1, 10, 100), rounds)
    print("\n".join([*graph_rows, "", *forward_rows, ""]))

    checks: list[tuple[str, float, float]] = []  # (what is measured, the ratio, the most it may be)
    for title, ratio in graph_ratios.items():
        create, second = TARGET_CREATE_GRAPH, TARGET_SECOND_SWEEP
        checks.append(
            (f"grad(create_graph=True) <= {create:g}x backward(), {title}", ratio["create_graph"], create)
        )
        checks.append(
            (
                f"backward through the gradient graph <= {second:g}x backward(), {title}",
                ratio["second"],
                second,
            )
        )
    for n, ratio in forward_ratios.items():
        one = TARGET_ONE_JVP
        checks.append((f"one forward sweep <= {one:g}x one backward(), n = {n}", ratio["one"], one))
        checks.append((f"one jvp() call <= {one:g}x building f + backward(), n = {n}", ratio["call"], one))
    for name, ratio, limit in checks:
        print(f"target {'met' if ratio <= limit else 'MISSED'}: {name} (measured {ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
