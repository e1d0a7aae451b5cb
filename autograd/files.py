"""Writing files atomically (a reader never sees a half-written SVG, HTML page, PNG or checkpoint),
and reading them with a size limit.

`atomic_write` replaces a regular file in one step and respects what is already at the path:

- a symlink is written through: its target gets the new content and the link stays a link;
- a directory, device (``/dev/null``, ``/dev/full``), FIFO or socket is refused with
  `NotARegularFileError`, so writing a picture can never replace a device node or block on a pipe;
- an existing file keeps its permission bits (a private 0600 checkpoint stays 0600) and, when the
  writer may set it, its owner and group; a read-only file is refused; a new file gets the usual
  0666 minus the umask;
- temp files are named ``.<name>.gradstep-tmp-<pid>-<random>`` in the same folder, and the ones a
  killed writer left behind are removed by the next write to the same path (see `STALE_AFTER_SECONDS`).

`read_regular_file` is the matching reader for untrusted paths: it refuses the same non-files without
blocking and reads no more than a limit, so ``/dev/zero`` or a huge file fails at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path

__all__ = [
    "STALE_AFTER_SECONDS",
    "STALE_DEAD_WRITER_AFTER_SECONDS",
    "FileTooLargeError",
    "NotARegularFileError",
    "atomic_write",
    "read_regular_file",
]

# A temp file of ours is stale when nothing has written to it for this long, whoever made it...
STALE_AFTER_SECONDS = 24 * 3600.0
# ...or, sooner, when the process named in it is not running on this machine. The grace period covers
# a writer on another machine sharing the folder (its pid means nothing here): a live writer touches
# its temp file continuously and renames it within moments of the last byte.
STALE_DEAD_WRITER_AFTER_SECONDS = 60.0

_TEMP_MARK = ".gradstep-tmp-"
# Keep the temp name within the usual 255-byte limit on a file name, however long the target's is.
_NAME_PREFIX_LIMIT = 120
_TEMP_TAIL = re.compile(r"([1-9][0-9]{0,9})-([0-9a-f]{16})")


class NotARegularFileError(OSError):
    """The path names a directory, device, FIFO or socket where a regular file was expected.

    Its message names the path and what is there: ``/dev/full is a character device, not a regular
    file: refusing to replace it``.
    """

    def __str__(self) -> str:
        return str(self.strerror)


class FileTooLargeError(ValueError):
    """A file is larger than the reader's limit (`read_regular_file`)."""


def _kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"  # a door, a whiteout, ...: whatever it is, not ours to replace


def _refuse_unless_regular(info: os.stat_result, shown: str, what: str) -> None:
    kind = _kind_of(info.st_mode)
    if kind is not None:
        raise NotARegularFileError(
            errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL,
            f"{shown} is {kind}, not a regular file: {what}",
            shown,
        )


