"""nn.losses: every loss gradient-checked, PyTorch float64 parity through a whole MLP, the textbooks'
delta formulas (Ng, Mitchell, UFLDL) as independent oracles, and clear errors."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd import Value, check_grads
from nn import losses

# ---- shared fixtures: a small batch and the losses in every configuration -----------------------

M, N_IN, N_OUT = 5, 3, 3
_rng = random.Random(7)
X = [[_rng.uniform(-1.0, 1.0) for _ in range(N_IN)] for _ in range(M)]
REGRESSION_TARGETS = [[_rng.uniform(-1.0, 1.0) for _ in range(N_OUT)] for _ in range(M)]
BINARY_TARGETS = [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.3], [1.0, 0.0, 0.0]]
CLASSES = [0, 2, 1, 2, 0]
SIGNS = [1.0, -1.0, -1.0, 1.0, -1.0]


# name -> (output activation, n_outputs, function(outputs per example) -> loss Value)
LOSSES = {
    "mse mean": ("linear", N_OUT, lambda out: losses.squared_error(out, REGRESSION_TARGETS)),
    "mse sum": ("linear", N_OUT, lambda out: losses.squared_error(out, REGRESSION_TARGETS, reduction="sum")),
    "half se batchmean": (
        "linear",
        N_OUT,
        lambda out: losses.squared_error(out, REGRESSION_TARGETS, half=True, reduction="batchmean"),
    ),
    "bce mean": ("sigmoid", N_OUT, lambda out: losses.binary_cross_entropy(out, BINARY_TARGETS)),
    "bce batchmean": (
        "sigmoid",
        N_OUT,
        lambda out: losses.binary_cross_entropy(out, BINARY_TARGETS, reduction="batchmean"),
    ),
    "bce logits": ("linear", N_OUT, lambda out: losses.binary_cross_entropy_with_logits(out, BINARY_TARGETS)),
    "bce logits sum": (
        "linear",
        N_OUT,
        lambda out: losses.binary_cross_entropy_with_logits(out, BINARY_TARGETS, reduction="sum"),
    ),
    "cross entropy": ("linear", N_OUT, lambda out: losses.cross_entropy(out, CLASSES)),
    "cross entropy sum": ("linear", N_OUT, lambda out: losses.cross_entropy(out, CLASSES, reduction="sum")),
    "hinge": ("linear", 1, lambda out: losses.hinge(out, SIGNS)),
    "multiclass hinge": ("linear", N_OUT, lambda out: losses.multiclass_hinge(out, CLASSES)),
}


def _torch_loss(torch, name, out):
    F = torch.nn.functional
    regression = torch.tensor(REGRESSION_TARGETS)
    binary = torch.tensor(BINARY_TARGETS)
    classes = torch.tensor(CLASSES)
    if name == "mse mean":
        return F.mse_loss(out, regression)
    if name == "mse sum":
        return F.mse_loss(out, regression, reduction="sum")
    if name == "half se batchmean":
        return 0.5 * ((out - regression) ** 2).sum() / M
    if name == "bce mean":
        return F.binary_cross_entropy(out, binary)
    if name == "bce batchmean":
        return F.binary_cross_entropy(out, binary, reduction="sum") / M
    if name == "bce logits":
        return F.binary_cross_entropy_with_logits(out, binary)
    if name == "bce logits sum":
        return F.binary_cross_entropy_with_logits(out, binary, reduction="sum")
    if name == "cross entropy":
        return F.cross_entropy(out, classes)
    if name == "cross entropy sum":
        return F.cross_entropy(out, classes, reduction="sum")
    if name == "hinge":
        return torch.relu(1.0 - torch.tensor(SIGNS) * out[:, 0]).mean()
    if name == "multiclass hinge":
        return F.multi_margin_loss(out, classes) * N_OUT  # PyTorch divides by the number of classes
    raise AssertionError(name)


def _model(output_activation, n_outputs, seed=3):
    return nn.MLP(N_IN, [4, n_outputs], activation="tanh", output_activation=output_activation, rng=seed)


def _outputs(model):
    return [model(x) for x in X]  # one Value per example, or a list of Values per example


# ---- gradient checks -------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_passes_a_gradient_check_wrt_its_predictions(name):
    output_activation, n_outputs, loss = LOSSES[name]
    model = _model(output_activation, n_outputs)
    outputs = _outputs(model)
    rows = [[o.data for o in row] for row in outputs] if n_outputs > 1 else [o.data for o in outputs]
    if n_outputs > 1:
        leaves = [Value(v, f"p{i}{k}") for i, row in enumerate(rows) for k, v in enumerate(row)]

        def f(*ps):
            return loss([list(ps[i * n_outputs : (i + 1) * n_outputs]) for i in range(M)])
    else:
        leaves = [Value(v, f"p{i}") for i, v in enumerate(rows)]

        def f(*ps):
            return loss(list(ps))

    report = check_grads(f, leaves, eps=1e-6, rtol=1e-6, atol=1e-9)
    assert report.ok


@pytest.mark.parametrize("name", LOSSES)
def test_whole_mlp_loss_passes_a_gradient_check_wrt_every_parameter(name):
    output_activation, n_outputs, loss = LOSSES[name]
    model = _model(output_activation, n_outputs)
    parameters = model.parameters()
    report = check_grads(
        lambda *_: loss(_outputs(model)) + losses.l2_penalty(model, 0.05), parameters, rtol=1e-5, atol=1e-8
    )
    assert len(report.entries) == len(parameters)
    assert report.relative_difference < 1e-8


@pytest.mark.parametrize("include_biases", [False, True])
def test_l2_penalty_gradient_check(include_biases):
    model = nn.MLP(2, [3, 1], rng=0)
    check_grads(lambda *_: losses.l2_penalty(model, 0.3, include_biases=include_biases), model.parameters())


# ---- PyTorch float64 parity through a whole MLP ------------------------------------------------


def _torch_mlp(torch, model):
    weights, biases = model.to_weights()
    layers = []
    for matrix, vector in zip(weights, biases):
        linear = torch.nn.Linear(len(matrix[0]), len(matrix), bias=vector is not None)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(matrix))
            if vector is not None:
                linear.bias.copy_(torch.tensor(vector))
        layers.append(linear)
    return layers


def _torch_forward(torch, layers, output_activation):
    activations = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "linear": lambda z: z}
    h = torch.tensor(X)
    for index, layer in enumerate(layers):
        h = layer(h)
        h = activations["tanh" if index < len(layers) - 1 else output_activation](h)
    return h


def _torch_grad(layers, name):
    parts = name.split(".")  # layers.L.neurons.J.w.I or layers.L.neurons.J.b
    layer, neuron = layers[int(parts[1])], int(parts[3])
    if parts[4] == "b":
        return layer.bias.grad[neuron].item()
    return layer.weight.grad[neuron, int(parts[5])].item()


@pytest.mark.torch
@pytest.mark.parametrize("name", LOSSES)
def test_same_mlp_same_weights_gives_pytorchs_loss_and_every_parameter_grad(torch, name):
    output_activation, n_outputs, loss = LOSSES[name]
    model = _model(output_activation, n_outputs)
    ours = loss(_outputs(model)) + losses.l2_penalty(model, 0.05)
    model.zero_grad()
    ours.backward()

    layers = _torch_mlp(torch, model)
    out = _torch_forward(torch, layers, output_activation)
    penalty = 0.5 * 0.05 * sum((layer.weight**2).sum() for layer in layers)
    theirs = _torch_loss(torch, name, out) + penalty
    theirs.backward()

    assert ours.data == pytest.approx(theirs.item(), rel=1e-12, abs=1e-15)
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad == pytest.approx(_torch_grad(layers, parameter_name), rel=1e-10, abs=1e-14), (
            parameter_name
        )


# ---- the seed formulas -------------------------------------------------------------------------

pre_activations = st.floats(min_value=-30.0, max_value=30.0)


@given(z=pre_activations, y=st.sampled_from([0.0, 1.0]))
def test_log_loss_with_sigmoid_output_has_output_delta_a_minus_y(z, y):
    """Ng: δ(L) = a - y, for the probability loss and for the loss on logits alike."""
    expected = _sigmoid(z) - y
    leaf = Value(z)
    losses.binary_cross_entropy_with_logits(leaf, y).backward()
    assert leaf.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)
    leaf = Value(z)
    a = leaf.sigmoid()
    if 0.0 < a.data < 1.0:  # a sigmoid rounded to exactly 0 or 1 is refused (an infinite log loss)
        losses.binary_cross_entropy(a, y).backward()
        assert leaf.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(z=pre_activations, y=st.floats(min_value=0.0, max_value=1.0))
def test_half_squared_error_through_a_sigmoid_has_output_delta_a_minus_y_times_a_times_1_minus_a(z, y):
    """Mitchell: δ(L) = (a - y) a (1 - a)."""
    leaf = Value(z)
    a = leaf.sigmoid()
    losses.squared_error(a, y, half=True).backward()
    assert leaf.grad == pytest.approx((a.data - y) * a.data * (1.0 - a.data), rel=1e-9, abs=1e-15)


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_ufldl_gradient_equals_delta_recursion_oracle():
    """J = (1/m) Σ ½‖h(x) - y‖² + (λ/2) Σ W²: grad W = (1/m)ΔW + λW, grad b = (1/m)Δb, where Δ comes
    from the textbook's delta recursion, computed here with plain floats."""
    lam = 0.1
    model = nn.MLP(N_IN, [4, N_OUT], activation="sigmoid", output_activation="sigmoid", rng=11)
    for b in model.parameters():  # non-zero biases, so the bias gradients are not trivial
        if b.label.endswith(".b"):
            b.data = random.Random(b.label).uniform(-0.5, 0.5)
    loss = losses.squared_error(
        [model(x) for x in X], REGRESSION_TARGETS, half=True, reduction="batchmean"
    ) + losses.l2_penalty(model, lam)
    model.zero_grad()
    loss.backward()

    (W1, W2), (b1, b2) = model.to_weights()
    delta_W1 = [[0.0] * N_IN for _ in range(4)]
    delta_W2 = [[0.0] * 4 for _ in range(N_OUT)]
    delta_b1, delta_b2 = [0.0] * 4, [0.0] * N_OUT
    for x, y in zip(X, REGRESSION_TARGETS):
        a2 = [_sigmoid(sum(w * xi for w, xi in zip(W1[j], x)) + b1[j]) for j in range(4)]
        a3 = [_sigmoid(sum(w * ai for w, ai in zip(W2[k], a2)) + b2[k]) for k in range(N_OUT)]
        d3 = [-(y[k] - a3[k]) * a3[k] * (1.0 - a3[k]) for k in range(N_OUT)]
        d2 = [sum(W2[k][j] * d3[k] for k in range(N_OUT)) * a2[j] * (1.0 - a2[j]) for j in range(4)]
        for k in range(N_OUT):
            delta_b2[k] += d3[k]
            for j in range(4):
                delta_W2[k][j] += d3[k] * a2[j]
        for j in range(4):
            delta_b1[j] += d2[j]
            for i in range(N_IN):
                delta_W1[j][i] += d2[j] * x[i]

    layer1, layer2 = model.layers
    for j, neuron in enumerate(layer1.neurons):
        assert neuron.b.grad == pytest.approx(delta_b1[j] / M, rel=1e-12)
        for i, w in enumerate(neuron.w):
            assert w.grad == pytest.approx(delta_W1[j][i] / M + lam * W1[j][i], rel=1e-12)
    for k, neuron in enumerate(layer2.neurons):
        assert neuron.b.grad == pytest.approx(delta_b2[k] / M, rel=1e-12)
        for j, w in enumerate(neuron.w):
            assert w.grad == pytest.approx(delta_W2[k][j] / M + lam * W2[k][j], rel=1e-12)


