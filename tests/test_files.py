"""autograd/files.py: atomic_write never leaves a half-written file or a stray temp file."""

from __future__ import annotations

import os
import stat

import pytest

from autograd.files import atomic_write


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
