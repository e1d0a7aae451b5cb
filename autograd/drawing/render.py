"""Drawing computation graphs: `draw(root)` gives a `Graph` you can view in Jupyter or save as SVG.

Every value is a box showing its label, data and grad; every operation is a small oval with its
symbol; arrows follow the data flow (operands -> op -> result). Colours say the role of each value::

    input (blue)   parameter (amber)   constant (grey)   intermediate (white)   output (green)

The DOT source is built with the ``graphviz`` package (it does the quoting) and rendered to SVG by
the bundled Graphviz compiled to WebAssembly (see `autograd.drawing.graphviz` for how the renderer
is found). The DOT source is always available as ``graph.source``, even without any renderer.

Stable ids, so that other tools (the browser stepper) can find things in the SVG. With ``i`` the
position of a value in ``topological_order(root)``:

* ``v{i}``: the value's box (node name and SVG ``id``);
* ``op{i}``: the op that made value ``i`` (only for values with children);
* ``e{i}_{k}``: the arrow from the ``k``-th child of value ``i`` into ``op{i}`` (``x*x`` has
  ``e{i}_0`` and ``e{i}_1``);
* ``o{i}``: the arrow from ``op{i}`` to ``v{i}``;
* ``s{j}``: the ``j``-th summary box standing in for hidden values (see ``max_nodes``), and
  ``h{j}_{i}`` the arrow from it into ``op{i}``.

The grad field's text starts with ``grad `` and numbers are printed by `format_number`.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import OPS, Value, topological_order
from ..files import atomic_write
from .graphviz import (
    GraphvizNotFoundError,
    RenderError,
    RenderTimeoutError,
    WasmRenderer,
    check_time_limit,
    get_renderer,
    render_dot,
)
from .pages import filter_bundle, svg_img

__all__ = [
    "DEFAULT_LAYOUT_BUDGET",
    "DEFAULT_MAX_NODES",
    "DEFAULT_NUMBER_FORMAT",
    "MAX_BUNDLED_RANKS",
    "ROLE_COLORS",
    "Graph",
    "GraphvizNotFoundError",
    "LayoutSize",
    "RenderError",
    "RenderTimeoutError",
    "draw",
    "format_number",
]

DEFAULT_NUMBER_FORMAT = "{:.4f}"
# Up to this many values are drawn by default (each with its op: about twice as many boxes).
# A one-sample 2-16-16-1 MLP (about 420 values) still fits; a whole training batch is summarised.
DEFAULT_MAX_NODES = 500
# The layout budget: at most this much `LayoutSize.cost` (boxes + arrows + 2 per rank an arrow skips)
# is drawn by default. Graphviz's time grows about quadratically with it, and what matters is how
# the arrows run, not how many values there are. Measured here (bundled Graphviz, shared 2-core
# machine, full drawings): x+x+...+x at cost 780 / 1,770 / 3,160 / 4,950 (20/30/40/50 terms) took
# 0.05 / 0.23 / 1.2 / 4.4 s; a shared-weight recurrence at cost 5,000 / 11,000 took 1.1 / 17.8 s; a
# wide node of 2,000 / 3,000 operands (cost 4,000 / 6,000) 2.9 / 5.8 s; an MLP batch loss at cost
# 3,300 / 6,500 / 13,000 1.1 / 2.9 / 11.5 s; chains cost least per unit (a 3,000-op tanh chain,
# cost 12,000: 1.5 s). So fan-out decides: 4,000 keeps every shape the defaults allow at or under
# about 2 s here, under the 5 s target with room for a busier machine (bench_render.py checks it).
DEFAULT_LAYOUT_BUDGET = 4_000
# The bundled Graphviz runs out of stack ("call stack exhausted") on long chains even with the 2 MiB
# wasm stack we give it: measured, a chain of binary ops (acc + x_i) traps at 5,100-5,250 ops
# (10,200 ranks) and renders at 5,062. Deeper drawings are refused before rendering, with a margin.
MAX_BUNDLED_RANKS = 8_000
# The note on a drawing made before backward(): every grad is still 0.
BEFORE_BACKWARD_NOTE = "every grad is 0: call backward() on the output first"

ROLE_COLORS: dict[str, str] = {
    "input": "#cfe3ff",
    "parameter": "#ffe08a",
    "constant": "#e6e6e6",
    "intermediate": "#ffffff",
    "output": "#b7ebc0",
}
# With color_grads the fill shows the gradient, so the role moves to the border.
_ROLE_BORDERS: dict[str, str] = {
    "input": "#2f6fd0",
    "parameter": "#c98a00",
    "constant": "#8c8c8c",
    "intermediate": "#444444",
    "output": "#1f8a3a",
}
_POSITIVE_GRAD = (0x21, 0x66, 0xAC)  # blue
_NEGATIVE_GRAD = (0xB2, 0x18, 0x2B)  # red
_INK = "#333333"
_OP_STYLE = {
    "shape": "oval",
    "fillcolor": "#f7f7f7",
    "fontsize": "10",
    "width": "0.3",
    "height": "0.25",
    "margin": "0.04,0.01",
}
_SUMMARY_STYLE = {
    "shape": "box",
    "style": "rounded,dashed,filled",
    "fillcolor": "#f4f4f4",
    "fontcolor": "#555555",
}
_CLUSTER_FILLS = ("#f2f5f9", "#fcf8ee")  # outer clusters (layers), inner ones (neurons)
_FONT = "Courier"
_RANKDIRS = ("LR", "TB", "RL", "BT")


# ---------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------


def format_number(x: float, number_format: str = DEFAULT_NUMBER_FORMAT) -> str:
    """`x` as the graph shows it: ``number_format.format(x)``, with ``-0.0`` shown as ``0``.

    The browser stepper uses this too, so its numbers match the drawn labels character for character.
    """
    x = float(x)
    if x == 0.0:
        x = 0.0  # -0.0 would print as "-0.0000" and look like a sign error
    return number_format.format(x)


def check_number_format(number_format: object) -> str:
    """`number_format` if it is a usable format for one number (such as ``"{:.4f}"``), else an error."""
    if not isinstance(number_format, str):
        raise TypeError(f"draw: number_format must be a str such as '{{:.4f}}', got {number_format!r}")
    try:
        sample = number_format.format(-1.5)
    except (ValueError, IndexError, KeyError) as error:
        raise ValueError(
            f"draw: number_format {number_format!r} cannot format a number ({error}); use e.g. '{{:.4f}}'"
        ) from None
    if sample == number_format:
        raise ValueError(f"draw: number_format {number_format!r} has no '{{}}' field; use e.g. '{{:.4f}}'")
    return number_format


# ---------------------------------------------------------------------------------------------------
# The Graph object
# ---------------------------------------------------------------------------------------------------


class Graph:
    """A drawn computation graph: DOT source plus rendering, saving and Jupyter display.

    The drawing is a snapshot: values changed after `draw` are not reflected. Rendering happens on
    first use of `svg()` and is cached.
    """

    def __init__(
        self,
        source: str,
        *,
        drawn_values: int = 0,
        hidden_values: int = 0,
        layout: LayoutSize | None = None,
        time_limit: float | None = None,
        before_backward: bool = False,
        fit_width: bool = True,
    ) -> None:
        if not isinstance(source, str):
            raise TypeError(f"Graph: source must be DOT text (str), got {type(source).__name__}")
        self.source = source
        self.drawn_values = drawn_values
        self.hidden_values = hidden_values
        #: How big the drawing is for Graphviz (None for a Graph made from DOT text).
        self.layout = layout
        #: Seconds a render may take before it is stopped (None: the renderer's default).
        self.time_limit = None if time_limit is None else check_time_limit(time_limit)
        #: True if the drawing was made before backward() (every grad 0); the picture says so too.
        self.before_backward = before_backward
        self.fit_width = fit_width
        self._svg: str | None = None

    def __repr__(self) -> str:
        hidden = f", {self.hidden_values} hidden" if self.hidden_values else ""
        note = ", grads all 0 (drawn before backward)" if self.before_backward else ""
        return f"<gradstep Graph: {self.drawn_values} values drawn{hidden}{note}>"

    def _check_renderer_limits(self) -> None:
        """Refuse, before rendering, a drawing the bundled Graphviz would crash on."""
        if self.layout is None or self.layout.ranks <= MAX_BUNDLED_RANKS:
            return
        if isinstance(get_renderer(), WasmRenderer):
            raise RenderError(
                f"this drawing is {self.layout.ranks:,} ranks deep, more than the bundled Graphviz can lay "
                f"out ({MAX_BUNDLED_RANKS:,}; deeper chains crash it); draw fewer values (max_nodes=..., "
                "which summarises the rest), draw a smaller part of the graph, or use a system Graphviz "
                "(GRADSTEP_DOT=/path/to/dot)"
            )

    def svg(self) -> str:
        """The graph as SVG text (rendered once, then cached).

        Raises `GraphvizNotFoundError` if no renderer is available and `RenderError` if Graphviz
        fails, if the drawing is too deep for the bundled renderer (refused before rendering), or
        (`RenderTimeoutError`) if the render takes longer than `time_limit`. Ctrl-C stops a render
        at once. A failed or stopped render leaves the renderer ready for the next one.
        """
        if self._svg is None:
            self._check_renderer_limits()
            self._svg = render_dot(self.source, "svg", time_limit=self.time_limit).decode("utf-8")
        return self._svg

    def png(self, *, scale: float = 2.0) -> bytes:
        """The graph as PNG bytes, `scale` pixels per CSS pixel (2.0 by default: sharp on HiDPI screens).

        With a native Graphviz as the renderer (``GRADSTEP_DOT``), Graphviz writes the PNG itself.
        Otherwise the SVG is rasterised by resvg (the ``resvg-py`` package, installed with gradstep:
        no system library such as cairo is needed) with the bundled monospace font, so the same graph
        gives the same PNG bytes on every machine; see `autograd.drawing.raster`.
        """
        renderer = get_renderer()
        if renderer.supports("png"):
            return renderer.render(self.source, "png", time_limit=self.time_limit)
        from .raster import svg_to_png

        try:
            return svg_to_png(self.svg(), scale=scale)
        except ImportError as error:
            raise RenderError(f"{error}; or save as .svg instead") from None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the graph to `path`, by extension: ``.svg``, ``.dot``/``.gv`` (the source) or ``.png``.

        The file is written atomically (a temporary file, then a rename). Returns the path.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Graph.save: path must be a str or a path, got {type(path).__name__}")
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".svg":
            data: str | bytes = self.svg()
        elif suffix in (".dot", ".gv"):
            data = self.source
        elif suffix == ".png":
            data = self.png()
        else:
            raise ValueError(
                f"Graph.save: cannot tell the format from {str(target)!r}; use .svg, .dot, .gv or .png"
            )
        return atomic_write(target, data)

    # ---- Jupyter ------------------------------------------------------------------------------

    def full_size(self) -> Graph:
        """The same drawing, shown in a notebook at its natural size (scroll sideways for wide graphs).

        By default a notebook shows a drawing scaled down to the width of the output area; clicking it
        toggles the natural size too (no script needed). Sharing the rendered SVG, so it costs nothing.
        """
        twin = Graph(
            self.source,
            drawn_values=self.drawn_values,
            hidden_values=self.hidden_values,
            layout=self.layout,
            time_limit=self.time_limit,
            before_backward=self.before_backward,
            fit_width=False,
        )
        twin._svg = self._svg
        if twin._svg is None:
            twin._svg = self._svg = self.svg()
        return twin

    def notebook_html(self) -> str:
        """The drawing as a notebook shows it: an ``<img>`` (an SVG data: URL) that fits the cell width.

        An image rather than inline SVG: notebook front ends that sanitise HTML (JupyterLab for an
        untrusted notebook, GitHub) keep images and remove ``<svg>``. Fitting uses ``max-width: 100%``;
        a click toggles the natural size through a hidden checkbox and CSS, so it works without scripts.
        """
        alt = repr(self).strip("<>")
        if not self.fit_width:
            picture = svg_img(self.svg(), alt=alt, style="max-width: none;")
            return f'<div class="gradstep-graph" style="overflow-x: auto;">{picture}</div>'
        picture = svg_img(self.svg(), alt=alt, style="max-width: 100%; height: auto;")
        return (
            f'<div class="gradstep-graph">{_ZOOM_STYLE}'
            '<label title="Click: natural size (scroll sideways); click again: fit the width. '
            'graph.full_size() shows it at natural size.">'
            f'<input type="checkbox" hidden style="display: none;">{picture}</label></div>'
        )

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        # Never let a renderer problem become a traceback in a notebook: show one line instead.
        try:
            bundle = {"text/html": self.notebook_html(), "text/plain": repr(self)}
        except RenderError as error:
            bundle = {"text/plain": f"{self!r} could not be rendered: {error} (DOT source: graph.source)"}
        return filter_bundle(bundle, include, exclude)


# Click-to-zoom with no script: the image sits in a label with a hidden checkbox; checked = natural size.
_ZOOM_STYLE = (
    "<style>"
    ".gradstep-graph { overflow-x: auto; }"
    ".gradstep-graph > label { display: block; cursor: zoom-in; }"
    ".gradstep-graph > label > input { display: none; }"
    ".gradstep-graph > label > input:checked + img { max-width: none !important; cursor: zoom-out; }"
    "</style>"
)


# ---------------------------------------------------------------------------------------------------
# Parameters, roles and module names
# ---------------------------------------------------------------------------------------------------


def _parameter_names(parameters: object) -> dict[Value, str]:
    """Each parameter Value -> its name (from `named_parameters()`, else its label)."""
    if parameters is None:
        return {}
    named = getattr(parameters, "named_parameters", None)
    if callable(named):
        pairs = list(named())
    elif isinstance(parameters, (Value, str, bytes, Mapping)) or not isinstance(parameters, Iterable):
        raise TypeError(
            "draw: parameters must be an iterable of Values or a module with named_parameters(), "
            f"got {type(parameters).__name__}"
        )
    else:
        pairs = [(getattr(value, "label", ""), value) for value in parameters]
    names: dict[Value, str] = {}
    for name, value in pairs:
        if not isinstance(value, Value):
            raise TypeError(f"draw: every parameter must be a Value, got {type(value).__name__} ({name!r})")
        names[value] = str(name)
    return names


def _looks_like_module_name(label: str) -> bool:
    """True for dotted parameter names such as ``layers.0.neurons.2.w.1`` (what nn gives parameters).

    There must be a module part before the parameter's own name: ``x.0`` or ``w.1`` alone is not one.
    """
    parts = label.split(".")
    if len(parts) < 2 or not all(part.isidentifier() or part.isdigit() for part in parts):
        return False
    return split_module_name(label)[0] != ""


def split_module_name(name: str) -> tuple[str, str]:
    """``"layers.0.neurons.2.w.1"`` -> ``("layers.0.neurons.2", "w.1")``: the module and the local name.

    The local name is the last non-numeric part plus any list indices after it.
    """
    parts = name.split(".")
    last_word = max((i for i, part in enumerate(parts) if not part.isdigit()), default=0)
    return ".".join(parts[:last_word]), ".".join(parts[last_word:])


def _cluster_paths(module: str) -> list[str]:
    """The nested clusters a module sits in, outermost first.

    A prefix is a cluster unless the next part is a list index (``layers`` in ``layers.0`` is only
    the list that holds the layers): ``layers.0.neurons.2`` -> ``["layers.0", "layers.0.neurons.2"]``.
    """
    parts = module.split(".")
    paths = []
    for end in range(1, len(parts) + 1):
        if end == len(parts) or not parts[end].isdigit():
            paths.append(".".join(parts[:end]))
    return paths


def _number_operand(value: Value) -> int | None:
    """Where the number of a number-form op (``x * 0.5``, ``2 - x``) stands among its operands."""
    spec = OPS.get(value.op)
    return None if spec is None else spec.number_operand


def _role(value: Value, root: Value, parameter_names: Mapping[Value, str]) -> str:
    if value is root:
        return "output"
    if value.op == "const":
        return "constant"
    if value.children:
        return "intermediate"
    if value in parameter_names:
        return "parameter"
    if not parameter_names and _looks_like_module_name(value.label):
        return "parameter"
    return "input"


def _assign_modules(
    order: list[Value], module_of_parameter: Mapping[Value, str]
) -> tuple[dict[Value, str], dict[Value, str]]:
    """Which module's cluster each value box and each op oval is drawn in (absent: outside).

    A neuron's cluster holds its parameters, the ops that combine them (a `dot` node, or the
    mul/add chain of a hand-built neuron) with their results, and the one unary op right after
    (its activation). The activation's *result* sits just outside: the next layer's parameters are
    drawn in the same column as their inputs, and Graphviz would stack the layers on top of each
    other if two layers' clusters shared a column. Nothing further downstream is pulled in, so a
    loss is never drawn inside the last neuron.
    """
    value_module: dict[Value, str] = {}
    op_module: dict[Value, str] = {}
    combines: set[Value] = set()  # parameters and the ops that combine one module's parameters
    for node in order:
        if not node.children:
            module = module_of_parameter.get(node, "")
            if module:
                value_module[node] = module
                combines.add(node)
            continue
        parameter_modules = {module_of_parameter[c] for c in node.children if c in module_of_parameter}
        if parameter_modules:
            # Rule 1: an op on parameters of exactly one module belongs to it.
            if len(parameter_modules) == 1 and "" not in parameter_modules:
                value_module[node] = op_module[node] = parameter_modules.pop()
                combines.add(node)
            continue
        interior = [c for c in node.children if c.children]
        if len(node.children) == 1 and interior and interior[0] in combines and _number_operand(node) is None:
            # Rule 3: one unary op straight after a module's combination (the activation).
            op_module[node] = value_module[interior[0]]
            continue
        if len(interior) >= 2 and all(c in combines for c in interior):
            # Rule 2: an op joining two or more combinations of the same module (add chains).
            modules = {value_module[c] for c in interior}
            if len(modules) == 1:
                value_module[node] = op_module[node] = modules.pop()
                combines.add(node)
    return value_module, op_module


# ---------------------------------------------------------------------------------------------------
# Choosing what to draw when the graph is too big
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Summary:
    """A box standing in for a group of hidden values."""

    number: int
    hidden: list[Value] = field(default_factory=list)
    feeds: list[Value] = field(default_factory=list)  # drawn values with inputs in this group


def _nearest_to_root(root: Value, limit: int) -> list[Value]:
    """The `limit` values closest to `root` (breadth first over children, in operand order)."""
    kept = [root]
    seen = {root}
    queue = deque([root])
    while queue and len(kept) < limit:
        node = queue.popleft()
        for child in node.children:
            if child not in seen:
                seen.add(child)
                kept.append(child)
                queue.append(child)
                if len(kept) == limit:
                    break
    return kept


def _summaries(kept: list[Value], drawn: set[Value]) -> list[_Summary]:
    """Group the hidden values: each drawn value's hidden inputs (and everything below them that no
    earlier group took) become one summary box."""
    group_of: dict[Value, _Summary] = {}
    summaries: list[_Summary] = []
    for node in kept:
        mine: _Summary | None = None
        for child in node.children:
            if child in drawn:
                continue
            if child not in group_of:
                if mine is None:
                    mine = _Summary(number=len(summaries))
                    summaries.append(mine)
                stack = [child]
                group_of[child] = mine
                while stack:
                    hidden = stack.pop()
                    mine.hidden.append(hidden)
                    for grandchild in hidden.children:
                        if grandchild not in drawn and grandchild not in group_of:
                            group_of[grandchild] = mine
                            stack.append(grandchild)
            group = group_of[child]
            if not group.feeds or group.feeds[-1] is not node:
                group.feeds.append(node)
    return summaries


@dataclass(frozen=True)
class LayoutSize:
    """How much work a drawing is for Graphviz's layout, counted before it is rendered.

    Graphviz puts every box on a rank (a column, left to right) and routes an arrow that spans
    ``k`` ranks through ``k - 1`` invisible points, one per rank it crosses. Layout time grows with
    boxes, arrows and those points together, about quadratically: a value reused by many distant
    ops (``x+x+...+x``, a weight shared by every step of an unrolled recurrence) makes few boxes but
    many points. Ranks are counted as the longest path to the output (each box as close to the
    output as its arrows allow), which never underestimates the points Graphviz makes.
    """

    boxes: int  #: value boxes, op ovals and summary boxes
    arrows: int
    hidden_points: int  #: Σ over arrows of (ranks spanned - 1)
    ranks: int  #: the longest path, in ranks
    widest: int  #: the most arrows into one op oval

    @property
    def cost(self) -> int:
        """Boxes + arrows + 2 per hidden point (each adds a point and an arrow segment)."""
        return self.boxes + self.arrows + 2 * self.hidden_points


def _layout_size(kept: list[Value], drawn: set[Value], summaries: list[_Summary]) -> LayoutSize:
    """The `LayoutSize` of drawing `drawn` (listed in `kept` with parents before children)."""
    rank: dict[Value, int] = {}  # a value box's rank; its op oval is one rank further from the output
    boxes = arrows = 0
    for value in kept:
        rank.setdefault(value, 0)  # only the root has no drawn consumer
        boxes += 1
        if value.children:
            boxes += 1
            arrows += 1  # op -> value
            if _number_operand(value) is not None:
                boxes += 1  # the recorded number's constant box, one rank out, and its arrow
                arrows += 1
            below = rank[value] + 2
            for child in value.children:
                if child in drawn and rank.get(child, -1) < below:
                    rank[child] = below
    hidden_points = 0
    widest = 0
    into: Counter[Value] = Counter()
    for value in kept:
        if value.children and _number_operand(value) is not None:
            into[value] += 1  # the constant box's arrow (counted above)
        for child in value.children:
            if child in drawn:
                arrows += 1
                hidden_points += rank[child] - rank[value] - 2
                into[value] += 1
    deepest = max(rank.values(), default=0)
    for summary in summaries:
        boxes += 1
        summary_rank = max(rank[node] for node in summary.feeds) + 2
        deepest = max(deepest, summary_rank)
        for node in summary.feeds:
            arrows += 1
            hidden_points += summary_rank - rank[node] - 2
            into[node] += 1
    widest = max(into.values(), default=0)
    return LayoutSize(
        boxes=boxes, arrows=arrows, hidden_points=hidden_points, ranks=deepest + 1, widest=widest
    )


def _choose_drawn(
    root: Value, order: list[Value], position: Mapping[Value, int], max_nodes: int | None, budget: int | None
) -> tuple[list[Value], set[Value], list[_Summary], LayoutSize]:
    """What to draw: the values nearest the root, as many as `max_nodes` and the layout budget allow.

    Returns the drawn values (parents before children), that set, the summaries of the rest and
    the drawing's `LayoutSize`.
    """

    def drawing(candidates: list[Value]) -> tuple[list[Value], set[Value], list[_Summary], LayoutSize]:
        drawn = set(candidates)
        kept = sorted(candidates, key=position.__getitem__, reverse=True)
        summaries = _summaries(kept, drawn) if len(drawn) < len(order) else []
        return kept, drawn, summaries, _layout_size(kept, drawn, summaries)

    if max_nodes is None:
        return drawing(order)
    nearest = _nearest_to_root(root, min(max_nodes, len(order)))
    best = drawing(nearest)
    if budget is None or best[3].cost <= budget:
        return best
    # Largest prefix (values in breadth-first order from the root) within the budget. The root
    # alone always fits: its box, op and at most one summary per operand.
    low, high = 1, len(nearest) - 1
    best = drawing(nearest[:1])
    while low < high:
        middle = (low + high + 1) // 2
        candidate = drawing(nearest[:middle])
        if candidate[3].cost <= budget:
            best, low = candidate, middle
        else:
            high = middle - 1
    if len(best[1]) != low:
        best = drawing(nearest[:low])
    return best


def _kind(value: Value, parameter_names: Mapping[Value, str]) -> str:
    if value.children:
        return value.op
    if value.op == "const":
        return "const"
    if value in parameter_names or (not parameter_names and _looks_like_module_name(value.label)):
        return "param"
    return "input"


def _summary_text(summary: _Summary, parameter_names: Mapping[Value, str]) -> str:
    counts = Counter(_kind(value, parameter_names) for value in summary.hidden)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{kind} ×{count:,}" for kind, count in ranked[:4])
    more = ", …" if len(ranked) > 4 else ""
    noun = "value" if len(summary.hidden) == 1 else "values"
    return f"… {len(summary.hidden):,} {noun} hidden ({shown}{more})"


# ---------------------------------------------------------------------------------------------------
# Labels and colours
# ---------------------------------------------------------------------------------------------------


# Characters an SVG file cannot hold (XML 1.0 forbids C0 controls but tab/newline, lone surrogates,
# U+FFFE and U+FFFF; C1 controls and DEL are allowed but invisible): drawn as their Python escapes.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _visible(text: str) -> str:
    """`text` with every character SVG cannot hold (or would hide) written as its escape, e.g. ``\\x00``."""
    return _UNSHOWABLE.sub(lambda match: ascii(match.group())[1:-1], text)


def _escaped(text: str) -> str:
    """`text` for a DOT string that Graphviz shows literally: visible characters, backslashes doubled.

    A backslash starts an escape in Graphviz labels (``\\n``, ``\\N``, ...) and one at the end would
    swallow the closing quote; doubled, it is one literal backslash. Quotes are escaped by the
    ``graphviz`` package when it quotes the string.
    """
    return _visible(text).replace("\\", "\\\\")


def _no_html(text: str) -> str:
    """`text` marked so that the graphviz package never reads it as an HTML-like ``<...>`` label."""
    import graphviz

    return graphviz.nohtml(text) if text.startswith("<") else text


def _plain_label(text: str) -> str:
    """A DOT label that shows `text` literally (never read as an HTML-like ``<...>`` label)."""
    return _no_html(_escaped(text))


def _record_text(text: str) -> str:
    """Escape text for one field of a Graphviz record label (so `|`, braces, `<>` show literally)."""
    text = _escaped(text.replace("\n", " ").replace("\r", " ").replace("\t", " "))
    for special in "{}|<>":
        text = text.replace(special, "\\" + special)
    return text


def _op_text(value: Value) -> str:
    spec = OPS.get(value.op)
    if spec is None:
        return value.op or "?"
    return spec.symbol_for(value)  # the registry's symbol, with a recorded constant filled in


def _grad_fill(grad: float, largest: float) -> str:
    """White for 0, deeper blue for larger positive grads, deeper red for larger negative ones."""
    if grad == 0.0 or largest == 0.0:
        return "#ffffff"
    strength = 1.0 if math.isinf(grad) else math.sqrt(min(abs(grad) / largest, 1.0))
    strength *= 0.6  # keep the deepest fill light enough for black text
    target = _POSITIVE_GRAD if grad > 0 else _NEGATIVE_GRAD
    channels = (round(255 + (c - 255) * strength) for c in target)
    return "#" + "".join(f"{c:02x}" for c in channels)


def _gradient_style(grad: float, largest: float, role: str) -> dict[str, str]:
    """With color_grads: the fill shows the gradient, a thick border the role (not for intermediates)."""
    style = {"fillcolor": _grad_fill(grad, largest)}
    if role != "intermediate":
        style.update(color=_ROLE_BORDERS[role], penwidth="2.5")
    return style


def _box_style(grad: float, largest: float, role: str, color_grads: bool) -> dict[str, str]:
    """A box's colours: filled by its gradient (`_gradient_style`) with color_grads, else by its role."""
    return _gradient_style(grad, largest, role) if color_grads else {"fillcolor": ROLE_COLORS[role]}


