"""Two moons: micrograd's demo, reproduced exactly, then drawn. This is what `gradstep demo` runs.

A 2-16-16-1 MLP (ReLU hidden layers, linear output, 337 parameters) separates two interleaving half
circles: 100 points, noise 0.1, labels ±1. The loss is micrograd's: the mean hinge loss
mean(relu(1 - y·score)) plus 1e-4·Σp² over every parameter; 100 full-batch SGD steps with the learning
rate 1.0 - 0.9·k/100. With micrograd's seeds (NumPy 1337 for the data, Python 1337 for the weights)
the numbers are micrograd's: loss 0.8958 and 50% accuracy at step 0, loss 0.010978 and 100% at step 99.

Afterwards it writes, into one folder: the decision boundary, the loss curve, the computation graph
of one training example as SVG (`autograd.draw`), a page that steps through that example's whole
training step in the browser: forward, backward, the SGD update, the new loss (`autograd.write_stepper_html`),
and the training viewer `training.html`, which replays the whole run (recorded with `nn.Recorder`; 50 more
moons points drawn with another seed serve as its test set, they take no part in training).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path

import nn
from autograd import Value

from ._common import Interrupted, demo_arguments, output_folder, print_written, pyplot, save_figure

NAME = "moons"
QUESTION = "Can a 337-parameter MLP separate two moons? (micrograd's demo: loss 0.010978, 100% accuracy)"
SEED = 1337
STEPS = 100
N_SAMPLES = 100
NOISE = 0.1
GRAPH_MAX_NODES = 60  # values drawn in example_graph.svg (the stepper page shows every value)
N_TEST = 50  # held-out points shown in training.html


def load_moons(n_samples: int = N_SAMPLES, seed: int = SEED) -> tuple[list[list[float]], list[int], str]:
    """micrograd's data set, labels ±1, and where it came from.

    With scikit-learn (the `demos` extra) it is exactly micrograd's: ``make_moons(100, noise=0.1)``
    after ``np.random.seed(1337)``. Without it, `nn.make_moons` draws the same shape with other noise.
    Another `seed` draws other points of the same shape (the training viewer's test set).
    """
    try:
        import numpy as np
        from sklearn.datasets import make_moons
    except ImportError:
        X, y = nn.make_moons(n_samples, NOISE, labels=(-1, 1), rng=seed)
        return X, y, "nn.make_moons (install scikit-learn for micrograd's exact points)"
    points, labels = make_moons(n_samples=n_samples, noise=NOISE, random_state=np.random.RandomState(seed))
    return points.tolist(), [2 * int(label) - 1 for label in labels], "scikit-learn, micrograd's seed 1337"


def make_model() -> nn.MLP:
    """micrograd's MLP(2, [16, 16, 1]): weights U(-1, 1) drawn in micrograd's order from seed 1337."""
    return nn.MLP(2, [16, 16, 1], activation="relu", rng=random.Random(SEED))


def make_optimizer(model: nn.MLP) -> nn.SGD:
    """micrograd's optimiser: SGD with the learning rate 1.0 - 0.9·k/100 at step k."""
    return nn.SGD(model.parameters(), lr=nn.LinearDecay(1.0, 0.1, STEPS))


def loss_and_accuracy(model: nn.MLP, X: Sequence[Sequence[float]], y: Sequence[int]) -> tuple[Value, float]:
    """micrograd's loss (mean hinge + 1e-4·Σp² over every parameter) and the training accuracy."""
    scores = [model(x) for x in X]
    data_loss = nn.hinge(scores, y)
    # l2_penalty is (λ/2)·Σp², so λ = 2e-4 gives micrograd's 1e-4·Σp².
    loss = data_loss + nn.l2_penalty(model, 2e-4, include_biases=True)
    accuracy = sum((label > 0) == (score.data > 0) for label, score in zip(y, scores)) / len(y)
    return loss, accuracy


def train(
    steps: int = STEPS, progress: str | bool = "auto", record: bool = True
) -> tuple[nn.MLP, nn.History, list[list[float]], list[int]]:
    """Train micrograd's model on micrograd's data; returns (model, history, X, y).

    With `record` the run is recorded for the training viewer (``history.run``), with `N_TEST` more
    moons points as its test set; recording changes no number of the training.
    """
    X, y, _ = load_moons()
    model = make_model()
    optimizer = make_optimizer(model)

    def loss_fn() -> tuple[Value, dict[str, float]]:
        loss, accuracy = loss_and_accuracy(model, X, y)
        return loss, {"accuracy": accuracy}

    recorder = None
    if record:
        X_test, y_test, _ = load_moons(N_TEST, SEED + 1)
        recorder = nn.Recorder(
            model,
            X,
            y,
            loss="hinge",
            X_test=X_test,
            y_test=y_test,
            title="Two moons: micrograd's 2-16-16-1 MLP learning (hinge loss + 1e-4·Σp², SGD lr 1.0 → 0.1)",
        )
    history = nn.fit(loss_fn, optimizer, steps, progress=progress, record=recorder)
    return model, history, X, y


def write_training_page(history: nn.History, folder: Path, **options: object) -> Path:
    """The training viewer of a recorded run: `folder`/training.html (and its stepper pages)."""
    return history.write_html(folder / "training.html", **options)  # type: ignore[arg-type]


def score_grid(model: nn.MLP, xs: Sequence[float], ys: Sequence[float]) -> list[list[float]]:
    """The model's score at every grid point (rows follow ys), in plain floats: a forward pass only."""
    weights, biases = model.to_weights()
    last = len(weights) - 1

    def score(point: Sequence[float]) -> float:
        activations = list(point)
        for layer, (matrix, bias) in enumerate(zip(weights, biases)):
            sums = [
                sum(w * a for w, a in zip(row, activations)) + (bias[j] if bias else 0.0)
                for j, row in enumerate(matrix)
            ]
            activations = sums if layer == last else [max(0.0, s) for s in sums]
        return activations[0]

    return [[score((x, y)) for x in xs] for y in ys]


def plot_decision_boundary(model: nn.MLP, X: Sequence[Sequence[float]], y: Sequence[int], path: Path) -> Path:
    """The training points over the regions the model assigns to each class."""
    plt = pyplot()
    margin = 0.5
    x_low, x_high = min(p[0] for p in X) - margin, max(p[0] for p in X) + margin
    y_low, y_high = min(p[1] for p in X) - margin, max(p[1] for p in X) + margin
    resolution = 120
    xs = [x_low + (x_high - x_low) * i / (resolution - 1) for i in range(resolution)]
    ys = [y_low + (y_high - y_low) * j / (resolution - 1) for j in range(resolution)]
    scores = score_grid(model, xs, ys)
    figure, ax = plt.subplots(figsize=(7.5, 6))
    ax.contourf(xs, ys, scores, levels=[-1e9, 0.0, 1e9], colors=["#f6c2c2", "#c2d8f6"], alpha=0.8)
    ax.contour(xs, ys, scores, levels=[0.0], colors="black", linewidths=1.5)
    for label, colour, marker in ((-1, "tab:red", "o"), (1, "tab:blue", "s")):
        points = [p for p, t in zip(X, y) if t == label]
        ax.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            c=colour,
            marker=marker,
            edgecolors="black",
            linewidths=0.6,
            s=36,
            label=f"class {label:+d}",
        )
    accuracy = sum((label > 0) == (model(x).data > 0) for x, label in zip(X, y)) / len(y)
    ax.set(
        title=f"Two moons: the 2-16-16-1 MLP's decision boundary (training accuracy {accuracy:.0%})",
        xlabel="x₁",
        ylabel="x₂",
        xlim=(x_low, x_high),
        ylim=(y_low, y_high),
    )
    ax.legend(loc="upper right")
    return save_figure(figure, path)


