"""Writing files atomically: a reader never sees a half-written SVG, HTML page, PNG or checkpoint."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _current_umask() -> int:
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# New files get the usual permissions (0o666 minus the umask), not mkstemp's private 0o600.
_NEW_FILE_MODE = 0o666 & ~_current_umask()


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write `data` to `path` so that the file is either the old one or the complete new one.

    The data goes to a temporary file in the same folder (so the final rename stays on one file
    system), is flushed to disk, then `os.replace` moves it over `path` in one step. Text is
    written as UTF-8. The folder must exist. Returns `path` as a `Path`.
    """
    if isinstance(data, str):
        payload = data.encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        payload = bytes(data)
    else:
        raise TypeError(f"atomic_write: data must be str or bytes, got {type(data).__name__}")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"atomic_write: folder {str(folder)!r} does not exist (for {str(target)!r})")
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(payload)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.chmod(temp_name, _NEW_FILE_MODE)
        os.replace(temp_name, target)
    except BaseException:
        # Leave no temp file behind, whatever went wrong (disk full, Ctrl-C, permissions).
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    return target
