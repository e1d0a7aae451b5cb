"""gradstep doctor: every line of the report, and a PROBLEM (exit code 1) for each thing that is wrong."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import autograd
import nn
from autograd import name_clash
from gradstep import doctor

ROOT = Path(__file__).resolve().parent.parent


def report() -> tuple[int, dict[str, str]]:
    out = io.StringIO()
    code = doctor.main(out)
    lines = out.getvalue().splitlines()
    found = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines[:-1]}
    return code, found | {"verdict": lines[-1]}


def test_a_healthy_environment_reports_everything_and_exits_0():
    code, found = report()
    assert code == 0 and found["verdict"] == "no problems found"
    assert found["Python"].startswith(sys.version.split()[0]) and sys.executable in found["Python"]
    assert found["gradstep"].startswith("0.")
    assert found["autograd"] == autograd.__file__ and found["nn"] == nn.__file__
    assert found["HIPS autograd"] == "no clash (not installed here)"
    assert found["renderer"]  # the bundled renderer or a dot executable
    for distribution in doctor.EXTRAS:
        assert distribution in found
    assert found["matplotlib"].split(":")[0][0].isdigit()  # the test extras install it: a version


def test_a_clash_is_a_problem(monkeypatch):
    monkeypatch.setattr(name_clash, "clash_message", lambda module=None: "gradstep: HIPS autograd 1.9.1 (x)")
    code, found = report()
    assert code == 1 and found["verdict"] == "1 problem found"
    assert found["HIPS autograd"] == "PROBLEM: gradstep: HIPS autograd 1.9.1 (x)"


def test_a_missing_renderer_is_a_problem(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADSTEP_NO_WASM", "1")
    monkeypatch.delenv("GRADSTEP_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, found = report()
    assert code == 1 and found["renderer"].startswith("PROBLEM: no Graphviz renderer found")


def test_a_missing_extra_is_reported_but_not_a_problem(monkeypatch):
    monkeypatch.setitem(doctor.EXTRAS, "not-a-real-package", ("not_a_real_module", "nothing"))
    code, found = report()
    assert code == 0 and found["not-a-real-package"] == "not installed: nothing"


def test_the_command_runs_as_gradstep_doctor():
    result = subprocess.run(
        [sys.executable, "-m", "gradstep", "doctor"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("Python:") and "renderer:" in result.stdout
