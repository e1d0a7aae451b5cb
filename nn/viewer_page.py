"""The training viewer's page: every picture, position and number of a `TrainingRun`, made in Python.

`build_viewer(run)` turns a recorded run into one self-contained HTML page (`autograd.drawing.pages`):
the body is laid out here (an SVG per chart, absolutely placed neuron tiles), and the embedded JSON
holds, for every recorded step, ready-to-show strings: formatted numbers, PNG data URIs, pixel
positions, edge widths and the sign of each table cell. `viewer.js` only swaps them in.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autograd.drawing.pages import Page, build_page

from .viewer import (
    _CLASS_COLOURS,
    _LEVELS,
    SURFACE_COLUMNS,
    TILE_COLUMNS,
    _class_palette,
    _diverging_palette,
    _fmt,
    _level,
    _levels,
    _ranges,
    _sign,
    asset,
    png_data_uri,
)

if TYPE_CHECKING:
    from .viewer import TrainingRun

__all__ = ["build_viewer"]

_TILE_GAP = 6
_NET_HEIGHT = 640
_VALUES_WIDTH = 64  # room right of a tile for the picked example's data and grad
_CHART_WIDTH, _CHART_HEIGHT = 460, 180
_PAD = {"left": 58, "right": 14, "top": 12, "bottom": 28}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


# ---------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------


def _rows(levels: list[int], columns: int) -> list[list[int]]:
    return [levels[r * columns : (r + 1) * columns] for r in range(len(levels) // columns)]


def _surface_uri(run: TrainingRun, index: int) -> str:
    _, _, values = run.surface(index)
    if run.recorder.task.binary:
        levels = _levels(values)
        return png_data_uri(_rows(levels, SURFACE_COLUMNS), _diverging_palette())
    classes = run.surface_classes(index)
    shade = [min(_LEVELS - 1, int(m * _LEVELS / 2.0)) for m in values]  # a margin of 2 is the strongest
    levels = [c * _LEVELS + s for c, s in zip(classes, shade)]
    return png_data_uri(_rows(levels, SURFACE_COLUMNS), _class_palette(len(run.recorder.classes)))


def _tile_levels(values: Any) -> list[int]:
    """One neuron's activations, scaled by its own largest |value| (all white when it is 0 everywhere)."""
    largest = float(max(abs(v) for v in values)) if not hasattr(values, "dtype") else float(abs(values).max())
    if largest == 0.0:
        return [_LEVELS] * len(values)
    return _levels(values, largest)


def _sprite_uri(run: TrainingRun, index: int, rows: int) -> tuple[str, list[str]]:
    """All neurons' heatmaps side by side in one PNG, and each neuron's largest |activation|."""
    _, _, grids = run._neuron_arrays(index)
    tiles: list[list[int]] = []
    largest: list[str] = []
    for layer in sorted(grids):
        for values in grids[layer]:
            tiles.append(_tile_levels(values))
            largest.append(_fmt(float(max(abs(float(v)) for v in values))))
    sprite = []
    for r in range(rows):
        row: list[int] = []
        for levels in tiles:
            row.extend(levels[r * TILE_COLUMNS : (r + 1) * TILE_COLUMNS])
        sprite.append(row)
    return png_data_uri(sprite, _diverging_palette()), largest


def _input_tile_uri(run: TrainingRun, coordinate: int) -> str:
    xs, ys, _, _ = run.geometry.grid(TILE_COLUMNS)
    values = xs if coordinate == 0 else ys
    low, high = min(values), max(values)
    centre, half = (low + high) / 2.0, max((high - low) / 2.0, 1e-12)
    return png_data_uri(
        _rows([_level((v - centre) / half) for v in values], TILE_COLUMNS), _diverging_palette()
    )


# ---------------------------------------------------------------------------------------------------
# The network drawing: tiles in columns, one line per weight
# ---------------------------------------------------------------------------------------------------


