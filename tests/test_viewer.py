"""nn.viewer: what fit(record=...) records, checked against the eager engine, and the Recorder's errors."""

from __future__ import annotations

import base64
import io
import math
import sys

import pytest

import nn
from autograd import Value
from nn.viewer import (
    SURFACE_COLUMNS,
    TILE_COLUMNS,
    Recorder,
    _diverging_palette,
    _level,
    _levels,
    png_data_uri,
)


def moons(n: int = 40, seed: int = 0):
    return nn.make_moons(n, 0.1, labels=(-1, 1), rng=seed)


def make_run(
    optimizer_name: str = "sgd", steps: int = 6, *, every=None, max_frames=100, record=True, **kwargs
):
    """A small relu net on moons, trained with micrograd's loss; returns (model, history, X, y)."""
    X, y = moons()
    X_test, y_test = moons(12, seed=5)
    model = nn.MLP(2, [5, 4, 1], activation="relu", rng=3)
    if optimizer_name == "sgd":
        optimizer = nn.SGD(model.parameters(), lr=0.3)
    elif optimizer_name == "momentum":
        optimizer = nn.SGD(model.parameters(), lr=0.2, momentum=0.9)
    else:
        optimizer = nn.Adam(model.parameters(), lr=0.05)

    def loss_fn():
        return nn.hinge([model(x) for x in X], y) + nn.l2_penalty(model, 2e-4, include_biases=True)

    recorder = (
        Recorder(model, X, y, loss="hinge", X_test=X_test, y_test=y_test, every=every, max_frames=max_frames)
        if record
        else None
    )
    history = nn.fit(loss_fn, optimizer, steps, progress=False, record=recorder, **kwargs)
    return model, history, X, y, optimizer, loss_fn


def eager_activations(run, values, point):
    """Every neuron's activation at `point` by the eager engine, from a fresh model with `values`."""
    weights_model = nn.MLP(2, run.recorder.model.sizes[1:], activation="relu", rng=0)
    for parameter, value in zip(weights_model.parameters(), values):
        parameter.data = value
    activations = [point[0], point[1]]
    layers = []
    for layer in weights_model.layers:
        activations = [v.data for v in layer._forward(tuple(float(a) for a in activations))]
        layers.append(activations)
    return layers


# ---------------------------------------------------------------------------------------------------
# Recording changes nothing, and records the numbers the eager engine gives
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer_name", ["sgd", "momentum", "adam"])
def test_recording_changes_no_number_and_records_values_grads_and_state(optimizer_name):
    _, recorded, *_ = make_run(optimizer_name)
    model, plain, _, _, optimizer, loss_fn = make_run(optimizer_name, record=False, steps=0)
    assert plain.run is None
    # Replay the plain run by hand and compare every recorded frame bit for bit.
    run = recorded.run
    assert run.steps == list(range(6)) and len(run.frames) == 6
    for frame, expected_loss in zip(run.frames, recorded.losses):
        assert frame.values == [p.data for p in model.parameters()]
        loss = loss_fn()
        optimizer.zero_grad()
        loss.backward()
        assert loss.data == expected_loss == frame.loss
        assert frame.grads == [p.grad for p in model.parameters()]
        optimizer.step()
        assert frame.new_values == [p.data for p in model.parameters()]
        if optimizer_name == "momentum":
            assert list(frame.state) == ["velocity"] and frame.state["velocity"] == optimizer.momentum_buffers
        elif optimizer_name == "adam":
            assert list(frame.state) == ["m", "v"]
            assert (
                frame.state["m"] == optimizer.first_moments and frame.state["v"] == optimizer.second_moments
            )
        else:
            assert frame.state == {}
    assert [f.new_values for f in run.frames[:-1]] == [f.values for f in run.frames[1:]]


def test_accuracy_curves_count_the_points_classified_right_at_every_step():
    _, history, X, y, *_ = make_run(steps=4)
    run = history.run
    X_test, y_test = run.recorder.X_test, run.recorder.test_targets
    for step, frame in enumerate(run.frames):
        for points, labels, curve in ((X, y, run.train_accuracy), (X_test, y_test, run.test_accuracy)):
            right = 0
            for point, label in zip(points, labels):
                score = eager_activations(run, frame.values, point)[-1][0]
                right += (score > 0) == (label > 0)
            assert curve[step] == right / len(points)


