"""One way to accept randomness everywhere in `nn`: a seed, a `random.Random`, or the global state."""

from __future__ import annotations

import random
from typing import Protocol


class RandomSource(Protocol):
    """What `nn` needs from a random number generator (both `random.Random` and the `random` module)."""

    def uniform(self, a: float, b: float) -> float: ...

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float: ...

    def shuffle(self, x: list) -> None: ...


RngLike = int | random.Random | None


def make_rng(rng: object, caller: str) -> RandomSource:
    """A generator from `rng` (an `RngLike`, checked): an int seeds a new `random.Random`, a
    `random.Random` is used as is, and None means Python's global `random` state (so
    ``random.seed(1337)`` works, as in micrograd). Anything else is a TypeError naming `caller`.
    """
    if rng is None:
        return random  # the module has the same methods
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    raise TypeError(
        f"{caller}: rng must be an int seed, a random.Random or None, got {rng!r} ({type(rng).__name__})"
    )
