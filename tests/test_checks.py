"""nn/_checks.py: the shared predicates behind the nn modules' argument checks."""

from __future__ import annotations

from fractions import Fraction

import pytest

from autograd import Value
from nn._checks import is_finite_real


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, True),
        (-3, True),
        (Fraction(1, 3), True),
        (0.0, True),
        (5e-324, True),
        (10**300, True),
        (10**400, False),  # no float holds it: not an OverflowError
        (-(10**400), False),
        (float("nan"), False),
        (float("inf"), False),
        (True, False),
        ("1", False),
        (None, False),
        (Value(1.0), False),
        (1j, False),
    ],
)
def test_is_finite_real(value, expected):
    assert is_finite_real(value) is expected
