"""Layer-structured batched evaluation: a scalar graph replayed as a few array operations.

A traced network is thousands of scalar nodes, but most of them come in families: the sixteen
neurons of a layer are sixteen `dot` nodes over the same inputs, followed by sixteen sigmoids of
those dots, and so on. This module finds the families and runs each as ONE NumPy operation over a
(batch × members) array:

- Nodes join a *group* when they apply the same op (with the same recorded constant) to operands
  that come from the same groups, position by position. The inputs form two groups: the shared
  ones (parameters, one number for the whole batch) and the per-example ones (data columns).
- A group of `dot` nodes over one shared input vector (a layer) is a matrix product
  ``X @ W.T + b``; its backward is one ``W``-product for the inputs and one ``d.T @ X`` for the
  weights, which also sums over the batch.
- Every other group is elementwise; its operands are gathered from their groups by index (no copy
  when a group is used whole, in order). Each op's code comes from its registry templates, except
  `sigmoid` and `softplus`, written here with one ``exp(-|a|)`` that both branches share.

The chain rule's one special case is kept too: a zero local derivative passes exactly 0 even from an
infinite upstream gradient (``sqrt(relu(x))`` at x <= 0), as `Value.backward` does. The fast sweep
multiplies (0 × inf is NaN); when a gradient comes out non-finite the backward sweep runs again
with that rule applied edge by edge, before any sum.

The numbers are the eager engine's up to rounding order: matrix products and batch sums add in a
different order than the scalar loop (and NumPy's exp may differ from math's in the last bit), so
results agree to ~1e-15 relative, not bit for bit. Groups are found once, when the function is
made; a call checks its inputs once and runs one operation per group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine import Value
from .batched import numpy_namespace, require_numpy
from .codegen import _MARKERS, _template_texts, build
from .graph import DotTerms, Graph, SumTerms

__all__ = ["LayeredFunction", "LayeredResult"]

# Where one operand of one member comes from: (group, position in it), or a number.
Ref = tuple[int, int] | float

_SHARED, _DATA = 0, 1  # the two input groups


class LayeredResult:
    """A layer-structured batched evaluation.

    `value` is the reduced output (Σ or mean of `outputs`, the per-example outputs); `grad` holds
    d(value)/d(parameter) as one array in `grad_names` order (the shared inputs in ``wrt``);
    `data_grad` holds each example's gradient for the data inputs in ``wrt`` (examples × names,
    scaled like `value`), or None. `grads` is the same as a dict by input name (floats for
    parameters, one array per data input), as `CompiledFunction.batched` returns it.
    """

    __slots__ = ("value", "grad", "data_grad", "outputs", "grad_names", "data_grad_names")

    def __init__(
        self,
        value: float,
        grad: Any,
        data_grad: Any,
        outputs: Any,
        grad_names: tuple[str, ...],
        data_grad_names: tuple[str, ...],
    ) -> None:
        self.value = value
        self.grad = grad
        self.data_grad = data_grad
        self.outputs = outputs
        self.grad_names = grad_names
        self.data_grad_names = data_grad_names

    @property
    def grads(self) -> dict[str, Any]:
        view: dict[str, Any] = dict(zip(self.grad_names, self.grad.tolist()))
        if self.data_grad is not None:
            view.update(zip(self.data_grad_names, self.data_grad.T))
        return view


class _Gather:
    """Operand values of a group's members, gathered as a (rows, members × terms) array.

    `pieces` are the columns of the result, grouped by the group they come from: (group or None
    for numbers, the columns, the positions in that group or the numbers)."""

    def __init__(self, refs: list[list[Ref]], np: Any, sizes: list[int]) -> None:
        self.np = np
        self.sizes = sizes
        flat = [ref for row in refs for ref in row]
        self.width = len(flat)
        by_group: dict[int | None, tuple[list[int], list[Any]]] = {}
        for column, ref in enumerate(flat):
            key = ref[0] if isinstance(ref, tuple) else None
            columns, items = by_group.setdefault(key, ([], []))
            columns.append(column)
            items.append(ref[1] if isinstance(ref, tuple) else ref)
        self.pieces = []
        for group, (columns, items) in by_group.items():
            whole = group is not None and items == list(range(sizes[group]))
            values = np.array(items, dtype=np.int64 if group is not None else np.float64)
            unique = len(set(items)) == len(items)
            self.pieces.append((group, np.array(columns), values, whole, unique))
        self.single = len(self.pieces) == 1 and self.pieces[0][0] is not None
        self.groups = {piece[0] for piece in self.pieces if piece[0] is not None}

    def forward(self, values: list[Any], rows: int) -> Any:
        if self.single:
            group, _, index, whole, _ = self.pieces[0]
            assert group is not None
            return values[group] if whole else values[group][:, index]
        out = self.np.empty((rows, self.width))
        for group, columns, items, _, _ in self.pieces:
            out[:, columns] = items if group is None else values[group][:, items]
        return out

    def backward(self, grads: list[Any], owned: set[int], rows: list[int], upstream: Any) -> None:
        """Add `upstream` (rows, members × terms) into the operands' groups' gradients."""
        np = self.np
        for group, columns, index, whole, unique in self.pieces:
            if group is None:
                continue
            part = upstream if self.single else upstream[:, columns]
            if rows[group] == 1 and part.shape[0] != 1:
                part = part.sum(axis=0, keepdims=True)
            if whole:
                grads[group] = part if grads[group] is None else grads[group] + part
                owned.discard(group)
                continue
            if group not in owned:
                current = grads[group]
                grads[group] = (
                    np.zeros((rows[group], self.sizes[group])) if current is None else current.copy()
                )
                owned.add(group)
            if unique:
                grads[group][:, index] += part
            else:
                np.add.at(grads[group], (slice(None), index), part)


@dataclass
class _Group:
    kind: str  # "input", "op", "sum", "dot"
    op: str
    members: list[Value] = field(default_factory=list)
    refs: list[list[list[Ref]]] = field(default_factory=list)  # member -> slot -> term refs
    rows: int = 1  # 1: the same for every example; 0 stands for "the batch size"
    needs_grad: bool = False
    code: Any = None  # (forward, locals) functions for "op" groups
    gathers: list[_Gather] = field(default_factory=list)


def _sigmoid(np: Any) -> tuple[Any, Any]:
    def forward(a: Any, b: Any) -> tuple[Any, Any]:
        e = np.exp(-np.abs(a))  # exp(-a) for a >= 0, exp(a) below: the eager op's two branches
        return np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e)), e

    def local(a: Any, b: Any, out: Any, e: Any) -> Any:
        return np.where(a >= 0.0, out * (1.0 - out), out * (1.0 / (1.0 + e)))

    return forward, (local,)


def _softplus(np: Any) -> tuple[Any, Any]:
    def forward(a: Any, b: Any) -> tuple[Any, Any]:
        e = np.exp(-np.abs(a))
        # a + log1p(exp(-a)) for a >= 0, else log1p(exp(a)) (0.0 + x is x for x >= 0).
        return np.where(a >= 0.0, a, 0.0) + np.log1p(e), e

    def local(a: Any, b: Any, out: Any, e: Any) -> Any:
        return np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    return forward, (local,)


# Ops whose templates evaluate exp on both sides of a branch get a one-exp form here.
SHARED_EXP_FORMS = {"sigmoid": _sigmoid, "softplus": _softplus}


def _template_functions(op: str, constant: float | None, arity: int, np: Any) -> tuple[Any, Any]:
    """forward(a, b) -> (out, None) and locals(a, b, out, None) from the op's NumPy templates."""
    if op in SHARED_EXP_FORMS:
        return SHARED_EXP_FORMS[op](np)
    guards, forward, locals_ = _template_texts(
        op, None if constant is None else repr(constant), (None,) * arity, True
    )
    a, b, out = _MARKERS["a"], _MARKERS["b"], _MARKERS["out"]
    lines = [f"def forward({a}, {b}):", *(f"    {line}" for line in guards), f"    return {forward}, None"]
    for k, local in enumerate(locals_):
        lines += [f"def local{k}({a}, {b}, {out}, _saved):", f"    return {local.text}"]
    namespace = numpy_namespace(np)
    source = "\n".join(lines) + "\n"
    forward_fn = build(source, "forward", namespace)
    return forward_fn, tuple(namespace[f"local{k}"] for k in range(len(locals_)))


