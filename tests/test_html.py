"""The browser stepper page: self-contained, faithful to chain_rule_steps, and working in a real browser."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import nn
from autograd import Value, chain_rule_steps, topological_order, write_stepper_html
from autograd.drawing.page import stepper_html
from autograd.drawing.render import format_number
from autograd.steps import grads_before
from tests import fixtures


def lecture_neuron() -> Value:
    """The lecture neuron's output, before backward (the page runs the pass)."""
    return fixtures.lecture_neuron(label_n_and_o=False).o


def mlp_loss() -> tuple[Value, nn.MLP]:
    model = nn.MLP(2, [4, 4, 1], rng=0)
    loss = nn.squared_error([model([0.5, -1.0])], [1.0])
    return loss, model


def embedded_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', page, re.DOTALL)
    assert match is not None
    return json.loads(match.group(1))


def expected_states(root: Value, fmt=format_number) -> list[dict]:
    """For every step k (the seed is 0): the grad text of every node and the highlighted edge."""
    order = topological_order(root)
    steps = list(chain_rule_steps(root, include_seed=True))
    grads = grads_before(order, steps)
    states = []
    for step in steps:
        grads[step.child_number] = step.child_grad_after
        edge = f"e{step.node_number}_{step.child_position}" if step.kind == "edge" else None
        states.append({"grads": [f"grad {fmt(g)}" for g in grads], "edge": edge})
    return states


# ---------------------------------------------------------------------------------------------------
# The page as a file
# ---------------------------------------------------------------------------------------------------


def test_page_is_one_self_contained_file(tmp_path):
    path = write_stepper_html(lecture_neuron(), tmp_path / "neuron.html", title="tanh(w1*x1 + w2*x2 + b)")
    assert path == tmp_path / "neuron.html"
    assert os.listdir(tmp_path) == ["neuron.html"]  # written atomically: no temp file left
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # Everything inline: no external scripts, styles, images or fetches.
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", page)
    assert "<link" not in page
    assert not re.search(r"(href|src)\s*=\s*[\"']?(https?:)?//", page)
    assert "url(" not in page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # XML namespaces only
    assert "default-src 'none'" in page  # the page itself forbids any network access
    assert page.count("<svg") == 1 and "<?xml" not in page
    for button in ("reset", "prev", "play", "next"):
        assert f'id="{button}"' in page
    assert "<title>tanh(w1*x1 + w2*x2 + b)</title>" in page


def test_embedded_steps_match_chain_rule_steps():
    root = lecture_neuron()
    data = embedded_data(stepper_html(root))
    steps = list(chain_rule_steps(root, include_seed=True))
    assert len(data["steps"]) == len(steps) == 10
    for shown, step in zip(data["steps"], steps):
        assert shown["index"] == step.index
        assert (shown["node"], shown["child"], shown["position"]) == (
            step.node_number,
            step.child_number,
            step.child_position,
        )
        assert shown["rule"] == step.derivative_text
        assert shown["upstream"] == format_number(step.upstream_grad)
        assert shown["local"] == format_number(step.local_grad)
        assert shown["contribution"] == format_number(step.contribution)
        assert shown["after"] == format_number(step.child_grad_after)
    assert data["steps"][0]["edge"] is None
    assert data["steps"][1]["edge"] == f"e{steps[1].node_number}_0"
    assert [s["childName"] for s in data["steps"][1:4]] == ["x1*w1 + x2*w2 + b", "x1*w1 + x2*w2", "b"]


def test_every_step_edge_and_node_is_in_the_svg():
    root, model = mlp_loss()
    page = stepper_html(root, parameters=model)
    data = embedded_data(page)
    for step in data["steps"]:
        assert f'id="v{step["child"]}"' in page
        if step["edge"]:
            assert f'id="{step["edge"]}"' in page
            assert f'id="op{step["node"]}"' in page


def test_grads_are_left_as_they_were():
    root = lecture_neuron()
    order = topological_order(root)
    order[0].grad = 0.25  # a leaf that already holds a grad
    before = [node.grad for node in order]
    data = embedded_data(stepper_html(root))
    assert [node.grad for node in order] == before
    # ... and the page shows backward() from that state: the leaf accumulates onto 0.25.
    assert data["initial"][0] == format_number(0.25)


def test_number_format_is_used_for_every_number():
    data = embedded_data(stepper_html(lecture_neuron(), number_format="{:.2f}"))
    tanh_step = data["steps"][1]
    assert (tanh_step["upstream"], tanh_step["local"], tanh_step["contribution"]) == ("1.00", "0.50", "0.50")


def test_labels_cannot_break_out_of_the_page():
    evil = Value(1.0, "</script><script>alert(1)</script>")
    page = stepper_html(evil * 2.0, title="<b>title</b>")
    assert "<script>alert(1)" not in page
    assert "<b>title</b>" not in page and "&lt;b&gt;title&lt;/b&gt;" in page
    assert embedded_data(page)["steps"][1]["childName"] == "</script><script>alert(1)</script>"


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("old", encoding="utf-8")

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_stepper_html(lecture_neuron(), path)
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["page.html"]