def plot_loss(history: nn.History, path: Path) -> Path:
    """Loss (log scale) and training accuracy against step."""
    plt = pyplot()
    figure, loss_axis = plt.subplots(figsize=(8, 4.5))
    steps = range(history.steps)
    loss_axis.plot(steps, history.losses, color="tab:blue", linewidth=2, label="loss")
    loss_axis.set(
        xlabel="SGD step (learning rate 1.0 → 0.1)",
        ylabel="loss: mean hinge + 1e-4·Σp² (log scale)",
        yscale="log",
        title="Two moons: training loss and accuracy",
    )
    loss_axis.grid(alpha=0.3, which="both")
    accuracy_axis = loss_axis.twinx()
    accuracy_axis.plot(
        steps,
        [100 * a for a in history.metric("accuracy")],
        color="tab:green",
        linewidth=1.5,
        linestyle="--",
        label="training accuracy",
    )
    accuracy_axis.set(ylabel="training accuracy (%)", ylim=(40, 102))
    lines = loss_axis.get_lines() + accuracy_axis.get_lines()
    loss_axis.legend(lines, [line.get_label() for line in lines], loc="center right")
    return save_figure(figure, path)


def example_loss(model: nn.MLP, x: Sequence[float], label: int) -> Value:
    """One training example's hinge loss relu(1 - y·score) as a fresh graph (not yet backpropagated)."""
    point = [Value(x[0], "x₁"), Value(x[1], "x₂")]
    target = Value(float(label), "y")  # a labelled leaf, so the drawing and the stepper name it
    score = model(point)
    score.label = "score"
    loss = (1.0 - target * score).relu()
    loss.label = "loss"
    return loss