# ---- values, reductions and shapes -----------------------------------------------------------


def test_squared_error_values_and_reductions():
    predictions, targets = [[1.0, 2.0], [3.0, 5.0]], [[0.0, 0.0], [3.0, 3.0]]  # squares 1, 4, 0, 4
    assert losses.squared_error(predictions, targets, reduction="sum").data == 9.0
    assert losses.squared_error(predictions, targets).data == 9.0 / 4
    assert losses.squared_error(predictions, targets, reduction="batchmean").data == 9.0 / 2
    assert losses.squared_error(predictions, targets, half=True, reduction="sum").data == 4.5
    assert losses.squared_error(Value(3.0), 1.0).data == 4.0  # one example, one output


def test_loss_graphs_stay_small():
    p = Value(0.3)
    loss = losses.binary_cross_entropy(p, 1)  # -log p: a log, a sum, a scaling
    assert (
        loss.op == "mul_const" and loss.children[0].op == "sum" and loss.children[0].children[0].op == "log"
    )
    assert losses.squared_error([Value(1.0)], [0.0], reduction="sum").op == "sum"


def test_binary_cross_entropy_values():
    p = 0.8
    assert losses.binary_cross_entropy(p, 1.0).data == pytest.approx(-math.log(0.8))
    assert losses.binary_cross_entropy(p, 0.0).data == pytest.approx(-math.log(0.2))
    assert losses.binary_cross_entropy(p, 0.25).data == pytest.approx(
        -(0.25 * math.log(0.8) + 0.75 * math.log(0.2))
    )
    # p = 1 with y = 1 is a zero loss, not an error: the log(1 - p) term has coefficient 0.
    assert losses.binary_cross_entropy(Value(1.0), 1.0).data == 0.0


