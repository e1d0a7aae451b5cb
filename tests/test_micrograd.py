"""gradstep.micrograd: micrograd's demo notebook runs unchanged and gives micrograd's published numbers."""

from __future__ import annotations

import contextlib
import io
import random

import pytest

import nn
from autograd import Value as EngineValue
from gradstep import micrograd
from gradstep.micrograd import MLP, Layer, Neuron, Value, draw_dot

# The training loop of micrograd's demo notebook, in its well-known shape: numpy and scikit-learn's
# moons with seed 1337, MLP(2, [16, 16, 1]), the max-margin loss with 1e-4 L2, 100 SGD steps. Only
# the import line differs from micrograd.
NOTEBOOK = """
import random
import numpy as np
from sklearn.datasets import make_moons
from gradstep.micrograd import Value, MLP

np.random.seed(1337)
random.seed(1337)
X, y = make_moons(n_samples=100, noise=0.1)
y = y * 2 - 1

model = MLP(2, [16, 16, 1])
print("number of parameters", len(model.parameters()))

def loss(batch_size=None):
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)

total_loss, acc = loss()
print(total_loss, acc)

for k in range(100):
    total_loss, acc = loss()
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    if k % 1 == 0:
        print(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
"""


def run_notebook(steps: int) -> list[str]:
    pytest.importorskip("sklearn", reason="micrograd's exact moons come from scikit-learn")
    text = NOTEBOOK.replace("for k in range(100):", f"for k in range({steps}):")
    output = io.StringIO()
    state = random.getstate()
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(text, "micrograd-demo", "exec"), {"__name__": "micrograd_demo"})
    finally:
        random.setstate(state)
    return output.getvalue().splitlines()


def test_the_notebook_loop_gives_micrograds_step_0_numbers():
    lines = run_notebook(steps=1)
    assert lines[0] == "number of parameters 337"
    assert lines[1].startswith("Value(data=0.8958") and lines[1].endswith(" 0.5")
    assert lines[2].startswith("step 0 loss 0.8958") and lines[2].endswith(", accuracy 50.0%")


@pytest.mark.slow
def test_the_whole_notebook_loop_gives_micrograds_final_numbers():
    lines = run_notebook(steps=100)
    assert len(lines) == 102
    assert lines[-1].startswith("step 99 loss 0.010978") and lines[-1].endswith(", accuracy 100.0%")


def test_every_value_counts_as_a_micrograd_value():
    a = Value(2.0, label="a")
    assert isinstance(a, EngineValue) and isinstance(a, Value)
    assert isinstance(a * 3 + 1, Value) and isinstance(EngineValue(1.0), Value)
    assert not isinstance(2.0, Value) and issubclass(EngineValue, Value)
    assert a.label == "a" and a.data == 2.0 and a.grad == 0.0
    assert Value(3).data == 3.0 and Value(1.5, (), "", "w").label == "w"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((5.0, (EngineValue(1.0), EngineValue(2.0)), "+"), r"_children of 2 value\(s\), _op='\+'"),
        ((5.0, (), "ReLU"), r"_op='ReLU'"),
    ],
)
def test_building_a_node_by_hand_says_to_write_the_operation(arguments, message):
    with pytest.raises(TypeError, match=message) as error:
        Value(*arguments)
    assert "write the operation (a + b, a * b, a.relu())" in str(error.value)


def test_gradsteps_own_value_points_micrograd_code_to_the_compat_module():
    a, b = EngineValue(1.0), EngineValue(2.0)
    with pytest.raises(
        TypeError, match=r"label must be a str, got .*: the second argument is the label"
    ) as error:
        EngineValue(5.0, (a, b), "+")
    assert "write a + b" in str(error.value) and "gradstep.micrograd" in str(error.value)
    with pytest.raises(TypeError, match="label must be a str, got 3"):
        EngineValue(5.0, 3)


def test_mlp_has_micrograds_defaults_and_draws_micrograds_weights():
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])
    random.seed(1337)
    reference = nn.MLP(2, [16, 16, 1], activation="relu")
    assert ours.activation == "relu" and ours.output_activation == "linear"
    assert ours.to_weights() == reference.to_weights() and len(ours.parameters()) == 337
    assert all(neuron.b.data == 0.0 for layer in ours.layers for neuron in layer.neurons)
    assert isinstance(MLP.from_weights([[[1.0, 2.0]]], [[0.5]]), MLP)
    assert MLP(2, [3, 1], rng=0).to_weights() == nn.MLP(2, [3, 1], activation="relu", rng=0).to_weights()


def test_neuron_and_layer_take_micrograds_nonlin():
    assert Neuron(3, rng=0).activation == "relu" and Neuron(3, nonlin=False, rng=0).activation == "linear"
    assert Layer(3, 2, rng=0).activation == "relu" and Layer(3, 2, nonlin=False, rng=0).activation == "linear"
    neuron = Neuron(2, rng=0)
    for w in neuron.w:
        w.data = -1.0
    assert neuron([1.0, 1.0]).data == 0.0  # relu clips


def test_draw_dot_draws_the_graph():
    x = Value(2.0, label="x")
    y = (x * x).relu()
    y.backward()
    graph = draw_dot(y)
    assert "x" in graph.source and "rankdir=LR" in graph.source.replace(" ", "").replace('"', "")
    assert "rankdir=TB" in draw_dot(y, rankdir="TB").source.replace(" ", "").replace('"', "")
    with pytest.raises(ValueError, match="format must be 'svg', got 'png'"):
        draw_dot(y, format="png")


def test_the_module_is_reachable_from_gradstep():
    import gradstep

    assert gradstep.micrograd is micrograd and micrograd.Module is nn.Module


def test_with_nn_mlps_tanh_default_the_loop_gives_other_numbers():
    # The README's reason to use activation="relu" (or this module's MLP) for micrograd's code.
    text = NOTEBOOK.replace(
        "from gradstep.micrograd import Value, MLP", "from gradstep.micrograd import Value\nimport nn"
    )
    text = text.replace("model = MLP(2, [16, 16, 1])", "model = nn.MLP(2, [16, 16, 1])")
    pytest.importorskip("sklearn", reason="micrograd's exact moons come from scikit-learn")
    output = io.StringIO()
    state = random.getstate()
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(text.replace("range(100)", "range(1)"), "tanh-demo", "exec"), {"__name__": "tanh"})
    finally:
        random.setstate(state)
    line = output.getvalue().splitlines()[2]
    assert line.startswith("step 0 loss 0.8047") and line.endswith(", accuracy 76.0%")


def test_backward_resets_interior_grads_and_accumulates_into_leaves():
    # The README's "what backward() does differently": y = (x*2)*3, backward twice.
    x = Value(1.0, label="x")
    t = x * 2
    y = t * 3
    y.backward()
    assert (x.grad, t.grad) == (6.0, 3.0)
    y.backward()
    assert (x.grad, t.grad) == (12.0, 3.0)  # micrograd's second call gives x.grad 18 (t.grad 6)
