"""nn.train: fit's history, progress display, Ctrl-C handling, and real training (XOR, two moons)."""

from __future__ import annotations

import io
import os
import random
import signal
import sys

import pytest

import nn
from autograd import Value, vsum
from nn.train import History, fit, train_step


def _quadratic_problem():
    """loss = (w - 3)²: each step of SGD with lr 0.25 halves the distance to 3."""
    w = Value(0.0, "w")

    def loss_fn():
        return (w - 3.0) ** 2

    return w, loss_fn, nn.SGD([w], lr=0.25)


def _silent_fit(loss_fn, optimizer, steps=None, **options):
    return fit(loss_fn, optimizer, steps, progress="none", **options)


# ---- the loop --------------------------------------------------------------------------------


def test_fit_returns_one_loss_per_step_and_trains():
    w, loss_fn, optimizer = _quadratic_problem()
    history = _silent_fit(loss_fn, optimizer, 5)
    assert isinstance(history, History)
    assert history.steps == 5 and not history.interrupted and not history.stopped_early
    assert history.losses == [9.0, 2.25, 0.5625, 0.140625, 0.03515625]  # loss before each update
    assert w.data == 3.0 - 3.0 / 32


def test_train_step_clears_grads_before_backward():
    w, loss_fn, _ = _quadratic_problem()
    optimizer = nn.SGD([w], lr=0.0)
    for _ in range(3):
        train_step(loss_fn, optimizer)
        assert w.grad == -6.0  # d/dw (w-3)² at w = 0, not accumulated across steps


def test_metrics_are_recorded():
    w, _, optimizer = _quadratic_problem()

    def loss_fn():
        return (w - 3.0) ** 2, {"distance": abs(3.0 - w.data)}

    history = _silent_fit(loss_fn, optimizer, 3)
    assert history.metric("distance") == [3.0, 1.5, 0.75]
    assert history.metrics[0] == {"distance": 3.0}


def test_callback_sees_every_step_and_can_stop_early():
    _, loss_fn, optimizer = _quadratic_problem()
    seen = []

    def callback(step, loss, metrics):
        seen.append((step, loss))
        return step == 2

    history = _silent_fit(loss_fn, optimizer, 10, callback=callback)
    assert seen == [(0, 9.0), (1, 2.25), (2, 0.5625)]
    assert history.stopped_early and history.steps == 3 and optimizer.steps == 3


# ---- Ctrl-C ------------------------------------------------------------------------------------


def _reference_after(steps):
    w, loss_fn, optimizer = _quadratic_problem()
    _silent_fit(loss_fn, optimizer, steps)
    return w.data


def test_keyboard_interrupt_in_the_loss_function_returns_what_was_trained():
    w, loss_fn, optimizer = _quadratic_problem()
    calls = []

    def interrupted_loss():
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return loss_fn()

    history = _silent_fit(interrupted_loss, optimizer, 10)
    assert history.interrupted and history.steps == 3
    assert w.data == _reference_after(3)  # three whole updates, no partial fourth


def test_keyboard_interrupt_in_the_callback_keeps_that_step():
    w, loss_fn, optimizer = _quadratic_problem()

    def callback(step, loss, metrics):
        if step == 2:
            raise KeyboardInterrupt

    history = _silent_fit(loss_fn, optimizer, 10, callback=callback)
    assert history.interrupted and history.steps == 3
    assert w.data == _reference_after(3)


@pytest.mark.skipif(
    sys.platform == "win32" or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs POSIX os.kill(SIGINT) to oneself and Python's own SIGINT handler",
)
def test_ctrl_c_finishes_the_current_step_then_stops():
    w, loss_fn, optimizer = _quadratic_problem()
    handler_before = signal.getsignal(signal.SIGINT)

    def loss_with_ctrl_c():
        if optimizer.steps == 2:
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while step 2 is being built
        return loss_fn()

    history = _silent_fit(loss_with_ctrl_c, optimizer, 10)
    assert history.interrupted and history.steps == 3  # step 2 was completed, not cut in half
    assert w.data == _reference_after(3)
    assert signal.getsignal(signal.SIGINT) is handler_before