@given(z=st.floats(min_value=-700.0, max_value=700.0), y=st.floats(min_value=0.0, max_value=1.0))
def test_bce_with_logits_is_stable_and_matches_the_probability_form(z, y):
    loss = losses.binary_cross_entropy_with_logits(Value(z), y)
    assert math.isfinite(loss.data)
    a = _sigmoid(z) if z > -700 else 0.0
    if 1e-12 < a < 1.0 - 1e-12:
        assert loss.data == pytest.approx(losses.binary_cross_entropy(a, y).data, rel=1e-9, abs=1e-12)


def test_stable_at_extreme_logits():
    assert losses.binary_cross_entropy_with_logits(Value(1000.0), 0.0).data == pytest.approx(1000.0)
    assert losses.binary_cross_entropy_with_logits(Value(-1000.0), 0.0).data == 0.0
    logits = [Value(1000.0), Value(0.0), Value(-1000.0)]
    loss = losses.cross_entropy(logits, 1)
    assert loss.data == pytest.approx(1000.0)
    loss.backward()
    assert [v.grad for v in logits] == pytest.approx([1.0, -1.0, 0.0])


def test_cross_entropy_single_example_and_batch():
    logits = [1.0, 2.0, 0.5]
    expected = math.log(sum(math.exp(v) for v in logits)) - 2.0
    assert losses.cross_entropy(logits, 1).data == pytest.approx(expected)
    batch = losses.cross_entropy([logits, logits], [1, 1], reduction="sum")
    assert batch.data == pytest.approx(2 * expected)


