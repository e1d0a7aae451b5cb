"""The demos' claims, asserted: formula equalities to 1e-9 and the published numbers to their precision.

The oracle is docs/reference-numbers.md (Nielsen, Ng, UFLDL, Trask, Rashid, micrograd). Long
runs are shortened where noted; each note says where the full-length run is checked instead.
"""

from __future__ import annotations

import itertools
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import autograd
import nn
from autograd import Value, vsum
from demos import __main__ as demos_main
from demos import (
    cross_entropy,
    digits,
    gradient_check,
    half_squared_error,
    newton_vs_gd,
    ng_vs_mitchell,
    single_weight,
    tanh_derivatives,
    two_moons,
    weight_decay,
)
from demos._common import MISSING_EXTRA_HINT, angle_degrees, output_folder

# ---------------------------------------------------------------------------------------------------
# 3. Nielsen: cross-entropy vs the quadratic cost on one sigmoid neuron
# ---------------------------------------------------------------------------------------------------

# docs/reference-numbers.md: output a at epochs 0/50/100/150/200/250/300 (plain GD, η = 0.15), with the
# number of decimals each value is published with.
NIELSEN_TABLE = {
    ("quadratic", (0.6, 0.9)): ("0.8176", "0.387", "0.211", "0.1527", "0.1237", "0.1061", "0.0940"),
    ("quadratic", (2.0, 2.0)): ("0.982", "0.976", "0.964", "0.933", "0.789", "0.357", "0.2028"),
    ("cross-entropy", (0.6, 0.9)): ("0.8176", "0.0792", "0.0371", "0.0241", "0.0178", "0.0141", "0.0116"),
    ("cross-entropy", (2.0, 2.0)): ("0.982", "0.0985", "0.0411", "0.0257", "0.0186", "0.0146", "0.0120"),
}


def _decimals(text: str) -> int:
    return len(text.split(".")[1])


def assert_to_published_precision(computed: float, published: str) -> None:
    """`computed` rounds to `published` at the number of decimals it was published with."""
    places = _decimals(published)
    assert f"{computed:.{places}f}" == published, f"{computed!r} does not round to {published}"


@pytest.fixture(scope="module")
def nielsen_runs():
    return cross_entropy.run_all(epochs=300)


@pytest.mark.parametrize("run", list(NIELSEN_TABLE), ids=lambda run: f"{run[0]}-{run[1][0]:g}-{run[1][1]:g}")
def test_nielsen_table_is_reproduced(nielsen_runs, run):
    history = nielsen_runs[run]
    for epoch, published in zip(cross_entropy.TABLE_EPOCHS, NIELSEN_TABLE[run]):
        assert_to_published_precision(history[epoch].output, published)


def test_nielsen_quoted_claims(nielsen_runs):
    # "learns to about 0.09" from (0.6, 0.9) with the quadratic cost.
    assert round(nielsen_runs[("quadratic", (0.6, 0.9))][300].output, 2) == 0.09
    # From (2, 2) "for the first 150 or so epochs the weights and biases don't change much": the
    # output is still above 0.93 at epoch 150, then falls to 0.2 in the next 150 epochs.
    saturated = nielsen_runs[("quadratic", (2.0, 2.0))]
    assert saturated[150].output > 0.93 and saturated[300].output < 0.21
    learned = nielsen_runs[("cross-entropy", (2.0, 2.0))]
    assert learned[50].output < 0.1


def test_backward_equals_nielsens_gradient_formulas(nielsen_runs):
    for (cost, _), history in nielsen_runs.items():
        for step in history:
            assert step.grad_w == pytest.approx(cross_entropy.textbook_grad_w(step, cost), abs=1e-9)
            assert step.grad_b == pytest.approx(step.grad_w, abs=1e-12)  # x = 1, so ∂C/∂b = ∂C/∂w


def test_unknown_cost_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        cross_entropy.train_neuron(0.6, 0.9, "hinge")


# ---------------------------------------------------------------------------------------------------
# 5. The single-weight network ŷ = σ(w·x) learning the identity on {0, 1}
# ---------------------------------------------------------------------------------------------------


def test_gradient_sign_sets_direction_and_matches_textbook():
    history = single_weight.train()
    for before, after in itertools.pairwise(history):
        assert before.grad_w < 0.0 and after.w > before.w  # negative gradient -> w goes up
        assert before.grad_w == pytest.approx(single_weight.textbook_grad_w(before.w), abs=1e-12)


def test_without_bias_error_never_drops_below_the_floor_and_bias_fixes_it():
    no_bias = single_weight.train()
    assert all(step.error > single_weight.ERROR_FLOOR for step in no_bias)
    assert no_bias[-1].error == pytest.approx(single_weight.ERROR_FLOOR, abs=2e-3)
    for w in (-50.0, -1.0, 0.0, 3.0, 50.0):  # σ(w·0) = 0.5 for every w
        assert single_weight.error(single_weight.Value(w)).data >= single_weight.ERROR_FLOOR
    with_bias = single_weight.train(b0=0.0)
    assert with_bias[-1].error < 0.01
    assert with_bias[-1].b < 0 < with_bias[-1].w


# ---------------------------------------------------------------------------------------------------
# 6. Ng's ex4 gradient check
# ---------------------------------------------------------------------------------------------------


def test_ng_check_network_layout():
    thetas, inputs, targets = gradient_check.check_problem()
    assert [len(thetas[0]), len(thetas[0][0]), len(thetas[1]), len(thetas[1][0])] == [5, 4, 3, 6]
    assert thetas[0][1][0] == math.sin(2) / 10  # column-major: second row of the first column
    assert thetas[0][0][1] == math.sin(6) / 10  # first row of the second column
    assert inputs[0] == [math.sin(1) / 10, math.sin(6) / 10, math.sin(11) / 10]
    assert [row.index(1.0) + 1 for row in targets] == [2, 3, 1, 2, 3]


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_ng_gradient_check_passes_below_1e9(lam):
    report = gradient_check.run_check(lam)
    assert len(report.entries) == 38
    assert report.relative_difference < 1e-9
    assert report.ok
    textbook = gradient_check.textbook_gradient(lam)
    for entry, expected in zip(report.entries, textbook):
        assert entry.analytic == pytest.approx(expected, abs=1e-9)


# ---------------------------------------------------------------------------------------------------
# 4. Ng's vs Mitchell's output delta, and Trask's networks
# ---------------------------------------------------------------------------------------------------


def test_sigmoid_gradient_matches_ng():
    published = ("0.196612", "0.235004", "0.250000", "0.235004", "0.196612")
    for z, value in zip(ng_vs_mitchell.SIGMOID_GRADIENT_POINTS, published):
        assert_to_published_precision(ng_vs_mitchell.sigmoid_gradient(z), value)