@pytest.mark.skipif(
    sys.platform == "win32" or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs POSIX os.kill(SIGINT) to oneself and Python's own SIGINT handler",
)
def test_a_second_ctrl_c_stops_at_once():
    w, loss_fn, optimizer = _quadratic_problem()

    def loss_with_two_ctrl_c():
        if optimizer.steps == 2:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return loss_fn()

    history = _silent_fit(loss_with_two_ctrl_c, optimizer, 10)
    assert history.interrupted and history.steps == 2
    assert w.data == _reference_after(2)


# ---- progress display ------------------------------------------------------------------------


def test_plain_progress_prints_first_every_nth_and_last_step():
    _, loss_fn, optimizer = _quadratic_problem()
    out = io.StringIO()
    fit(loss_fn, optimizer, 20, progress="plain", print_every=5, file=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/20", "5/20", "10/20", "15/20", "20/20"]
    assert lines[0] == "step  1/20  loss 9"


def test_auto_progress_on_a_non_terminal_is_plain_lines_with_metrics():
    w, _, optimizer = _quadratic_problem()
    out = io.StringIO()
    fit(lambda: ((w - 3.0) ** 2, {"accuracy": 0.5}), optimizer, 3, file=out)
    assert out.getvalue().splitlines()[0] == "step 1/3  loss 9  accuracy 0.5"


def test_no_progress_prints_nothing(capsys):
    _, loss_fn, optimizer = _quadratic_problem()
    fit(loss_fn, optimizer, 3, progress=False)
    assert capsys.readouterr() == ("", "")


def test_interruption_is_reported_on_the_progress_stream():
    _, loss_fn, optimizer = _quadratic_problem()
    out = io.StringIO()

    def callback(step, loss, metrics):
        if step == 1:
            raise KeyboardInterrupt

    fit(loss_fn, optimizer, 10, callback=callback, progress="plain", file=out)
    assert out.getvalue().splitlines()[-1] == "interrupted: returning after 2 of 10 steps (last loss 2.25)"


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_tqdm_bar_with_the_loss():
    pytest.importorskip("tqdm")
    _, loss_fn, optimizer = _quadratic_problem()
    out = _FakeTerminal()
    fit(loss_fn, optimizer, 4, file=out)
    text = out.getvalue()
    assert "training" in text and "4/4" in text and "loss 0.140625" in text
    assert "step 1/4" not in text


def test_without_tqdm_the_bar_falls_back_to_plain_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    _, loss_fn, optimizer = _quadratic_problem()
    out = _FakeTerminal()
    fit(loss_fn, optimizer, 2, progress="bar", file=out)
    assert out.getvalue().splitlines() == ["step 1/2  loss 9", "step 2/2  loss 2.25"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"steps": -1}, ValueError, "steps must be an int >= 0"),
        ({"progress": "fancy"}, ValueError, "progress must be one of"),
        ({"print_every": 0, "progress": "plain"}, ValueError, "print_every must be a positive int"),
        ({"loss_fn": lambda: 1.0}, TypeError, "must return a Value, or"),
        ({"loss_fn": lambda: (Value(1.0), [1])}, TypeError, "metrics must be a dict"),
        ({"loss_fn": 3}, TypeError, "loss_fn must be callable"),
        ({"optimizer": "sgd"}, TypeError, "optimizer must be an nn.optim optimiser"),
    ],
)
def test_bad_arguments(arguments, error, message):
    _, loss_fn, optimizer = _quadratic_problem()
    options = {"loss_fn": loss_fn, "optimizer": optimizer, "steps": 3, "progress": "none", **arguments}
    with pytest.raises(error, match=message):
        fit(**options)


def test_other_errors_propagate():
    w = Value(1.0)

    def loss_fn():
        return (w - 1.0).log()  # log(0)

    with pytest.raises(ValueError, match="log"):
        _silent_fit(loss_fn, nn.SGD([w], lr=0.1), 3)


# ---- real training with fixed seeds ------------------------------------------------------------


def _accuracy(scores, labels, threshold):
    return sum((s.data > threshold) == (label > threshold) for s, label in zip(scores, labels)) / len(labels)


