"""nn.data: deterministic two moons and XOR, one-hot, splitting, and the bundled 8x8 digits."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest

import nn
from nn.data import load_digits, make_moons, make_xor, one_hot, train_test_split, xor_table


def test_make_moons_shape_balance_and_determinism():
    X, y = make_moons(100, 0.1, rng=0)
    assert len(X) == len(y) == 100
    assert all(len(point) == 2 and all(isinstance(c, float) for c in point) for point in X)
    assert sorted(set(y)) == [0, 1] and y.count(0) == y.count(1) == 50
    assert make_moons(100, 0.1, rng=0) == (X, y)
    assert make_moons(100, 0.1, rng=random.Random(0)) == (X, y)
    assert make_moons(100, 0.1, rng=1) != (X, y)
    assert make_moons() == make_moons(100, 0.1, rng=0)  # deterministic by default


def test_make_moons_odd_count_and_signed_labels():
    _, y = make_moons(7, 0.0, labels=(-1, 1))
    assert y.count(-1) == 3 and y.count(1) == 4  # n // 2 on the upper moon, as scikit-learn


def test_noise_free_moons_lie_on_the_two_half_circles():
    X, y = make_moons(40, 0.0)
    for (a, b), label in zip(X, y):
        if label == 0:
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_noise_free_moons_are_scikit_learns_points():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(30, 0.0)
    theirs_X, theirs_y = sklearn_datasets.make_moons(30, shuffle=False, noise=0.0)
    ours = sorted((label, round(a, 12), round(b, 12)) for (a, b), label in zip(X, y))
    theirs = sorted(
        (int(label), round(a, 12), round(b, 12)) for (a, b), label in zip(theirs_X.tolist(), theirs_y)
    )
    assert ours == theirs


def test_noise_moves_points_by_about_its_standard_deviation():
    clean, _ = make_moons(400, 0.0, rng=3)
    noisy, _ = make_moons(400, 0.2, rng=3)  # same shuffle, then noise
    moves = [c - n for p, q in zip(clean, noisy) for c, n in zip(p, q)]
    assert math.sqrt(sum(m * m for m in moves) / len(moves)) == pytest.approx(0.2, rel=0.1)


def test_xor_table():
    assert xor_table() == ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    X, y = xor_table(bias_column=True, labels=(-1, 1))
    assert X[3] == [1.0, 1.0, 1.0] and y == [-1, 1, 1, -1]


def test_make_xor_labels_follow_the_signs():
    X, y = make_xor(200, rng=5)
    assert len(X) == 200 and make_xor(200, rng=5) == (X, y)
    assert all(label == (0 if (a > 0) == (b > 0) else 1) for (a, b), label in zip(X, y))
    assert all(-1.0 <= c <= 1.0 for point in X for c in point)
    noisy, noisy_y = make_xor(200, noise=0.1, labels=(-1, 1), rng=5)
    assert set(noisy_y) == {-1, 1} and noisy != X


def test_one_hot():
    assert one_hot([2, 0], 3) == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert one_hot([1], 2, on=0.99, off=0.01) == [[0.01, 0.99]]
    with pytest.raises(ValueError, match=r"label 1 must be an int in \[0, 3\)"):
        one_hot([0, 3], 3)


def test_train_test_split():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, rng=1)
    assert len(X_test) == 5 and len(X_train) == 15
    assert sorted(y_train + y_test) == y
    assert all(x == [float(label)] for x, label in zip(X_train + X_test, y_train + y_test))
    assert train_test_split(X, y, 0.25, rng=1) == (X_train, X_test, y_train, y_test)
    with pytest.raises(ValueError, match="X has 20 rows but y has 19"):
        train_test_split(X, y[:-1])


def test_load_digits_reads_the_bundled_images():
    X, y = load_digits()
    assert len(X) == len(y) == 1797 and all(len(image) == 64 for image in X)
    assert all(0.0 <= pixel <= 16.0 for image in X for pixel in image) and isinstance(y[0], int)
    assert [y.count(digit) for digit in range(10)] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    X3, y3 = load_digits(n_classes=3)
    assert set(y3) == {0, 1, 2} and [image for image, label in zip(X, y) if label < 3] == X3
    X[0][0] = 99.0  # every call gets its own lists
    assert load_digits()[0][0][0] == 0.0


@pytest.mark.parametrize("n_classes", [10, 3])
def test_bundled_digits_are_scikit_learns_exactly(n_classes):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    theirs = sklearn_datasets.load_digits(n_class=n_classes)
    X, y = load_digits(n_classes)
    assert theirs.data.tolist() == X and y == theirs.target.tolist()


def test_load_digits_needs_neither_scikit_learn_nor_scipy(monkeypatch):
    for name in ("sklearn", "sklearn.datasets", "scipy"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import sklearn...` fail
    assert len(load_digits()[0]) == 1797


def test_the_digits_file_and_its_notice_are_package_data():
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"datasets/digits.csv.gz", "datasets/NOTICE.md"' in pyproject
    notice = (Path(nn.__file__).parent / "datasets" / "NOTICE.md").read_text()
    assert "Alpaydin" in notice and "BSD 3-Clause License" in notice and "scikit-learn developers" in notice


def test_a_damaged_digits_file_is_a_clear_error(monkeypatch, tmp_path):
    import gzip

    from nn import data

    bad = tmp_path / "nn"
    (bad / "datasets").mkdir(parents=True)
    (bad / "datasets" / "digits.csv.gz").write_bytes(gzip.compress(b"header\n1,2,3\n"))
    monkeypatch.setattr(data.resources, "files", lambda package: bad)
    with pytest.raises(OSError, match=r"line 2 is not 64 pixels 0\.\.16 and a digit"):
        load_digits()
    (bad / "datasets" / "digits.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(OSError, match=r"cannot read nn/datasets/digits\.csv\.gz .*reinstall gradstep"):
        load_digits()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_moons(1), "n_samples must be an int >= 2"),
        (lambda: make_moons(10, -0.1), "noise must be a finite number >= 0"),
        (lambda: make_moons(10, labels=(1, 1)), "labels must be two different ints"),
        (lambda: make_moons(10, labels=(0, 1, 2)), "labels must be two different ints"),
        (lambda: make_xor(0), "n_samples must be an int >= 1"),
        (lambda: load_digits(11), r"n_classes must be an int in \[1, 10\]"),
        (lambda: one_hot([0], 0), "n_classes must be a positive int"),
        (lambda: train_test_split([1], [1], 1.5), r"test_fraction must lie in \(0, 1\)"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_rng_is_a_type_error():
    with pytest.raises(TypeError, match="make_moons: rng must be an int seed"):
        make_moons(10, rng=1.5)


def test_exported_from_nn():
    assert nn.make_moons is make_moons and nn.xor_table is xor_table and nn.load_digits is load_digits


# ---------------------------------------------------------------------------------------------------
# Circles, spirals and 2-D points from a CSV file
# ---------------------------------------------------------------------------------------------------


def test_noise_free_circles_lie_on_their_two_radii():
    X, y = nn.make_circles(41, 0.0, factor=0.3, rng=4)
    assert len(X) == 41 and y.count(0) == 20 and y.count(1) == 21
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)
    assert (
        nn.make_circles(41, 0.05, rng=4)
        == nn.make_circles(41, 0.05, rng=4)
        != nn.make_circles(41, 0.05, rng=5)
    )


def test_noise_free_spiral_arms_wind_outwards_half_a_turn_apart():
    X, y = nn.make_spiral(60, 0.0, turns=1.0, labels=(-1, 1), rng=0)
    assert y.count(-1) == y.count(1) == 30
    radii = sorted(math.hypot(a, b) for (a, b), label in zip(X, y) if label == 1)
    assert radii == pytest.approx([i / 30 for i in range(30)])
    # The two arms are each other turned by π: the point (a, b) of one arm is (-a, -b) of the other.
    first = sorted((round(a, 9), round(b, 9)) for (a, b), label in zip(X, y) if label == -1)
    second = sorted((round(-a, 9) + 0.0, round(-b, 9) + 0.0) for (a, b), label in zip(X, y) if label == 1)
    assert first == second


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nn.make_circles(1), "make_circles: n_samples must be an int >= 2, got 1"),
        (lambda: nn.make_circles(10, factor=1.0), "make_circles: factor must lie in (0, 1), got 1.0"),
        (lambda: nn.make_circles(10, -0.1), "make_circles: noise must be a finite number >= 0"),
        (lambda: nn.make_spiral(10, turns=0), "make_spiral: turns must lie in (0, 10], got 0"),
        (lambda: nn.make_spiral(10, labels=(1, 1)), "make_spiral: labels must be two different ints"),
    ],
)
def test_circle_and_spiral_errors(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_read_points_csv_with_a_header_blank_lines_and_named_classes(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,colour\n0.5, -1,red\n\n1e-3,2,blue\n3,4, red \n", encoding="utf-8")
    X, labels, classes = nn.read_points_csv(path)
    assert X == [[0.5, -1.0], [0.001, 2.0], [3.0, 4.0]]
    assert labels == ["red", "blue", "red"] and classes == ["blue", "red"]
    path.write_text("1,1,10\n2,2,9\n3,3,-1\n", encoding="utf-8")
    assert nn.read_points_csv(path)[2] == ["-1", "9", "10"]  # numeric labels sort as numbers


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no data rows (expected rows of x1, x2, label)"),
        ("x1,x2,label\n", "no data rows"),
        ("1,2,a\n3,4\n", "row 2 has 2 values ['3', '4']; expected 3 (x1, x2, label)"),
        ("1,2,a,b\n", "row 1 has 4 values"),
        ("x,y,l\n1,2,a\n3,abc,b\n", "row 3, column 2 (x2): 'abc' is not a number"),
        ("1,2,a\nfoo,2,b\n", "row 2, column 1 (x1): 'foo' is not a number"),
        ("1,nan,a\n", "row 1, column 2 (x2): 'nan' is not a finite number"),
        ("1,2,a\n1,1e999,b\n", "row 2, column 2 (x2): '1e999' is not a finite number"),
        ("1,2,\n", "row 1, column 3 (label) is empty"),
        ("1,2,a\n3,4,a\n", "every row has the label 'a'; a classifier needs two classes"),
    ],
)
def test_read_points_csv_errors_name_the_row_and_value(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(nn.data.CsvDataError) as error:
        nn.read_points_csv(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_read_points_csv_file_problems(tmp_path):
    with pytest.raises(nn.data.CsvDataError, match="no such file"):
        nn.read_points_csv(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(nn.data.CsvDataError, match="not a UTF-8 text file"):
        nn.read_points_csv(binary)
