"""A small training loop: `fit` runs steps, shows progress, and returns the loss history.

    def loss_fn():
        scores = [model(x) for x in X]
        return nn.losses.hinge(scores, y) + nn.l2_penalty(model, 2e-4, include_biases=True)

    history = nn.fit(loss_fn, nn.optim.SGD(model.parameters(), lr=nn.optim.LinearDecay(1.0, 0.1, 100)), 100)
    history.losses   # one float per step

Pass ``record=nn.Recorder(model, X, y, loss="hinge")`` to keep what the training viewer shows, then
``history.write_html("training.html")`` writes the page (see `nn.viewer`).

Mini-batches of (inputs, targets) rows: `MinibatchLoss` is a loss function that takes the next
batch at every call, shuffled afresh each epoch, and ``compiled=True`` runs each step over the whole
batch as array code (`BatchedStep`) instead of building one graph per example:

    def half_squared_error(outputs, targets):        # one example; the targets arrive as Values
        return vsum([(o - t) ** 2 for o, t in zip(outputs, targets)]) * 0.5

    batches = nn.MinibatchLoss(model, half_squared_error, X, T, batch_size=32, rng=0)
    history = nn.fit(batches, nn.SGD(model, lr=3.0), epochs=20, compiled=True)

Each step is `train_step`: build the loss, zero the grads, backpropagate, update. Ctrl-C during
`fit` finishes the current step and returns what was trained so far (press it twice to stop at
once); nothing is lost and the model is never left half-updated.
"""

from __future__ import annotations

import contextlib
import html
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from autograd import Value, vsum

from ._checks import describe, is_finite_real, is_sequence
from ._random import RngLike, make_rng
from .module import Module
from .optim import Optimizer

if TYPE_CHECKING:
    from pathlib import Path

    from autograd.drawing.pages import Page

    from .viewer import Recorder, TrainingRun

__all__ = ["BatchedStep", "History", "LossFunction", "MinibatchLoss", "fit", "train_step"]

# A loss function takes no arguments and returns the loss Value, or (loss, {"accuracy": 0.97, ...})
# to have metrics recorded and shown next to the loss.
LossFunction = Callable[[], "Value | tuple[Value, Mapping[str, float]]"]
Callback = Callable[[int, float, dict[str, float]], Any]
PROGRESS_MODES = ("auto", "bar", "plain", "none")


