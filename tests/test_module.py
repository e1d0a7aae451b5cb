"""nn.module: Neuron, Layer, MLP, parameter names, initialisation, explicit weights, checkpoints."""

from __future__ import annotations

import json
import math
import os
import random
import re
import stat
import statistics
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd.files
import nn
from autograd import Value, topological_order
from nn.module import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_MAX_DEPTH,
    CHECKPOINT_SIZE_SLACK,
    CHECKPOINT_VERSION,
    INITS,
)
from tests.fixtures import LECTURE_NEURON_INPUTS

# Trask's 3-4-1 XOR network (docs/reference-numbers.md), written as X @ W: W0 is inputs x hidden.
TRASK_W0 = [
    [-0.16595599, 0.44064899, -0.99977125, -0.39533485],
    [-0.70648822, -0.81532281, -0.62747958, -0.30887855],
    [-0.20646505, 0.07763347, -0.16161097, 0.370439],
]
TRASK_W1 = [-0.5910955, 0.75623487, -0.94522481, 0.34093502]


def transpose(matrix):
    return [list(row) for row in zip(*matrix)]


# ---- names, labels, structure ------------------------------------------------------------------


def test_named_parameters_have_stable_readable_names_that_are_also_labels():
    model = nn.MLP(2, [3, 1], rng=0)
    names = [name for name, _ in model.named_parameters()]
    expected = []
    for j in range(3):
        expected += [f"layers.0.neurons.{j}.w.0", f"layers.0.neurons.{j}.w.1", f"layers.0.neurons.{j}.b"]
    expected += [f"layers.1.neurons.0.w.{i}" for i in range(3)] + ["layers.1.neurons.0.b"]
    assert names == expected
    assert [p.label for p in model.parameters()] == expected
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert model.parameters() == model.parameters()  # same objects, same order, every call


def test_micrograd_demo_net_has_337_parameters():
    assert len(nn.MLP(2, [16, 16, 1], activation="relu", rng=0).parameters()) == 337


def test_neuron_and_layer_names_standalone():
    neuron = nn.Neuron(2, rng=0)
    assert [name for name, _ in neuron.named_parameters()] == ["w.0", "w.1", "b"]
    layer = nn.Layer(2, 2, bias=False, rng=0)
    assert [p.label for p in layer.parameters()] == [
        "neurons.0.w.0",
        "neurons.0.w.1",
        "neurons.1.w.0",
        "neurons.1.w.1",
    ]


def test_lecture_neuron_matches_published_numbers():
    numbers = LECTURE_NEURON_INPUTS
    neuron = nn.Neuron(2, "tanh")
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = numbers["w1"], numbers["w2"], numbers["b"]
    x1, x2 = Value(numbers["x1"], "x1"), Value(numbers["x2"], "x2")
    out = neuron([x1, x2])
    out.backward()
    assert out.data == pytest.approx(0.7071067811865476, abs=1e-12)
    assert (x1.grad, neuron.w[0].grad, x2.grad, neuron.w[1].grad) == pytest.approx(
        (-1.5, 1.0, 0.5, 0.0), abs=1e-12
    )


def test_a_neuron_is_one_dot_node_plus_one_activation_node():
    neuron = nn.Neuron(3, "sigmoid", rng=0)
    out = neuron([1.0, 2.0, 3.0])
    assert out.op == "sigmoid"
    (pre_activation,) = out.children
    assert pre_activation.op == "dot"
    assert pre_activation.children == (*neuron.w, neuron.b)  # inputs are plain floats: not children
    assert len(topological_order(out)) == 1 + 1 + 4


def test_linear_neuron_returns_the_dot_node_and_no_bias_means_no_b():
    neuron = nn.Neuron(2, "linear", bias=False, rng=0)
    assert neuron.b is None
    out = neuron([Value(1.0), 2.0])
    assert out.op == "dot"
    assert out.data == pytest.approx(neuron.w[0].data + 2.0 * neuron.w[1].data)


