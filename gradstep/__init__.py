"""gradstep: a scalar reverse-mode autodiff engine you can see and step through.

The library is two import packages, `autograd` (the engine, drawing, stepping, compiling) and `nn`
(modules, losses, optimisers, training). This package is the application around them: the
``gradstep`` command line (`gradstep.cli`, also ``python -m gradstep``), the environment report
(``gradstep doctor``, `gradstep.doctor`) and `gradstep.micrograd`, which runs micrograd's code
unchanged. Nothing in `autograd` or `nn` imports it.

    import gradstep
    gradstep.__version__
    from gradstep import Value, nn, draw         # the names a first session needs, re-exported
    from gradstep.micrograd import Value, MLP, draw_dot   # micrograd's signatures and defaults

The re-exported names are loaded on first use, so ``import gradstep`` (and ``gradstep --version``)
works even when the environment is broken, for instance when HIPS autograd has replaced gradstep's
``autograd`` package; then using a name raises an ImportError that says so in one line.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

__all__ = [
    "Value",
    "__version__",
    "autograd",
    "chain_rule_steps",
    "check_grads",
    "compile",
    "dot",
    "draw",
    "main",
    "nn",
    "parse",
    "vsum",
    "write_stepper_html",
]


def _installed_version() -> str:
    try:
        return metadata.version("gradstep")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0.1.0"


__version__ = _installed_version()

# Re-exported name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "Value": "autograd",
    "dot": "autograd",
    "vsum": "autograd",
    "draw": "autograd",
    "parse": "autograd",
    "chain_rule_steps": "autograd",
    "check_grads": "autograd",
    "compile": "autograd",
    "write_stepper_html": "autograd",
    "main": "gradstep.cli",
}
_SUBMODULES = ("cli", "doctor", "micrograd")


def _import_checked(name: str) -> Any:
    """`name` imported, after checking that ``autograd`` is gradstep's (else a one-line ImportError)."""
    engine = importlib.import_module("autograd")
    if getattr(engine, "__gradstep_engine__", False) is not True:
        importlib.import_module("nn")  # raises the one-line ImportError of nn/_autograd_check.py
    return importlib.import_module(name)


def __getattr__(name: str) -> Any:
    if name in ("autograd", "nn"):
        value = _import_checked(name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name in _EXPORTS:
        value = getattr(_import_checked(_EXPORTS[name]), name)
    else:
        raise AttributeError(f"module 'gradstep' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
