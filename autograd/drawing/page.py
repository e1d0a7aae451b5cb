"""The browser stepper: one self-contained page that walks through a whole training step.

``stepper_page(loss_fn, optimizer)`` records one training step of the loss, one small step at a time
(`autograd.steps.training_step_steps`), and lays it out as a page:

* forward: each op computing its value from its operands, in topological order;
* seed: d loss / d loss = 1;
* backward: each edge's chain rule, ``grad(child) += upstream × local``;
* update: each parameter's update with the optimiser's own arithmetic and state (velocity, m, v, m̂, v̂);
* after: the loss computed again with the new parameters.

Without an optimiser (``stepper_page(root)``) the page shows forward, seed and backward.

Two views of the same timeline. The scalar view is the full drawing of the graph (`autograd.draw`),
one box per value; the neuron view, for graphs built from ``nn`` modules, draws one box per neuron
(its pre-activation z, activation a and δ = d loss / dz) and one step per neuron, each of which lists
the scalar steps it is made of. Large graphs open in the neuron view. The view follows the step: the
active elements are brought into view at a legible zoom; the wheel zooms, dragging pans, Fit shows
everything. ``page.html#step=N`` opens step N.

The page starts from a fresh pass (every grad 0) whatever grads the graph held, and ends where
``zero_grad(); loss.backward(); optimizer.step()`` ends; ``accumulate=True`` keeps the leaves' grads and
says so at step 0. Your graph, parameters and optimiser are left as they were.

Size budget: pages are refused above `DEFAULT_MAX_NODES` values or `DEFAULT_MAX_STEPS` steps with a
message that says what to do instead; the scalar drawing is made up to `SCALAR_DRAWING_MAX_NODES`
values.

In JavaScript the page defines ``window.gradstep.stepper``: ``count`` (steps in the current view),
``index``, ``go(n)``, ``phase(n)`` (``"forward"``, ``"seed"``, ``"backward"`` or ``"update"``; the final
"after" step counts as ``"update"``), ``active()`` (the highlighted elements that the view keeps in
sight), ``view`` and ``setView("neuron" | "scalar")``.
"""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..engine import Value, topological_order
from ..steps import (
    AfterStep,
    ChainRuleStep,
    ForwardStep,
    StagesUpdates,
    TrainingStep,
    UpdateStep,
    node_names,
    training_step_steps,
)
from .graphviz import GraphvizNotFoundError, RenderError
from .pages import Page, asset, build_page
from .render import DEFAULT_NUMBER_FORMAT, _parameter_names, draw, format_number, split_module_name

__all__ = [
    "DEFAULT_MAX_NODES",
    "DEFAULT_MAX_STEPS",
    "NEURON_VIEW_FROM",
    "SCALAR_DRAWING_MAX_NODES",
    "StepperTooLargeError",
    "stepper_html",
    "stepper_page",
    "write_stepper_html",
]

# The budget (see benchmarks/README.md for what these sizes cost in Chromium).
DEFAULT_MAX_NODES = 5_000
"""Most values a stepper page takes by default (pass ``max_nodes`` to change it)."""
DEFAULT_MAX_STEPS = 20_000
"""Most steps (forward + seed + backward + update + after) a stepper page takes by default."""
SCALAR_DRAWING_MAX_NODES = 1_000
"""Largest graph drawn value by value for the scalar view (Graphviz lays it out in seconds)."""
NEURON_VIEW_FROM = 200
"""Graphs with at least this many values open in the neuron view when they have one."""
_PROGRESS_FROM = 1_000  # graphs this large report progress on stderr unless told otherwise

_DEFAULT_TITLE = "One training step, one small step at a time"
View = Literal["auto", "neuron", "scalar"]


class StepperTooLargeError(ValueError):
    """The graph is over the stepper's budget; the message says what to do instead."""


def write_stepper_html(
    loss: Value | Callable[[], Value],
    path: str | os.PathLike[str],
    optimizer: StagesUpdates | None = None,
    **options: Any,
) -> Path:
    """Write the stepper page (see `stepper_page`, which takes the same options) to `path` atomically."""
    return stepper_page(loss, optimizer, **options).save(path)


