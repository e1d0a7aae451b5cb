"""How long drawing takes: every graph shape at the default settings against the 5 s target, full
drawings of 2,000-value graphs, and the renderer's start-up cost.

    python benchmarks/bench_render.py            # about 2 minutes
    python benchmarks/bench_render.py --quick    # the default-settings table only

All numbers come from this one run. Rendering uses whatever `autograd.draw` resolves (normally the
bundled Graphviz compiled to WebAssembly). The default-settings table draws graphs whose cost is in
their arrows rather than their values (one leaf used by 2,000 ops, a weight shared by every step
of a recurrence, a node with 5,000 operands, chains thousands of ops deep) and prints MISSED for any
render slower than the target. Start-up is timed in fresh processes, once with wasmtime's
compilation cache off (GRADSTEP_WASM_CACHE=0) and once with it on and already filled.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

import itertools  # noqa: E402

from autograd import Value, dot, draw, topological_order, vsum  # noqa: E402
from autograd.drawing.graphviz import get_renderer  # noqa: E402
from autograd.drawing.render import DEFAULT_LAYOUT_BUDGET, DEFAULT_MAX_NODES, Graph  # noqa: E402
from tests.fixtures import lecture_neuron  # noqa: E402

BIG_VALUES = 2_000
TARGET_SECONDS = 5.0  # every drawing the defaults allow renders in under this
FULL_DRAWING_SECONDS = 900.0  # the time limit for the full drawings timed below

_FIRST_RENDER = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from autograd import Value, draw
draw(Value(1.0, "x") * 2).svg()
print(time.perf_counter() - start)
"""


def mlp_batch_loss(target_values: int) -> Value:
    """A 2-8-8-1 tanh MLP's mean squared error over as many examples as make ~`target_values` values."""
    sizes = (2, 8, 8, 1)
    layers = [
        [
            (
                [Value(0.1 * ((n + k) % 7) - 0.3, f"layers.{li}.neurons.{n}.w.{k}") for k in range(n_in)],
                Value(0.0, f"layers.{li}.neurons.{n}.b"),
            )
            for n in range(n_out)
        ]
        for li, (n_in, n_out) in enumerate(itertools.pairwise(sizes))
    ]
    errors: list[Value] = []
    example = 0
    while True:
        hidden = [Value(0.01 * example, "x1"), Value(1.0 - 0.02 * example, "x2")]
        for li, layer in enumerate(layers):
            outputs = [dot(weights, hidden, bias) for weights, bias in layer]
            hidden = [z.tanh() for z in outputs] if li < len(layers) - 1 else outputs
        errors.append((hidden[0] - 1.0) ** 2)
        example += 1
        loss = vsum(errors) / len(errors)
        if len(topological_order(loss)) >= target_values:
            loss.backward()
            return loss


def local_expression(target_values: int) -> Value:
    """A long formula where each step combines recent results (little fan-out, like hand-written maths)."""
    recent = [Value(0.5, "a"), Value(-0.25, "b"), Value(1.5, "c")]
    count = len(recent)
    step = 0
    while count < target_values - 1:
        x, y = recent[-3], recent[-1]
        if step % 2:
            recent.append((x * y if step % 3 else x + y).tanh())  # two new values
            count += 2
        else:
            recent.append(x * 0.5 + y)  # three: the constant 0.5, the product, the sum
            count += 3
        step += 1
    root = recent[-1] + recent[-2]
    root.backward()
    return root


def reused_sum(terms: int) -> Value:
    """x+x+...+x: one leaf used by every op of a long chain."""
    x = Value(1.0, "x")
    total = x
    for _ in range(terms - 1):
        total = total + x
    return total


def reused_product(terms: int) -> Value:
    x = Value(1.0001, "x")
    total = x
    for _ in range(terms - 1):
        total = total * x
    return total


def one_leaf_feeding(ops: int) -> Value:
    """One leaf feeding `ops` products side by side, summed by one node."""
    x = Value(1.0, "x")
    return vsum(x * float(k) for k in range(ops))


def recurrence(steps: int) -> Value:
    """h = tanh(w*h + u*x_t) unrolled: w and u are used by every step."""
    w, u, h = Value(0.5, "w"), Value(0.3, "u"), Value(0.0, "h0")
    for t in range(steps):
        h = (w * h + u * Value(0.1 * t, f"x{t}")).tanh()
    return h


def unary_chain(ops: int) -> Value:
    value = Value(0.5, "x")
    for _ in range(ops):
        value = value.tanh()
    return value


def binary_chain(ops: int) -> Value:
    """acc + x_i: a chain with a new input at every op."""
    total = Value(0.5, "x")
    for i in range(ops):
        total = total + Value(0.1, f"x{i}")
    return total


def wide_sum(operands: int) -> Value:
    return vsum(Value(0.001 * k, f"x{k}") for k in range(operands))


def wide_dot(operands: int) -> Value:
    half = operands // 2
    return dot([Value(0.1, f"w{k}") for k in range(half)], [Value(0.2, f"x{k}") for k in range(half)])