@pytest.mark.parametrize(
    ("activation", "function"),
    [
        ("tanh", math.tanh),
        ("relu", lambda z: max(0.0, z)),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_activations(activation, function):
    for z in (-1.3, 0.4):
        neuron = nn.Neuron(1, activation, bias=False, init="zeros")
        neuron.w[0].data = 1.0
        assert neuron([z]).data == pytest.approx(function(z), abs=1e-15)


def test_mlp_output_is_a_value_for_one_output_and_a_list_for_several():
    assert isinstance(nn.MLP(2, [3, 1], rng=0)([1.0, 2.0]), Value)
    outputs = nn.MLP(2, [3, 4], rng=0)([1, 2])  # ints are fine
    assert isinstance(outputs, list) and len(outputs) == 4 and all(isinstance(o, Value) for o in outputs)
    layer_out = nn.Layer(2, 1, rng=0)([1.0, 2.0])
    assert isinstance(layer_out, Value)


def test_mlp_hidden_and_output_activations():
    model = nn.MLP(2, [3, 2], activation="relu", output_activation="sigmoid", rng=0)
    outputs = model([0.5, -0.5])
    assert all(o.op == "sigmoid" for o in outputs)
    hidden = outputs[0].children[0].children[3:6]  # the dot's children: 3 weights, then 3 inputs
    assert [h.op for h in hidden] == ["relu"] * 3
    assert nn.MLP(2, [1], rng=0)([1.0, 1.0]).op == "dot"  # default output: linear


def test_inputs_may_be_values_and_gradients_reach_them():
    model = nn.MLP(2, [4, 1], rng=0)
    x = [Value(0.3, "x0"), Value(-0.7, "x1")]
    model(x).backward()
    assert any(v.grad != 0.0 for v in x)


@pytest.mark.parametrize(
    ("bad_input", "error", "message"),
    [
        ([1.0], ValueError, "expected 2 inputs, got 1"),
        ([1.0, 2.0, 3.0], ValueError, "expected 2 inputs, got 3"),
        ([1.0, "2"], TypeError, "input 1"),
        ([True, 1.0], TypeError, "input 0"),
        ([None, 1.0], TypeError, "input 0"),
        ([float("nan"), 1.0], ValueError, "input 0 must be finite"),
        (1.0, TypeError, "expected a list of 2"),
        ("ab", TypeError, "expected a list of 2"),
        (Value(1.0), TypeError, "expected a list of 2"),
    ],
)
def test_bad_inputs_get_clear_errors(bad_input, error, message):
    with pytest.raises(error, match=message):
        nn.MLP(2, [3, 1], rng=0)(bad_input)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_inputs"):
        nn.MLP(0, [1])
    with pytest.raises(ValueError, match="layer size"):
        nn.MLP(2, [3, 0])
    with pytest.raises(ValueError, match="layer_sizes"):
        nn.MLP(2, [])
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        nn.MLP(2, [1], activation="softmax")
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nn.MLP(2, [1], init="glorot")
    with pytest.raises(ValueError, match="unknown init"):
        nn.MLP(2, [1], init=[[0.1, 0.2]])  # explicit weights go through MLP.from_weights
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Neuron(2, activation=["relu"])
    with pytest.raises(ValueError, match="bias must be a bool or a list of 2 bools"):
        nn.MLP(2, [3, 1], bias=[True])
    with pytest.raises(TypeError, match="rng must be an int seed"):
        nn.MLP(2, [1], rng="seed")


def test_bias_per_layer():
    model = nn.MLP(3, [4, 1], activation="sigmoid", bias=[False, True], rng=0)
    assert [n.b is None for n in model.layers[0].neurons] == [True] * 4
    assert model.layers[1].neurons[0].b is not None
    assert len(model.parameters()) == 3 * 4 + 4 + 1
    assert "bias=[False, True]" in repr(model)


# ---- initialisation --------------------------------------------------------------------------


@pytest.mark.parametrize("init", INITS)
def test_every_init_is_reproducible_from_a_seed(init):
    first = nn.MLP(3, [5, 2], init=init, rng=42).state_dict()
    assert nn.MLP(3, [5, 2], init=init, rng=42).state_dict() == first
    assert nn.MLP(3, [5, 2], init=init, rng=random.Random(42)).state_dict() == first
    assert all(value == 0.0 for name, value in first.items() if name.endswith(".b"))
    if init != "zeros":
        assert nn.MLP(3, [5, 2], init=init, rng=43).state_dict() != first


def test_rng_none_uses_the_global_random_state_like_micrograd():
    random.seed(1337)
    first = nn.MLP(2, [3, 1]).state_dict()
    random.seed(1337)
    assert nn.MLP(2, [3, 1]).state_dict() == first


def test_init_distributions():
    def weights(init, n_inputs, width):
        model = nn.MLP(n_inputs, [width], init=init, rng=0)
        return [v for name, v in model.state_dict().items() if not name.endswith(".b")]

    uniform = weights("uniform", 50, 50)
    assert all(-1.0 <= w <= 1.0 for w in uniform) and statistics.pstdev(uniform) == pytest.approx(
        1 / math.sqrt(3), rel=0.05
    )
    limit = math.sqrt(6 / (50 + 30))
    xavier = weights("xavier", 50, 30)
    assert all(-limit <= w <= limit for w in xavier) and max(map(abs, xavier)) > 0.9 * limit
    he = weights("he", 50, 60)
    assert statistics.pstdev(he) == pytest.approx(math.sqrt(2 / 50), rel=0.05)
    lecun = weights("lecun", 50, 60)
    assert statistics.pstdev(lecun) == pytest.approx(math.sqrt(1 / 50), rel=0.05)


# ---- explicit weights ------------------------------------------------------------------------


def test_from_weights_reproduces_trasks_network_exactly():
    model = nn.MLP.from_weights(
        [transpose(TRASK_W0), [TRASK_W1]], activation="sigmoid", output_activation="sigmoid"
    )
    assert model.sizes == [3, 4, 1]
    assert len(model.parameters()) == 16  # no biases
    assert model.layers[0].neurons[2].w[1].data == TRASK_W0[1][2]
    X, y = nn.xor_table(bias_column=True)
    outputs = [model(x).data for x in X]
    mean_error = sum(abs(t - o) for t, o in zip(y, outputs)) / 4
    assert mean_error == pytest.approx(0.49641, abs=5e-6)  # Trask's iteration-0 error


def test_from_weights_with_biases_and_to_weights_round_trip():
    weights = [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [[0.7, 0.8, 0.9]]]
    biases = [[-0.1, -0.2, -0.3], None]
    model = nn.MLP.from_weights(weights, biases, activation="tanh")
    assert model.to_weights() == (weights, biases)
    assert model.layers[0].neurons[1].b.data == -0.2 and model.layers[1].neurons[0].b is None
    assert model.layers[0].neurons[1].b.label == "layers.0.neurons.1.b"


@pytest.mark.parametrize(
    ("weights", "biases", "message"),
    [
        ([], None, "non-empty list of matrices"),
        ([[[1.0, 2.0], [3.0]]], None, "rows differ in length"),
        ([[[1.0, 2.0]], [[1.0, 2.0]]], None, "layer 1 rows have 2 weights but layer 0 has 1 neurons"),
        ([[[1.0, "x"]]], None, r"weights\[0\]\[0\]\[1\]: expected a number"),
        ([[[1.0, math.inf]]], None, "finite"),
        ([[[1.0, 2.0]]], [[1.0, 2.0]], r"biases\[0\] must be None or a list of 1 numbers"),
        ([[[1.0, 2.0]]], [None, None], "biases must be None or a list of 1 entries"),
    ],
)
def test_from_weights_validates(weights, biases, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP.from_weights(weights, biases)


def test_zero_grad():
    model = nn.MLP(2, [3, 1], rng=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# ---- state dicts and checkpoints -------------------------------------------------------------


def test_state_dict_round_trip_and_validation_before_mutation():
    source, target = nn.MLP(2, [3, 1], rng=0), nn.MLP(2, [3, 1], rng=1)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    before = target.state_dict()
    bad = dict(source.state_dict())
    bad["layers.1.neurons.0.b"] = "oops"
    bad["layers.0.neurons.0.w.0"] = 123.0  # valid, but must not be applied
    with pytest.raises(ValueError, match=r"parameter 'layers.1.neurons.0.b': expected a number"):
        target.load_state_dict(bad)
    assert target.state_dict() == before


def test_save_load_round_trip_is_exact(tmp_path):
    path = tmp_path / "model.json"
    model = nn.MLP(2, [4, 3, 1], activation="relu", rng=7)
    model.layers[0].neurons[0].w[0].data = 0.1 + 0.2  # a float with a long repr
    model.save(path)
    restored = nn.MLP(2, [4, 3, 1], activation="relu", rng=8).load(path)
    assert restored.state_dict() == model.state_dict()
    checkpoint = json.loads(path.read_text())
    assert checkpoint["format"] == CHECKPOINT_FORMAT and checkpoint["version"] == CHECKPOINT_VERSION
    assert checkpoint["shape"] == {"class": "MLP", "sizes": [2, 4, 3, 1], "bias": [True, True, True]}
    assert list(checkpoint["parameters"]) == [name for name, _ in model.named_parameters()]


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(st.lists(finite_floats, min_size=13, max_size=13))
def test_save_load_round_trips_any_finite_weights(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("ckpt") / "m.json"
    model = nn.MLP(2, [3, 1], rng=0)
    for parameter, value in zip(model.parameters(), values):
        parameter.data = value
    model.save(path)
    restored = nn.MLP(2, [3, 1], rng=1).load(path)
    assert [p.data for p in restored.parameters()] == values


def _edit_checkpoint(path, edit):
    checkpoint = json.loads(path.read_text())
    edit(checkpoint)
    path.write_text(json.dumps(checkpoint))


def _delete_parameter(checkpoint):
    del checkpoint["parameters"]["layers.1.neurons.0.w.2"]


def _add_parameter(checkpoint):
    checkpoint["parameters"]["layers.2.neurons.0.b"] = 0.5


def _listify(checkpoint):
    checkpoint["parameters"]["layers.0.neurons.1.w.0"] = [0.1, 0.2]


def _stringify(checkpoint):
    checkpoint["parameters"]["layers.0.neurons.1.b"] = "0.5"


def _null(checkpoint):
    checkpoint["parameters"]["layers.0.neurons.1.b"] = None


def _boolean(checkpoint):
    checkpoint["parameters"]["layers.0.neurons.1.b"] = True


def _nan(checkpoint):
    checkpoint["parameters"]["layers.0.neurons.1.b"] = float("nan")  # json writes the NaN token


def _huge(checkpoint):
    checkpoint["parameters"]["layers.0.neurons.1.b"] = float("inf")


def _wrong_format(checkpoint):
    checkpoint["format"] = "something else"


def _wrong_version(checkpoint):
    checkpoint["version"] = 99


def _no_parameters(checkpoint):
    del checkpoint["parameters"]


def _parameters_not_a_dict(checkpoint):
    checkpoint["parameters"] = [1.0, 2.0]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_delete_parameter, r"missing 1 parameter\(s\): 'layers.1.neurons.0.w.2'"),
        (_add_parameter, r"unexpected 1 parameter\(s\): 'layers.2.neurons.0.b'"),
        (_listify, "'layers.0.neurons.1.w.0': wrong shape: expected a single number, got a list of 2"),
        (_stringify, "'layers.0.neurons.1.b': expected a number, got '0.5'"),
        (_null, "'layers.0.neurons.1.b': expected a number, got None"),
        (_boolean, "'layers.0.neurons.1.b': expected a number, got True"),
        (_nan, "'layers.0.neurons.1.b': expected a finite number, got nan"),
        (_huge, "'layers.0.neurons.1.b': expected a finite number, got inf"),
        (_wrong_format, "not a gradstep checkpoint"),
        (_wrong_version, "unsupported checkpoint version 99"),
        (_no_parameters, 'no "parameters"'),
        (_parameters_not_a_dict, "expected a mapping of parameter names"),
    ],
)
def test_bad_checkpoints_raise_and_leave_weights_unchanged(tmp_path, edit, message):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], rng=0).save(path)
    _edit_checkpoint(path, edit)
    model = nn.MLP(2, [3, 1], rng=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert model.state_dict() == before


def test_checkpoint_of_a_different_shape_is_refused(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [16, 16, 1], rng=0).save(path)
    model = nn.MLP(2, [8, 1], rng=1)
    before = model.state_dict()
    with pytest.raises(
        ValueError, match=r"wrong shape: the checkpoint holds an MLP 2-16-16-1.*this model is an MLP 2-8-1"
    ):
        model.load(path)
    assert model.state_dict() == before


@pytest.mark.parametrize("cut", [0, 1, 40, -3])
def test_truncated_or_corrupt_json_is_refused(tmp_path, cut):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], rng=0).save(path)
    text = path.read_text()
    path.write_text(text[:cut])
    model = nn.MLP(2, [3, 1], rng=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match="not valid JSON, the file may be truncated"):
        model.load(path)
    assert model.state_dict() == before


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not a text file"):
        nn.MLP(2, [1], rng=0).load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.MLP(2, [1], rng=0).load(tmp_path / "absent.json")