def read_regular_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`, reading at most ``max_bytes + 1`` of them.

    A directory, device (``/dev/zero``), FIFO or socket raises `NotARegularFileError` without
    blocking and without reading; a file longer than `max_bytes` raises `FileTooLargeError`, found
    from its size before reading or, for a file still growing, after ``max_bytes + 1`` bytes.
    Symlinks are followed. A missing or unreadable file raises the usual `OSError`.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"read_regular_file: max_bytes must be an int >= 0, got {max_bytes!r}")
    shown = os.fspath(path)
    shown = shown.decode(errors="replace") if isinstance(shown, bytes) else shown
    what = "refusing to read it"
    _refuse_unless_regular(os.stat(path), shown, what)  # before opening: opening a device can act
    # O_NONBLOCK: should a FIFO take the place of the file in between, opening it does not wait.
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    )
    handle = os.open(path, flags)
    try:
        info = os.fstat(handle)
        _refuse_unless_regular(info, shown, what)
        if info.st_size > max_bytes:
            raise FileTooLargeError(f"{shown} is {info.st_size} bytes, more than the limit of {max_bytes}")
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(handle, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        if remaining <= 0:
            raise FileTooLargeError(
                f"{shown} is more than the limit of {max_bytes} bytes (it grew while read)"
            )
        return b"".join(chunks)
    finally:
        os.close(handle)


def _temp_prefix(name: str) -> str:
    return f".{name[:_NAME_PREFIX_LIMIT]}{_TEMP_MARK}"


def _writer_is_running(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill on Windows terminates the process; rely on the age rule there
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # exists but belongs to another user / not a pid we can ask about
    return True


def _remove_stale_temp_files(folder: Path, name: str) -> None:
    """Delete temp files of ours for `name` that a killed writer left in `folder`; nothing else."""
    prefix = _temp_prefix(name)
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # an unlistable folder (write-only, say) is no reason to fail the write
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        tail = _TEMP_TAIL.fullmatch(entry.name[len(prefix) :])
        if tail is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue  # ours are always regular files; never touch a link or folder of that name
        idle = now - info.st_mtime
        pid = int(tail.group(1))
        stale = idle > STALE_AFTER_SECONDS or (
            idle > STALE_DEAD_WRITER_AFTER_SECONDS and pid != os.getpid() and not _writer_is_running(pid)
        )
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _create_temp_file(folder: Path, name: str, mode: int) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    prefix = _temp_prefix(name)
    for _ in range(100):
        temp_name = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(8)}")
        try:
            return os.open(temp_name, flags, mode), temp_name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not find a free temp file name", str(folder))


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable. Best effort: the new file is already in place, and some file
    # systems cannot fsync a folder, which is no reason to report the write as failed.
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write `data` to `path` so that the file is either the old one or the complete new one.

    The data goes to a temporary file in the same folder (so the final rename stays on one file
    system), is flushed to disk with fsync, then `os.replace` moves it over the file in one step and
    the folder is synced too. Text is written as UTF-8. The folder must exist. Returns `path` as a
    `Path`.

    What is at `path` is respected: a symlink is followed and its target replaced (the link stays);
    a directory, device, FIFO or socket raises `NotARegularFileError` (an `OSError`) before anything
    is written; an existing file keeps its permission bits, and a read-only one raises
    `PermissionError`. Temp files that a killed write left for the same path are cleaned up.
    A replaced file that had other hard links keeps its old content under those other names.
    """
    if isinstance(data, str):
        payload = data.encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        payload = bytes(data)
    else:
        raise TypeError(f"atomic_write: data must be str or bytes, got {type(data).__name__}")
    target = Path(path)
    shown = str(target)
    try:
        existing: os.stat_result | None = os.stat(target)  # follows symlinks, as writing would
    except FileNotFoundError:
        existing = None  # nothing there yet, or a dangling symlink: create its target
    if existing is not None:
        _refuse_unless_regular(existing, shown, "refusing to replace it")
        if not os.access(target, os.W_OK):
            raise PermissionError(
                errno.EACCES, f"{shown} is read-only; make it writable first to replace it", shown
            )
    # Write where a symlink (or a chain of them) finally points, so the link itself stays.
    real_target = Path(os.path.realpath(target)) if os.path.islink(target) else target
    folder = real_target.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, f"atomic_write: folder {str(folder)!r} does not exist (for {shown!r})", shown
        )
    _remove_stale_temp_files(folder, real_target.name)
    # A new file is created 0666 and the kernel applies the umask (and any default ACL); a replaced
    # file's mode is copied onto the temp file before any data goes in.
    handle, temp_name = _create_temp_file(folder, real_target.name, 0o600 if existing else 0o666)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            if existing is not None:
                _copy_ownership_and_mode(temp_file.fileno(), existing)
            temp_file.write(payload)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, real_target)
    except BaseException:
        # Leave no temp file behind, whatever went wrong (disk full, Ctrl-C, permissions).
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_folder(folder)
    return target


def _copy_ownership_and_mode(handle: int, existing: os.stat_result) -> None:
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        # Only root may give a file away; others may still keep its group if they belong to it.
        try:
            os.fchown(handle, existing.st_uid, existing.st_gid)
        except OSError:
            with contextlib.suppress(OSError):
                os.fchown(handle, -1, existing.st_gid)
    if hasattr(os, "fchmod"):  # after chown, which clears the set-id bits
        os.fchmod(handle, stat.S_IMODE(existing.st_mode))