def test_hinge_values():
    assert losses.hinge([2.0, 0.5, -0.2], [1, 1, 1], reduction="sum").data == pytest.approx(0.0 + 0.5 + 1.2)
    assert losses.hinge([0.5], [-1], margin=2.0).data == pytest.approx(2.5)
    scores = [[1.0, 3.0, 2.5]]  # target 0: violations (3 - 1 + 1) + (2.5 - 1 + 1)
    assert losses.multiclass_hinge(scores, [0]).data == pytest.approx(5.5)
    assert losses.multiclass_hinge([5.0, 1.0, 2.0], 0).data == 0.0


def test_l2_penalty_is_ufldls_and_expresses_micrographs_regulariser():
    model = nn.MLP(2, [3, 1], rng=0)
    weights = [v for name, v in model.state_dict().items() if not name.endswith(".b")]
    for p in model.parameters():  # make biases non-zero so including them matters
        if p.label.endswith(".b"):
            p.data = 0.5
    assert losses.l2_penalty(model, 0.2).data == pytest.approx(0.1 * sum(w * w for w in weights))
    everything = [p.data for p in model.parameters()]
    micrograd = 1e-4 * sum(p * p for p in everything)
    assert losses.l2_penalty(model, 2e-4, include_biases=True).data == pytest.approx(micrograd, rel=1e-14)
    values = [Value(3.0), Value(4.0)]
    penalty = losses.l2_penalty(values, 1.0)
    assert penalty.data == 12.5
    penalty.backward()
    assert [v.grad for v in values] == [3.0, 4.0]


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: losses.binary_cross_entropy(0.0, 1.0), ValueError, "infinite loss.*with_logits"),
        (lambda: losses.binary_cross_entropy(Value(1.0), 0.0), ValueError, "infinite loss"),
        (lambda: losses.binary_cross_entropy(1.2, 1.0), ValueError, r"probability must lie in \[0, 1\]"),
        (lambda: losses.binary_cross_entropy(0.5, 2.0), ValueError, r"target must lie in \[0, 1\]"),
        (lambda: losses.binary_cross_entropy_with_logits(0.5, -1.0), ValueError, "target must lie"),
        (lambda: losses.squared_error([1.0, 2.0], [1.0]), ValueError, "equal length"),
        (lambda: losses.squared_error([], []), ValueError, "non-empty"),
        (lambda: losses.squared_error([1.0], 1.0), ValueError, "1 predictions but one target"),
        (lambda: losses.squared_error(1.0, [1.0]), ValueError, "one prediction but 1 targets"),
        (lambda: losses.squared_error([[1.0, 2.0]], [[1.0]]), ValueError, "example 0: has 2 outputs"),
        (lambda: losses.squared_error([1.0], [[1.0]]), ValueError, "example 0: one output"),
        (lambda: losses.squared_error(["a"], [1.0]), TypeError, "example 0: expected a Value"),
        (lambda: losses.squared_error([1.0], [None]), TypeError, "target must be a finite number"),
        (lambda: losses.squared_error([1.0], [1.0], reduction="avg"), ValueError, "unknown reduction 'avg'"),
        (lambda: losses.hinge([1.0], [0]), ValueError, "labels must be -1 or \\+1"),
        (lambda: losses.hinge([1.0], [1], margin="1"), ValueError, "margin must be a finite number"),
        (lambda: losses.cross_entropy([1.0, 2.0], 2), ValueError, r"class index in \[0, 2\)"),
        (lambda: losses.cross_entropy([1.0, 2.0], 1.0), TypeError, "class index"),
        (lambda: losses.cross_entropy([1.0], 0), ValueError, "at least 2 class scores"),
        (
            lambda: losses.cross_entropy([[1.0, 2.0]], [0, 1]),
            ValueError,
            "one list of class scores per target",
        ),
        (lambda: losses.l2_penalty(nn.MLP(2, [1], rng=0), -1.0), ValueError, "lam must be"),
        (lambda: losses.l2_penalty([1.0], 1.0), TypeError, "parameter 0"),
        (lambda: losses.l2_penalty(3, 1.0), TypeError, "expected a Module"),
    ],
)
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- laws (property-based) -------------------------------------------------------------------