def test_bad_arguments():
    with pytest.raises(TypeError, match="write_stepper_html"):
        stepper_html(1.0)
    with pytest.raises(TypeError, match="title"):
        stepper_html(lecture_neuron(), title=3)
    with pytest.raises(ValueError, match="number_format"):
        stepper_html(lecture_neuron(), number_format="no field")


def test_a_leaf_has_just_the_seed_step():
    data = embedded_data(stepper_html(Value(3.0, "x")))
    assert [s["kind"] for s in data["steps"]] == ["seed"]


# ---------------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------------

_READ_STATE = """() => {
    const grads = [];
    for (let i = 0; ; i++) {
        const box = document.getElementById("v" + i);
        if (!box) break;
        const text = Array.from(box.querySelectorAll("text")).find(t => t.textContent.startsWith("grad "));
        grads.push(text ? text.textContent : null);
    }
    return {
        step: Number(document.body.dataset.step),
        grads: grads,
        edges: Array.from(document.querySelectorAll(".active-edge")).map(e => e.id),
        explain: document.getElementById("explain").textContent,
        prevDisabled: document.getElementById("prev").disabled,
        nextDisabled: document.getElementById("next").disabled,
    };
}"""


def open_page(browser, path: Path):
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Nothing but the file itself may be requested: no network, no other files.
    page.on("request", lambda request: problems.append(f"request: {request.url}"))
    page.goto(path.resolve().as_uri())
    problems.remove(f"request: {path.resolve().as_uri()}")
    return page, problems


def check_state(page, expected: dict, k: int) -> dict:
    state = page.evaluate(_READ_STATE)
    assert state["step"] == k
    assert state["grads"] == expected["grads"], f"grads shown at step {k}"
    assert state["edges"] == ([expected["edge"]] if expected["edge"] else []), f"edge at step {k}"
    return state


@pytest.mark.browser
@pytest.mark.parametrize("graph", ["lecture neuron", "MLP 2-4-4-1 with a loss"])
def test_clicking_next_through_every_step_shows_the_recorded_grads_and_edges(browser, tmp_path, graph):
    if graph == "lecture neuron":
        root, parameters = lecture_neuron(), None
    else:
        root, parameters = mlp_loss()
    path = write_stepper_html(root, tmp_path / "page.html", title=graph, parameters=parameters)
    expected = expected_states(root)
    data = embedded_data(path.read_text(encoding="utf-8"))
    page, problems = open_page(browser, path)
    state = check_state(page, expected[0], 0)
    assert state["prevDisabled"] and not state["nextDisabled"]
    assert "Start at the output" in state["explain"]
    for k in range(1, len(expected)):
        page.click("#next")
        state = check_state(page, expected[k], k)
        shown = data["steps"][k]
        equation = f"{shown['upstream']} × {shown['local']} = {shown['contribution']}"
        assert equation in state["explain"]
        assert shown["rule"] in state["explain"]
    assert state["nextDisabled"]
    assert state["grads"][-1] == f"grad {format_number(1.0)}"
    page.close()
    assert problems == []


@pytest.mark.browser
def test_keys_prev_reset_and_play(browser, tmp_path):
    root = lecture_neuron()
    path = write_stepper_html(root, tmp_path / "page.html")
    expected = expected_states(root)
    last = len(expected) - 1
    page, problems = open_page(browser, path)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    check_state(page, expected[2], 2)
    page.keyboard.press("ArrowLeft")
    check_state(page, expected[1], 1)
    page.click("#prev")
    check_state(page, expected[0], 0)
    page.keyboard.press("End")
    check_state(page, expected[last], last)
    page.click("#reset")
    check_state(page, expected[0], 0)
    page.keyboard.press("ArrowLeft")  # nothing before the start
    check_state(page, expected[0], 0)
    page.click("#play")
    page.wait_for_function("() => Number(document.body.dataset.step) >= 2", timeout=30_000)
    page.keyboard.press(" ")  # pause
    paused_at = page.evaluate(_READ_STATE)["step"]
    page.wait_for_timeout(1500)
    check_state(page, expected[paused_at], paused_at)
    assert "Play" in page.text_content("#play")
    page.keyboard.press("Home")
    check_state(page, expected[0], 0)
    page.close()
    assert problems == []


@pytest.mark.browser
def test_play_stops_by_itself_at_the_last_step(browser, tmp_path):
    x = Value(3.0, "x")
    root = x * 2.0
    path = write_stepper_html(root, tmp_path / "page.html")
    expected = expected_states(root)  # after writing: the page shows the pass from the current grads
    page, problems = open_page(browser, path)
    page.click("#play")
    assert "Pause" in page.text_content("#play")
    page.wait_for_function("() => document.body.dataset.step === '2'", timeout=30_000)
    check_state(page, expected[2], 2)
    assert "Play" in page.text_content("#play")
    page.close()
    assert problems == []