def test_surface_and_heatmaps_equal_the_eager_engine_at_several_steps():
    _, history, *_ = make_run(steps=5)
    run = history.run
    for index in (0, 2, 4):
        values = run.frames[index].values
        xs, ys, decision = run.surface(index)
        assert (
            len(xs)
            == len(decision)
            == SURFACE_COLUMNS * round(SURFACE_COLUMNS * run.geometry.height / run.geometry.width)
        )
        for k in range(0, len(xs), 53):
            score = eager_activations(run, values, (xs[k], ys[k]))[-1][0]
            assert decision[k] == pytest.approx(score / 2.0, rel=1e-12, abs=1e-14)  # hinge: colour scale 2
        hx, hy, grids = run.neuron_grids(index)
        assert sorted(grids) == [0, 1, 2] and [len(grids[layer]) for layer in grids] == [5, 4, 1]
        assert len(hx) % TILE_COLUMNS == 0
        for k in range(0, len(hx), 7):
            eager = eager_activations(run, values, (hx[k], hy[k]))
            for layer, neurons in grids.items():
                for neuron, column in enumerate(neurons):
                    assert column[k] == pytest.approx(eager[layer][neuron], rel=1e-12, abs=1e-14)


def test_without_numpy_the_eager_engine_evaluates_the_same_grids(monkeypatch):
    _, history, *_ = make_run(steps=2)
    compiled_xs, _, compiled = history.run.surface(1)
    _, _, compiled_grids = history.run.neuron_grids(1)
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now raises ImportError
    _, eager_history, *_ = make_run(steps=2)
    assert eager_history.run.recorder._evaluator.numpy is None
    eager_xs, _, eager = eager_history.run.surface(1)
    assert eager_xs == compiled_xs
    assert eager == pytest.approx(compiled, rel=1e-12, abs=1e-14)
    _, _, eager_grids = eager_history.run.neuron_grids(1)
    for layer in compiled_grids:
        for a, b in zip(compiled_grids[layer], eager_grids[layer]):
            assert b == pytest.approx(a, rel=1e-12, abs=1e-14)
    assert eager_history.run.train_accuracy == history.run.train_accuracy
    page = eager_history.run.html(pickable=2)
    assert "window.gradstep" in page


def test_example_graph_holds_that_examples_loss_and_the_grads_of_its_own_backward():
    _, history, X, y, *_ = make_run(steps=3)
    run = history.run
    graph = run.example_graph(7, 2)
    model = nn.MLP(2, [5, 4, 1], activation="relu", rng=0)
    for parameter, value in zip(model.parameters(), run.frames[2].values):
        parameter.data = value
    x = [Value(X[7][0]), Value(X[7][1])]
    hidden = []
    activations = tuple(x)
    for layer in model.layers:
        activations = layer._forward(activations)
        hidden.append(activations)
    loss = nn.hinge(activations[0], y[7])
    loss.backward()
    assert graph["loss"] == loss.data == graph["chain"][-1][1]
    assert graph["chain"][-1][0] == "loss" and graph["chain"][-1][2] == 1.0
    assert graph["inputs"] == [(v.data, v.grad) for v in x]
    assert graph["neurons"] == [[(v.data, v.grad) for v in layer] for layer in hidden]


def test_every_kth_step_and_the_last_are_recorded_and_the_page_says_so():
    _, history, *_ = make_run(steps=25, max_frames=10)
    run = history.run
    assert run.every == 3 and run.steps == [0, 3, 6, 9, 12, 15, 18, 21, 24]
    _, history, *_ = make_run(steps=10, every=4)
    assert history.run.steps == [0, 4, 8, 9]
    page = history.run.html(pickable=0)
    assert (
        "This page holds 4 recorded steps (every 4th step and the last: 0, 4, 8, 9) of a 10-step run." in page
    )


def test_a_run_stopped_early_keeps_its_last_completed_step():
    _, history, *_ = make_run(steps=20, every=5, callback=lambda step, loss, metrics: step == 6)
    run = history.run
    assert history.stopped_early and run.steps == [0, 5, 6]
    assert "training stopped after 7 of 20 steps" in run.html(pickable=0)


