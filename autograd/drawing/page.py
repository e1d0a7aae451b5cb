"""The browser stepper: one self-contained HTML page that walks through backprop edge by edge.

`write_stepper_html(root, "backprop.html")` draws the graph of `root` and records every step of
`chain_rule_steps(root)`. Open the page (from disk; it needs no network) and press Next: each
step highlights the edge being processed, writes the new grad into the child's box and shows the
step's arithmetic, ``grad(child) += upstream × local``, with the op's derivative rule.

Everything the page needs (the SVG, the step records as JSON, the script and the styles) is inside
the one file, so it can be mailed, committed or opened offline.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine import Value, topological_order
from ..files import atomic_write
from ..steps import ChainRuleStep, chain_rule_steps, grads_before, node_names
from .pages import asset, script_json
from .render import DEFAULT_NUMBER_FORMAT, draw, format_number

__all__ = ["stepper_html", "write_stepper_html"]

_DEFAULT_TITLE = "Backprop, one chain-rule step at a time"


def write_stepper_html(
    root: Value,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    number_format: str = DEFAULT_NUMBER_FORMAT,
    rankdir: str = "LR",
    parameters: Any = None,
) -> Path:
    """Write the browser stepper for the graph of `root` to `path` (atomically) and return the path.

    Args:
        root: the output or loss whose backward pass the page shows.
        path: the HTML file to write; its folder must exist.
        title: shown as the page's heading (for example the formula); a default otherwise.
        number_format: how numbers are shown, as in `autograd.draw` (default ``"{:.4f}"``); the
            page's numbers are formatted in Python with `autograd.drawing.render.format_number`, so they
            match the drawing character for character.
        rankdir, parameters: passed to `autograd.draw` (layout direction; the trainable values,
            e.g. an ``nn.MLP``, to colour and name them).

    The page shows exactly what ``root.backward()`` would do from the graph's current state (a leaf
    that already holds a grad accumulates onto it). Your graph is left as it was: the grads are
    restored after the pass is recorded. Every value is drawn (no summary boxes), so keep graphs to a
    few hundred values for a readable page.
    """
    page = stepper_html(
        root, title=title, number_format=number_format, rankdir=rankdir, parameters=parameters
    )
    return atomic_write(path, page)


def stepper_html(
    root: Value,
    *,
    title: str | None = None,
    number_format: str = DEFAULT_NUMBER_FORMAT,
    rankdir: str = "LR",
    parameters: Any = None,
) -> str:
    """The stepper page for `root` as a string (see `write_stepper_html`)."""
    if not isinstance(root, Value):
        raise TypeError(f"write_stepper_html: root must be a Value, got {type(root).__name__}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"write_stepper_html: title must be a str, got {type(title).__name__}")
    order = topological_order(root)
    saved_grads = [node.grad for node in order]
    try:
        steps = list(chain_rule_steps(root, include_seed=True))
        # Drawn with the final grads, so the page still shows the answer if scripts are off.
        svg = draw(
            root, rankdir=rankdir, number_format=number_format, parameters=parameters, max_nodes=None
        ).svg()
    finally:
        for node, grad in zip(order, saved_grads):
            node.grad = grad
    data = _page_data(order, steps, lambda x: format_number(x, number_format))
    return _PAGE.format(
        title=html.escape(title or _DEFAULT_TITLE),
        heading=html.escape(title or _DEFAULT_TITLE),
        css=asset("stepper.css"),
        svg=_inline_svg(svg),
        data=script_json(data),
        js=asset("stepper.js"),
    )


def _page_data(order: list[Value], steps: list[ChainRuleStep], fmt: Callable[[float], str]) -> dict[str, Any]:
    names = node_names(order, fmt, max_length=28)
    names[-1] = "output" if not order[-1].label else names[-1]
    return {
        "initial": [fmt(grad) for grad in grads_before(order, steps)],
        "steps": [
            {
                "kind": step.kind,
                "index": step.index,
                "node": step.node_number,
                "child": step.child_number,
                "position": step.child_position,
                "edge": f"e{step.node_number}_{step.child_position}" if step.kind == "edge" else None,
                "nodeName": names[step.node_number],
                "childName": names[step.child_number],
                "op": step.op,
                "rule": step.derivative_text,
                "upstream": fmt(step.upstream_grad),
                "local": fmt(step.local_grad),
                "contribution": fmt(step.contribution),
                "before": fmt(step.child_grad_before),
                "after": fmt(step.child_grad_after),
            }
            for step in steps
        ],
    }


def _inline_svg(svg: str) -> str:
    """The <svg> element alone: HTML does not want the XML declaration, doctype or comments."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("write_stepper_html: the renderer returned no <svg> element")
    return svg[start:].strip()


_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
  <h1>{heading}</h1>
  <p class="hint">Backprop runs the chain rule once per edge, from the output back to the inputs:
  <b>grad(child) += upstream × local</b>. <span class="upstream">Blue</span>: the node whose grad
  flows down (upstream); <span class="edge">orange</span>: the edge being processed and the grad it
  adds to. Keys: → next, ← back, space play/pause, Home reset.</p>
</header>
<main>
  <section id="controls" aria-label="controls">
    <button id="reset" type="button" title="Back to the start (Home)">Reset</button>
    <button id="prev" type="button" title="Previous step (←)">◀ Prev</button>
    <button id="play" type="button" title="Play / pause (space)">▶ Play</button>
    <button id="next" type="button" title="Next step (→)">Next ▶</button>
    <span id="counter" aria-live="polite"></span>
  </section>
  <section id="explain" aria-live="polite">
    <div id="headline"></div>
    <div id="rule"></div>
    <div id="equation"></div>
    <div id="update"></div>
  </section>
  <section id="graph">
{svg}
  </section>
  <details id="all-steps">
    <summary>All steps</summary>
    <ol id="step-list" start="0"></ol>
  </details>
</main>
<script type="application/json" id="stepper-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