@pytest.mark.parametrize("loss", ng_vs_mitchell.LOSSES)
def test_output_delta_from_backward_is_the_textbook_delta(loss):
    for z in (-30.0, -4.0, -0.3, 0.0, 0.7, 5.0, 30.0):
        for y in (0.0, 0.25, 1.0):
            assert ng_vs_mitchell.output_delta(z, y, loss) == pytest.approx(
                ng_vs_mitchell.textbook_delta(z, y, loss), abs=1e-9
            )


def test_trask_two_layer_net_reproduces_published_outputs():
    run = ng_vs_mitchell.train_trask(
        ng_vs_mitchell.TRASK_TWO_LAYER_WEIGHTS, ng_vs_mitchell.TRASK_TWO_LAYER_TARGETS, iterations=10_000
    )
    for computed, published in zip(
        run.final_outputs, ("0.00966449", "0.00786506", "0.99358898", "0.99211957")
    ):
        assert_to_published_precision(computed, published)


TRASK_PUBLISHED_ERRORS = ("0.49641", "0.0085845", "0.0057895", "0.0046292", "0.0039588", "0.0035101")


@pytest.mark.slow
def test_trask_xor_net_reproduces_the_published_error_trace():
    # The full 60,000 iterations (about 12 s on an unloaded 2-core machine): every printed checkpoint
    # to Trask's 5 significant digits, and the final outputs to his 4 decimals.
    run = ng_vs_mitchell.train_trask(loss="squared", iterations=60_000)
    for iteration, value in zip(ng_vs_mitchell.TRASK_CHECKPOINTS, TRASK_PUBLISHED_ERRORS):
        assert f"{run.mean_abs_errors[iteration]:.5g}" == f"{float(value):.5g}"
    for computed, final in zip(run.final_outputs, ("0.0026", "0.9967", "0.9970", "0.0039")):
        assert_to_published_precision(computed, final)


def test_demo_quotes_trasks_published_trace_correctly():
    # The demo compares its full run with these constants; they must be the published numbers.
    assert [f"{e:.5g}" for e in ng_vs_mitchell.TRASK_PUBLISHED_ERRORS] == [
        f"{float(v):.5g}" for v in TRASK_PUBLISHED_ERRORS
    ]
    assert ng_vs_mitchell.TRASK_PUBLISHED_OUTPUTS == (0.0026, 0.9967, 0.9970, 0.0039)
    assert ng_vs_mitchell.matches_published(
        [0.496410, 0.00858452, 0.00578946, 0.00462918, 0.00395877, 0.00351012],
        [0.00261, 0.99671, 0.99698, 0.00387],
    )
    assert not ng_vs_mitchell.matches_published(
        [0.496410, 0.0085847, 0.00578946, 0.00462918, 0.00395877, 0.00351012],
        [0.00261, 0.99671, 0.99698, 0.00387],
    )


def test_log_loss_trains_the_xor_net_faster():
    squared = ng_vs_mitchell.train_trask(loss="squared", iterations=2_001)
    log = ng_vs_mitchell.train_trask(loss="log", iterations=2_001)
    assert log.mean_abs_errors[2_000] < squared.mean_abs_errors[2_000] / 5


# ---------------------------------------------------------------------------------------------------
# 1. The ½ in squared error, and dropping σ'(z)
# ---------------------------------------------------------------------------------------------------


def test_gradient_of_squared_error_is_exactly_twice_the_half_version():
    thetas = half_squared_error.initial_weights()
    for examples in ([example] for example in half_squared_error.XOR_EXAMPLES):
        full = half_squared_error.gradient(thetas, examples, "squared")
        half = half_squared_error.gradient(thetas, examples, "half")
        assert any(h != 0.0 for h in half)
        for f, h in zip(full, half):
            assert f == pytest.approx(2.0 * h, abs=1e-9)


def test_dropping_the_output_sigmoid_derivative_rescales_per_example_but_turns_the_batch_gradient():
    thetas = half_squared_error.initial_weights()
    examples = half_squared_error.XOR_EXAMPLES
    for example in examples:
        true_one = half_squared_error.gradient(thetas, [example], "half")
        simplified = half_squared_error.gradient(thetas, [example], "drop-output-sigmoid")
        assert angle_degrees(true_one, simplified) < 1e-6
        assert (
            angle_degrees(true_one, half_squared_error.gradient(thetas, [example], "drop-every-sigmoid")) > 10
        )
    batch = half_squared_error.gradient(thetas, examples, "half")
    assert angle_degrees(batch, half_squared_error.gradient(thetas, examples, "drop-output-sigmoid")) > 5
    # Dropping every σ'(z) here points uphill: more than 90° away from the true gradient.
    assert angle_degrees(batch, half_squared_error.gradient(thetas, examples, "drop-every-sigmoid")) > 90


def test_dropping_the_output_sigmoid_derivative_is_the_cross_entropy_gradient():
    thetas = half_squared_error.initial_weights(seed=11)
    examples = half_squared_error.XOR_EXAMPLES
    simplified = half_squared_error.gradient(thetas, examples, "drop-output-sigmoid")
    for a, b in zip(simplified, half_squared_error.gradient(thetas, examples, "cross-entropy")):
        assert a == pytest.approx(b, abs=1e-9)


def test_training_with_every_sigmoid_derivative_dropped_fails_on_xor():
    true_run = half_squared_error.train("half", epochs=300)
    broken = half_squared_error.train("drop-every-sigmoid", epochs=300)
    assert true_run.errors[-1] < 0.05
    assert broken.errors[-1] > 0.4


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown scheme 'quartic'"):
        half_squared_error.gradient(
            half_squared_error.initial_weights(), half_squared_error.XOR_EXAMPLES, "quartic"
        )


# ---------------------------------------------------------------------------------------------------
# 2. UFLDL: averaging and weight decay
# ---------------------------------------------------------------------------------------------------


def test_averaging_only_rescales_the_gradient():
    thetas, examples = weight_decay.initial_weights(seed=5), weight_decay.make_examples()
    averaged = weight_decay.gradient(thetas, examples, average=True)
    summed = weight_decay.gradient(thetas, examples, average=False)
    for a, s in zip(averaged, summed):
        assert a == pytest.approx(s / len(examples), abs=1e-9)


@pytest.mark.parametrize("lam", [0.0, 0.01, 0.5])
def test_weight_decay_adds_lambda_w_and_matches_the_textbook(lam):
    thetas, examples = weight_decay.initial_weights(seed=2), weight_decay.make_examples()
    plain = weight_decay.gradient(thetas, examples)
    decayed = weight_decay.gradient(thetas, examples, lam)
    weights = [w for theta in thetas for row in theta for w in row]
    for d, p, w, bias in zip(decayed, plain, weights, weight_decay.is_bias(thetas)):
        assert d - p == pytest.approx(0.0 if bias else lam * w, abs=1e-9)
    for d, t in zip(decayed, weight_decay.textbook_gradient(thetas, examples, lam)):
        assert d == pytest.approx(t, abs=1e-9)