def test_xor_is_learned_to_100_percent():
    X, y = nn.xor_table()
    model = nn.MLP(2, [4, 1], activation="tanh", rng=0)

    def loss_fn():
        logits = [model(x) for x in X]
        return nn.binary_cross_entropy_with_logits(logits, y), {"accuracy": _accuracy(logits, y, 0.0)}

    history = _silent_fit(loss_fn, nn.Adam(model.parameters(), lr=0.1), 150)
    assert history.losses[-1] < 0.05
    logits = [model(x) for x in X]
    assert [int(logit.data > 0.0) for logit in logits] == y


def test_two_moons_is_learned_to_at_least_99_percent_with_micrograds_recipe():
    """micrograd's demo: MLP 2-16-16-1 (ReLU), hinge loss + 1e-4·Σp², SGD with lr 1.0 → 0.1.
    Stops as soon as the training accuracy reaches 100% (at most micrograd's 100 steps)."""
    X, y = nn.make_moons(100, noise=0.1, labels=(-1, 1), rng=0)
    model = nn.MLP(2, [16, 16, 1], activation="relu", rng=0)

    def loss_fn():
        scores = [model(x) for x in X]
        loss = nn.hinge(scores, y) + nn.l2_penalty(model, 2e-4, include_biases=True)
        return loss, {"accuracy": _accuracy(scores, y, 0.0)}

    optimizer = nn.SGD(model.parameters(), lr=nn.LinearDecay(1.0, 0.1, 100))
    history = _silent_fit(loss_fn, optimizer, 100, callback=lambda step, loss, m: m["accuracy"] == 1.0)
    assert history.stopped_early and history.steps < 50  # reached 100% (step 30 with these seeds)
    assert history.losses[0] > 0.5 > history.losses[-1]
    assert _accuracy([model(x) for x in X], y, 0.0) >= 0.99


def test_history_reprs_are_one_line_and_a_table():
    history = nn.History([0.9, 0.5, 0.1], [{"accuracy": 0.5}, {"accuracy": 0.7}, {"accuracy": 1.0}])
    assert repr(history) == "<History: 3 steps, loss 0.9 -> 0.1, accuracy 0.5 -> 1>"
    assert repr(nn.History()) == "<History: 0 steps>"
    history.interrupted = True
    assert repr(history).endswith(", interrupted>")
    page = history._repr_html_()
    assert page.startswith("<table><caption>training history: 3 steps, interrupted</caption>")
    assert "<tr><td>loss</td><td>0.9</td><td>0.1</td></tr>" in page
    assert "<tr><td>accuracy</td><td>0.5</td><td>1</td></tr>" in page
    long = nn.History([float(k) for k in range(1000)])
    assert len(repr(long)) < 80  # never the raw list of a thousand losses
    assert nn.History([1.0]) == nn.History([1.0])  # still a dataclass underneath


def _mean_squared_error(outputs, targets):
    return vsum([(o - t) ** 2 for o, t in zip(outputs, targets)]) * 0.5


@pytest.mark.parametrize("optimizer_class", [nn.SGD, nn.Adam])
def test_batched_step_trains_to_the_eager_losses_within_1e_12(optimizer_class):
    pytest.importorskip("numpy")
    rng = random.Random(3)
    X = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(24)]
    T = [[rng.uniform(0, 1) for _ in range(2)] for _ in range(24)]
    batches = [(X[k : k + 8], T[k : k + 8]) for k in range(0, 24, 8)] * 4

    def run(batched: bool) -> tuple[list[float], list[float]]:
        model = nn.MLP(4, [5, 2], activation="tanh", output_activation="sigmoid", rng=7)
        optimizer = optimizer_class(model, lr=0.1)
        step = nn.BatchedStep(model, _mean_squared_error, optimizer, n_targets=2) if batched else None
        losses = []
        for xb, tb in batches:
            if step is not None:
                losses.append(step(xb, tb))
                continue

            def loss_fn(xb=xb, tb=tb) -> Value:
                terms = [_mean_squared_error(model(x), t) for x, t in zip(xb, tb)]
                return vsum(terms) * (1.0 / len(terms))

            losses.append(nn.train_step(loss_fn, optimizer)[0])
        return losses, [p.data for p in model.parameters()]

    eager_losses, eager_params = run(False)
    batched_losses, batched_params = run(True)
    assert batched_losses == pytest.approx(eager_losses, rel=1e-12, abs=1e-14)
    assert batched_params == pytest.approx(eager_params, rel=1e-12, abs=1e-14)
    assert eager_losses[-1] < eager_losses[0]


