"""Pieces shared by the tests and by the scripts in docs/ and benchmarks/ (import as `tests.fixtures`).

- `lecture_neuron()`: the neuron of the backprop lecture, o = tanh(x1*w1 + x2*w2 + b), with the
  numbers that make o = 0.7071 (see docs/reference-numbers.md);
- `readme_graphs()`: the graphs the README shows (docs/make_graph_images.py writes them, and
  tests/test_render.py checks the committed files against them);
- `same_bits` / `all_same_bits`: what "bit for bit" means for floats;
- `required`: whether an environment variable makes an optional oracle mandatory;
- `CHROMIUM`, `CHROMIUM_FLAGS`: the browser the stepper tests and screenshots drive.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nn
from autograd import Value, backward_nodes, draw, grad, topological_order, vsum
from autograd.drawing.render import Graph

__all__ = [
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "LECTURE_NEURON_FORMULA",
    "LECTURE_NEURON_INPUTS",
    "LectureNeuron",
    "all_same_bits",
    "lecture_neuron",
    "mlp_loss",
    "readme_graphs",
    "required",
    "same_bits",
]

# x1=2, x2=0, w1=-3, w2=1 and a bias chosen so that n = 0.8813735870195432 = atanh(1/sqrt(2)).
LECTURE_NEURON_INPUTS: dict[str, float] = {
    "x1": 2.0,
    "x2": 0.0,
    "w1": -3.0,
    "w2": 1.0,
    "b": 6.8813735870195432,
}
LECTURE_NEURON_FORMULA = "tanh(x1*w1 + x2*w2 + b)"


@dataclass(frozen=True)
class LectureNeuron:
    """The lecture neuron's graph: its five leaves, the intermediate values and the output."""

    x1: Value
    x2: Value
    w1: Value
    w2: Value
    b: Value
    x1w1: Value
    x2w2: Value
    n: Value
    o: Value

    @property
    def leaves(self) -> tuple[Value, Value, Value, Value, Value]:
        return self.x1, self.x2, self.w1, self.w2, self.b

    @property
    def parameters(self) -> list[Value]:
        """The neuron's weights and bias (what a training step would change)."""
        return [self.w1, self.w2, self.b]

    def labelled(self) -> dict[str, Value]:
        """Every labelled value of the graph, by label (x1, x2, w1, w2, b, n, o)."""
        return {value.label: value for value in topological_order(self.o) if value.label}


def lecture_neuron(*, backward: bool = False, label_n_and_o: bool = True) -> LectureNeuron:
    """A fresh lecture neuron built from binary ops: n = x1*w1 + x2*w2 + b, o = tanh(n).

    The same graph as the README's "Values and backward" snippet (tests/test_readme.py checks that
    the README's neuron picture is the drawing snippet's graph).

    `n` and `o` carry their labels, as in the lecture's picture (unless ``label_n_and_o=False``,
    for tests of what unlabelled values are called). With ``backward=True`` the grads are filled
    in (o = 0.7071; grads x1 -1.5, w1 1.0, x2 0.5, w2 0.0, b 0.5).
    """
    x1, x2 = Value(LECTURE_NEURON_INPUTS["x1"], "x1"), Value(LECTURE_NEURON_INPUTS["x2"], "x2")
    w1, w2 = Value(LECTURE_NEURON_INPUTS["w1"], "w1"), Value(LECTURE_NEURON_INPUTS["w2"], "w2")
    b = Value(LECTURE_NEURON_INPUTS["b"], "b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    if label_n_and_o:
        n.label, o.label = "n", "o"
    if backward:
        o.backward()
    return LectureNeuron(x1, x2, w1, w2, b, x1w1, x2w2, n, o)


def mlp_loss(model: nn.MLP, examples: Sequence[tuple[float, float, float]]) -> Value:
    """Mean squared error of a 2-input `model` over (x1, x2, target) examples, after backward."""
    errors = []
    for x1, x2, target in examples:
        prediction = model([Value(x1, "x1"), Value(x2, "x2")])
        errors.append((prediction - target) ** 2)
    loss = errors[0] if len(errors) == 1 else vsum(errors) / len(errors)
    loss.label = "loss"
    loss.backward()
    return loss


def readme_graphs() -> dict[str, Callable[[], Graph]]:
    """File name under docs/ -> how to draw it: the lecture neuron after backward, the same neuron
    coloured by its gradients, an MLP 2-4-4-1 with a squared-error loss grouped by module, a
    12-example batch loss of that MLP cut to 40 values with `max_nodes`, and tanh's derivative
    built as a graph with its backward pass's nodes outlined."""

    def neuron() -> Graph:
        graph = lecture_neuron(backward=True)
        return draw(graph.o, parameters=graph.parameters, legend=True)

    def neuron_gradients() -> Graph:
        graph = lecture_neuron(backward=True)
        return draw(graph.o, parameters=graph.parameters, color_grads=True, rankdir="TB", legend=True)

    def mlp() -> Graph:
        model = nn.MLP(2, [4, 4, 1], rng=1)
        return draw(mlp_loss(model, [(0.5, -1.0, 1.0)]), parameters=model, legend=True)

    def mlp_batch() -> Graph:
        model = nn.MLP(2, [4, 4, 1], rng=1)
        examples = [(0.1 * k, 1.0 - 0.15 * k, 1.0 if k % 2 else -1.0) for k in range(12)]
        return draw(mlp_loss(model, examples), parameters=model, max_nodes=40)

    def second_derivative() -> Graph:
        # d tanh(x)/dx as a graph (create_graph=True), then its own backward: x.grad = d²tanh/dx².
        x = Value(0.5, "x")
        t = x.tanh()
        (slope,) = grad(t, [x], create_graph=True)
        slope.label = "dt/dx"
        slope.backward()
        return draw(slope, backward_nodes=backward_nodes([slope], t), legend=True)

    return {
        "graph-neuron.svg": neuron,
        "graph-neuron-gradients.svg": neuron_gradients,
        "graph-mlp.svg": mlp,
        "graph-mlp-batch.svg": mlp_batch,
        "graph-second-derivative.svg": second_derivative,
    }


def same_bits(a: float, b: float) -> bool:
    """The same double: equal and with the same sign of zero (any NaN matches any NaN)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def all_same_bits(a: Sequence[float], b: Sequence[float]) -> bool:
    """Two equally long sequences of floats, `same_bits` position by position."""
    return len(a) == len(b) and all(same_bits(x, y) for x, y in zip(a, b))


# Debian's chromium package, driven by Playwright; never a browser downloaded by `playwright install`.
CHROMIUM = os.environ.get("GRADSTEP_CHROMIUM", "/usr/bin/chromium")
# Flags that headless Chromium needs in containers without a GPU or a user namespace (--no-sandbox,
# --disable-gpu); without the networking ones it keeps trying to reach the internet (updates, sync,
# QUIC probes). Playwright adds --headless itself.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def required(env_var: str) -> bool:
    """True when `env_var` is set to anything but "" or "0" (CI makes optional oracles mandatory)."""
    return os.environ.get(env_var, "") not in ("", "0")