small = st.floats(min_value=-20.0, max_value=20.0)
probabilities = st.floats(min_value=1e-6, max_value=1.0 - 1e-6)


@given(st.lists(st.tuples(small, small, small, small), min_size=1, max_size=6))
def test_reductions_differ_only_by_their_divisor(rows):
    predictions = [[a, b] for a, b, _, _ in rows]
    targets = [[c, d] for _, _, c, d in rows]
    total = losses.squared_error(predictions, targets, reduction="sum").data
    mean = losses.squared_error(predictions, targets, reduction="mean").data
    batchmean = losses.squared_error(predictions, targets, reduction="batchmean").data
    assert mean * 2 * len(rows) == pytest.approx(total, rel=1e-12, abs=1e-300)
    assert batchmean * len(rows) == pytest.approx(total, rel=1e-12, abs=1e-300)


@given(st.lists(small, min_size=2, max_size=6), st.data(), st.floats(min_value=-100.0, max_value=100.0))
def test_cross_entropy_ignores_a_shift_and_its_gradient_is_softmax_minus_one_hot(logits, data, shift):
    target = data.draw(st.integers(min_value=0, max_value=len(logits) - 1))
    leaves = [Value(z) for z in logits]
    loss = losses.cross_entropy(leaves, target)
    assert losses.cross_entropy([z + shift for z in logits], target).data == pytest.approx(
        loss.data, rel=1e-9, abs=1e-9
    )
    loss.backward()
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    softmax = [e / sum(exps) for e in exps]
    expected = [p - (1.0 if k == target else 0.0) for k, p in enumerate(softmax)]
    assert [leaf.grad for leaf in leaves] == pytest.approx(expected, abs=1e-12)


