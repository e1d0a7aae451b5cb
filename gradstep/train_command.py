"""`gradstep train`: train an MLP on 2-D points and write the training viewer page.

    gradstep train                                   # two moons, 2-16-16-1 relu, hinge loss, SGD
    gradstep train --data spiral --layers 16,16,16 --activation tanh --optimizer adam --lr 0.02 --steps 300
    gradstep train --data points.csv --loss binary_cross_entropy_with_logits -o my_training.html

The data is one of the generated sets (moons, xor, circles, spiral) or a CSV file of rows
``x1,x2,label`` (a header row is allowed; labels are any two or more names or numbers). A quarter of
the points are held out as the test set (``--test-fraction``). The labels are turned into what the
loss takes: ±1 for hinge and squared_error, 0/1 for the binary cross-entropies, class indices for
cross_entropy and multiclass_hinge (which give the network one output per class).

Bad arguments or a bad CSV row give one line on stderr naming the problem and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

__all__ = ["build_parser", "main", "run_train"]

EXIT_USAGE = 2
EXIT_FAILURE = 1
DATASETS = ("moons", "xor", "circles", "spiral")
BINARY_LOSSES = ("hinge", "binary_cross_entropy_with_logits", "binary_cross_entropy", "squared_error")
MULTICLASS_LOSSES = ("cross_entropy", "multiclass_hinge")
DEFAULT_LR = {"sgd": 0.5, "adam": 0.02}


class TrainCommandError(Exception):
    """A problem to report in one line, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected hidden layer widths such as 16,16, got {text!r}"
        ) from None
    if not sizes or any(size < 1 or size > 256 for size in sizes):
        raise argparse.ArgumentTypeError(f"each hidden layer width must be from 1 to 256, got {text!r}")
    return sizes


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _number(low: float, high: float, *, low_open: bool = False) -> type:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (low < value if low_open else low <= value) or not value < high:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g})"
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text!r}")
        return value

    return parse  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstep train",
        description="Train an MLP on 2-D points and write the training viewer: one self-contained HTML page.",
        epilog=__doc__.split("\n\n", 2)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default="moons",
        metavar="SET",
        help=f"one of {', '.join(DATASETS)}, or a CSV file (default moons)",
    )
    parser.add_argument("--samples", type=_positive_int, default=100, help="points generated (default 100)")
    parser.add_argument(
        "--noise", type=_number(0.0, 10.0), default=None, help="noise of the generated points"
    )
    parser.add_argument(
        "--test-fraction", type=_number(0.0, 0.9), default=0.25, help="held out (default 0.25)"
    )
    parser.add_argument(
        "--layers", type=_layers, default=[16, 16], help="hidden layer widths (default 16,16)"
    )
    parser.add_argument(
        "--activation", default="relu", choices=["relu", "tanh", "sigmoid"], help="default relu"
    )
    parser.add_argument(
        "--loss", default="hinge", choices=[*BINARY_LOSSES, *MULTICLASS_LOSSES], help="default hinge"
    )
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"], help="default sgd")
    parser.add_argument(
        "--lr",
        type=_number(0.0, 100.0, low_open=True),
        default=None,
        help="learning rate (sgd 0.5, adam 0.02)",
    )
    parser.add_argument("--momentum", type=_number(0.0, 1.0), default=0.0, help="SGD momentum (default 0)")
    parser.add_argument("--l2", type=_number(0.0, 10.0), default=1e-4, help="L2 penalty λ (default 1e-4)")
    parser.add_argument("--steps", type=_positive_int, default=100, help="training steps (default 100)")
    parser.add_argument(
        "--every", type=_positive_int, default=None, help="record every N-th step (default: auto)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for data and weights (default 0)")
    parser.add_argument("--no-steppers", action="store_true", help="write no stepper pages next to the page")
    parser.add_argument(
        "-o", "--output", default="training.html", help="the page to write (default training.html)"
    )
    return parser


def _load_data(options: argparse.Namespace) -> tuple[list[list[float]], list[str], list[str]]:
    import nn

    name = options.data
    if name in DATASETS:
        generators = {
            "moons": (nn.data.make_moons, 0.1),
            "xor": (nn.data.make_xor, 0.05),
            "circles": (nn.data.make_circles, 0.08),
            "spiral": (nn.data.make_spiral, 0.03),
        }
        generate, default_noise = generators[name]
        noise = default_noise if options.noise is None else options.noise
        if options.samples < 4:
            raise TrainCommandError(
                f"--samples must be at least 4 for a training and a test set, got {options.samples}"
            )
        X, y = generate(options.samples, noise, rng=options.seed)
        return X, [str(label) for label in y], ["0", "1"]
    if not name.lower().endswith(".csv"):
        raise TrainCommandError(f"--data must be one of {', '.join(DATASETS)} or a .csv file, got {name!r}")
    try:
        return nn.data.read_points_csv(name)
    except nn.data.CsvDataError as error:
        raise TrainCommandError(str(error)) from None


