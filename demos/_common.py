"""What every demo shares: its command line, its output folder, and writing figures atomically.

Plots use matplotlib with the Agg backend (files only, never a window), imported on first use so
that `gradstep demo --list` and the pure functions work without the `demos` extra installed.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd.files import atomic_write

DEFAULT_OUTPUT_ROOT = Path("gradstep-output")
MISSING_EXTRA_HINT = "the demos need matplotlib: pip install 'gradstep[demos]'"


def demo_arguments(name: str, description: str, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse a demo's command line; every demo takes ``--out FOLDER`` (default gradstep-output/NAME)."""
    parser = argparse.ArgumentParser(prog=f"gradstep demo {name}", description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for the pictures (default: {DEFAULT_OUTPUT_ROOT / name})",
    )
    return parser.parse_args(list(argv) if argv is not None else sys.argv[1:])


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
