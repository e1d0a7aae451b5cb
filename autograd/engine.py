"""The scalar reverse-mode autodiff engine: `Value`, the op registry, topological order, backward.

Every operation is one small block: the eager method computes its forward value and, right beside
it, the local derivative of its output with respect to each operand; its `register_op` line above
it declares everything else that is per op (the derivative as text, how formulas and drawings write
it, and the code the compiler emits for it). Each local derivative is therefore defined once, in its
op. `Value.backward()` is the reference traversal: it walks the graph in reverse topological order
and, for every edge, adds ``local derivative * upstream grad`` to the child's grad. The stepper
(`autograd.steps`) and compiled code (`autograd.compiler`) are other traversals of the same
records, tested bit for bit against it.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar, Union

__all__ = [
    "ADDITIVE",
    "ATOM",
    "MULTIPLICATIVE",
    "OPS",
    "POWER",
    "UNARY",
    "Guard",
    "OpCode",
    "OpSpec",
    "Value",
    "as_value",
    "decide",
    "describe_operand",
    "dot",
    "edge_contribution",
    "power_slope",
    "register_op",
    "seed_backward",
    "topological_order",
    "vsum",
    "watch_data_reads",
]

Number = int | float
Operand = Union["Value", int, float]

_isfinite = math.isfinite
_mul = operator.mul
_exp = math.exp
_log1p = math.log1p
_ZERO_LOCALS: tuple[float, ...] = ()
_NO_CHILDREN: tuple[Value, ...] = ()  # a leaf's `_children`: tested with `is`, never with truthiness

if sys.version_info >= (3, 12):
    # From 3.12 on, sum() of floats compensates its rounding. `dot` adds its products one by one
    # from 0.0 instead, as 3.11's sum() and backward()'s accumulation do, so every Python gives the
    # same bits and a gradient graph can sum contributions with `dot` exactly as the float pass
    # does. (reduce costs 1.3x sum() on a 16-input neuron on 3.13; on 3.11 sum() is already this.)
    def sum_in_order(numbers: Iterable[float]) -> float:
        """Σ numbers added left to right from 0.0, one rounding per addition (no compensation)."""
        return functools.reduce(operator.add, numbers, 0.0)

else:
    sum_in_order = sum

# How tightly a formula binds, as in Python: the stepper parenthesises an operand whose formula binds
# less tightly than its position needs (see OpSpec.precedence and OpSpec.operand_precedence).
ADDITIVE, MULTIPLICATIVE, UNARY, POWER, ATOM = 1, 2, 3, 4, 5


# ---------------------------------------------------------------------------------------------------
# The op registry: everything that is per op is declared once, next to the op.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """A domain check that compiled code runs before an op, where the eager op raises.

    `condition` is a Python expression in the same language as `OpCode`'s templates that is true
    when the operands are outside the op's domain; `error` is raised with ``compiled <op>:
    <message>, got <operand>`` (`message` may use ``{c}`` for the op's recorded constant), where the
    operand shown is the op's operand `operand` (0 for ``a``, 1 for ``b``).
    """

    condition: str
    error: type[Exception]
    message: str
    operand: int = 0


@dataclass(frozen=True)
class OpCode:
    """How the compiler writes an op, as Python expressions over a small, fixed vocabulary.

    Names: ``a`` and ``b`` are the operands, ``c`` is the number the op recorded in `Value.params`
    (the exponent of ``x ** 3``), ``out`` is the op's own result (local derivatives only). Functions
    are called by their `math` names (``exp``, ``log``, ``log1p``, ``tanh``, ``floor``, ...), plus
    ``abs``, ``inf`` and `power_slope`; the compiler binds them to `math` for floats and to `numpy`
    for batches.

    `forward` computes the value; `locals` holds one local derivative per operand. Both must repeat
    the eager method's float operations one for one (a registry test checks this bit for bit).
    Branches are conditional expressions ``x if cond else y``, re-decided on every call; the NumPy
    dialect is derived mechanically (``numpy.where(cond, x, y)``, ``and``/``or`` as ``&``/``|``).
    Subexpressions of numbers alone (``c - 1.0``, ``log(c)``) are folded when the code is written.
    """

    forward: str
    locals: tuple[str, ...]
    guards: tuple[Guard, ...] = ()


ParamsKind = Literal["none", "constant", "terms", "operands"]


@dataclass(frozen=True)
class OpSpec:
    """One registered primitive: everything about an op that is not its eager arithmetic.

    Attributes:
        name: the op's name, stored in `Value.op` of every node it makes.
        arity: the number of operands (None for n-ary ops such as `sum` and `dot`).
        symbol: how a drawing labels the op's box; ``{c}`` stands for the recorded constant
            (``"**{c}"`` draws ``x ** 3`` as ``**3``).
        derivatives: one text per operand position (a single text for n-ary ops), e.g.
            ``("d(a*b)/da = b", "d(a*b)/db = a")``; the stepper and the renderer show these.
        doc: a one-line description (the eager function's docstring by default).
        function: the eager implementation (set by `register_op`): ``function(a)``,
            ``function(a, b)`` or, for an op that records a number (``pow``, ``mul_const``, ...),
            ``function(a, c)``.
        formula: how a formula writes a node, with ``{a}``, ``{b}`` for the operands' formulas and
            ``{c}`` for the recorded constant: ``"{a} + {b}"``, ``"tanh({a})"``, ``"{a}**{c}"``.
            None for ops without a short formula (the n-ary ones).
        precedence: how tightly `formula` binds (`ADDITIVE` ... `ATOM`, Python's order).
        operand_precedence: per operand, the least precedence its formula needs to stand there
            without parentheses (``sub`` is ``(ADDITIVE, MULTIPLICATIVE)``: ``a - (b - c)``).
        parse_name: the op's name as a one-argument function of `autograd.parse` (None: not one).
        code: the compiler's templates (`OpCode`). None for the n-ary ops, whose code the compiler
            writes from their records (``params_kind``); an op of fixed arity without code works
            eagerly, and `compile` refuses a graph that holds it.
        local_formulas: per operand, the local derivative as people write it, for the comments of
            compiled code, in `OpCode`'s language (``"out * (1 - out)"``, ``"[a > 0]"`` for an
            indicator); empty to use `code.locals`, None at a position to show no formula there.
        params_kind: what the op records in `Value.params`: ``"none"``; ``"constant"`` (the
            number the op was specialised with); ``"terms"`` (`vsum`: None when every term is a
            Value, else every term in order, numbers included); ``"operands"`` (`dot`: the tuple
            ``(weights, inputs, bias)`` as given, numbers as floats).
        number_operand: for the number form of a binary op (``x * 0.5`` is ``mul_const``, ``2 - x``
            is ``rsub_const``), the operand position the recorded number fills: 1 when it stands
            right of the Value, 0 when left. Drawings show it there as a constant box. None otherwise.
        graph_derivatives: the local derivatives as Values: a function ``node -> tuple of Values``
            (one per child of `node`, in order; a plain float where the derivative is a number)
            that builds each local derivative from engine ops
            and from `node` and its children themselves, so that a gradient built from them
            (``autograd.grad(..., create_graph=True)``) is an ordinary graph that can be
            differentiated again. Each Value's data is bit for bit the float the op stored in
            `Value.local_grads` (the same float operations: tanh's ``(1-t)*(1+t)``, div's
            ``-(out/b)``); a choice between formulas is made with `decide`, so a tracer sees it.
    """

    name: str
    arity: int | None
    symbol: str
    derivatives: tuple[str, ...]
    doc: str = ""
    function: Callable[..., Any] | None = None
    formula: str | None = None
    precedence: int = ATOM
    operand_precedence: tuple[int, ...] = ()
    parse_name: str | None = None
    code: OpCode | None = None
    local_formulas: tuple[str | None, ...] = ()
    params_kind: ParamsKind = "none"
    graph_derivatives: Callable[[Value], tuple[Value | float, ...]] | None = field(
        default=None, compare=False
    )
    number_operand: int | None = None

    def derivative_text(self, position: int) -> str:
        """The derivative text for the operand at `position` (n-ary ops share one text)."""
        if self.arity is None:
            return self.derivatives[0]
        return self.derivatives[position]

    def symbol_for(self, node: Value) -> str:
        """The drawing's label for `node`'s op: `symbol`, with ``{c}`` filled in from its record."""
        if "{c}" in self.symbol and isinstance(node.params, float):
            return self.symbol.format(c=format(node.params, "g"))
        return self.symbol.replace("{c}", "")


OPS: dict[str, OpSpec] = {}

_F = TypeVar("_F", bound=Callable[..., Any])


def register_op(
    name: str,
    arity: int | None,
    symbol: str,
    *derivatives: str,
    doc: str = "",
    formula: str | None = None,
    precedence: int | None = None,
    operand_precedence: Sequence[int] | None = None,
    parse_name: str | None = None,
    code: OpCode | None = None,
    local_formulas: Sequence[str | None] = (),
    params_kind: ParamsKind = "none",
    graph_derivatives: Callable[[Value], tuple[Value | float, ...]] | None = None,
    number_operand: int | None = None,
) -> Callable[[_F], _F]:
    """Register a primitive op in `OPS` and return the decorated function unchanged (zero cost).

    A function-style op needs only its `parse_name`: its formula is then ``name(a)``. See `OpSpec`
    for every field; the README's "Adding an op" shows a whole new op.
    """
    if name in OPS:
        raise ValueError(f"op {name!r} is already registered")
    expected = 1 if arity is None else arity
    if len(derivatives) != expected:
        raise ValueError(f"op {name!r}: expected {expected} derivative texts, got {len(derivatives)}")
    if code is not None and len(code.locals) != expected:
        raise ValueError(
            f"op {name!r}: expected {expected} local derivative templates, got {len(code.locals)}"
        )
    if local_formulas and len(local_formulas) != expected:
        raise ValueError(f"op {name!r}: expected {expected} local formulas, got {len(local_formulas)}")
    if formula is None and parse_name is not None:
        formula = f"{parse_name}({{a}})"
    if number_operand is not None and (
        arity != 1 or params_kind != "constant" or number_operand not in (0, 1)
    ):
        raise ValueError(
            f"op {name!r}: number_operand is for one-Value ops that record a constant in slot 0 or 1"
        )
    if operand_precedence is None:
        operand_precedence = (0,) * expected  # inside a call's parentheses anything goes
    if precedence is None:
        precedence = ATOM

    def decorate(fn: _F) -> _F:
        OPS[name] = OpSpec(
            name,
            arity,
            symbol,
            tuple(derivatives),
            doc or (fn.__doc__ or "").strip(),
            fn,
            formula,
            precedence,
            tuple(operand_precedence),
            parse_name,
            code,
            tuple(local_formulas),
            params_kind,
            graph_derivatives,
            number_operand,
        )
        return fn

    return decorate


# ---------------------------------------------------------------------------------------------------
# Checking operands: clear errors that name the op and the offending value.
# ---------------------------------------------------------------------------------------------------


def describe_operand(value: object) -> str:
    """``'abc' (str)``: how error messages show an offending value (its repr, cut to 60 characters)."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _as_float(value: object, op: str) -> float:
    """A finite float from a plain real number, else a TypeError/ValueError naming `op`."""
    if type(value) is float:
        number = value
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: unsupported operand {describe_operand(value)}; expected a number or a Value")
    else:
        try:
            number = float(value)
        except OverflowError:  # an int beyond ±1.8e308, such as 10**400
            raise OverflowError(f"{op}: operand {describe_operand(value)} is too large for a float") from None
    if not _isfinite(number):
        raise ValueError(f"{op}: operand must be a finite number, got {number!r}")
    return number


def as_value(value: object, op: str) -> Value:
    """`value` itself if it is a Value, else a constant leaf holding the number (errors name `op`)."""
    if isinstance(value, Value):
        return value
    return Value(_as_float(value, op), "", (), _ZERO_LOCALS, "const")


def decide(value: Value, op: str) -> float:
    """`value`'s data, read to choose between formulas in `op`'s graph derivative (which side of a
    kink). The read is reported to `watch_data_reads` observers, so `autograd.compile` refuses to
    freeze such a choice instead of baking in the branch seen while tracing."""
    if _watchers:
        _data_read(f"the choice in {op}'s derivative", value)
    return value.data


_SHOWN_OPERANDS = 6  # an overflow message names at most this many operands (a wide node has thousands)


def _label_error(label: object) -> TypeError:
    if isinstance(label, (tuple, list, set)):  # micrograd's Value(data, _children, _op, label)
        return TypeError(
            f"Value: label must be a str, got {describe_operand(label)}: the second argument is the label, "
            "since gradstep's Value is Value(data, label), and operations record their operands themselves "
            "(write a + b, not Value(a.data + b.data, (a, b), '+')); to run micrograd's code unchanged, "
            "import Value, MLP and draw_dot from gradstep.micrograd"
        )
    return TypeError(f"Value: label must be a str, got {describe_operand(label)}")


def _overflow(op: str, *operands: float) -> OverflowError:
    shown = ", ".join(repr(x) for x in operands[:_SHOWN_OPERANDS])
    if len(operands) > _SHOWN_OPERANDS:
        shown += f", … ({len(operands) - _SHOWN_OPERANDS} more)"
    return OverflowError(f"{op}: result is too large for a float (operands: {shown})")


def _node_overflow(op: str, children: tuple[Value, ...], params: Any) -> OverflowError:
    """The overflow error of a node whose result is not a float, naming the operation as written:
    ``x * 1e200`` is `mul_const`, but the error says ``mul`` and shows both operands in order."""
    operands = [child.data for child in children]
    spec = OPS.get(op)
    if spec is not None and spec.number_operand is not None:
        operands.insert(spec.number_operand, params)
        op = op.removesuffix("_const").removeprefix("r")  # rsub_const -> sub, max_const -> max
    return _overflow(op, *operands)


def power_slope(c: float, a: float) -> float:
    """d(a**c)/da = c·a**(c-1), or ±inf (the sign of the true slope) when that exceeds the float range.

    ``x ** -1`` at 1e-300 is 1e300, but its slope -1e600 is not a float: the op keeps its value and
    stores -inf, as PyTorch does, instead of failing. (On NumPy arrays ``**`` gives ±inf itself.)
    """
    try:
        return c * a ** (c - 1.0)
    except OverflowError:
        # a**(c-1) is negative only for a < 0 with an odd integer c-1.
        odd_power = a < 0.0 and (c - 1.0) % 2.0 == 1.0
        return math.copysign(math.inf, -c if odd_power else c)


# ---------------------------------------------------------------------------------------------------
# Watching data reads: the hook a tracer uses to see Python code decide on a Value's data.
# ---------------------------------------------------------------------------------------------------

DataReadObserver = Callable[[str, tuple[object, ...]], None]

_watchers = 0  # traces running in any thread; while 0, comparisons pay one global lookup
_watchers_lock = threading.Lock()
_thread_watchers = threading.local()


@contextmanager
def watch_data_reads(observer: DataReadObserver) -> Iterator[None]:
    """While active, in this thread only, ``observer(kind, operands)`` hears every data read that
    decides something: the comparisons ``<``, ``<=``, ``>``, ``>=`` of a Value (kind is the
    operator) and ``float(value)`` (kind ``"float"``). Other threads are not watched, and
    nothing about `Value` changes: the hook is the engine's own, so it cannot outlive the block.

    Reading ``.data`` is not seen (it is a plain attribute, and watching it would slow every op).
    """
    global _watchers
    stack = getattr(_thread_watchers, "stack", None)
    if stack is None:
        stack = _thread_watchers.stack = []
    stack.append(observer)
    with _watchers_lock:
        _watchers += 1
    try:
        yield
    finally:
        with _watchers_lock:
            _watchers -= 1
        stack.remove(observer)


def _data_read(kind: str, *operands: object) -> None:
    for observer in getattr(_thread_watchers, "stack", ()):
        observer(kind, operands)


# ---------------------------------------------------------------------------------------------------
# Value
# ---------------------------------------------------------------------------------------------------


class _Labelled(NamedTuple):
    """A labelled node's label and params, kept together in the node's `_params_label` slot."""

    label: str
    params: Any


class Value:
    """A scalar in a computation graph.

    Attributes:
        data: the forward value (a finite float).
        grad: d(root)/d(this) after `root.backward()`.
        children: the Values this value was computed from, in order (repeats allowed:
            ``x*x`` has children ``(x, x)``). A number operand is not a child: ``x * 0.5`` has
            the one child ``x`` and records 0.5 in `params` (its op is the number form
            ``mul_const``), and drawings show that number as a constant box.
        local_grads: d(this)/d(child) for each child, same order as `children`.
        op: the registered op name that made this value (``""`` for a leaf you created,
            ``"const"`` for a number made into a leaf, as `as_value` does).
        label: an optional human-readable name shown by the renderer and the stepper.
        params: what the op's forward used besides its children, recorded so that tools never
            have to guess it (see `OpSpec.params_kind`): the number of ``x * 0.5``, ``2 - x`` and
            ``x ** 3``, the base of ``2 ** x`` (a float), `dot`'s ``(weights, inputs, bias)``,
            `vsum`'s terms when numbers were among them; None for every other node.

    Values hash by identity; ``==`` is identity too, so values can sit in sets and dicts.

    A node with one child (most ops) stores that child and its local derivative directly, not in
    one-element tuples; `children` and `local_grads` give the tuples either way. The engine's own
    loops (and `grad`'s) read the stored form (`_children`, `_local_grads`), which a tool never
    needs to. `label` and `params`, rarely both set, share one slot (`_params_label`) the same way.
    Comparisons ``<, <=, >, >=`` compare `data` and return plain bools (they are not differentiable).
    """

    # One child is stored as itself, two or more (and none, for a leaf) as a tuple: a tuple per
    # node was a second object for CPython's cyclic GC to walk again and again while a graph
    # grows. Building the benchmark's (y * 0.999).relu() chain took 646 ns per op with the
    # tuples and 401 without (an experiment with these slots, on CPython 3.11, GC on).
    # The collector visits every slot of every node it walks, set or not, so each slot costs a
    # build ~25 ns per node: `params`, and a `_Labelled(label, params)` pair only once a node is
    # labelled, share `_params_label` (chain build 365 -> 338 ns per op, 3.11, GC on).
    __slots__ = ("data", "grad", "_children", "_local_grads", "op", "_params_label")
    data: float
    grad: float
    _children: Value | tuple[Value, ...]
    _local_grads: float | tuple[float, ...]
    op: str
    _params_label: Any

    def __init__(
        self,
        data: Number,
        label: str = "",
        children: tuple[Value, ...] = (),
        local_grads: tuple[float, ...] = _ZERO_LOCALS,
        op: str = "",
        params: Any = None,
    ) -> None:
        if type(data) is not float:
            data = _as_float(data, op or "Value")
        if not _isfinite(data):
            # Ops check their own domains first, so a non-finite result here is an overflow.
            if children:
                raise _node_overflow(op, children, params)
            raise ValueError(f"{op or 'Value'}: data must be a finite number, got {data!r}")
        if label.__class__ is not str and not isinstance(label, str):
            raise _label_error(label)
        self.data = data
        self.grad = 0.0
        if not children and not local_grads:  # a leaf
            self._children = _NO_CHILDREN
            self._local_grads = _ZERO_LOCALS
        elif len(children) != len(local_grads):
            raise ValueError(
                f"{op or 'Value'}: {len(children)} children but {len(local_grads)} local derivatives"
            )
        else:
            self._children, self._local_grads = _stored_edges(children, local_grads)
        self.op = op
        self._params_label = _Labelled(label, params) if label or label.__class__ is not str else params

    @property
    def label(self) -> str:
        """An optional human-readable name shown by the renderer and the stepper (``""``: none)."""
        stored = self._params_label
        return stored.label if stored.__class__ is _Labelled else ""

    @label.setter
    def label(self, label: str) -> None:
        if label.__class__ is not str and not isinstance(label, str):
            raise _label_error(label)
        # getattr: the slot is unset only while a pickle made before label and params shared it
        # loads (it sets `label` and `params` by name, on a node made without __init__).
        stored = getattr(self, "_params_label", None)
        params = stored.params if stored.__class__ is _Labelled else stored
        self._params_label = _Labelled(label, params) if label or label.__class__ is not str else params

    @property
    def params(self) -> Any:
        """What the op's forward used besides its children (see the class docstring)."""
        stored = self._params_label
        return stored.params if stored.__class__ is _Labelled else stored

    @params.setter
    def params(self, params: Any) -> None:
        stored = getattr(self, "_params_label", None)
        self._params_label = stored._replace(params=params) if stored.__class__ is _Labelled else params

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this value was computed from, in order (``()`` for a leaf)."""
        stored = self._children
        return stored if stored.__class__ is tuple else (stored,)  # type: ignore[return-value]

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(this)/d(child) for each of `children`, in the same order."""
        stored = self._local_grads
        return stored if stored.__class__ is tuple else (stored,)  # type: ignore[return-value]

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    def __float__(self) -> float:
        if _watchers:
            _data_read("float", self)
        return self.data

    # Comparisons look at data only; they exist for data-dependent code such as `max` or sorting.
    def __lt__(self, other: Operand) -> bool:
        if _watchers:
            _data_read("<", self, other)
        return self.data < _data_of(other, "<")

    def __le__(self, other: Operand) -> bool:
        if _watchers:
            _data_read("<=", self, other)
        return self.data <= _data_of(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        if _watchers:
            _data_read(">", self, other)
        return self.data > _data_of(other, ">")

    def __ge__(self, other: Operand) -> bool:
        if _watchers:
            _data_read(">=", self, other)
        return self.data >= _data_of(other, ">=")

    __hash__ = object.__hash__

    # ---- binary arithmetic --------------------------------------------------------------------

    # A number operand is recorded in the node (`params`) by the op's number form (``x + 2`` is
    # `add_const`, ``2 - x`` is `rsub_const`) instead of becoming a leaf Value of its own: a third of
    # the nodes of ``(y * 0.999).relu()`` chains were such leaves, and the cyclic GC walked each
    # one again and again (benchmarks/bench_engine.py: the chain and the moons step 1.4x faster). Each
    # number form repeats its Value form's float operations, so results are bit for bit the same.
    # One method makes both forms (``__mul__`` is registered as ``mul`` and as ``mul_const``): a
    # separate method for the number form cost one more Python call per op. A plain finite float
    # is taken as it is, anything else through `_as_float` (which converts ints and NumPy scalars
    # and names the op in its errors): its call cost ~15 ns per node. A float operand is tested
    # for before `isinstance(other, Value)`, which takes ~25 ns to say no to a float.

    @register_op(
        "add", 2, "+", "d(a+b)/da = 1", "d(a+b)/db = 1",
        formula="{a} + {b}", precedence=ADDITIVE, operand_precedence=(ADDITIVE, ADDITIVE),
        code=OpCode("a + b", ("1.0", "1.0")),
        graph_derivatives=lambda n: (1.0, 1.0),
    )  # fmt: skip
    @register_op(
        "add_const", 1, "+", "d(a+c)/da = 1", doc="a + c for a number c",
        formula="{a} + {c}", precedence=ADDITIVE, operand_precedence=(ADDITIVE,), params_kind="constant",
        code=OpCode("a + c", ("1.0",)), graph_derivatives=lambda n: (1.0,), number_operand=1,
    )  # fmt: skip
    def __add__(self, other: Operand) -> Value:
        node = _new_object(Value)  # the node _node would make, built here (see _node)
        if other.__class__ is not float and isinstance(other, Value):
            data = self.data + other.data
            node._children = (self, other)
            node._local_grads = (1.0, 1.0)
            node.op = "add"
            node._params_label = None
        else:
            c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "add")
            data = self.data + c
            node._children = self
            node._local_grads = 1.0
            node.op = "add_const"
            node._params_label = c
        if data - data != 0.0:
            raise _node_overflow(node.op, node.children, node.params)
        node.data = data
        node.grad = 0.0
        return node

    @register_op(
        "radd_const", 1, "+", "d(c+a)/da = 1", doc="c + a for a number c",
        formula="{c} + {a}", precedence=ADDITIVE, operand_precedence=(ADDITIVE,), params_kind="constant",
        code=OpCode("c + a", ("1.0",)), graph_derivatives=lambda n: (1.0,), number_operand=0,
    )  # fmt: skip
    def __radd__(self, other: Number) -> Value:
        c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "add")
        return _node(c + self.data, self, 1.0, "radd_const", c)

    @register_op(
        "sub", 2, "-", "d(a-b)/da = 1", "d(a-b)/db = -1",
        formula="{a} - {b}", precedence=ADDITIVE, operand_precedence=(ADDITIVE, MULTIPLICATIVE),
        code=OpCode("a - b", ("1.0", "-1.0")),
        graph_derivatives=lambda n: (1.0, -1.0),
    )  # fmt: skip
    @register_op(
        "sub_const", 1, "-", "d(a-c)/da = 1", doc="a - c for a number c",
        formula="{a} - {c}", precedence=ADDITIVE, operand_precedence=(ADDITIVE,), params_kind="constant",
        code=OpCode("a - c", ("1.0",)), graph_derivatives=lambda n: (1.0,), number_operand=1,
    )  # fmt: skip
    def __sub__(self, other: Operand) -> Value:
        if other.__class__ is not float and isinstance(other, Value):
            return _node(self.data - other.data, (self, other), (1.0, -1.0), "sub")
        c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "sub")
        return _node(self.data - c, self, 1.0, "sub_const", c)

    @register_op(
        "rsub_const", 1, "-", "d(c-a)/da = -1", doc="c - a for a number c",
        formula="{c} - {a}", precedence=ADDITIVE, operand_precedence=(MULTIPLICATIVE,),
        params_kind="constant", code=OpCode("c - a", ("-1.0",)), graph_derivatives=lambda n: (-1.0,),
        number_operand=0,
    )  # fmt: skip
    def __rsub__(self, other: Number) -> Value:
        c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "sub")
        return _node(c - self.data, self, -1.0, "rsub_const", c)

    @register_op(
        "mul", 2, "*", "d(a*b)/da = b", "d(a*b)/db = a",
        formula="{a}*{b}", precedence=MULTIPLICATIVE, operand_precedence=(MULTIPLICATIVE, MULTIPLICATIVE),
        code=OpCode("a * b", ("b", "a")),
        graph_derivatives=lambda n: (n.children[1], n.children[0]),
    )  # fmt: skip
    @register_op(
        "mul_const", 1, "*", "d(a*c)/da = c", doc="a * c for a number c",
        formula="{a}*{c}", precedence=MULTIPLICATIVE, operand_precedence=(MULTIPLICATIVE,),
        params_kind="constant",
        code=OpCode("a * c", ("c",)), graph_derivatives=lambda n: (n.params,), number_operand=1,
    )  # fmt: skip
    def __mul__(self, other: Operand) -> Value:
        node = _new_object(Value)  # the node _node would make, built here (see _node)
        if other.__class__ is not float and isinstance(other, Value):
            a, b = self.data, other.data
            data = a * b
            node._children = (self, other)
            node._local_grads = (b, a)
            node.op = "mul"
            node._params_label = None
        else:
            c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "mul")
            data = self.data * c
            node._children = self
            node._local_grads = c
            node.op = "mul_const"
            node._params_label = c
        if data - data != 0.0:
            raise _node_overflow(node.op, node.children, node.params)
        node.data = data
        node.grad = 0.0
        return node

    @register_op(
        "rmul_const", 1, "*", "d(c*a)/da = c", doc="c * a for a number c",
        formula="{c}*{a}", precedence=MULTIPLICATIVE, operand_precedence=(MULTIPLICATIVE,),
        params_kind="constant",
        code=OpCode("c * a", ("c",)), graph_derivatives=lambda n: (n.params,), number_operand=0,
    )  # fmt: skip
    def __rmul__(self, other: Number) -> Value:
        c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "mul")
        return _node(c * self.data, self, c, "rmul_const", c)

    @register_op(
        "div", 2, "/", "d(a/b)/da = 1/b", "d(a/b)/db = -a/b**2",
        formula="{a}/{b}", precedence=MULTIPLICATIVE, operand_precedence=(MULTIPLICATIVE, UNARY),
        code=OpCode(
            "a / b", ("1.0 / b", "-(out / b)"),
            (Guard("b == 0.0", ZeroDivisionError, "division by zero", operand=1),),
        ),
        local_formulas=("1 / b", None),
        graph_derivatives=lambda n: _div_graph_derivatives(n, n.children[1]),
    )  # fmt: skip
    @register_op(
        "div_const", 1, "/", "d(a/c)/da = 1/c", doc="a / c for a nonzero number c",
        formula="{a}/{c}", precedence=MULTIPLICATIVE, operand_precedence=(MULTIPLICATIVE,),
        params_kind="constant",
        code=OpCode("a / c", ("1.0 / c",)),
        local_formulas=("1 / c",), graph_derivatives=lambda n: (1.0 / n.params,), number_operand=1,
    )  # fmt: skip
    def __truediv__(self, other: Operand) -> Value:
        if other.__class__ is float or not isinstance(other, Value):
            c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "div")
            if c == 0.0:
                raise ZeroDivisionError(f"div: division by zero ({self.data!r} / {c!r})")
            return _node(self.data / c, self, 1.0 / c, "div_const", c)
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"div: division by zero ({a!r} / {b!r})")
        out = a / b
        # d/db as -(a/b)/b, not -a/(b*b): b*b overflows or underflows long before a/b does (at
        # |b| ≥ 1.4e154 it made d/db silently 0, at |b| ≤ 1e-162 a ZeroDivisionError).
        return _node(out, (self, other), (1.0 / b, -(out / b)), "div")

    @register_op(
        "rdiv_const", 1, "/", "d(c/a)/da = -c/a**2", doc="c / a for a number c",
        formula="{c}/{a}", precedence=MULTIPLICATIVE, operand_precedence=(UNARY,), params_kind="constant",
        code=OpCode("c / a", ("-(out / a)",), (Guard("a == 0.0", ZeroDivisionError, "division by zero"),)),
        local_formulas=(None,), graph_derivatives=lambda n: _rdiv_graph_derivatives(n),
        number_operand=0,
    )  # fmt: skip
    def __rtruediv__(self, other: Number) -> Value:
        c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "div")
        b = self.data
        if b == 0.0:
            raise ZeroDivisionError(f"div: division by zero ({c!r} / {b!r})")
        out = c / b
        return _node(out, self, -(out / b), "rdiv_const", c)

    @register_op(
        "neg", 1, "-", "d(-a)/da = -1",
        formula="-{a}", precedence=UNARY, operand_precedence=(UNARY,), code=OpCode("-a", ("-1.0",)),
        graph_derivatives=lambda n: (-1.0,),
    )  # fmt: skip
    def __neg__(self) -> Value:
        return _node(-self.data, self, -1.0, "neg")

    # ---- powers -------------------------------------------------------------------------------

    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        return self._pow_number(_as_float(exponent, "pow"))

    @register_op(
        "pow", 1, "**{c}", "d(a**c)/da = c*a**(c-1)", doc="a ** c for a number c",
        formula="{a}**{c}", precedence=POWER, operand_precedence=(ATOM,), params_kind="constant",
        code=OpCode(
            "a ** c",
            ("0.0 if c == 0.0 else (inf if a == 0.0 and c < 1.0 else power_slope(c, a))",),
            (
                Guard("a < 0.0 and floor(c) != c", ValueError, "negative base with non-integer exponent {c}"),
                Guard("a == 0.0 and c < 0.0", ZeroDivisionError, "0.0 cannot be raised to the power {c}"),
            ),
        ),
        local_formulas=("c * a ** (c - 1)",),
        graph_derivatives=lambda n: (
            (0.0,) if n.params == 0.0 else (n.params * n.children[0] ** (n.params - 1.0),)
        ),
    )  # fmt: skip
    def _pow_number(self, c: float) -> Value:
        a = self.data
        if a < 0.0 and not c.is_integer():
            raise ValueError(f"pow: negative base {a!r} with non-integer exponent {c!r} is not real")
        if a == 0.0 and c < 0.0:
            raise ZeroDivisionError(f"pow: 0.0 cannot be raised to the negative power {c!r}")
        try:
            out = a**c
        except OverflowError:
            raise _overflow("pow", a, c) from None
        if c == 0.0:
            local = 0.0
        elif a == 0.0 and c < 1.0:
            local = math.inf  # the slope of a**c at 0 for 0 < c < 1 is infinite (as in PyTorch)
        else:
            local = power_slope(c, a)
        return _node(out, self, local, "pow", c)

    @register_op(
        "rpow", 1, "{c}**", "d(c**a)/da = c**a * log(c)", doc="c ** a for a positive number c (e.g. 2 ** x)",
        formula="{c}**{a}", precedence=POWER, operand_precedence=(UNARY,), params_kind="constant",
        code=OpCode("c ** a", ("out * log(c)",)),
        graph_derivatives=lambda n: (n * math.log(n.params),),
    )  # fmt: skip
    def __rpow__(self, base: Number) -> Value:
        c = _as_float(base, "rpow")
        if c <= 0.0:
            raise ValueError(f"rpow: the base of c ** x must be > 0, got {c!r}")
        try:
            out = c**self.data
        except OverflowError:
            raise _overflow("rpow", c, self.data) from None
        return _node(out, self, out * math.log(c), "rpow", c)

    @register_op(
        "vpow", 2, "**", "d(a**b)/da = b*a**(b-1)", "d(a**b)/db = a**b * log(a)",
        formula="{a}**{b}", precedence=POWER, operand_precedence=(ATOM, POWER),
        code=OpCode(
            "a ** b",
            (
                "(inf if b < 1.0 else (1.0 if b == 1.0 else 0.0)) if a == 0.0 else power_slope(b, a)",
                "0.0 if a == 0.0 else out * log(a)",
            ),
            (
                Guard("a < 0.0", ValueError, "base must be >= 0 when the exponent is a Value"),
                Guard("a == 0.0 and b <= 0.0", ZeroDivisionError, "0.0 cannot be raised to a power <= 0", 1),
            ),
        ),
        local_formulas=("b * a ** (b - 1)", "out * log(a)"),
        graph_derivatives=lambda n: _vpow_graph_derivatives(n, *n.children),
    )  # fmt: skip
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
        except OverflowError:
            raise _overflow("vpow", a, b) from None
        if a == 0.0:
            d_base = math.inf if b < 1.0 else (1.0 if b == 1.0 else 0.0)
            d_exponent = 0.0  # 0**b is 0 for every b > 0
        else:
            d_base = power_slope(b, a)
            d_exponent = out * math.log(a)
        return _node(out, (self, exponent), (d_base, d_exponent), "vpow")

    # ---- elementary functions -----------------------------------------------------------------

    @register_op(
        "exp",
        1,
        "exp",
        "d(exp a)/da = exp a",
        parse_name="exp",
        code=OpCode("exp(a)", ("out",)),
        graph_derivatives=lambda n: (n,),
    )
    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise _overflow("exp", self.data) from None
        return _node(out, self, out, "exp")

    @register_op(
        "log", 1, "log", "d(log a)/da = 1/a", parse_name="log",
        code=OpCode("log(a)", ("1.0 / a",), (Guard("a <= 0.0", ValueError, "operand must be > 0"),)),
        graph_derivatives=lambda n: (1.0 / n.children[0],),
    )  # fmt: skip
    def log(self) -> Value:
        a = self.data
        if a <= 0.0:
            raise ValueError(f"log: operand must be > 0, got {a!r}")
        return _node(math.log(a), self, 1.0 / a, "log")

    @register_op(
        "sqrt", 1, "sqrt", "d(sqrt a)/da = 1/(2*sqrt a)", parse_name="sqrt",
        code=OpCode(
            "sqrt(a)",
            ("0.5 / out if out != 0.0 else copysign(inf, out)",),
            (Guard("a < 0.0", ValueError, "operand must be >= 0"),),
        ),
        local_formulas=("0.5 / out",),
        graph_derivatives=lambda n: (0.5 / n,),  # at 0 the slope is infinite: no finite graph
    )  # fmt: skip
    def sqrt(self) -> Value:
        a = self.data
        if a < 0.0:
            raise ValueError(f"sqrt: operand must be >= 0, got {a!r}")
        out = math.sqrt(a)
        # An infinite slope at 0, signed like PyTorch's 1/(2·sqrt(a)): -inf at -0.0.
        local = 0.5 / out if out != 0.0 else math.copysign(math.inf, out)
        return _node(out, self, local, "sqrt")

    @register_op(
        "tanh", 1, "tanh", "d(tanh a)/da = (1-t)*(1+t), t = tanh a", parse_name="tanh",
        code=OpCode("tanh(a)", ("(1.0 - out) * (1.0 + out)",)),
        graph_derivatives=lambda n: ((1.0 - n) * (1.0 + n),),
    )  # fmt: skip
    def tanh(self) -> Value:
        t = math.tanh(self.data)
        # (1-t)(1+t) rather than 1-t*t: no cancellation when |t| is close to 1.
        return _node(t, self, (1.0 - t) * (1.0 + t), "tanh")

    @register_op(
        "sigmoid", 1, "σ", "d(σ(a))/da = s*(1-s), s = σ(a)", parse_name="sigmoid",
        code=OpCode(
            "1.0 / (1.0 + exp(-a)) if a >= 0.0 else exp(a) / (1.0 + exp(a))",
            ("out * (1.0 - out) if a >= 0.0 else out * (1.0 / (1.0 + exp(a)))",),
        ),
        local_formulas=("out * (1 - out)",),
        graph_derivatives=lambda n: (
            (n * (1.0 - n),) if decide(n.children[0], "sigmoid") >= 0.0
            else (n * (1.0 / (1.0 + n.children[0].exp())),)
        ),
    )  # fmt: skip
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
        return _node(s, self, s * one_minus_s, "sigmoid")

    @register_op(
        "softplus", 1, "softplus", "d(softplus a)/da = σ(a)", parse_name="softplus",
        code=OpCode(
            "a + log1p(exp(-a)) if a >= 0.0 else log1p(exp(a))",
            ("1.0 / (1.0 + exp(-a)) if a >= 0.0 else exp(a) / (1.0 + exp(a))",),
        ),
        local_formulas=("σ(a)",),
        graph_derivatives=lambda n: (n.children[0].sigmoid(),),  # the same floats as the op's slope
    )  # fmt: skip
    def softplus(self) -> Value:
        """log(1 + exp(self)), stable for every finite value; its derivative is σ(self)."""
        a = self.data
        # Only ever exponentiate a non-positive number: a + log(1 + exp(-a)) for a >= 0, else
        # log(1 + exp(a)); log1p keeps the tiny values of softplus far below 0 accurate.
        if a >= 0.0:
            e = _exp(-a)
            return _node(a + _log1p(e), self, 1.0 / (1.0 + e), "softplus")
        e = _exp(a)
        return _node(_log1p(e), self, e / (1.0 + e), "softplus")

    @register_op(
        "relu", 1, "relu", "d(relu a)/da = 1 if a > 0 else 0", parse_name="relu",
        code=OpCode("a if a > 0.0 else 0.0", ("1.0 if a > 0.0 else 0.0",)),
        graph_derivatives=lambda n: (1.0 if decide(n.children[0], "relu") > 0.0 else 0.0,),
    )  # fmt: skip
    def relu(self) -> Value:
        a = self.data
        node = _new_object(Value)  # the node _node would make, built here (see _node)
        if a > 0.0:
            node.data = a
            node._local_grads = 1.0
        else:
            node.data = 0.0
            node._local_grads = 0.0
        node.grad = 0.0
        node._children = self
        node.op = "relu"
        node._params_label = None
        return node

    @register_op(
        "abs", 1, "abs", "d|a|/da = sign(a) (0 at a = 0)", parse_name="abs",
        code=OpCode("abs(a)", ("1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)",)),
        local_formulas=("sign(a)",),
        graph_derivatives=lambda n: (_sign(decide(n.children[0], "abs")),),
    )  # fmt: skip
    def __abs__(self) -> Value:
        a = self.data
        sign = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)
        return _node(abs(a), self, sign, "abs")

    def abs(self) -> Value:
        """|self|; the same as the built-in ``abs(value)``."""
        return self.__abs__()

    @register_op(
        "sin",
        1,
        "sin",
        "d(sin a)/da = cos a",
        parse_name="sin",
        code=OpCode("sin(a)", ("cos(a)",)),
        graph_derivatives=lambda n: (n.children[0].cos(),),  # type: ignore[has-type]
    )
    def sin(self) -> Value:
        a = self.data
        return _node(math.sin(a), self, math.cos(a), "sin")

    @register_op(
        "cos",
        1,
        "cos",
        "d(cos a)/da = -sin a",
        parse_name="cos",
        code=OpCode("cos(a)", ("-sin(a)",)),
        graph_derivatives=lambda n: (-n.children[0].sin(),),
    )
    def cos(self) -> Value:
        a = self.data
        return _node(math.cos(a), self, -math.sin(a), "cos")

    # ---- choices and constants made inside the graph ------------------------------------------

    @register_op(
        "max", 2, "max", "d max(a,b)/da = 1 if a >= b else 0", "d max(a,b)/db = 0 if a >= b else 1",
        formula="max({a}, {b})", operand_precedence=(0, 0),
        code=OpCode("a if a >= b else b", ("1.0 if a >= b else 0.0", "0.0 if a >= b else 1.0")),
        local_formulas=("[a >= b]", "[a < b]"),
        graph_derivatives=lambda n: _max_graph_derivatives(*n.children),
    )  # fmt: skip
    @register_op(
        "max_const", 1, "max", "d max(a,c)/da = 1 if a >= c else 0", doc="max(a, c) for a number c",
        formula="max({a}, {c})", operand_precedence=(0,), params_kind="constant",
        code=OpCode("a if a >= c else c", ("1.0 if a >= c else 0.0",)), local_formulas=("[a >= c]",),
        graph_derivatives=lambda n: (1.0 if decide(n.children[0], "max") >= n.params else 0.0,),
        number_operand=1,
    )  # fmt: skip
    def max(self, other: Operand) -> Value:
        """The larger of self and `other` (self on ties) as a node, so the choice is in the graph:
        compiled code makes it again on every call, and the gradient flows to the chosen one."""
        if other.__class__ is not float and isinstance(other, Value):
            if self.data >= other.data:
                return _node(self.data, (self, other), (1.0, 0.0), "max")
            return _node(other.data, (self, other), (0.0, 1.0), "max")
        c = other if other.__class__ is float and other - other == 0.0 else _as_float(other, "max")
        if self.data >= c:
            return _node(self.data, self, 1.0, "max_const", c)
        return _node(c, self, 0.0, "max_const", c)

    @register_op(
        "stop_gradient", 1, "stop", "d(stop_gradient a)/da = 0 (by definition)", parse_name="stop_gradient",
        code=OpCode("a", ("0.0",)),
        graph_derivatives=lambda n: (0.0,),
    )  # fmt: skip
    def stop_gradient(self) -> Value:
        """The same number, treated as a constant by backprop (local derivative 0).

        For a value that only shifts a computation and cancels out of its result, such as the
        maximum subtracted inside `logsumexp`: it is recomputed from the inputs on every call (in
        compiled code too), but no gradient flows back through it.
        """
        return _node(self.data, self, 0.0, "stop_gradient")

    # ---- the chain rule -----------------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``grad`` = d(self)/d(node) for every node of the graph below `self`.

        The chain rule runs over `topological_order(self)` in reverse: for each node, for each
        (child, local_grad) pair, ``child.grad += local_grad * node.grad``. No recursion, so graphs
        of any depth work.

        Semantics (shared with every other traversal through `seed_backward`):
          * every interior node's grad is reset before the pass, so calling `backward()` twice
            gives the same interior grads as calling it once;
          * leaves (values with no children: your inputs and parameters) *accumulate*, as in
            PyTorch: a second call adds the same gradient again. Clear them between steps with
            ``leaf.grad = 0.0`` or an optimiser's / module's ``zero_grad()``.
          * `self` gets grad 1.0 (added to its grad if `self` is itself a leaf).
          * a zero local derivative passes on exactly 0, even from an infinite upstream grad
            (``sqrt(relu(x))`` at x < 0 has grad 0, not 0 × ∞ = NaN), as PyTorch's relu, abs and
            threshold do; every other product is the plain ``local * upstream``.
        """
        order = topological_order(self)
        seed_backward(order, self)
        for node in reversed(order):
            upstream = node.grad
            children = node._children
            if upstream - upstream == 0.0:  # finite: the plain chain rule
                if children.__class__ is tuple:
                    for child, local in zip(children, node._local_grads):  # type: ignore[arg-type]
                        child.grad += local * upstream
                else:  # one child, stored as itself
                    children.grad += node._local_grads * upstream  # type: ignore[union-attr,operator]
            else:  # ±inf or NaN flowing down: a zero local derivative still passes on exactly 0
                for child, local in zip(node.children, node.local_grads):
                    child.grad += local * upstream if local != 0.0 else 0.0


def _stored_edges(
    children: Sequence[Value], local_grads: Sequence[float]
) -> tuple[Value | tuple[Value, ...], float | tuple[float, ...]]:
    """A node's edges as it stores them: one child (and its local derivative) as itself, none or
    several as tuples (see `Value`). The two sequences have the same length."""
    if len(children) == 1:
        return children[0], local_grads[0]
    if not children:
        return _NO_CHILDREN, _ZERO_LOCALS
    return (
        children if children.__class__ is tuple else tuple(children),
        local_grads if local_grads.__class__ is tuple else tuple(local_grads),
    )


_new_object = object.__new__


def _node(
    data: float,
    children: Value | tuple[Value, ...],
    local_grads: float | tuple[float, ...],
    op: str,
    params: Any = None,
) -> Value:
    """The node that ``Value(data, "", children, local_grads, op, params)`` makes, for the ops' own
    use: `data` is already a float, and `children`/`local_grads` come in the stored form
    (`_stored_edges`: one child as itself, none or several as tuples). It sets the slots itself
    instead of going through `Value.__init__` and its checks, one Python call per node instead of
    two."""
    # Building the (y * 0.999).relu() chain: 422 ns per op through __init__, 330 setting the slots.
    # `+`, `*` and relu, the ops most graphs are made of, set the same slots themselves: the call
    # to _node cost ~28 ns per node, 6% of the chain's whole op (build, backward, free; 503 -> 476
    # ns, CPython 3.11). tests/test_engine.py checks every op's node against the Value constructor.
    if data - data != 0.0:  # ±inf or NaN: ops check their domains first, so this is an overflow
        operands = children if children.__class__ is tuple else (children,)
        raise _node_overflow(op, operands, params)  # type: ignore[arg-type]
    node = _new_object(Value)
    node.data = data
    node.grad = 0.0
    node._children = children
    node._local_grads = local_grads
    node.op = op
    node._params_label = params
    return node


def edge_contribution(local: float, upstream: float) -> float:
    """What one edge adds to its child's grad: ``local * upstream``, except that a zero local
    derivative passes on exactly 0 even from an infinite or NaN upstream grad (see `Value.backward`,
    which inlines this rule; the stepper and the compiled code use it edge for edge)."""
    if local == 0.0 and upstream - upstream != 0.0:
        return 0.0
    return local * upstream


def seed_backward(order: Sequence[Value], root: Value) -> float:
    """The start of a backward pass over `order` (``topological_order(root)``): every interior
    node's grad is reset to 0 and the root is seeded with d root / d root = 1 (added to its grad
    if the root is a leaf). Returns the root's grad before seeding.

    `Value.backward` and `autograd.steps.chain_rule_steps` both start here, so their rules agree.
    """
    for node in order:
        if node._children is not _NO_CHILDREN:
            node.grad = 0.0
    before = root.grad
    if root._children is not _NO_CHILDREN:
        root.grad = 1.0
    else:
        root.grad += 1.0
    return before


def _sign(a: float) -> float:
    return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)


# div's and rdiv_const's graph derivatives are written here rather than in the ops' lambdas:
# inside the class body mypy cannot type Value's own `/` and unary minus yet.


def _div_graph_derivatives(node: Value, b: Value) -> tuple[Value, Value]:
    """d(a/b)/da = 1/b and d(a/b)/db = -(a/b)/b as Values (`node` is a/b)."""
    return 1.0 / b, -(node / b)


def _rdiv_graph_derivatives(node: Value) -> tuple[Value]:
    """d(c/b)/db = -(c/b)/b as a Value (`node` is c/b)."""
    return (-(node / node.children[0]),)


def _vpow_graph_derivatives(node: Value, a: Value, b: Value) -> tuple[Value | float, ...]:
    """vpow's local derivatives as Values, with the op's special cases at a base of 0."""
    if decide(a, "vpow") == 0.0:
        # 0**b (b > 0) is 0 for every b: d/db = 0; d/da is 1 at b = 1, 0 above (inf below: no graph).
        exponent = decide(b, "vpow")
        if exponent < 1.0:
            raise ValueError(f"vpow: the slope of 0.0 ** {exponent!r} is infinite: no finite graph")
        return 1.0 if exponent == 1.0 else 0.0, 0.0
    return b * a ** (b - 1.0), node * a.log()


def _max_graph_derivatives(a: Value, b: Value) -> tuple[Value | float, ...]:
    if decide(a, "max") >= decide(b, "max"):
        return 1.0, 0.0
    return 0.0, 1.0


def _dot_graph_derivatives(
    weights: Sequence[Value | float], inputs: Sequence[Value | float], bias: Value | float | None
) -> tuple[Value | float, ...]:
    """dot's local derivatives as Values, read from its record: each weight's is its input, each
    input's its weight (numbers stay numbers), the bias's 1; in the order of the node's children."""
    pairs = list(zip(weights, inputs))
    slopes: list[Value | float] = [x for w, x in pairs if isinstance(w, Value)]
    slopes += [w for w, x in pairs if isinstance(x, Value)]
    if isinstance(bias, Value):
        slopes.append(1.0)
    return tuple(slopes)


