"""Argument checks shared by the `nn` modules, so every error names the value the same way."""

from __future__ import annotations

from collections.abc import Mapping, Set

from autograd import Value
from autograd.engine import _describe as describe  # "'abc' (str)": the engine's wording, reused

__all__ = ["describe", "is_sequence"]


def is_sequence(value: object) -> bool:
    """True for ordered collections of items: lists, tuples, NumPy arrays and the like.

    Not for text, a single Value, a mapping or a set (those have no meaningful order of items).
    """
    if isinstance(value, (str, bytes, Value, Mapping, Set)):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__getitem__") and hasattr(value, "__iter__")