def test_interrupted_save_never_replaces_the_previous_good_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    good = nn.MLP(2, [3, 1], rng=0)
    good.save(path)
    good_bytes = path.read_bytes()
    changed = nn.MLP(2, [3, 1], rng=1)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut while renaming")

    monkeypatch.setattr(autograd.files.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        changed.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good_bytes
    assert os.listdir(tmp_path) == ["model.json"]  # no temp file left behind
    assert nn.MLP(2, [3, 1], rng=5).load(path).state_dict() == good.state_dict()


def test_save_that_fails_midway_through_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], rng=0).save(path)
    good_bytes = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(autograd.files.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        nn.MLP(2, [3, 1], rng=1).save(path)
    assert path.read_bytes() == good_bytes
    assert os.listdir(tmp_path) == ["model.json"]


# ---- checkpoints: nothing written that load refuses, nothing loaded that is not exactly right ----


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_save_refuses_non_finite_weights_before_writing_anything(tmp_path, bad):
    path = tmp_path / "model.json"
    model = nn.MLP(2, [3, 1], rng=0)
    model.save(path)
    good_bytes = path.read_bytes()
    model.layers[1].neurons[0].w[2].data = bad
    with pytest.raises(
        ValueError,
        match=rf"save\('.*model.json'\): 1 parameter\(s\) are not finite numbers "
        rf"\('layers.1.neurons.0.w.2' = {bad!r}\); a checkpoint holds finite numbers only, "
        "nothing was written",
    ):
        model.save(path)
    assert path.read_bytes() == good_bytes and os.listdir(tmp_path) == ["model.json"]
    with pytest.raises(ValueError, match="not finite"):
        model.save(tmp_path / "new.json")
    assert os.listdir(tmp_path) == ["model.json"]


class DeepShape(nn.Module):
    def __init__(self, depth):
        self.w = Value(1.0)
        self.depth = depth

    def shape(self):
        shape: object = "leaf"
        for _ in range(self.depth):
            shape = [shape]
        return shape


class UnserialisableShape(nn.Module):
    def __init__(self):
        self.w = Value(1.0)

    def shape(self):
        return {"sizes": {1, 2}}  # a set is not JSON


def test_save_refuses_a_shape_that_load_would_refuse(tmp_path):
    with pytest.raises(ValueError, match=rf"shape\(\) nests {CHECKPOINT_MAX_DEPTH + 2} levels deep"):
        DeepShape(CHECKPOINT_MAX_DEPTH + 1).save(tmp_path / "deep.json")
    with pytest.raises(ValueError, match=r"shape\(\) must return plain JSON data"):
        UnserialisableShape().save(tmp_path / "set.json")
    assert os.listdir(tmp_path) == []
    DeepShape(CHECKPOINT_MAX_DEPTH - 1).save(tmp_path / "ok.json")
    assert DeepShape(CHECKPOINT_MAX_DEPTH - 1).load(tmp_path / "ok.json").w.data == 1.0


def _saved_text(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], rng=0).save(path)
    return path, path.read_text()


