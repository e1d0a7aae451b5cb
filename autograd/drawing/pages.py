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

import base64
import html
import json
import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..files import atomic_write

__all__ = ["Page", "asset", "build_page", "filter_bundle", "script_json", "svg_img"]

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
        height: the frame's height in CSS pixels in a notebook until the page reports its own (its
            width is always the output area's); the frame then fits the page, up to `max_height`.
        fallback_svg: a static SVG picture of the page's state, shown where the live page cannot run.
        max_height: the tallest the frame grows to fit its page (CSS pixels).

    In a notebook the output is one ``text/html`` block holding three things: the page in a sandboxed
    ``<iframe srcdoc=…>``, the fallback picture as an ``<img>``, and a few lines of script that swap
    them. Where scripts run (JupyterLab and Notebook once the cell ran or the notebook is trusted,
    VS Code, nbviewer, an exported HTML file opened normally) the script shows the live frame and
    hides the picture. Where they do not (GitHub's notebook view, an untrusted notebook in
    JupyterLab, which sanitise scripts and iframes away, or a browser with JavaScript off) the
    picture stays. The picture is kept inside the HTML rather than as a second ``image/svg+xml``
    entry because every one of those front ends picks ``text/html`` first and shows only one entry.
    """

    def __init__(
        self,
        document: str,
        *,
        title: str,
        height: int = 720,
        fallback_svg: str | None = None,
        max_height: int = 2000,
    ) -> None:
        if not isinstance(document, str) or not document.lstrip().lower().startswith("<!doctype html"):
            raise ValueError("Page: document must be a complete HTML document (use build_page)")
        for name, pixels in (("height", height), ("max_height", max_height)):
            if isinstance(pixels, bool) or not isinstance(pixels, int) or not 100 <= pixels <= 10_000:
                raise ValueError(f"Page: {name} must be an int from 100 to 10000 pixels, got {pixels!r}")
        if max_height < height:
            raise ValueError(f"Page: max_height ({max_height}) must be at least height ({height})")
        if fallback_svg == "":
            fallback_svg = None  # no picture (a page too large to draw)
        if fallback_svg is not None and (not isinstance(fallback_svg, str) or "<svg" not in fallback_svg):
            raise ValueError("Page: fallback_svg must be SVG text containing an <svg> element, or None")
        self._document = document
        self.title = title
        self.height = height
        self.max_height = max_height
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

    def iframe(self, *, deferred: bool = False) -> str:
        """The page inside a sandboxed ``<iframe srcdoc=…>`` as wide as the output area.

        ``sandbox="allow-scripts"`` (without allow-same-origin) gives the frame an opaque origin: its
        scripts run, but they cannot reach the notebook's document, storage or key events, and its
        styles cannot restyle the notebook. Keys reach the page only while the frame has focus.

        ``deferred=True`` gives a hidden, empty frame holding the page in ``data-srcdoc``: a script shows
        it and loads the page then, so the page lays itself out at its real size (a page loaded in a
        hidden frame measures a zero-sized window).
        """
        display = "display: none; " if deferred else ""
        attribute = "data-srcdoc" if deferred else "srcdoc"
        srcdoc = html.escape(_with_size_report(self._document), quote=True)
        return (
            f'<iframe class="gradstep-frame" {attribute}="{srcdoc}" '
            f'sandbox="allow-scripts" title="{html.escape(self.title, quote=True)}" '
            f'style="{display}width: 100%; height: {self.height}px; border: 1px solid #d9dde4; '
            f'border-radius: 4px; box-sizing: border-box;" data-max-height="{self.max_height}" '
            'loading="eager"></iframe>'
        )

    def notebook_html(self) -> str:
        """What a notebook shows: the live frame, and the fallback picture where scripts cannot run."""
        if self.fallback_svg is None:
            return f'<div class="gradstep-output">{self.iframe()}{_FOLLOW_SIZE_SCRIPT}</div>'
        alt = f"{self.title} (a static picture; run the cell for the live page)"
        picture = svg_img(self.fallback_svg, alt=alt)
        return (
            f'<div class="gradstep-output">{self.iframe(deferred=True)}'
            f'<div class="gradstep-fallback">{picture}</div>{_SWAP_SCRIPT}{_FOLLOW_SIZE_SCRIPT}</div>'
        )

    def _repr_html_(self) -> str:
        return self.notebook_html()

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        bundle = {"text/html": self.notebook_html(), "text/plain": repr(self)}
        return filter_bundle(bundle, include, exclude)


def filter_bundle(
    bundle: dict[str, str], include: Iterable[str] | None, exclude: Iterable[str] | None
) -> dict[str, str]:
    """`bundle` limited to the MIME types IPython asked for (`include`) and without the refused ones."""
    if include is not None:
        wanted = set(include)
        bundle = {key: value for key, value in bundle.items() if key in wanted}
    if exclude is not None:
        unwanted = set(exclude)
        bundle = {key: value for key, value in bundle.items() if key not in unwanted}
    return bundle


def svg_img(svg: str, *, alt: str, style: str = "max-width: 100%; height: auto;") -> str:
    """`svg` as an ``<img>`` with a data: URL: it scales like any picture and survives HTML sanitisers
    that remove inline ``<svg>`` (JupyterLab's for untrusted notebooks, GitHub's)."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("svg_img: the text has no <svg> element")
    encoded = base64.b64encode(svg[start:].encode("utf-8")).decode("ascii")
    return (
        f'<img src="data:image/svg+xml;base64,{encoded}" alt="{html.escape(alt, quote=True)}" '
        f'style="{style}">'
    )