def stepper_html(
    loss: Value | Callable[[], Value], optimizer: StagesUpdates | None = None, **options: Any
) -> str:
    """The stepper page as one HTML string (see `stepper_page`)."""
    return stepper_page(loss, optimizer, **options).html()


def stepper_page(
    loss: Value | Callable[[], Value],
    optimizer: StagesUpdates | None = None,
    *,
    title: str | None = None,
    number_format: str = DEFAULT_NUMBER_FORMAT,
    rankdir: str = "LR",
    parameters: Any = None,
    accumulate: bool = False,
    view: View = "auto",
    max_nodes: int = DEFAULT_MAX_NODES,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: Callable[[str], None] | bool | None = None,
) -> Page:
    """The stepper for one training step of `loss`, as a `Page` (``.save(path)``, inline in Jupyter).

    Args:
        loss: the loss (or output) Value, or a function that builds it. With an optimiser it must be a
            function, called again after the update for the new loss.
        optimizer: ``nn.SGD``, ``nn.Adam``, ... (anything with ``staged_step()``): adds the update phase
            and the loss after it. The optimiser is not stepped: its state is only read.
        title: the page's heading (for example the formula).
        number_format: how numbers are shown (as in `autograd.draw`, default ``"{:.4f}"``); every number
            is formatted here in Python, so the page matches the drawing character for character.
        rankdir: the scalar drawing's direction (``"LR"`` or ``"TB"``, as in `autograd.draw`).
        parameters: the trainable values (an ``nn`` module or a list) to name and colour, and to find
            the neurons for the neuron view. Defaults to the optimiser's parameters, then to leaves
            whose label is a dotted module name (as ``nn`` labels parameters).
        accumulate: False (default): a fresh pass from zeroed grads, whatever the graph held. True:
            the leaves keep their grads and the pass adds to them; the page says so at step 0.
        view: the view the page opens in: ``"auto"`` (the neuron view from `NEURON_VIEW_FROM` values
            when there are neurons), ``"neuron"`` or ``"scalar"``.
        max_nodes, max_steps: the size budget; a larger graph raises `StepperTooLargeError`.
        progress: a function given a line of progress text, True to print it to stderr, False for
            silence; by default graphs of 1,000 values or more report on stderr.
    """
    caller = "stepper_page"
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{caller}: title must be a str, got {type(title).__name__}")
    if view not in ("auto", "neuron", "scalar"):
        raise ValueError(f"{caller}: view must be 'auto', 'neuron' or 'scalar', got {view!r}")
    for name, budget in (("max_nodes", max_nodes), ("max_steps", max_steps)):
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ValueError(f"{caller}: {name} must be a positive int, got {budget!r}")
    fmt = _formatter(number_format)
    started = time.perf_counter()

    # Build the graph first (a loss function is called once) and check the budget before any work.
    if isinstance(loss, Value):
        root = loss
        if optimizer is not None:
            raise TypeError(
                f"{caller}: with an optimizer, pass the loss as a function that builds it (such as "
                "lambda: loss_of(model, x, y)), so it can be computed again after the update; got a Value"
            )
        loss_fn: Callable[[], Value] | None = None
    elif callable(loss):
        root = loss()
        if not isinstance(root, Value):
            raise TypeError(f"{caller}: the loss function must return a Value, got {type(root).__name__}")
        built = root
        calls = 0

        def loss_fn() -> Value:  # the first call hands back the graph already built
            nonlocal calls
            calls += 1
            return built if calls == 1 else loss()

    else:
        raise TypeError(
            f"{caller}: loss must be a Value or a function returning one, got {type(loss).__name__}"
        )
    if parameters is None and optimizer is not None:
        parameters = getattr(optimizer, "params", None)
    order = topological_order(root)
    interior = sum(1 for node in order if node.children)
    edges = sum(len(node.children) for node in order)
    n_parameters = len(getattr(optimizer, "params", ())) if optimizer is not None else 0
    n_steps = interior + 1 + edges + (n_parameters + 1 if optimizer is not None else 0)
    if len(order) > max_nodes or n_steps > max_steps:
        raise StepperTooLargeError(_too_large_message(len(order), n_steps, max_nodes, max_steps))
    report = _progress_reporter(progress, len(order))
    report(f"stepper: {len(order):,} values, {n_steps:,} steps: recording the training step")

    names_by_value = _parameter_names(parameters)
    saved = _save_state(order, optimizer)
    try:
        records = list(
            training_step_steps(
                loss_fn if loss_fn is not None else root, optimizer, accumulate=accumulate, commit=False
            )
        )
        neurons = _find_neurons(order, names_by_value)
        if view == "neuron" and neurons is None:
            raise ValueError(
                f"{caller}: view='neuron' needs a graph built from nn modules (parameters named like "
                "layers.0.neurons.2.w.1); pass parameters=model, or use view='scalar'"
            )
        want_scalar = view == "scalar" or neurons is None or len(order) <= SCALAR_DRAWING_MAX_NODES
        scalar_svg, scalar_note = None, ""
        if want_scalar:
            if len(order) > SCALAR_DRAWING_MAX_NODES:
                if view == "scalar" or neurons is None:
                    raise StepperTooLargeError(_too_large_to_draw_message(len(order), neurons is not None))
            else:
                report(f"stepper: drawing {len(order):,} values with Graphviz")
                try:
                    scalar_svg = _inline_svg(
                        draw(
                            root,
                            rankdir=rankdir,
                            number_format=number_format,
                            parameters=parameters,
                            max_nodes=None,
                        ).svg()
                    )
                except (RenderError, GraphvizNotFoundError) as error:
                    if neurons is None or view == "scalar":
                        raise RenderError(
                            f"{caller}: the scalar drawing could not be made: {error}"
                        ) from error
                    scalar_note = (
                        f"The scalar drawing could not be made ({error}); the neuron view is complete."
                    )
        if scalar_svg is None and not scalar_note:
            scalar_note = (
                f"No scalar view: {len(order):,} values is more than the {SCALAR_DRAWING_MAX_NODES:,} "
                "drawn value by value. Step one example instead of a batch to see every scalar."
            )
    finally:
        _restore_state(saved)

    report("stepper: writing the page")
    names = node_names(order, fmt, max_length=28)
    index = _index_of(order)
    for value, name in names_by_value.items():
        if value in index:
            names[index[value]] = name
    if not order[-1].label:
        names[-1] = "loss" if optimizer is not None else "output"
    data = _page_data(order, index, records, names, fmt, accumulate, saved)
    neuron_svg = None
    if neurons is not None:
        neuron_svg = _neuron_view(order, neurons, records, data, names, fmt)
    default_view = (
        view
        if view != "auto"
        else (
            "neuron"
            if neurons is not None and (scalar_svg is None or len(order) >= NEURON_VIEW_FROM)
            else "scalar"
        )
    )
    data["views"] = {
        "default": default_view,
        "scalar": scalar_svg is not None,
        "neuron": neuron_svg is not None,
    }
    data["scalarNote"] = scalar_note
    heading = title or _DEFAULT_TITLE
    body = _BODY.format(
        heading=html.escape(heading),
        hint=html.escape(_hint(optimizer is not None)),
        neuron_svg=neuron_svg or "",
        scalar_svg=scalar_svg or "",
    )
    document = build_page(
        title=heading,
        body=body,
        styles=[asset("stepper.css")],
        scripts=[asset("stepper.js")],
        data=data,
        data_id="stepper-data",
    )
    elapsed = time.perf_counter() - started
    report(f"stepper: done in {elapsed:.1f} s ({len(document.encode('utf-8')) / 1e6:.1f} MB)")
    return Page(
        document,
        title=heading,
        height=760,
        fallback_svg=neuron_svg if default_view == "neuron" else scalar_svg,
    )