def test_a_compiled_fit_records_the_same_run():
    _, eager, *_ = make_run(steps=3)
    _, compiled, *_ = make_run(steps=3, compiled=True)
    assert compiled.losses == eager.losses
    for a, b in zip(compiled.run.frames, eager.run.frames):
        assert (a.values, a.grads, a.new_values) == (b.values, b.grads, b.new_values)


def test_multiclass_losses_colour_by_the_predicted_class():
    X, y = nn.make_xor(30, labels=(0, 1), rng=1)
    model = nn.MLP(2, [6, 2], activation="tanh", rng=1)
    optimizer = nn.Adam(model.parameters(), lr=0.05)
    recorder = Recorder(model, X, y, loss=nn.cross_entropy, class_names=["same sign", "different"])
    history = nn.fit(
        lambda: nn.cross_entropy([model(x) for x in X], y), optimizer, 3, progress=False, record=recorder
    )
    run = history.run
    xs, ys, margins = run.surface(2)
    classes = run.surface_classes(2)
    values = run.frames[2].values
    for k in range(0, len(xs), 97):
        scores = eager_activations_tanh(values, (xs[k], ys[k]))
        assert classes[k] == max(range(2), key=scores.__getitem__)
        assert margins[k] == pytest.approx(abs(scores[0] - scores[1]), rel=1e-12, abs=1e-14)
    page = run.html(pickable=3)
    assert "same sign" in page and "different" in page


def eager_activations_tanh(values, point):
    model = nn.MLP(2, [6, 2], activation="tanh", rng=0)
    for parameter, value in zip(model.parameters(), values):
        parameter.data = value
    return [v.data for v in model(list(point))]


# ---------------------------------------------------------------------------------------------------
# Pictures: palette PNGs made here
# ---------------------------------------------------------------------------------------------------


def test_png_data_uri_decodes_to_the_palette_colours():
    PIL = pytest.importorskip("PIL.Image")  # Pillow comes with matplotlib (the demos extra)
    palette = _diverging_palette()
    rows = [[0, 10, 20], [5, 15, 10]]
    uri = png_data_uri(rows, palette)
    assert uri.startswith("data:image/png;base64,")
    image = PIL.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")
    assert image.size == (3, 2)
    for r, row in enumerate(rows):
        for c, index in enumerate(row):
            assert image.getpixel((c, r)) == palette[index]


def test_colour_levels_are_white_at_zero_and_saturate_at_one():
    assert _level(0.0) == 10 and _level(1e-9) == 11 and _level(-1e-9) == 9
    assert _level(1.0) == 20 and _level(5.0) == 20 and _level(-1.0) == 0 and _level(-math.inf) == 0
    assert _level(0.1) == 11 and _level(0.10001) == 12
    assert _diverging_palette()[10] == (255, 255, 255)
    numpy = pytest.importorskip("numpy")
    values = [0.0, -0.0, 1e-300, 0.1, 0.10001, -0.55, 0.999999, 1.0, 3.0, -7.5, -1e-12]
    assert _levels(numpy.array(values)) == [_level(v) for v in values]  # the vectorised path agrees
    assert _levels(numpy.array(values), 2.5) == [_level(v / 2.5) for v in values] == _levels(values, 2.5)


# ---------------------------------------------------------------------------------------------------
# Errors: the Recorder and History name the problem
# ---------------------------------------------------------------------------------------------------

X4, Y4 = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [-1, 1, 1, -1]
NET = nn.MLP(2, [3, 1], rng=0)


