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


# ---------------------------------------------------------------------------------------------------
# page.js in a real browser: the pan/zoom view shared by the stepper and the training viewer
# ---------------------------------------------------------------------------------------------------

_BIG_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 6000 4000" width="6000pt" height="4000pt">'
    '<g id="a"><rect x="20" y="20" width="80" height="30"/><text x="30" y="40" font-size="11">a</text></g>'
    '<g id="b"><rect x="5800" y="3900" width="80" height="30"/>'
    '<text x="5810" y="3920" font-size="11">b</text></g>'
    '<g id="c"><rect x="5600" y="3800" width="80" height="30"/>'
    '<text x="5610" y="3820" font-size="11">c</text></g>'
    "</svg>"
)
_VIEW_SCRIPT = """
window.view = gradstep.svgView(document.getElementById("box"), document.querySelector("#box svg"));
"""


def _view_page(browser, tmp_path):
    document = build_page(
        title="view",
        body=f'<div id="box" style="width: 800px; height: 500px">{_BIG_SVG}</div>',
        scripts=[_VIEW_SCRIPT],
    )
    path = Page(document, title="view").save(tmp_path / "view.html")
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(path.as_uri())
    return page, problems


def _text_px(page, element_id: str) -> float:
    return page.evaluate(f"document.querySelector('#{element_id} text').getBoundingClientRect().height")


@pytest.mark.browser
def test_svg_view_fits_shows_far_elements_legibly_zooms_and_pans(browser, tmp_path):
    page, problems = _view_page(browser, tmp_path)
    # Opens fitted: the whole 6000 x 4000 drawing in 800 x 500 px, so text is far too small to read.
    assert page.evaluate("view.scale()") == pytest.approx(500 / 4000)
    assert page.evaluate("view.visible(document.getElementById('a'))")
    assert page.evaluate("view.visible(document.getElementById('b'))")
    assert _text_px(page, "b") < 5
    # show() zooms in to a legible scale and brings the element into view.
    page.evaluate("view.show([document.getElementById('b')])")
    assert page.evaluate("view.visible(document.getElementById('b'))")
    assert _text_px(page, "b") >= 11
    assert not page.evaluate("view.visible(document.getElementById('a'))")
    # Two elements close together are both shown; far apart, the first one is centred.
    page.evaluate("view.show([document.getElementById('c'), document.getElementById('b')])")
    assert page.evaluate("view.visible(document.getElementById('b'))")
    assert page.evaluate("view.visible(document.getElementById('c'))")
    page.evaluate("view.show([document.getElementById('a'), document.getElementById('b')])")
    assert page.evaluate("view.visible(document.getElementById('a'))")
    assert _text_px(page, "a") >= 11
    # Already in view and legible: show() does not move anything.
    before = page.evaluate("document.querySelector('#box svg').getAttribute('viewBox')")
    page.evaluate("view.show([document.getElementById('a')])")
    assert page.evaluate("document.querySelector('#box svg').getAttribute('viewBox')") == before
    # The wheel zooms around the pointer; dragging pans; fit() shows everything again.
    scale = page.evaluate("view.scale()")
    page.mouse.move(400, 250)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"() => view.scale() > {scale}")
    x_before = page.evaluate("document.getElementById('a').getBoundingClientRect().left")
    page.mouse.down()
    page.mouse.move(500, 250, steps=4)
    page.mouse.up()
    x_after = page.evaluate("document.getElementById('a').getBoundingClientRect().left")
    assert x_after - x_before == pytest.approx(100, abs=1)
    page.evaluate("view.fit()")
    assert page.evaluate("view.scale()") == pytest.approx(500 / 4000)
    page.close()
    assert problems == []
