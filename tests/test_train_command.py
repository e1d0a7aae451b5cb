"""gradstep train: trains an MLP on 2-D points and writes the training viewer; bad input is one line."""

from __future__ import annotations

import json
import re

import pytest

from gradstep import cli


def viewer_data(path) -> dict:
    page = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="viewer-data">(.*?)</script>', page, re.DOTALL)
    assert match is not None
    return json.loads(match.group(1))


def test_train_writes_the_page_and_its_stepper_pages(tmp_path, capsys):
    output = tmp_path / "training.html"
    code = cli.main(
        ["train", "--data", "xor", "--samples", "40", "--layers", "6", "--steps", "5", "-o", str(output)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "data: 30 training and 10 test points, classes 0, 1" in out
    assert f"wrote {output}" in out and "5 recorded steps" in out and "4 stepper pages" in out
    data = viewer_data(output)
    assert data["count"] == 5 and data["test"] is not None
    assert len(list((tmp_path / "training_steppers").glob("*.html"))) == 4


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--data", "circles", "--loss", "binary_cross_entropy_with_logits", "--optimizer", "adam"], "Adam"),
        (["--data", "spiral", "--loss", "cross_entropy", "--activation", "tanh"], "cross_entropy"),
        (["--data", "moons", "--loss", "squared_error", "--momentum", "0.9"], "velocity"),
        (
            ["--data", "moons", "--loss", "binary_cross_entropy", "--test-fraction", "0"],
            "binary_cross_entropy",
        ),
    ],
)
def test_every_dataset_loss_and_optimiser(tmp_path, capsys, options, expected):
    output = tmp_path / "t.html"
    args = [
        "train",
        *options,
        "--samples",
        "24",
        "--layers",
        "4",
        "--steps",
        "3",
        "--no-steppers",
        "-o",
        str(output),
    ]
    assert cli.main(args) == 0
    assert expected in output.read_text(encoding="utf-8")
    assert not (tmp_path / "t_steppers").exists()


def test_a_csv_file_with_named_classes(tmp_path, capsys):
    data = tmp_path / "points.csv"
    rows = ["x1,x2,kind", *(f"{i / 10},{(i % 3) / 3},{'cat' if i % 2 else 'dog'}" for i in range(16))]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    output = tmp_path / "csv.html"
    assert cli.main(["train", "--data", str(data), "--steps", "2", "--no-steppers", "-o", str(output)]) == 0
    assert "classes cat, dog" in capsys.readouterr().out
    page = output.read_text(encoding="utf-8")
    assert "cat" in page and "dog" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "moon"], "--data must be one of moons, xor, circles, spiral or a .csv file, got 'moon'"),
        (["--data", "MISSING.csv"], "MISSING.csv: no such file"),
        (["--data", "BAD.csv"], "BAD.csv: row 2, column 2 (x2): 'oops' is not a number"),
        (["--data", "THREE.csv"], "--loss hinge separates two classes, but the data has 3 (a, b, c)"),
        (["--samples", "3"], "--samples must be at least 4"),
    ],
)
def test_bad_data_is_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "BAD.csv").write_text("1,2,a\n3,oops,b\n", encoding="utf-8")
    (tmp_path / "THREE.csv").write_text("1,2,a\n3,4,b\n5,6,c\n7,8,a\n", encoding="utf-8")
    assert cli.main(["train", *args, "--steps", "1", "--no-steppers"]) == 2
    err = capsys.readouterr().err
    assert err == f"gradstep train: error: {message}\n" or (message in err and err.count("\n") == 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "16,x"], "expected hidden layer widths such as 16,16, got '16,x'"),
        (["--layers", "0"], "each hidden layer width must be from 1 to 256"),
        (["--lr", "0"], "expected a number in (0, 100), got '0'"),
        (["--steps", "-2"], "expected a positive whole number, got '-2'"),
        (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    ],
)
def test_bad_options_exit_with_2_and_say_why(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_train_is_listed_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "train" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--data SET" in out and "moons, xor, circles, spiral" in out


def test_an_unwritable_output_is_one_line_and_exit_code_1(tmp_path, capsys):
    output = tmp_path / "missing-folder" / "t.html"
    assert (
        cli.main(
            ["train", "--samples", "12", "--layers", "3", "--steps", "1", "--no-steppers", "-o", str(output)]
        )
        == 1
    )
    assert "gradstep train: error: could not write" in capsys.readouterr().err