def _network_layout(sizes: list[int], tile_aspect: float) -> dict[str, Any]:
    largest = max(sizes)
    tile_h = max(14, min(56, math.floor((_NET_HEIGHT - _TILE_GAP * (largest - 1)) / largest)))
    tile = max(16, min(80, round(tile_h / tile_aspect)))
    column_gap = max(tile + _VALUES_WIDTH + 22, 100)
    width = 10 + column_gap * (len(sizes) - 1) + tile + _VALUES_WIDTH
    height = max(n * (tile_h + _TILE_GAP) - _TILE_GAP for n in sizes) + 8
    nodes = []
    for column, n in enumerate(sizes):
        top = (height - (n * (tile_h + _TILE_GAP) - _TILE_GAP)) / 2
        nodes.append([(10 + column * column_gap, round(top + j * (tile_h + _TILE_GAP))) for j in range(n)])
    return {"tile": tile, "tile_h": tile_h, "width": width, "height": height, "nodes": nodes}


def _edge_widths(run: TrainingRun, edges: list[int]) -> tuple[list[str], list[str]]:
    """Per frame: each edge's stroke width (|weight| on a scale shared by every step) and signs."""
    weights = [[frame.values[i] for i in edges] for frame in run.frames]
    magnitudes = sorted(abs(w) for row in weights for w in row)
    scale = magnitudes[min(len(magnitudes) - 1, int(0.98 * len(magnitudes)))] or 1.0
    widths = [" ".join(f"{0.4 + 5.6 * min(1.0, abs(w) / scale):.1f}" for w in row) for row in weights]
    signs = ["".join(_sign(w) for w in row) for row in weights]
    return widths, signs


# ---------------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------------


