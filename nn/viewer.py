"""The training viewer: watch a 2-input network learn, replayed from a recorded run in one HTML page.

    recorder = nn.Recorder(model, X_train, y_train, loss="hinge", X_test=X_test, y_test=y_test)
    history = nn.fit(loss_fn, optimizer, 100, record=recorder)
    history.write_html("training.html")     # or history.page() in a notebook

Recording is cheap: at each recorded step the `Recorder` copies every parameter's value (before the
update), its grad and the optimiser's state (SGD's velocity, Adam's m and v) after the update, and at
every step it scores the training and test points (one batched call of the compiled network) for
the accuracy curves. Everything else is computed once, when the page is built, from those numbers:

* the decision surface and each neuron's activation over the input plane, evaluated on grids by
  `autograd.compile`'s batched replay (NumPy; without NumPy the eager engine evaluates the same grids
  point by point, slower but with the same numbers to ~1e-15);
* for a set of "pickable" training examples, that example's loss graph at the neuron level: every
  neuron's value and the grad of the example's own loss with respect to it (eager `backward()`);
* the curves, the optimiser table and the edge widths of the network drawing.

The page is one self-contained file made with `autograd.drawing.pages`: no server, no network, and it
never computes. Numbers arrive formatted, pictures as small PNG images encoded here, positions in
pixels. In the page, ``window.gradstep.viewer`` has ``count`` (recorded steps), ``index`` (the one
shown), ``go(n)``, ``play()``, ``pause()``, ``pick(example)`` and ``steps`` (the training step of each
recorded one); ``training.html#step=N`` opens the N-th recorded step (with every step recorded, N is
the training step).

Size budget (measured in benchmarks/bench_viewer.py): at most `DEFAULT_MAX_FRAMES` = 100 recorded
steps by default (longer runs record every k-th step plus the last, and the page says which), and the
per-example details are limited to about `DETAIL_BUDGET_BYTES` of text by picking a spread of
training examples; 100 steps of the moons demo make a page of about 3 MB (target: at most 5 MB).
"""

from __future__ import annotations

import base64
import copy
import math
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograd import Value

from . import losses as _losses
from ._checks import describe, is_finite_real, is_sequence
from .module import MLP
from .optim import Optimizer

if TYPE_CHECKING:
    from autograd.drawing.pages import Page

    from .train import History

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DETAIL_BUDGET_BYTES",
    "LOSSES",
    "Frame",
    "Recorder",
    "TrainingRun",
]

DEFAULT_MAX_FRAMES = 100  # recorded steps kept by default; longer runs record every k-th step
DETAIL_BUDGET_BYTES = 1_000_000  # about this much page text for the pickable examples' details
SURFACE_COLUMNS = 90  # decision-surface grid (rows follow the plot's aspect ratio)
TILE_COLUMNS = 24  # each neuron's heatmap grid
_LEVELS = 10  # colour levels on each side of zero (21 colours in all)
_NUMBER = "{:.4g}"


# ---------------------------------------------------------------------------------------------------
# Losses the viewer knows: how to score one example, which labels they take, how a class is decided
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    name: str
    loss: Callable[..., Value]
    binary: bool  # one output scored against a threshold; else one output per class (argmax)
    targets: tuple[float, float] | None  # the two label values a binary loss takes (None: any two)
    threshold: float  # binary: the output where the decision flips
    scale: float  # binary: |output - threshold| where the surface colour saturates
    output_activation: str | None = None  # the model's output activation this loss needs


LOSSES: dict[str, _Task] = {
    task.name: task
    for task in (
        _Task("hinge", _losses.hinge, True, (-1.0, 1.0), 0.0, 2.0),
        _Task(
            "binary_cross_entropy_with_logits",
            _losses.binary_cross_entropy_with_logits,
            True,
            (0.0, 1.0),
            0.0,
            4.0,
        ),
        _Task("binary_cross_entropy", _losses.binary_cross_entropy, True, (0.0, 1.0), 0.5, 0.5, "sigmoid"),
        _Task("squared_error", _losses.squared_error, True, None, 0.0, 1.0),
        _Task("cross_entropy", _losses.cross_entropy, False, None, 0.0, 1.0),
        _Task("multiclass_hinge", _losses.multiclass_hinge, False, None, 0.0, 1.0),
    )
}


def _task(loss: object) -> _Task:
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    for task in LOSSES.values():
        if loss is task.loss:
            return task
    raise ValueError(
        f"Recorder: unknown loss {describe(loss)}; choose one of {list(LOSSES)} (or the nn function)"
    )


# ---------------------------------------------------------------------------------------------------
# Evaluating the network: compiled batched replay (NumPy) or the eager engine, same numbers
# ---------------------------------------------------------------------------------------------------


