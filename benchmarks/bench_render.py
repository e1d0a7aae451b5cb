"""How long drawing takes: a 2,000-value graph against a small one, and the renderer's start-up cost.

    python benchmarks/bench_render.py

All numbers come from this one run. Rendering uses whatever `autograd.draw` resolves (normally the
bundled Graphviz compiled to WebAssembly). Start-up is timed in fresh processes, once with
wasmtime's compilation cache off (GRADSTEP_WASM_CACHE=0) and once with it on and already filled.
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
from autograd.drawing.render import DEFAULT_MAX_NODES, Graph  # noqa: E402

BIG_VALUES = 2_000

_FIRST_RENDER = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from autograd import Value, draw
draw(Value(1.0, "x") * 2).svg()
print(time.perf_counter() - start)
"""


def lecture_neuron() -> Value:
    x1, x2, w1, w2 = Value(2.0, "x1"), Value(0.0, "x2"), Value(-3.0, "w1"), Value(1.0, "w2")
    o = (x1 * w1 + x2 * w2 + Value(6.8813735870195432, "b")).tanh()
    o.backward()
    return o


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


def main() -> int:
    renderer = get_renderer()
    print(f"renderer: {renderer.description}")

    # Start-up: a fresh process's first render (import, compile or load the module, render).
    first_render_in_fresh_process(cache=True)  # make sure the cache is filled
    cold = statistics.median(first_render_in_fresh_process(cache=False) for _ in range(3))
    warm = statistics.median(first_render_in_fresh_process(cache=True) for _ in range(3))
    print(f"first render in a fresh process, no compile cache:  {cold:.3f} s")
    print(f"first render in a fresh process, wasmtime cache on:  {warm:.3f} s  ({cold / warm:.0f}x faster)")

    small_root = lecture_neuron()
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
        render = best_of(2, lambda graph=graph: Graph(graph.source).svg())
        rows.append((name, len(topological_order(root)), build, render))

    print()
    print(f"{'graph':<44} {'values':>7} {'build DOT':>10} {'render SVG':>11} {'vs small':>9}")
    for name, values, build, render in rows:
        build_text = f"{build * 1e3:.1f} ms"
        print(f"{name:<44} {values:>7,} {build_text:>10} {render:>9.3f} s {render / small_svg:>8.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