@given(probabilities, st.floats(min_value=0.0, max_value=1.0))
def test_binary_cross_entropy_is_symmetric_under_swapping_the_classes(p, y):
    assert losses.binary_cross_entropy(p, y).data == pytest.approx(
        losses.binary_cross_entropy(1.0 - p, 1.0 - y).data, rel=1e-9, abs=1e-12
    )


@given(small, st.sampled_from([-1, 1]), st.floats(min_value=0.0, max_value=5.0))
def test_hinge_is_zero_exactly_when_the_margin_is_met(score, label, margin):
    leaf = Value(score)
    loss = losses.hinge(leaf, label, margin=margin)
    loss.backward()
    if label * score >= margin:
        assert loss.data == 0.0 and leaf.grad == 0.0
    else:
        assert loss.data == pytest.approx(margin - label * score) and leaf.grad == -label


def test_numpy_predictions_and_targets_are_accepted():
    np = pytest.importorskip("numpy")
    ours = losses.squared_error(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [1.0, 1.0]]))
    assert ours.data == pytest.approx((1 + 4 + 4 + 9) / 4)
    assert losses.cross_entropy(np.array([1.0, 2.0]), 1).data == pytest.approx(math.log(1 + math.e) - 1.0)
    batch = losses.cross_entropy(np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([1, 0]))
    assert batch.data == pytest.approx(math.log(1 + math.e) - 1.0)


# ---- Ng's ex4 gradient check, with his sin-initialised weights set exactly ----------------------


def _ng_debug_matrix(rows, columns):
    """Ng's debugInitializeWeights: sin(1..n)/10 laid out column-major (MATLAB order)."""
    return [[math.sin(1 + r + c * rows) / 10 for c in range(columns)] for r in range(rows)]


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_ng_ex4_gradient_check_passes_his_criterion(lam):
    n_in, n_hidden, n_labels, m = 3, 5, 3, 5
    theta1 = _ng_debug_matrix(n_hidden, 1 + n_in)  # column 0 holds the biases
    theta2 = _ng_debug_matrix(n_labels, 1 + n_hidden)
    model = nn.MLP.from_weights(
        [[row[1:] for row in theta1], [row[1:] for row in theta2]],
        [[row[0] for row in theta1], [row[0] for row in theta2]],
        activation="sigmoid",
        output_activation="sigmoid",
    )
    assert model.layers[0].neurons[1].w[0].data == math.sin(1 + 1 + 1 * n_hidden) / 10
    X = _ng_debug_matrix(m, n_in)
    Y = nn.one_hot([(i + 1) % n_labels for i in range(m)], n_labels)  # y = 1 + mod(1:m, 3), 0-based

    def cost(*_):
        outputs = [model(x) for x in X]
        return losses.binary_cross_entropy(outputs, Y, reduction="batchmean") + losses.l2_penalty(
            model, lam / m
        )

    report = check_grads(cost, model.parameters(), eps=1e-4, raise_on_mismatch=False)
    assert report.relative_difference < 1e-9, report  # Ng: "typically about 2e-11"