def _clone(model: MLP) -> MLP:
    weights, biases = model.to_weights()
    return MLP.from_weights(weights, biases, model.activation, model.output_activation)


class _Evaluator:
    """Every neuron's activation at many input points, for given parameter values."""

    def __init__(self, model: MLP) -> None:
        self.model = _clone(model)
        self.parameters = self.model.parameters()
        self.layer_sizes = self.model.sizes[1:]
        # How many parameters the layers up to l use (parameters() lists them layer by layer).
        counts = [len(layer.parameters()) for layer in self.model.layers]
        self.prefix = [sum(counts[: layer + 1]) for layer in range(len(counts))]
        try:
            import numpy
        except ImportError:
            self.numpy: Any = None
            self._functions: dict[int, list[Any]] = {}
            return
        self.numpy = numpy
        self._functions = {}

    def functions(self, layer: int) -> list[Any]:
        """The compiled activation of every neuron of `layer` (compiled on first use: recording
        during `fit` needs only the output layer's)."""
        if layer not in self._functions:
            self._functions[layer] = [self._compile(layer, j) for j in range(self.layer_sizes[layer])]
        return self._functions[layer]

    def _forward(self, x: Sequence[Value | float], last_layer: int) -> list[tuple[Value, ...]]:
        activations: tuple[Any, ...] = tuple(x)
        out = []
        for layer in self.model.layers[: last_layer + 1]:
            activations = layer._forward(activations)
            out.append(activations)
        return out

    def _compile(self, layer: int, neuron: int) -> Any:
        from autograd import compile as compile_graph

        x1, x2 = Value(0.25, "x1"), Value(-0.5, "x2")
        inputs = [x1, x2, *self.parameters[: self.prefix[layer]]]

        def activation(*_: Value) -> Value:
            return self._forward([x1, x2], layer)[layer][neuron]

        return compile_graph(activation, inputs, wrt=[x1])

    def set(self, values: Sequence[float]) -> None:
        for parameter, value in zip(self.parameters, values):
            parameter.data = value

    def activations(
        self,
        values: Sequence[float],
        x1: Sequence[float],
        x2: Sequence[float],
        layers: Iterable[int] | None = None,
    ) -> dict[int, list[Any]]:
        """{layer: [the activations over the points, per neuron]} for the chosen layers: NumPy arrays
        when NumPy is installed (compiled batched replay), else lists of floats (eager engine)."""
        wanted = list(range(len(self.layer_sizes))) if layers is None else list(layers)
        if self.numpy is not None:
            xs, ys = self.numpy.asarray(x1, dtype=float), self.numpy.asarray(x2, dtype=float)
            result = {}
            for layer in wanted:
                shared = list(values[: self.prefix[layer]])
                result[layer] = [
                    function.batched(xs, ys, *shared, reduction="none").outputs
                    for function in self.functions(layer)
                ]
            return result
        self.set(values)
        last = max(wanted)
        columns: dict[int, list[Any]] = {
            layer: [[] for _ in range(self.layer_sizes[layer])] for layer in wanted
        }
        for a, b in zip(x1, x2):
            out = self._forward([float(a), float(b)], last)
            for layer in wanted:
                for neuron, value in enumerate(out[layer]):
                    columns[layer][neuron].append(value.data)
        return columns

    def outputs(self, values: Sequence[float], x1: Sequence[float], x2: Sequence[float]) -> list[Any]:
        """The network's outputs at the points: one list per output neuron."""
        last = len(self.layer_sizes) - 1
        return self.activations(values, x1, x2, [last])[last]


# ---------------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------------


@dataclass
class Frame:
    """One recorded training step.

    `values` are the parameters as the step used them (before its update), `grads` the gradient of
    the training loss at them, `state` the optimiser's per-parameter buffers after the step (by display
    name: "velocity", "m", "v"), `new_values` the parameters after the update. `loss` is the training
    loss `fit` reported, `lr` the learning rate of the step. Lists follow `TrainingRun.parameter_names`.
    """

    step: int
    values: list[float]
    grads: list[float]
    state: dict[str, list[float]]
    new_values: list[float]
    loss: float
    lr: float | None
    optimizer_state: dict[str, Any] = field(default_factory=dict, repr=False)  # state_dict() before the step


_STATE_NAMES = {"momentum_buffers": "velocity", "first_moments": "m", "second_moments": "v"}


def _points(X: object, where: str) -> list[list[float]]:
    if not is_sequence(X) or len(X) == 0:
        raise ValueError(f"Recorder: {where} must be a non-empty list of [x1, x2] points, got {describe(X)}")
    points = []
    point: Any
    for index, point in enumerate(X):
        if not is_sequence(point) or len(point) != 2 or not all(is_finite_real(c) for c in point):
            raise ValueError(
                f"Recorder: {where}[{index}] must be two finite numbers [x1, x2], got {describe(point)}"
            )
        points.append([float(point[0]), float(point[1])])
    return points


