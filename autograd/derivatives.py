"""Gradients as numbers or as graphs: `grad`, and from it derivatives of any order, `hessian`, `hvp`.

`Value.backward()` leaves d root / d node in every node's ``grad`` as a float. `grad` answers the
same question for the values you name, without touching any ``grad`` attribute, and with
``create_graph=True`` it answers it with Values instead of floats::

    x = Value(0.5, "x")
    y = x.tanh()
    (dy,) = grad(y, [x], create_graph=True)   # dy is a Value: the backward pass, as a graph
    (d2y,) = grad(dy, [x])                    # ... so it can be differentiated again

The graph of ``dy`` is the backward pass written out with ordinary ops: for every edge of the
forward graph, the op's local derivative built from engine ops (its `OpSpec.graph_derivatives`,
e.g. tanh's ``(1 - t) * (1 + t)`` where ``t`` is the tanh node itself) times the upstream gradient,
and the contributions a value receives added up in the order `backward()` adds them. So its data
is bit for bit the float `backward()` computes (but for the sign of a zero: `backward()` adds every
contribution to 0.0, so its zeros are +0.0, while a value with one contribution gets that product
as it is, which can be -0.0), and it can be differentiated (again and again: the
n-th derivative is n calls), drawn (`autograd.draw(dy, backward_nodes=...)`), stepped
(`autograd.chain_rule_steps`) and compiled (`autograd.compile`) like any graph.

A graph holds finite numbers only: where a local derivative is infinite (sqrt at 0, ``x ** 0.5`` at
0) ``create_graph=True`` raises a ValueError naming the op, instead of building a graph that
cannot be evaluated. Choices inside derivatives (relu's and abs's kink, max, sigmoid's two stable
formulas) are made at the point the graph is built, like the op's own choice in the forward pass.

Why not ``backward(create_graph=True)``: ``grad`` attributes are floats that optimisers, the stepper
and the renderer read; a Value there would break each of them. `grad` returns the graphs instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, overload

from .engine import _NO_CHILDREN, OPS, Operand, Value, as_value, describe_operand, dot, topological_order

__all__ = ["backward_nodes", "grad", "hessian", "hvp", "leaves_for"]

_isfinite = math.isfinite


@overload
def grad(output: Value, inputs: Sequence[Value], create_graph: Literal[False] = False) -> list[float]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], create_graph: Literal[True]) -> list[Value]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], create_graph: bool) -> list[float] | list[Value]: ...


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[float] | list[Value]:
    """d output / d input for each of `inputs`, in order, without changing any ``grad`` attribute.

    With ``create_graph=False`` (default) the result is floats, bit for bit what ``output.backward()``
    would add to those inputs' grads. With ``create_graph=True`` it is Values whose graph is the
    backward pass itself (see the module docstring), with the same numbers as data (a zero may be
    -0.0 where the float is +0.0). An input the
    output does not depend on gets 0.0 (a constant Value with ``create_graph=True``); the same
    input may appear twice. Interior nodes are allowed as inputs: their gradient is d output / d node
    with the node's own computation held fixed, as `backward()` leaves it in ``node.grad``.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {describe_operand(output)}")
    inputs = list(inputs)
    for position, value in enumerate(inputs):
        if not isinstance(value, Value):
            raise TypeError(f"grad: inputs[{position}] must be a Value, got {describe_operand(value)}")
    if not isinstance(create_graph, bool):
        raise TypeError(f"grad: create_graph must be True or False, got {describe_operand(create_graph)}")
    order = topological_order(output)
    if create_graph:
        graphs = _graph_gradients(order, output)
        forward = set(order)
        gradients = []
        for value in inputs:
            gradient = graphs[value] if value in graphs else as_value(0.0, "grad")
            if gradient in forward:  # d(x*y)/dx is y itself: give a node of its own, y × the seed 1
                gradient = gradient * as_value(1.0, "grad")
            gradients.append(gradient)
        return gradients
    numbers = _float_gradients(order, output)
    return [numbers.get(value, 0.0) for value in inputs]


def _float_gradients(order: Sequence[Value], output: Value) -> dict[Value, float]:
    """The backward pass of `Value.backward()` (same order, same products, same zero rule) into a
    dict instead of the ``grad`` attributes. Nodes the output does not depend on are absent."""
    grads: dict[Value, float] = {output: 1.0}
    get = grads.get
    for node in reversed(order):
        upstream = get(node)
        if upstream is None:
            continue
        finite = upstream - upstream == 0.0
        children: Any = node._children  # the stored form, as `Value.backward` reads it
        locals_: Any = node._local_grads
        if children.__class__ is not tuple:  # one child, stored as itself
            contribution = locals_ * upstream if finite or locals_ != 0.0 else 0.0
            grads[children] = get(children, 0.0) + contribution
        elif children:
            for child, local in zip(children, locals_):
                contribution = local * upstream if finite or local != 0.0 else 0.0
                grads[child] = get(child, 0.0) + contribution
    return grads