# ---------------------------------------------------------------------------------------------------
# Budget and progress
# ---------------------------------------------------------------------------------------------------


def _too_large_message(values: int, steps: int, max_nodes: int, max_steps: int) -> str:
    return (
        f"stepper: this graph has {values:,} values and a training step of {steps:,} steps, over the "
        f"stepper's budget of {max_nodes:,} values and {max_steps:,} steps (a page that size takes long "
        "to build and to load). Step one example instead of a batch (the loss of a single example has "
        "the same structure); or pass max_nodes=... and max_steps=... to raise the budget knowingly. "
        "For nn models the page opens in the neuron view, one box per neuron."
    )


def _too_large_to_draw_message(values: int, has_neurons: bool) -> str:
    fix = (
        "use view='neuron' (one box per neuron)"
        if has_neurons
        else "build the model from nn modules for the neuron view"
    )
    return (
        f"stepper: {values:,} values is more than the {SCALAR_DRAWING_MAX_NODES:,} the scalar view draws "
        f"value by value. Step one example instead of a batch, or {fix}."
    )


def _progress_reporter(progress: Callable[[str], None] | bool | None, values: int) -> Callable[[str], None]:
    if callable(progress):
        return progress
    if progress is True or (progress is None and values >= _PROGRESS_FROM):
        return lambda line: print(line, file=sys.stderr, flush=True)
    return lambda line: None