class Recorder:
    """Records a training run of a 2-input `nn.MLP` for the training viewer; pass it to `nn.fit`.

    Args:
        model: the `nn.MLP` being trained (2 inputs; 1 output for a binary loss, one per class for
            "cross_entropy" and "multiclass_hinge").
        X, y: the training points ``[[x1, x2], ...]`` and their labels, in the loss's convention
            (±1 for "hinge", 0/1 for the binary cross-entropies, any two numbers for
            "squared_error", class indices 0..K-1 for the multi-class losses).
        loss: the loss the page uses for one example's graph and for deciding classes: a name from
            `LOSSES` or the `nn` function itself. The training loss itself is whatever `fit`'s
            loss function returns (a penalty included).
        X_test, y_test: optional held-out points, drawn hollow and scored on every step.
        every: record every `every`-th step (and always the last); default: as few as keep at most
            `max_frames` recorded steps.
        max_frames: the most recorded steps kept when `every` is not given.
        class_names: a name per class for the legend (default: the label values).
        title: the page's heading.

    A Recorder records one `fit`; `history.run` (a `TrainingRun`) then holds what it recorded.
    """

    def __init__(
        self,
        model: MLP,
        X: Sequence[Sequence[float]],
        y: Sequence[float],
        *,
        loss: str | Callable[..., Value] = "hinge",
        X_test: Sequence[Sequence[float]] | None = None,
        y_test: Sequence[float] | None = None,
        every: int | None = None,
        max_frames: int = DEFAULT_MAX_FRAMES,
        class_names: Sequence[str] | None = None,
        title: str | None = None,
    ) -> None:
        if not isinstance(model, MLP):
            raise TypeError(f"Recorder: model must be an nn.MLP, got {describe(model)}")
        if model.n_inputs != 2:
            raise ValueError(
                "Recorder: the viewer draws the input plane, so the model needs 2 inputs, "
                f"got {model.n_inputs}"
            )
        self.task = _task(loss)
        n_outputs = model.sizes[-1]
        if self.task.binary and n_outputs != 1:
            raise ValueError(
                f"Recorder: loss {self.task.name!r} scores one output, but the model has {n_outputs}"
            )
        if not self.task.binary and n_outputs < 2:
            raise ValueError(
                f"Recorder: loss {self.task.name!r} needs one output per class (at least 2), the model has 1"
            )
        if self.task.output_activation and model.output_activation != self.task.output_activation:
            raise ValueError(
                f"Recorder: loss {self.task.name!r} takes probabilities; the model's output activation must "
                f"be {self.task.output_activation!r}, got {model.output_activation!r}"
            )
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"Recorder: every must be a positive int or None, got {describe(every)}")
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 2:
            raise ValueError(f"Recorder: max_frames must be an int >= 2, got {describe(max_frames)}")
        self.model = model
        self.X = _points(X, "X")
        self.targets = self._labels(y, len(self.X), "y")
        if (X_test is None) != (y_test is None):
            raise ValueError("Recorder: give both X_test and y_test, or neither")
        self.X_test = [] if X_test is None else _points(X_test, "X_test")
        self.test_targets = [] if y_test is None else self._labels(y_test, len(self.X_test), "y_test")
        self.classes = self._class_values()
        if class_names is not None:
            if not is_sequence(class_names) or len(class_names) != len(self.classes):
                raise ValueError(
                    f"Recorder: class_names must name the {len(self.classes)} classes, "
                    f"got {describe(class_names)}"
                )
            self.class_names = [str(name) for name in class_names]
        else:
            self.class_names = [f"{value:g}" for value in self.classes]
        self.every = every
        self.max_frames = max_frames
        self.title = title
        self._used = False

    def _labels(self, y: object, n: int, where: str) -> list[float]:
        if not is_sequence(y) or len(y) != n:
            raise ValueError(f"Recorder: {where} must hold one label per point ({n}), got {describe(y)}")
        labels = []
        label: Any
        for index, label in enumerate(y):
            if not is_finite_real(label):
                raise ValueError(f"Recorder: {where}[{index}] must be a number, got {describe(label)}")
            value = float(label)
            if self.task.targets is not None and value not in self.task.targets:
                wanted = " or ".join(f"{t:g}" for t in self.task.targets)
                raise ValueError(
                    f"Recorder: loss {self.task.name!r} takes labels {wanted}; {where}[{index}] is {label!r}"
                )
            if not self.task.binary and not (value.is_integer() and value >= 0):
                raise ValueError(
                    f"Recorder: {where}[{index}] must be a class index (0, 1, ...), got {label!r}"
                )
            labels.append(value)
        return labels

    def _class_values(self) -> list[float]:
        if self.task.binary:
            values = sorted(set(self.targets) | set(self.test_targets) | set(self.task.targets or ()))
            if len(values) != 2:
                raise ValueError(
                    f"Recorder: loss {self.task.name!r} needs exactly two label values, got {values}"
                )
            return values
        n_classes = self.model.sizes[-1]
        for where, labels in (("y", self.targets), ("y_test", self.test_targets)):
            for index, label in enumerate(labels):
                if label >= n_classes:
                    raise ValueError(
                        f"Recorder: {where}[{index}] is class {label:g}, "
                        f"but the model has {n_classes} outputs"
                    )
        return [float(k) for k in range(n_classes)]

    # -- called by fit --------------------------------------------------------------------------

    def _begin(self, optimizer: Optimizer, steps: int) -> None:
        if self._used:
            raise ValueError("fit: this Recorder already recorded a run; make a new nn.Recorder for each fit")
        self._used = True
        position = {parameter: index for index, parameter in enumerate(optimizer.params)}
        self.names = [name for name, _ in self.model.named_parameters()]
        self.parameters = self.model.parameters()
        missing = [name for name, p in zip(self.names, self.parameters) if p not in position]
        if missing:
            raise ValueError(
                f"fit: the optimiser does not update the recorded model's parameters {missing[:3]}"
            )
        self._positions = [position[p] for p in self.parameters]
        every = self.every if self.every is not None else max(1, math.ceil(steps / self.max_frames))
        self._every = every
        self._planned = steps
        self._evaluator = _Evaluator(self.model)
        self.frames: list[Frame] = []
        self.train_accuracy: list[float] = []
        self.test_accuracy: list[float] = []
        self._state_keys: list[str] | None = None
        self._pending: Frame | None = None
        self.optimizer_text = _describe_optimizer(optimizer)
        self._optimizer = optimizer

    def _before_step(self, step: int, optimizer: Optimizer) -> None:
        self._values = [p.data for p in self.parameters]
        self._state_before = optimizer.state_dict()
        try:
            self._lr: float | None = optimizer.current_lr
        except ValueError:
            self._lr = None  # the step itself raises and says why

    def _after_step(self, step: int, loss: float, optimizer: Optimizer) -> None:
        values = self._values
        self.train_accuracy.append(self._accuracy(values, self.X, self.targets))
        if self.X_test:
            self.test_accuracy.append(self._accuracy(values, self.X_test, self.test_targets))
        state = optimizer.state_dict()
        if self._state_keys is None:
            self._state_keys = [key for key in type(optimizer)._buffers if state.get(key) is not None]
        frame = Frame(
            step=step,
            values=values,
            grads=[p.grad for p in self.parameters],
            state={
                _STATE_NAMES.get(key, key): [state[key][i] for i in self._positions]
                for key in self._state_keys
            },
            new_values=[p.data for p in self.parameters],
            loss=loss,
            lr=self._lr,
            optimizer_state=self._state_before,
        )
        if step % self._every == 0 or step == self._planned - 1:
            self.frames.append(frame)
            self._pending = None
        else:
            self._pending = frame

    def _accuracy(self, values: list[float], X: list[list[float]], targets: list[float]) -> float:
        outputs = self._evaluator.outputs(values, [p[0] for p in X], [p[1] for p in X])
        predicted = _decide(self.task, self.classes, outputs)
        return sum(p == _class_of(self.task, self.classes, t) for p, t in zip(predicted, targets)) / len(
            targets
        )

    def _finish(self, history: History) -> TrainingRun:
        if self._pending is not None:  # stopped early or interrupted: keep the last completed step
            self.frames.append(self._pending)
        n = len(self.frames and history.losses)
        return TrainingRun(
            recorder=self,
            frames=self.frames,
            losses=list(history.losses),
            train_accuracy=self.train_accuracy[: len(history.losses)],
            test_accuracy=self.test_accuracy[: len(history.losses)],
            every=self._every,
            planned_steps=self._planned,
            stopped=history.interrupted or history.stopped_early or n < self._planned,
        )


