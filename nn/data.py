"""Small data sets in pure Python: two moons, XOR, circles, spirals, 2-D points from a CSV file, and
the 8x8 handwritten digits (shipped with nn).

Every generator takes `rng` (an int seed or a `random.Random`) and is deterministic by default, so
a demo or a test sees the same points on every run. Points are lists of floats, labels ints.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import numbers
import os
from collections.abc import Sequence
from importlib import resources

from ._checks import is_finite_real
from ._random import RandomSource, RngLike, make_rng

__all__ = [
    "CsvDataError",
    "load_digits",
    "make_circles",
    "make_moons",
    "make_spiral",
    "make_xor",
    "one_hot",
    "read_points_csv",
    "train_test_split",
    "xor_table",
]

Dataset = tuple[list[list[float]], list[int]]


def _check_labels(labels: object, caller: str) -> tuple[int, int]:
    if (
        not isinstance(labels, Sequence)
        or len(labels) != 2
        or not all(isinstance(label, int) and not isinstance(label, bool) for label in labels)
        or labels[0] == labels[1]
    ):
        raise ValueError(
            f"{caller}: labels must be two different ints such as (0, 1) or (-1, 1), got {labels!r}"
        )
    return labels[0], labels[1]


def _check_noise(noise: object, caller: str) -> float:
    if not (is_finite_real(noise) and noise >= 0):
        raise ValueError(f"{caller}: noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _check_size(n_samples: object, minimum: int, caller: str) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < minimum:
        raise ValueError(f"{caller}: n_samples must be an int >= {minimum}, got {n_samples!r}")
    return n_samples


def _shuffled_with_noise(
    points: list[tuple[list[float], int]], source: RandomSource, noise: float
) -> Dataset:
    """Shuffle (point, label) pairs, then add Gaussian noise of standard deviation `noise` to every
    coordinate, in that order (the generators that lay points out in class order share this)."""
    source.shuffle(points)
    if noise > 0.0:
        for point, _ in points:
            point[0] += source.gauss(0.0, noise)
            point[1] += source.gauss(0.0, noise)
    return [point for point, _ in points], [label for _, label in points]


def make_moons(
    n_samples: int = 100, noise: float = 0.1, *, labels: Sequence[int] = (0, 1), rng: RngLike = 0
) -> Dataset:
    """Two interleaving half circles, the same layout as scikit-learn's ``make_moons``.

    The upper moon (first label) is the half circle (cos t, sin t), the lower moon (second label)
    is (1 - cos t, 1/2 - sin t), with t evenly spaced over [0, π]; Gaussian noise of standard
    deviation `noise` is added to every coordinate and the points are shuffled. ``n_samples // 2``
    points go to the upper moon, the rest to the lower. ``labels=(-1, 1)`` gives micrograd's ±1.
    The numbers differ from scikit-learn's (a different random generator), the shape does not.
    """
    n_samples = _check_size(n_samples, 2, "make_moons")
    noise = _check_noise(noise, "make_moons")
    upper_label, lower_label = _check_labels(labels, "make_moons")
    source = make_rng(rng, "make_moons")
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    points: list[tuple[list[float], int]] = []
    for i in range(n_upper):
        t = math.pi * i / (n_upper - 1) if n_upper > 1 else 0.0
        points.append(([math.cos(t), math.sin(t)], upper_label))
    for i in range(n_lower):
        t = math.pi * i / (n_lower - 1) if n_lower > 1 else 0.0
        points.append(([1.0 - math.cos(t), 0.5 - math.sin(t)], lower_label))
    return _shuffled_with_noise(points, source, noise)


def xor_table(*, bias_column: bool = False, labels: Sequence[int] = (0, 1)) -> Dataset:
    """The four XOR cases: ([0,0], 0), ([0,1], 1), ([1,0], 1), ([1,1], 0).

    ``bias_column=True`` appends a constant 1 to each input, as in Trask's "11 lines" network,
    where that column stands in for a bias.
    """
    off, on = _check_labels(labels, "xor_table")
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    if bias_column:
        X = [[*x, 1.0] for x in X]
    return X, [off, on, on, off]


def make_xor(
    n_samples: int = 100, noise: float = 0.0, *, labels: Sequence[int] = (0, 1), rng: RngLike = 0
) -> Dataset:
    """Points uniform in the square [-1, 1]², labelled by XOR of their signs (the checkerboard).

    A point whose coordinates have the same sign gets the first label, otherwise the second.
    `noise` moves each point by Gaussian noise of that standard deviation after labelling, so the
    classes overlap near the axes.
    """
    n_samples = _check_size(n_samples, 1, "make_xor")
    noise = _check_noise(noise, "make_xor")
    same_sign, different_sign = _check_labels(labels, "make_xor")
    source = make_rng(rng, "make_xor")
    X, y = [], []
    for _ in range(n_samples):
        a, b = source.uniform(-1.0, 1.0), source.uniform(-1.0, 1.0)
        y.append(same_sign if (a > 0) == (b > 0) else different_sign)
        if noise > 0.0:
            a, b = a + source.gauss(0.0, noise), b + source.gauss(0.0, noise)
        X.append([a, b])
    return X, y


def make_circles(
    n_samples: int = 100,
    noise: float = 0.05,
    *,
    factor: float = 0.5,
    labels: Sequence[int] = (0, 1),
    rng: RngLike = 0,
) -> Dataset:
    """A circle of radius `factor` inside the unit circle, scikit-learn's ``make_circles`` layout.

    The outer circle (first label) gets ``n_samples // 2`` points, the inner one (second label) the
    rest, at evenly spaced angles; Gaussian noise of standard deviation `noise` is added to every
    coordinate and the points are shuffled. No straight line separates the two classes.
    """
    n_samples = _check_size(n_samples, 2, "make_circles")
    noise = _check_noise(noise, "make_circles")
    outer_label, inner_label = _check_labels(labels, "make_circles")
    if not (is_finite_real(factor) and 0 < factor < 1):
        raise ValueError(f"make_circles: factor must lie in (0, 1), got {factor!r}")
    source = make_rng(rng, "make_circles")
    n_outer = n_samples // 2
    points: list[tuple[list[float], int]] = []
    for count, radius, label in (
        (n_outer, 1.0, outer_label),
        (n_samples - n_outer, float(factor), inner_label),
    ):
        for i in range(count):
            t = 2.0 * math.pi * i / count
            points.append(([radius * math.cos(t), radius * math.sin(t)], label))
    return _shuffled_with_noise(points, source, noise)


def make_spiral(
    n_samples: int = 100,
    noise: float = 0.0,
    *,
    turns: float = 1.25,
    labels: Sequence[int] = (0, 1),
    rng: RngLike = 0,
) -> Dataset:
    """Two interleaved spiral arms (TensorFlow Playground's hardest set), radius growing to 1.

    Point i of an arm of m points sits at radius r = i/m and angle 2π·turns·i/m (the second arm is
    turned by π), so the arms wind `turns` times around the origin. The first label goes to the first
    ``n_samples // 2`` points' arm. `noise` adds Gaussian noise of that standard deviation to every
    coordinate; the points are shuffled.
    """
    n_samples = _check_size(n_samples, 2, "make_spiral")
    noise = _check_noise(noise, "make_spiral")
    first_label, second_label = _check_labels(labels, "make_spiral")
    if not (is_finite_real(turns) and 0 < turns <= 10):
        raise ValueError(f"make_spiral: turns must lie in (0, 10], got {turns!r}")
    source = make_rng(rng, "make_spiral")
    n_first = n_samples // 2
    points: list[tuple[list[float], int]] = []
    for count, offset, label in ((n_first, 0.0, first_label), (n_samples - n_first, math.pi, second_label)):
        for i in range(count):
            radius = i / count
            t = 2.0 * math.pi * float(turns) * i / count + offset
            points.append(([radius * math.sin(t), radius * math.cos(t)], label))
    return _shuffled_with_noise(points, source, noise)


class CsvDataError(ValueError):
    """A CSV file of 2-D points that cannot be read; the message names the file, row and value."""


def _csv_number(text: str, path: str, row: int, column: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise CsvDataError(f"{path}: row {row}, column {column}: {text!r} is not a number") from None
    if not math.isfinite(number):
        raise CsvDataError(f"{path}: row {row}, column {column}: {text!r} is not a finite number")
    return number


def read_points_csv(path: str | os.PathLike[str]) -> tuple[list[list[float]], list[str], list[str]]:
    """Two feature columns and a label column from a CSV file: ``(X, labels, class_names)``.

    Each row is ``x1,x2,label``. A first row whose features are not numbers is a header (its names
    are ignored). The label is any text (``0``/``1``, ``-1``/``1``, ``red``/``blue``); `labels` holds
    each row's label text and `class_names` the distinct labels, sorted as numbers when they all are
    numbers, else as text. Blank lines are skipped. Anything else (a row with another number of
    values, a feature that is not a finite number, an empty label, fewer than two classes) raises
    `CsvDataError` naming the row (counted from 1, the header included) and the value.
    """
    name = os.fspath(path)
    try:
        with open(name, newline="", encoding="utf-8-sig") as file:
            rows = list(csv.reader(file))
    except FileNotFoundError:
        raise CsvDataError(f"{name}: no such file") from None
    except UnicodeDecodeError as error:
        raise CsvDataError(f"{name}: not a UTF-8 text file ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise CsvDataError(f"{name}: not a readable CSV file ({error})") from None
    except OSError as error:
        raise CsvDataError(f"{name}: cannot be read ({error.strerror or error})") from None
    X: list[list[float]] = []
    labels: list[str] = []
    for number, row in enumerate(rows, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row]
        if len(cells) != 3:
            raise CsvDataError(
                f"{name}: row {number} has {len(cells)} values {row!r}; expected 3 (x1, x2, label)"
            )
        if not X and not labels and not _is_number(cells[0]) and not _is_number(cells[1]):
            continue  # the header
        x1 = _csv_number(cells[0], name, number, "1 (x1)")
        x2 = _csv_number(cells[1], name, number, "2 (x2)")
        if not cells[2]:
            raise CsvDataError(f"{name}: row {number}, column 3 (label) is empty")
        X.append([x1, x2])
        labels.append(cells[2])
    if not X:
        raise CsvDataError(f"{name}: no data rows (expected rows of x1, x2, label)")
    distinct = set(labels)
    if len(distinct) < 2:
        raise CsvDataError(f"{name}: every row has the label {labels[0]!r}; a classifier needs two classes")
    if all(_is_number(label) for label in distinct):
        class_names = sorted(distinct, key=float)
    else:
        class_names = sorted(distinct)
    return X, labels, class_names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def one_hot(labels: Sequence[int], n_classes: int, *, on: float = 1.0, off: float = 0.0) -> list[list[float]]:
    """One row per label with `on` at the label's index and `off` elsewhere.

    Rashid's network uses ``on=0.99, off=0.01`` so sigmoid outputs can reach their targets.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"one_hot: n_classes must be a positive int, got {n_classes!r}")
    rows = []
    for position, label in enumerate(labels):
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < n_classes:
            raise ValueError(f"one_hot: label {position} must be an int in [0, {n_classes}), got {label!r}")
        row = [float(off)] * n_classes
        row[label] = float(on)
        rows.append(row)
    return rows


def train_test_split(
    X: Sequence, y: Sequence, test_fraction: float = 0.25, *, rng: RngLike = 0
) -> tuple[list, list, list, list]:
    """Shuffle and split into ``(X_train, X_test, y_train, y_test)``; the test part gets
    ``round(len(X) * test_fraction)`` examples (scikit-learn's order of results).
    """
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {len(y)}")
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, numbers.Real)
        or not 0 < test_fraction < 1
    ):
        raise ValueError(f"train_test_split: test_fraction must lie in (0, 1), got {test_fraction!r}")
    order = list(range(len(X)))
    make_rng(rng, "train_test_split").shuffle(order)
    n_test = round(len(X) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


DIGITS_RESOURCE = "datasets/digits.csv.gz"  # inside the nn package; see nn/datasets/NOTICE.md
DIGITS_COUNT = 1797


def _read_digits() -> Dataset:
    """Every image of the bundled file, checked: 1,797 rows of 64 pixels in 0..16 and a label 0..9."""
    where = f"nn/{DIGITS_RESOURCE}"
    try:
        raw = resources.files(__package__).joinpath(DIGITS_RESOURCE).read_bytes()
        text = gzip.decompress(raw).decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise OSError(f"load_digits: cannot read {where} ({error}); reinstall gradstep") from error
    rows = list(csv.reader(io.StringIO(text)))
    images: list[list[float]] = []
    labels: list[int] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 65 or not all(cell.isdigit() and int(cell) <= 16 for cell in row) or int(row[64]) > 9:
            raise OSError(
                f"load_digits: {where} line {number} is not 64 pixels 0..16 and a digit: {row[:3]}..."
            )
        images.append([float(cell) for cell in row[:64]])
        labels.append(int(row[64]))
    if len(images) != DIGITS_COUNT:
        raise OSError(
            f"load_digits: {where} has {len(images)} images, expected {DIGITS_COUNT}; reinstall gradstep"
        )
    return images, labels


def load_digits(n_classes: int = 10) -> Dataset:
    """The 8x8 handwritten digits (1,797 images, pixels 0..16) as 64 floats per image, and their labels.

    The same images, in the same order, as scikit-learn's ``sklearn.datasets.load_digits``: the test
    part of the UCI "Optical Recognition of Handwritten Digits" set (Alpaydin and Kaynak, 1998).
    They ship inside nn (``nn/datasets/digits.csv.gz``, about 54 kB, with its attribution and
    licence in ``nn/datasets/NOTICE.md``), so nothing is downloaded and no extra is needed.
    `n_classes` keeps only the digits 0 .. n_classes-1, as scikit-learn's ``n_class`` does.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or not 1 <= n_classes <= 10:
        raise ValueError(f"load_digits: n_classes must be an int in [1, 10], got {n_classes!r}")
    images, labels = _read_digits()
    kept = [i for i, label in enumerate(labels) if label < n_classes]
    return [images[i] for i in kept], [labels[i] for i in kept]