def test_batched_step_errors():
    pytest.importorskip("numpy")
    model = nn.MLP(2, [2], rng=1)
    optimizer = nn.SGD(model, lr=0.1)
    with pytest.raises(ValueError, match=r"does not depend on \['target.0', 'target.1'\]"):
        nn.BatchedStep(model, lambda out, t: nn.squared_error(out, [x.data for x in t]), optimizer, 2)
    with pytest.raises(ValueError, match="n_targets must be an int >= 1, got 0"):
        nn.BatchedStep(model, _mean_squared_error, optimizer, 0)
    with pytest.raises(TypeError, match=r"optimizer must be an nn\.optim optimiser"):
        nn.BatchedStep(model, _mean_squared_error, "sgd", 1)
    step = nn.BatchedStep(model, _mean_squared_error, optimizer, 2)
    with pytest.raises(ValueError, match=r"got shapes \(2, 2\) and \(3, 2\)"):
        step([[0.0, 1.0]] * 2, [[0.0, 1.0]] * 3)


# ---- mini-batches: nn.MinibatchLoss, fit(epochs=...), fit(compiled=True) on BatchedStep ---------------


def _regression_data(n=26, n_inputs=4, n_targets=2, seed=3):
    rng = random.Random(seed)
    X = [[rng.uniform(-1, 1) for _ in range(n_inputs)] for _ in range(n)]
    T = [[rng.uniform(0, 1) for _ in range(n_targets)] for _ in range(n)]
    return X, T


def _small_model():
    return nn.MLP(4, [5, 2], activation="tanh", output_activation="sigmoid", rng=7)


def _hand_minibatch_loop(X, T, optimizer_class, options, batch_size, epochs, seed, drop_last):
    """The eager mini-batch loop written out: the order reshuffled in place by random.Random(seed)
    at the start of every epoch, consecutive slices of it, the batch-mean loss, one train_step each."""
    model = _small_model()
    optimizer = optimizer_class(model, **options)
    order = list(range(len(X)))
    shuffler = random.Random(seed)
    losses = []
    for _ in range(epochs):
        shuffler.shuffle(order)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            if drop_last and len(chosen) < batch_size:
                break

            def loss_fn(chosen=chosen) -> Value:
                terms = [_mean_squared_error(model(X[i]), [Value(t) for t in T[i]]) for i in chosen]
                return vsum(terms) * (1.0 / len(terms))

            losses.append(train_step(loss_fn, optimizer)[0])
    return losses, [p.data for p in model.parameters()]


def _fit_minibatches(X, T, optimizer_class, options, batch_size, epochs, seed, drop_last, compiled):
    model = _small_model()
    batches = nn.MinibatchLoss(
        model, _mean_squared_error, X, T, batch_size=batch_size, rng=seed, drop_last=drop_last
    )
    history = _silent_fit(batches, optimizer_class(model, **options), epochs=epochs, compiled=compiled)
    return history, [p.data for p in model.parameters()], batches