def _describe_optimizer(optimizer: Optimizer) -> str:
    name = type(optimizer).__name__
    lr = optimizer.lr if callable(optimizer.lr) else f"{optimizer.lr:g}"
    parts = [f"lr {lr}"]
    for attribute in ("momentum", "betas", "weight_decay"):
        value = getattr(optimizer, attribute, None)
        if value not in (None, 0.0):
            parts.append(f"{attribute} {value}")
    return f"{name} ({', '.join(parts)})"


def _class_of(task: _Task, classes: list[float], target: float) -> int:
    return classes.index(target) if task.binary else int(target)


def _as_lists(outputs: Sequence[Any]) -> list[list[float]]:
    return [column.tolist() if hasattr(column, "tolist") else list(column) for column in outputs]


def _decide(task: _Task, classes: list[float], outputs: Sequence[Any]) -> list[int]:
    """The predicted class index of every point from the network's outputs (one list per output)."""
    outputs = _as_lists(outputs)
    if not task.binary:
        return [max(range(len(column)), key=column.__getitem__) for column in zip(*outputs)]
    if task.targets is None:  # squared error: the nearer of the two label values
        low, high = classes
        middle = (low + high) / 2.0
        return [int(o > middle) for o in outputs[0]]
    return [int(o > task.threshold) for o in outputs[0]]