_Term = tuple[Value | float, Value | float]  # (local derivative, upstream gradient): one contribution


def _graph_gradients(order: Sequence[Value], output: Value) -> dict[Value, Value]:
    """The backward pass as a graph: the same edges in the same order as `_float_gradients`, each
    contribution ``local * upstream`` built from the op's `graph_derivatives`.

    A value's contributions are collected until the reverse sweep reaches it (after all of its
    parents), then summed as one node: a single contribution is its product itself, several are
    one `dot` of the local derivatives with the upstream gradients, which adds the products in
    the order `_float_gradients` adds them, starting from 0.0 as it does. (A `mul` and an `add` per
    edge made the gradient graph of a moons MLP loss 2x larger: 27x `backward()` to build, not 5x.)
    A constant local derivative of 1 passes the upstream Value on as it is, -1 negates it and 0
    contributes nothing (the float pass adds ±0.0 there), and a local derivative times the output's
    seed 1 is the local derivative itself: each is exactly what the float product gives."""
    seed = as_value(1.0, "grad")  # d output / d output
    grads: dict[Value, Value] = {output: seed}
    # Per value, its one contribution (local, upstream), or a list of them once there are more.
    contributions: dict[Value, _Term | list[_Term]] = {}
    get_grad, get_terms, pop_terms = grads.get, contributions.get, contributions.pop
    for node in reversed(order):
        upstream = get_grad(node)
        if upstream is None:
            terms = pop_terms(node, None)
            if terms is None:
                # Every contribution to this node was an exact zero (a zero local derivative
                # above it), so its gradient is 0 and passes 0 on, as in the float pass; but there
                # a zero times an infinite local derivative of its own is NaN, which no graph holds.
                if node._children is not _NO_CHILDREN and not _finite_locals(node):
                    raise _graph_derivatives_error(node)
                continue
            try:
                upstream = grads[node] = (
                    _sum_of_products(terms) if terms.__class__ is list else _product(*terms)
                )
            except OverflowError as error:  # the float pass gives ±inf here; a graph cannot hold it
                raise _gradient_overflow(node, error) from None
        stored: Any = node._children  # the stored form (see `Value`): one child as itself
        if stored is _NO_CHILDREN:
            continue  # a leaf
        spec = OPS.get(node.op)
        if spec is None or spec.graph_derivatives is None:
            raise ValueError(
                f"grad(create_graph=True): op {node.op!r} declares no graph_derivatives (its local "
                "derivatives as Values), so its gradient cannot be a graph"
            )
        # A node with one child (most nodes) takes no zip and no map here: a third of the time per
        # node on a chain. Local derivatives are checked before graph_derivatives builds from them.
        one_child = stored.__class__ is not tuple
        if not _finite_locals(node):
            raise _graph_derivatives_error(node)
        slopes = spec.graph_derivatives(node)
        if len(slopes) != (1 if one_child else len(stored)):
            raise _graph_derivatives_error(node, slopes)
        edges: Any = ((stored, slopes[0]),) if one_child else zip(stored, slopes)
        to_seed = upstream is seed
        for child, slope in edges:
            term: _Term
            if slope.__class__ is not Value and not isinstance(slope, Value):
                if slope == 0.0:
                    continue
                term = (slope, upstream)
            elif slope.op != "const" or slope._children is not _NO_CHILDREN:
                # slope × the seed 1 is the slope itself, bit for bit: tanh's gradient is (1-t)*(1+t),
                # and d(x*y)/dx is y, a forward node (`grad` gives the caller a node of its own).
                term = (slope, 1.0 if to_seed else upstream)
            elif slope.data == 0.0:
                continue
            else:
                term = (slope.data, upstream)
            before = get_terms(child)
            if before is None:
                contributions[child] = term
            elif before.__class__ is list:
                before.append(term)
            else:
                contributions[child] = [before, term]  # type: ignore[list-item]
    return grads


def _gradient_overflow(node: Value, error: OverflowError) -> OverflowError:
    from .steps import describe_node  # the stepper's short names; imported only for this message

    if node.label:
        name = repr(node.label)
    elif node._children is _NO_CHILDREN:
        name = f"the leaf of value {node.data!r}"
    else:
        name = describe_node(node) or f"the {node.op} node of value {node.data!r}"
    return OverflowError(
        f"grad(create_graph=True): the gradient with respect to {name} is too large for a float "
        f"(backward() gives ±inf there; a gradient graph holds finite numbers only): {error}"
    )


def _finite_locals(node: Value) -> bool:
    """Whether every local derivative of `node` is finite (read in the stored form: one child's
    as itself, so no map over a one-element tuple)."""
    locals_: Any = node._local_grads
    return locals_ - locals_ == 0.0 if locals_.__class__ is not tuple else all(map(_isfinite, locals_))


