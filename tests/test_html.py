"""The browser stepper page (autograd/drawing/page.py): one self-contained file holding a whole training
step, faithful to training_step_steps, and readable in a real browser at the size of a real net."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

import pytest

import nn
from autograd import Value, topological_order, training_step_steps, write_stepper_html
from autograd.drawing import page as page_module
from autograd.drawing.graphviz import RenderError
from autograd.drawing.page import StepperTooLargeError, stepper_html, stepper_page
from autograd.drawing.render import format_number
from autograd.steps import AfterStep, ChainRuleStep, ForwardStep, UpdateStep
from demos import two_moons
from tests import fixtures


def lecture_neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture neuron's output before backward (the page runs the pass), and its leaves by name."""
    neuron = fixtures.lecture_neuron(label_n_and_o=False)
    leaves = {name: getattr(neuron, name) for name in ("x1", "x2", "w1", "w2", "b")}
    return neuron.o, leaves


def small_mlp() -> tuple[nn.MLP, nn.SGD, object]:
    model = nn.MLP(2, [4, 4, 1], rng=0)
    optimizer = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def loss_fn() -> Value:
        return nn.squared_error([model([0.5, -1.0])], [1.0])

    return model, optimizer, loss_fn


def batch_mlp() -> tuple[nn.MLP, nn.Adam, object]:
    """A 2-16-16-1 MLP's 4-example batch hinge loss under Adam."""
    model = nn.MLP(2, [16, 16, 1], activation="relu", rng=3)
    optimizer = nn.Adam(model.parameters(), lr=0.01)
    X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.5], [0.1, 0.9]]
    y = [1, -1, 1, -1]

    def loss_fn() -> Value:
        return nn.hinge([model(x) for x in X], y)

    return model, optimizer, loss_fn


def embedded_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', page, re.DOTALL)
    assert match is not None
    return json.loads(match.group(1))


# ---------------------------------------------------------------------------------------------------
# The page as a file
# ---------------------------------------------------------------------------------------------------


def test_page_is_one_self_contained_file(tmp_path):
    root, _ = lecture_neuron()
    path = write_stepper_html(root, tmp_path / "neuron.html", title="tanh(w1*x1 + w2*x2 + b)")
    assert path == tmp_path / "neuron.html"
    assert os.listdir(tmp_path) == ["neuron.html"]  # written atomically: no temp file left
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", page)
    assert "<link" not in page and "url(" not in page
    assert not re.search(r"(href|src)\s*=\s*[\"']?(https?:)?//", page)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # XML namespaces only
    assert "default-src 'none'" in page  # the page itself forbids any network access
    assert (
        len(re.findall(r"<svg\s[^>]*xmlns=", page)) == 1 and "<?xml" not in page
    )  # no neurons here: the scalar drawing only
    for button in ("reset", "prev", "play", "next", "fit", "zoom-in", "zoom-out"):
        assert f'id="{button}"' in page
    assert "<title>tanh(w1*x1 + w2*x2 + b)</title>" in page


def test_embedded_steps_are_the_training_step_in_order_with_every_number_formatted():
    model, optimizer, loss_fn = small_mlp()
    data = embedded_data(stepper_html(loss_fn, optimizer, parameters=model))
    _, fresh_optimizer, fresh_loss_fn = small_mlp()  # the same seed: the same model and records
    records = list(training_step_steps(fresh_loss_fn, fresh_optimizer, commit=False))
    assert [s["phase"] for s in data["steps"]] == [r.phase for r in records]
    for shown, record in zip(data["steps"], records):
        rows = {label: text for label, text in shown["rows"]}
        if isinstance(record, ForwardStep):
            assert shown["changes"] == [[record.node_number, "d", "?", format_number(record.value)]]
            assert record.equation(format_number) in rows[""]
        elif isinstance(record, ChainRuleStep) and record.kind == "edge":
            numbers = [
                format_number(x) for x in (record.upstream_grad, record.local_grad, record.contribution)
            ]
            assert rows["chain"] == f"upstream × local = {numbers[0]} × {numbers[1]} = {numbers[2]}"
            assert rows["rule"] == record.derivative_text
            assert shown["active"] == [
                f"e{record.node_number}_{record.child_position}",
                f"v{record.node_number}",
                f"v{record.child_number}",
            ]
        elif isinstance(record, UpdateStep):
            update = record.update
            assert rows["velocity"].endswith(
                format_number(dict((q[0], q[2]) for q in update.quantities)["velocity"])
            )
            assert rows["new"].endswith(
                f"{format_number(update.data_before)} → {format_number(update.data_after)}"
            )
        elif isinstance(record, AfterStep):
            assert format_number(record.loss_after) in shown["title"]


