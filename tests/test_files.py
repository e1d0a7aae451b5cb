"""autograd/files.py: atomic_write never leaves a half-written file or a stray temp file, and never
replaces something that is not a regular file; read_regular_file reads at most a limit, never blocking."""

from __future__ import annotations

import errno
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import autograd.files
from autograd.files import (
    STALE_AFTER_SECONDS,
    STALE_DEAD_WRITER_AFTER_SECONDS,
    FileTooLargeError,
    NotARegularFileError,
    atomic_write,
    read_regular_file,
)

ROOT = Path(__file__).resolve().parent.parent


def test_writes_text_as_utf8_and_bytes_verbatim(tmp_path):
    text_path = atomic_write(tmp_path / "a.svg", "σ ∘ Σ")
    assert text_path.read_bytes() == "σ ∘ Σ".encode()
    atomic_write(tmp_path / "b.png", b"\x89PNG\x00")
    assert (tmp_path / "b.png").read_bytes() == b"\x89PNG\x00"


def test_replaces_an_existing_file_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old")
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["page.html"]


def test_new_files_are_readable_by_others_not_private(tmp_path):
    path = atomic_write(tmp_path / "x.txt", "x")
    assert stat.S_IMODE(path.stat().st_mode) & stat.S_IRUSR
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_new_files_follow_the_umask_in_force_at_the_time_of_writing(tmp_path):
    previous = os.umask(0o077)
    try:
        path = atomic_write(tmp_path / "private.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o4755])
def test_an_existing_file_keeps_its_permission_bits(tmp_path, mode):
    target = tmp_path / "model.json"
    target.write_text("old")
    target.chmod(mode)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_root_replacing_another_users_file_keeps_its_owner_and_group(tmp_path):
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    target = tmp_path / "student.json"
    target.write_text("old")
    os.chown(target, 4321, 8765)
    target.chmod(0o640)
    atomic_write(target, "new")
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o640)
    assert target.read_text() == "new"


def test_a_read_only_file_is_refused_and_kept(tmp_path, monkeypatch):
    # Root may write anything, so ask os.access the way an ordinary user's kernel would answer.
    target = tmp_path / "model.json"
    target.write_text("old")
    target.chmod(0o444)
    monkeypatch.setattr(autograd.files.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match=r"model.json is read-only; make it writable first"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "keep.json"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["keep.json"]


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="atomic_write: data must be str or bytes"):
        atomic_write(tmp_path / "x", 3)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "x", "x")


