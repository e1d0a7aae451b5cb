"""Detect the clash with HIPS autograd, the unrelated project that also installs a package named ``autograd``.

gradstep installs the import packages ``autograd`` and ``nn``. HIPS autograd (``pip install autograd``)
installs ``autograd`` too, and pip lets the second install overwrite the first one's files without a
word, so one environment can hold only one of them:

- HIPS autograd installed first, gradstep second: gradstep's ``autograd/__init__.py`` replaces HIPS's.
  gradstep works; HIPS's ``from autograd import grad`` is broken (and stays broken after
  ``pip uninstall gradstep``, which deletes the shared ``__init__.py``).
- gradstep first, HIPS autograd second: HIPS's ``__init__.py`` replaces gradstep's, so
  ``import autograd`` is HIPS's and ``import nn`` cannot find `Value`.

Both states are recognised from what is on disk, in a few file-system lookups: HIPS's own modules
(``tracer.py``, ``differential_operators.py``) next to gradstep's, or HIPS's ``autograd-*.dist-info``
in the same site-packages folder, and whether the ``autograd`` module Python imported is gradstep's.
`clash_message` says what happened and what to do in one line; ``import autograd`` prints it (once
per process) and ``import nn`` raises it, and ``gradstep doctor`` reports it.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

__all__ = ["MARKER", "clash_message", "hips_autograd_on_disk", "is_gradstep_autograd", "warn_if_clashing"]

# gradstep's autograd/__init__.py sets this module attribute to True; HIPS's does not.
MARKER = "__gradstep_engine__"
# Files that HIPS autograd installs into autograd/ and gradstep never does.
_HIPS_ONLY_FILES = ("tracer.py", "differential_operators.py", "wrap_util.py")
README_SECTION = 'README, "The autograd name clash"'
_warned = False


def _package_folder() -> str:
    """The autograd folder on disk (this file's folder), whichever project's __init__.py is in it."""
    return os.path.dirname(os.path.abspath(__file__))


def hips_autograd_on_disk(folder: str | None = None) -> str | None:
    """What shows that HIPS autograd is installed into the same `folder` (default: this package's), or None.

    Either HIPS's own modules inside the folder, or its ``autograd-<version>.dist-info`` (or
    ``.egg-info``) next to it; the answer names what was found.
    """
    folder = _package_folder() if folder is None else folder
    site = os.path.dirname(folder)
    try:
        entries = os.listdir(site)
    except OSError:
        entries = []
    for entry in sorted(entries):
        lowered = entry.lower()
        if lowered.startswith("autograd-") and lowered.endswith((".dist-info", ".egg-info")):
            version = entry[len("autograd-") :].rsplit(".", 1)[0]
            return f"HIPS autograd {version} ({os.path.join(site, entry)})"
    for name in _HIPS_ONLY_FILES:
        if os.path.exists(os.path.join(folder, name)):
            return f"HIPS autograd's {name} in {folder}"
    return None


def is_gradstep_autograd(module: ModuleType | None) -> bool:
    """Whether `module` (normally ``sys.modules["autograd"]``) is gradstep's engine package."""
    return module is not None and getattr(module, MARKER, False) is True


def clash_message(module: ModuleType | None = None) -> str | None:
    """One line saying how HIPS autograd and gradstep collide here and what to do, or None if they do not.

    `module` is the imported ``autograd`` module to judge (default: ``sys.modules["autograd"]``).
    """
    module = sys.modules.get("autograd") if module is None else module
    folder = _package_folder()
    fix = f"install gradstep and HIPS autograd into separate virtual environments ({README_SECTION})"
    if module is not None and not is_gradstep_autograd(module):
        where = getattr(module, "__file__", None)
        if where is None:  # a namespace package: nobody's __init__.py is left
            return (
                f"gradstep: {os.path.join(folder, '__init__.py')} is missing (uninstalling HIPS autograd "
                "deletes it, since both projects install that file); reinstall gradstep with "
                "pip install --force-reinstall --no-deps . (from its clone)"
            )
        return (
            f"gradstep: `import autograd` loads HIPS autograd ({where}), not gradstep's engine: "
            f"HIPS autograd was installed after gradstep and replaced its autograd/__init__.py; {fix}"
        )
    found = hips_autograd_on_disk(folder)
    if found is not None:
        return (
            f"gradstep: {found} shares this environment's `autograd` package; gradstep's "
            "autograd/__init__.py has replaced HIPS's, so HIPS's `from autograd import grad` is broken; "
            f"{fix}"
        )
    return None


def warn_if_clashing(module: ModuleType | None = None) -> str | None:
    """Print `clash_message` to stderr (once per process) if there is one; returns it."""
    global _warned
    message = clash_message(module)
    if message is not None and not _warned:
        _warned = True
        print(message, file=sys.stderr)
    return message
