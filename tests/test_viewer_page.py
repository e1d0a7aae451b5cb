"""The training viewer page (nn/viewer_page.py + viewer.js): self-contained, and right in a real browser.

The browser tests open the moons demo's training.html from disk in Debian's Chromium (Playwright),
play it, scrub it, deep-link to a random step and check the numbers shown against the recorded
Python values, pick a point and follow its stepper link; with no console error and no request.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

import nn
from demos import two_moons
from nn.viewer import _fmt


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="viewer-data">(.*?)</script>', page, re.DOTALL)
    assert match is not None
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    """The moons demo's recorded run and its training.html (with the default stepper pages)."""
    folder = tmp_path_factory.mktemp("moons")
    _, history, _, _ = two_moons.train(progress="none")
    path = two_moons.write_training_page(history, folder)
    return history, path


def small_run(steps: int = 4):
    X, y = nn.make_moons(30, 0.1, labels=(-1, 1), rng=2)
    model = nn.MLP(2, [4, 3, 1], activation="relu", rng=2)
    recorder = nn.Recorder(model, X, y, loss="hinge", title="a <small> & 'quoted' run")
    history = nn.fit(
        lambda: nn.hinge([model(x) for x in X], y),
        nn.SGD(model.parameters(), lr=0.2),
        steps,
        progress=False,
        record=recorder,
    )
    return history


# ---------------------------------------------------------------------------------------------------
# The page as a file
# ---------------------------------------------------------------------------------------------------


def test_page_is_one_self_contained_file_within_its_size_budget(demo_page):
    history, path = demo_page
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|img|iframe|link)[^>]*\s(src|href)=", page)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in page
    assert path.stat().st_size <= 5_000_000  # the documented budget for 100 steps of the moons demo
    data = embedded(page)
    assert data["count"] == 100 and data["steps"] == list(range(100))
    assert data["loss"] == [f"{loss:.6g}" for loss in history.losses]
    assert all(uri.startswith("data:image/png;base64,") for uri in data["surface"] + data["sprite"])
    steppers = sorted((path.parent / "training_steppers").glob("*.html"))
    assert len(steppers) == 4 and sorted(data["steppers"].values()) == [
        f"training_steppers/{p.name}" for p in steppers
    ]


def test_page_escapes_the_title_and_shows_every_column():
    history = small_run()
    page = history.run.html(pickable=2)
    assert "<title>a &lt;small&gt; &amp; &#x27;quoted&#x27; run</title>" in page
    for column in ("value", "grad", "update"):
        assert f"<th>{column}</th>" in page
    data = embedded(page)
    assert len(data["picks"]) == 2 and data["test"] is None
    frame = history.run.frames[3]
    assert data["table"][3][0].split(" ") == [_fmt(v) for v in frame.values]
    assert data["table"][3][1].split(" ") == [_fmt(g) for g in frame.grads]
    assert data["tableSigns"][3][1] == "".join("+" if g > 0 else "-" if g < 0 else "0" for g in frame.grads)


def test_page_object_shows_in_a_notebook_as_a_sandboxed_frame(tmp_path):
    history = small_run(2)
    page = history.page(pickable=1)
    assert 'sandbox="allow-scripts"' in page._repr_html_()
    bundle = history._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    # the picture for viewers that strip scripts travels in the same HTML output (autograd.drawing.pages)
    assert 'class="gradstep-fallback"><img src="data:image/svg+xml;base64,' in bundle["text/html"]
    svg = page.fallback_svg
    assert svg is not None
    assert svg.startswith("<svg") and "data:image/png;base64," in svg and svg.count("<circle") == 30
    assert f"step 1, loss {history.losses[1]:.6g}" in svg
    assert page.save(tmp_path / "p.html").read_text(encoding="utf-8") == page.html()


# ---------------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------------

_STATE = """() => ({
    index: window.gradstep.viewer.index,
    count: window.gradstep.viewer.count,
    step: document.getElementById("step-now").textContent,
    loss: document.getElementById("loss-now").textContent,
    train: document.getElementById("train-acc-now").textContent,
    test: document.getElementById("test-acc-now").textContent,
    surface: document.getElementById("surface-image").getAttribute("href"),
    scrub: document.getElementById("scrub").value,
    cells: Array.from(document.querySelectorAll("#optimiser tbody tr:first-child td"))
        .map((td) => td.textContent),
})"""


def open_page(browser, path: Path, fragment: str = ""):
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    problems: list[str] = []
    allowed = {path.resolve().as_uri()}
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "request",
        lambda request: None if request.url.split("#")[0] in allowed else problems.append(request.url),
    )
    page.goto(path.resolve().as_uri() + fragment)
    return page, problems, allowed


def expected(history, index: int) -> dict:
    run = history.run
    frame = run.frames[index]
    return {
        "step": str(frame.step),
        "loss": f"{frame.loss:.6g}",
        "train": f"{100 * run.train_accuracy[frame.step]:.1f}%",
        "test": f"{100 * run.test_accuracy[frame.step]:.1f}%",
    }