@pytest.mark.parametrize(
    ("optimizer_class", "options"),
    [(nn.SGD, {"lr": 0.5, "momentum": 0.9}), (nn.Adam, {"lr": 0.05}), (nn.AdamW, {"lr": 0.05})],
)
@pytest.mark.parametrize("drop_last", [False, True])
def test_batched_fit_trains_as_the_eager_minibatch_loop_within_1e_12(optimizer_class, options, drop_last):
    pytest.importorskip("numpy")
    X, T = _regression_data()  # 26 examples in batches of 8: the last batch has 2 (or is dropped)
    setting = (X, T, optimizer_class, options, 8, 5, 11, drop_last)
    hand_losses, hand_weights = _hand_minibatch_loop(*setting)
    eager, eager_weights, _ = _fit_minibatches(*setting, compiled=False)
    batched, batched_weights, batches = _fit_minibatches(*setting, compiled=True)
    # fit's eager steps ARE the loop written out, bit for bit: the same batches, the same graphs.
    assert eager.losses == hand_losses and eager_weights == hand_weights
    assert len(hand_losses) == 5 * (3 if drop_last else 4) == batched.steps
    assert batches.epoch == 5
    # The batched steps add the batch's sums in another order: the same training to rounding.
    assert max(abs(a - b) for a, b in zip(batched_weights, hand_weights)) <= 1e-12
    assert batched.losses == pytest.approx(hand_losses, rel=1e-12, abs=1e-14)
    per_epoch = len(hand_losses) // 5
    assert sum(hand_losses[-per_epoch:]) < sum(hand_losses[:per_epoch])  # it learns


def test_minibatch_loss_walks_every_example_once_an_epoch_and_remembers_its_place():
    X, T = _regression_data(n=10)
    kept = nn.MinibatchLoss(_small_model(), _mean_squared_error, X, T, batch_size=4, rng=0)
    dropped = nn.MinibatchLoss(_small_model(), _mean_squared_error, X, T, batch_size=4, rng=0, drop_last=True)
    assert (kept.steps_per_epoch, dropped.steps_per_epoch) == (3, 2)
    epochs = [[kept.next_batch() for _ in range(3)] for _ in range(2)]
    for epoch in epochs:
        assert [len(batch) for batch in epoch] == [4, 4, 2]
        assert sorted(i for batch in epoch for i in batch) == list(range(10))
    assert epochs[0] != epochs[1] and kept.epoch == 2  # reshuffled for the second epoch
    order = list(range(10))
    shuffler = random.Random(0)
    shuffler.shuffle(order)
    assert [i for batch in epochs[0] for i in batch] == order  # random.Random(rng), in place
    shuffler.shuffle(order)
    assert [i for batch in epochs[1] for i in batch] == order
    assert [dropped.next_batch() for _ in range(2)] == [epochs[0][0], epochs[0][1]]
    assert dropped.epoch == 1  # the two left over were skipped
    fixed = nn.MinibatchLoss(_small_model(), _mean_squared_error, X, T, batch_size=6, shuffle=False)
    assert [fixed.next_batch() for _ in range(3)] == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9], [0, 1, 2, 3, 4, 5]]


def test_two_fits_continue_where_the_first_stopped():
    pytest.importorskip("numpy")
    X, T = _regression_data()
    _, in_one_go, _ = _fit_minibatches(X, T, nn.SGD, {"lr": 0.5}, 8, 2, 1, False, compiled=True)
    model = _small_model()
    batches = nn.MinibatchLoss(model, _mean_squared_error, X, T, batch_size=8, rng=1)
    optimizer = nn.SGD(model, lr=0.5)
    _silent_fit(batches, optimizer, 3, compiled=True)  # steps, not epochs: stops inside epoch 1
    _silent_fit(batches, optimizer, epochs=1, compiled=True)
    assert batches.epoch == 1 and optimizer.steps == 7
    _silent_fit(batches, optimizer, 1, compiled=True)
    assert [p.data for p in model.parameters()] == in_one_go


def test_one_target_per_example_may_be_a_plain_number():
    pytest.importorskip("numpy")
    X, T = _regression_data(n_targets=1)
    flat = [row[0] for row in T]

    def run(targets, compiled):
        model = nn.MLP(4, [3, 1], activation="tanh", rng=2)
        batches = nn.MinibatchLoss(model, _mean_squared_error, X, targets, batch_size=5, rng=4)
        return _silent_fit(batches, nn.SGD(model, lr=0.1), epochs=2, compiled=compiled).losses

    assert run(flat, False) == run(T, False)
    assert run(flat, True) == pytest.approx(run(T, False), rel=1e-12)