def _formatter(number_format: str) -> Callable[[float], str]:
    from .render import check_number_format

    checked = check_number_format(number_format)
    return lambda x: format_number(x, checked)


# ---------------------------------------------------------------------------------------------------
# Leaving the user's graph as it was
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Saved:
    values: list[Value]
    grads: list[float]
    data: list[float]
    extra: list[Value] = field(default_factory=list)


def _save_state(order: Sequence[Value], optimizer: object) -> _Saved:
    extra = [p for p in getattr(optimizer, "params", ()) if isinstance(p, Value)]
    values = list(order) + [p for p in extra if p not in set(order)]
    return _Saved(values, [v.grad for v in values], [v.data for v in values], extra)


def _restore_state(saved: _Saved) -> None:
    for value, grad, data in zip(saved.values, saved.grads, saved.data):
        value.grad = grad
        value.data = data


def _index_of(order: Sequence[Value]) -> dict[Value, int]:
    return {node: i for i, node in enumerate(order)}


# ---------------------------------------------------------------------------------------------------
# The timeline as page data (every number formatted here)
# ---------------------------------------------------------------------------------------------------

_PHASE_TITLES = {
    "forward": "forward",
    "seed": "seed",
    "backward": "backward",
    "update": "update",
    "after": "after the update",
}


