"""Page objects for the browser views: `stepper(loss)` gives a `Stepper` you can save or show inline.

A `Stepper` is a `Page`: ``.save(path)`` writes the self-contained HTML file, ``.html()`` gives its
text, and in a notebook it displays inside a sandboxed frame (its keys act only while the frame has
focus, its styles cannot touch the notebook), with the drawing the page opens on as a static picture
for viewers that strip scripts (GitHub, an untrusted notebook).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import Value
from .page import stepper_page
from .pages import Page

__all__ = ["Stepper", "stepper"]


class Stepper(Page):
    """The browser stepper for one training step, as an object: save it, get its HTML, show it inline."""

    def __repr__(self) -> str:
        size = len(self.html().encode("utf-8"))
        return f"<gradstep Stepper {self.title!r}: {size:,} bytes; .save(path) writes the page>"


def stepper(
    loss: Value | Callable[[], Value],
    optimizer: Any = None,
    *,
    height: int = 760,
    **options: Any,
) -> Stepper:
    """The stepper for one training step of `loss`: forward, seed, backward (and the update, with an
    optimiser), one small step at a time; press Next, or the arrow keys inside the page.

    Args:
        loss: the loss (or any output) Value, or a function that builds it (needed with an optimiser,
            which is called again for the loss after the update).
        optimizer: ``nn.SGD``, ``nn.Adam``, ...: adds the update phase with the optimiser's own
            arithmetic and the new loss after it. The optimiser is only read, never stepped.
        height: the frame's starting height in a notebook, in CSS pixels (it then fits the page).
        options: as for `autograd.stepper_page` (``title``, ``number_format``, ``parameters``,
            ``accumulate``, ``view``, ``max_nodes``, ...).

    Returns:
        A `Stepper`: ``.save("backprop.html")``, ``.html()``, and inline display in Jupyter.
        ``write_stepper_html(loss, path)`` writes the same page straight to a file.
    """
    page = stepper_page(loss, optimizer, **options)
    return Stepper(page.html(), title=page.title, height=height, fallback_svg=page.fallback_svg)