def test_batched_fit_keeps_callback_ctrl_c_and_progress_as_fit_does():
    pytest.importorskip("numpy")
    X, T = _regression_data()

    def fresh():
        model = _small_model()
        batches = nn.MinibatchLoss(model, _mean_squared_error, X, T, batch_size=8, rng=5)
        return model, batches, nn.SGD(model, lr=0.5)

    model, batches, optimizer = fresh()
    reference = _silent_fit(batches, optimizer, 3, compiled=True)
    after_three = [p.data for p in model.parameters()]

    model, batches, optimizer = fresh()
    history = _silent_fit(batches, optimizer, epochs=10, compiled=True, callback=lambda s, loss, m: s == 2)
    assert history.stopped_early and history.losses == reference.losses
    assert [p.data for p in model.parameters()] == after_three

    def interrupt_at_step_2(step, loss, metrics):
        if step == 2:
            raise KeyboardInterrupt

    model, batches, optimizer = fresh()
    out = io.StringIO()
    history = fit(
        batches, optimizer, epochs=10, compiled=True, callback=interrupt_at_step_2, progress="plain", file=out
    )
    assert history.interrupted and history.losses == reference.losses
    assert [p.data for p in model.parameters()] == after_three
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("step  1/40  loss ")  # 10 epochs of 4 batches
    assert lines[-1].startswith("interrupted: returning after 3 of 40 steps (last loss ")


@pytest.mark.skipif(
    sys.platform == "win32" or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs POSIX os.kill(SIGINT) to oneself and Python's own SIGINT handler",
)
def test_ctrl_c_finishes_the_current_batched_step_then_stops():
    pytest.importorskip("numpy")
    X, T = _regression_data()
    model = _small_model()
    batches = nn.MinibatchLoss(model, _mean_squared_error, X, T, batch_size=8, rng=5)
    optimizer = nn.SGD(model, lr=0.5)
    next_arrays = batches._next_arrays

    def arrays_with_ctrl_c():
        if optimizer.steps == 2:
            os.kill(os.getpid(), signal.SIGINT)  # pressed while step 2 takes its batch
        return next_arrays()

    batches._next_arrays = arrays_with_ctrl_c
    history = _silent_fit(batches, optimizer, epochs=10, compiled=True)
    assert history.interrupted and history.steps == 3 and optimizer.steps == 3


def test_batched_fit_records_for_the_training_viewer_as_eager_fit_does():
    pytest.importorskip("numpy")
    X, y = nn.make_moons(40, noise=0.1, labels=(-1, 1), rng=0)

    def example_hinge(outputs, targets):
        return (1.0 - targets[0] * outputs[0]).relu()

    def run(compiled):
        model = nn.MLP(2, [6, 1], activation="relu", rng=1)
        recorder = nn.Recorder(model, X, y, loss="hinge", every=1)
        batches = nn.MinibatchLoss(model, example_hinge, X, y, batch_size=16, rng=2)
        history = _silent_fit(batches, nn.SGD(model, lr=0.1), epochs=3, compiled=compiled, record=recorder)
        return history

    eager, batched = run(False), run(True)
    assert eager.run is not None and batched.run is not None
    assert len(batched.run.frames) == len(eager.run.frames) == 9
    for ours, theirs in zip(batched.run.frames, eager.run.frames):
        assert ours.grads == pytest.approx(theirs.grads, rel=1e-12, abs=1e-14)
        assert ours.new_values == pytest.approx(theirs.new_values, rel=1e-12, abs=1e-14)
    assert batched.run.train_accuracy == eager.run.train_accuracy


def _minibatch_arguments(**changes):
    X, T = _regression_data(n=10)
    arguments = {"model": _small_model(), "example_loss": _mean_squared_error, "inputs": X, "targets": T}
    arguments.update(changes)
    return arguments