def _page_data(
    order: list[Value],
    index: dict[Value, int],
    records: list[TrainingStep],
    names: list[str],
    fmt: Callable[[float], str],
    accumulate: bool,
    saved: _Saved,
) -> dict[str, Any]:
    grads_before_pass = [saved.grads[i] for i in range(len(order))]
    initial_grads = [
        fmt(grads_before_pass[i]) if accumulate and not node.children else fmt(0.0)
        for i, node in enumerate(order)
    ]
    initial_data = [fmt(node.data) if not node.children else "?" for node in order]
    data_now = list(initial_data)
    steps: list[dict[str, Any]] = []
    for record in records:
        if isinstance(record, ForwardStep):
            i = record.node_number
            text = fmt(record.value)
            step = {
                "phase": "forward",
                "title": f"forward: compute {names[i]}",
                "rows": [["op", record.node.op], ["", f"{names[i]} = {record.equation(fmt)}"]],
                "changes": [[i, "d", data_now[i], text]],
                "active": [f"op{i}", f"v{i}"],
                "marks": [[f"v{index[child]}", "operand"] for child in record.node.children],
                "node": i,
            }
            data_now[i] = text
        elif isinstance(record, ChainRuleStep) and record.kind == "seed":
            i = record.child_number
            step = {
                "phase": "seed",
                "title": f"seed: grad({names[i]}) = 1",
                "rows": [
                    ["", f"d {names[i]} / d {names[i]} = 1: the loss's derivative with respect to itself"]
                ],
                "changes": [[i, "g", fmt(record.child_grad_before), fmt(record.child_grad_after)]],
                "active": [f"v{i}"],
                "marks": [],
                "node": i,
            }
        elif isinstance(record, ChainRuleStep):
            i, c = record.node_number, record.child_number
            step = {
                "phase": "backward",
                "title": f"backward: edge {names[i]} → {names[c]}",
                "rows": [
                    [
                        "edge",
                        f"{names[i]} → {names[c]}  (operand {record.child_position + 1} of {record.op})",
                    ],
                    ["rule", record.derivative_text],
                    [
                        "chain",
                        f"upstream × local = {fmt(record.upstream_grad)} × {fmt(record.local_grad)} "
                        f"= {fmt(record.contribution)}",
                    ],
                    [
                        "grad",
                        f"grad({names[c]}): {fmt(record.child_grad_before)} → {fmt(record.child_grad_after)}",
                    ],
                ],
                "changes": [[c, "g", fmt(record.child_grad_before), fmt(record.child_grad_after)]],
                "active": [f"e{i}_{record.child_position}", f"v{i}", f"v{c}"],
                "marks": [[f"op{i}", "active-op"]],
                "node": i,
                "child": c,
            }
        elif isinstance(record, UpdateStep):
            update = record.update
            i = record.node_number
            name = names[i] if i >= 0 else (update.parameter.label or f"parameter {record.index}")
            rows = [["rule", f"{name} ← {update.rule}"], ["grad", fmt(update.grad)]]
            rows += [[quantity, f"{rule} = {fmt(value)}"] for quantity, rule, value in update.quantities]
            rows.append(["new", f"{name}: {fmt(update.data_before)} → {fmt(update.data_after)}"])
            step = {
                "phase": "update",
                "title": f"update ({record.optimizer}, lr {fmt(record.lr)}): {name}",
                "rows": rows,
                "changes": [[i, "d", fmt(update.data_before), fmt(update.data_after)]] if i >= 0 else [],
                "active": [f"v{i}"] if i >= 0 else [],
                "marks": [],
                "node": i,
            }
        else:
            assert isinstance(record, AfterStep)
            root_number = len(order) - 1
            change = record.loss_after - record.loss_before
            verdict = "lower" if change < 0 else ("higher" if change > 0 else "unchanged")
            changes = []
            new_order = topological_order(record.root)
            if len(new_order) == len(order) and all(a.op == b.op for a, b in zip(order, new_order)):
                for i, (old, new) in enumerate(zip(order, new_order)):
                    if old.children:
                        changes.append([i, "d", data_now[i], fmt(new.data)])
            step = {
                "phase": "after",
                "title": (
                    f"after the update: {names[root_number]} "
                    f"{fmt(record.loss_before)} → {fmt(record.loss_after)}"
                ),
                "rows": [
                    ["", "the forward pass again, with the updated parameters"],
                    [names[root_number], f"{fmt(record.loss_before)} → {fmt(record.loss_after)} ({verdict})"],
                ],
                "changes": changes,
                "active": [f"v{root_number}"],
                "marks": [],
                "node": root_number,
            }
        steps.append(step)
    if accumulate:
        kept = [f"{names[i]} {initial_grads[i]}" for i, node in enumerate(order) if not node.children]
        start_note = (
            "Accumulating: the leaves keep the grads they already held ("
            + ", ".join(kept[:6])
            + (", …" if len(kept) > 6 else "")
            + ") and this backward pass adds to them, as a second backward() would."
        )
    else:
        start_note = (
            "A fresh pass: every grad starts at 0 (grads the graph already held are not used), so the "
            "end is exactly what zero_grad() and backward() give."
        )
    if records and isinstance(records[-1], AfterStep):
        end_note = "Done: one whole training step. Every number above is what training would compute."
    elif accumulate:
        end_note = "Done: every grad is what backward() adds to the grads the leaves held."
    else:
        end_note = "Done: every grad is now what a fresh backward() gives."
    return {
        "names": names,
        "initial": {"d": initial_data, "g": initial_grads},
        "steps": steps,
        "startNote": start_note,
        "endNote": end_note,
    }