def test_every_active_and_marked_id_is_in_its_drawing():
    model, optimizer, loss_fn = small_mlp()
    page = stepper_html(loss_fn, optimizer, parameters=model, view="scalar")
    data = embedded_data(page)
    assert data["views"] == {"default": "scalar", "scalar": True, "neuron": True}
    for step in data["steps"]:
        for element_id in step["active"] + [mark[0] for mark in step["marks"]]:
            assert f'id="{element_id}"' in page, element_id
    for step in data["neuronSteps"]:
        for element_id in step["active"] + [mark[0] for mark in step["marks"]]:
            assert f'id="{element_id}"' in page, element_id


def test_neuron_steps_cover_the_scalar_steps_in_order_without_gaps():
    model, optimizer, loss_fn = batch_mlp()
    data = embedded_data(stepper_html(loss_fn, optimizer, parameters=model))
    groups = data["neuronSteps"]
    assert groups[0]["first"] == 0 and groups[-1]["last"] == len(data["steps"]) - 1
    for before, after in itertools.pairwise(groups):
        assert after["first"] == before["last"] + 1
    for group in groups:
        assert {data["steps"][k]["phase"] for k in range(group["first"], group["last"] + 1)} == {
            group["phase"]
        }
    # one forward, backward and update step per neuron (the update shared by the batch's evaluations)
    updates = [g for g in groups if g["phase"] == "update"]
    assert len(updates) == 16 + 16 + 1
    assert [g["phase"] for g in groups].count("after") == 1


def test_made_after_backward_the_page_starts_fresh_and_the_graph_is_left_as_it_was():
    root, leaves = lecture_neuron()
    root.backward()
    root.backward()  # leaves hold twice the gradient now
    order = topological_order(root)
    before = [(node.data, node.grad) for node in order]
    data = embedded_data(stepper_html(root))
    assert [(node.data, node.grad) for node in order] == before
    assert set(data["initial"]["g"]) == {format_number(0.0)}
    assert "fresh pass" in data["startNote"]
    last_grad = {}
    for step in data["steps"]:
        for node, field, _, after in step["changes"]:
            if field == "g":
                last_grad[node] = after
    number = {node: i for i, node in enumerate(order)}
    assert last_grad[number[leaves["x1"]]] == "-1.5000" and last_grad[number[leaves["w1"]]] == "1.0000"


def test_accumulating_is_explicit_and_said_at_step_0():
    root, leaves = lecture_neuron()
    root.backward()
    data = embedded_data(stepper_html(root, accumulate=True))
    number = {node: i for i, node in enumerate(topological_order(root))}
    assert data["initial"]["g"][number[leaves["x1"]]] == "-1.5000"
    assert data["startNote"].startswith("Accumulating: the leaves keep the grads they already held")


def test_parameters_and_optimizer_state_are_left_as_they_were():
    model, optimizer, loss_fn = small_mlp()
    optimizer.step()  # some momentum to keep
    state = optimizer.state_dict()
    values = [(p.data, p.grad) for p in model.parameters()]
    stepper_html(loss_fn, optimizer, parameters=model)
    assert optimizer.state_dict() == state
    assert [(p.data, p.grad) for p in model.parameters()] == values


def test_the_after_step_shows_the_new_forward_values_of_every_node():
    model, optimizer, loss_fn = small_mlp()
    data = embedded_data(stepper_html(loss_fn, optimizer, parameters=model))
    after = data["steps"][-1]
    assert after["phase"] == "after"
    optimizer.zero_grad()
    loss_fn().backward()
    optimizer.step()
    new = topological_order(loss_fn())
    shown = {node: text for node, field, _, text in after["changes"]}
    assert shown == {i: format_number(v.data) for i, v in enumerate(new) if v.children}


def test_number_format_is_used_for_every_number():
    root, _ = lecture_neuron()
    data = embedded_data(stepper_html(root, number_format="{:.2f}"))
    tanh_edge = next(s for s in data["steps"] if s["phase"] == "backward")
    assert dict(tanh_edge["rows"])["chain"] == "upstream × local = 1.00 × 0.50 = 0.50"