def test_file_and_folder_are_both_synced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(handle):
        synced.append("folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "file")
        real_fsync(handle)

    monkeypatch.setattr(autograd.files.os, "fsync", recording_fsync)
    atomic_write(tmp_path / "a.txt", "x")
    assert synced == ["file", "folder"]


def test_a_folder_that_cannot_be_synced_does_not_fail_the_finished_write(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def no_folder_sync(handle):
        if stat.S_ISDIR(os.fstat(handle).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(handle)

    monkeypatch.setattr(autograd.files.os, "fsync", no_folder_sync)
    assert atomic_write(tmp_path / "a.txt", "x").read_text() == "x"


# ---- symlinks: written through, the link stays ------------------------------------------------


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    elsewhere = tmp_path / "store"
    elsewhere.mkdir()
    real = elsewhere / "model.json"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "latest.json"
    link.symlink_to(Path("store") / "model.json")  # relative, as `ln -s` usually makes them
    assert atomic_write(link, "new") == link
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "model.json")
    assert real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(elsewhere)) == ["model.json"]  # the temp file was made next to the target
    assert sorted(os.listdir(tmp_path)) == ["latest.json", "store"]


def test_a_chain_of_symlinks_is_followed_to_the_end(tmp_path):
    real = tmp_path / "real.svg"
    real.write_text("old")
    (tmp_path / "middle.svg").symlink_to("real.svg")
    (tmp_path / "first.svg").symlink_to("middle.svg")
    atomic_write(tmp_path / "first.svg", "new")
    assert real.read_text() == "new" and not real.is_symlink()
    assert (tmp_path / "first.svg").is_symlink() and (tmp_path / "middle.svg").is_symlink()


def test_a_dangling_symlink_gets_its_target_created(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "graph.svg"
    link.symlink_to(tmp_path / "out" / "graph.svg")
    atomic_write(link, "<svg/>")
    assert link.is_symlink()
    assert (tmp_path / "out" / "graph.svg").read_text() == "<svg/>"


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError) as caught:
        atomic_write(tmp_path / "a", "x")
    assert caught.value.errno == errno.ELOOP
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


# ---- what must never be replaced ----------------------------------------------------------------


def _refuse_without_side_effects(monkeypatch):
    """Make any attempt to create or rename a file fail loudly, so a test of a refusal cannot harm a
    real device node even if the refusal were broken."""

    def forbidden(*args, **kwargs):
        raise AssertionError("atomic_write went ahead instead of refusing")

    monkeypatch.setattr(autograd.files, "_create_temp_file", forbidden)
    monkeypatch.setattr(autograd.files.os, "replace", forbidden)


def test_a_directory_is_refused(tmp_path):
    folder = tmp_path / "graph.svg"
    folder.mkdir()
    (folder / "inside").write_text("keep")
    with pytest.raises(NotARegularFileError, match=r"graph.svg is a directory, not a regular file") as caught:
        atomic_write(folder, "x")
    assert caught.value.errno == errno.EISDIR and caught.value.filename == str(folder)
    assert (folder / "inside").read_text() == "keep"
    link = tmp_path / "link.svg"
    link.symlink_to(folder)
    with pytest.raises(NotARegularFileError, match="is a directory"):
        atomic_write(link, "x")
    assert link.is_symlink()


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            atomic_write(fifo, "x")
            outcome.append(None)
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=write, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "atomic_write blocked on a FIFO"
    assert isinstance(outcome[0], NotARegularFileError)
    assert "pipe.html is a FIFO (named pipe), not a regular file" in str(outcome[0])
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe.html"]


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s.svg"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(NotARegularFileError, match="is a socket"):
            atomic_write(path, "x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


def test_a_character_device_made_with_mknod_is_refused(tmp_path, monkeypatch):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null's node
    except (PermissionError, AttributeError):
        pytest.skip("cannot make device nodes here (needs root, outside a restricted container)")
    _refuse_without_side_effects(monkeypatch)
    with pytest.raises(NotARegularFileError, match="null is a character device, not a regular file"):
        atomic_write(device, "x")
    link = tmp_path / "link"
    link.symlink_to(device)
    with pytest.raises(NotARegularFileError, match="is a character device"):
        atomic_write(link, "x")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_system_device_nodes_are_refused(device, monkeypatch):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    _refuse_without_side_effects(monkeypatch)
    with pytest.raises(NotARegularFileError, match=f"{device} is a character device"):
        atomic_write(device, "x")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


# ---- stale temp files of ours -------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _aged(path: Path, seconds: float) -> Path:
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)
    return path


def test_stale_temp_files_of_ours_are_removed_and_nothing_else(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    long_ago = STALE_DEAD_WRITER_AFTER_SECONDS + 60
    ours = ".model.json.gradstep-tmp-"
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")

    def make(name: str, age: float) -> Path:
        path = tmp_path / name
        path.write_text("partial")
        return _aged(path, age)

    removed = [
        make(f"{ours}{dead}-0123456789abcdef", long_ago),  # its writer was killed
        make(f"{ours}{alive}-00000000000000ff", STALE_AFTER_SECONDS + 60),  # untouched for a day
    ]
    kept = [
        make(f"{ours}{dead}-1111111111111111", 1.0),  # too fresh: may be another machine's writer
        make(f"{ours}{alive}-2222222222222222", long_ago),  # its writer is still running
        make(f"{ours}{os.getpid()}-3333333333333333", long_ago),  # this very process
        make(".model.json.tmp", STALE_AFTER_SECONDS + 60),  # someone else's naming
        make(f"{ours}{dead}-notours", STALE_AFTER_SECONDS + 60),
        make(f"{ours}0-4444444444444444", STALE_AFTER_SECONDS + 60),
        make(f".other.json.gradstep-tmp-{dead}-5555555555555555", long_ago),  # another file's
        make("model.json.gradstep-tmp-1-6666666666666666", STALE_AFTER_SECONDS + 60),  # not hidden
    ]
    folder_like_ours = tmp_path / f"{ours}{dead}-7777777777777777"
    folder_like_ours.mkdir()
    _aged(folder_like_ours, STALE_AFTER_SECONDS + 60)
    link_like_ours = tmp_path / f"{ours}{dead}-8888888888888888"
    link_like_ours.symlink_to(precious)
    _aged(link_like_ours, STALE_AFTER_SECONDS + 60)

    atomic_write(tmp_path / "model.json", "new")

    assert not any(path.exists() for path in removed)
    assert all(path.read_text() == "partial" for path in kept)
    assert folder_like_ours.is_dir() and link_like_ours.is_symlink() and precious.read_text() == "keep"
    assert (tmp_path / "model.json").read_text() == "new"


def test_temp_names_are_recognisably_ours_and_short_enough_for_long_target_names(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spying_replace(source, destination):
        seen.append(os.path.basename(source))
        real_replace(source, destination)

    monkeypatch.setattr(autograd.files.os, "replace", spying_replace)
    atomic_write(tmp_path / "graph.svg", "x")
    long_name = "n" * 250
    atomic_write(tmp_path / long_name, "x")
    assert seen[0].startswith(f".graph.svg.gradstep-tmp-{os.getpid()}-")
    assert len(seen[1]) <= 255 and (tmp_path / long_name).read_text() == "x"


def test_a_writer_killed_mid_write_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("the good old checkpoint")
    # The child writes half of the new content, says so, and hangs before fsync and the rename.
    child_code = textwrap.dedent(
        f"""
        import os, sys, time
        import autograd.files as files
        def hang(handle):
            print("half written", flush=True)
            time.sleep(120)
        files.os.fsync = hang
        files.atomic_write({str(target)!r}, "the new one, " * 10000)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", child_code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None and child.stdout.readline() == "half written\n"
    finally:
        child.kill()
        child.wait()
    assert target.read_text() == "the good old checkpoint"
    leftovers = [name for name in os.listdir(tmp_path) if name != "model.json"]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".model.json.gradstep-tmp-{child.pid}-")
    _aged(tmp_path / leftovers[0], STALE_DEAD_WRITER_AFTER_SECONDS + 1)
    atomic_write(target, "newer")
    assert sorted(os.listdir(tmp_path)) == ["model.json"] and target.read_text() == "newer"


# ---- read_regular_file: the bounded reader --------------------------------------------------------


def test_read_regular_file_reads_a_file_up_to_its_limit(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b"12345")
    assert read_regular_file(path, 5) == b"12345"
    with pytest.raises(FileTooLargeError, match=r"a.json is 5 bytes, more than the limit of 4"):
        read_regular_file(path, 4)
    link = tmp_path / "link.json"
    link.symlink_to(path)
    assert read_regular_file(link, 100) == b"12345"


def test_read_regular_file_reads_no_more_than_limit_plus_one_from_a_growing_file(tmp_path, monkeypatch):
    path = tmp_path / "growing.json"
    path.write_bytes(b"")  # stat says 0 bytes; the reads then find more, as for a file being appended to
    asked = []
    monkeypatch.setattr(autograd.files.os, "read", lambda handle, n: asked.append(n) or b"x" * n)
    with pytest.raises(FileTooLargeError, match="more than the limit of 10 bytes"):
        read_regular_file(path, 10)
    assert sum(asked) == 11


def test_read_regular_file_refuses_fifos_and_devices_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(NotARegularFileError, match="pipe is a FIFO"):
        read_regular_file(fifo, 100)
    if os.path.exists("/dev/zero"):
        with pytest.raises(NotARegularFileError, match="/dev/zero is a character device"):
            read_regular_file("/dev/zero", 100)
    with pytest.raises(NotARegularFileError, match="is a directory"):
        read_regular_file(tmp_path, 100)
    assert time.perf_counter() - started < 5
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "absent", 100)
    with pytest.raises(ValueError, match="max_bytes must be an int >= 0, got -1"):
        read_regular_file(tmp_path / "absent", -1)


# ---- the README's claim: every file the project writes goes through atomic_write ------------------

WRITING_METHODS = {"write_text", "write_bytes", "savefig"}
WRITING_FUNCTIONS = {
    "shutil.copy",
    "shutil.copyfile",
    "shutil.copy2",
    "shutil.move",
    "os.rename",
    "os.replace",
}


def _writes_outside_atomic_write(source: str) -> list[str]:
    """Calls in `source` that write a file by themselves: open(..., "w"/"a"/"x"/"+"), Path.write_text
    and friends, or os.open for writing (except onto os.devnull)."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        text = ast.unparse(node)
        if name in ("open", "fdopen"):
            modes = [arg for arg in node.args[1:2] if isinstance(arg, ast.Constant)]
            modes += [
                kw.value for kw in node.keywords if kw.arg == "mode" and isinstance(kw.value, ast.Constant)
            ]
            if any(isinstance(mode.value, str) and set(mode.value) & set("wax+") for mode in modes):
                found.append(text)
            flags = " ".join(ast.unparse(arg) for arg in node.args[1:])
            if ("O_WRONLY" in flags or "O_CREAT" in flags) and "os.devnull" not in text:
                found.append(text)
        elif ast.unparse(node.func) in WRITING_FUNCTIONS:
            found.append(text)
        elif name in WRITING_METHODS:
            first = node.args[0] if node.args else None
            if name == "savefig" and isinstance(first, ast.Name) and first.id == "buffer":
                continue  # a figure rendered into memory, then written with atomic_write
            found.append(text)
    return found


def test_every_file_the_project_writes_goes_through_atomic_write():
    offenders = {}
    for package in ("autograd", "nn", "gradstep", "demos", "docs", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "autograd" / "files.py":
                continue
            calls = _writes_outside_atomic_write(path.read_text(encoding="utf-8"))
            if calls:
                offenders[str(path.relative_to(ROOT))] = calls
    assert offenders == {}


def test_the_scan_finds_writes_that_bypass_atomic_write():
    sample = (
        "open(p, 'w')\nopen(p, mode='ab')\nPath(p).write_text('x')\nfigure.savefig('a.png')\n"
        "os.open(p, os.O_WRONLY | os.O_CREAT)\nopen(p)\nopen(p, 'rb')\nos.open(os.devnull, os.O_WRONLY)\n"
        "shutil.copy(a, b)\narray.copy()\nfigure.savefig(buffer, format='png')\n"
    )
    assert len(_writes_outside_atomic_write(sample)) == 6