def _graph_derivatives_error(node: Value, slopes: Sequence[Value | float] = ()) -> ValueError:
    """Why `node`'s contributions cannot be built as a graph: an infinite or NaN local derivative,
    or an op whose `graph_derivatives` gave the wrong number of derivatives."""
    children, local_grads = node.children, node.local_grads
    for position, local in enumerate(local_grads):
        if not _isfinite(local):
            operands = ", ".join(repr(child.data) for child in children[:6])
            return ValueError(
                f"grad(create_graph=True): the local derivative of {node.op} at ({operands}) is "
                f"{local!r} (operand {position}); a gradient graph holds finite numbers only"
            )
    return ValueError(
        f"grad(create_graph=True): op {node.op!r}: its graph_derivatives gave {len(slopes)} "
        f"derivatives for {len(children)} operands"
    )


def _sum_of_products(terms: list[_Term]) -> Value:
    """Σ local × upstream over one value's two or more contributions, as one `dot` of the local
    derivatives with the upstream gradients, which adds the products in order from 0.0 as the
    float pass does (`engine.sum_in_order`). (One contribution is `_product` itself.)"""
    return dot([local for local, _ in terms], [upstream for _, upstream in terms])


def _product(local: Value | float, upstream: Value | float) -> Value:
    """One contribution local × upstream as a Value, exactly the float product."""
    if isinstance(upstream, Value):
        if isinstance(local, float) and local in (1.0, -1.0):
            return upstream if local == 1.0 else -upstream
        return local * upstream
    if isinstance(local, Value):  # times the seed's 1: the local derivative itself
        return local
    raise AssertionError("a contribution needs a Value on one side")


def backward_nodes(gradients: Sequence[Value] | Value, output: Value) -> set[Value]:
    """The nodes of `gradients`' graphs that the backward pass made (everything not in `output`'s
    forward graph): pass them to ``autograd.draw(..., backward_nodes=...)`` to tell them apart."""
    roots = [gradients] if isinstance(gradients, Value) else list(gradients)
    forward = set(topological_order(output))
    made: set[Value] = set()
    for root in roots:
        made.update(node for node in topological_order(root) if node not in forward)
    return made


def leaves_for(values: Sequence[Operand], caller: str) -> list[Value]:
    """The leaves a function of `values` is evaluated at: each number becomes a fresh leaf, a Value
    is used as it is (it must be a leaf, e.g. a model's parameter) and may appear only once."""
    leaves: list[Value] = []
    seen: set[Value] = set()
    for position, value in enumerate(values):
        if isinstance(value, Value):
            if value.children:
                raise ValueError(
                    f"{caller}: values[{position}] must be a leaf (a number or a Value with no "
                    f"children), got a Value made by op {value.op!r}"
                )
            if value in seen:
                raise ValueError(f"{caller}: values[{position}] appears twice ({value!r})")
            seen.add(value)
            leaves.append(value)
        else:
            leaves.append(Value(as_value(value, caller).data, f"x{position}"))
    if not leaves:
        raise ValueError(f"{caller}: needs at least one value, got none")
    return leaves


def _evaluate(f: Callable[[list[Value]], Value], leaves: list[Value], caller: str) -> Value:
    output = f(leaves)
    if not isinstance(output, Value):
        raise TypeError(f"{caller}: f must return a Value, got {describe_operand(output)}")
    return output


def hessian(f: Callable[[list[Value]], Value], values: Sequence[Operand]) -> list[list[float]]:
    """The matrix of second derivatives ``H[i][j] = d²f / dvᵢ dvⱼ`` at `values`, as a list of rows.

    `f` is called once with a list of leaves, one per entry of `values` (numbers become fresh
    leaves; Values, such as a model's parameters, are used as they are) and must return a Value.
    Row i is the gradient of the graph gradient d f / d vᵢ (``grad(..., create_graph=True)``): one
    backward pass per row, so this is for small functions and small nets (n passes over a graph
    that grows about 3x). H is symmetric up to rounding; the rows are reported as computed.
    """
    leaves = leaves_for(values, "hessian")
    output = _evaluate(f, leaves, "hessian")
    first = grad(output, leaves, create_graph=True)
    return [grad(g, leaves) for g in first]


def hvp(f: Callable[[list[Value]], Value], values: Sequence[Operand], vector: Sequence[float]) -> list[float]:
    """The Hessian-vector product H·v at `values`, without forming H: the gradient of
    ``Σᵢ vᵢ · d f / d valueᵢ``, two backward passes whatever the number of values (`f` and `values`
    as in `hessian`)."""
    leaves = leaves_for(values, "hvp")
    vector = list(vector)
    if len(vector) != len(leaves):
        raise ValueError(f"hvp: vector has {len(vector)} entries for {len(leaves)} values")
    output = _evaluate(f, leaves, "hvp")
    first = grad(output, leaves, create_graph=True)
    directional = dot(first, vector)  # numbers are checked to be finite by dot
    return grad(directional, leaves)