def _data_of(value: object, op: str) -> float:
    if isinstance(value, Value):
        return value.data
    return _as_float(value, op)


# ---------------------------------------------------------------------------------------------------
# n-ary ops: one node for a whole sum or weighted sum, so a neuron is one node, not 2n.
# ---------------------------------------------------------------------------------------------------


@register_op(
    "sum",
    None,
    "Σ",
    "d(Σ xᵢ)/dxᵢ = 1",
    doc="vsum(values): the sum of many values",
    params_kind="terms",
    graph_derivatives=lambda n: (1.0,) * len(n.children),
)
def vsum(values: Iterable[Operand]) -> Value:
    """The sum of `values` (Values and/or numbers) as ONE graph node.

    The terms are added left to right from 0.0, numbers where they stand. Numbers are not
    children; when there are any, the node records every term in order in `params`, so a tool
    can repeat the very same additions. ``vsum([])`` is 0.0.
    """
    children: list[Value] = []
    terms: list[Value | float] | None = None  # only built once a number turns up
    total = 0.0
    for item in values:
        if isinstance(item, Value):
            children.append(item)
            total += item.data
            if terms is not None:
                terms.append(item)
        else:
            number = _as_float(item, "sum")
            if terms is None:
                terms = list(children)
            terms.append(number)
            total += number
    return Value(
        total, "", tuple(children), (1.0,) * len(children), "sum", None if terms is None else tuple(terms)
    )


