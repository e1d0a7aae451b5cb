"""Argument checks shared by the `nn` modules, so every error names the value the same way."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence, Set
from typing import Any, TypeGuard

from autograd import Value
from autograd.engine import describe_operand as describe  # "'abc' (str)": the engine's wording

__all__ = ["describe", "is_finite_real", "is_sequence"]


def is_finite_real(value: object) -> TypeGuard[float]:
    """True for a finite real number (int, float, NumPy scalar...), False for bools and everything else.

    An int too large for a float (``10**400``) is not finite here: no float can hold it.
    """
    if value.__class__ is float:  # the common case, without the ABC check (~1 µs): data sets
        return value - value == 0.0  # of 100,000 numbers are checked number by number
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_sequence(value: object) -> TypeGuard[Sequence[Any]]:
    """True for ordered collections of items: lists, tuples, NumPy arrays and the like.

    Not for text, a single Value, a mapping or a set (those have no meaningful order of items).
    """
    if isinstance(value, (str, bytes, Value, Mapping, Set)):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__getitem__") and hasattr(value, "__iter__")