def test_labels_cannot_break_out_of_the_page():
    evil = Value(1.0, "</script><script>alert(1)</script>")
    page = stepper_html(evil * 2.0, title="<b>title</b>")
    assert "<script>alert(1)" not in page
    assert "<b>title</b>" not in page and "&lt;b&gt;title&lt;/b&gt;" in page
    assert "</script><script>alert(1)</script>" in embedded_data(page)["names"]


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("old", encoding="utf-8")

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_stepper_html(lecture_neuron()[0], path)
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["page.html"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"loss": 1.0}, TypeError, "loss must be a Value or a function returning one, got float"),
        ({"loss": lambda: 2.0}, TypeError, "the loss function must return a Value, got float"),
        ({"title": 3}, TypeError, "title must be a str, got int"),
        ({"number_format": "no field"}, ValueError, "number_format"),
        ({"view": "cells"}, ValueError, "view must be 'auto', 'neuron' or 'scalar', got 'cells'"),
        ({"max_nodes": 0}, ValueError, "max_nodes must be a positive int, got 0"),
        ({"max_steps": True}, ValueError, "max_steps must be a positive int, got True"),
        ({"view": "neuron"}, ValueError, "view='neuron' needs a graph built from nn modules"),
        ({"optimizer": "sgd"}, TypeError, "pass the loss as a function that builds it"),
    ],
)
def test_bad_arguments_are_named(arguments, error, message):
    root, leaves = lecture_neuron()
    arguments = dict(arguments)
    loss = arguments.pop("loss", root)
    if arguments.get("optimizer") == "sgd":
        arguments["optimizer"] = nn.SGD(list(leaves.values()), lr=0.1)
    with pytest.raises(error, match=re.escape(message)):
        stepper_html(loss, **arguments)


def test_a_leaf_has_just_the_seed_step():
    data = embedded_data(stepper_html(Value(3.0, "x")))
    assert [s["phase"] for s in data["steps"]] == ["seed"]


# ---------------------------------------------------------------------------------------------------
# Size: a budget with a message that says what to do, progress for long builds, no Graphviz trap
# ---------------------------------------------------------------------------------------------------


def test_over_the_budget_a_clear_message_comes_before_any_work(monkeypatch):
    model, optimizer, loss_fn = batch_mlp()
    monkeypatch.setattr(page_module, "training_step_steps", lambda *a, **k: pytest.fail("recorded anyway"))
    with pytest.raises(StepperTooLargeError) as caught:
        stepper_html(loss_fn, optimizer, parameters=model, max_nodes=500)
    message = str(caught.value)
    values = len(topological_order(loss_fn()))
    assert f"{values:,} values" in message and "budget of 500 values" in message
    for advice in ("one example instead of a batch", "max_nodes=", "neuron view"):
        assert advice in message
    with pytest.raises(StepperTooLargeError, match=r"budget of .* and 100 steps"):
        stepper_html(loss_fn, optimizer, parameters=model, max_steps=100)


def test_a_big_graph_without_neurons_is_refused_with_advice():
    x = Value(0.5, "x")
    total = x
    for _ in range(page_module.SCALAR_DRAWING_MAX_NODES):
        total = total * 1.0001 + x
    with pytest.raises(
        StepperTooLargeError, match=r"the scalar view draws value by value\. Step one example"
    ):
        stepper_html(total)


def test_a_big_net_opens_in_the_neuron_view_without_the_scalar_drawing(monkeypatch):
    monkeypatch.setattr(page_module, "SCALAR_DRAWING_MAX_NODES", 30)
    monkeypatch.setattr(page_module, "draw", lambda *a, **k: pytest.fail("drew anyway"))
    model, optimizer, loss_fn = small_mlp()
    assert len(topological_order(loss_fn())) > 30
    data = embedded_data(stepper_html(loss_fn, optimizer, parameters=model))
    assert data["views"] == {"default": "neuron", "scalar": False, "neuron": True}
    assert "No scalar view" in data["scalarNote"] and "one example instead of a batch" in data["scalarNote"]
    with pytest.raises(StepperTooLargeError, match="use view='neuron'"):
        stepper_html(loss_fn, optimizer, parameters=model, view="scalar")


def test_a_render_error_is_reported_clearly(monkeypatch):
    def refuse(*args, **kwargs):
        raise RenderError("layout too large for the bundled Graphviz")

    monkeypatch.setattr(page_module, "draw", refuse)
    with pytest.raises(RenderError, match="the scalar drawing could not be made: layout too large"):
        stepper_html(lecture_neuron()[0])
    model, optimizer, loss_fn = small_mlp()  # with neurons, the page still works in the neuron view
    data = embedded_data(stepper_html(loss_fn, optimizer, parameters=model))
    assert data["views"]["default"] == "neuron" and not data["views"]["scalar"]
    assert "layout too large" in data["scalarNote"]