@pytest.mark.browser
def test_play_scrub_and_a_random_step_show_the_recorded_numbers(browser, demo_page):
    history, path = demo_page
    page, problems, _ = open_page(browser, path)
    state = page.evaluate(_STATE)
    assert state["index"] == 0 and state["count"] == 100
    assert {key: state[key] for key in ("step", "loss", "train", "test")} == expected(history, 0)
    assert state["loss"] == "0.895844" and state["train"] == "50.0%"  # micrograd's numbers at step 0
    first_surface = state["surface"]
    page.click("#play")
    page.wait_for_function("() => window.gradstep.viewer.index >= 3", timeout=30_000)
    page.click("#play")  # pause
    paused = page.evaluate(_STATE)
    page.wait_for_timeout(600)
    assert page.evaluate(_STATE)["index"] == paused["index"]
    assert paused["surface"] != first_surface
    assert {key: paused[key] for key in ("step", "loss", "train", "test")} == expected(
        history, paused["index"]
    )
    page.locator("#scrub").fill("99")  # scrub to the last recorded step
    last = page.evaluate(_STATE)
    assert last["index"] == 99 and last["loss"] == f"{history.losses[99]:.6g}" == "0.0109784"
    assert last["train"] == "100.0%"
    assert last["cells"][0] == _fmt(history.run.frames[99].values[0])
    assert page.is_disabled("#forward")
    # The table fills in the rows that scroll into view, with the values of the step shown.
    page.evaluate(
        "() => { const box = document.querySelector('.table-box'); box.scrollTop = box.scrollHeight; }"
    )
    page.wait_for_timeout(200)
    last_row = page.evaluate(
        "() => Array.from(document.querySelectorAll('#optimiser tbody tr:last-child td'))"
        ".map((td) => td.textContent)"
    )
    frame = history.run.frames[99]
    assert last_row[:2] == [_fmt(frame.values[-1]), _fmt(frame.grads[-1])]
    k = random.Random(13).randrange(1, 99)
    page.evaluate(f"() => {{ window.location.hash = 'step={k}'; }}")
    page.wait_for_function(f"() => window.gradstep.viewer.index === {k}")
    shown = page.evaluate(_STATE)
    assert {key: shown[key] for key in ("step", "loss", "train", "test")} == expected(history, k)
    assert float(shown["loss"]) == pytest.approx(history.losses[k], rel=1e-5)
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(_STATE)["index"] == k - 1
    page.keyboard.press("Home")
    assert page.evaluate(_STATE)["index"] == 0
    assert (
        page.evaluate("() => parseFloat(getComputedStyle(document.getElementById('loss-now')).fontSize)")
        >= 20
    )
    page.close()
    assert problems == []


@pytest.mark.browser
def test_a_deep_link_opens_that_step(browser, demo_page):
    history, path = demo_page
    page, problems, _ = open_page(browser, path, "#step=42")
    state = page.evaluate(_STATE)
    assert state["index"] == 42 and state["scrub"] == "42"
    assert {key: state[key] for key in ("step", "loss", "train", "test")} == expected(history, 42)
    page.close()
    assert problems == []


@pytest.mark.browser
def test_picking_a_point_shows_its_loss_graph_and_links_to_its_stepper(browser, demo_page):
    history, path = demo_page
    run = history.run
    data = embedded(path.read_text(encoding="utf-8"))
    link_key = sorted(data["steppers"])[0]
    example, step = (int(part) for part in link_key.split(":"))
    page, problems, allowed = open_page(browser, path, f"#step={step}")
    page.locator(f'#surface circle.pickable[data-example="{example}"]').dispatch_event("click")
    assert page.evaluate("() => window.gradstep.viewer.picked") == example
    assert f"example {example}:" in page.text_content("#example-text")
    graph = run.example_graph(example, step)
    shown = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-detail]'))"
        ".sort((a, b) => a.dataset.detail - b.dataset.detail).map((e) => e.textContent)"
    )
    values = [v for pair in graph["inputs"] for v in pair]
    values += [v for layer in graph["neurons"] for pair in layer for v in pair]
    values += [v for _, d, g in graph["chain"] for v in (d, g)]
    assert shown == [("∂ " if k % 2 and k < 2 * 35 else "") + _fmt(v) for k, v in enumerate(values)]
    assert page.is_visible(".tile .marker")
    # Another step of the same example has no page: the panel lists the pages there are.
    page.keyboard.press("ArrowRight")
    assert page.locator("#open-stepper").count() == 0 and page.locator(".step-link").count() == 2
    page.keyboard.press("ArrowLeft")
    href = page.get_attribute("#open-stepper", "href")
    target = (path.parent / href).resolve()
    assert target.is_file()
    allowed.add(target.as_uri())
    with page.expect_navigation():
        page.click("#open-stepper")
    assert page.url.split("#")[0] == target.as_uri()
    assert f"Example {example}" in page.title() and f"training step {step}" in page.title()
    page.wait_for_selector("#next")
    if not page.evaluate("() => Boolean(window.gradstep && window.gradstep.stepper)"):
        page.close()  # the backward-only stepper (before the whole-training-step stepper is merged)
        assert problems == []
        return
    # The whole training step of that example: forward, seed, backward, then the optimiser's update.
    phases = page.evaluate(
        "() => { const s = window.gradstep.stepper;"
        " return Array.from({length: s.count}, (_, n) => s.phase(n)); }"
    )
    assert phases[0] == "forward" and "backward" in phases and phases[-1] in ("update", "after")
    assert "update" in phases
    page.close()
    assert problems == []