B = '"layers.0.neurons.1.b"'


def _replace_value(text, key, new):
    start = text.index(key) + len(key) + 2  # past '": '
    end = min(text.index(",", start) if "," in text[start:] else len(text), text.index("\n", start))
    return text[:start] + new + text[end:]


RAW_EDITS = [
    (lambda t: t.replace('"version": 1', '"version": true'), r"unsupported checkpoint version true"),
    (lambda t: t.replace('"version": 1', '"version": 1.0'), r"unsupported checkpoint version 1.0"),
    (lambda t: t.replace('"version": 1', '"version": "1"'), r'unsupported checkpoint version "1"'),
    (lambda t: t.replace('"version": 1', '"version": 1, "version": 1'), r"duplicate key 'version'"),
    (lambda t: _replace_value(t, B, f"0.5, {B}: 0.25"), r"duplicate key 'layers.0.neurons.1.b'"),
    (
        lambda t: _replace_value(t, B, "1" + "0" * 350),
        r"'layers.0.neurons.1.b': expected a finite number, "
        r"got an integer too large for a float \(about 10\*\*350\)",
    ),
    (
        lambda t: _replace_value(t, B, "9" * 5000),
        r"an integer of 5000 digits \(999999999999...\) is too large",
    ),
    (lambda t: _replace_value(t, B, "-" + "9" * 5000), r"an integer of 5001 digits"),
    (lambda t: _replace_value(t, B, "1e400"), r"'layers.0.neurons.1.b': expected a finite number, got inf"),
    (lambda t: _replace_value(t, B, "NaN"), r"'layers.0.neurons.1.b': expected a finite number, got nan"),
    (lambda t: _replace_value(t, B, "false"), r"'layers.0.neurons.1.b': expected a number, got False"),
    (
        lambda t: _replace_value(t, B, "[" * 100_000 + "]" * 100_000),
        r"JSON nested 100002 levels deep, more than the 32",
    ),
    (lambda t: _replace_value(t, B, "{" * 5000), r"JSON nested 5002 levels deep"),
    (lambda t: t.replace('"bias": [\n   true', '"bias": [\n   1'), r"wrong shape"),
    (lambda t: t.replace('"sizes": [\n   2', '"sizes": [\n   2.0'), r"wrong shape"),
    (lambda t: t.replace('"model": ', '"optimizer": "Adam", "model": '), r"unexpected key\(s\) 'optimizer'"),
    (lambda t: re.sub(r'"model": "[^"]*"', '"model": 5', t), r'"model" must be a text, got 5 \(int\)'),
    (lambda t: "\ufeff" + t, r"not valid JSON"),
    (lambda t: t + "[]", r"not valid JSON"),
    (lambda t: "[" + t + "]", r"not a gradstep checkpoint"),
]