def _decision_value(task: _Task, classes: list[float], outputs: Sequence[Any]) -> list[float]:
    """A number per point whose sign is the predicted class (binary) and size the confidence, in
    units of the task's colour scale (so ±1 saturates)."""
    outputs = _as_lists(outputs)
    if task.binary:
        if task.targets is None:
            low, high = classes
            middle, half = (low + high) / 2.0, (high - low) / 2.0
            return [(o - middle) / half for o in outputs[0]]
        return [(o - task.threshold) / task.scale for o in outputs[0]]
    margins = []
    for column in zip(*outputs):
        ordered = sorted(column, reverse=True)
        margins.append(ordered[0] - ordered[1])
    return margins


# ---------------------------------------------------------------------------------------------------
# PNG images (palette PNGs, written here with zlib: no imaging library needed)
# ---------------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_data_uri(rows: Sequence[Sequence[int]], palette: Sequence[tuple[int, int, int]]) -> str:
    """A palette PNG of `rows` (colour indices, top row first) as a ``data:image/png`` URI."""
    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
        + _png_chunk(b"PLTE", b"".join(bytes(colour) for colour in palette))
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


_NEGATIVE = _hex("#e8710a")  # orange: class 0 / negative values
_POSITIVE = _hex("#1a73c8")  # blue: class 1 / positive values
_WHITE = (255, 255, 255)
_CLASS_COLOURS = ["#e8710a", "#1a73c8", "#2e9e44", "#9c27b0", "#c62828", "#00897b"]


def _diverging_palette() -> list[tuple[int, int, int]]:
    """Index _LEVELS is white (zero); below it orange, above it blue, darker with size."""
    low = [_mix(_WHITE, _NEGATIVE, 0.85 * (k / _LEVELS) ** 0.8) for k in range(_LEVELS, 0, -1)]
    high = [_mix(_WHITE, _POSITIVE, 0.85 * (k / _LEVELS) ** 0.8) for k in range(1, _LEVELS + 1)]
    return [*low, _WHITE, *high]


def _level(value: float) -> int:
    """-1..1 (clipped) to a palette index 0..2·_LEVELS: the sign picks the side, zero is white."""
    if value == 0.0:
        return _LEVELS
    step = min(_LEVELS, math.ceil(min(abs(value), 1.0) * _LEVELS - 1e-12))
    return _LEVELS + (step if value > 0 else -step)


def _levels(values: Any, scale: float = 1.0) -> list[int]:
    """`_level(v / scale)` for every value, vectorised with NumPy when the values are an array."""
    if hasattr(values, "dtype"):
        import numpy

        scaled = (
            numpy.asarray(values, dtype=float) / scale if scale != 1.0 else numpy.asarray(values, dtype=float)
        )
        steps = numpy.minimum(_LEVELS, numpy.ceil(numpy.abs(scaled) * _LEVELS - 1e-12))
        return (_LEVELS + numpy.sign(scaled) * steps).astype(int).tolist()
    return [_level(v / scale) for v in values] if scale != 1.0 else [_level(v) for v in values]


def _class_palette(n_classes: int) -> list[tuple[int, int, int]]:
    """_LEVELS shades per class, pale (uncertain) to strong (a large margin)."""
    palette: list[tuple[int, int, int]] = []
    for k in range(n_classes):
        colour = _hex(_CLASS_COLOURS[k % len(_CLASS_COLOURS)])
        palette.extend(_mix(_WHITE, colour, 0.2 + 0.65 * (s + 1) / _LEVELS) for s in range(_LEVELS))
    return palette


