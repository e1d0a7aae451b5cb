"""autograd/drawing/pages.py: the self-contained page shell every browser view is built on."""

import html
import json
import re

import pytest

from autograd.drawing.pages import Page, build_page, script_json


def test_script_json_cannot_close_the_script_element_and_round_trips():
    data = {"label": "</script><!-- & \u2028 \u2029 x<y>z"}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == data


def test_script_json_refuses_non_finite_numbers():
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


def test_build_page_is_self_contained_and_forbids_the_network():
    document = build_page(title="a <b> title", body="<main>hi</main>", data={"n": 1}, scripts=["var x = 1;"])
    assert document.startswith("<!DOCTYPE html>")
    assert "<title>a &lt;b&gt; title</title>" in document
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', document).group(1)
    assert "default-src 'none'" in policy
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", document)  # nothing to fetch
    assert '<script type="application/json" id="gradstep-data">{"n":1}</script>' in document
    # the shared script comes before the page's own
    assert document.index("window.gradstep = window.gradstep || {}") < document.index("var x = 1;")


def test_page_shows_in_a_sandboxed_iframe_whose_srcdoc_is_the_whole_document():
    document = build_page(title="t", body='<p class="x">"quoted" & <b>bold</b></p>')
    page = Page(document, title="stepper", height=500, fallback_svg="<svg></svg>")
    frame = page._repr_html_()
    assert frame.startswith("<iframe ") and 'sandbox="allow-scripts"' in frame
    assert "allow-same-origin" not in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(srcdoc) == document
    bundle = page._repr_mimebundle_()
    assert bundle["image/svg+xml"] == "<svg></svg>" and bundle["text/html"] == frame
    assert set(page._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}
    assert "image/svg+xml" not in page._repr_mimebundle_(exclude=["image/svg+xml"])


def test_page_saves_atomically(tmp_path):
    page = Page(build_page(title="t", body=""), title="t")
    path = page.save(tmp_path / "p.html")
    assert path.read_text(encoding="utf-8") == page.html()
    assert "bytes" in repr(page)


@pytest.mark.parametrize(
    ("document", "height", "message"),
    [
        ("<p>not a document</p>", 720, "complete HTML document"),
        (None, 720, "complete HTML document"),
        ("<!DOCTYPE html><html></html>", 50, "height must be an int from 100 to 10000 pixels, got 50"),
        ("<!DOCTYPE html><html></html>", True, "height must be an int"),
    ],
)
def test_page_refuses_bad_arguments(document, height, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Page(document, title="t", height=height)