_X, _T = _regression_data(n=10)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"model": lambda x: x}, TypeError, r"model must be an nn\.MLP .* got <function"),
        ({"example_loss": "mse"}, TypeError, r"example_loss must be a function .* got 'mse' \(str\)"),
        (
            {"inputs": "pixels"},
            TypeError,
            r"inputs must be a list \(or 2-D array\) of examples, got 'pixels'",
        ),
        ({"inputs": [], "targets": []}, ValueError, "inputs must hold at least one example, got none"),
        (
            {"inputs": [*_X[:3], _X[3][:3], *_X[4:]]},
            ValueError,
            r"inputs\[3\] must be a row of 4 numbers \(the model's n_inputs\), got 3 numbers",
        ),
        (
            {"inputs": [*_X[:2], [1.0, float("nan"), 0.0, 0.0], *_X[3:]]},
            ValueError,
            r"inputs\[2\]\[1\] must be a finite number, got nan",
        ),
        (
            {"inputs": [*_X[:9], [1.0, True, 0.0, 0.0]]},
            ValueError,
            r"inputs\[9\]\[1\] must be a finite number, got True",
        ),
        ({"targets": _T[:9]}, ValueError, r"targets must hold one row per example \(10, as inputs\), got 9"),
        (
            {"targets": [*_T[:5], [0.5], *_T[6:]]},
            ValueError,
            r"targets\[5\] must be a row of 2 numbers like targets\[0\], got 1 numbers",
        ),
        ({"targets": [0.5] * 9 + [[0.5]]}, ValueError, r"targets\[9\] must be one number like targets\[0\]"),
        ({"targets": [[]] * 10}, ValueError, r"targets\[0\] is empty"),
        (
            {"targets": [*_T[:7], [float("inf"), 0.0], *_T[8:]]},
            ValueError,
            r"targets\[7\]\[0\] must be a finite number, got inf",
        ),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"batch_size": True}, ValueError, "batch_size must be an int >= 1, got True"),
        (
            {"batch_size": 16, "drop_last": True},
            ValueError,
            r"batch_size 16 is more than the 10 examples, and drop_last=True skips the only",
        ),
        ({"drop_last": "yes"}, TypeError, "drop_last must be True or False, got 'yes'"),
        ({"shuffle": 1}, TypeError, "shuffle must be True or False, got 1"),
        ({"rng": "seed"}, TypeError, "rng must be an int seed, a random.Random or None"),
    ],
)
def test_minibatch_loss_refuses_bad_arguments_naming_the_value(changes, error, message):
    with pytest.raises(error, match=message):
        nn.MinibatchLoss(**_minibatch_arguments(**changes))


def test_fit_refuses_epochs_it_cannot_count_and_unclear_lengths():
    _, loss_fn, optimizer = _quadratic_problem()
    with pytest.raises(TypeError, match=r"epochs= needs an nn\.MinibatchLoss .* give steps"):
        fit(loss_fn, optimizer, epochs=2, progress="none")
    with pytest.raises(TypeError, match="say how long to train"):
        fit(loss_fn, optimizer, progress="none")
    batches = nn.MinibatchLoss(**_minibatch_arguments())
    with pytest.raises(ValueError, match="give steps or epochs, not both; got steps=3 and epochs=1"):
        fit(batches, optimizer, 3, epochs=1, progress="none")
    with pytest.raises(ValueError, match="epochs must be an int >= 0, got -1"):
        fit(batches, optimizer, epochs=-1, progress="none")
    assert fit(batches, optimizer, epochs=0, compiled=True, progress="none").steps == 0


def test_minibatch_losses_that_cannot_run_say_why():
    arguments = _minibatch_arguments(example_loss=lambda outputs, targets: 0.5)
    with pytest.raises(TypeError, match=r"example_loss must return a Value, got 0\.5 \(float\) for example"):
        _silent_fit(nn.MinibatchLoss(**arguments), nn.SGD(arguments["model"], lr=0.1), 1)
    pytest.importorskip("numpy")
    # Reading the targets as numbers works eagerly, but tracing would freeze the first batch's.
    arguments = _minibatch_arguments(example_loss=lambda out, t: nn.squared_error(out, [x.data for x in t]))
    batches = nn.MinibatchLoss(**arguments)
    with pytest.raises(ValueError, match=r"does not depend on \['target\.0', 'target\.1'\]"):
        _silent_fit(batches, nn.SGD(arguments["model"], lr=0.1), 1, compiled=True)
