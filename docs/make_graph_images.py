"""Draw the graphs the README shows (docs/graph-*.svg), with `autograd.draw`, never by hand.

    python docs/make_graph_images.py          # writes the SVGs next to this script
    python docs/make_graph_images.py --png    # also PNGs (rasterised by resvg, a gradstep dependency)

The pictures: the lecture neuron after backward, the same neuron coloured by its gradients, an
MLP 2-4-4-1 with a squared-error loss grouped by module, and a 12-example batch loss of that MLP
cut to 40 values with `max_nodes`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # run from a checkout without installing

import nn  # noqa: E402
from autograd import Value, draw, vsum  # noqa: E402
from autograd.drawing.render import Graph  # noqa: E402


def lecture_neuron() -> tuple[Value, list[Value]]:
    """o = tanh(x1*w1 + x2*w2 + b) with the lecture's numbers (o = 0.7071), after backward."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def mlp_loss(model: nn.MLP, examples: list[tuple[float, float, float]]) -> Value:
    """Mean squared error of `model` over (x1, x2, target) examples, after backward."""
    errors = []
    for x1, x2, target in examples:
        prediction = model([Value(x1, "x1"), Value(x2, "x2")])
        errors.append((prediction - target) ** 2)
    loss = errors[0] if len(errors) == 1 else vsum(errors) / len(errors)
    loss.label = "loss"
    loss.backward()
    return loss


def graphs() -> dict[str, Callable[[], Graph]]:
    """File name -> how to draw it."""

    def neuron() -> Graph:
        o, parameters = lecture_neuron()
        return draw(o, parameters=parameters, legend=True)

    def neuron_gradients() -> Graph:
        o, parameters = lecture_neuron()
        return draw(o, parameters=parameters, color_grads=True, rankdir="TB", legend=True)

    def mlp() -> Graph:
        model = nn.MLP(2, [4, 4, 1], rng=1)
        return draw(mlp_loss(model, [(0.5, -1.0, 1.0)]), parameters=model, legend=True)

    def mlp_batch() -> Graph:
        model = nn.MLP(2, [4, 4, 1], rng=1)
        examples = [(0.1 * k, 1.0 - 0.15 * k, 1.0 if k % 2 else -1.0) for k in range(12)]
        return draw(mlp_loss(model, examples), parameters=model, max_nodes=40)

    return {
        "graph-neuron.svg": neuron,
        "graph-neuron-gradients.svg": neuron_gradients,
        "graph-mlp.svg": mlp,
        "graph-mlp-batch.svg": mlp_batch,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", action="store_true", help="also write a PNG next to each SVG")
    parser.add_argument("--out", type=Path, default=DOCS, help="output folder (default: docs/)")
    options = parser.parse_args(argv)
    for name, make in graphs().items():
        graph = make()
        path = graph.save(options.out / name)
        print(f"{path}: {graph!r}")
        if options.png:
            print(graph.save(path.with_suffix(".png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