# ---------------------------------------------------------------------------------------------------
# The recorded run and its page
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Geometry:
    """The input-plane box shown, its grids, and the mapping to the plot's pixels."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: int
    height: int

    @classmethod
    def around(cls, points: list[list[float]], width: int = 560) -> _Geometry:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
        margin = 0.12 * span
        x0, x1, y0, y1 = min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin
        aspect = min(1.25, max(0.55, (y1 - y0) / (x1 - x0)))
        return cls(x0, x1, y0, y1, width, round(width * aspect))

    def grid(self, columns: int) -> tuple[list[float], list[float], int, int]:
        """Cell centres, row by row from the top: (x of each point, y of each point, columns, rows)."""
        rows = max(2, round(columns * self.height / self.width))
        dx, dy = (self.x1 - self.x0) / columns, (self.y1 - self.y0) / rows
        xs, ys = [], []
        for r in range(rows):
            for c in range(columns):
                xs.append(self.x0 + (c + 0.5) * dx)
                ys.append(self.y1 - (r + 0.5) * dy)
        return xs, ys, columns, rows

    def px(self, x: float) -> float:
        return (x - self.x0) / (self.x1 - self.x0) * self.width

    def py(self, y: float) -> float:
        return (self.y1 - y) / (self.y1 - self.y0) * self.height

    def line(self, a: float, b: float, c: float) -> list[float] | None:
        """The part of the line a·x + b·y + c = 0 inside the box, in pixels (None if it misses)."""
        found: list[tuple[float, float]] = []
        if abs(b) > 1e-12:
            for x in (self.x0, self.x1):
                y = -(a * x + c) / b
                if self.y0 <= y <= self.y1:
                    found.append((x, y))
        if abs(a) > 1e-12:
            for y in (self.y0, self.y1):
                x = -(b * y + c) / a
                if self.x0 <= x <= self.x1:
                    found.append((x, y))
        if len(found) < 2:
            return None
        (xa, ya), (xb, yb) = max(
            ((p, q) for p in found for q in found),
            key=lambda pq: (pq[0][0] - pq[1][0]) ** 2 + (pq[0][1] - pq[1][1]) ** 2,
        )
        if (xa, ya) == (xb, yb):
            return None
        return [round(self.px(xa), 1), round(self.py(ya), 1), round(self.px(xb), 1), round(self.py(yb), 1)]


def _fmt(x: float) -> str:
    if x == 0.0:
        return "0"
    return _NUMBER.format(x)


def _sign(x: float) -> str:
    return "+" if x > 0 else "-" if x < 0 else "0"


@dataclass
class TrainingRun:
    """What `nn.fit(..., record=nn.Recorder(...))` recorded; ``history.run``.

    `frames` are the recorded steps (`Frame`), `losses` the training loss of every step,
    `train_accuracy` / `test_accuracy` the fraction of points classified right at every step (by the
    parameters the step started from). Build the page with `page()` or `write_html(path)`.
    """

    recorder: Recorder
    frames: list[Frame]
    losses: list[float]
    train_accuracy: list[float]
    test_accuracy: list[float]
    every: int
    planned_steps: int
    stopped: bool
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def parameter_names(self) -> list[str]:
        return self.recorder.names

    @property
    def steps(self) -> list[int]:
        """The training step of each recorded frame."""
        return [frame.step for frame in self.frames]

    @property
    def geometry(self) -> _Geometry:
        if "geometry" not in self._cache:
            self._cache["geometry"] = _Geometry.around(self.recorder.X + self.recorder.X_test)
        return self._cache["geometry"]

    def _frame(self, index: int) -> Frame:
        if (
            isinstance(index, bool)
            or not isinstance(index, int)
            or not -len(self.frames) <= index < len(self.frames)
        ):
            raise IndexError(
                f"TrainingRun: frame {index!r} is not one of the {len(self.frames)} recorded steps"
            )
        return self.frames[index]

    def surface(self, index: int) -> tuple[list[float], list[float], list[float]]:
        """The decision value at every surface-grid point at recorded step `index`:
        ``(x of each point, y of each point, value)``; the value's sign is the predicted class (binary
        losses: (output − threshold) / colour scale; multi-class: the top score minus the next)."""
        frame = self._frame(index)
        xs, ys, _, _ = self.geometry.grid(SURFACE_COLUMNS)
        run = self.recorder
        outputs = run._evaluator.outputs(frame.values, xs, ys)
        return xs, ys, _decision_value(run.task, run.classes, outputs)

    def surface_classes(self, index: int) -> list[int]:
        """The predicted class at every surface-grid point (multi-class colouring)."""
        frame = self._frame(index)
        xs, ys, _, _ = self.geometry.grid(SURFACE_COLUMNS)
        run = self.recorder
        return _decide(run.task, run.classes, run._evaluator.outputs(frame.values, xs, ys))

    def neuron_grids(self, index: int) -> tuple[list[float], list[float], dict[int, list[list[float]]]]:
        """Every neuron's activation over the heatmap grid at recorded step `index`:
        ``(x of each point, y of each point, {layer: [values per neuron]})``."""
        xs, ys, grids = self._neuron_arrays(index)
        return xs, ys, {layer: _as_lists(columns) for layer, columns in grids.items()}

    def _neuron_arrays(self, index: int) -> tuple[list[float], list[float], dict[int, list[Any]]]:
        frame = self._frame(index)
        xs, ys, _, _ = self.geometry.grid(TILE_COLUMNS)
        return xs, ys, self.recorder._evaluator.activations(frame.values, xs, ys)

    def example_graph(self, example: int, index: int) -> dict[str, Any]:
        """One training example's loss graph at recorded step `index`, evaluated by the eager engine:
        ``{"inputs": [(data, grad)] * 2, "neurons": [[(data, grad)] per neuron] per layer,
        "chain": [(name, data, grad)] from the output to the loss, "loss": float}``; every grad is the
        derivative of this example's own loss (no penalty) with respect to that value."""
        run = self.recorder
        frame = self._frame(index)
        if isinstance(example, bool) or not isinstance(example, int) or not 0 <= example < len(run.X):
            raise IndexError(
                f"TrainingRun: example {example!r} is not one of the {len(run.X)} training points"
            )
        evaluator = run._evaluator
        evaluator.set(frame.values)
        x = [Value(run.X[example][0], "x₁"), Value(run.X[example][1], "x₂")]
        layers = evaluator._forward(x, len(evaluator.layer_sizes) - 1)
        outputs = layers[-1]
        target = run.targets[example]
        if run.task.binary:
            outputs[0].label = "score"
            loss = run.task.loss(outputs[0], target)
        else:
            loss = run.task.loss(list(outputs), int(target))
        for parameter in evaluator.parameters:
            parameter.grad = 0.0
        loss.backward()
        from autograd.steps import node_names

        order = _loss_chain(loss, set(outputs))
        names = node_names(order, _fmt, max_length=22)
        names[-1] = "loss"
        return {
            "inputs": [(v.data, v.grad) for v in x],
            "neurons": [[(v.data, v.grad) for v in layer] for layer in layers],
            "chain": [(name, node.data, node.grad) for name, node in zip(names, order)],
            "loss": loss.data,
        }

    # -- the page ---------------------------------------------------------------------------------

    def page(
        self, *, title: str | None = None, pickable: int | Sequence[int] | None = None, steppers: Any = None
    ) -> Page:
        """The training viewer as a `Page` (``.save(path)``, or displayed inline in a notebook).

        Args:
            title: the heading (default: the Recorder's title, or a description of the run).
            pickable: which training examples can be clicked for their loss graph: a list of
                indices, a count (a spread of that many), or None (as many as `DETAIL_BUDGET_BYTES`
                allows, all of them for small data sets).
            steppers: a mapping ``{(example, step): relative link}`` of stepper pages the picked-example
                panel links to (`write_html` writes them and fills this in).
        """
        from .viewer_page import build_viewer

        return build_viewer(self, title=title, pickable=pickable, steppers=steppers or {})

    def html(self, **options: Any) -> str:
        """The page as one HTML string (see `page`)."""
        return self.page(**options).html()

    def write_html(
        self,
        path: str | os.PathLike[str],
        *,
        title: str | None = None,
        pickable: int | Sequence[int] | None = None,
        stepper_pages: Iterable[tuple[int, int]] | None = None,
    ) -> Path:
        """Write the page to `path` (atomically) and the stepper pages it links to, and return `path`.

        `stepper_pages` are ``(example, step)`` pairs (a training example, a recorded training step);
        each gets a stepper page of that example's loss at that step in the folder
        ``<name>_steppers/`` next to the page. Default: the two pickable examples with the largest
        loss at the first recorded step, at the first and the middle recorded step (four pages of
        about 1 MB each for the moons net). Give ``[]`` for none.
        """
        target = Path(path)
        picks = self._pickable(pickable)
        pairs = list(self._default_stepper_pages(picks) if stepper_pages is None else stepper_pages)
        folder_name = f"{target.stem}_steppers"
        folder = target.parent / folder_name
        if folder.is_dir():  # pages of an earlier run the new page would not link to
            for stale in folder.glob("example-*-step-*.html"):
                stale.unlink()
        links = {}
        for example, step in pairs:
            index = self._index_of_step(step)
            name = f"example-{example}-step-{step}.html"
            self.write_stepper(example, index, target.parent / folder_name / name)
            links[(example, step)] = f"{folder_name}/{name}"
        picks = sorted(set(picks) | {example for example, _ in pairs})
        return self.page(title=title, pickable=picks, steppers=links).save(target)

    def _index_of_step(self, step: int) -> int:
        steps = self.steps
        if step not in steps:
            raise ValueError(f"TrainingRun: step {step!r} was not recorded; recorded steps: {_ranges(steps)}")
        return steps.index(step)

    def _pickable(self, pickable: int | Sequence[int] | None) -> list[int]:
        n = len(self.recorder.X)
        if pickable is None:
            per_example = (2 + sum(self.recorder._evaluator.layer_sizes) + 6) * 2 * 7
            count = max(1, min(n, DETAIL_BUDGET_BYTES // max(1, per_example * len(self.frames))))
        elif isinstance(pickable, int) and not isinstance(pickable, bool):
            if pickable < 0:
                raise ValueError(f"TrainingRun: pickable must be >= 0, got {pickable}")
            count = min(n, pickable)
        else:
            chosen = list(pickable)  # type: ignore[arg-type]
            for example in chosen:
                if isinstance(example, bool) or not isinstance(example, int) or not 0 <= example < n:
                    raise ValueError(
                        f"TrainingRun: pickable example {example!r} is not a training point index"
                    )
            return sorted(set(chosen))
        if count == 0:
            return []
        return sorted({round(k * (n - 1) / max(1, count - 1)) for k in range(count)} if count > 1 else {0})

    def _default_stepper_pages(self, picks: list[int]) -> list[tuple[int, int]]:
        if not picks or not self.frames:
            return []
        run = self.recorder
        first = self.frames[0]
        outputs = run._evaluator.outputs(
            first.values, [run.X[i][0] for i in picks], [run.X[i][1] for i in picks]
        )
        per_example = []
        for k, example in enumerate(picks):
            column = [column[k] for column in outputs]
            per_example.append((self._example_loss_value(column, run.targets[example]), example))
        hardest = [example for _, example in sorted(per_example, key=lambda pair: (-pair[0], pair[1]))[:2]]
        steps = sorted({self.frames[0].step, self.frames[len(self.frames) // 2].step})
        return [(example, step) for example in hardest for step in steps]

    def _example_loss_value(self, outputs: list[float], target: float) -> float:
        task = self.recorder.task
        scores = [Value(output) for output in outputs]
        if task.binary:
            return task.loss(scores[0], target).data
        return task.loss(scores, int(target)).data

    def write_stepper(self, example: int, index: int, path: str | os.PathLike[str]) -> Path:
        """A stepper page (`autograd.write_stepper_html`) of training example `example`'s loss at
        recorded step `index`, under that step's parameters; the recorded run and model are left as
        they are.

        With the whole-training-step stepper (`autograd.steps.training_step_steps`) the page shows the
        forward pass, the backward pass edge by edge, the optimiser's update (with its state at that
        step: velocity, m, v, the learning rate of the schedule) taken on this one example's gradient,
        and the loss after it; with the backward-only stepper, the backward pass.
        """
        from autograd import steps
        from autograd.drawing.page import write_stepper_html

        run = self.recorder
        frame = self._frame(index)
        if isinstance(example, bool) or not isinstance(example, int) or not 0 <= example < len(run.X):
            raise IndexError(
                f"TrainingRun: example {example!r} is not one of the {len(run.X)} training points"
            )
        model = _clone(run.model)
        clones = model.parameters()
        for parameter, value in zip(clones, frame.values):
            parameter.data = value
        # The optimiser with the clone's parameters in place of the model's, at its state before the step.
        memo: dict[int, Any] = {id(p): q for p, q in zip(run.parameters, clones)}
        optimizer = copy.deepcopy(run._optimizer, memo)
        optimizer.load_state_dict(frame.optimizer_state)
        target = run.targets[example]
        point = run.X[example]

        def example_loss() -> Value:
            outputs = model([Value(point[0], "x₁"), Value(point[1], "x₂")])
            if run.task.binary:
                outputs.label = "score"  # type: ignore[union-attr]
                loss = run.task.loss(outputs, target)
            else:
                loss = run.task.loss(outputs, int(target))
            loss.label = "loss"
            return loss

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        title = (
            f"Example {example} (x = [{_fmt(point[0])}, {_fmt(point[1])}], label "
            f"{run.class_names[_class_of(run.task, run.classes, target)]}) at training step {frame.step}: "
        )
        if hasattr(steps, "training_step_steps"):  # the whole training step: forward ... update, after
            title += (
                f"its {run.task.name} loss, backprop, and {type(optimizer).__name__}'s update on it alone"
            )
            return write_stepper_html(example_loss, path, optimizer, title=title, parameters=model)  # type: ignore[arg-type, call-arg, misc, unused-ignore]
        title += f"backprop through its {run.task.name} loss"
        return write_stepper_html(example_loss(), path, title=title, parameters=model)


def _loss_chain(loss: Value, outputs: set[Value]) -> list[Value]:
    """The operations between the network's outputs and the loss, in evaluation order (outputs first
    excluded): the part of an example's graph that the loss function added."""
    order: list[Value] = []
    seen: set[Value] = set()

    def visit(node: Value) -> None:
        if node in seen or node in outputs or not node.children:
            return
        seen.add(node)
        for child in node.children:
            visit(child)
        order.append(node)

    visit(loss)
    return order


def _ranges(steps: Sequence[int]) -> str:
    if not steps:
        return "none"
    if len(steps) <= 6:
        return ", ".join(str(s) for s in steps)
    return f"{steps[0]}, {steps[1]}, ..., {steps[-1]}"


def asset(name: str) -> str:
    """The text of a file shipped in `nn` (the viewer's ``.js`` and ``.css``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
