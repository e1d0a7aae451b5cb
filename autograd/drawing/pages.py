"""The page layer shared by every browser view gradstep writes (the stepper, the training viewer).

A gradstep page is ONE self-contained HTML file: its styles, scripts, pictures and data are inside it,
it makes no network request (a Content-Security-Policy forbids any), and it opens from disk. Numbers
are formatted in Python before they are embedded, so a page only shows them and never computes.

Each page script registers itself under ``window.gradstep`` (``window.gradstep.stepper``,
``window.gradstep.viewer``) with at least ``count``, ``index`` and ``go(n)``; ``page.html#step=N``
opens step N. `page.js` (always included first) provides what the pages share: the namespace, reading
the embedded JSON, deep links and scoped key handling.

`Page` wraps a finished document: `Page.save(path)` writes it atomically, and in a notebook it
displays inside a sandboxed ``<iframe srcdoc=…>`` (so the page's styles and key handlers cannot touch
the notebook; its keys act only while the frame has focus), with a static picture in the same output
for viewers that strip scripts (GitHub, nbviewer).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..files import atomic_write

__all__ = ["Page", "asset", "build_page", "script_json"]

# No network, ever: only inline styles and scripts, and data: images.
_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
)


def asset(name: str) -> str:
    """The text of a file shipped in `autograd.drawing` (a page's ``.js`` or ``.css``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """`data` as JSON that is safe inside a ``<script>`` element.

    No ``<``, ``>`` or ``&`` can close the element or open a comment, and U+2028/U+2029 (line
    separators that older JavaScript parsers reject in strings) are escaped too.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def build_page(
    *,
    title: str,
    body: str,
    styles: Iterable[str] = (),
    scripts: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
    data_id: str = "gradstep-data",
) -> str:
    """A complete self-contained HTML document.

    Args:
        title: the document title (escaped here).
        body: the HTML inside ``<body>``, already escaped by the caller.
        styles: CSS texts, inlined in order (`page.css` is always first).
        scripts: JavaScript texts, inlined in order after the data (`page.js` is always first).
        data: embedded as JSON in ``<script type="application/json" id=data_id>``; read it in a
            script with ``gradstep.data(data_id)``.
    """
    css = "\n".join([asset("page.css"), *styles])
    js = "\n".join([asset("page.js"), *scripts])
    payload = (
        ""
        if data is None
        else (f'<script type="application/json" id="{html.escape(data_id)}">{script_json(data)}</script>\n')
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CONTENT_SECURITY_POLICY}">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
        f"{body}\n{payload}<script>\n{js}\n</script>\n</body>\n</html>\n"
    )


class Page:
    """A finished self-contained page: save it, or show it in a notebook.

    Args:
        document: the whole HTML text (from `build_page`).
        title: a short name, used in ``repr`` and as the iframe's title.
        height: the iframe's height in CSS pixels when shown in a notebook (its width is the cell's).
        fallback_svg: a static SVG picture of the page's current state, shown by notebook viewers
            that strip scripts (``image/svg+xml`` in the same output).
    """

    def __init__(
        self, document: str, *, title: str, height: int = 720, fallback_svg: str | None = None
    ) -> None:
        if not isinstance(document, str) or not document.lstrip().lower().startswith("<!doctype html"):
            raise ValueError("Page: document must be a complete HTML document (use build_page)")
        if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 10_000:
            raise ValueError(f"Page: height must be an int from 100 to 10000 pixels, got {height!r}")
        self._document = document
        self.title = title
        self.height = height
        self.fallback_svg = fallback_svg

    def __repr__(self) -> str:
        size = len(self._document.encode("utf-8"))
        return f"<{type(self).__name__} {self.title!r}: {size:,} bytes; .save(path) writes it>"

    def html(self) -> str:
        """The whole page as one HTML string."""
        return self._document

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to `path` atomically and return the path."""
        return atomic_write(path, self._document)

    def _repr_html_(self) -> str:
        return self.iframe()

    def iframe(self) -> str:
        """The page inside a sandboxed ``<iframe srcdoc=…>``, as a notebook output shows it.

        ``sandbox="allow-scripts"`` (without allow-same-origin) gives the frame an opaque origin: its
        scripts run, but they cannot reach the notebook's document, storage or key events.
        """
        return (
            f'<iframe srcdoc="{html.escape(self._document, quote=True)}" '
            f'sandbox="allow-scripts" title="{html.escape(self.title, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd; border-radius: 4px;" '
            'loading="eager"></iframe>'
        )

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        bundle = {"text/html": self.iframe(), "text/plain": repr(self)}
        if self.fallback_svg is not None:
            bundle["image/svg+xml"] = self.fallback_svg
        if include is not None:
            wanted = set(include)
            bundle = {key: value for key, value in bundle.items() if key in wanted}
        if exclude is not None:
            unwanted = set(exclude)
            bundle = {key: value for key, value in bundle.items() if key not in unwanted}
        return bundle