def test_progress_is_reported_for_long_builds():
    lines: list[str] = []
    model, optimizer, loss_fn = small_mlp()
    stepper_page(loss_fn, optimizer, parameters=model, progress=lines.append)
    assert lines[0].startswith("stepper: ") and "recording the training step" in lines[0]
    assert any("drawing" in line for line in lines) and lines[-1].startswith("stepper: done in")


def test_the_page_object_saves_and_shows_in_a_notebook(tmp_path):
    page = stepper_page(lecture_neuron()[0])
    assert page.save(tmp_path / "p.html").read_text(encoding="utf-8") == page.html()
    output = page._repr_html_()
    assert output.startswith('<div class="gradstep-output"><iframe ')
    # the drawing the page opens on is the picture shown where scripts cannot run
    assert 'class="gradstep-fallback"><img src="data:image/svg+xml;base64,' in output
    assert page._repr_mimebundle_()["text/html"] == output


# ---------------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------------


def open_page(browser, path: Path, fragment: str = ""):
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Nothing but the file itself may be requested: no network, no other files.
    page.on("request", lambda request: problems.append(f"request: {request.url}"))
    uri = path.resolve().as_uri()
    page.goto(uri + fragment)
    problems.remove(f"request: {uri}")  # the file itself (a fragment is not requested)
    return page, problems


# For step k: is every active element inside the visible graph area, and how tall (px) is the smallest
# text of the active value boxes?
_CHECK_STEP = """(k) => {
    const stepper = window.gradstep.stepper;
    stepper.go(k);
    const area = document.getElementById("graph").getBoundingClientRect();
    const active = stepper.active();
    const outside = [];
    let smallestText = Infinity;
    for (const element of active) {
        const box = element.getBoundingClientRect();
        if (box.width + box.height === 0 || box.left < area.left - 0.5 || box.right > area.right + 0.5 ||
            box.top < area.top - 0.5 || box.bottom > area.bottom + 0.5) outside.push(element.id);
        if (/^(v|nb)\\d+$/.test(element.id)) {
            for (const text of element.querySelectorAll("text")) {
                smallestText = Math.min(smallestText, text.getBoundingClientRect().height);
            }
        }
    }
    return {index: stepper.index, phase: stepper.phase(k), active: active.length, outside, smallestText};
}"""


def walk_every_step(page) -> list[str]:
    count = page.evaluate("window.gradstep.stepper.count")
    phases = []
    for k in range(count):
        state = page.evaluate(_CHECK_STEP, k)
        assert state["index"] == k
        assert state["active"] >= 1, f"step {k} highlights nothing"
        assert state["outside"] == [], f"step {k}: {state['outside']} outside the visible graph area"
        assert state["smallestText"] >= 9, f"step {k}: active text only {state['smallestText']:.1f} px tall"
        phases.append(state["phase"])
    return phases


def moons_example_page(folder: Path) -> Path:
    X, y, _ = two_moons.load_moons()
    two_moons.write_graph_files(X, y, folder)
    return folder / "example_stepper.html"


@pytest.mark.browser
def test_moons_example_page_keeps_every_active_step_in_view_and_legible(browser, tmp_path):
    page, problems = open_page(browser, moons_example_page(tmp_path))
    assert page.evaluate("window.gradstep.stepper.view") == "neuron"
    phases = walk_every_step(page)
    assert phases[0] == "forward" and phases[-1] == "update"
    assert set(phases) == {"forward", "seed", "backward", "update"}
    assert sorted(phases, key=["forward", "seed", "backward", "update"].index) == phases  # in phase order
    assert page.evaluate("window.gradstep.stepper.stepKind(window.gradstep.stepper.count - 1)") == "after"
    page.close()
    assert problems == []


@pytest.mark.browser
def test_batch_loss_page_of_a_2_16_16_1_mlp_keeps_every_active_step_in_view(browser, tmp_path):
    model, optimizer, loss_fn = batch_mlp()
    path = write_stepper_html(loss_fn, tmp_path / "batch.html", optimizer, parameters=model)
    page, problems = open_page(browser, path)
    walk_every_step(page)
    page.close()
    assert problems == []