def test_ufldl_gradient_check_gives_four_significant_digits():
    report = weight_decay.run_check(0.01)
    assert report.ok and report.max_rel_error < 1e-4


def test_weights_shrink_as_lambda_grows():
    final_norms = [weight_decay.train(lam, steps=200).weight_norms[-1] for lam in weight_decay.LAMBDAS]
    assert final_norms == sorted(final_norms, reverse=True)
    assert final_norms[-1] < 0.5 * final_norms[0]


# ---------------------------------------------------------------------------------------------------
# 7. Two moons (micrograd's demo) and the flagship `gradstep demo`
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_moons():
    """The full 100-step run (about 12 s here): every published number is checked on it."""
    return two_moons.train(progress="none")


@pytest.mark.slow
def test_moons_reproduces_micrograds_published_numbers(trained_moons):
    model, history, X, y = trained_moons
    assert len(model.parameters()) == 337
    assert len(X) == 100 and sorted(set(y)) == [-1, 1]
    accuracy = history.metric("accuracy")
    assert f"{history.losses[0]:.4f}" == "0.8958" and accuracy[0] == 0.5
    assert f"{history.losses[99]:.6f}" == "0.010978" and accuracy[99] == 1.0
    _, final_accuracy = two_moons.loss_and_accuracy(model, X, y)
    assert final_accuracy == 1.0


@pytest.mark.slow
def test_graph_example_has_gradients_flowing(trained_moons):
    _, _, X, y = trained_moons
    model = two_moons.make_model()
    losses = two_moons.hinge_losses(model, X, y)
    index = max(range(len(X)), key=losses.__getitem__)
    loss = two_moons.example_loss(model, X[index], y[index])
    loss.backward()
    assert loss.data > 1.0
    assert any(p.grad != 0.0 for p in model.parameters())


@pytest.mark.slow
def test_flagship_is_the_default_and_writes_plots_graph_and_stepper(
    trained_moons, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(two_moons, "train", lambda: trained_moons)  # reuse the full run above
    assert demos_main.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "loss 0.010978, accuracy 100%" in out
    names = [
        "decision_boundary.png",
        "example_graph.svg",
        "example_stepper.html",
        "loss.png",
        "training.html",
    ]
    for name in names:
        assert f"wrote {tmp_path / name}" in out
    # atomic writes leave no temp files; the training viewer's stepper pages have their own folder
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*names, "training_steppers"])
    assert len(list((tmp_path / "training_steppers").glob("example-*-step-*.html"))) == 4
    for name in ("decision_boundary.png", "loss.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    svg = (tmp_path / "example_graph.svg").read_text()
    assert "<svg" in svg and "</svg>" in svg
    page = (tmp_path / "example_stepper.html").read_text()
    assert "<html" in page.lower() and "relu(1 - y·score)" in page
    viewer = (tmp_path / "training.html").read_text()
    assert (
        "window.gradstep" in viewer and "This page holds 100 recorded steps (every step, 0 to 99)" in viewer
    )


def test_nielsen_figure_is_written(nielsen_runs, tmp_path):
    path = cross_entropy.plot_runs(nielsen_runs, tmp_path / "nielsen.png")
    assert path.read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------------
# The command line: gradstep demo [NAME | --list]
# ---------------------------------------------------------------------------------------------------


def test_list_names_every_demo_with_its_question(capsys):
    assert demos_main.main(["--list"]) == 0
    out = capsys.readouterr().out
    starts = set()
    for name in demos_main.DEMOS:
        module = demos_main.load(name)
        assert name == module.NAME
        [line] = [line for line in out.splitlines() if line.startswith(f"  {name} ")]
        assert line[len(name) + 2 :].startswith("  ") and module.QUESTION in line
        starts.add(line.index(module.QUESTION))
    assert len(starts) == 1  # the questions line up
    assert list(demos_main.DEMOS)[:8] == [
        "half",
        "weight-decay",
        "cross-entropy",
        "deltas",
        "single-weight",
        "gradcheck",
        "moons",
        "digits",
    ]


def test_unknown_demo_is_a_clear_error(capsys):
    assert demos_main.main(["nonsense"]) == 2
    err = capsys.readouterr().err
    assert "unknown demo 'nonsense'" in err and "moons" in err


def test_gradstep_cli_delegates_to_the_demos(capsys):
    from gradstep import cli

    assert cli.main(["demo", "--list"]) == 0
    assert "gradcheck" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["single-weight", "gradcheck"])