class _Chart:
    def __init__(self, n_steps: int, low: float, high: float, log: bool) -> None:
        self.n = max(1, n_steps - 1)
        self.log = log
        self.low, self.high = (math.log10(low), math.log10(high)) if log else (low, high)
        if self.high <= self.low:
            self.high = self.low + 1.0

    def x(self, step: int) -> float:
        inner = _CHART_WIDTH - _PAD["left"] - _PAD["right"]
        return round(_PAD["left"] + inner * step / self.n, 1)

    def y(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        inner = _CHART_HEIGHT - _PAD["top"] - _PAD["bottom"]
        fraction = (v - self.low) / (self.high - self.low)
        return round(_PAD["top"] + inner * (1.0 - min(1.0, max(0.0, fraction))), 1)

    def polyline(self, values: Sequence[float], css: str) -> str:
        points = " ".join(f"{self.x(k)},{self.y(v)}" for k, v in enumerate(values))
        return f'<polyline class="{css}" points="{points}"/>'

    def frame(self, ticks: list[tuple[float, str]], x_label: str) -> str:
        parts = [
            f'<rect class="plot-area" x="{_PAD["left"]}" y="{_PAD["top"]}" '
            f'width="{_CHART_WIDTH - _PAD["left"] - _PAD["right"]}" '
            f'height="{_CHART_HEIGHT - _PAD["top"] - _PAD["bottom"]}"/>'
        ]
        for value, label in ticks:
            y = self.y(value)
            parts.append(
                f'<line class="grid" x1="{_PAD["left"]}" x2="{_CHART_WIDTH - _PAD["right"]}" '
                f'y1="{y}" y2="{y}"/>'
            )
            parts.append(
                f'<text class="tick" x="{_PAD["left"] - 6}" y="{y + 5}" text-anchor="end">{_e(label)}</text>'
            )
        bottom = _CHART_HEIGHT - 8
        parts.append(f'<text class="tick" x="{_PAD["left"]}" y="{bottom}">0</text>')
        parts.append(
            f'<text class="tick" x="{_CHART_WIDTH - _PAD["right"]}" y="{bottom}" '
            f'text-anchor="end">{self.n}</text>'
        )
        parts.append(
            f'<text class="tick" x="{(_CHART_WIDTH + _PAD["left"]) / 2}" y="{bottom}" '
            f'text-anchor="middle">{_e(x_label)}</text>'
        )
        return "".join(parts)


def _loss_chart(losses: list[float]) -> tuple[_Chart, list[tuple[float, str]]]:
    positive = [v for v in losses if v > 0]
    low = min(positive) if positive else 1e-3
    high = max(losses) if losses else 1.0
    log = bool(positive) and len(positive) == len(losses) and high / low > 20
    if log:
        lo, hi = 10 ** math.floor(math.log10(low)), 10 ** math.ceil(math.log10(high))
        chart = _Chart(len(losses), lo, hi, True)
        log_ticks: list[tuple[float, str]] = []
        decade = lo
        while decade <= hi * 1.0001:
            log_ticks.append((decade, f"{decade:g}"))
            decade *= 10
        return chart, log_ticks
    ticks: list[float] = [0.0, *_axis_ticks(0.0, high * 1.08 if high > 0 else 1.0, edge=0.0)]
    top = max(high * 1.05 if high > 0 else 1.0, ticks[-1])
    chart = _Chart(len(losses), 0.0, top, False)
    return chart, [(value, f"{value:g}") for value in ticks]


# ---------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------


def build_viewer(
    run: TrainingRun, *, title: str | None, pickable: Any, steppers: dict[tuple[int, int], str]
) -> Page:
    recorder = run.recorder
    if not run.frames:
        raise ValueError("TrainingRun: no step was recorded (fit ran 0 steps); nothing to show")
    geometry = run.geometry
    frames = run.frames
    count = len(frames)
    sizes = recorder.model.sizes
    names = run.parameter_names
    position = {name: i for i, name in enumerate(names)}
    picks = run._pickable(pickable)
    _, _, _, tile_rows = geometry.grid(TILE_COLUMNS)
    layout = _network_layout(sizes, tile_rows / TILE_COLUMNS)
    tile, tile_h = layout["tile"], layout["tile_h"]
    n_neurons = sum(sizes[1:])

    # Per-frame pictures and numbers.
    surfaces, sprites, largest, lines = [], [], [], []
    for index, frame in enumerate(frames):
        surfaces.append(_surface_uri(run, index))
        sprite, tile_max = _sprite_uri(run, index, tile_rows)
        sprites.append(sprite)
        largest.append(" ".join(tile_max))
        frame_lines = []
        for j in range(sizes[1]):
            w0 = frame.values[position[f"layers.0.neurons.{j}.w.0"]]
            w1 = frame.values[position[f"layers.0.neurons.{j}.w.1"]]
            b_index = position.get(f"layers.0.neurons.{j}.b")
            b = frame.values[b_index] if b_index is not None else 0.0
            frame_lines.append(geometry.line(w0, w1, b))
        lines.append(frame_lines)

    edges: list[int] = []
    edge_svg: list[str] = []
    for layer in range(len(sizes) - 1):
        for j in range(sizes[layer + 1]):
            for i in range(sizes[layer]):
                edges.append(position[f"layers.{layer}.neurons.{j}.w.{i}"])
                (xa, ya), (xb, yb) = layout["nodes"][layer][i], layout["nodes"][layer + 1][j]
                edge_svg.append(
                    f'<line class="edge" x1="{xa + tile}" y1="{ya + tile_h / 2}" '
                    f'x2="{xb}" y2="{yb + tile_h / 2}">'
                    f"<title>{_e(names[edges[-1]])}</title></line>"
                )
    edge_widths, edge_signs = _edge_widths(run, edges)

    # The optimiser table: value, grad, the optimiser's state, and the update, per parameter.
    state_names = list(frames[0].state)
    columns = ["value", "grad", *state_names, "update"]
    table_cells, table_signs = [], []
    for frame in frames:
        cols = [frame.values, frame.grads, *(frame.state[name] for name in state_names)]
        cols.append([new - old for new, old in zip(frame.new_values, frame.values)])
        table_cells.append([" ".join(_fmt(v) for v in col) for col in cols])
        table_signs.append(["".join(_sign(v) for v in col) for col in cols])

    # The picked examples' loss graphs.
    pick_data: dict[str, Any] = {}
    chain_names: list[str] = []
    for example in picks:
        details = []
        for index in range(count):
            graph = run.example_graph(example, index)
            chain_names = [name for name, _, _ in graph["chain"]]
            tokens = [t for d, g in graph["inputs"] for t in (_fmt(d), _fmt(g))]
            tokens += [t for layer in graph["neurons"] for d, g in layer for t in (_fmt(d), _fmt(g))]
            tokens += [t for _, d, g in graph["chain"] for t in (_fmt(d), _fmt(g))]
            details.append(" ".join(tokens))
        x, y = recorder.X[example]
        marker = [
            _percent((x - geometry.x0) / (geometry.x1 - geometry.x0)),
            _percent((geometry.y1 - y) / (geometry.y1 - geometry.y0)),
        ]
        target = recorder.targets[example]
        class_name = recorder.class_names[_class_index(recorder, target)]
        pick_data[str(example)] = {
            "details": details,
            "marker": marker,
            "text": f"example {example}: x = [{_fmt(x)}, {_fmt(y)}], label {class_name}",
        }

    # Curves.
    loss_chart, loss_ticks = _loss_chart(run.losses)
    accuracy_chart = _Chart(len(run.losses), 0.0, 1.0, False)
    marker_x = [loss_chart.x(frame.step) for frame in frames]
    marker_loss = [
        loss_chart.y(frame.loss)
        if (frame.loss > 0 or not loss_chart.log)
        else loss_chart.y(10**loss_chart.low)
        for frame in frames
    ]
    train_acc = [run.train_accuracy[frame.step] for frame in frames]
    test_acc = [run.test_accuracy[frame.step] for frame in frames] if run.test_accuracy else []

    stepper_links = {f"{example}:{step}": href for (example, step), href in steppers.items()}
    holds = _holds_text(run)
    heading = title or recorder.title or _default_title(run)

    data = {
        "count": count,
        "steps": [frame.step for frame in frames],
        "lastStep": run.losses and len(run.losses) - 1,
        "loss": [f"{frame.loss:.6g}" for frame in frames],
        "train": [_percent(a) for a in train_acc],
        "test": [_percent(a) for a in test_acc] if test_acc else None,
        "lr": [_fmt(frame.lr) if frame.lr is not None else "—" for frame in frames],
        "surface": surfaces,
        "sprite": sprites,
        "tileMax": largest,
        "lines": lines,
        "edgeWidths": edge_widths,
        "edgeSigns": edge_signs,
        "table": table_cells,
        "tableSigns": table_signs,
        "markerX": marker_x,
        "markerLoss": marker_loss,
        "markerTrain": [accuracy_chart.y(a) for a in train_acc],
        "markerTest": [accuracy_chart.y(a) for a in test_acc],
        "picks": pick_data,
        "steppers": stepper_links,
        "pickSteps": {
            str(example): sorted(step for (ex, step) in steppers if ex == example) for example in picks
        },
        "firstPick": picks[0] if picks else None,
    }

    body = _body(
        run,
        heading=heading,
        holds=holds,
        layout=layout,
        edge_svg=edge_svg,
        columns=columns,
        loss_chart=loss_chart,
        loss_ticks=loss_ticks,
        accuracy_chart=accuracy_chart,
        picks=picks,
        chain_names=chain_names,
        n_neurons=n_neurons,
    )
    document = build_page(
        title=heading,
        body=body,
        styles=[asset("viewer.css")],
        scripts=[asset("viewer.js")],
        data=data,
        data_id="viewer-data",
    )
    return Page(document, title=heading, height=900, fallback_svg=_fallback_svg(run, heading, surfaces[-1]))


def _fallback_svg(run: TrainingRun, heading: str, surface_uri: str) -> str:
    """A static picture for notebook viewers that strip scripts: the last recorded step's surface."""
    recorder = run.recorder
    geometry = run.geometry
    frame = run.frames[-1]
    width, height = geometry.width, geometry.height
    dots = []
    for where, X, targets in (
        ("train", recorder.X, recorder.targets),
        ("test", recorder.X_test, recorder.test_targets),
    ):
        for (x, y), target in zip(X, targets):
            colour = _CLASS_COLOURS[_class_index(recorder, target) % len(_CLASS_COLOURS)]
            paint = f'fill="{colour}" stroke="#fff"' if where == "train" else f'fill="#fff" stroke="{colour}"'
            dots.append(
                f'<circle cx="{geometry.px(x):.1f}" cy="{geometry.py(y):.1f}" r="5" {paint} '
                'stroke-width="2"/>'
            )
    caption = (
        f"{heading}: step {frame.step}, loss {frame.loss:.6g}, "
        f"train accuracy {_percent(run.train_accuracy[frame.step])}"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 28}" '
        f'viewBox="0 0 {width} {height + 28}" font-family="sans-serif">'
        f'<text x="4" y="18" font-size="13">{_e(caption)}</text><g transform="translate(0 28)">'
        f'<image href="{surface_uri}" x="0" y="0" width="{width}" height="{height}" '
        'preserveAspectRatio="none"/>'
        f"{''.join(dots)}</g></svg>"
    )