# ---------------------------------------------------------------------------------------------------
# The neuron view: one box per neuron evaluation, drawn here as plain SVG
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Box:
    number: int
    kind: Literal["input", "neuron", "node"]
    title: str
    nodes: list[int]  # topological numbers shown in the box (neuron: pre-activation, activation)
    lines: list[tuple[str, int, str]]  # (prefix, node number, "d" or "g")
    module: str = ""
    column: int = 0
    row: int = 0
    feeds: list[int] = field(default_factory=list)  # boxes this box reads from


@dataclass
class _Neurons:
    boxes: list[_Box]
    box_of: dict[int, int]  # node number -> box number
    module_boxes: dict[str, list[int]]  # module -> its boxes (one per evaluation)
    module_of_parameter: dict[int, str]  # parameter node number -> module


def _find_neurons(order: list[Value], names_by_value: dict[Value, str]) -> _Neurons | None:
    """The neurons of a graph built from nn modules, or None if it has none.

    A neuron evaluation is a node combining parameters of exactly one module (a `dot` node: the
    pre-activation z) plus the one unary op on it, if it has exactly one such consumer (the activation).
    """
    names = dict(names_by_value)
    if not names:
        names = {v: v.label for v in order if not v.children and "." in v.label}
    module_of = {v: split_module_name(n)[0] for v, n in names.items() if split_module_name(n)[0]}
    if not module_of:
        return None
    index = _index_of(order)
    consumers: dict[int, list[int]] = {}
    for i, node in enumerate(order):
        for child in node.children:
            consumers.setdefault(index[child], []).append(i)
    boxes: list[_Box] = []
    box_of: dict[int, int] = {}
    module_boxes: dict[str, list[int]] = {}
    for i, node in enumerate(order):
        if not node.children:
            continue
        modules = {module_of[c] for c in node.children if c in module_of}
        if len(modules) != 1 or i in box_of:
            continue
        module = modules.pop()
        nodes = [i]
        users = sorted(set(consumers.get(i, [])))
        if len(users) == 1 and len(order[users[0]].children) == 1 and users[0] not in box_of:
            nodes.append(users[0])
        occurrence = len(module_boxes.get(module, []))
        box = _Box(len(boxes), "neuron", _neuron_title(module), nodes, [], module=module)
        box.lines = [("z", i, "d")] + ([("a", nodes[1], "d")] if len(nodes) > 1 else []) + [("δ", i, "g")]
        if occurrence:
            box.title += f" · #{occurrence + 1}"
            if occurrence == 1:
                boxes[module_boxes[module][0]].title += " · #1"
        module_boxes.setdefault(module, []).append(box.number)
        boxes.append(box)
        for n in nodes:
            box_of[n] = box.number
    if not boxes:
        return None
    names_text = node_names(order, repr, max_length=20)
    # Inputs: leaves that are not parameters, feeding a neuron directly.
    for i, node in enumerate(order):
        if node.children or node in module_of or node.op == "const":
            continue
        if any(c in box_of and boxes[box_of[c]].kind == "neuron" for c in consumers.get(i, [])):
            box = _Box(len(boxes), "input", names_text[i], [i], [("", i, "d"), ("grad", i, "g")])
            boxes.append(box)
            box_of[i] = box.number
    # Every other computed node (the loss after the net) is a box of its own.
    for i, node in enumerate(order):
        if node.children and i not in box_of:
            box = _Box(
                len(boxes),
                "node",
                f"{names_text[i]}" if order[i].label else node.op,
                [i],
                [("", i, "d"), ("grad", i, "g")],
            )
            boxes.append(box)
            box_of[i] = box.number
    # Columns: inputs at 0, every other box one right of the boxes it reads.
    for box in sorted(boxes, key=lambda b: max(b.nodes)):
        feeds: list[int] = []
        for n in box.nodes:
            for child in order[n].children:
                b = box_of.get(index[child])
                if b is not None and b != box.number and b not in feeds:
                    feeds.append(b)
        box.feeds = feeds
        box.column = 0 if box.kind == "input" else 1 + max((boxes[b].column for b in feeds), default=0)
    parameter_modules = {index[v]: m for v, m in module_of.items() if v in index}
    return _Neurons(boxes, box_of, module_boxes, parameter_modules)


