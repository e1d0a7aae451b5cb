"""autograd/drawing/raster.py: SVG to PNG with resvg and the bundled font, no system library needed."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest

from autograd import Value, draw
from autograd.drawing import raster

REPO = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def lecture_neuron() -> Value:
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    return o


def png_pixels(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", png[16:24])


def test_bundled_font_codepoints_match_fonttools_cmap():
    """Two readers of the font's cmap table agree code point for code point."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    font_bytes = resources.files("autograd.drawing").joinpath("fonts", "DejaVuSansMono.ttf").read_bytes()
    path = resources.files("autograd.drawing").joinpath("fonts", "DejaVuSansMono.ttf")
    expected = {code for code, glyph in ttlib.TTFont(str(path)).getBestCmap().items() if glyph != ".notdef"}
    assert raster.font_codepoints(font_bytes) == expected
    assert {ord(c) for c in "grad data 0.7071 -1.5 σ × Σ → ∂"} <= expected


def test_font_codepoints_refuses_what_is_not_a_font():
    with pytest.raises(ValueError, match="too short"):
        raster.font_codepoints(b"abc")
    with pytest.raises(ValueError, match="no cmap table"):
        raster.font_codepoints(b"\x00\x01\x00\x00" + b"\x00" * 8)


def test_text_characters_reads_every_label_unescaped():
    svg = '<svg><text x="1">a &amp; b</text><text>σ<tspan>学</tspan></text></svg>'
    assert raster._text_characters(svg) == {ord(c) for c in "a&bσ学"}


def test_labels_the_bundled_font_covers_never_touch_the_system_fonts(monkeypatch):
    seen = {}
    import resvg_py

    def fake(**options):
        seen.update(options)
        return PNG_SIGNATURE

    monkeypatch.setattr(resvg_py, "svg_to_bytes", fake)
    raster.svg_to_png('<svg xmlns="http://www.w3.org/2000/svg"><text>grad σ</text></svg>')
    assert seen["skip_system_fonts"] is True
    assert seen["font_files"] == [raster._font_path()] and os.path.isfile(seen["font_files"][0])
    assert raster.BUNDLED_FONT_FAMILY in seen["style_sheet"]
    raster.svg_to_png('<svg xmlns="http://www.w3.org/2000/svg"><text>学习率</text></svg>')
    assert seen["skip_system_fonts"] is False  # a CJK label falls back to the machine's fonts


@pytest.mark.parametrize("scale", [0, -1, 17, True, "2", float("nan")])
def test_bad_scale_is_refused_naming_it(scale):
    with pytest.raises(ValueError, match=r"scale must be a number from 0\.1 to 16, got"):
        raster.svg_to_png('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', scale=scale)


def test_unreadable_svg_is_a_clear_error():
    with pytest.raises(ValueError, match="resvg could not read the SVG"):
        raster.svg_to_png("this is not svg")


def test_text_is_drawn_with_the_bundled_font():
    """A label changes the pixels (text is drawn, not silently dropped for want of a font)."""
    blank = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="80pt" height="20pt">'
        '<rect width="80" height="20" fill="white"/>'
    )
    with_text = raster.svg_to_png(
        blank + '<text x="2" y="14" font-family="Courier,monospace">grad</text></svg>'
    )
    without = raster.svg_to_png(blank + "</svg>")
    assert png_pixels(with_text) == png_pixels(without) == (214, 54)
    assert with_text != without


# A machine without cairo: ctypes cannot find libcairo, and cairocffi/cairosvg cannot be imported.
_NO_CAIRO_SITECUSTOMIZE = textwrap.dedent(
    """
    import ctypes.util, importlib.abc, sys

    _find_library = ctypes.util.find_library

    def find_library(name):
        return None if "cairo" in name else _find_library(name)

    ctypes.util.find_library = find_library

    class _NoCairo(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("cairocffi", "cairosvg", "cairo"):
                raise ImportError(f"{name} is hidden: this test runs as on a machine without cairo")
            return None

    sys.meta_path.insert(0, _NoCairo())
    """
)

_SAVE_PNG = textwrap.dedent(
    """
    import ctypes.util, hashlib, sys
    sys.path.insert(0, sys.argv[1])
    from tests.test_raster import lecture_neuron
    from autograd import draw
    for hidden in ("cairosvg", "cairocffi"):
        try:
            __import__(hidden)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{hidden} is importable: the test did not hide cairo")
    assert ctypes.util.find_library("cairo") is None
    path = draw(lecture_neuron()).save(sys.argv[2])
    with open("/proc/self/maps") as maps:
        loaded = [line.split()[-1] for line in maps if "cairo" in line]
    assert not loaded, loaded  # no cairo library was loaded in this process
    print(hashlib.sha256(path.read_bytes()).hexdigest())
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_save_png_works_on_a_machine_without_cairo(tmp_path):
    hide = tmp_path / "hide-cairo"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(_NO_CAIRO_SITECUSTOMIZE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hide), os.environ.get("PYTHONPATH", "")])}
    target = tmp_path / "neuron.png"
    finished = subprocess.run(
        [sys.executable, "-c", _SAVE_PNG, str(REPO), str(target)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    png = target.read_bytes()
    assert png_pixels(png) == png_pixels(draw(lecture_neuron()).png())
    # Same graph, same PNG bytes: in another process, without cairo, as here.
    assert finished.stdout.strip() == hashlib.sha256(draw(lecture_neuron()).png()).hexdigest()


def test_png_is_sharp_enough_to_read():
    png = raster.svg_to_png(draw(lecture_neuron()).svg())
    width, height = png_pixels(png)
    assert width > 1500 and height > 600  # 2x the drawing's CSS size