class LayeredFunction:
    """A compiled graph run by layers over a batch. Made by `CompiledFunction.layered`.

    Call it as ``f(params, data, reduction="sum")``: `params` is a 1-D array (or sequence, or a
    mapping by name) of the shared inputs in `param_names` order, `data` a 2-D array with one row
    per example and one column per name in `data_names`. It returns a `LayeredResult`. `groups`
    is how many array operations one forward pass takes (compare `operation_count`).
    """

    def __init__(
        self, graph: Graph, name: str, input_names: Sequence[str], data_names: Sequence[str]
    ) -> None:
        np = require_numpy()
        self.np = np
        self.name = name
        unknown = [key for key in data_names if key not in input_names]
        if unknown:
            raise ValueError(f"{name}.layered: {unknown} are not inputs; the inputs are {list(input_names)}")
        data_set = set(data_names)
        key_of = dict(zip(graph.inputs, input_names))
        shared = [node for node, key in key_of.items() if key not in data_set]
        data = [node for node, key in key_of.items() if key in data_set]
        self.param_names = tuple(key_of[node] for node in shared)
        self.data_names = tuple(key_of[node] for node in data)
        wrt = set(graph.wrt)
        self._grad_index = np.array([i for i, node in enumerate(shared) if node in wrt], dtype=np.int64)
        self.grad_names = tuple(key_of[shared[i]] for i in self._grad_index)
        self._data_grad_index = np.array([i for i, node in enumerate(data) if node in wrt], dtype=np.int64)
        self.data_grad_names = tuple(key_of[data[i]] for i in self._data_grad_index)
        self._groups: list[_Group] = [_Group("input", "", shared), _Group("input", "", data, rows=0)]
        self._where: dict[Value, tuple[int, int]] = {}
        for group_id, group in enumerate(self._groups):
            for position, node in enumerate(group.members):
                self._where[node] = (group_id, position)
        self._graph = graph
        keys: dict[tuple[Any, ...], int] = {}
        for node in graph.order:
            if node in graph.depends and node.children:
                self._place(node, keys)
        self._finish()
        self.groups = len(self._groups) - 2
        self.operation_count = graph.operation_count

    def __repr__(self) -> str:
        return f"<LayeredFunction {self.name}: {self.operation_count} operations in {self.groups} groups>"

    # -- finding the groups ------------------------------------------------------------------------

    def _ref(self, node: Value) -> Ref:
        return self._where[node] if node in self._graph.depends else float(node.data)

    def _term(self, node: Value, term: int | float) -> Ref:
        return self._ref(node.children[term]) if isinstance(term, int) else float(term)

    @staticmethod
    def _shape(refs: list[Ref]) -> tuple[Any, ...]:
        return tuple(ref[0] if isinstance(ref, tuple) else None for ref in refs)

    def _place(self, node: Value, keys: dict[tuple[Any, ...], int]) -> None:
        structure = self._graph.structure.get(node)
        slots: list[list[Ref]]
        if isinstance(structure, SumTerms):
            slots = [[self._term(node, t) for t in structure.terms]]
            key: tuple[Any, ...] = ("sum", self._shape(slots[0]))
        elif isinstance(structure, DotTerms):
            weights = [self._term(node, t) for t in structure.weights]
            inputs = [self._term(node, t) for t in structure.inputs]
            bias = [] if structure.bias is None else [self._term(node, structure.bias)]
            slots = [weights, inputs, bias]
            # A layer: the same inputs (by identity), weights and bias from the same groups.
            key = ("dot", self._shape(weights), tuple(inputs), self._shape(bias))
        else:
            slots = [[self._ref(child)] for child in node.children]
            constant = node.params if isinstance(node.params, float) else None
            key = ("op", node.op, repr(constant), tuple(self._shape(slot) for slot in slots))
        group_id = keys.get(key)
        if group_id is None:
            kind = key[0]
            group_id = keys[key] = len(self._groups)
            self._groups.append(_Group(kind, node.op))
        group = self._groups[group_id]
        self._where[node] = (group_id, len(group.members))
        group.members.append(node)
        group.refs.append(slots)
        if node in self._graph.needs_grad:
            group.needs_grad = True

    def _finish(self) -> None:
        np = self.np
        sizes = [len(group.members) for group in self._groups]
        for group in self._groups[2:]:
            slots = len(group.refs[0])
            if group.kind == "dot":
                # The inputs are one vector for the whole layer: gathered once.
                refs_per_slot = [
                    [member[0] for member in group.refs],
                    [group.refs[0][1]],
                    [member[2] for member in group.refs],
                ]
            else:
                refs_per_slot = [[member[slot] for member in group.refs] for slot in range(slots)]
            group.gathers = [_Gather(refs, np, sizes) if refs[0] else None for refs in refs_per_slot]  # type: ignore[misc]
            sources = {g for gather in group.gathers if gather is not None for g in gather.groups}
            group.rows = 0 if any(self._groups[g].rows == 0 for g in sources) else 1
            if group.kind == "op":
                node = group.members[0]
                constant = node.params if isinstance(node.params, float) else None
                group.code = _template_functions(group.op, constant, len(node.children), np)

    # -- running -----------------------------------------------------------------------------------

    def _inputs(self, params: Any, data: Any) -> tuple[Any, Any]:
        np, caller = self.np, f"{self.name}.layered"
        if isinstance(params, Mapping):
            missing = [key for key in self.param_names if key not in params]
            extra = [key for key in params if key not in self.param_names]
            if missing or extra:
                raise ValueError(
                    f"{caller}: params must hold {list(self.param_names)}; "
                    f"missing {missing}, unexpected {extra}"
                )
            params = [params[key] for key in self.param_names]
        theta = np.asarray(params, dtype=np.float64)
        if theta.shape != (len(self.param_names),):
            raise ValueError(
                f"{caller}: params must have shape ({len(self.param_names)},), got {theta.shape}"
            )
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.data_names) or x.shape[0] == 0:
            raise ValueError(
                f"{caller}: data must be (examples >= 1, {len(self.data_names)}) "
                f"for {list(self.data_names)[:4]}..., "
                f"got shape {x.shape}"
            )
        for what, array in (("params", theta), ("data", x)):
            if not np.isfinite(array).all():
                where = np.argwhere(~np.isfinite(array))[0]
                raise ValueError(
                    f"{caller}: {what} must be finite; entry {tuple(int(i) for i in where)} "
                    f"is {float(array[tuple(where)])!r}"
                )
        return theta, x

    def __call__(self, params: Any, data: Any, *, reduction: str = "sum") -> LayeredResult:
        np = self.np
        if reduction not in ("sum", "mean"):
            raise ValueError(f"{self.name}.layered: reduction must be 'sum' or 'mean', got {reduction!r}")
        theta, x = self._inputs(params, data)
        batch = x.shape[0]
        rows = [batch if group.rows == 0 else 1 for group in self._groups]
        values: list[Any] = [theta[None, :], x] + [None] * (len(self._groups) - 2)
        saved: list[Any] = [None] * len(self._groups)
        with np.errstate(all="ignore"):  # both sides of a where are computed; overflow is checked below
            for group_id in range(2, len(self._groups)):
                values[group_id], saved[group_id] = self._forward(
                    self._groups[group_id], values, rows[group_id]
                )
            root_group, root_position = self._where[self._graph.root]
            outputs = np.broadcast_to(values[root_group][:, root_position], (batch,)).copy()
            bad = np.flatnonzero(~np.isfinite(outputs))
            if len(bad):
                raise ValueError(
                    f"{self.name}.layered: example {int(bad[0])} gives {outputs[bad[0]]!r}: an operation "
                    "overflowed or left its domain there; run that example eagerly to see which"
                )
            scale = 1.0 if reduction == "sum" else 1.0 / batch
            grads = self._sweep(values, saved, rows, scale, batch, careful=False)
            if not all(g is None or np.isfinite(g).all() for g in grads[:2]):
                # An inf or NaN met a zero local derivative somewhere: sweep again by the eager rule
                # (that edge passes exactly 0), edge by edge before any sum, as backward() does.
                grads = self._sweep(values, saved, rows, scale, batch, careful=True)
        grad = np.zeros(len(self.param_names)) if grads[_SHARED] is None else grads[_SHARED][0]
        data_grad = None
        if len(self._data_grad_index):
            per_example = np.zeros((batch, len(self.data_names))) if grads[_DATA] is None else grads[_DATA]
            data_grad = np.broadcast_to(per_example, (batch, len(self.data_names)))[:, self._data_grad_index]
        value = float(outputs.sum()) * scale
        return LayeredResult(
            value, grad[self._grad_index], data_grad, outputs, self.grad_names, self.data_grad_names
        )

    def _sweep(
        self, values: list[Any], saved: list[Any], rows: list[int], scale: float, batch: int, careful: bool
    ) -> list[Any]:
        """The backward pass over the groups, seeded with `scale`; the gradients of every group."""
        np = self.np
        root_group, root_position = self._where[self._graph.root]
        grads: list[Any] = [None] * len(self._groups)
        seed = np.zeros((rows[root_group], len(self._groups[root_group].members)))
        seed[:, root_position] = scale if rows[root_group] == batch else scale * batch
        grads[root_group] = seed
        owned = {root_group}
        for group_id in range(len(self._groups) - 1, 1, -1):
            group = self._groups[group_id]
            if grads[group_id] is not None and group.needs_grad:
                self._backward(group, values, saved[group_id], grads, owned, rows, grads[group_id], careful)
        return grads

    def _forward(self, group: _Group, values: list[Any], rows: int) -> tuple[Any, Any]:
        np = self.np
        if group.kind == "op":
            operands = [gather.forward(values, rows) for gather in group.gathers]
            forward, _ = group.code
            out, extra = forward(*operands, *([None] * (2 - len(operands))))
            shape = (rows, len(group.members))
            if np.shape(out) != shape:
                out = np.broadcast_to(out, shape)
            return out, (operands, out, extra)
        if group.kind == "sum":
            terms = group.gathers[0].forward(values, rows)
            members = len(group.members)
            return terms.reshape(terms.shape[0], members, -1).sum(axis=2), terms
        weights_gather, inputs_gather, bias_gather = group.gathers
        inputs = inputs_gather.forward(values, rows)
        weights = weights_gather.forward(values, rows)
        units = len(group.members)
        w = weights.reshape(weights.shape[0], units, -1)
        if w.shape[0] == 1:
            out = inputs @ w[0].T
        else:
            out = np.einsum("bk,buk->bu", np.broadcast_to(inputs, (rows, w.shape[2])), w)
        if bias_gather is not None:
            out = out + bias_gather.forward(values, rows)
        return out, (inputs, w)

    def _backward(
        self,
        group: _Group,
        values: list[Any],
        saved: Any,
        grads: list[Any],
        owned: set[int],
        rows: list[int],
        d: Any,
        careful: bool = False,
    ) -> None:
        np = self.np
        if group.kind == "op":
            operands, out, extra = saved
            _, locals_ = group.code
            padded = [*operands, *([None] * (2 - len(operands)))]
            for gather, local in zip(group.gathers, locals_):
                slope = local(*padded, out, extra)
                if _is_one(slope):
                    gather.backward(grads, owned, rows, d)
                    continue
                contribution = d * slope
                if careful:  # a zero local derivative passes exactly 0, even from an inf or NaN d
                    contribution = np.where(np.asarray(slope) == 0.0, 0.0, contribution)
                gather.backward(grads, owned, rows, contribution)
            return
        if group.kind == "sum":
            terms = saved
            count = terms.shape[1] // len(group.members)
            group.gathers[0].backward(grads, owned, rows, np.repeat(d, count, axis=1))
            return
        inputs, w = saved
        weights_gather, inputs_gather, bias_gather = group.gathers
        if careful:
            # Edge by edge: d(dot)/d(input k) is weight k and d(dot)/d(weight k) is input k; a zero one
            # passes 0 whatever d is, and only then are the products summed (over units, over rows).
            inputs = np.broadcast_to(inputs, (d.shape[0], w.shape[2]))
            weights = np.broadcast_to(w, (d.shape[0], *w.shape[1:]))
            to_inputs = np.where(weights == 0.0, 0.0, d[:, :, None] * weights)
            to_weights = np.where(inputs[:, None, :] == 0.0, 0.0, d[:, :, None] * inputs[:, None, :])
            d_inputs = to_inputs.sum(axis=1)
            d_weights = to_weights.reshape(d.shape[0], -1)
            if w.shape[0] == 1:
                d_weights = d_weights.sum(axis=0, keepdims=True)
        elif w.shape[0] == 1:
            d_inputs = d @ w[0]
            if inputs.shape[0] != d.shape[0]:
                inputs = np.broadcast_to(inputs, (d.shape[0], w.shape[2]))
            d_weights = (d.T @ inputs).reshape(1, -1)
        else:
            d_inputs = np.einsum("bu,buk->bk", d, w)
            d_weights = (d[:, :, None] * inputs[:, None, :]).reshape(d.shape[0], -1)
        weights_gather.backward(grads, owned, rows, d_weights)
        inputs_gather.backward(grads, owned, rows, d_inputs)
        if bias_gather is not None:
            bias_gather.backward(grads, owned, rows, d)


def _is_one(slope: Any) -> bool:
    return isinstance(slope, float) and slope == 1.0
