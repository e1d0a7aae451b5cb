"""The gradstep package: its version and the names a first session looks for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd
import gradstep
import nn

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_projects():
    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert gradstep.__version__ == declared.group(1) == autograd.__version__


@pytest.mark.parametrize("name", ["Value", "dot", "vsum", "draw", "parse", "chain_rule_steps", "check_grads"])
def test_the_engines_names_are_re_exported(name):
    assert getattr(gradstep, name) is getattr(autograd, name)


def test_packages_commands_and_the_micrograd_layer_are_reachable():
    assert gradstep.nn is nn and gradstep.autograd is autograd
    assert gradstep.compile is autograd.compile and gradstep.write_stepper_html is autograd.write_stepper_html
    from gradstep import cli, micrograd

    assert gradstep.main is cli.main and gradstep.micrograd is micrograd
    assert set(gradstep.__all__) <= set(dir(gradstep))
    with pytest.raises(AttributeError, match="module 'gradstep' has no attribute 'nonsense'"):
        gradstep.nonsense  # noqa: B018


def test_importing_gradstep_loads_neither_engine_nor_nn():
    code = "import sys, gradstep; print(gradstep.__version__, 'autograd' in sys.modules, 'nn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout.split() == [gradstep.__version__, "False", "False"]