def default_settings_rows() -> list[tuple[str, Value]]:
    return [
        ("fan-out chain x+x+...+x, 2,001 terms", reused_sum(2_001)),
        ("fan-out chain x*x*...*x, 600 terms", reused_product(600)),
        ("fan-out: one leaf feeding 2,000 ops", one_leaf_feeding(2_000)),
        ("recurrence, shared w and u, 300 steps", recurrence(300)),
        ("deep chain of tanh, 5,000 ops", unary_chain(5_000)),
        ("deep chain acc + x_i, 5,000 ops", binary_chain(5_000)),
        ("wide node: sum of 5,000 values", wide_sum(5_000)),
        ("wide node: dot of 2 x 2,500 values", wide_dot(5_000)),
        ("MLP 2-8-8-1 batch loss, 2,000+ values", mlp_batch_loss(BIG_VALUES)),
    ]


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def first_render_in_fresh_process(cache: bool) -> float:
    env = {**os.environ, "GRADSTEP_WASM_CACHE": "1" if cache else "0"}
    finished = subprocess.run(
        [sys.executable, "-c", _FIRST_RENDER, str(REPO)], capture_output=True, text=True, env=env, check=True
    )
    return float(finished.stdout)


def default_settings_table() -> int:
    """Every shape at the default max_nodes and layout budget; returns the number of MISSED targets."""
    print(f"default settings: max_nodes={DEFAULT_MAX_NODES}, layout_budget={DEFAULT_LAYOUT_BUDGET:,}")
    print(f"{'graph':<42} {'values':>7} {'drawn':>6} {'cost':>6} {'build DOT':>10} {'render SVG':>11}")
    missed = 0
    for name, root in default_settings_rows():
        root.backward()
        graph = draw(root)
        svg = Graph(graph.source).svg()  # correctness before timing: every drawn value is in the SVG
        assert svg.count('class="node"') >= graph.drawn_values, name
        assert graph.layout is not None and graph.layout.cost <= DEFAULT_LAYOUT_BUDGET, name
        build = best_of(2, lambda root=root: draw(root))
        render = best_of(2, lambda graph=graph: Graph(graph.source).svg())  # a new Graph: svg() caches
        flag = "" if render < TARGET_SECONDS else f"  MISSED (target < {TARGET_SECONDS:g} s)"
        missed += bool(flag)
        values = len(topological_order(root))
        print(
            f"{name:<42} {values:>7,} {graph.drawn_values:>6,} {graph.layout.cost:>6,} "
            f"{build * 1e3:>7.0f} ms {render:>9.3f} s{flag}"
        )
    print()
    return missed


def main() -> int:
    renderer = get_renderer()
    print(f"renderer: {renderer.description}")
    missed = default_settings_table()
    if "--quick" in sys.argv[1:]:
        return 1 if missed else 0

    # Start-up: a fresh process's first render (import, compile or load the module, render).
    first_render_in_fresh_process(cache=True)  # make sure the cache is filled
    cold = statistics.median(first_render_in_fresh_process(cache=False) for _ in range(3))
    warm = statistics.median(first_render_in_fresh_process(cache=True) for _ in range(3))
    print(f"first render in a fresh process, no compile cache:  {cold:.3f} s")
    print(f"first render in a fresh process, wasmtime cache on:  {warm:.3f} s  ({cold / warm:.0f}x faster)")

    small_root = lecture_neuron(backward=True).o
    small = draw(small_root, max_nodes=None)
    small_values = len(topological_order(small_root))
    formula_root = local_expression(BIG_VALUES)
    mlp_root = mlp_batch_loss(BIG_VALUES)

    # A new Graph for every render: svg() caches its result.
    small_svg = best_of(20, lambda: Graph(small.source).svg())
    rows = [
        ("lecture neuron", small_values, best_of(20, lambda: draw(small_root, max_nodes=None)), small_svg)
    ]
    for name, root, limit in (
        ("formula, local reuse, everything drawn", formula_root, None),
        ("MLP 2-8-8-1 batch loss, everything drawn", mlp_root, None),
        ("same MLP loss, default max_nodes (500)", mlp_root, DEFAULT_MAX_NODES),
    ):
        graph = draw(root, max_nodes=limit)
        build = best_of(3, lambda root=root, limit=limit: draw(root, max_nodes=limit))
        # Full drawings are what the time limit exists for; here we want their time, however long.
        render = best_of(2, lambda graph=graph: Graph(graph.source, time_limit=FULL_DRAWING_SECONDS).svg())
        rows.append((name, len(topological_order(root)), build, render))

    print()
    print(f"{'graph':<44} {'values':>7} {'build DOT':>10} {'render SVG':>11} {'vs small':>9}")
    for name, values, build, render in rows:
        build_text = f"{build * 1e3:.1f} ms"
        print(f"{name:<44} {values:>7,} {build_text:>10} {render:>9.3f} s {render / small_svg:>8.0f}x")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