@pytest.mark.parametrize(("edit", "message"), RAW_EDITS)
def test_hostile_checkpoint_text_is_a_value_error_naming_the_file(tmp_path, edit, message):
    path, text = _saved_text(tmp_path)
    edited = edit(text)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    model = nn.MLP(2, [3, 1], rng=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message) as caught:
        model.load(path)
    assert str(caught.value).startswith(f"load({str(path)!r}): ")
    assert model.state_dict() == before


def test_huge_integers_are_a_value_error_not_an_overflow_error():
    model = nn.MLP(2, [1], rng=0)
    state = dict(model.state_dict(), **{"layers.0.neurons.0.b": 10**400})
    with pytest.raises(
        ValueError, match=r"'layers.0.neurons.0.b': .* too large for a float \(about 10\*\*400\)"
    ):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match=r"weights\[0\]\[0\]\[1\]: .* too large for a float"):
        nn.MLP.from_weights([[[1.0, -(10**500)]]])


def test_bracket_characters_inside_strings_do_not_count_as_nesting(tmp_path):
    model = Affine()
    model.scale.data = 3.0
    path = tmp_path / "m.json"
    model.save(path)
    text = path.read_text().replace(
        '"model": "Affine', '"model": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"{{{'
    )
    path.write_text(text)
    assert Affine().load(path).scale.data == 3.0


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace('"model": ', f'"{"k" * 100_000}": 1, "{"k" * 100_000}": 2, "model": '),
        lambda t: t.replace('"model": ', f'"{"k" * 100_000}": 1, "model": '),
        lambda t: t.replace('"version": 1', f'"version": "{"v" * 100_000}"'),
        lambda t: t.replace('"sizes": [', f'"sizes": ["{"s" * 100_000}", '),
        lambda t: t.replace('"parameters": {', f'"parameters": {{"{"p" * 100_000}": 1.0, '),
    ],
)
def test_hostile_names_and_values_give_short_messages(tmp_path, edit):
    path, text = _saved_text(tmp_path)
    path.write_text(edit(text))
    with pytest.raises(ValueError) as caught:
        nn.MLP(2, [3, 1], rng=1).load(path)
    assert len(str(caught.value)) < 600, str(caught.value)[:600]