def hinge_losses(model: nn.MLP, X: Sequence[Sequence[float]], y: Sequence[int]) -> list[float]:
    """Each example's hinge loss max(0, 1 - y·score), in plain floats."""
    return [max(0.0, 1.0 - label * model(x).data) for x, label in zip(X, y)]


def write_graph_files(X: Sequence[Sequence[float]], y: Sequence[int], folder: Path) -> list[Path]:
    """One example's part of the first training step: its graph as SVG, and the whole training step
    (forward, backward, the SGD update of all 337 parameters, the loss after it) as a browser stepper.

    After training every example is beyond the margin (y·score ≥ 1), so its hinge loss and all its
    gradients are 0. At the start they are not: this takes the example with the largest loss under
    the initial weights and the demo's own optimiser at its first step (learning rate 1.0).
    """
    import autograd

    model = make_model()
    losses = hinge_losses(model, X, y)
    index = max(range(len(X)), key=losses.__getitem__)
    title = (
        f"Two moons, example {index} at the first training step: loss = relu(1 - y·score), y = {y[index]:+d}"
    )
    # The page starts from zeroed grads and leaves the model and the optimiser as they are.
    written = [
        autograd.write_stepper_html(
            lambda: example_loss(model, X[index], y[index]),
            folder / "example_stepper.html",
            make_optimizer(model),
            title=title,
            parameters=model,
        )
    ]
    loss = example_loss(model, X[index], y[index])
    loss.backward()
    try:
        # The 60 values nearest the loss are drawn; the first layer's are summarised in dashed boxes.
        graph = autograd.draw(loss, parameters=model, max_nodes=GRAPH_MAX_NODES)
        written.append(graph.save(folder / "example_graph.svg"))
    except autograd.GraphvizNotFoundError as error:
        print(f"skipped example_graph.svg: {error}")
    print(
        f"graph files: example {index} (x = [{X[index][0]:.3f}, {X[index][1]:.3f}], y = {y[index]:+d}),"
        f" loss {loss.data:.4f} under the initial weights"
    )
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = demo_arguments(NAME, QUESTION, argv, renderer=True)
    _, _, source = load_moons()
    print(QUESTION)
    print(f"data: {N_SAMPLES} points, noise {NOISE} ({source}); model: MLP(2, [16, 16, 1]), 337 parameters")
    started = time.perf_counter()
    model, history, X, y = train()
    seconds = time.perf_counter() - started
    if history.interrupted:  # no pictures of a part-trained model
        raise Interrupted(f"after {history.steps} of {STEPS} training steps; nothing written")
    accuracy = history.metric("accuracy")
    print(
        f"step 0: loss {history.losses[0]:.4f}, accuracy {accuracy[0]:.0%};"
        f" step {history.steps - 1}: loss {history.losses[-1]:.6f}, accuracy {accuracy[-1]:.0%}"
        f" (trained in {seconds:.1f} s)"
    )
    folder = output_folder(NAME, args.out)
    written = [
        plot_decision_boundary(model, X, y, folder / "decision_boundary.png"),
        plot_loss(history, folder / "loss.png"),
    ]
    margins = [label * model(x).data for x, label in zip(X, y)]
    inside = sum(margin < 1.0 for margin in margins)
    if inside:
        print(f"after training {inside} examples are still inside the margin (y·score < 1)")
    else:
        print(
            f"after training every example has margin y·score >= {min(margins):.3f} (beyond 1), so its"
            " hinge loss and gradient are 0"
        )
    written += write_graph_files(X, y, folder)
    if history.run is not None:
        written.append(write_training_page(history, folder))
    print_written(written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