@dataclass(repr=False)
class History:
    """What `fit` did: one loss (and one metrics dict) per completed step.

    ``repr(history)`` is one line (steps, first and last loss and metrics, how it stopped); in
    Jupyter it is a small table. The numbers themselves are in `losses` and `metric(name)`.
    """

    losses: list[float] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C
    stopped_early: bool = False  # stopped because the callback returned True
    run: TrainingRun | None = None  # what fit(..., record=...) recorded for the training viewer

    @property
    def steps(self) -> int:
        return len(self.losses)

    def metric(self, name: str) -> list[float]:
        """The values of one metric, step by step (steps that did not report it are skipped)."""
        return [step_metrics[name] for step_metrics in self.metrics if name in step_metrics]

    def _metric_names(self) -> list[str]:
        return list(dict.fromkeys(name for step_metrics in self.metrics for name in step_metrics))

    def _ending(self) -> str:
        if self.interrupted:
            return "interrupted"
        return "stopped early" if self.stopped_early else ""

    def _summary_rows(self) -> list[tuple[str, str, str]]:
        """(name, first value, last value) for the loss and every metric."""
        rows = [("loss", f"{self.losses[0]:.6g}", f"{self.losses[-1]:.6g}")] if self.losses else []
        for name in self._metric_names():
            values = self.metric(name)
            rows.append((name, f"{values[0]:.4g}", f"{values[-1]:.4g}"))
        return rows

    def __repr__(self) -> str:
        parts = [f"{self.steps} step{'' if self.steps == 1 else 's'}"]
        parts += [f"{name} {first} -> {last}" for name, first, last in self._summary_rows()]
        if self._ending():
            parts.append(self._ending())
        return f"<History: {', '.join(parts)}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        ending = f", {self._ending()}" if self._ending() else ""
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{first}</td><td>{last}</td></tr>"
            for name, first, last in self._summary_rows()
        )
        return (
            f"<table><caption>training history: {self.steps} steps{ending}</caption>"
            f"<tr><th></th><th>first step</th><th>last step</th></tr>{rows}</table>"
        )

    def _recorded_run(self, caller: str) -> TrainingRun:
        if self.run is None:
            raise ValueError(
                f"History.{caller}: this run was not recorded; train with "
                "nn.fit(..., record=nn.Recorder(model, X, y, loss=...)) to get the training viewer"
            )
        return self.run

    def page(self, **options: Any) -> Page:
        """The training viewer of a recorded run as a `Page` (shows inline in a notebook); see
        `nn.viewer.TrainingRun.page` for the options."""
        return self._recorded_run("page").page(**options)

    def write_html(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write the training viewer of a recorded run: one self-contained HTML file (see
        `nn.viewer.TrainingRun.write_html`)."""
        return self._recorded_run("write_html").write_html(path, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        if self.run is None:
            return {"text/plain": repr(self), "text/html": self._repr_html_()}
        return self.page()._repr_mimebundle_(include, exclude)


def _split_result(result: object) -> tuple[Value, dict[str, float]]:
    if isinstance(result, Value):
        return result, {}
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Value):
        loss, metrics = result
        if not isinstance(metrics, Mapping):
            raise TypeError(f"fit: the loss function's metrics must be a dict, got {type(metrics).__name__}")
        return loss, {str(name): float(value) for name, value in metrics.items()}
    raise TypeError(
        "fit: the loss function must return a Value, or (Value, dict of metrics); "
        f"got {type(result).__name__}"
    )


def train_step(loss_fn: LossFunction, optimizer: Optimizer) -> tuple[float, dict[str, float]]:
    """One step of training: build the loss, zero the grads, backpropagate, update the parameters.

    Returns the loss (as it was before the update) and the metrics the loss function reported.
    """
    loss, metrics = _split_result(loss_fn())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data, metrics


StepFunction = Callable[[LossFunction, Optimizer], tuple[float, dict[str, float]]]


def _compiled_step(loss_fn: LossFunction, optimizer: Optimizer) -> StepFunction:
    """`train_step`, with the loss graph traced once by `autograd.compile` and replayed.

    The optimiser's parameters are the compiled function's inputs; any other Value the loss uses is
    baked in as a constant. `loss_fn` is traced twice, so one whose graph or data change from call
    to call (a new mini-batch every step) raises `autograd.TracingError` instead of training wrongly.
    """
    from autograd import TracingError
    from autograd import compile as compile_graph

    def traced_loss(*_: Value) -> Value:
        loss, metrics = _split_result(loss_fn())
        if metrics:
            raise ValueError(
                "fit(compiled=True): the loss function must return only the loss Value; metrics are "
                "computed in Python from one step's data and cannot be replayed"
            )
        return loss

    params = optimizer.params
    try:
        replay = compile_graph(
            traced_loss, params, check_inputs=[p.data for p in params], freeze_leaves=True
        ).function
    except TracingError as error:
        raise TracingError(
            f"fit(compiled=True): {error} For a new example or mini-batch every step, compile the "
            "per-example loss with the data as inputs: autograd.compile(loss, [*params, *data], "
            "wrt=params), and call it in your own loop."
        ) from None

    def step(loss_fn: LossFunction, optimizer: Optimizer) -> tuple[float, dict[str, float]]:
        loss, grads = replay(*[p.data for p in params])
        for parameter, grad in zip(params, grads):
            parameter.grad = grad
        optimizer.step()
        return loss, {}

    return step


# ---------------------------------------------------------------------------------------------------
# Progress display: a tqdm bar on a terminal, else a plain line every few steps, or nothing.
# ---------------------------------------------------------------------------------------------------


def _summary(loss: float, metrics: Mapping[str, float]) -> str:
    parts = [f"loss {loss:.6g}"]
    parts.extend(f"{name} {value:.4g}" for name, value in metrics.items())
    return "  ".join(parts)


class _Progress:
    """Plain progress lines (also the base that prints nothing between lines)."""

    def __init__(self, total: int, every: int, file: TextIO | None) -> None:
        self.total = total
        self.every = every
        self.file = file

    def update(self, step: int, loss: float, metrics: Mapping[str, float]) -> None:
        done = step + 1
        if self.file is not None and (done % self.every == 0 or done == self.total or step == 0):
            width = len(str(self.total))
            print(f"step {done:>{width}}/{self.total}  {_summary(loss, metrics)}", file=self.file, flush=True)

    def message(self, text: str) -> None:
        if self.file is not None:
            print(text, file=self.file, flush=True)

    def close(self) -> None:
        pass


class _TqdmProgress(_Progress):
    def __init__(self, total: int, file: TextIO, tqdm_class: Any) -> None:
        super().__init__(total, 1, file)
        self.bar = tqdm_class(total=total, file=file, unit="step", desc="training", dynamic_ncols=True)

    def update(self, step: int, loss: float, metrics: Mapping[str, float]) -> None:
        self.bar.set_postfix_str(_summary(loss, metrics), refresh=False)
        self.bar.update(1)

    def message(self, text: str) -> None:
        self.bar.write(text, file=self.file)

    def close(self) -> None:
        self.bar.close()


def _is_terminal(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def _make_progress(mode: str | bool | None, total: int, every: int | None, file: TextIO | None) -> _Progress:
    if mode is True:
        mode = "auto"
    elif mode is False or mode is None:
        mode = "none"
    if mode not in PROGRESS_MODES:
        raise ValueError(f"fit: progress must be one of {list(PROGRESS_MODES)} or a bool, got {mode!r}")
    if every is None:
        every = max(1, total // 10)
    elif isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"fit: print_every must be a positive int, got {every!r}")
    if mode == "none":
        return _Progress(total, every, None)
    stream = sys.stderr if file is None else file
    if mode == "bar" or (mode == "auto" and _is_terminal(stream)):
        try:
            from tqdm import tqdm  # the terminal bar (tqdm.auto would pick a notebook widget)
        except ImportError:
            pass  # the plain lines below say the same, only less prettily
        else:
            return _TqdmProgress(total, stream, tqdm)
    return _Progress(total, every, stream)


# ---------------------------------------------------------------------------------------------------
# Ctrl-C: finish the step in progress, then stop.
# ---------------------------------------------------------------------------------------------------


class _StopRequest:
    requested = False


@contextlib.contextmanager
def _finish_step_on_interrupt() -> Iterator[_StopRequest]:
    """While active, the first Ctrl-C only asks the loop to stop after the current step; a second
    one raises KeyboardInterrupt at once. Only in the main thread, and only when SIGINT has
    Python's default handler (someone else's handler is left alone).
    """
    stop = _StopRequest()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield stop
        return

    def handle(signum: int, frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------------


def _planned_steps(loss_fn: object, steps: object, epochs: object) -> int:
    """The number of steps `fit` runs, from `steps` or from `epochs` of a `MinibatchLoss`."""
    if epochs is None:
        if steps is None:
            raise TypeError("fit: say how long to train: steps (an int), or epochs= with an nn.MinibatchLoss")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"fit: steps must be an int >= 0, got {steps!r}")
        return steps
    if steps is not None:
        raise ValueError(f"fit: give steps or epochs, not both; got steps={steps!r} and epochs={epochs!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(loss_fn, MinibatchLoss):
        raise TypeError(
            "fit: epochs= needs an nn.MinibatchLoss (it knows how many steps make an epoch); "
            f"for a loss function ({describe(loss_fn)}) give steps"
        )
    return epochs * loss_fn.steps_per_epoch


def fit(
    loss_fn: LossFunction,
    optimizer: Optimizer,
    steps: int | None = None,
    *,
    epochs: int | None = None,
    callback: Callback | None = None,
    progress: str | bool = "auto",
    print_every: int | None = None,
    file: TextIO | None = None,
    compiled: bool = False,
    record: Recorder | None = None,
) -> History:
    """Train for `steps` steps of `train_step(loss_fn, optimizer)`; return the `History`.

    Args:
        loss_fn: called with no arguments at every step; builds and returns the loss Value from the
            current parameters (or ``(loss, {"accuracy": ...})`` to record and show metrics). An
            `nn.MinibatchLoss` is one: each call is the mean loss of its next mini-batch.
        optimizer: updates the parameters (its learning-rate schedule sees its own step count).
        steps: how many steps to run.
        epochs: instead of `steps`, for an `nn.MinibatchLoss`: run ``epochs * steps_per_epoch``
            steps (whole passes over the data when the loss starts at the beginning of an epoch, as
            a new one does).
        callback: called after each step as ``callback(step, loss, metrics)``; returning True stops
            training early (``history.stopped_early``).
        progress: "auto" (a tqdm bar when tqdm is installed and `file` is a terminal, else plain
            lines), "bar", "plain", "none"; True means "auto", False "none".
        print_every: plain mode prints the first step, every `print_every`-th and the last
            (default: about ten lines).
        file: where progress goes (default `sys.stderr`).
        compiled: trace `loss_fn` once with `autograd.compile` and replay the generated code at
            every step: bit for bit the same training, several times faster. `loss_fn` must
            build the same graph at every step (fixed data) and return only the loss Value;
            otherwise compiling raises `autograd.TracingError` or `ValueError`. For an
            `nn.MinibatchLoss`, the per-example loss is traced once and every step runs the whole
            batch through layered NumPy code (`BatchedStep`: one matrix product per layer): the
            same batches and the eager steps' numbers to ~1e-12 (sums are added in another
            order); needs NumPy.
        record: an `nn.Recorder` that keeps, at its recorded steps, every parameter's value, grad
            and optimiser state, and each step's loss and accuracy; ``history.run`` then holds the
            recording and ``history.write_html(path)`` writes the training viewer. Works with
            every kind of step, compiled and mini-batch ones included.

    Ctrl-C (or a KeyboardInterrupt raised by `loss_fn` or `callback`) stops training and returns the
    history so far with ``history.interrupted`` set; the parameters keep every completed update.
    Other errors propagate.
    """
    steps = _planned_steps(loss_fn, steps, epochs)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an nn.optim optimiser, got {type(optimizer).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be callable, got {type(loss_fn).__name__}")
    if record is not None:
        from .viewer import Recorder

        if not isinstance(record, Recorder):
            raise TypeError(f"fit: record must be an nn.Recorder, got {type(record).__name__}")
        record._begin(optimizer, steps)
    # The one place a step is chosen: eager, a compiled replay of the same graph, or a batched one.
    step_fn: StepFunction = train_step
    if compiled and steps and isinstance(loss_fn, MinibatchLoss):
        step_fn = _batched_step(loss_fn, optimizer)
    elif compiled and steps:
        step_fn = _compiled_step(loss_fn, optimizer)
    display = _make_progress(progress, steps, print_every, file)
    history = History()
    try:
        with _finish_step_on_interrupt() as stop:
            for step in range(steps):
                if record is not None:
                    record._before_step(step, optimizer)
                loss, metrics = step_fn(loss_fn, optimizer)
                if record is not None:
                    record._after_step(step, loss, optimizer)
                history.losses.append(loss)
                history.metrics.append(metrics)
                display.update(step, loss, metrics)
                if callback is not None and callback(step, loss, metrics) is True:
                    history.stopped_early = True
                    break
                if stop.requested:
                    history.interrupted = True
                    break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        display.close()
    if record is not None:
        history.run = record._finish(history)
    if history.interrupted:
        last = f" (last loss {history.losses[-1]:.6g})" if history.losses else ""
        display.message(f"interrupted: returning after {history.steps} of {steps} steps{last}")
    return history


class BatchedStep:
    """One mini-batch training step of an `MLP`, run by layers over the whole batch at once.

    The per-example loss ``example_loss(outputs, targets)`` (a Value from the model's output
    Values and the target Values) is traced once with `autograd.compile`; each call then runs the
    layer-structured batched code (`CompiledFunction.layered`: one matrix product per layer, the
    batch as array rows), puts the batch-mean gradient into every parameter's ``.grad`` and lets
    `optimizer` update them, as `train_step` does for an eager loss. The numbers are the eager
    mini-batch step's to ~1e-15 (matrix products add in another order).

        def loss(outputs, targets):  # Values in, a Value out; no .data reads (they are frozen)
            return vsum([(o - t) ** 2 for o, t in zip(outputs, targets)])

        step = nn.BatchedStep(model, loss, opt, n_targets=10)
        for X, T in batches:
            loss = step(X, T)            # X: examples × inputs, T: examples × targets

    ``nn.fit(nn.MinibatchLoss(...), optimizer, epochs=n, compiled=True)`` runs this step for you,
    with shuffled batches, progress, Ctrl-C handling and a `History`.

    Needs NumPy (``pip install numpy``, or ``pip install ".[compile]"`` in a clone).
    """

    def __init__(
        self,
        model: Any,
        example_loss: Callable[[list[Value], list[Value]], Value],
        optimizer: Optimizer,
        n_targets: int,
    ) -> None:
        from autograd import compile as compile_graph

        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"BatchedStep: optimizer must be an nn.optim optimiser, got {type(optimizer).__name__}"
            )
        if isinstance(n_targets, bool) or not isinstance(n_targets, int) or n_targets < 1:
            raise ValueError(f"BatchedStep: n_targets must be an int >= 1, got {n_targets!r}")
        self.params = list(optimizer.params)
        n_inputs = model.n_inputs
        xs = [Value(0.0, f"input.{i}") for i in range(n_inputs)]
        ts = [Value(0.0, f"target.{k}") for k in range(n_targets)]

        def traced(*_: Value) -> Value:
            outputs = model(xs)
            return example_loss(outputs if isinstance(outputs, list) else [outputs], ts)

        compiled = compile_graph(traced, [*self.params, *xs, *ts], wrt=self.params)
        unused = [node.label for node in (*xs, *ts) if node not in compiled._graph.depends]
        if unused:
            raise ValueError(
                f"BatchedStep: the loss does not depend on {unused[:4]}; it must compute with the "
                "target Values it is given (nn's losses read targets as numbers, which tracing freezes)"
            )
        self.layered = compiled.layered(data=[node.label for node in (*xs, *ts)])
        self.optimizer = optimizer
        self.n_inputs, self.n_targets = n_inputs, n_targets

    def __call__(self, inputs: Any, targets: Any) -> float:
        """Train on one mini-batch (rows are examples); return its mean loss before the update."""
        import numpy

        x, t = numpy.asarray(inputs, dtype=float), numpy.asarray(targets, dtype=float)
        if x.ndim != 2 or t.ndim != 2 or x.shape[0] != t.shape[0]:
            raise ValueError(
                f"BatchedStep: inputs and targets must be 2-D with one row per example, got shapes "
                f"{x.shape} and {t.shape}"
            )
        result = self.layered([p.data for p in self.params], numpy.hstack([x, t]), reduction="mean")
        for parameter, grad in zip(self.params, result.grad.tolist()):
            parameter.grad = grad
        self.optimizer.step()
        return result.value


ExampleLoss = Callable[[list[Value], list[Value]], Value]


class MinibatchLoss:
    """The mean of a per-example loss over one mini-batch at a time: a loss function for `fit`.

        def half_squared_error(outputs, targets):        # one example: Values in, a Value out
            return vsum([(o - t) ** 2 for o, t in zip(outputs, targets)]) * 0.5

        batches = nn.MinibatchLoss(model, half_squared_error, X, T, batch_size=32, rng=0)
        history = nn.fit(batches, nn.SGD(model, lr=3.0), epochs=20)                  # eager
        history = nn.fit(batches, nn.SGD(model, lr=3.0), epochs=20, compiled=True)   # batched

    An epoch is one pass over the examples in batches of `batch_size`; at the start of each one the
    order is shuffled (in place, so each epoch reshuffles the last one's order) by `rng`. Every call
    takes the next batch and returns ``vsum(example losses) * (1 / batch length)``, built eagerly
    from the model's output Values and each target as a `Value`; ``fit(..., compiled=True)``
    instead traces `example_loss` once and runs every step over the whole batch as array code
    (`BatchedStep`), on the same batches. The loss remembers its place, so a second `fit`
    continues with the next batch; `epoch` counts the passes completed.

    Args:
        model: an `nn.MLP` (or any `nn.Module` with ``n_inputs`` called on a list of inputs).
        example_loss: ``example_loss(outputs, targets)``: one example's loss from the model's
            outputs (a list of Values, also for one output) and its targets (a list of Values).
            Compute with the target Values rather than reading their ``.data``, so the compiled
            path can trace them as inputs (nn's losses take plain numbers, which tracing freezes).
        inputs: one row of ``model.n_inputs`` finite numbers per example (lists or a 2-D array).
        targets: one row of finite numbers per example, all rows equally long, or one number per
            example (a single target each).
        batch_size: examples per step.
        shuffle: reshuffle the order at the start of every epoch (False: always the given order).
        rng: the shuffling's randomness: an int seed, a `random.Random`, or None for Python's
            global `random` state.
        drop_last: the last, partial batch of an epoch (when `batch_size` does not divide the
            number of examples) is kept by default, a step on fewer examples (its mean weighs each
            of them more), as PyTorch's DataLoader does; True skips it, so every step sees exactly
            `batch_size` examples and the skipped ones come round again after the next shuffle.
    """

    def __init__(
        self,
        model: Module,
        example_loss: ExampleLoss,
        inputs: Any,
        targets: Any,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        rng: RngLike = None,
        drop_last: bool = False,
    ) -> None:
        caller = "MinibatchLoss"
        n_inputs = getattr(model, "n_inputs", None)
        if not isinstance(model, Module) or not callable(model) or not isinstance(n_inputs, int):
            raise TypeError(
                f"{caller}: model must be an nn.MLP (or an nn.Module with n_inputs that is called on "
                f"a list of inputs), got {describe(model)}"
            )
        if not callable(example_loss):
            raise TypeError(
                f"{caller}: example_loss must be a function (outputs, targets) -> Value, "
                f"got {describe(example_loss)}"
            )
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool):
                raise TypeError(f"{caller}: {name} must be True or False, got {describe(flag)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"{caller}: batch_size must be an int >= 1, got {describe(batch_size)}")
        self.model = model
        self.example_loss = example_loss
        self.inputs = _example_rows(inputs, "inputs", n_inputs, caller)
        self.n_examples = len(self.inputs)
        self.targets = _example_rows(targets, "targets", None, caller, n_rows=self.n_examples)
        self.n_inputs, self.n_targets = n_inputs, len(self.targets[0])
        if drop_last and batch_size > self.n_examples:
            raise ValueError(
                f"{caller}: batch_size {batch_size} is more than the {self.n_examples} examples, and "
                "drop_last=True skips the only (partial) batch, leaving none; lower batch_size or "
                "keep the last batch (drop_last=False)"
            )
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = make_rng(rng, caller)
        self._order = list(range(self.n_examples))
        self._position = 0  # where the next batch starts in the current epoch's order
        self.epoch = 0  # epochs completed
        self._arrays: tuple[Any, Any] | None = None  # the rows as NumPy arrays, made for BatchedStep

    @property
    def steps_per_epoch(self) -> int:
        """Steps (batches) in one pass over the examples; a kept partial batch counts as one."""
        whole, rest = divmod(self.n_examples, self.batch_size)
        return whole + (1 if rest and not self.drop_last else 0)

    def __repr__(self) -> str:
        name = getattr(self.example_loss, "__name__", type(self.example_loss).__name__)
        return (
            f"MinibatchLoss({self.model!r}, {name}, {self.n_examples} examples, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}; "
            f"{self.steps_per_epoch} steps an epoch, {self.epoch} done)"
        )

    def next_batch(self) -> list[int]:
        """The positions (in `inputs` and `targets`) of the next batch's examples; moves on."""
        if self._position == 0 and self.shuffle:
            self._rng.shuffle(self._order)
        start = self._position
        chosen = self._order[start : start + self.batch_size]
        self._position = start + self.batch_size
        smallest_next = self.batch_size if self.drop_last else 1
        if self._position + smallest_next > self.n_examples:
            self._position = 0
            self.epoch += 1
        return chosen

    def __call__(self) -> Value:
        """The next batch's mean loss as one graph (the eager step `fit` backpropagates)."""
        terms = []
        for index in self.next_batch():
            outputs = self.model(self.inputs[index])
            loss = self.example_loss(
                outputs if isinstance(outputs, list) else [outputs],
                [Value(target) for target in self.targets[index]],
            )
            if not isinstance(loss, Value):
                raise TypeError(
                    f"MinibatchLoss: example_loss must return a Value, got {describe(loss)} "
                    f"for example {index}"
                )
            terms.append(loss)
        return vsum(terms) * (1.0 / len(terms))

    def _next_arrays(self) -> tuple[Any, Any]:
        """The next batch as (inputs, targets) NumPy arrays, for the batched step."""
        if self._arrays is None:
            import numpy

            self._arrays = numpy.array(self.inputs), numpy.array(self.targets)
        inputs, targets = self._arrays
        chosen = self.next_batch()
        return inputs[chosen], targets[chosen]


def _example_rows(
    data: object, what: str, width: int | None, caller: str, n_rows: int | None = None
) -> list[list[float]]:
    """`data` as a list of float rows, checked: one row per example (`n_rows` of them, if given),
    each of `width` finite numbers (None: as many as the first row). With `width` None the rows
    may also be single numbers (one target per example), which become rows of one."""
    if not is_sequence(data):
        raise TypeError(f"{caller}: {what} must be a list (or 2-D array) of examples, got {describe(data)}")
    if n_rows is not None and len(data) != n_rows:
        raise ValueError(
            f"{caller}: {what} must hold one row per example ({n_rows}, as inputs), got {len(data)}"
        )
    if len(data) == 0:
        raise ValueError(f"{caller}: {what} must hold at least one example, got none")
    single = width is None and not is_sequence(data[0])
    if width is None:
        width = 1 if single else len(data[0])
    rule = f"a row of {width} numbers " + (
        "(the model's n_inputs)" if what == "inputs" else f"like {what}[0]"
    )
    if width == 0:
        raise ValueError(f"{caller}: {what}[0] is empty; every example needs at least one number")
    rows = []
    for index, row in enumerate(data):
        if single:
            if is_sequence(row):
                raise ValueError(
                    f"{caller}: {what}[{index}] must be one number like {what}[0], got {describe(row)}"
                )
            row = [row]
        elif not is_sequence(row) or len(row) != width:
            got = f"{len(row)} numbers" if is_sequence(row) else describe(row)
            raise ValueError(f"{caller}: {what}[{index}] must be {rule}, got {got}")
        for column, value in enumerate(row):
            if not is_finite_real(value):
                where = f"{what}[{index}]" if single else f"{what}[{index}][{column}]"
                raise ValueError(f"{caller}: {where} must be a finite number, got {describe(value)}")
        rows.append([float(value) for value in row])
    return rows


def _batched_step(batches: MinibatchLoss, optimizer: Optimizer) -> StepFunction:
    """`train_step` for a `MinibatchLoss`, with each step one `BatchedStep` call on the next batch."""
    step = BatchedStep(batches.model, batches.example_loss, optimizer, batches.n_targets)

    def run(loss_fn: LossFunction, optimizer: Optimizer) -> tuple[float, dict[str, float]]:
        inputs, targets = batches._next_arrays()
        return step(inputs, targets), {}

    return run