@pytest.mark.browser
def test_lecture_neuron_made_after_backward_ends_at_the_fresh_gradients(browser, tmp_path):
    root, _ = lecture_neuron()
    root.backward()
    path = write_stepper_html(root, tmp_path / "neuron.html")
    page, problems = open_page(browser, path)
    assert "fresh pass" in page.text_content("#note")
    walk_every_step(page)  # small graphs are legible too
    page.keyboard.press("End")
    grads = page.evaluate(
        """() => Object.fromEntries(["x1", "w1", "x2", "b"].map(name => {
            const box = Array.from(document.querySelectorAll("#scalar-view g.node"))
                .find(g => g.querySelector("text") && g.querySelector("text").textContent === name);
            const texts = Array.from(box.querySelectorAll("text"));
            return [name, texts.find(t => t.textContent.startsWith("grad ")).textContent];
        }))"""
    )
    assert grads == {"x1": "grad -1.5000", "w1": "grad 1.0000", "x2": "grad 0.5000", "b": "grad 0.5000"}
    assert "every grad is now what a fresh backward() gives" in page.text_content("#note")
    page.close()
    assert problems == []


@pytest.mark.browser
def test_buttons_keys_deep_links_and_views(browser, tmp_path):
    model, optimizer, loss_fn = small_mlp()
    path = write_stepper_html(loss_fn, tmp_path / "mlp.html", optimizer, parameters=model, view="scalar")
    page, problems = open_page(browser, path, "#step=12")
    stepper = "window.gradstep.stepper"
    assert page.evaluate(f"{stepper}.index") == 12  # deep link
    count = page.evaluate(f"{stepper}.count")
    page.click("#next")
    assert page.evaluate(f"{stepper}.index") == 13
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(f"{stepper}.index") == 11
    page.keyboard.press("End")
    assert page.evaluate(f"{stepper}.index") == count - 1 and page.is_disabled("#next")
    page.click("#reset")
    assert page.evaluate(f"{stepper}.index") == 0 and page.is_disabled("#prev")
    assert page.evaluate(f"{stepper}.phase(0)") == "forward"
    page.click("#play")
    page.wait_for_function(f"() => {stepper}.index >= 2", timeout=30_000)
    page.keyboard.press(" ")  # pause
    paused = page.evaluate(f"{stepper}.index")
    page.wait_for_timeout(1000)
    assert page.evaluate(f"{stepper}.index") == paused
    # Fit shows the whole drawing; the wheel zooms in.
    page.click("#fit")
    whole = page.evaluate("document.querySelector('#scalar-view svg').getAttribute('viewBox')")
    page.mouse.move(500, 500)
    page.mouse.wheel(0, -400)
    page.wait_for_function(
        f"() => document.querySelector('#scalar-view svg').getAttribute('viewBox') !== {json.dumps(whole)}"
    )
    # The neuron view: the same place in the timeline, one step per neuron; a step lists its scalar steps.
    page.evaluate(f"{stepper}.go({stepper}.count - 1)")
    page.click("#view-neuron")
    assert page.evaluate(f"{stepper}.view") == "neuron"
    assert page.evaluate(f"{stepper}.index") == page.evaluate(f"{stepper}.count") - 1
    backward = page.evaluate(
        f"""() => {{ for (let k = 0; k < {stepper}.count; k++) {{
            {stepper}.go(k);
            if ({stepper}.phase(k) === "backward" && !document.getElementById("expand").hidden) return k;
        }} return -1; }}"""
    )
    assert backward > 0
    page.click("#expand summary")
    # the list is filled on the details element's toggle event, which fires asynchronously
    page.wait_for_function("() => document.querySelectorAll('#substeps li').length > 1")
    items = page.locator("#substeps li")
    assert items.count() > 1
    first_scalar = page.evaluate("Number(document.getElementById('substeps').start)")
    items.first.click()
    assert page.evaluate(f"{stepper}.view") == "scalar"
    assert page.evaluate(f"{stepper}.index") == first_scalar
    page.close()
    assert problems == []


@pytest.mark.browser
def test_an_accumulating_page_says_so_at_step_0(browser, tmp_path):
    root, _ = lecture_neuron()
    root.backward()
    page, problems = open_page(browser, write_stepper_html(root, tmp_path / "acc.html", accumulate=True))
    assert page.text_content("#note").startswith("Accumulating: the leaves keep the grads they already held")
    page.keyboard.press("End")
    assert "x1" in page.text_content("#scalar-view")
    page.close()
    assert problems == []


def test_the_readme_stepper_example_runs_and_writes_a_whole_training_step(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    block = next(b for b in blocks if "write_stepper_html(loss_fn" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    data = embedded_data((tmp_path / "training_step.html").read_text(encoding="utf-8"))
    assert {s["phase"] for s in data["steps"]} == {"forward", "seed", "backward", "update", "after"}
    assert data["views"]["default"] == "neuron"  # 2-16-16-1 on one example: about 400 values
