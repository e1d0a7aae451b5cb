"""SVG to PNG with no system library: resvg (a Rust SVG renderer, installed by pip as ``resvg-py``).

The bundled WebAssembly Graphviz writes SVG only, so PNG pictures are rasterised from that SVG.
``resvg-py`` ships a self-contained binary wheel for Linux, macOS and Windows (no cairo, no
fontconfig), and gradstep ships the font the drawings are measured for (DejaVu Sans Mono, a
monospace font with Courier's character width, under its own licence in ``fonts/``). The font is
passed to resvg explicitly, so a machine without any installed font still gets the labels, and the
same SVG gives the same PNG bytes on every machine. Only when a label uses a character the bundled
font lacks (CJK, emoji) are the system's fonts searched too, as a fallback for those characters.
"""

from __future__ import annotations

import html
import re
import struct
from functools import cache
from importlib import resources

__all__ = ["BUNDLED_FONT_FAMILY", "svg_to_png"]

BUNDLED_FONT_FAMILY = "DejaVu Sans Mono"
_FONT_FILE = "DejaVuSansMono.ttf"
# SVG lengths in pt (Graphviz writes pt) become pixels at the CSS ratio of 96 px per 72 pt.
_CSS_DPI = 96.0
_TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.DOTALL)


def svg_to_png(svg: str, *, scale: float = 2.0) -> bytes:
    """Rasterise `svg` (text) to PNG bytes, `scale` device pixels per CSS pixel (2.0: sharp on HiDPI).

    Raises ImportError (saying what to install) if ``resvg-py`` is missing, ValueError for a bad
    scale or an SVG resvg cannot read.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0.1 <= scale <= 16:
        raise ValueError(f"svg_to_png: scale must be a number from 0.1 to 16, got {scale!r}")
    try:
        import resvg_py
    except ImportError:
        raise ImportError(
            "PNG output needs the resvg-py package, a dependency of gradstep: pip install resvg-py"
        ) from None
    font = _font_path()
    needs_system_fonts = not _text_characters(svg) <= _bundled_codepoints()
    try:
        data = resvg_py.svg_to_bytes(
            svg_string=svg,
            dpi=_CSS_DPI,
            zoom=float(scale),
            font_files=[font],
            skip_system_fonts=not needs_system_fonts,
            # Every text in the drawing uses the font its boxes were measured for (a stylesheet
            # overrides Graphviz's font-family="Courier,monospace" attributes).
            style_sheet=f'text {{ font-family: "{BUNDLED_FONT_FAMILY}"; }}',
        )
    except ValueError as error:
        raise ValueError(f"svg_to_png: resvg could not read the SVG: {error}") from None
    return bytes(data)


@cache
def _font_path() -> str:
    traversable = resources.files(__package__).joinpath("fonts", _FONT_FILE)
    return str(traversable)


def _text_characters(svg: str) -> set[int]:
    """Every code point shown as text in `svg` (the content of its <text> elements)."""
    characters: set[int] = set()
    for match in _TEXT.finditer(svg):
        characters.update(ord(c) for c in html.unescape(re.sub(r"<[^>]*>", "", match.group(1))))
    characters -= {0x20, 0x09, 0x0A, 0x0D, 0xA0}
    return characters


@cache
def _bundled_codepoints() -> frozenset[int]:
    return frozenset(font_codepoints(resources.files(__package__).joinpath("fonts", _FONT_FILE).read_bytes()))


def font_codepoints(font: bytes) -> set[int]:
    """The Unicode code points a TrueType/OpenType font has glyphs for (its ``cmap`` table).

    Reads the Unicode subtables of format 4 (the Basic Multilingual Plane) and format 12 (all planes).
    """
    if len(font) < 12:
        raise ValueError("font_codepoints: not a TrueType/OpenType font (too short)")
    (table_count,) = struct.unpack_from(">H", font, 4)
    cmap_offset = None
    for i in range(table_count):
        tag, _, offset, _ = struct.unpack_from(">4sIII", font, 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
    if cmap_offset is None:
        raise ValueError("font_codepoints: the font has no cmap table")
    (subtable_count,) = struct.unpack_from(">H", font, cmap_offset + 2)
    codepoints: set[int] = set()
    for i in range(subtable_count):
        platform, encoding, offset = struct.unpack_from(">HHI", font, cmap_offset + 4 + 8 * i)
        if (platform, encoding) not in ((0, 3), (0, 4), (3, 1), (3, 10)):
            continue  # not a Unicode subtable
        start = cmap_offset + offset
        (subtable_format,) = struct.unpack_from(">H", font, start)
        if subtable_format == 4:
            codepoints |= _format_4(font, start)
        elif subtable_format == 12:
            (groups,) = struct.unpack_from(">I", font, start + 12)
            for g in range(groups):
                first, last, _ = struct.unpack_from(">III", font, start + 16 + 12 * g)
                codepoints.update(range(first, last + 1))
    return codepoints


def _format_4(font: bytes, start: int) -> set[int]:
    """Code points with a glyph in a format-4 subtable (segments of start..end; glyph 0 is missing)."""
    (seg_x2,) = struct.unpack_from(">H", font, start + 6)
    segments = seg_x2 // 2
    ends_at = start + 14
    starts_at = ends_at + seg_x2 + 2
    deltas_at = starts_at + seg_x2
    range_offsets_at = deltas_at + seg_x2
    found: set[int] = set()
    for s in range(segments):
        (end,) = struct.unpack_from(">H", font, ends_at + 2 * s)
        (first,) = struct.unpack_from(">H", font, starts_at + 2 * s)
        (delta,) = struct.unpack_from(">h", font, deltas_at + 2 * s)
        (range_offset,) = struct.unpack_from(">H", font, range_offsets_at + 2 * s)
        for code in range(first, end + 1):
            if code == 0xFFFF:
                continue
            if range_offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                where = range_offsets_at + 2 * s + range_offset + 2 * (code - first)
                (glyph,) = struct.unpack_from(">H", font, where)
                if glyph:
                    glyph = (glyph + delta) & 0xFFFF
            if glyph:
                found.add(code)
    return found