@pytest.mark.parametrize(
    ("arguments", "keywords", "message"),
    [
        ((nn.Layer(2, 1), X4, Y4), {}, "model must be an nn.MLP, got"),
        ((nn.MLP(3, [2, 1]), X4, Y4), {}, "the model needs 2 inputs, got 3"),
        ((NET, X4, Y4), {"loss": "mse"}, "unknown loss 'mse'"),
        ((NET, X4, [0, 1, 1, 0]), {}, "loss 'hinge' takes labels -1 or 1; y[0] is 0"),
        ((NET, X4, Y4[:3]), {}, "y must hold one label per point (4)"),
        ((NET, [[0.0, 0.0], [1.0]], [1, -1]), {}, "X[1] must be two finite numbers [x1, x2], got [1.0]"),
        ((NET, [[0.0, math.nan]], [1]), {}, "X[0] must be two finite numbers"),
        ((NET, [], []), {}, "X must be a non-empty list"),
        ((NET, X4, Y4), {"X_test": X4}, "give both X_test and y_test, or neither"),
        ((NET, X4, Y4), {"every": 0}, "every must be a positive int or None, got 0"),
        ((NET, X4, Y4), {"max_frames": 1}, "max_frames must be an int >= 2, got 1"),
        ((NET, X4, Y4), {"class_names": ["a"]}, "class_names must name the 2 classes"),
        ((NET, X4, [0, 1, 1, 0]), {"loss": "binary_cross_entropy"}, "output activation must be 'sigmoid'"),
        ((NET, X4, [0, 1, 1, 0]), {"loss": "cross_entropy"}, "needs one output per class (at least 2)"),
        ((nn.MLP(2, [3, 2]), X4, Y4), {}, "loss 'hinge' scores one output, but the model has 2"),
        (
            (nn.MLP(2, [3, 2]), X4, [0, 1, 2, 0]),
            {"loss": "cross_entropy"},
            "y[2] is class 2, but the model has 2",
        ),
        ((nn.MLP(2, [3, 2]), X4, [0, 1, 0.5, 0]), {"loss": "cross_entropy"}, "y[2] must be a class index"),
        ((NET, X4, [2, 2, 2, 2]), {"loss": "squared_error"}, "needs exactly two label values, got [2.0]"),
    ],
)
def test_recorder_errors_name_the_problem(arguments, keywords, message):
    with pytest.raises((TypeError, ValueError)) as error:
        Recorder(*arguments, **keywords)
    assert message in str(error.value)


def test_a_recorder_records_one_fit_and_only_its_models_parameters():
    model = nn.MLP(2, [3, 1], rng=0)
    recorder = Recorder(model, X4, Y4)
    loss_fn = lambda: nn.hinge([model(x) for x in X4], Y4)  # noqa: E731
    nn.fit(loss_fn, nn.SGD(model.parameters(), lr=0.1), 1, progress=False, record=recorder)
    with pytest.raises(ValueError, match=r"already recorded a run; make a new nn\.Recorder"):
        nn.fit(loss_fn, nn.SGD(model.parameters(), lr=0.1), 1, progress=False, record=recorder)
    other = nn.MLP(2, [3, 1], rng=1)
    with pytest.raises(ValueError, match=r"does not update the recorded model's parameters"):
        nn.fit(loss_fn, nn.SGD(other.parameters(), lr=0.1), 1, progress=False, record=Recorder(model, X4, Y4))
    with pytest.raises(TypeError, match=r"record must be an nn\.Recorder"):
        nn.fit(loss_fn, nn.SGD(model.parameters(), lr=0.1), 1, progress=False, record=object())


def test_history_without_a_recording_says_how_to_get_one(tmp_path):
    _, history, *_ = make_run(record=False, steps=1)
    with pytest.raises(ValueError, match=r"nn.fit\(\.\.\., record=nn.Recorder\(model, X, y, loss=\.\.\.\)\)"):
        history.write_html(tmp_path / "x.html")
    assert history._repr_mimebundle_() == {"text/plain": repr(history), "text/html": history._repr_html_()}


def test_run_indices_are_checked():
    _, history, *_ = make_run(steps=2, every=1)
    run = history.run
    with pytest.raises(IndexError, match="frame 2 is not one of the 2 recorded steps"):
        run.surface(2)
    with pytest.raises(IndexError, match="example 40 is not one of the 40 training points"):
        run.example_graph(40, 0)
    with pytest.raises(ValueError, match="step 5 was not recorded; recorded steps: 0, 1"):
        run.write_html("unused.html", stepper_pages=[(0, 5)])
    with pytest.raises(ValueError, match="pickable example 99 is not a training point index"):
        run.page(pickable=[99])
