"""Small sigmoid networks as `Value` graphs, in the textbook's layout (one row per unit, bias first).

Building the graph is all this does; `backward()` finds every gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd import Value, dot
from autograd.functions import softplus

ValueMatrix = list[list[Value]]


def as_values(matrices: Sequence[Sequence[Sequence[float]]], name: str = "Θ") -> list[ValueMatrix]:
    """Leaf Values for every weight, labelled like Θ1[2,0] (layer, unit, column; column 0 = bias)."""
    return [
        [
            [Value(w, f"{name}{layer + 1}[{unit},{column}]") for column, w in enumerate(row)]
            for unit, row in enumerate(m)
        ]
        for layer, m in enumerate(matrices)
    ]


def flat(matrices: Sequence[Sequence[Sequence[Value]]]) -> list[Value]:
    """Every entry, layer by layer, row by row."""
    return [w for m in matrices for row in m for w in row]


def reshape_like(values: Sequence[Value], shapes: Sequence[Sequence[Sequence[object]]]) -> list[ValueMatrix]:
    """Cut a flat list back into matrices with the same shapes as `shapes` (inverse of `flat`)."""
    matrices, position = [], 0
    for m in shapes:
        rows = []
        for row in m:
            rows.append(list(values[position : position + len(row)]))
            position += len(row)
        matrices.append(rows)
    if position != len(values):
        raise ValueError(f"reshape_like: {len(values)} values do not fit the shapes ({position} entries)")
    return matrices


def pre_activations(thetas: Sequence[ValueMatrix], x: Sequence[float]) -> list[list[Value]]:
    """z(2), ..., z(L) of a sigmoid network on input x: z = Θ [1; a], a = σ(z)."""
    layer_inputs: Sequence[float | Value] = [float(v) for v in x]
    zs = []
    for theta in thetas:
        z = [dot(row[1:], layer_inputs, bias=row[0]) for row in theta]
        zs.append(z)
        layer_inputs = [unit.sigmoid() for unit in z]
    return zs


def log_loss_from_logit(z: Value, y: float) -> Value:
    """-[y ln σ(z) + (1 - y) ln(1 - σ(z))] for a target y in [0, 1], written as softplus(z) - y·z.

    The two forms are equal (ln σ(z) = z - softplus(z), ln(1 - σ(z)) = -softplus(z)); this one takes no
    log of a saturated σ(z) and builds only a handful of nodes.
    """
    return softplus(z) - y * z
