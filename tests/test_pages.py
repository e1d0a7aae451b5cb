"""autograd/drawing/pages.py: the self-contained page shell every browser view is built on."""

import base64
import html
import json
import re

import pytest

from autograd.drawing import pages
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
    frame = page.iframe()
    assert frame.startswith("<iframe ") and 'sandbox="allow-scripts"' in frame
    assert "allow-same-origin" not in frame
    assert "width: 100%; height: 500px;" in frame and 'data-max-height="2000"' in frame
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    # the whole document, plus the script that reports its height to the notebook, before </body>
    assert srcdoc.replace(pages._SIZE_REPORT + "\n", "") == document
    assert srcdoc.index("gradstepFrameHeight") < srcdoc.index("</body>")


def test_notebook_output_is_one_html_entry_with_the_frame_and_the_fallback_picture():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>'
    page = Page(build_page(title="t", body="<p>live</p>"), title="stepper", fallback_svg=svg)
    bundle = page._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}  # front ends show text/html first, and only it
    output = bundle["text/html"]
    assert output == page._repr_html_() == page.notebook_html()
    # the frame starts hidden and empty and the picture shown: a script in the notebook swaps them and
    # loads the page (which would lay itself out for a zero-sized window in a hidden frame)
    assert re.search(r'<iframe class="gradstep-frame" data-srcdoc="[^"]+" [^>]*style="display: none;', output)
    assert " srcdoc=" not in output
    picture = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', output).group(1)
    assert base64.b64decode(picture).decode() == svg
    assert output.index("<iframe") < output.index("gradstep-fallback") < output.index("<script>")
    assert set(page._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}
    assert set(page._repr_mimebundle_(exclude=["text/plain"])) == {"text/html"}
    # without a picture the frame is simply shown
    bare = Page(build_page(title="t", body=""), title="t").notebook_html()
    assert "display: none" not in bare and "gradstep-fallback" not in bare


def test_svg_img_refuses_text_without_svg():
    with pytest.raises(ValueError, match="no <svg> element"):
        pages.svg_img("<p>no picture</p>", alt="x")


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


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_height": 50}, "max_height must be an int from 100 to 10000 pixels, got 50"),
        ({"height": 900, "max_height": 800}, "max_height (800) must be at least height (900)"),
        ({"fallback_svg": "<png>"}, "fallback_svg must be SVG text"),
    ],
)
def test_page_refuses_bad_notebook_options(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Page("<!DOCTYPE html><html></html>", title="t", **options)


# ---------------------------------------------------------------------------------------------------
# In a real browser: the notebook output as an exported HTML file shows it (nbconvert keeps it as is)
# ---------------------------------------------------------------------------------------------------

_TALL_BODY = (
    '<div id="tall" style="height: 900px">tall page</div><button id="b">press</button>'
    '<p id="width"></p><script>document.getElementById("width").textContent = window.innerWidth;</script>'
)
_KEY_SCRIPT = """
document.addEventListener("keydown", function (e) {
  document.getElementById("b").textContent = "key " + e.key;
});
"""


def _host_page(tmp_path, output: str):
    path = tmp_path / "exported.html"
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"<div class='jp-OutputArea'>{output}</div><textarea id='cell'></textarea></body></html>",
        encoding="utf-8",
    )
    return path