def _neuron_title(module: str) -> str:
    """``layers.0.neurons.2`` -> ``L0 n2``; any other module path stays as it is."""
    parts = module.split(".")
    if len(parts) >= 4 and parts[-4] == "layers" and parts[-2] == "neurons" and parts[-3].isdigit():
        return f"L{parts[-3]} n{parts[-1]}"
    return module


_BOX_WIDTH, _LINE, _PAD, _GAP, _COLUMN_GAP = 150, 15, 6, 10, 90


def _neuron_view(
    order: list[Value],
    neurons: _Neurons,
    records: list[TrainingStep],
    data: dict[str, Any],
    names: list[str],
    fmt: Callable[[float], str],
) -> str:
    """The neuron view's SVG, and its steps added to `data` (``neuronSteps``)."""
    boxes = neurons.boxes
    columns: dict[int, list[_Box]] = {}
    for box in boxes:
        columns.setdefault(box.column, []).append(box)
    heights = {c: sum(_box_height(b) + _GAP for b in col) - _GAP for c, col in columns.items()}
    tallest = max(heights.values())
    position: dict[int, tuple[float, float]] = {}
    for c, col in columns.items():
        y = (tallest - heights[c]) / 2 + 10
        for row, box in enumerate(col):
            box.row = row
            position[box.number] = (10 + c * (_BOX_WIDTH + _COLUMN_GAP), y)
            y += _box_height(box) + _GAP
    width = 20 + (max(columns) + 1) * (_BOX_WIDTH + _COLUMN_GAP) - _COLUMN_GAP
    height = tallest + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="neuron-svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" '
        'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">',
        '<g class="links">',
    ]
    for box in boxes:
        x, y = position[box.number]
        for feed in box.feeds:
            fx, fy = position[feed]
            fy += _box_height(boxes[feed]) / 2
            parts.append(
                f'<line id="nl{box.number}_{feed}" x1="{fx + _BOX_WIDTH:.1f}" y1="{fy:.1f}" '
                f'x2="{x:.1f}" y2="{y + _box_height(box) / 2:.1f}"/>'
            )
    parts.append("</g>")
    for box in boxes:
        x, y = position[box.number]
        h = _box_height(box)
        parts.append(f'<g id="nb{box.number}" class="nbox {box.kind}">')
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{_BOX_WIDTH}" height="{h}" rx="4"/>')
        ty = y + _PAD + 11
        parts.append(
            f'<text class="title" x="{x + 6:.1f}" y="{ty:.1f}" font-size="11">{html.escape(box.title)}</text>'
        )
        for prefix, node, kind in box.lines:
            ty += _LINE
            initial = data["initial"][kind][node]
            label = f"{prefix} " if prefix else ""
            parts.append(
                f'<text x="{x + 6:.1f}" y="{ty:.1f}" font-size="11" data-n="{node}" data-f="{kind}" '
                f'data-p="{html.escape(label)}">{html.escape(label + initial)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    data["neuronSteps"] = _neuron_steps(order, neurons, data["steps"], names)
    return "".join(parts)


def _box_height(box: _Box) -> int:
    return 2 * _PAD + 11 + _LINE * len(box.lines) + 2


def _neuron_steps(
    order: list[Value], neurons: _Neurons, steps: list[dict[str, Any]], names: list[str]
) -> list[dict[str, Any]]:
    """Group the scalar steps into neuron-level steps: consecutive steps of the same box and phase."""
    groups: list[dict[str, Any]] = []
    boxes = neurons.boxes
    for k, step in enumerate(steps):
        phase = step["phase"]
        node = step["node"]
        if phase == "update":
            module = neurons.module_of_parameter.get(node, "")
            key: Any = ("module", module) if module else ("param", node)
            box_numbers = neurons.module_boxes.get(module, [])[:1]
        else:
            box = neurons.box_of.get(node)
            key = ("box", box)
            box_numbers = [box] if box is not None else []
        if groups and groups[-1]["key"] == (phase, key):
            groups[-1]["last"] = k
            continue
        groups.append({"key": (phase, key), "phase": phase, "first": k, "last": k, "boxes": box_numbers})
    result = []
    for group in groups:
        first, last = group["first"], group["last"]
        count = last - first + 1
        box_numbers = group["boxes"]
        what = boxes[box_numbers[0]].title if box_numbers else steps[first]["title"]
        phase = group["phase"]
        if count == 1:
            title, rows = steps[first]["title"], steps[first]["rows"]
        else:
            title = {
                "forward": f"forward: {what} (z = w·x + b, then its activation)",
                "backward": f"backward: {what}: δ flows to its weights, bias and inputs",
                "update": f"update: the {count} parameters of {what}",
            }.get(phase, steps[first]["title"])
            rows = _group_rows(steps, first, last, phase)
        marks = []
        if box_numbers:
            box = boxes[box_numbers[0]]
            marks = [[f"nl{box.number}_{feed}", "active-link"] for feed in box.feeds]
            if phase == "update" and group["key"][1][0] == "module":
                marks += [[f"nb{b}", "also"] for b in neurons.module_boxes[group["key"][1][1]][1:]]
        result.append(
            {
                "phase": phase,
                "title": title,
                "rows": rows,
                "first": first,
                "last": last,
                "active": [f"nb{b}" for b in box_numbers],
                "marks": marks,
            }
        )
    return result


def _group_rows(steps: list[dict[str, Any]], first: int, last: int, phase: str) -> list[list[str]]:
    """The summary of a neuron-level step: its scalar steps' key lines (the full list is expandable)."""
    rows: list[list[str]] = []
    for k in range(first, min(last, first + 2) + 1):
        step = steps[k]
        line = next((text for label, text in step["rows"] if label in ("chain", "new", "")), step["title"])
        rows.append([f"step {k}", line])
    if last - first + 1 > 3:
        rows.append(["", f"… {last - first - 2} more: open “scalar steps” below"])
    if last > first + 2:
        step = steps[last]
        line = next((text for label, text in step["rows"] if label in ("chain", "new", "")), step["title"])
        rows.append([f"step {last}", line])
    return rows


# ---------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------


def _hint(with_update: bool) -> str:
    phases = (
        "forward → seed → backward → update → the loss after" if with_update else "forward → seed → backward"
    )
    return (
        f"One training step: {phases}. Keys: → next, ← back, space play/pause, Home/End; "
        "wheel zooms, drag pans, F fits."
    )


def _inline_svg(svg: str) -> str:
    """The <svg> element alone: HTML does not want the XML declaration, doctype or comments."""
    start = svg.find("<svg")
    if start < 0:
        raise RenderError("stepper: the renderer returned no <svg> element")
    return svg[start:].strip()


_BODY = """\
<header>
  <h1>{heading}</h1>
  <p class="hint">{hint}</p>
</header>
<nav id="controls" aria-label="controls">
  <button id="reset" type="button" title="Back to the start (Home)">Reset</button>
  <button id="prev" type="button" title="Previous step (←)">◀ Prev</button>
  <button id="play" type="button" title="Play / pause (space)">▶ Play</button>
  <button id="next" type="button" title="Next step (→)">Next ▶</button>
  <span id="counter" aria-live="polite"></span>
  <span id="phase" class="phase"></span>
  <span class="spacer"></span>
  <span id="views" role="group" aria-label="view">
    <button id="view-neuron" type="button" title="One box per neuron">Neurons</button>
    <button id="view-scalar" type="button" title="One box per value">Scalars</button>
  </span>
  <button id="zoom-out" type="button" title="Zoom out (-)">−</button>
  <button id="zoom-in" type="button" title="Zoom in (+)">+</button>
  <button id="fit" type="button" title="Show the whole graph (F)">Fit</button>
</nav>
<section id="explain" aria-live="polite">
  <div id="headline"></div>
  <div id="note"></div>
  <div id="rows"></div>
  <details id="expand"><summary></summary><ol id="substeps"></ol></details>
</section>
<main id="stage">
  <div id="graph">
    <div id="neuron-view" class="view">{neuron_svg}</div>
    <div id="scalar-view" class="view">{scalar_svg}</div>
  </div>
  <aside id="all-steps" aria-label="all steps"><ol id="step-list" start="0"></ol></aside>
</main>"""
