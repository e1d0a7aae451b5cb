"""The scalar reverse-mode autodiff engine: `Value`, the op registry, topological order, backward.

Every operation is one small block that computes its forward value and, right beside it, the local
derivative of its output with respect to each operand. The chain rule lives in exactly one place,
`Value.backward()`, which walks the graph in reverse topological order and, for every edge,
adds `local derivative * upstream grad` to the child's grad. Nothing else computes gradients.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar, Union

__all__ = [
    "OPS",
    "OpSpec",
    "Value",
    "dot",
    "register_op",
    "topological_order",
    "vsum",
]

Number = int | float
Operand = Union["Value", int, float]

_isfinite = math.isfinite
_mul = operator.mul
_ZERO_LOCALS: tuple[float, ...] = ()


# ---------------------------------------------------------------------------------------------------
# The op registry: every differentiable primitive declares its derivative as text, once, here.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpSpec:
    """One registered primitive.

    `arity` is the number of operands (None for n-ary ops such as `sum` and `dot`).
    `derivatives` holds one text per operand position (a single text for n-ary ops), e.g.
    ``("d(a*b)/da = b", "d(a*b)/db = a")``; the stepper and the renderer show these.
    """

    name: str
    arity: int | None
    symbol: str
    derivatives: tuple[str, ...]
    doc: str = ""

    def derivative_text(self, position: int) -> str:
        """The derivative text for the operand at `position` (n-ary ops share one text)."""
        if self.arity is None:
            return self.derivatives[0]
        return self.derivatives[position]


OPS: dict[str, OpSpec] = {}

_F = TypeVar("_F", bound=Callable)


def register_op(
    name: str, arity: int | None, symbol: str, *derivatives: str, doc: str = ""
) -> Callable[[_F], _F]:
    """Register a primitive op in `OPS` and return the decorated function unchanged (zero cost)."""
    if name in OPS:
        raise ValueError(f"op {name!r} is already registered")
    expected = 1 if arity is None else arity
    if len(derivatives) != expected:
        raise ValueError(f"op {name!r}: expected {expected} derivative texts, got {len(derivatives)}")

    def decorate(fn: _F) -> _F:
        OPS[name] = OpSpec(name, arity, symbol, tuple(derivatives), doc or (fn.__doc__ or "").strip())
        return fn

    return decorate


# ---------------------------------------------------------------------------------------------------
# Checking operands: clear errors that name the op and the offending value.
# ---------------------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _as_float(value: object, op: str) -> float:
    """A finite float from a plain real number, else a TypeError/ValueError naming `op`."""
    if type(value) is float:
        number = value
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: unsupported operand {_describe(value)}; expected a number or a Value")
    else:
        number = float(value)
    if not _isfinite(number):
        raise ValueError(f"{op}: operand must be a finite number, got {number!r}")
    return number


def _as_value(value: object, op: str) -> Value:
    """`value` itself if it is a Value, else a constant leaf holding the number."""
    if isinstance(value, Value):
        return value
    return Value(_as_float(value, op), "", (), _ZERO_LOCALS, "const")


def _overflow(op: str, *operands: float) -> OverflowError:
    shown = ", ".join(repr(x) for x in operands)
    return OverflowError(f"{op}: result is too large for a float (operands: {shown})")


# ---------------------------------------------------------------------------------------------------
# Value
# ---------------------------------------------------------------------------------------------------


class Value:
    """A scalar in a computation graph.

    Attributes:
        data: the forward value (a finite float).
        grad: d(root)/d(this) after `root.backward()`.
        children: the operands this value was computed from, in order (repeats allowed:
            ``x*x`` has children ``(x, x)``).
        local_grads: d(this)/d(child) for each child, same order as `children`.
        op: the registered op name that made this value (``""`` for a leaf you created,
            ``"const"`` for a number that was used as an operand).
        label: an optional human-readable name shown by the renderer and the stepper.
        constant: the number an op was specialised with (the exponent of ``x ** 3``, the base
            of ``2 ** x``), else None.

    Values hash by identity; ``==`` is identity too, so values can sit in sets and dicts.

    Ops create nodes with positional arguments, ``Value(data, "", children, local_grads, op)``:
    keyword arguments made node creation twice as slow (measured: 577 ns vs 292 ns per node).
    Comparisons ``<, <=, >, >=`` compare `data` and return plain bools (they are not differentiable).
    """

    __slots__ = ("data", "grad", "children", "local_grads", "op", "label", "constant")
    data: float
    grad: float
    children: tuple[Value, ...]
    local_grads: tuple[float, ...]
    op: str
    label: str
    constant: float | None

    def __init__(
        self,
        data: Number,
        label: str = "",
        children: tuple[Value, ...] = (),
        local_grads: tuple[float, ...] = _ZERO_LOCALS,
        op: str = "",
        constant: float | None = None,
    ) -> None:
        if type(data) is not float:
            data = _as_float(data, op or "Value")
        if not _isfinite(data):
            # Ops check their own domains first, so a non-finite result here is an overflow.
            if children:
                raise _overflow(op, *(child.data for child in children))
            raise ValueError(f"{op or 'Value'}: data must be a finite number, got {data!r}")
        if label and not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {_describe(label)}")
        self.data = data
        self.grad = 0.0
        self.children = children
        self.local_grads = local_grads
        self.op = op
        self.label = label
        self.constant = constant

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    def __float__(self) -> float:
        return self.data

    # Comparisons look at data only; they exist for data-dependent code such as `max` or sorting.
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data_of(other, "<")

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data_of(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data_of(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data_of(other, ">=")

    __hash__ = object.__hash__

    # ---- binary arithmetic --------------------------------------------------------------------

    @register_op("add", 2, "+", "d(a+b)/da = 1", "d(a+b)/db = 1")
    def __add__(self, other: Operand) -> Value:
        other = _as_value(other, "add")
        return Value(self.data + other.data, "", (self, other), (1.0, 1.0), "add")

    def __radd__(self, other: Number) -> Value:
        return _as_value(other, "add") + self

    @register_op("sub", 2, "-", "d(a-b)/da = 1", "d(a-b)/db = -1")
    def __sub__(self, other: Operand) -> Value:
        other = _as_value(other, "sub")
        return Value(self.data - other.data, "", (self, other), (1.0, -1.0), "sub")

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other, "sub") - self

    @register_op("mul", 2, "*", "d(a*b)/da = b", "d(a*b)/db = a")
    def __mul__(self, other: Operand) -> Value:
        other = _as_value(other, "mul")
        return Value(self.data * other.data, "", (self, other), (other.data, self.data), "mul")

    def __rmul__(self, other: Number) -> Value:
        return _as_value(other, "mul") * self

    @register_op("div", 2, "/", "d(a/b)/da = 1/b", "d(a/b)/db = -a/b**2")
    def __truediv__(self, other: Operand) -> Value:
        other = _as_value(other, "div")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"div: division by zero ({a!r} / {b!r})")
        return Value(a / b, "", (self, other), (1.0 / b, -a / (b * b)), "div")

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other, "div") / self

    @register_op("neg", 1, "-", "d(-a)/da = -1")
    def __neg__(self) -> Value:
        return Value(-self.data, "", (self,), (-1.0,), "neg")

    # ---- powers -------------------------------------------------------------------------------

    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        return self._pow_number(_as_float(exponent, "pow"))

    @register_op("pow", 1, "**", "d(a**c)/da = c*a**(c-1)", doc="a ** c for a number c")
    def _pow_number(self, c: float) -> Value:
        a = self.data
        if a < 0.0 and not c.is_integer():
            raise ValueError(f"pow: negative base {a!r} with non-integer exponent {c!r} is not real")
        if a == 0.0 and c < 0.0:
            raise ZeroDivisionError(f"pow: 0.0 cannot be raised to the negative power {c!r}")
        try:
            out = a**c
            if c == 0.0:
                local = 0.0
            elif a == 0.0 and c < 1.0:
                local = math.inf  # the slope of a**c at 0 for 0 < c < 1 is infinite (as in PyTorch)
            else:
                local = c * a ** (c - 1.0)
        except OverflowError:
            raise _overflow("pow", a, c) from None
        return Value(out, "", (self,), (local,), "pow", c)

    @register_op(
        "rpow", 1, "**", "d(c**a)/da = c**a * log(c)", doc="c ** a for a positive number c (e.g. 2 ** x)"
    )
    def __rpow__(self, base: Number) -> Value:
        c = _as_float(base, "rpow")
        if c <= 0.0:
            raise ValueError(f"rpow: the base of c ** x must be > 0, got {c!r}")
        try:
            out = c**self.data
        except OverflowError:
            raise _overflow("rpow", c, self.data) from None
        return Value(out, "", (self,), (out * math.log(c),), "rpow", c)

    @register_op("vpow", 2, "**", "d(a**b)/da = b*a**(b-1)", "d(a**b)/db = a**b * log(a)")
    def _pow_value(self, exponent: Value) -> Value:
        a, b = self.data, exponent.data
        if a < 0.0:
            raise ValueError(
                f"vpow: base must be >= 0 when the exponent is a Value (d/db needs log(base)), got {a!r}"
            )
        if a == 0.0 and b <= 0.0:
            raise ZeroDivisionError(f"vpow: 0.0 cannot be raised to the power {b!r} (must be > 0)")
        try:
            out = a**b
            if a == 0.0:
                d_base = math.inf if b < 1.0 else (1.0 if b == 1.0 else 0.0)
                d_exponent = 0.0  # 0**b is 0 for every b > 0
            else:
                d_base = b * a ** (b - 1.0)
                d_exponent = out * math.log(a)
        except OverflowError:
            raise _overflow("vpow", a, b) from None
        return Value(out, "", (self, exponent), (d_base, d_exponent), "vpow")

    # ---- elementary functions -----------------------------------------------------------------

    @register_op("exp", 1, "exp", "d(exp a)/da = exp a")
    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise _overflow("exp", self.data) from None
        return Value(out, "", (self,), (out,), "exp")

    @register_op("log", 1, "log", "d(log a)/da = 1/a")
    def log(self) -> Value:
        a = self.data
        if a <= 0.0:
            raise ValueError(f"log: operand must be > 0, got {a!r}")
        return Value(math.log(a), "", (self,), (1.0 / a,), "log")

    @register_op("sqrt", 1, "sqrt", "d(sqrt a)/da = 1/(2*sqrt a)")
    def sqrt(self) -> Value:
        a = self.data
        if a < 0.0:
            raise ValueError(f"sqrt: operand must be >= 0, got {a!r}")
        out = math.sqrt(a)
        local = 0.5 / out if out > 0.0 else math.inf  # infinite slope at 0, as in PyTorch
        return Value(out, "", (self,), (local,), "sqrt")

    @register_op("tanh", 1, "tanh", "d(tanh a)/da = (1-t)*(1+t), t = tanh a")
    def tanh(self) -> Value:
        t = math.tanh(self.data)
        # (1-t)(1+t) rather than 1-t*t: no cancellation when |t| is close to 1.
        return Value(t, "", (self,), ((1.0 - t) * (1.0 + t),), "tanh")

    @register_op("sigmoid", 1, "σ", "d(σ(a))/da = s*(1-s), s = σ(a)")
    def sigmoid(self) -> Value:
        a = self.data
        # Only ever exponentiate a non-positive number, so no finite input can overflow.
        if a >= 0.0:
            s = 1.0 / (1.0 + math.exp(-a))
            one_minus_s = 1.0 - s
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
            one_minus_s = 1.0 / (1.0 + e)
        return Value(s, "", (self,), (s * one_minus_s,), "sigmoid")

    @register_op("relu", 1, "relu", "d(relu a)/da = 1 if a > 0 else 0")
    def relu(self) -> Value:
        a = self.data
        if a > 0.0:
            return Value(a, "", (self,), (1.0,), "relu")
        return Value(0.0, "", (self,), (0.0,), "relu")

    @register_op("abs", 1, "abs", "d|a|/da = sign(a) (0 at a = 0)")
    def __abs__(self) -> Value:
        a = self.data
        sign = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)
        return Value(abs(a), "", (self,), (sign,), "abs")

    def abs(self) -> Value:
        """|self|; the same as the built-in ``abs(value)``."""
        return self.__abs__()

    @register_op("sin", 1, "sin", "d(sin a)/da = cos a")
    def sin(self) -> Value:
        a = self.data
        return Value(math.sin(a), "", (self,), (math.cos(a),), "sin")

    @register_op("cos", 1, "cos", "d(cos a)/da = -sin a")
    def cos(self) -> Value:
        a = self.data
        return Value(math.cos(a), "", (self,), (-math.sin(a),), "cos")

    # ---- the chain rule -----------------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``grad`` = d(self)/d(node) for every node of the graph below `self`.

        The chain rule runs over `topological_order(self)` in reverse: for each node, for each
        (child, local_grad) pair, ``child.grad += local_grad * node.grad``. No recursion, so graphs
        of any depth work.

        Semantics:
          * every interior node's grad is reset before the pass, so calling `backward()` twice
            gives the same interior grads as calling it once;
          * leaves (values with no children: your inputs and parameters) *accumulate*, as in
            PyTorch: a second call adds the same gradient again. Clear them between steps with
            ``leaf.grad = 0.0`` or an optimiser's / module's ``zero_grad()``.
          * `self` gets grad 1.0 (added to its grad if `self` is itself a leaf).
        """
        order = topological_order(self)
        for node in order:
            if node.children:
                node.grad = 0.0
        if self.children:
            self.grad = 1.0
        else:
            self.grad += 1.0
        for node in reversed(order):
            upstream = node.grad
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * upstream


