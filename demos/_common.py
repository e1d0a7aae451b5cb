"""What every demo shares: its command line, its checks, its output folder, and writing figures atomically.

Plots use matplotlib with the Agg backend (files only, never a window), imported on first use so
that `gradstep demo --list` and the pure functions work without the `demos` extra installed.

A demo checks everything it will need before it computes anything (`demo_arguments`): matplotlib,
an output folder it can create or write into, and, for demos that draw graphs, a Graphviz renderer.
A missing piece is a `DemoError`, which ``gradstep demo`` prints as one line (exit code 1).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd.files import atomic_write

DEFAULT_OUTPUT_ROOT = Path("gradstep-output")
# The command that works from a clone (gradstep is not on a package index) and the one for a wheel.
MISSING_EXTRA_HINT = (
    "the demos need matplotlib, which is not installed: in a clone of gradstep run "
    'pip install ".[demos]" (or pip install matplotlib tqdm)'
)


class DemoError(Exception):
    """A problem a demo reports in one line (``gradstep demo NAME: error: ...``, exit code 1)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a demo; the message says what was (not) written. Exit code 130."""


def demo_arguments(
    name: str,
    description: str,
    argv: Sequence[str] | None,
    *,
    plots: bool = True,
    renderer: bool = False,
) -> argparse.Namespace:
    """Parse a demo's command line and check, before any work, what the demo will need.

    Every demo takes ``--out FOLDER`` (default gradstep-output/NAME); ``args.out`` comes back as the
    folder's Path, checked (`check_output_folder`) but not yet created. `plots`: matplotlib must be
    importable; `renderer`: a Graphviz renderer must be found (for demos that draw graphs).
    Raises `DemoError` naming the first missing piece.
    """
    parser = argparse.ArgumentParser(prog=f"gradstep demo {name}", description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for the pictures (default: {DEFAULT_OUTPUT_ROOT / name})",
    )
    args = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    args.out = check_output_folder(name, args.out)
    if plots:
        require_matplotlib()
    if renderer:
        require_renderer()
    return args


def check_output_folder(name: str, out: Path | str | None = None) -> Path:
    """The folder a demo will write into, checked without creating it: `out`, else gradstep-output/<name>.

    It must be a folder or not exist yet, and the nearest folder that does exist must be writable;
    otherwise `DemoError` says which path is in the way.
    """
    folder = Path(out) if out is not None else DEFAULT_OUTPUT_ROOT / name
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing == folder and folder.exists() and not folder.is_dir():
        raise DemoError(f"output folder {str(folder)!r} exists and is not a folder")
    if existing != folder and not existing.is_dir():
        raise DemoError(f"cannot create output folder {str(folder)!r}: {str(existing)!r} is not a folder")
    if not os.access(existing if existing.exists() else Path.cwd(), os.W_OK | os.X_OK):
        raise DemoError(f"cannot create output folder {str(folder)!r}: {str(existing)!r} is not writable")
    return folder


def require_matplotlib() -> None:
    """`DemoError` with the install command unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise DemoError(MISSING_EXTRA_HINT) from None


def require_renderer() -> None:
    """`DemoError` with the renderer's own one-line fix unless a Graphviz renderer is found."""
    from autograd.drawing.graphviz import RenderError, get_renderer

    try:
        get_renderer()
    except RenderError as error:
        raise DemoError(f"cannot draw graphs: {error}") from None


def output_folder(name: str, out: Path | str | None = None) -> Path:
    """The folder a demo writes into (created if missing): `out`, else gradstep-output/<name>."""
    folder = Path(out) if out is not None else DEFAULT_OUTPUT_ROOT / name
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"output folder {str(folder)!r} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed), or an ImportError saying what to install."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(MISSING_EXTRA_HINT) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(
    figure: Any, path: Path | str, title: str | None = None, title_size: int = 12, dpi: int = 120
) -> Path:
    """Give `figure` its overall title, lay it out, render it to PNG in memory, write it atomically
    to `path` and close it."""
    buffer = io.BytesIO()
    try:
        if title:
            figure.suptitle(title, fontsize=title_size)
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        pyplot().close(figure)
    return atomic_write(path, buffer.getvalue())


def print_written(paths: Sequence[Path]) -> None:
    """Tell the user where every file went."""
    for path in paths:
        print(f"wrote {path}")


def cosine(u: Sequence[float], v: Sequence[float]) -> float:
    """cos of the angle between two vectors of equal length (ValueError for a zero vector)."""
    if len(u) != len(v):
        raise ValueError(f"cosine: vectors differ in length ({len(u)} != {len(v)})")
    norm_u = math.sqrt(math.fsum(a * a for a in u))
    norm_v = math.sqrt(math.fsum(b * b for b in v))
    if norm_u == 0.0 or norm_v == 0.0:
        raise ValueError("cosine: the angle to a zero vector is undefined")
    return math.fsum(a * b for a, b in zip(u, v)) / (norm_u * norm_v)


def angle_degrees(u: Sequence[float], v: Sequence[float]) -> float:
    """The angle between two vectors in degrees (0 = same direction, 90 = orthogonal)."""
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine(u, v)))))