# ---------------------------------------------------------------------------------------------------
# draw()
# ---------------------------------------------------------------------------------------------------


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grads: bool = True,
    number_format: str = DEFAULT_NUMBER_FORMAT,
    parameters: Any = None,
    group_by_module: bool = True,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    color_grads: bool = False,
    legend: bool = False,
    layout_budget: int | None = DEFAULT_LAYOUT_BUDGET,
    time_limit: float | None = None,
    backward_nodes: Any = None,
) -> Graph:
    """Draw the computation graph that produced `root`.

    Args:
        root: the value to draw the graph of (usually a loss or an output, after ``backward()``).
        rankdir: ``"LR"`` (left to right, default) or ``"TB"`` (top to bottom); also ``"RL"``, ``"BT"``.
        show_grads: show each value's grad as well as its data.
        number_format: how numbers are printed, e.g. ``"{:.4f}"`` (default) or ``"{:.3g}"``.
        parameters: the trainable values, as an iterable of Values or a module with
            ``named_parameters()`` (an ``nn.MLP``). They are coloured as parameters and named by
            their dotted names. Without it, leaves whose label is a dotted module name (as ``nn``
            sets them, e.g. ``layers.0.neurons.2.w.1``) count as parameters.
        group_by_module: draw a cluster per module (per neuron, inside one per layer) from the
            parameters' dotted names; has no effect when no name is dotted.
        max_nodes: draw at most this many values (the ones closest to `root`); the rest are
            replaced by summary boxes that say how many values of which kind they hide.
            ``None`` draws everything, whatever the layout budget (a 2,000-value graph takes
            seconds to lay out, and some smaller ones minutes: see `layout_budget`).
        color_grads: fill each box by its gradient (blue positive, red negative, deeper for larger
            magnitudes); the role colour then moves to the border.
        legend: add a small key saying what the colours mean (only the roles that occur).
        layout_budget: the most layout work to draw, as a `LayoutSize.cost`: boxes + arrows + 2 for
            every rank an arrow skips. Values, not arrows, are what ``max_nodes`` counts, but an
            arrow from a value reused far away (``x+x+...+x``, a weight shared by every step of an
            unrolled recurrence) costs Graphviz as much as a box per rank it crosses. When the
            ``max_nodes`` values nearest the root exceed the budget, fewer are drawn (still the
            nearest) and the rest go into the same "… hidden" boxes. The default, 4,000, keeps
            every drawing the defaults allow under 5 s to render (measured in
            ``benchmarks/bench_render.py``): it draws the 44 terms of ``x+x+...+x`` nearest the
            output, 90 values of a recurrence with shared weights, and the 500 values nearest an
            MLP loss. ``None`` turns the budget off. Ignored with ``max_nodes=None``.
        time_limit: seconds a render may take before it is stopped with `RenderTimeoutError`
            (default 60, `autograd.drawing.graphviz.DEFAULT_TIME_LIMIT_SECONDS`). Ctrl-C stops a
            render at once. A drawing too deep for the bundled Graphviz (more than
            `MAX_BUNDLED_RANKS` ranks, which only ``max_nodes=None`` can make) is refused with
            `RenderError` before rendering.
        backward_nodes: values made by a backward pass (``autograd.backward_nodes(gradients,
            output)`` for a ``grad(..., create_graph=True)`` gradient): drawn with a thick orange
            border, so the forward graph and the backward pass built on it are told apart.

    Drawn before ``backward()`` (every grad 0), the picture says so in a note at the top.

    Returns:
        A `Graph`: ``.source`` (DOT), ``.svg()``, ``.save(path)``, and inline display in Jupyter.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)):
        raise TypeError(f"draw: max_nodes must be an int or None, got {max_nodes!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be at least 1, got {max_nodes}")
    if layout_budget is not None and (isinstance(layout_budget, bool) or not isinstance(layout_budget, int)):
        raise TypeError(f"draw: layout_budget must be an int or None, got {layout_budget!r}")
    if layout_budget is not None and layout_budget < 1:
        raise ValueError(f"draw: layout_budget must be at least 1, got {layout_budget}")
    try:
        time_limit = None if time_limit is None else check_time_limit(time_limit)
    except (TypeError, ValueError) as error:
        raise type(error)(f"draw: {error}") from None
    number_format = check_number_format(number_format)
    parameter_names = _parameter_names(parameters)

    order = topological_order(root)
    position = {value: i for i, value in enumerate(order)}
    _, drawn, summaries, layout = _choose_drawn(root, order, position, max_nodes, layout_budget)

    # Dotted names give module clusters. Without explicit parameters, use dotted leaf labels.
    names = dict(parameter_names)
    if not names:
        names = {v: v.label for v in order if not v.children and _looks_like_module_name(v.label)}
    module_of_parameter = {v: split_module_name(name)[0] for v, name in names.items() if "." in name}
    value_module, op_module = _assign_modules(order, module_of_parameter) if group_by_module else ({}, {})

    roles_seen: list[str] = []
    made_by_backward = set(backward_nodes) if backward_nodes is not None else set()
    largest_grad = max((abs(v.grad) for v in order if v in drawn and math.isfinite(v.grad)), default=0.0)
    builder = _DotBuilder(rankdir=rankdir)
    # Declare nodes and edges in operand order (x1 before x2, w.0 before w.1): Graphviz keeps
    # declaration order where it can, so the picture reads top to bottom like the code.
    layout_order = [v for v in _operand_order(root) if v in drawn]
    for value in layout_order:
        i = position[value]
        role = _role(value, root, parameter_names)
        if role not in roles_seen:
            roles_seen.append(role)
        module = value_module.get(value, "")
        label = value.label if isinstance(value.label, str) else str(value.label)
        if value in names:  # "w.1" inside the cluster "neurons.2", else the full dotted name
            label = split_module_name(names[value])[1] if module else names[value]
        fields = [_record_text(label)] if label else []
        fields.append("data " + _record_text(format_number(value.data, number_format)))
        if show_grads:
            fields.append("grad " + _record_text(format_number(value.grad, number_format)))
        # A module's parameters are many and sit in one column: one line each keeps the column short.
        one_line = bool(module) and not value.children
        attributes = {"id": f"v{i}", "label": builder.record(fields, one_line=one_line)}
        attributes.update(_box_style(value.grad, largest_grad, role, color_grads))
        if value in made_by_backward:
            attributes.update(_BACKWARD_STYLE)
        builder.add_node(module, f"v{i}", attributes)
        if value.children:
            op_attributes = {"id": f"op{i}", "label": _plain_label(_op_text(value)), **_OP_STYLE}
            builder.add_node(op_module.get(value, ""), f"op{i}", op_attributes)
            if _number_operand(value) is not None:
                # The number the op recorded (``0.5`` in ``x * 0.5``), drawn as the constant it is:
                # no grad line, since nothing upstream of a number needs its gradient.
                if "constant" not in roles_seen:
                    roles_seen.append("constant")
                number = "data " + _record_text(format_number(value.params, number_format))
                constant_attributes = {"id": f"c{i}", "label": builder.record([number], one_line=True)}
                constant_attributes.update(_box_style(0.0, largest_grad, "constant", color_grads))
                builder.add_node(op_module.get(value, ""), f"c{i}", constant_attributes)

    for summary in summaries:
        name = f"s{summary.number}"
        # Two lines: the count, then the kinds (backslash-n is Graphviz's centred line break).
        count, kinds = _summary_text(summary, parameter_names).split(" (", 1)
        text = _no_html(_escaped(count) + "\\n(" + _escaped(kinds))
        builder.add_node("", name, {"id": name, "label": text, **_SUMMARY_STYLE})

    for value in layout_order:
        if not value.children:
            continue
        i = position[value]
        number_slot = _number_operand(value)
        if number_slot == 0:  # declared in operand order: ``2 - x`` draws 2 above x
            builder.add_edge(f"c{i}", f"op{i}", f"e{i}_c")
        for k, child in enumerate(value.children):
            if child in drawn:
                builder.add_edge(f"v{position[child]}", f"op{i}", f"e{i}_{k}")
        if number_slot == 1:
            builder.add_edge(f"c{i}", f"op{i}", f"e{i}_c")
        builder.add_edge(f"op{i}", f"v{i}", f"o{i}")
    for summary in summaries:
        for node in summary.feeds:
            i = position[node]
            builder.add_edge(f"s{summary.number}", f"op{i}", f"h{summary.number}_{i}", style="dashed")

    if legend:
        for role in sorted(roles_seen, key=list(ROLE_COLORS).index):
            builder.add_legend_entry(role, _box_style(0.0, 1.0, role, color_grads))
        if color_grads:
            builder.add_legend_entry("grad > 0", {"fillcolor": _grad_fill(1.0, 1.0)})
            builder.add_legend_entry("grad < 0", {"fillcolor": _grad_fill(-1.0, 1.0)})

    before_backward = show_grads and root.grad == 0.0 and all(value.grad == 0.0 for value in order)
    if before_backward:
        builder.note = BEFORE_BACKWARD_NOTE
    if legend and made_by_backward:
        builder.add_legend_entry("backward pass", {"fillcolor": "#ffffff", **_BACKWARD_STYLE})
    hidden = len(order) - len(drawn)
    return Graph(
        builder.source(),
        drawn_values=len(drawn),
        hidden_values=hidden,
        layout=layout,
        time_limit=time_limit,
        before_backward=before_backward,
    )


_BACKWARD_STYLE = {"color": "#d9480f", "penwidth": "3"}  # nodes a create_graph backward pass made


def _operand_order(root: Value) -> list[Value]:
    """Children before parents, like `topological_order`, but visiting operands first to last."""
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children) if child not in visited)
    return order


class _DotBuilder:
    """Collects nodes per module cluster and edges, then writes the DOT with the graphviz package."""

    def __init__(self, *, rankdir: str) -> None:
        self.rankdir = rankdir
        self.nodes: dict[str, list[tuple[str, dict[str, str]]]] = {}  # module path -> nodes, in order
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.legend: list[tuple[str, dict[str, str]]] = []
        self.note = ""  # a line of text above the drawing

    def record(self, fields: list[str], *, one_line: bool = False) -> str:
        # Record fields stack across the rank direction; braces turn them along it. Fields are
        # stacked (label over data over grad) in either direction, or laid out on one line.
        joined = " | ".join(fields)
        stacked_without_braces = self.rankdir in ("LR", "RL")
        return _no_html(joined if stacked_without_braces != one_line else "{" + joined + "}")

    def add_node(self, module: str, name: str, attributes: dict[str, str]) -> None:
        self.nodes.setdefault(module, []).append((name, attributes))

    def add_edge(self, tail: str, head: str, edge_id: str, **attributes: str) -> None:
        self.edges.append((tail, head, {"id": edge_id, **attributes}))

    def add_legend_entry(self, text: str, style: dict[str, str]) -> None:
        self.legend.append((text, style))

    def source(self) -> str:
        import graphviz  # the graphviz package quotes names and attributes correctly

        graph = graphviz.Digraph(
            name="gradstep",
            graph_attr={
                "rankdir": self.rankdir,
                "nodesep": "0.18",
                "ranksep": "0.3",
                "fontname": _FONT,
                "bgcolor": "white",
                "pad": "0.15",
                # Skip the final crossing-reduction pass inside clusters: it shuffles a neuron's
                # parameters (w.2, w.1, w.0, b, w.3); without it they stay in operand order.
                "remincross": "false",
            },
            node_attr={
                "shape": "record",
                "style": "filled",
                "fontname": _FONT,
                "fontsize": "11",
                "color": _INK,
                "fontcolor": "#111111",
                "height": "0.3",
                "margin": "0.06,0.03",
            },
            edge_attr={"color": "#555555", "arrowsize": "0.6", "penwidth": "0.9"},
        )
        if self.note:
            note_style = {"labelloc": "t", "labeljust": "l", "fontsize": "11", "fontcolor": "#b2182b"}
            graph.attr(label=_plain_label(self.note), **note_style)
        # Clusters form a tree by dotted prefix: layers.0 holds layers.0.neurons.2.
        tree: dict[str, list[str]] = {}
        for module in self.nodes:
            if not module:
                continue
            parent = ""
            for path in _cluster_paths(module):
                if path == parent:  # an empty part (".w", "a..b") is no cluster of its own
                    continue
                children = tree.setdefault(parent, [])
                if path not in children:
                    children.append(path)
                parent = path

        def emit(target: Any, module: str, depth: int) -> None:
            nodes = self.nodes.get(module, [])
            if module and self.rankdir in ("LR", "RL"):
                # Left-to-right layouts list a cluster's column bottom-up in declaration order
                # (measured); declaring it reversed shows w.0, w.1, ..., b from the top.
                nodes = nodes[::-1]
            for name, attributes in nodes:
                target.node(name, **attributes)
            for child in tree.get(module, []):
                # Module names come from parameter names, which may hold anything: escape them.
                with target.subgraph(name=_plain_label(f"cluster_{child}")) as cluster:
                    relative = child[len(module) + 1 :] if module else child
                    cluster.attr(
                        id=_plain_label(f"cluster_{child}"),
                        label=_plain_label(relative),
                        style="rounded,filled",
                        color="#b9b9b9",
                        fillcolor=_CLUSTER_FILLS[depth % len(_CLUSTER_FILLS)],
                        fontname=_FONT,
                        fontsize="10",
                        fontcolor="#666666",
                        labeljust="l",
                    )
                    emit(cluster, child, depth + 1)

        emit(graph, "", 0)
        if self.legend:
            with graph.subgraph(name="cluster_legend") as key:
                key.attr(id="legend", label="", style="rounded", color="#d0d0d0")
                names = []
                for text, style in self.legend:
                    name = "legend_" + text.replace(" ", "").replace(">", "pos").replace("<", "neg")
                    key.node(name, id=name, label=text, shape="box", fontsize="9", height="0.2", **style)
                    names.append(name)
                # A chain of invisible edges keeps the keys in order, one per rank: a row above a
                # left-to-right drawing, a column beside a top-to-bottom one.
                for tail, head in itertools.pairwise(names):
                    key.edge(tail, head, style="invis")
        for tail, head, attributes in self.edges:
            graph.edge(tail, head, **attributes)
        return graph.source