def _data_of(value: object, op: str) -> float:
    if isinstance(value, Value):
        return value.data
    return _as_float(value, op)


# ---------------------------------------------------------------------------------------------------
# n-ary ops: one node for a whole sum or weighted sum, so a neuron is one node, not 2n.
# ---------------------------------------------------------------------------------------------------


@register_op("sum", None, "Σ", "d(Σ xᵢ)/dxᵢ = 1", doc="vsum(values): the sum of many values")
def vsum(values: Iterable[Operand]) -> Value:
    """The sum of `values` (Values and/or numbers) as ONE graph node.

    Numbers are folded into the result and are not children. ``vsum([])`` is 0.0.
    """
    children: list[Value] = []
    total = 0.0
    for item in values:
        if isinstance(item, Value):
            children.append(item)
            total += item.data
        else:
            total += _as_float(item, "sum")
    return Value(total, "", tuple(children), (1.0,) * len(children), "sum")


@register_op(
    "dot",
    None,
    "Σw·x",
    "d(Σ wᵢxᵢ + b)/dwᵢ = xᵢ, d/dxᵢ = wᵢ, d/db = 1",
    doc="dot(ws, xs, bias): a weighted sum, optionally plus a bias",
)
def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand | None = None) -> Value:
    """Σ wᵢ·xᵢ (+ bias) as ONE graph node: a neuron's pre-activation in a single step.

    Either side may hold numbers or Values; only Values become children. The children are the
    weights that are Values, then the inputs that are Values, then the bias if it is a Value;
    each weight's local derivative is its input and vice versa.
    """
    weights = tuple(weights)
    inputs = tuple(inputs)
    children: tuple[Value, ...]
    local_grads: tuple[float, ...]
    weight_data: Sequence[float]
    input_data: Sequence[float]
    n = len(weights)
    if n != len(inputs):
        raise ValueError(f"dot: weights and inputs differ in length ({n} != {len(inputs)})")
    # Fast paths for a neuron: Value weights times Value inputs, or times plain float inputs.
    # (Filtering by exact class in a comprehension is cheaper than any per-call type analysis.)
    weight_data = [w.data for w in weights if w.__class__ is Value]
    input_data = [x.data for x in inputs if x.__class__ is Value]
    if len(weight_data) == n and len(input_data) == n:
        children = weights + inputs  # type: ignore[assignment]  # all checked to be Values
        local_grads = (*input_data, *weight_data)
    elif len(weight_data) == n and not input_data and all([x.__class__ is float for x in inputs]):
        input_data = inputs  # type: ignore[assignment]  # all checked to be floats
        children = weights  # type: ignore[assignment]
        local_grads = inputs  # type: ignore[assignment]
    else:
        weight_data = [_data_of(w, "dot") for w in weights]
        input_data = [_data_of(x, "dot") for x in inputs]
        weight_children = [(w, x) for w, x in zip(weights, input_data) if isinstance(w, Value)]
        input_children = [(x, w) for x, w in zip(inputs, weight_data) if isinstance(x, Value)]
        pairs = weight_children + input_children
        children = tuple(child for child, _ in pairs)  # type: ignore[misc]
        local_grads = tuple(local for _, local in pairs)
    total = sum(map(_mul, weight_data, input_data))
    if bias is not None:
        if isinstance(bias, Value):
            total = total + bias.data
            children = (*children, bias)
            local_grads = (*local_grads, 1.0)
        else:
            total = total + _as_float(bias, "dot")
    if not _isfinite(total):
        # One check covers every operand: name the first non-finite one, else it is an overflow.
        for x in input_data:
            _as_float(x, "dot")
        raise _overflow("dot", *weight_data, *input_data)
    return Value(total, "", children, local_grads, "dot")