def test_the_depth_scan_stays_linear_on_hostile_strings(tmp_path):
    # An unterminated string of escaped quotes made the first scanner retry from every quote.
    path = tmp_path / "m.json"
    path.write_text('"' + 'a\\"' * 300_000)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not valid JSON"):
        nn.MLP(2, [3, 1], rng=0).load(path)
    assert time.perf_counter() - start < 5  # 0.1 s; the old scan took 40 s at 48 kB, growing as the square


def test_load_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            nn.MLP(2, [1], rng=0).load(fifo)
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "load blocked on a FIFO"
    assert isinstance(outcome[0], ValueError)
    assert "not a checkpoint file: " in str(outcome[0]) and "is a FIFO (named pipe)" in str(outcome[0])


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")]
)
def test_load_refuses_devices_at_once(path, kind):
    if not os.path.exists(path):
        pytest.skip(f"no {path} here")
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"load\('{path}'\): not a checkpoint file: {path} is {kind}"):
        nn.MLP(2, [1], rng=0).load(path)
    assert time.perf_counter() - start < 5  # not reading /dev/zero until the memory runs out


def test_load_refuses_a_directory(tmp_path):
    with pytest.raises(ValueError, match=r"not a checkpoint file: .* is a directory"):
        nn.MLP(2, [1], rng=0).load(tmp_path)