@pytest.mark.browser
def test_with_scripts_the_live_frame_shows_fits_its_page_and_keeps_its_keys(browser, tmp_path):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    )
    page = Page(
        build_page(title="t", body=_TALL_BODY, scripts=[_KEY_SCRIPT]), title="t", height=300, fallback_svg=svg
    )
    tab = browser.new_page()
    try:
        tab.goto(_host_page(tmp_path, page.notebook_html()).as_uri())
        frame_element = tab.locator("iframe.gradstep-frame")
        frame_element.wait_for(state="visible", timeout=10_000)
        assert not tab.locator(".gradstep-fallback").is_visible()
        # the frame grows to its page's height (900 px of content and the button)
        tab.wait_for_function(
            "() => document.querySelector('iframe.gradstep-frame').getBoundingClientRect().height > 900",
            timeout=10_000,
        )
        height = frame_element.bounding_box()["height"]
        assert 900 < height < 1000
        frame = tab.frame_locator("iframe.gradstep-frame")
        # the page loaded once its frame was shown: it saw the real width, not a hidden frame's zero
        assert int(frame.locator("#width").text_content()) > 500
        frame.locator("#b").click()
        tab.keyboard.press("ArrowRight")
        assert frame.locator("#b").text_content() == "key ArrowRight"
        # keys typed in the notebook never reach the page, and spaces arrive
        tab.locator("#cell").click()
        tab.keyboard.type("x * y + 1")
        assert tab.locator("#cell").input_value() == "x * y + 1"
        assert frame.locator("#b").text_content() == "key ArrowRight"
    finally:
        tab.close()


@pytest.mark.browser
def test_without_scripts_the_fallback_picture_shows(browser, tmp_path):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    )
    page = Page(build_page(title="t", body=_TALL_BODY), title="t", fallback_svg=svg)
    path = _host_page(tmp_path, page.notebook_html())
    context = browser.browser.new_context(java_script_enabled=False) if browser.browser else None
    if context is None:
        pytest.skip("a persistent context cannot open a second context without scripts")
    try:
        tab = context.new_page()
        tab.goto(path.as_uri())
        assert tab.locator(".gradstep-fallback img").is_visible()
        assert not tab.locator("iframe.gradstep-frame").is_visible()
        box = tab.locator(".gradstep-fallback img").bounding_box()
        assert box["width"] > 0 and box["height"] > 0  # the picture decoded and drew
    finally:
        context.close()


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


# ---------------------------------------------------------------------------------------------------
# The training viewer's page (nn.viewer) in a notebook: the same Page, so the same output
# ---------------------------------------------------------------------------------------------------


def _small_viewer_page():
    viewer = pytest.importorskip("nn.viewer", reason="the training viewer (nn.viewer) is not in this build")
    import nn

    X, y = nn.make_moons(20, 0.1, labels=(-1, 1), rng=2)
    model = nn.MLP(2, [4, 1], activation="relu", rng=2)
    recorder = viewer.Recorder(model, X, y, loss="hinge", title="viewer in a notebook")
    history = nn.fit(
        lambda: nn.hinge([model(x) for x in X], y),
        nn.SGD(model.parameters(), lr=0.2),
        3,
        progress=False,
        record=recorder,
    )
    return history.page()


def test_the_training_viewer_page_shows_inline_with_its_picture():
    page = _small_viewer_page()
    assert isinstance(page, Page) and page.fallback_svg is not None
    bundle = page._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert 'class="gradstep-fallback"><img src="data:image/svg+xml;base64,' in bundle["text/html"]


@pytest.mark.browser
def test_the_training_viewer_runs_in_its_frame_and_its_picture_shows_without_scripts(browser, tmp_path):
    page = _small_viewer_page()
    path = _host_page(tmp_path, page.notebook_html())
    tab = browser.new_page()
    try:
        tab.goto(path.as_uri())
        tab.locator("iframe.gradstep-frame").wait_for(state="visible", timeout=20_000)
        frame = tab.locator("iframe.gradstep-frame").element_handle().content_frame()
        frame.wait_for_function("() => window.gradstep && window.gradstep.viewer", timeout=20_000)
        assert frame.evaluate("window.gradstep.viewer.count") == 3
        frame.evaluate("window.gradstep.viewer.go(2)")
        assert frame.evaluate("window.gradstep.viewer.index") == 2
    finally:
        tab.close()
    context = browser.browser.new_context(java_script_enabled=False)
    try:
        static = context.new_page()
        static.goto(path.as_uri())
        picture = static.locator(".gradstep-fallback img")
        assert picture.is_visible() and picture.bounding_box()["width"] > 100
    finally:
        context.close()