@register_op(
    "dot",
    None,
    "Σw·x",
    "d(Σ wᵢxᵢ + b)/dwᵢ = xᵢ, d/dxᵢ = wᵢ, d/db = 1",
    doc="dot(ws, xs, bias): a weighted sum, optionally plus a bias",
    params_kind="operands",
    graph_derivatives=lambda n: _dot_graph_derivatives(*n.params),
)
def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand | None = None) -> Value:
    """Σ wᵢ·xᵢ (+ bias) as ONE graph node: a neuron's pre-activation in a single step.

    The products are added left to right from 0.0 (`sum_in_order`), the same bits on every Python.
    Either side may hold numbers or Values; only Values become children. The children are the
    weights that are Values, then the inputs that are Values, then the bias if it is a Value;
    each weight's local derivative is its input and vice versa. The node records its operands
    as given, ``params = (weights, inputs, bias)`` (numbers as floats), so a tool reads the
    structure instead of recovering it.
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
    else:  # numbers among the operands: one pass, pairing each operand with its partner's data
        weight_data = []
        input_data = []
        weight_children: list[Value] = []
        input_children: list[Value] = []
        weight_locals: list[float] = []
        input_locals: list[float] = []
        recorded_weights: list[Operand] = []  # numbers as the floats that were multiplied
        recorded_inputs: list[Operand] = []
        for w, x in zip(weights, inputs):
            w_is_value = isinstance(w, Value)
            x_is_value = isinstance(x, Value)
            w_data = w.data if w_is_value else _as_float(w, "dot")  # type: ignore[union-attr]
            x_data = x.data if x_is_value else _as_float(x, "dot")  # type: ignore[union-attr]
            weight_data.append(w_data)
            input_data.append(x_data)
            if w_is_value:
                weight_children.append(w)  # type: ignore[arg-type]
                weight_locals.append(x_data)
            if x_is_value:
                input_children.append(x)  # type: ignore[arg-type]
                input_locals.append(w_data)
            recorded_weights.append(w if w_is_value else w_data)
            recorded_inputs.append(x if x_is_value else x_data)
        children = (*weight_children, *input_children)
        local_grads = (*weight_locals, *input_locals)
        weights = tuple(recorded_weights)
        inputs = tuple(recorded_inputs)
    total = sum_in_order(map(_mul, weight_data, input_data))
    if bias is not None:
        if isinstance(bias, Value):
            total = total + bias.data
            children = (*children, bias)
            local_grads = (*local_grads, 1.0)
        else:
            bias = _as_float(bias, "dot")
            total = total + bias
    if not _isfinite(total):
        # One check covers every operand: name the first non-finite one, else it is an overflow.
        for x in input_data:
            _as_float(x, "dot")
        raise _overflow("dot", *weight_data, *input_data)
    stored_children, stored_locals = _stored_edges(children, local_grads)
    return _node(total, stored_children, stored_locals, "dot", (weights, inputs, bias))


# ---------------------------------------------------------------------------------------------------
# Topological order: iterative, so a million chained ops need no recursion.
# ---------------------------------------------------------------------------------------------------


_CHILDREN_DONE = object()  # stack marker used by topological_order: list the node under it
_RUN_DONE = object()  # stack marker used by topological_order: list the run starting at the index under it


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from `root`, each exactly once, every node after all of its children.

    The last element is `root`. Iterative depth-first search with an explicit stack.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: expected a Value, got {describe_operand(root)}")
    order: list[Value] = []
    visited: set[Value] = set()
    # When a node is first popped it goes back on the stack with a marker above it, and its
    # unvisited children above that. Popping the marker means those children are all listed, so
    # the node under it is listed. Leaves are listed as soon as they are seen. (A marker rather
    # than (node, flag) tuples: a tuple per node kept the cyclic GC busy; measured 3-4x slower.)
    #
    # A node with one child (most nodes) would have that child popped next, so the walk follows
    # a run of one-child nodes n1 -> n2 -> ... -> nk directly and pushes them without markers.
    # One marker over the run's start index lists the whole run, deepest first, once nk's child
    # is listed: at once if it is a leaf or already listed, else once the node with several
    # children is. The order is the same as marker by marker (tests/test_engine.py). Measured on
    # CPython 3.11: the (y * 0.999).relu() chain 105 -> 76 ns per node, a moons loss graph (short
    # runs above dot nodes) 277 -> 289, a graph of random reuse 194 -> 213.
    stack: list = [root]  # Values, markers, and under each _RUN_DONE the index where its run starts
    pop, push, emit, mark_visited = stack.pop, stack.append, order.append, visited.add
    leaf_children = _NO_CHILDREN
    while stack:
        node = pop()
        if node is _CHILDREN_DONE:
            emit(pop())
            continue
        if node is _RUN_DONE:
            start = pop()
            run = stack[start:]
            del stack[start:]
            run.reverse()
            order += run
            continue
        if node in visited:
            continue
        mark_visited(node)
        children = node._children
        if children.__class__ is not tuple:  # `node` starts a run of one-child nodes
            first = node
            push(node)
            below = None  # the node with several children that the run ends above, if it does
            while True:
                if children not in visited:
                    grandchildren = children._children
                    if grandchildren.__class__ is not tuple:  # one more one-child node
                        if node is first:
                            start = len(stack) - 1
                        node = children
                        mark_visited(node)
                        push(node)
                        children = grandchildren
                        continue
                    if grandchildren is not leaf_children:
                        below = children
                    else:  # a leaf, seen for the first time
                        mark_visited(children)
                        emit(children)
                break
            # A marker lists the run (deepest first) once whatever goes above it is listed.
            if node is first:
                push(_CHILDREN_DONE)
            else:
                push(start)
                push(_RUN_DONE)
            if below is None:
                continue
            node = below
            mark_visited(node)
            children = grandchildren
        push(node)  # a node with several children (or the root as a leaf)
        push(_CHILDREN_DONE)
        for child in children:
            if child not in visited:
                if child._children is not leaf_children:
                    push(child)
                else:
                    mark_visited(child)
                    emit(child)
    return order
