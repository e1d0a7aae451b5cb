"""micrograd's names, signatures and defaults on gradstep's engine, so micrograd code runs unchanged.

Replace micrograd's imports with this one and keep the rest of the code as it is:

    # from micrograd.engine import Value
    # from micrograd.nn import Neuron, Layer, MLP
    from gradstep.micrograd import Value, Neuron, Layer, MLP, draw_dot

What differs from gradstep's own names, and what this module gives instead:

- ``Value(data, _children=(), _op='', label='')``: micrograd's constructor, where the second
  positional argument is the operands; gradstep's `autograd.Value` takes ``Value(data, label)``.
  Every Value an operation returns is a gradstep Value, which counts as an instance of this class.
  Building an operation's node by hand, ``Value(a.data + b.data, (a, b), '+')``, is how micrograd's
  own ops are written; gradstep's ops record their operands and local derivatives themselves (write
  ``a + b``), so giving `_children` raises a TypeError that says so.
- ``MLP(nin, nouts)``: micrograd's network, ReLU hidden layers and a linear output layer, weights
  drawn from U(-1, 1) with Python's global `random` (so ``random.seed(1337)`` gives micrograd's
  weights), biases 0. gradstep's `nn.MLP` defaults to tanh hidden layers; this is
  ``nn.MLP(nin, nouts, activation="relu")``. ``Neuron(nin, nonlin=True)`` and
  ``Layer(nin, nout, nonlin=True)`` likewise.
- ``draw_dot(root, format="svg", rankdir="LR")``: the lecture's picture, drawn by `autograd.draw`
  (shown inline in Jupyter; ``.save("graph.svg")`` writes it).

`backward()` is gradstep's: like micrograd it seeds the root with grad 1 and accumulates into the
leaves (call ``zero_grad()`` between steps, as micrograd's loop does); unlike micrograd it resets
every interior node's grad first, so calling it twice doubles the leaves' grads but never counts
an interior gradient twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import nn
from autograd import Value as _EngineValue
from autograd import draw

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value", "draw_dot"]

Module = nn.Module


class _ValueType(type):
    # Every gradstep Value (the results of operations included) is a micrograd-style Value.
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, _EngineValue)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, _EngineValue)


class Value(_EngineValue, metaclass=_ValueType):
    """A gradstep `autograd.Value` with micrograd's ``Value(data, _children=(), _op='', label='')``.

    `data` is a number; `label` names it in drawings. `_children` and `_op` exist for micrograd's
    signature only: gradstep's operations record their own operands, so a non-empty `_children` (or
    an `_op`) is a TypeError explaining what to write instead.
    """

    __slots__ = ()

    def __init__(self, data: float, _children: Iterable[Any] = (), _op: str = "", label: str = "") -> None:
        children = tuple(_children) if not isinstance(_children, str) else (_children,)
        if children or _op:
            raise TypeError(
                f"gradstep.micrograd.Value: building a node by hand (_children of {len(children)} "
                f"value(s), _op={_op!r}) is not supported: gradstep's operations record their operands "
                "and local derivatives themselves, so write the operation (a + b, a * b, a.relu()); "
                "a new operation is added with autograd.register_op"
            )
        super().__init__(data, label)


class Neuron(nn.Neuron):
    """micrograd's ``Neuron(nin, nonlin=True)``: ReLU(w·x + b), or linear with ``nonlin=False``."""

    def __init__(self, nin: int, nonlin: bool = True, **options: Any) -> None:
        super().__init__(nin, "relu" if nonlin else "linear", **options)


class Layer(nn.Layer):
    """micrograd's ``Layer(nin, nout, nonlin=True)``: `nout` neurons on the same inputs."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True, **options: Any) -> None:
        super().__init__(nin, nout, "relu" if nonlin else "linear", **options)


class MLP(nn.MLP):
    """micrograd's ``MLP(nin, nouts)``: ReLU hidden layers, a linear output layer, U(-1, 1) weights.

    It is `nn.MLP` with ``activation="relu"``; every `nn.MLP` option (``rng=``, ``init=``, ...) is
    accepted too.
    """

    def __init__(
        self,
        nin: int,
        nouts: list[int],
        activation: str = "relu",
        output_activation: str = "linear",
        **options: Any,
    ) -> None:
        super().__init__(nin, nouts, activation, output_activation, **options)


def draw_dot(root: _EngineValue, format: str = "svg", rankdir: str = "LR") -> Any:
    """The lecture's ``draw_dot(root)``: the graph of `root` as an `autograd.draw` picture.

    `format` is micrograd's argument and must be "svg" (the picture is SVG in Jupyter; its
    ``.save(path)`` also writes .png or .dot by the file's extension). `rankdir` is "LR" or "TB".
    """
    if format != "svg":
        raise ValueError(
            f"draw_dot: format must be 'svg', got {format!r}; save other formats with "
            "draw_dot(root).save('graph.png') or .save('graph.dot')"
        )
    return draw(root, rankdir=rankdir)
