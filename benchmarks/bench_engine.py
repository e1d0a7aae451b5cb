"""Eager engine benchmark: gradstep vs micrograd 0.1.0 vs hand-written pure Python, in one run.

    python benchmarks/bench_engine.py            # full run (~1-2 minutes)
    python benchmarks/bench_engine.py --quick    # fewer repeats

micrograd is installed into the benchmark environment only (`pip install micrograd==0.1.0`); it is
not a dependency. PyTorch, when installed, is timed as a scalar engine on the moons step too.
Every number is a median of several repeats of this process's CPU time (time.process_time, so
other processes on a shared machine disturb it less than wall time), and every comparison is a
ratio measured in the same process.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from operator import mul
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograd import Value, dot, topological_order, vsum

LAYER_SIZES = (2, 16, 16, 1)
N_POINTS = 100
L2 = 1e-4


def median_seconds(
    fn: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None
) -> float:
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------------
# Data and initial weights shared by every implementation
# ---------------------------------------------------------------------------------------------------


def moons_data(n: int = N_POINTS, seed: int = 1) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles with noise 0.1, labels ±1 (the shape of make_moons)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * (i // 2) / (n // 2 - 1)
        if i % 2 == 0:
            point, label = [math.cos(t), math.sin(t)], -1.0
        else:
            point, label = [1.0 - math.cos(t), 0.5 - math.sin(t)], 1.0
        xs.append([point[0] + rng.gauss(0, 0.1), point[1] + rng.gauss(0, 0.1)])
        ys.append(label)
    return xs, ys


def initial_weights(seed: int = 1337) -> list[tuple[list[list[float]], list[float]]]:
    """[(rows of weights, biases)] per layer, uniform(-1, 1) weights and zero biases (micrograd's)."""
    rng = random.Random(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(LAYER_SIZES):
        rows = [[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)]
        layers.append((rows, [0.0] * n_out))
    return layers


# ---------------------------------------------------------------------------------------------------
# 1. gradstep, eager
# ---------------------------------------------------------------------------------------------------


class GradstepMoons:
    """The moons net on gradstep Values: one `dot` node per neuron, then relu."""

    def __init__(self, weights: list[tuple[list[list[float]], list[float]]]) -> None:
        self.layers = [
            ([[Value(w) for w in row] for row in rows], [Value(b) for b in biases])
            for rows, biases in weights
        ]
        self.params = [p for rows, biases in self.layers for row, b in zip(rows, biases) for p in (*row, b)]

    def score(self, x: list[float]) -> Value:
        activations: list = x
        last = len(self.layers) - 1
        for depth, (rows, biases) in enumerate(self.layers):
            sums = [dot(row, activations, bias=b) for row, b in zip(rows, biases)]
            activations = sums if depth == last else [s.relu() for s in sums]
        return activations[0]

    def step(self, xs: list[list[float]], ys: list[float], lr: float) -> float:
        margins = [(1.0 - y * self.score(x)).relu() for x, y in zip(xs, ys)]
        loss = vsum(margins) * (1.0 / len(margins)) + L2 * dot(self.params, self.params)
        for p in self.params:
            p.grad = 0.0
        loss.backward()
        for p in self.params:
            p.data -= lr * p.grad
        return loss.data


def nn_moons(weights: list[tuple[list[list[float]], list[float]]]):
    """The same step written with gradstep's `nn` API, as a user would."""
    import nn

    model = nn.MLP.from_weights(
        [rows for rows, _ in weights], [biases for _, biases in weights], activation="relu"
    )
    optimizer = nn.SGD(model.parameters(), lr=0.01)

    def step(xs: list[list[float]], ys: list[float], lr: float) -> float:
        loss = nn.hinge([model(x) for x in xs], ys) + nn.l2_penalty(model, 2 * L2, include_biases=True)
        optimizer.lr = lr
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.data

    return step


# ---------------------------------------------------------------------------------------------------
# 2. micrograd 0.1.0, exactly as its demo notebook trains
# ---------------------------------------------------------------------------------------------------


def micrograd_moons(weights: list[tuple[list[list[float]], list[float]]]):
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP

    model = MLP(LAYER_SIZES[0], list(LAYER_SIZES[1:]))
    for layer, (rows, biases) in zip(model.layers, weights):
        for neuron, row, b in zip(layer.neurons, rows, biases):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = b

    def step(xs: list[list[float]], ys: list[float], lr: float) -> float:
        inputs = [list(map(MValue, x)) for x in xs]
        scores = list(map(model, inputs))
        losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = L2 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return total.data

    return step


# ---------------------------------------------------------------------------------------------------
# 3. the limit: the same math written by hand with plain floats, map and sum
# ---------------------------------------------------------------------------------------------------


def handwritten_moons(weights: list[tuple[list[list[float]], list[float]]]):
    (w1, b1), (w2, b2), (w3, b3) = [([row[:] for row in rows], biases[:]) for rows, biases in weights]
    w3_row = w3[0]

    def step(xs: list[list[float]], ys: list[float], lr: float) -> float:
        n = len(xs)
        grads_w1 = [[0.0, 0.0] for _ in w1]
        grads_b1 = [0.0] * len(b1)
        grads_w2 = [[0.0] * len(row) for row in w2]
        grads_b2 = [0.0] * len(b2)
        grads_w3 = [0.0] * len(w3_row)
        grad_b3 = 0.0
        data_loss = 0.0
        for x, y in zip(xs, ys):
            z1 = [sum(map(mul, row, x)) + b for row, b in zip(w1, b1)]
            h1 = [z if z > 0.0 else 0.0 for z in z1]
            z2 = [sum(map(mul, row, h1)) + b for row, b in zip(w2, b2)]
            h2 = [z if z > 0.0 else 0.0 for z in z2]
            score = sum(map(mul, w3_row, h2)) + b3[0]
            margin = 1.0 - y * score
            if margin <= 0.0:
                continue
            data_loss += margin
            d_score = -y / n
            grad_b3 += d_score
            for j, h in enumerate(h2):
                grads_w3[j] += d_score * h
            d_z2 = [d_score * w if z > 0.0 else 0.0 for w, z in zip(w3_row, z2)]
            d_h1 = [0.0] * len(h1)
            for j, (row, d) in enumerate(zip(w2, d_z2)):
                if d == 0.0:
                    continue
                grads_b2[j] += d
                grad_row = grads_w2[j]
                for k, h in enumerate(h1):
                    grad_row[k] += d * h
                    d_h1[k] += d * row[k]
            for j, (d, z) in enumerate(zip(d_h1, z1)):
                if z > 0.0:
                    grads_b1[j] += d
                    grads_w1[j][0] += d * x[0]
                    grads_w1[j][1] += d * x[1]
        reg = 0.0
        for rows, biases, g_rows, g_biases in (
            (w1, b1, grads_w1, grads_b1),
            (w2, b2, grads_w2, grads_b2),
        ):
            for row, g_row in zip(rows, g_rows):
                reg += sum(map(mul, row, row))
                for k, w in enumerate(row):
                    row[k] = w - lr * (g_row[k] + 2 * L2 * w)
            reg += sum(map(mul, biases, biases))
            for j, b in enumerate(biases):
                biases[j] = b - lr * (g_biases[j] + 2 * L2 * b)
        reg += sum(map(mul, w3_row, w3_row)) + b3[0] * b3[0]
        for k, w in enumerate(w3_row):
            w3_row[k] = w - lr * (grads_w3[k] + 2 * L2 * w)
        b3[0] = b3[0] - lr * (grad_b3 + 2 * L2 * b3[0])
        return data_loss / n + L2 * reg

    return step


# ---------------------------------------------------------------------------------------------------
# 4. PyTorch used as a scalar engine (optional)
# ---------------------------------------------------------------------------------------------------


def torch_scalar_moons(weights: list[tuple[list[list[float]], list[float]]]):
    import torch

    layers = [
        (
            [[torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in row] for row in rows],
            [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in biases],
        )
        for rows, biases in weights
    ]
    params = [p for rows, biases in layers for row, b in zip(rows, biases) for p in (*row, b)]

    def score(x: list[float]):
        activations = x
        for depth, (rows, biases) in enumerate(layers):
            sums = [sum((w * a for w, a in zip(row, activations)), b) for row, b in zip(rows, biases)]
            activations = sums if depth == len(layers) - 1 else [torch.relu(s) for s in sums]
        return activations[0]

    def step(xs: list[list[float]], ys: list[float], lr: float) -> float:
        losses = [torch.relu(1 - y * score(x)) for x, y in zip(xs, ys)]
        total = sum(losses) * (1.0 / len(losses)) + L2 * sum(p * p for p in params)
        for p in params:
            p.grad = None
        total.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return total.item()

    return step


# ---------------------------------------------------------------------------------------------------
# Chain, wide sum, memory
# ---------------------------------------------------------------------------------------------------


def build_gradstep_chain(n: int) -> tuple[Value, Value]:
    """(input, output) of n ops of (y * 0.999).relu() on gradstep Values."""
    x = Value(0.5)
    y = x
    for _ in range(n // 2):
        y = (y * 0.999).relu()
    return x, y


def chain_gradstep(n: int) -> float:
    x, y = build_gradstep_chain(n)
    y.backward()
    return x.grad


def chain_micrograd(n: int) -> float:
    from micrograd.engine import Value as MValue

    x = MValue(0.5)
    y = x
    for _ in range(n // 2):
        y = (y * 0.999).relu()
    y.backward()
    return x.grad


def chain_handwritten(n: int) -> float:
    values = [0.5]
    for _ in range(n // 2):
        z = values[-1] * 0.999
        values.append(z if z > 0.0 else 0.0)
    grad = 1.0
    for v in reversed(values[1:]):
        grad = grad * (1.0 if v > 0.0 else 0.0) * 0.999
    return grad


def wide_gradstep(ws: list[float], xs: list[float]) -> float:
    weights = [Value(w) for w in ws]
    out = dot(weights, xs)
    out.backward()
    return weights[0].grad


def wide_micrograd(ws: list[float], xs: list[float]) -> float:
    from micrograd.engine import Value as MValue

    weights = [MValue(w) for w in ws]
    out = sum(w * x for w, x in zip(weights, xs))
    out.backward()
    return weights[0].grad


def wide_handwritten(ws: list[float], xs: list[float]) -> float:
    total = sum(map(mul, ws, xs))
    grads = list(xs)  # d total / d w_i = x_i
    return grads[0] + 0.0 * total


def chain_phases(n: int, repeats: int) -> dict[str, float]:
    """Where gradstep's chain time goes: seconds per op of building the graph, its topological
    order, the backward sweep (`backward()` minus its own topological order) and freeing the graph,
    each the median over `repeats` runs."""
    samples: dict[str, list[float]] = {"build": [], "topological order": [], "backward sweep": [], "free": []}
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        x, y = build_gradstep_chain(n)
        built = time.process_time()
        order = topological_order(y)
        ordered = time.process_time()
        y.backward()
        swept = time.process_time()
        del x, y, order
        freed = time.process_time()
        samples["build"].append(built - start)
        samples["topological order"].append(ordered - built)
        samples["backward sweep"].append((swept - ordered) - (ordered - built))
        samples["free"].append(freed - swept)
    return {phase: statistics.median(times) / n for phase, times in samples.items()}


def bytes_per_node(build: Callable[[int], object], n: int) -> tuple[float, float]:
    """(bytes per node held by the built graph, peak bytes per node including backward)."""
    gc.collect()
    tracemalloc.start()
    root = build(n)
    held, _ = tracemalloc.get_traced_memory()
    root.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del root
    return held / n, peak / n


def mul_chain(value_cls: type) -> Callable[[int], object]:
    def build(n: int):
        x = value_cls(1.0)
        y = x
        for _ in range(n):
            y = y * x
        return y

    return build


# ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats (noisier)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch scalar-engine column")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    try:
        import micrograd  # noqa: F401
    except ImportError:
        print("micrograd is not installed: pip install micrograd==0.1.0", file=sys.stderr)
        return 2
    sys.setrecursionlimit(1_000_000)  # micrograd's topological sort recurses once per node

    xs, ys = moons_data()
    weights = initial_weights()
    rows = []

    # 1. deep chain and wide sum, per op
    n_chain = 100_000
    chain = {
        "hand-written limit": median_seconds(lambda: chain_handwritten(n_chain), repeats),
        "gradstep eager": median_seconds(lambda: chain_gradstep(n_chain), repeats),
        "micrograd 0.1.0": median_seconds(lambda: chain_micrograd(n_chain), 3),
    }
    rng = random.Random(0)
    ws = [rng.uniform(-1, 1) for _ in range(n_chain)]
    wxs = [rng.uniform(-1, 1) for _ in range(n_chain)]
    wide = {
        "hand-written limit": median_seconds(lambda: wide_handwritten(ws, wxs), repeats),
        "gradstep eager": median_seconds(lambda: wide_gradstep(ws, wxs), repeats),
        "micrograd 0.1.0": median_seconds(lambda: wide_micrograd(ws, wxs), 3),
    }
    rows.append("")
    rows.append(
        "| per op, forward + backward | deep chain (100k ops: mul, relu) | wide sum (100k products) |"
    )
    rows.append("|---|---:|---:|")
    for name in chain:
        rows.append(
            f"| {name} | {chain[name] / n_chain * 1e9:.0f} ns ({chain[name] / chain['gradstep eager']:.1f}x) "
            f"| {wide[name] / n_chain * 1e9:.0f} ns ({wide[name] / wide['gradstep eager']:.1f}x) |"
        )
    rows.append("(x = time relative to gradstep eager)")
    # Diagnostic: where the chain's time goes. Every node of a growing graph is traversed again and
    # again by CPython's cyclic GC while the graph is built (the graph holds no cycles to collect).
    gc.disable()
    try:
        paused = {
            "gradstep eager": median_seconds(lambda: chain_gradstep(n_chain), repeats),
            "micrograd 0.1.0": median_seconds(lambda: chain_micrograd(n_chain), 3),
        }
    finally:
        gc.enable()
    rows.append(
        "deep chain with the cyclic GC paused (diagnostic only): "
        + ", ".join(f"{name} {t / n_chain * 1e9:.0f} ns" for name, t in paused.items())
        + f" ({paused['micrograd 0.1.0'] / paused['gradstep eager']:.1f}x)"
    )
    phases = chain_phases(n_chain, repeats)
    rows.append(
        "gradstep's deep chain by phase (diagnostic only): "
        + ", ".join(f"{phase} {t * 1e9:.0f} ns" for phase, t in phases.items())
        + " per op"
    )

    # 2. memory per node
    from micrograd.engine import Value as MValue

    ours_held, ours_peak = bytes_per_node(mul_chain(Value), 100_000)
    theirs_held, theirs_peak = bytes_per_node(mul_chain(MValue), 100_000)
    rows.append("")
    rows.append(
        "| memory per graph node (tracemalloc, 100k-node mul chain) | graph held | peak incl. backward |"
    )
    rows.append("|---|---:|---:|")
    rows.append(f"| gradstep | {ours_held:.0f} B | {ours_peak:.0f} B |")
    rows.append(f"| micrograd 0.1.0 | {theirs_held:.0f} B | {theirs_peak:.0f} B |")

    rows.append("")
    # 3. moons training step, last: importing PyTorch fills the heap, and a bigger heap makes
    # the cyclic GC (and so every number above) slower.
    ours = GradstepMoons(weights)
    steps = {
        "hand-written limit": handwritten_moons(weights),
        "gradstep eager": lambda X, Y, lr: ours.step(X, Y, lr),
        "gradstep nn.MLP + nn.SGD": nn_moons(weights),
        "micrograd 0.1.0": micrograd_moons(weights),
    }
    if not args.no_torch:
        with contextlib.suppress(ImportError):
            steps["PyTorch (scalar tensors)"] = torch_scalar_moons(weights)
    first_losses = {name: step(xs, ys, 0.0) for name, step in steps.items()}
    reference_loss = first_losses["hand-written limit"]
    for name, loss in first_losses.items():
        assert abs(loss - reference_loss) < 1e-9 * max(1.0, abs(reference_loss)), (name, loss, reference_loss)
    moons = {
        name: median_seconds(
            lambda step=step: step(xs, ys, 0.01), 3 if "micro" in name or "Py" in name else repeats
        )
        for name, step in steps.items()
    }
    limit = moons["hand-written limit"]
    rows.append(
        "| moons step (MLP 2-16-16-1, 100 points, hinge + L2, backward, SGD) | time | vs limit | "
        "gradstep speed-up |"
    )
    rows.append("|---|---:|---:|---:|")
    for name, seconds in moons.items():
        speedup = seconds / moons["gradstep eager"]
        rows.append(f"| {name} | {seconds * 1e3:.1f} ms | {seconds / limit:.1f}x | {speedup:.1f}x |")

    print("\n".join(rows))
    print()
    targets = [
        ("moons step >= 10x faster than micrograd", moons["micrograd 0.1.0"] / moons["gradstep eager"] >= 10),
        (
            "deep chain >= 8x faster per op than micrograd",
            chain["micrograd 0.1.0"] / chain["gradstep eager"] >= 8,
        ),
        (
            "wide sum >= 8x faster per op than micrograd",
            wide["micrograd 0.1.0"] / wide["gradstep eager"] >= 8,
        ),
        ("<= 250 bytes per node (graph held)", ours_held <= 250),
    ]
    for name, met in targets:
        print(f"target {'met' if met else 'MISSED'}: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