def _class_index(recorder: Any, target: float) -> int:
    return recorder.classes.index(target) if recorder.task.binary else int(target)


def _default_title(run: TrainingRun) -> str:
    recorder = run.recorder
    sizes = "-".join(str(s) for s in recorder.model.sizes)
    return f"Training a {sizes} MLP ({recorder.model.activation}) with {recorder.task.name} loss"


def _holds_text(run: TrainingRun) -> str:
    steps = run.steps
    total = len(run.losses)
    if run.every == 1 and len(steps) == total:
        which = f"every step, 0 to {total - 1}"
    else:
        which = f"every {run.every}th step and the last: {_ranges(steps)}"
    stopped = ""
    if run.stopped:
        stopped = f"; training stopped after {total} of {run.planned_steps} steps"
    return f"This page holds {len(steps)} recorded steps ({which}) of a {total}-step run{stopped}."


def _body(
    run: TrainingRun,
    *,
    heading: str,
    holds: str,
    layout: dict[str, Any],
    edge_svg: list[str],
    columns: list[str],
    loss_chart: _Chart,
    loss_ticks: list[tuple[float, str]],
    accuracy_chart: _Chart,
    picks: list[int],
    chain_names: list[str],
    n_neurons: int,
) -> str:
    recorder = run.recorder
    geometry = run.geometry
    sizes = recorder.model.sizes
    tile, tile_h = layout["tile"], layout["tile_h"]
    n_tiles = n_neurons
    count = len(run.frames)
    pick_set = set(picks)

    transport = (
        '<div class="transport">'
        '<button id="reset" title="Back to the first recorded step (Home)">↺ Reset</button>'
        '<button id="back" title="One recorded step back (←)">◀ Step</button>'
        '<button id="play" title="Play / pause (space)">▶ Play</button>'
        '<button id="forward" title="One recorded step on (→)">Step ▶</button>'
        f'<input id="scrub" type="range" min="0" max="{count - 1}" value="0" step="1" '
        'aria-label="recorded step">'
        '<label class="speed">speed <select id="speed">'
        '<option value="1000">1 step/s</option><option value="400">2.5 steps/s</option>'
        '<option value="200" selected>5 steps/s</option><option value="100">10 steps/s</option>'
        '<option value="40">25 steps/s</option></select></label>'
        "</div>"
    )
    test_now = (
        '<span class="stat">test acc <b id="test-acc-now">—</b></span>'
        if recorder.X_test
        else '<span class="stat muted">no test set</span>'
    )
    now = (
        '<div class="now">'
        '<span class="stat">step <b id="step-now">0</b> '
        f'<span class="muted">of {len(run.losses) - 1}</span></span>'
        '<span class="stat">loss <b id="loss-now">—</b></span>'
        '<span class="stat">train acc <b id="train-acc-now">—</b></span>'
        f"{test_now}"
        '<span class="stat">lr <b id="lr-now">—</b></span>'
        "</div>"
    )

    # Network tiles.
    net = [
        f'<div class="net" id="net" style="width:{layout["width"]}px;height:{layout["height"]}px">',
        f'<svg class="edges" width="{layout["width"]}" height="{layout["height"]}" aria-hidden="true">'
        f"{''.join(edge_svg)}</svg>",
    ]
    detail = 0
    input_uris = [_input_tile_uri(run, 0), _input_tile_uri(run, 1)]
    tile_number = 0
    for column, n in enumerate(sizes):
        for j in range(n):
            left, top = layout["nodes"][column][j]
            if column == 0:
                style = f"background-image:url({input_uris[j]});background-size:100% 100%"
                name = f"x{'₁₂'[j]}"
                caption = f"input {name}"
                extra = ""
            else:
                position = 0 if n_tiles == 1 else 100 * tile_number / (n_tiles - 1)
                style = f"background-size:{n_tiles * 100}% 100%;background-position:{position:.4f}% 0"
                last = column == len(sizes) - 1
                name = "out" if last and n == 1 else (f"out{j}" if last else f"h{column}.{j}")
                caption = f"layer {column} neuron {j} ({'output' if last else 'hidden'})"
                extra = f' data-tile="{tile_number}"'
                tile_number += 1
            net.append(
                f'<div class="tile{" tile-input" if column == 0 else ""}" style="left:{left}px;top:{top}px;'
                f'width:{tile}px;height:{tile_h}px;{style}"{extra} title="{_e(caption)}">'
                '<span class="marker"></span></div>'
                f'<div class="tile-values" style="left:{left + tile + 3}px;top:{top}px;height:{tile_h}px">'
                f'<span class="d" data-detail="{detail}"></span>'
                f'<span class="g" data-detail="{detail + 1}"></span></div>'
            )
            detail += 2
        label_left = layout["nodes"][column][0][0]
        label = "inputs" if column == 0 else ("output" if column == len(sizes) - 1 else f"layer {column}")
        net.append(f'<div class="column-label" style="left:{label_left}px">{label}</div>')
    net.append("</div>")

    # Surface.
    width, height = geometry.width, geometry.height
    points = []
    for where, X, targets in (
        ("train", recorder.X, recorder.targets),
        ("test", recorder.X_test, recorder.test_targets),
    ):
        for index, ((x, y), target) in enumerate(zip(X, targets)):
            k = _class_index(recorder, target)
            cls = f"pt {where} c{k}" + (" pickable" if where == "train" and index in pick_set else "")
            attrs = f' data-example="{index}"' if where == "train" and index in pick_set else ""
            points.append(
                f'<circle class="{cls}" cx="{geometry.px(x):.1f}" cy="{geometry.py(y):.1f}" '
                f'r="{6 if where == "train" else 5}"{attrs}><title>{where} example {index}: '
                f"[{_fmt(x)}, {_fmt(y)}], {_e(recorder.class_names[k])}</title></circle>"
            )
    neuron_lines = "".join(f'<line class="neuron-line" data-neuron="{j}"/>' for j in range(sizes[1]))
    x_ticks = _axis_ticks(geometry.x0, geometry.x1)
    y_ticks = _axis_ticks(geometry.y0, geometry.y1)
    axes = "".join(
        f'<text class="axis" x="{geometry.px(v):.1f}" y="{height - 6}" '
        f'text-anchor="middle">{_e(f"{v:g}")}</text>'
        for v in x_ticks
    ) + "".join(
        f'<text class="axis" x="6" y="{geometry.py(v) + 5:.1f}">{_e(f"{v:g}")}</text>' for v in y_ticks
    )
    surface = (
        f'<svg id="surface" viewBox="0 0 {width} {height}" role="img" aria-label="decision surface">'
        f'<image id="surface-image" x="0" y="0" width="{width}" height="{height}" '
        'preserveAspectRatio="none"/>'
        f'<g class="neuron-lines">{neuron_lines}</g>{axes}<g class="points">{"".join(points)}</g>'
        '<circle id="pick-ring" r="11" class="hidden"/></svg>'
    )
    legend = "".join(
        f'<span class="swatch" style="background:{_CLASS_COLOURS[k % len(_CLASS_COLOURS)]}"></span>'
        f"{_e(name)} "
        for k, name in enumerate(recorder.class_names)
    )

    # Curves.
    loss_svg = (
        f'<svg class="chart" id="loss-chart" viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT}">'
        f"{loss_chart.frame(loss_ticks, 'training step')}{loss_chart.polyline(run.losses, 'curve loss')}"
        f'<line class="now-line" id="loss-marker" y1="{_PAD["top"]}" y2="{_CHART_HEIGHT - _PAD["bottom"]}"/>'
        '<circle class="now-dot loss" id="loss-dot" r="5"/></svg>'
    )
    acc_ticks = [(k / 4, f"{25 * k}%") for k in range(5)]
    test_curve = (
        accuracy_chart.polyline(run.test_accuracy, "curve test")
        + '<circle class="now-dot test" id="test-dot" r="5"/>'
        if run.test_accuracy
        else ""
    )
    accuracy_svg = (
        f'<svg class="chart" id="accuracy-chart" viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT}">'
        f"{accuracy_chart.frame(acc_ticks, 'training step')}"
        f"{accuracy_chart.polyline(run.train_accuracy, 'curve train')}{test_curve}"
        f'<line class="now-line" id="accuracy-marker" y1="{_PAD["top"]}" '
        f'y2="{_CHART_HEIGHT - _PAD["bottom"]}"/>'
        '<circle class="now-dot train" id="train-dot" r="5"/></svg>'
    )
    acc_legend = '<span class="key train"></span>train' + (
        ' <span class="key test"></span>test' if run.test_accuracy else ""
    )

    # Picked example: the loss chain after the output.
    first_chain = 2 * (sizes[0] + n_neurons)
    chain = "".join(
        f'<div class="chain-node"><div class="chain-name">{_e(name)}</div>'
        f'<div>data <b data-detail="{first_chain + 2 * k}"></b></div>'
        f'<div>grad <b data-detail="{first_chain + 2 * k + 1}"></b></div></div>'
        for k, name in enumerate(chain_names)
    )
    pick_help = (
        f"Click a ringed point on the surface ({len(picks)} of {len(recorder.X)} training points are "
        "recorded in detail) to see its loss graph: each neuron's value (data) and the grad of that "
        "example's loss."
        if picks
        else "No example was recorded in detail (pickable=0)."
    )
    example_panel = (
        '<section class="panel" id="example-panel"><h2>Picked example</h2>'
        f'<p class="help">{_e(pick_help)}</p>'
        '<p id="example-text" class="example-text"></p>'
        f'<div class="chain" id="chain"><div class="chain-node"><div class="chain-name">network output</div>'
        f'<div class="muted">see the tiles</div></div>{chain}</div>'
        '<p id="stepper-link" class="stepper-link"></p></section>'
    )

    header_cells = "".join(f"<th>{_e(c)}</th>" for c in ["parameter", *columns])
    rows = "".join(
        f'<tr><th class="name">{_e(name)}</th>' + "".join("<td></td>" for _ in columns) + "</tr>"
        for name in run.parameter_names
    )
    optimiser = (
        '<section class="panel wide" id="optimiser-panel">'
        f"<h2>Optimiser: {_e(recorder.optimizer_text)}</h2>"
        '<p class="help">At the current step: each parameter\'s value (before the update), its grad, the '
        "optimiser's state after the step, and the update (new value − value). Blue: positive, orange: "
        "negative.</p>"
        f'<div class="table-box"><table id="optimiser"><thead><tr>{header_cells}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
        "</section>"
    )

    return (
        f'<header><h1>{_e(heading)}</h1>{transport}{now}<p class="holds" id="holds">{_e(holds)}</p></header>'
        '<main class="layout">'
        '<section class="panel" id="network-panel"><h2>Network</h2>'
        '<p class="help">Each tile: that neuron\'s activation over the input plane (blue positive, orange '
        "negative, each tile scaled to its own largest |value|). Lines: weights, width by size, blue "
        "positive, orange negative.</p>"
        f"{''.join(net)}</section>"
        '<section class="panel" id="surface-panel"><h2>Decision surface</h2>'
        f'<p class="help">The model\'s output over the plane at this step; filled dots: training points, '
        "rings: test points; dashed: where each first-layer neuron's input sum is zero.</p>"
        f'{surface}<p class="legend">{legend}</p></section>'
        '<section class="panel" id="curves-panel"><h2>Loss</h2>'
        f'{loss_svg}<h2>Accuracy</h2>{accuracy_svg}<p class="legend">{acc_legend}</p></section>'
        f"{example_panel}{optimiser}</main>"
    )


def _axis_ticks(low: float, high: float, edge: float = 0.04) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten apart) between `low` and `high`, about four."""
    span = high - low
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high - edge * span + 1e-12:
        if value >= low + edge * span - 1e-12 and (edge > 0 or value > low):
            ticks.append(round(value, 10))
        value += step
    return ticks
