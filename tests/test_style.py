"""The code base stays ruff clean, ruff formatted and mypy clean (configuration in pyproject.toml).

Each tool skips when it is not installed, unless CI makes it mandatory: GRADSTEP_REQUIRE_RUFF=1,
GRADSTEP_REQUIRE_MYPY=1 (both are in the `test` extra, so `pip install ".[test]"` has them).
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import autograd
from tests.fixtures import required

ROOT = Path(__file__).resolve().parent.parent


def _tool(module: str, env_var: str) -> None:
    """Skip (or fail, when `env_var` is set) if `python -m module` cannot run."""
    if importlib.util.find_spec(module) is not None:
        return
    message = f"{module} is not installed (pip install '.[test]')"
    if required(env_var):
        pytest.fail(f"{env_var}=1 but {message}")
    pytest.skip(message)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=600
    )


def test_ruff_check_is_clean():
    _tool("ruff", "GRADSTEP_REQUIRE_RUFF")
    result = _run("ruff", "check", "--no-cache", str(ROOT))
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


def test_ruff_format_leaves_every_file_as_it_is():
    _tool("ruff", "GRADSTEP_REQUIRE_RUFF")
    result = _run("ruff", "format", "--check", "--no-cache", str(ROOT))
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr


def test_mypy_finds_no_errors_in_autograd_and_nn():
    _tool("mypy", "GRADSTEP_REQUIRE_MYPY")
    result = _run("mypy")  # the packages and options come from [tool.mypy]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


def test_every_lazy_export_is_visible_to_type_checkers():
    """autograd/__init__.py imports each lazily exported name under TYPE_CHECKING, from its module."""
    tree = ast.parse((ROOT / "autograd" / "__init__.py").read_text(encoding="utf-8"))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    imported = {
        alias.name: node.module.lstrip(".") if node.module else ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == autograd._LAZY_EXPORTS


def test_every_package_folder_is_installed():
    """[tool.setuptools] packages lists every folder of Python modules that `pip install .` must ship."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("autograd", "nn", "demos", "gradstep")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert listed == on_disk
