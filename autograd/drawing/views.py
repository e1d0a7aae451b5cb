"""Page objects for the browser views: `stepper(root)` gives a `Stepper` you can save or show inline.

A `Stepper` is a `Page`: ``.save(path)`` writes the self-contained HTML file, ``.html()`` gives its
text, and in a notebook it displays inside a sandboxed frame (its keys act only while the frame has
focus, its styles cannot touch the notebook), with the drawn graph as a static picture for viewers
that strip scripts (GitHub, an untrusted notebook).
"""

from __future__ import annotations

import re
from typing import Any

from ..engine import Value
from .page import stepper_html
from .pages import Page
from .render import DEFAULT_NUMBER_FORMAT

__all__ = ["Stepper", "stepper"]

_SVG_ELEMENT = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


class Stepper(Page):
    """The browser stepper for one graph, as an object: save it, get its HTML, or show it in Jupyter."""

    def __repr__(self) -> str:
        size = len(self.html().encode("utf-8"))
        return f"<gradstep Stepper {self.title!r}: {size:,} bytes; .save(path) writes the page>"


def stepper(
    root: Value,
    *,
    title: str | None = None,
    number_format: str = DEFAULT_NUMBER_FORMAT,
    rankdir: str = "LR",
    parameters: Any = None,
    height: int = 720,
) -> Stepper:
    """The browser stepper for the graph of `root`: press Next to watch backprop one edge at a time.

    Args:
        root: the output or loss whose backward pass the page shows.
        title: the page's heading (for example the formula); a default otherwise.
        number_format, rankdir, parameters: as in `autograd.write_stepper_html` and `autograd.draw`.
        height: the frame's starting height in a notebook, in CSS pixels (it then fits the page).

    Returns:
        A `Stepper`: ``.save("backprop.html")``, ``.html()``, and inline display in Jupyter.
        ``write_stepper_html(root, path)`` is the same page written straight to a file.
    """
    document = stepper_html(
        root, title=title, number_format=number_format, rankdir=rankdir, parameters=parameters
    )
    return Stepper(
        document,
        title=title or "backprop stepper",
        height=height,
        fallback_svg=_largest_svg(document),
    )


def _largest_svg(document: str) -> str | None:
    """The page's drawing (its largest inline ``<svg>``), as a standalone SVG picture."""
    elements = _SVG_ELEMENT.findall(document)
    if not elements:
        return None
    svg = max(elements, key=len)
    if "xmlns=" not in svg[: svg.find(">")]:
        svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    return svg