# ---------------------------------------------------------------------------------------------------
# Topological order: iterative, so a million chained ops need no recursion.
# ---------------------------------------------------------------------------------------------------


_CHILDREN_DONE = object()  # stack marker used by topological_order


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from `root`, each exactly once, every node after all of its children.

    The last element is `root`. Iterative depth-first search with an explicit stack.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: expected a Value, got {_describe(root)}")
    order: list[Value] = []
    visited: set[Value] = set()
    # When a node is first popped it goes back on the stack with a marker above it, and its
    # unvisited children above that. Popping the marker means those children are all ordered, so
    # the node under it is emitted. Leaves are emitted as soon as they are seen. (A marker rather
    # than (node, flag) tuples: a tuple per node kept the cyclic GC busy; measured 3-4x slower.)
    stack: list = [root]  # Values and the _CHILDREN_DONE marker
    pop, push, emit, mark_visited = stack.pop, stack.append, order.append, visited.add
    while stack:
        node = pop()
        if node is _CHILDREN_DONE:
            emit(pop())
            continue
        if node in visited:
            continue
        mark_visited(node)
        push(node)
        push(_CHILDREN_DONE)
        for child in node.children:
            if child not in visited:
                if child.children:
                    push(child)
                else:
                    mark_visited(child)
                    emit(child)
    return order