def _targets(loss: str, labels: list[str], classes: list[str]) -> list[float]:
    index = {name: k for k, name in enumerate(classes)}
    if loss in MULTICLASS_LOSSES:
        return [float(index[label]) for label in labels]
    if len(classes) != 2:
        raise TrainCommandError(
            f"--loss {loss} separates two classes, but the data has {len(classes)} "
            f"({', '.join(classes[:6])}); use --loss cross_entropy or --loss multiclass_hinge"
        )
    low, high = (-1.0, 1.0) if loss in ("hinge", "squared_error") else (0.0, 1.0)
    return [high if index[label] == 1 else low for label in labels]


def run_train(options: argparse.Namespace, out: TextIO) -> int:
    import nn
    from autograd import Value

    X, labels, classes = _load_data(options)
    targets = _targets(options.loss, labels, classes)
    if options.test_fraction > 0:
        if round(len(X) * options.test_fraction) < 1 or len(X) - round(len(X) * options.test_fraction) < 2:
            raise TrainCommandError(
                f"{len(X)} points are too few to hold out {options.test_fraction:g} as a test set"
            )
        X_train, X_test, y_train, y_test = nn.train_test_split(
            X, targets, options.test_fraction, rng=options.seed
        )
    else:
        X_train, X_test, y_train, y_test = X, None, targets, None
    multiclass = options.loss in MULTICLASS_LOSSES
    outputs = len(classes) if multiclass else 1
    output_activation = "sigmoid" if options.loss == "binary_cross_entropy" else "linear"
    model = nn.MLP(
        2,
        [*options.layers, outputs],
        activation=options.activation,
        output_activation=output_activation,
        rng=options.seed,
    )
    loss_function = getattr(nn.losses, options.loss)
    lr = DEFAULT_LR[options.optimizer] if options.lr is None else options.lr
    if options.optimizer == "sgd":
        optimizer: nn.Optimizer = nn.SGD(model.parameters(), lr=lr, momentum=options.momentum)
    else:
        optimizer = nn.Adam(model.parameters(), lr=lr)

    def training_loss() -> Value:
        scores = [model(x) for x in X_train]
        loss = loss_function(scores, [int(t) for t in y_train] if multiclass else y_train)
        return loss + nn.l2_penalty(model, options.l2) if options.l2 else loss

    recorder = nn.Recorder(
        model,
        X_train,
        y_train,
        loss=options.loss,
        X_test=X_test,
        y_test=y_test,
        every=options.every,
        class_names=classes,
        title=(
            f"gradstep train: {Path(options.data).name} · "
            f"MLP 2-{'-'.join(map(str, options.layers))}-{outputs} "
            f"{options.activation} · {options.loss} · {type(optimizer).__name__} lr {lr:g}"
        ),
    )
    print(
        f"data: {len(X_train)} training and {len(X_test or [])} test points, classes {', '.join(classes)}; "
        f"model: {model!r}, {len(model.parameters())} parameters",
        file=out,
    )
    started = time.perf_counter()
    history = nn.fit(
        training_loss, optimizer, options.steps, record=recorder, progress="auto", compiled=True, file=out
    )
    trained = time.perf_counter() - started
    run = history.run
    assert run is not None
    test = f", test accuracy {run.test_accuracy[-1]:.1%}" if run.test_accuracy else ""
    print(
        f"step {history.steps - 1}: loss {history.losses[-1]:.6g}, training accuracy "
        f"{run.train_accuracy[-1]:.1%}{test} (trained in {trained:.1f} s); building the page...",
        file=out,
    )
    try:
        path = history.write_html(options.output, stepper_pages=[] if options.no_steppers else None)
    except OSError as error:
        raise TrainCommandError(
            f"could not write {options.output}: {error.strerror or error}", EXIT_FAILURE
        ) from None
    size = path.stat().st_size
    steppers = path.parent / f"{path.stem}_steppers"
    extra = (
        f" and {len(list(steppers.glob('*.html')))} stepper pages in {steppers}"
        if steppers.is_dir() and not options.no_steppers
        else ""
    )
    print(
        f"wrote {path} ({size / 1e6:.1f} MB, {len(run.frames)} recorded steps){extra}; open it in a browser",
        file=out,
    )
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``gradstep train`` with `argv` (the arguments after ``train``); returns the exit code."""
    parser = build_parser()
    options = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return run_train(options, sys.stdout if out is None else out)
    except TrainCommandError as error:
        print(f"gradstep train: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
