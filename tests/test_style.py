"""The code base stays ruff clean (lint config in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_is_clean():
    if (
        shutil.which("ruff") is None
        and subprocess.run(
            [sys.executable, "-m", "ruff", "--version"], capture_output=True, check=False
        ).returncode
        != 0
    ):
        pytest.skip("ruff is not installed (pip install '.[test]')")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_autograd_and_nn_never_import_the_application_or_the_demos():
    # Every module of both packages, imported in a fresh process: none may pull in gradstep or demos.
    code = (
        "import importlib, pkgutil, sys\n"
        "import autograd, nn\n"
        "for package in (autograd, nn):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "assert 'demos' not in sys.modules and 'gradstep' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('demos', 'gradstep'))\n"
        "print(len([m for m in sys.modules if m.split('.')[0] in ('autograd', 'nn')]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) >= 20  # every module was really imported (autograd.compiler.* included)


def test_install_hints_work_from_a_clone():
    # gradstep is not on a package index, so a hint naming the project with an extra in brackets
    # cannot work for a user with a clone; hints name the packages or `pip install ".[demos]"`.
    import re

    pattern = re.compile(r"pip install [\"']?gradstep\[")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in [*ROOT.rglob("*.py"), *ROOT.rglob("*.md")]
        if not any(part in (".git", ".venv", "build") for part in path.parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == [], offenders


def test_the_license_file_matches_pyproject():
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
