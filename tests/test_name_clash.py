"""The clash with HIPS autograd: recognised on disk, said in one line, in both install orders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import autograd
from autograd import name_clash

ROOT = Path(__file__).resolve().parent.parent


def fake_site(tmp_path: Path, *hips_files: str, dist_info: str | None = None) -> Path:
    """A site-packages folder whose autograd/ holds gradstep's files plus the given HIPS ones."""
    folder = tmp_path / "site-packages" / "autograd"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "engine.py").write_text("")
    for name in hips_files:
        (folder / name).write_text("")
    if dist_info:
        (folder.parent / dist_info).mkdir()
    return folder


def test_a_clean_autograd_folder_shows_no_hips(tmp_path):
    assert name_clash.hips_autograd_on_disk(str(fake_site(tmp_path))) is None


@pytest.mark.parametrize("hips_file", ["tracer.py", "differential_operators.py", "wrap_util.py"])
def test_hips_modules_next_to_gradsteps_are_found(tmp_path, hips_file):
    found = name_clash.hips_autograd_on_disk(str(fake_site(tmp_path, hips_file)))
    assert found is not None and hips_file in found


def test_hips_dist_info_is_found_with_its_version(tmp_path):
    folder = fake_site(tmp_path, dist_info="autograd-1.9.1.dist-info")
    assert name_clash.hips_autograd_on_disk(str(folder)).startswith("HIPS autograd 1.9.1 (")


def test_this_environment_has_no_clash():
    assert name_clash.is_gradstep_autograd(autograd)
    assert name_clash.clash_message(autograd) is None


def test_a_foreign_autograd_module_is_named_in_one_line():
    hips = types.ModuleType("autograd")
    hips.__file__ = "/site-packages/autograd/__init__.py"
    message = name_clash.clash_message(hips)
    assert "\n" not in message
    assert "loads HIPS autograd (/site-packages/autograd/__init__.py)" in message
    assert "separate virtual environments" in message and "The autograd name clash" in message


def test_a_namespace_package_left_by_uninstalling_hips_says_reinstall():
    leftover = types.ModuleType("autograd")  # no __file__: what Python makes of a folder without __init__.py
    message = name_clash.clash_message(leftover)
    assert "__init__.py is missing" in message and "pip install --force-reinstall" in message


def test_gradsteps_autograd_next_to_hips_files_warns_once(monkeypatch, capsys):
    monkeypatch.setattr(name_clash, "hips_autograd_on_disk", lambda folder=None: "HIPS autograd 1.9.1 (x)")
    monkeypatch.setattr(name_clash, "_warned", False)
    first = name_clash.warn_if_clashing(autograd)
    second = name_clash.warn_if_clashing(autograd)
    assert first == second and "from autograd import grad` is broken" in first
    assert capsys.readouterr().err == first + "\n"  # printed once, as one line


# ---------------------------------------------------------------------------------------------------
# The real thing: HIPS autograd from the package index and gradstep in one virtual environment
# ---------------------------------------------------------------------------------------------------


def _network_required() -> bool:
    return os.environ.get("GRADSTEP_REQUIRE_NETWORK", "") not in ("", "0")


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=600, cwd=cwd, check=False
    )


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else ""


@pytest.fixture(scope="module")
def hips_wheel(tmp_path_factory) -> Path:
    """HIPS autograd's wheel from the package index (a skip if the index cannot be reached)."""
    folder = tmp_path_factory.mktemp("hips")
    result = _run(sys.executable, "-m", "pip", "download", "--no-deps", "autograd", "-d", folder)
    wheels = list(folder.glob("autograd-*.whl"))
    if result.returncode != 0 or not wheels:
        reason = f"cannot download HIPS autograd from the package index: {_last_line(result.stderr)}"
        if _network_required():
            pytest.fail(f"GRADSTEP_REQUIRE_NETWORK=1 but {reason}")
        pytest.skip(reason)
    return wheels[0]


@pytest.fixture(scope="module")
def gradstep_wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout, built from a copy so the checkout gets no build/ folder."""
    work = tmp_path_factory.mktemp("gradstep-build")
    source = work / "src"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__")
    )
    result = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", work, source)
    assert result.returncode == 0, result.stderr
    return next(work.glob("gradstep-*.whl"))


@pytest.mark.slow
def test_both_install_orders_say_so_in_one_line(tmp_path, hips_wheel, gradstep_wheel):
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python, pip = venv / "bin" / "python", [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    # HIPS autograd first (with numpy, its dependency), then gradstep without its renderer dependencies.
    result = _run(*pip, hips_wheel)
    if result.returncode != 0:
        reason = f"cannot install HIPS autograd's dependencies: {_last_line(result.stderr)}"
        if _network_required():
            pytest.fail(reason)
        pytest.skip(reason)
    assert _run(*pip, "--no-deps", gradstep_wheel).returncode == 0

    # Order 1: gradstep's autograd/__init__.py has replaced HIPS's. gradstep works and says so once.
    result = _run(python, "-c", "import autograd, nn; print(autograd.Value(2.0) * 3)", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Value(data=6.0, grad=0.0, op='mul_const')"
    [line] = result.stderr.splitlines()
    assert line.startswith("gradstep: HIPS autograd 1.9") or line.startswith("gradstep: HIPS autograd ")
    assert "HIPS's `from autograd import grad` is broken" in line and "separate virtual environments" in line
    doctor = _run(venv / "bin" / "gradstep", "doctor", cwd=tmp_path)
    assert doctor.returncode == 1
    assert "HIPS autograd: PROBLEM: gradstep: HIPS autograd" in doctor.stdout

    # Order 2: HIPS autograd installed again over gradstep: its __init__.py replaces gradstep's.
    assert _run(*pip, "--force-reinstall", "--no-deps", hips_wheel).returncode == 0
    result = _run(python, "-c", "import nn", cwd=tmp_path)
    assert result.returncode == 1
    line = _last_line(result.stderr)
    assert line.startswith("ImportError: gradstep: `import autograd` loads HIPS autograd (")
    assert "replaced its autograd/__init__.py" in line and "separate virtual environments" in line
    command = _run(venv / "bin" / "gradstep", "grad", "x*y", "x=1", "y=2", cwd=tmp_path)
    assert command.returncode == 1 and command.stdout == ""
    assert command.stderr.startswith("gradstep: `import autograd` loads HIPS autograd (")
    assert len(command.stderr.splitlines()) == 1
    assert _run(venv / "bin" / "gradstep", "--version").stdout.strip().startswith("gradstep 0.")
    doctor = _run(venv / "bin" / "gradstep", "doctor", cwd=tmp_path)
    assert doctor.returncode == 1
    assert "(not gradstep's engine)" in doctor.stdout and "nn:" in doctor.stdout