def test_quick_demos_run_end_to_end(name, tmp_path, capsys):
    assert demos_main.main([name, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for path in tmp_path.iterdir():
        assert f"wrote {path}" in out and path.read_bytes().startswith(b"\x89PNG")


def test_missing_extra_is_one_line_not_a_traceback(monkeypatch, tmp_path, capsys):
    def no_matplotlib():
        raise ImportError(MISSING_EXTRA_HINT)

    monkeypatch.setattr(single_weight, "pyplot", no_matplotlib)
    assert demos_main.main(["single-weight", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"gradstep demo single-weight: error: {MISSING_EXTRA_HINT}\n"


def test_short_runs_of_the_other_figures_are_written(tmp_path):
    half_runs = [half_squared_error.train(scheme, epochs=30) for scheme in ("half", "drop-every-sigmoid")]
    decay_runs = [weight_decay.train(lam, steps=10) for lam in weight_decay.LAMBDAS]
    trask_runs = {
        loss: ng_vs_mitchell.train_trask(loss=loss, iterations=50) for loss in ng_vs_mitchell.LOSSES
    }
    paths = [
        half_squared_error.plot_runs(half_runs, tmp_path / "half.png"),
        weight_decay.plot_runs(decay_runs, tmp_path / "decay.png"),
        ng_vs_mitchell.plot_trask(trask_runs, tmp_path / "trask.png"),
    ]
    for path in paths:
        assert path.read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------------
# 8. Handwritten digits (Rashid's recipe on scikit-learn's 8x8 digits)
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_data():
    return digits.load_data()


@pytest.fixture(scope="module")
def softmax_digits(digits_data):
    """The softmax variant's full default run (5 epochs of 1,348 images, about 10 s here)."""
    return digits.train("softmax", data=digits_data, progress="none")


def test_digits_split_and_scaling_follow_rashid(digits_data):
    assert len(digits_data.train_images) == 1348 and len(digits_data.test_images) == 449
    pixels = [p for image in digits_data.train_images for p in image]
    assert min(pixels) == pytest.approx(0.01) and max(pixels) == pytest.approx(1.0)


def test_digits_minibatch_run_matches_eager_minibatch_steps_and_learns(digits_data):
    pytest.importorskip("numpy")
    import random

    run = digits.train_minibatch(epochs=6, data=digits_data)
    assert run.epoch_accuracies[-1] > 0.8
    assert len(run.history.losses) == 6 * math.ceil(1348 / digits.MINIBATCH)
    # The first two steps again, eagerly: the same shuffled batches, the batch-mean loss, SGD.
    model = digits.make_model("rashid", digits.DEFAULT_HIDDEN["rashid"])
    optimizer = nn.SGD(model, lr=digits.MINIBATCH_LEARNING_RATE)
    order = list(range(1348))
    random.Random(digits.SEED).shuffle(order)
    for k in range(2):
        chosen = order[k * digits.MINIBATCH : (k + 1) * digits.MINIBATCH]

        def loss_fn(chosen=chosen) -> Value:
            terms = [
                digits.rashid_batch_loss(
                    model(digits_data.train_images[i]),
                    [Value(0.99 if j == digits_data.train_labels[i] else 0.01) for j in range(10)],
                )
                for i in chosen
            ]
            return vsum(terms) * (1.0 / len(terms))

        loss, _ = nn.train_step(loss_fn, optimizer)
        assert run.history.losses[k] == pytest.approx(loss, rel=1e-12)


def test_rashid_net_has_his_architecture_and_his_update(digits_data):
    model = digits.make_model("rashid", hidden=10)
    assert model.sizes == [64, 10, 10]
    assert all(neuron.b is None for layer in model.layers for neuron in layer.neurons)
    image, label = digits_data.train_images[0], digits_data.train_labels[0]
    hidden = model.layers[0](image)
    outputs = model(image)
    digits.example_loss("rashid", outputs, label).backward()
    # Rashid's update for the output weights is lr·E·o(1 - o)·hᵀ with E = t - o: minus the gradient.
    for k, neuron in enumerate(model.layers[1].neurons):
        o = outputs[k].data
        target = 0.99 if k == label else 0.01
        for w, h in zip(neuron.w, hidden):
            assert -w.grad == pytest.approx((target - o) * o * (1 - o) * h.data, abs=1e-12)


@pytest.mark.slow
def test_softmax_variant_reaches_95_percent_held_out(softmax_digits):
    assert softmax_digits.epoch_accuracies[-1] >= 0.95
    assert len(softmax_digits.epoch_seconds) == digits.DEFAULT_EPOCHS["softmax"]


@pytest.mark.slow
def test_rashid_recipe_reaches_95_percent_held_out(digits_data):
    # The demo's full default run (64-16-10, 30 epochs, compiled: about 10 s here). It ends at 96.0%.
    run = digits.train("rashid", data=digits_data, progress="none")
    assert len(run.epoch_accuracies) == digits.DEFAULT_EPOCHS["rashid"] == 30
    assert run.model.sizes == [64, 16, 10]
    assert run.epoch_accuracies[-1] >= 0.95
    assert run.epoch_accuracies[0] < run.epoch_accuracies[-1]


def test_compiled_epochs_give_exactly_the_eager_weights(digits_data):
    # A small subset, two epochs (so the second one starts from trained weights, in a new order).
    subset = digits.DigitsData(
        digits_data.train_images[:150],
        digits_data.train_labels[:150],
        digits_data.test_images[:50],
        digits_data.test_labels[:50],
    )
    eager = digits.train("rashid", hidden=8, epochs=2, data=subset, progress="none", compiled=False)
    compiled = digits.train("rashid", hidden=8, epochs=2, data=subset, progress="none", compiled=True)
    assert compiled.model.state_dict() == eager.model.state_dict()
    assert compiled.history.losses == eager.history.losses
    assert compiled.epoch_accuracies == eager.epoch_accuracies
    untrained = digits.make_model("rashid", hidden=8).state_dict()
    assert compiled.model.state_dict() != untrained


def test_softmax_variant_cannot_be_compiled(digits_data):
    with pytest.raises(ValueError, match="'softmax' variant cannot be compiled"):
        digits.train("softmax", epochs=1, data=digits_data, compiled=True)


@pytest.mark.slow
def test_confusion_matrix_counts_every_held_out_image(softmax_digits, digits_data):
    counts = digits.confusion_matrix(softmax_digits.model, digits_data.test_images, digits_data.test_labels)
    assert sum(map(sum, counts)) == len(digits_data.test_labels)
    correct = sum(counts[k][k] for k in range(10))
    assert correct / len(digits_data.test_labels) == pytest.approx(softmax_digits.epoch_accuracies[-1])


@pytest.mark.slow
def test_digits_pictures_are_written(softmax_digits, digits_data, tmp_path):
    paths = [
        digits.plot_confusion([softmax_digits], digits_data, tmp_path / "confusion.png"),
        digits.plot_misclassified(softmax_digits, digits_data, tmp_path / "wrong.png"),
    ]
    for path in paths:
        assert path.read_bytes().startswith(b"\x89PNG")


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown variant 'relu'"):
        digits.train("relu")


# ---------------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------------


def test_output_folder_defaults_to_gradstep_output_and_refuses_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert output_folder("moons") == Path("gradstep-output/moons") and Path("gradstep-output/moons").is_dir()
    assert output_folder("moons", tmp_path / "mine") == tmp_path / "mine"
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(NotADirectoryError, match="a_file"):
        output_folder("moons", tmp_path / "a_file")


def test_angle_between_vectors():
    assert angle_degrees([1.0, 0.0], [2.0, 0.0]) == 0.0
    assert angle_degrees([1.0, 0.0], [0.0, 3.0]) == pytest.approx(90.0)
    assert angle_degrees([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(180.0)
    with pytest.raises(ValueError, match="zero vector"):
        angle_degrees([0.0, 0.0], [1.0, 0.0])


# ---------------------------------------------------------------------------------------------------
# Checks before any work, one-line failures, Ctrl-C
# ---------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PLOTTING_DEMOS = [name for name in demos_main.DEMOS if name != "compiled"]


def run_demo_process(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", PLOTTING_DEMOS)
def test_without_matplotlib_a_demo_fails_in_one_line_before_any_work(name, tmp_path):
    out = tmp_path / "out"
    hide_matplotlib = (
        "import sys; sys.modules['matplotlib'] = None\n"  # `import matplotlib` now raises ImportError
        "from gradstep.cli import main; raise SystemExit(main(['demo', sys.argv[1], '--out', sys.argv[2]]))"
    )
    result = run_demo_process(hide_matplotlib, name, str(out))
    assert result.returncode == 1
    assert result.stdout == ""  # not even the question: nothing was computed
    assert result.stderr.splitlines() == [
        f"gradstep demo {name}: error: the demos need matplotlib, which is not installed: in a clone of "
        'gradstep run pip install ".[demos]" (or pip install matplotlib tqdm)'
    ]
    assert not out.exists()


def test_the_compiled_code_demo_needs_no_matplotlib(tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from gradstep.cli import main; raise SystemExit(main(['demo', 'compiled', '--out', sys.argv[1]]))"
    )
    result = run_demo_process(code, str(tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("make_out", "message"),
    [
        (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "exists and is not a folder"),
        (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "sub", "is not a folder"),
    ],
)
def test_a_bad_output_folder_fails_in_one_line_before_any_work(make_out, message, tmp_path, capsys):
    out = make_out(tmp_path)
    assert demos_main.main(["moons", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("gradstep demo moons: error: ") and message in line and str(out) in line


def test_without_a_renderer_the_moons_demo_fails_in_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRADSTEP_NO_WASM", "1")
    monkeypatch.delenv("GRADSTEP_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    monkeypatch.setattr(two_moons, "train", lambda: pytest.fail("trained before checking the renderer"))
    assert demos_main.main(["moons", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("gradstep demo moons: error: cannot draw graphs: no Graphviz renderer found")
    assert not (tmp_path / "out").exists()


def test_a_write_error_is_one_line(tmp_path, monkeypatch, capsys):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "single_weight.png"))

    monkeypatch.setattr(single_weight, "plot_training", full_disk)
    assert demos_main.main(["single-weight", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"gradstep demo single-weight: error: {tmp_path / 'single_weight.png'}: No space left on device"
    ]


def interrupt_demo(name: str, out: Path, wait_for: str) -> tuple[int, str, str]:
    """Start ``gradstep demo NAME``, press Ctrl-C once `wait_for` is printed; (exit code, stdout, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gradstep", "demo", name, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if wait_for in line:
                break
        time.sleep(1.0)  # well inside the work
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, "".join(seen) + rest, err


def test_ctrl_c_stops_the_digits_demo_entirely_with_exit_130(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = interrupt_demo("digits", out, "epochs (compiled replay)")
    assert code == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("gradstep demo digits: interrupted")
    assert "softmax outputs" not in stdout  # the second variant never started
    assert not out.exists()  # no figures at all


def test_ctrl_c_in_moons_training_writes_no_pictures_of_a_part_trained_model(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = interrupt_demo("moons", out, "data: 100 points")
    assert code == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("gradstep demo moons: interrupted after ") and last.endswith("nothing written")
    assert "wrote" not in stdout and not out.exists()


# ---------------------------------------------------------------------------------------------------
# 10. The derivative of the derivative: tanh and six derivatives by repeated grad(create_graph=True)
# ---------------------------------------------------------------------------------------------------

# Derived by hand with d/dx p(t) = p'(t)(1 - t²), t = tanh x (the module docstring shows them).
TANH_CLOSED_FORMS = [
    ([0, 1], "t"),
    ([1, 0, -1], "1 - t²"),
    ([0, -2, 0, 2], "-2t + 2t³"),
    ([-2, 0, 8, 0, -6], "-2 + 8t² - 6t⁴"),
    ([0, 16, 0, -40, 0, 24], "16t - 40t³ + 24t⁵"),
    ([16, 0, -136, 0, 240, 0, -120], "16 - 136t² + 240t⁴ - 120t⁶"),
    ([0, -272, 0, 1232, 0, -1680, 0, 720], "-272t + 1232t³ - 1680t⁵ + 720t⁷"),
]
TANH_NODE_COUNTS = [2, 5, 9, 16, 28, 49, 87]


@pytest.fixture(scope="module")
def tanh_check():
    return tanh_derivatives.check_derivatives()


@pytest.fixture(scope="module")
def derivatives_demo_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("derivatives")
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert demos_main.main(["derivatives", "--out", str(out)]) == 0
    return buffer.getvalue(), out


def test_the_recurrence_gives_the_hand_derived_closed_forms():
    polynomials = tanh_derivatives.tanh_polynomials()
    assert polynomials == [coefficients for coefficients, _ in TANH_CLOSED_FORMS]
    assert [tanh_derivatives.format_polynomial(p) for p in polynomials] == [t for _, t in TANH_CLOSED_FORMS]
    for _, text in TANH_CLOSED_FORMS[1:]:
        assert text in tanh_derivatives.__doc__
    # tanh x = x - x³/3 + 2x⁵/15 - 17x⁷/315 + ...: tanh⁽ᵏ⁾(0) = k! × the coefficient of xᵏ.
    taylor = {1: 1.0, 3: -1.0 / 3.0, 5: 2.0 / 15.0, 7: -17.0 / 315.0}
    seventh = tanh_derivatives.tanh_polynomials(7)
    for order, coefficient in taylor.items():
        assert seventh[order][0] == pytest.approx(math.factorial(order) * coefficient, abs=1e-12)
    assert all(seventh[order][0] == 0 for order in (0, 2, 4, 6))
    with pytest.raises(ValueError, match="orders must be >= 0, got -1"):
        tanh_derivatives.tanh_polynomials(-1)


def test_every_order_matches_its_closed_form_and_central_differences(tanh_check):
    assert len(tanh_check.xs) == 121 and tanh_check.xs[0] == -3.0 and tanh_check.xs[-1] == 3.0
    assert max(tanh_check.closed_form_error) < tanh_derivatives.CLOSED_FORM_TOLERANCE == 1e-9
    differences = tanh_check.difference_error
    assert differences[0] is None
    assert max(d for d in differences if d is not None) < tanh_derivatives.DIFFERENCE_TOLERANCE == 1e-7
    # The numbers the demo prints (and README quotes): the worst of each check.
    assert f"{max(tanh_check.closed_form_error):.1e}" == "1.3e-13"
    assert f"{max(d for d in differences if d is not None):.1e}" == "6.8e-09"
    # Independently of the demo's own helpers: math.tanh and the closed forms written out here.
    for x, sixth in zip(tanh_check.xs, tanh_check.computed[6]):
        t = math.tanh(x)
        assert sixth == pytest.approx(-272 * t + 1232 * t**3 - 1680 * t**5 + 720 * t**7, abs=1e-9)
    for x, second in zip(tanh_check.xs, tanh_check.computed[2]):
        assert second == pytest.approx(-2 * math.tanh(x) * (1 - math.tanh(x) ** 2), abs=1e-12)


def test_the_graph_roughly_doubles_per_order_and_keeps_the_graph_below():
    assert tanh_derivatives.node_counts() == TANH_NODE_COUNTS
    for x in (-3.0, -0.7, 0.0, 2.9):  # the structure does not depend on x: tanh has no branches
        assert tanh_derivatives.node_counts(x=x) == TANH_NODE_COUNTS
    factors = tanh_derivatives.growth_factors(TANH_NODE_COUNTS)
    assert [f"{f:.2f}" for f in (min(factors), max(factors))] == ["1.75", "1.80"]
    _, derivatives = tanh_derivatives.derivative_graphs(0.5)
    # Each graph reuses the one below: all of tanh's (its derivative reads t), then all but the
    # output product of each order (a product's derivative reads its operands, not itself). The
    # first backward pass makes no node for its seed: tanh' is the local derivative (1-t)*(1+t).
    missing = []
    for before, after in itertools.pairwise(derivatives):
        below, above = set(autograd.topological_order(before)), set(autograd.topological_order(after))
        missing.append(len(below - above))
        assert before not in above or before is derivatives[0]
    assert missing == [0, 1, 1, 1, 1, 1]


def test_the_second_derivative_graph_marks_its_backward_nodes(tmp_path):
    _, derivatives = tanh_derivatives.derivative_graphs(0.5, 2)
    made = autograd.backward_nodes(derivatives[2], derivatives[0])
    assert len(made) == TANH_NODE_COUNTS[2] - 2  # all but x and tanh x
    path = tanh_derivatives.draw_second_derivative(tmp_path / "second.svg")
    svg = path.read_text()
    assert svg.startswith("<?xml") or "<svg" in svg[:400]
    assert svg.count('stroke="#d9480f"') >= len(made) and "backward pass" in svg


def test_the_derivatives_demo_prints_its_table_and_writes_its_files(derivatives_demo_output, tanh_check):
    out, folder = derivatives_demo_output
    assert out.startswith(tanh_derivatives.QUESTION)
    values = tanh_derivatives.derivatives_at(0.5)
    assert f"{values[6]:.6f}" == "-36.279540"
    for order, ((_, text), nodes) in enumerate(zip(TANH_CLOSED_FORMS, TANH_NODE_COUNTS)):
        row = next(
            line for line in out.splitlines() if line.startswith(tanh_derivatives.order_name(order) + " ")
        )
        assert text in row and f"{values[order]:.6f}" in row and row.endswith(f"{nodes:>7}")
        assert f"{tanh_check.closed_form_error[order]:.1e}" in row
    assert "Against the closed forms: 1.3e-13 at worst (< 1e-09)" in out
    assert "(h = 1e-05): 6.8e-09 (< 1e-07)" in out
    assert "The graph grows 1.75x to 1.80x per order (5 values for tanh', 87 for tanh⁽⁶⁾)" in out
    for name in ("tanh_derivatives.png", "tanh_second_derivative_graph.svg"):
        assert f"wrote {folder / name}" in out
    assert (folder / "tanh_derivatives.png").read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------------
# 11. Newton's method vs gradient descent on one sigmoid neuron (w, b)
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def newton_runs():
    return newton_vs_gd.newton(), newton_vs_gd.gradient_descent(), newton_vs_gd.undamped_newton()


def test_the_data_are_not_separable_so_the_minimum_is_finite(newton_runs):
    assert len(newton_vs_gd.DATA_X) == 10 and newton_vs_gd.START == (-2.0, 4.0)
    assert newton_vs_gd.TOLERANCE == 1e-8
    ones = [x for x, y in zip(newton_vs_gd.DATA_X, newton_vs_gd.DATA_Y) if y == 1.0]
    zeros = [x for x, y in zip(newton_vs_gd.DATA_X, newton_vs_gd.DATA_Y) if y == 0.0]
    assert min(ones) < max(zeros)  # no threshold on x puts every 1 above every 0
    newton_run, _, _ = newton_runs
    w, b = newton_run[-1].point
    assert (f"{w:.7f}", f"{b:.7f}") == ("1.3534115", "-3.7218817")


def test_autograd_hessian_is_the_written_out_hessian():
    for point in (newton_vs_gd.START, (1.35, -3.72), (6.3, -12.4), (0.0, 0.0)):
        computed = autograd.hessian(newton_vs_gd.neuron_loss, point)
        expected = newton_vs_gd.textbook_hessian(*point)
        for row_c, row_e in zip(computed, expected):
            assert row_c == pytest.approx(row_e, rel=1e-13, abs=1e-16)
    at_start = autograd.hessian(newton_vs_gd.neuron_loss, newton_vs_gd.START)
    textbook = newton_vs_gd.textbook_hessian(*newton_vs_gd.START)
    worst = max(abs(a - e) for ra, re in zip(at_start, textbook) for a, e in zip(ra, re))
    assert f"{worst:.1e}" == "5.6e-17"


def test_undamped_newton_raises_the_loss_then_saturates_the_neuron_where_h_is_singular(newton_runs):
    _, _, undamped = newton_runs
    assert [f"{s.loss:.4f}" for s in undamped] == ["2.4698", "3.0789", "6211.8282"]
    assert [f"{c:.2f}" for c in undamped[1].point] == ["14.66", "-28.82"]
    assert [f"{c:.0f}" for c in undamped[2].point] == ["-5399", "10784"]
    assert newton_vs_gd.hessian_is_singular(undamped[2].point)
    w, b = undamped[2].point
    logits = sorted(abs(w * x + b) for x in newton_vs_gd.DATA_X)
    assert 10 < logits[0] < 20 and logits[1] > 2000  # one point left unsaturated: H has rank 1
    assert newton_vs_gd.saturated_points(undamped[2].point) == 9
    assert newton_vs_gd.saturated_points(newton_vs_gd.START) == 0
    assert not newton_vs_gd.hessian_is_singular(undamped[1].point)


def test_damped_newton_converges_quadratically_in_six_steps(newton_runs):
    newton_run, _, _ = newton_runs
    assert newton_run[-1].iteration == 6 and len(newton_run) == 7
    assert newton_run[-1].gradient_norm < newton_vs_gd.TOLERANCE
    assert all(s.gradient_norm >= newton_vs_gd.TOLERANCE for s in newton_run[:-1])
    assert [s.step_size for s in newton_run] == [0.5, 0.0625, 1.0, 1.0, 1.0, 1.0, None]
    assert [s.modified for s in newton_run[:-1]] == [False] * 6  # the log loss is convex
    smallest = min(newton_run, key=lambda s: s.smallest_curvature)
    assert (smallest.iteration, f"{smallest.smallest_curvature:.1e}") == (1, "4.8e-04")
    assert all(s.smallest_curvature > 0 for s in newton_run)
    losses = [s.loss for s in newton_run]
    assert all(after < before for before, after in itertools.pairwise(losses))
    # Quadratic: once the steps are full, ‖∇‖ₖ₊₁ ≤ C ‖∇‖ₖ² with a bounded C (13.82 at the end) ...
    ratios = newton_vs_gd.quadratic_ratios(newton_run)
    assert [f"{r:.2f}" for r in ratios] == ["0.28", "0.71", "0.25", "4.88", "10.64", "13.82"]
    assert max(ratios) < 15
    # ... so the digits double: 1e-2, 5e-4, 3e-6, 1e-10.
    assert [f"{s.gradient_norm:.2e}" for s in newton_run[3:]] == [
        "1.02e-02",
        "5.03e-04",
        "2.69e-06",
        "1.00e-10",
    ]


def test_gradient_descent_converges_linearly_at_the_rate_the_hessian_predicts(newton_runs):
    newton_run, gd_run, _ = newton_runs
    beta = newton_vs_gd.curvature_bound()
    assert (f"{beta:.4f}", f"{1 / beta:.4f}") == ("2.6068", "0.3836")
    assert gd_run[0].step_size == 1 / beta
    # β bounds the curvature: λ_max(H) ≤ β wherever either method went (σ' ≤ ¼).
    for entry in [*newton_run, *gd_run[::50]]:
        assert newton_vs_gd.eigenvalues(autograd.hessian(newton_vs_gd.neuron_loss, entry.point))[1] <= beta
    assert gd_run[-1].iteration == 2425 and gd_run[-1].gradient_norm < newton_vs_gd.TOLERANCE
    # The loss never rises (by more than rounding: near the minimum it moves in its last bits).
    assert all(after.loss <= before.loss + 1e-15 for before, after in itertools.pairwise(gd_run))
    predicted = newton_vs_gd.predicted_gd_rate(newton_run[-1].point)
    rates = newton_vs_gd.linear_rates(gd_run)
    assert f"{predicted:.5f}" == f"{rates[-1]:.5f}" == "0.99368"
    assert all(r == pytest.approx(predicted, abs=1e-4) for r in rates[-1000:])


def test_both_methods_reach_the_same_minimum(newton_runs):
    newton_run, gd_run, _ = newton_runs
    assert abs(newton_run[-1].loss - gd_run[-1].loss) < 1e-14
    assert f"{abs(newton_run[-1].loss - gd_run[-1].loss):.1e}" == "3.1e-15"
    assert newton_run[-1].point == pytest.approx(gd_run[-1].point, abs=1e-6)
    assert f"{gd_run[-1].iteration / newton_run[-1].iteration:.0f}" == "404"


def test_the_newton_step_is_modified_where_the_hessian_is_not_positive_definite():
    direction, modified = newton_vs_gd.newton_direction([1.0, 1.0], [[2.0, 0.0], [0.0, 4.0]])
    assert (direction, modified) == ([-0.5, -0.25], False)
    # Indefinite: λ = -1 becomes 1, so the step is -∇ scaled per eigenvector.
    direction, modified = newton_vs_gd.newton_direction([1.0, 1.0], [[1.0, 0.0], [0.0, -1.0]])
    assert modified and direction == [-1.0, -1.0]
    rotated = [[0.0, 1.0], [1.0, 0.0]]  # eigenvalues ±1 along the diagonals
    direction, modified = newton_vs_gd.newton_direction([2.0, 0.0], rotated)
    assert modified and direction == pytest.approx([-2.0, 0.0])
    for gradient, hessian in (
        ([0.3, -0.2], [[-2.0, 0.5], [0.5, 1.0]]),
        ([1e-3, 0.0], [[0.0, 0.0], [0.0, 0.0]]),
    ):
        direction, modified = newton_vs_gd.newton_direction(gradient, hessian)
        assert modified and gradient[0] * direction[0] + gradient[1] * direction[1] < 0  # downhill
    assert newton_vs_gd.newton_direction([1e-3, 0.0], [[0.0, 0.0], [0.0, 0.0]])[0] == pytest.approx(
        [-1e5, 0.0]
    )
    with pytest.raises(ValueError, match="non-finite"):
        newton_vs_gd.newton_direction([math.nan, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="2 x 2"):
        newton_vs_gd.newton_direction([1.0], [[1.0]])

    # A non-convex function: f = w⁴/4 - w²/2 + b², a saddle at w = 0, minima at w = ±1.
    def double_well(v):
        return v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2

    run = newton_vs_gd.newton(double_well, start=(0.1, 1.0))
    assert run[0].smallest_curvature < 0 and run[0].modified and run[0].step_size == 1.0
    assert run[-1].point == pytest.approx((1.0, 0.0), abs=1e-8) and len(run) < 10
    assert all(after.loss < before.loss for before, after in itertools.pairwise(run))
    # Plain Newton from there heads for the saddle at w = 0 instead.
    plain = newton_vs_gd.undamped_newton(double_well, start=(0.1, 1.0), steps=1)
    assert abs(plain[1].point[0]) < 0.01 < abs(run[1].point[0] - 0.1)


def test_newton_demo_errors_are_clear():
    with pytest.raises(ValueError, match="expected the 2 parameters"):
        newton_vs_gd.neuron_loss([Value(1.0)])
    with pytest.raises(ValueError, match="learning_rate must be > 0, got -1"):
        newton_vs_gd.gradient_descent(learning_rate=-1.0)
    with pytest.raises(RuntimeError, match="still"):
        newton_vs_gd.gradient_descent(max_iterations=10)


def test_the_newton_demo_prints_its_claims_and_writes_its_picture(tmp_path, capsys):
    assert demos_main.main(["newton", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(newton_vs_gd.QUESTION)
    for claim in (
        "largest difference 5.6e-17",
        "L = 2.4698 → 3.0789 at (14.66, -28.82) → 6212 at (-5399, 10784), where the neuron is saturated"
        " on 9 of 10 points and H is singular (determinant exactly 0).",
        "Smallest λ_min(H): 4.8e-04, at iteration 1, where the neuron saturates; H was not positive"
        " definite at 0 iterations. The line search shortened 2 of 6 steps",
        "η = 1/β = 0.3836 (β = 2.6068",
        "shrinks by 0.99368 per step at the end, as predicted by 1 - η·λ_min(H*) = 0.99368",
        "the losses differ by 3.1e-15; Newton needed 404x fewer iterations",
    ):
        assert claim in out
    newton_row = next(line for line in out.splitlines() if line.startswith("Newton (damped) "))
    gd_row = next(line for line in out.splitlines() if line.startswith("gradient descent "))
    assert newton_row.split()[2:4] == ["6", "1.3534115"] and gd_row.split()[2:4] == ["2425", "1.3534113"]
    assert out.count("\n") > 20 and f"wrote {tmp_path / 'newton_vs_gradient_descent.png'}" in out
    assert (tmp_path / "newton_vs_gradient_descent.png").read_bytes().startswith(b"\x89PNG")


def test_the_committed_pictures_of_these_demos_are_small():
    for name in ("tanh_derivatives.png", "newton_vs_gradient_descent.png"):
        assert (ROOT / "docs" / "demos" / name).stat().st_size < 150_000


# ---------------------------------------------------------------------------------------------------
# 12. forward-vs-reverse: n jvp sweeps against one backward sweep, and the lecture neuron's two sweeps
# ---------------------------------------------------------------------------------------------------

forward_vs_reverse = demos_main.load("forward-vs-reverse")


@pytest.mark.parametrize("n", [1, 3, 10, 100])
def test_forward_mode_costs_n_times_the_multiply_adds_and_agrees_bit_for_bit(n):
    row = forward_vs_reverse.measure_cost(n, rounds=1)
    assert row.edges == n + 1  # n into the dot node, one into tanh
    assert row.reverse_multiply_adds == n + 1
    assert row.forward_multiply_adds == n * (n + 1)
    assert row.count_ratio == n
    assert row.jvp_equals_gradient and row.largest_difference == 0.0
    assert row.forward_seconds > 0.0 and row.reverse_seconds > 0.0


def test_forward_vs_reverse_neuron_gradient_is_the_textbook_one():
    # d tanh(w·x + b) / d wᵢ = xᵢ (1 - o²), written with floats, independently of the engine.
    weights, inputs = forward_vs_reverse.neuron_data(10)
    f = forward_vs_reverse.neuron_of_weights(inputs)
    o = math.tanh(math.fsum(w * x for w, x in zip(weights, inputs)) + forward_vs_reverse.BIAS)
    for i, x in enumerate(inputs):
        value, slope = forward_vs_reverse.jvp(f, weights, forward_vs_reverse.basis(10, i))
        assert value == pytest.approx(o, rel=1e-15)
        assert slope == pytest.approx(x * (1.0 - o * o), rel=1e-12)
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        forward_vs_reverse.neuron_data(0)


def test_the_two_sweeps_use_the_same_local_derivatives_and_give_backward_and_jvp_numbers():
    result = forward_vs_reverse.side_by_side()
    # The same nine edges with the same local derivatives, swept in the two directions.
    reverse_edges = sorted((tuple(row.edge.split(" → ")), row.local) for row in result.reverse)
    forward_edges = sorted((tuple(reversed(row.edge.split(" → "))), row.local) for row in result.forward)
    assert reverse_edges == forward_edges and len(reverse_edges) == 9
    graph = forward_vs_reverse.lecture_neuron()
    graph["o"].backward()
    assert result.gradients == {name: graph[name].grad for name in ("x1", "x2", "w1", "w2", "b")}
    values = list(forward_vs_reverse.LECTURE_NEURON.values())
    order = list(forward_vs_reverse.LECTURE_NEURON)
    for name in order:
        along = [1.0 if other == name else 0.0 for other in order]
        formula = lambda v: (v[0] * v[2] + v[1] * v[3] + v[4]).tanh()  # noqa: E731  (x1 x2 w1 w2 b)
        slope = forward_vs_reverse.jvp(formula, values, along)[1]
        assert slope == forward_vs_reverse.side_by_side(name).directional == result.gradients[name]
    with pytest.raises(ValueError, match="direction must be one of x1, x2, w1, w2, b, got 'o'"):
        forward_vs_reverse.side_by_side("o")


# The demo's two terminal columns, each as printed (the lines are "left  |  right").
FORWARD_VS_REVERSE_LEFT = [
    "REVERSE (backward): grad(child) += local × grad(node)",
    " #  edge               local × grad(node) =   adds  grad(child)",
    " 0  seed              grad o = 1",
    " 1  o → n             +0.500 ×     +1.000 = +0.500       +0.500",
    " 2  n → x1w1+x2w2     +1.000 ×     +0.500 = +0.500       +0.500",
    " 3  n → b             +1.000 ×     +0.500 = +0.500       +0.500",
    " 4  x1w1+x2w2 → x1w1  +1.000 ×     +0.500 = +0.500       +0.500",
    " 5  x1w1+x2w2 → x2w2  +1.000 ×     +0.500 = +0.500       +0.500",
    " 6  x1w1 → x1         -3.000 ×     +0.500 = -1.500       -1.500",
    " 7  x1w1 → w1         +2.000 ×     +0.500 = +1.000       +1.000",
    " 8  x2w2 → x2         +1.000 ×     +0.500 = +0.500       +0.500",
    " 9  x2w2 → w2         +0.000 ×     +0.500 = +0.000       +0.000",
]
FORWARD_VS_REVERSE_RIGHT = [
    "FORWARD (jvp along w1): t(node) += local × t(child)",
    " #  edge               local ×   t(child) =   adds      t(node)",
    " 0  seed              t: x1 0, x2 0, w1 1, w2 0, b 0",
    " 1  x2 → x2w2         +1.000 ×     +0.000 = +0.000       +0.000",
    " 2  w2 → x2w2         +0.000 ×     +0.000 = +0.000       +0.000",
    " 3  x1 → x1w1         -3.000 ×     +0.000 = -0.000       +0.000",
    " 4  w1 → x1w1         +2.000 ×     +1.000 = +2.000       +2.000",
    " 5  x1w1 → x1w1+x2w2  +1.000 ×     +2.000 = +2.000       +2.000",
    " 6  x2w2 → x1w1+x2w2  +1.000 ×     +0.000 = +0.000       +2.000",
    " 7  x1w1+x2w2 → n     +1.000 ×     +2.000 = +2.000       +2.000",
    " 8  b → n             +1.000 ×     +0.000 = +0.000       +2.000",
    " 9  n → o             +0.500 ×     +2.000 = +1.000       +1.000",
]
FORWARD_VS_REVERSE_SUMMARY = [
    "reverse: 9 steps, one sweep: every gradient (x1 -1.5000, x2 +0.5000, w1 +1.0000, w2 +0.0000, b +0.5000)",
    "forward: 9 steps, one sweep: d o / d w1 = +1.0000 only; all 5 entries take 5 sweeps = 45 steps",
    "the forward d o / d w1 equals the reverse grad w1 bit for bit: True",
]


@pytest.mark.slow
def test_forward_vs_reverse_demo_prints_what_it_counted_and_writes_plot_and_page(tmp_path, capsys):
    assert demos_main.main(["forward-vs-reverse", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(k for k, line in enumerate(lines) if line.lstrip().startswith("n  edges"))
    table = lines[header + 1 : header + 1 + len(forward_vs_reverse.SIZES)]
    for n, line in zip(forward_vs_reverse.SIZES, table):
        fields = line.split()
        assert [int(fields[0]), int(fields[1])] == [n, n + 1]
        assert [int(fields[2].replace(",", "")), int(fields[3].replace(",", "")), int(fields[4])] == [
            n * (n + 1),
            n + 1,
            n,
        ]
        assert line.endswith("yes, bit for bit")
    assert "at n = 1,000, 1,000 times the work." in out
    first = next(k for k, line in enumerate(lines) if line.startswith("REVERSE (backward)"))
    columns = [line.split("  |  ") for line in lines[first : first + len(FORWARD_VS_REVERSE_LEFT)]]
    assert [left.rstrip() for left, _ in columns] == FORWARD_VS_REVERSE_LEFT
    assert [right for _, right in columns] == FORWARD_VS_REVERSE_RIGHT
    after = lines[first + len(FORWARD_VS_REVERSE_LEFT) :]
    assert after[:4] == ["", *FORWARD_VS_REVERSE_SUMMARY]
    picture = tmp_path / "forward_vs_reverse.png"
    page = tmp_path / "forward_vs_reverse_steps.html"
    assert f"wrote {picture}" in out and f"wrote {page}" in out
    assert picture.read_bytes().startswith(b"\x89PNG")
    document = page.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in document
    assert "Reverse mode (backward)" in document and "Forward mode (jvp along w1)" in document
    assert "http:" not in document and "https:" not in document  # self-contained
    for row in [*forward_vs_reverse.side_by_side().reverse, *forward_vs_reverse.side_by_side().forward]:
        cells = f"{row.local:+.4f} × {row.incoming:+.4f} = {row.contribution:+.4f}"
        assert cells in document
