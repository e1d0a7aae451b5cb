"""Drawing computation graphs: DOT/SVG with Graphviz (`render`), the renderer it runs (`graphviz`),
and the self-contained browser pages built on those drawings (`page`, with `stepper.js`/`stepper.css`).

Everything here depends on the core (`autograd.engine`, `autograd.steps`); the core never imports it.
"""

from .graphviz import GraphvizNotFoundError, RenderError, RenderTimeoutError
from .page import write_stepper_html
from .render import Graph, draw

__all__ = [
    "Graph",
    "GraphvizNotFoundError",
    "RenderError",
    "RenderTimeoutError",
    "draw",
    "write_stepper_html",
]