# Inside the frame: report the page's height to the notebook, which sizes the frame to fit (an opaque-
# origin frame can only talk by postMessage). Reported again whenever the page's layout changes.
_SIZE_REPORT = """<script>
(function () {
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (Math.abs(height - last) < 2) return;
    last = height;
    window.parent.postMessage({ gradstepFrameHeight: height }, "*");
  }
  window.addEventListener("load", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  report();
})();
</script>"""

# In the notebook, right after the frame: the frame follows its page's reported height, between 100 px
# and its data-max-height (a page sized by the viewport reports the frame's own height: no growth loop).
_FOLLOW_SIZE_SCRIPT = """<script>
(function () {
  var output = document.currentScript && document.currentScript.parentNode;
  var frame = output && output.querySelector("iframe.gradstep-frame");
  if (!frame) return;
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || !event.data) return;
    var height = Number(event.data.gradstepFrameHeight);
    if (!isFinite(height) || height <= 0) return;
    var limit = Number(frame.getAttribute("data-max-height")) || 2000;
    frame.style.height = Math.max(100, Math.min(limit, height + 2)) + "px";
  });
})();
</script>"""

# Scripts run here, so show the live page instead of its picture (loaded now that its frame has a size).
_SWAP_SCRIPT = """<script>
(function () {
  var output = document.currentScript && document.currentScript.parentNode;
  if (!output) return;
  var frame = output.querySelector("iframe.gradstep-frame");
  frame.style.display = "block";
  output.querySelector(".gradstep-fallback").style.display = "none";
  // Load the page only once the shown frame has been laid out: a page loaded into a frame that
  // has no size yet measures a zero-wide window (seen under load: 2 loads in 6 on a busy machine).
  var tries = 0;
  function load() {
    if (frame.getBoundingClientRect().width === 0 && tries++ < 120) {  // a collapsed output: ~2 s
      requestAnimationFrame(load);
      return;
    }
    frame.srcdoc = frame.getAttribute("data-srcdoc");
    frame.removeAttribute("data-srcdoc");
  }
  load();
})();
</script>"""


def _with_size_report(document: str) -> str:
    """The document with the size report added just before ``</body>`` (or at the end)."""
    at = document.lower().rfind("</body>")
    if at < 0:
        return document + _SIZE_REPORT
    return document[:at] + _SIZE_REPORT + "\n" + document[at:]
