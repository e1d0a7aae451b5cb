"""Regenerate the demo pictures the README shows, into docs/demos/.

    python docs/make_demo_images.py            # every picture (about 3 minutes: digits and Trask are long)
    python docs/make_demo_images.py moons half # only some demos

Each picture is drawn by the same function the demo uses (`gradstep demo NAME` writes the same
files into gradstep-output/NAME/); nothing here computes anything of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from demos import (  # noqa: E402  (the path must be set first)
    cross_entropy,
    digits,
    forward_vs_reverse,
    half_squared_error,
    newton_vs_gd,
    ng_vs_mitchell,
    single_weight,
    tanh_derivatives,
    two_moons,
    weight_decay,
)

OUT = ROOT / "docs" / "demos"


def moons() -> list[Path]:
    model, history, X, y = two_moons.train(progress="plain")
    return [
        two_moons.plot_decision_boundary(model, X, y, OUT / "moons_decision_boundary.png"),
        two_moons.plot_loss(history, OUT / "moons_loss.png"),
    ]


def nielsen() -> list[Path]:
    return [cross_entropy.plot_runs(cross_entropy.run_all(), OUT / "cross_entropy_vs_quadratic.png")]


def half() -> list[Path]:
    runs = [half_squared_error.train(s) for s in ("half", "drop-output-sigmoid", "drop-every-sigmoid")]
    return [half_squared_error.plot_runs(runs, OUT / "half_squared_error.png")]


def decay() -> list[Path]:
    runs = [weight_decay.train(lam) for lam in weight_decay.LAMBDAS]
    return [weight_decay.plot_runs(runs, OUT / "weight_decay.png")]


def single() -> list[Path]:
    no_bias, with_bias = single_weight.train(), single_weight.train(b0=0.0)
    return [single_weight.plot_training(no_bias, with_bias, OUT / "single_weight.png")]


def trask() -> list[Path]:
    runs = {loss: ng_vs_mitchell.train_trask(loss=loss) for loss in ng_vs_mitchell.LOSSES}
    return [ng_vs_mitchell.plot_trask(runs, OUT / "trask_xor_error.png")]


def handwriting() -> list[Path]:
    data = digits.load_data()
    runs = [digits.train(variant, data=data, progress="plain") for variant in digits.VARIANTS]
    return [
        digits.plot_confusion(runs, data, OUT / "digits_confusion.png"),
        digits.plot_misclassified(runs[0], data, OUT / "digits_misclassified.png"),
    ]


def derivatives() -> list[Path]:
    return [
        tanh_derivatives.plot_derivatives(tanh_derivatives.check_derivatives(), OUT / "tanh_derivatives.png")
    ]


def newton() -> list[Path]:
    runs = newton_vs_gd.newton(), newton_vs_gd.gradient_descent(), newton_vs_gd.undamped_newton()
    return [newton_vs_gd.plot_runs(*runs, OUT / "newton_vs_gradient_descent.png")]


def forward_reverse() -> list[Path]:
    rows = forward_vs_reverse.measure_costs()
    return [forward_vs_reverse.plot_costs(rows, OUT / "forward_vs_reverse.png")]


PICTURES: dict[str, Callable[[], list[Path]]] = {
    "moons": moons,
    "cross-entropy": nielsen,
    "half": half,
    "weight-decay": decay,
    "single-weight": single,
    "deltas": trask,
    "digits": handwriting,
    "derivatives": derivatives,
    "newton": newton,
    "forward-vs-reverse": forward_reverse,
}


def main(argv: list[str]) -> int:
    names = argv or list(PICTURES)
    unknown = [name for name in names if name not in PICTURES]
    if unknown:
        print(f"unknown: {', '.join(unknown)}; choose from {', '.join(PICTURES)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        for path in PICTURES[name]():
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
