"""``gradstep doctor``: what this environment gives gradstep, and what is wrong with it.

It reports Python, gradstep's version, where ``autograd`` and ``nn`` are imported from, the graph
renderer that drawing would use, which optional extras are installed, and whether HIPS autograd
collides with gradstep's ``autograd`` package (see `autograd.name_clash`). Every line is
``name: finding``; a problem starts its finding with ``PROBLEM:`` and makes the exit code 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import TextIO

__all__ = ["EXTRAS", "Finding", "findings", "main"]

# distribution name -> (import name, what gradstep uses it for)
EXTRAS: dict[str, tuple[str, str]] = {
    "matplotlib": ("matplotlib", "the demos' plots"),
    "tqdm": ("tqdm", "progress bars (plain lines without it)"),
    "numpy": ("numpy", "compiled batches (step.batched)"),
    "scikit-learn": ("sklearn", "micrograd's exact two-moons points in the moons demo"),
    "cairosvg": ("cairosvg", "saving drawings as PNG"),
    "torch": ("torch", "the PyTorch parity tests"),
    "playwright": ("playwright", "the browser tests"),
}


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    name: str
    text: str
    problem: bool = False

    def line(self, width: int) -> str:
        return f"{self.name + ':':<{width}} {'PROBLEM: ' if self.problem else ''}{self.text}"


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _module_location(name: str) -> tuple[str, object | None]:
    """Where `name` is imported from (without importing it), and the module if it is already loaded."""
    module = sys.modules.get(name)
    if module is not None:
        return str(getattr(module, "__file__", None) or list(getattr(module, "__path__", []))), module
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "not found", None
    return str(spec.origin or list(spec.submodule_search_locations or [])), None


def _engine_findings() -> list[Finding]:
    found: list[Finding] = []
    try:
        engine = importlib.import_module("autograd")
    except Exception as error:  # HIPS autograd's own import can fail (numpy missing, ...)
        where, _ = _module_location("autograd")
        return [Finding("autograd", f"{where} fails to import: {type(error).__name__}: {error}", True)]
    ours = getattr(engine, "__gradstep_engine__", False) is True
    where = getattr(engine, "__file__", None) or "a namespace package (no __init__.py)"
    found.append(Finding("autograd", f"{where}" + ("" if ours else " (not gradstep's engine)"), not ours))
    try:
        import nn

        found.append(Finding("nn", str(nn.__file__)))
    except ImportError as error:
        found.append(Finding("nn", f"cannot be imported: {error}", True))
    try:
        from autograd.name_clash import clash_message

        message = clash_message(engine)
    except ImportError:
        message = "gradstep's autograd/name_clash.py is missing: the autograd package is not gradstep's"
    found.append(Finding("HIPS autograd", message or "no clash (not installed here)", message is not None))
    return found


def _renderer_finding() -> Finding:
    try:
        from autograd.drawing.graphviz import RenderError, get_renderer
    except ImportError as error:
        return Finding("renderer", f"cannot load gradstep's drawing code: {error}", True)
    try:
        return Finding("renderer", get_renderer().description)
    except RenderError as error:
        return Finding("renderer", str(error), True)


def findings() -> list[Finding]:
    """Everything ``gradstep doctor`` reports, in order."""
    from . import __version__

    version = sys.version.split()[0]
    report = [
        Finding("Python", f"{version} ({sys.executable})"),
        Finding("gradstep", f"{__version__} ({os.path.dirname(os.path.abspath(__file__))})"),
    ]
    report += _engine_findings()
    report.append(_renderer_finding())
    for distribution, (module, purpose) in EXTRAS.items():
        installed = _version_of(distribution)
        if installed is None and importlib.util.find_spec(module) is not None:
            installed = "installed"
        report.append(Finding(distribution, f"{installed or 'not installed'}: {purpose}"))
    return report


def main(out: TextIO | None = None) -> int:
    """Print the report; exit code 0 when nothing is wrong, 1 when some line is a PROBLEM."""
    out = sys.stdout if out is None else out
    report = findings()
    width = max(len(finding.name) for finding in report) + 1
    for finding in report:
        print(finding.line(width), file=out)
    problems = [finding for finding in report if finding.problem]
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found", file=out)
        return 1
    print("no problems found", file=out)
    return 0