def test_load_refuses_a_huge_file_without_reading_it(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as huge:
        huge.truncate(10 * 2**30)  # 10 GiB, sparse: no disk space used
    model = nn.MLP(2, [3, 1], rng=0)
    limit = model.checkpoint_size_limit()
    with pytest.raises(
        ValueError,
        match=rf"too large for a checkpoint of this model \(.*huge.json is 10737418240 bytes, "
        rf"more than the limit of {limit}",
    ):
        model.load(path)


def test_the_size_limit_is_documented_and_generous_for_real_checkpoints(tmp_path):
    model = nn.MLP(2, [3, 1], rng=0)
    for parameter in model.parameters():
        parameter.data = -2.2250738585072014e-308  # the longest repr a float has
    path = tmp_path / "m.json"
    model.save(path)
    limit = model.checkpoint_size_limit()
    assert limit > CHECKPOINT_SIZE_SLACK and 4 * path.stat().st_size < limit - CHECKPOINT_SIZE_SLACK + 4 * 200
    # Re-indented by hand (8 spaces), the same checkpoint still loads.
    path.write_text(json.dumps(json.loads(path.read_text()), indent=8))
    assert nn.MLP(2, [3, 1], rng=1).load(path).state_dict() == model.state_dict()
    # One byte over the limit is refused, even with the bytes in a harmless place (trailing spaces).
    text = path.read_text()
    path.write_text(text + " " * (limit + 1 - len(text.encode())))
    with pytest.raises(ValueError, match="too large"):
        nn.MLP(2, [3, 1], rng=1).load(path)
    path.write_text(text + " " * (limit - len(text.encode())))
    assert nn.MLP(2, [3, 1], rng=1).load(path).state_dict() == model.state_dict()


def test_a_symlinked_checkpoint_and_a_private_one_keep_their_nature(tmp_path):
    real = tmp_path / "runs" / "model-0001.json"
    real.parent.mkdir()
    model = nn.MLP(2, [3, 1], rng=0)
    model.save(real)
    real.chmod(0o600)
    latest = tmp_path / "latest.json"
    latest.symlink_to(real)
    nn.MLP(2, [3, 1], rng=9).save(latest)
    assert latest.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert nn.MLP(2, [3, 1], rng=0).load(latest).state_dict() == nn.MLP(2, [3, 1], rng=9).state_dict()


# ---- custom modules, as in PyTorch ---------------------------------------------------------


class Affine(nn.Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.shift = Value(0.5)
        self._cache = Value(9.0)  # private: not a parameter
        self.note = "not a parameter either"
        self.label_parameters()

    def __call__(self, x):
        return self.scale * x + self.shift


class TwoHeads(nn.Module):
    def __init__(self):
        self.body = nn.MLP(2, [3], rng=0)
        self.heads = [nn.Neuron(3, "linear", rng=1), Affine()]
        self.tied = self.body.layers[0].neurons[0].w[0]  # a shared weight: listed once


def test_custom_modules_find_their_parameters_like_pytorch():
    affine = Affine()
    assert affine.named_parameters() == [("scale", affine.scale), ("shift", affine.shift)]
    assert affine.scale.label == "scale"
    model = TwoHeads()
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "body.layers.0.neurons.0.w.0"
    assert names[9:] == [
        "heads.0.w.0",
        "heads.0.w.1",
        "heads.0.w.2",
        "heads.0.b",
        "heads.1.scale",
        "heads.1.shift",
    ]
    assert "tied" not in names and len(names) == len(set(model.parameters())) == 15


def test_custom_module_checkpoints(tmp_path):
    model = TwoHeads()
    model.save(tmp_path / "m.json")
    other = TwoHeads()
    other.heads[1].shift.data = -4.0
    other.load(tmp_path / "m.json")
    assert other.state_dict() == model.state_dict()
    assert json.loads((tmp_path / "m.json").read_text())["shape"] is None


def test_numpy_rows_are_accepted_as_inputs():
    np = pytest.importorskip("numpy")
    model = nn.MLP(2, [3, 1], rng=0)
    row = np.array([0.5, -1.25])
    assert model(row).data == model([0.5, -1.25]).data
    with pytest.raises(TypeError, match="expected a list of 2"):
        model({0.5, 1.0})


def test_load_state_dict_non_strict_loads_what_matches_and_reports_the_rest():
    model = nn.MLP(2, [3, 1], rng=0)
    state = model.state_dict()
    del state["layers.1.neurons.0.b"]
    state["extra.w"] = 1.0
    state["layers.0.neurons.0.w.0"] = 42.0
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["layers.1.neurons.0.b"], ["extra.w"])
    assert model.layers[0].neurons[0].w[0].data == 42.0
    assert model.load_state_dict(model.state_dict()) == ([], [])
    before = model.state_dict()
    state["layers.0.neurons.0.w.0"] = 7.0
    state["layers.0.neurons.0.w.1"] = "bad"
    with pytest.raises(ValueError, match=r"'layers\.0\.neurons\.0\.w\.1': expected a number"):
        model.load_state_dict(state, strict=False)
    assert model.state_dict() == before
