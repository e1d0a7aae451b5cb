"""Backprop one chain-rule step at a time.

`chain_rule_steps(root)` runs exactly the backward pass of `Value.backward()`, but pauses after
every edge and tells you what happened there::

    child.grad += local_grad * upstream_grad          # one edge = one step

Each step is a `ChainRuleStep` record: which node and which of its children, the upstream grad
(d root / d node), the local derivative (d node / d child), their product (the contribution) and the
child's grad before and after, with the op's derivative written as text from the op registry.
The terminal stepper (`gradstep step`) and the browser stepper (`write_stepper_html`) show these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from .engine import ATOM, OPS, UNARY, Value, edge_contribution, seed_backward, topological_order

__all__ = [
    "AfterStep",
    "ChainRuleStep",
    "ForwardStep",
    "ParameterUpdate",
    "Phase",
    "StagedUpdate",
    "StagesUpdates",
    "TrainingStep",
    "UpdateStep",
    "chain_rule_steps",
    "describe_node",
    "forward_steps",
    "grads_before",
    "node_names",
    "training_step_steps",
]

Phase = Literal["forward", "seed", "backward", "update", "after"]


@dataclass(frozen=True)
class ChainRuleStep:
    """One step of backprop: the chain rule applied to one edge ``node -> child``.

    Attributes:
        index: the step number. Edge steps are numbered 1, 2, 3, ... in the order backward()
            processes them; the seeding step (only with ``include_seed=True``) is step 0.
        kind: ``"edge"`` for a chain-rule step, ``"seed"`` for setting d root / d root = 1.
        node: the node whose grad flows down (for the seed: the root).
        child: the operand receiving grad (for the seed: the root itself).
        child_position: which operand of `node` the child is (0 for ``a`` in ``a*b``, 1 for ``b``;
            a value used twice, as in ``x*x``, gets one step per position). -1 for the seed.
        node_number, child_number: positions of `node` and `child` in ``topological_order(root)``,
            the numbers the renderer draws them with (``v{number}`` in the SVG).
        upstream_grad: d root / d node, final by the time the node is processed.
        local_grad: d node / d child at this position, recorded by the op in the forward pass.
        contribution: ``local_grad * upstream_grad``, the amount added to the child's grad (exactly 0
            when the local derivative is 0, even from an infinite upstream grad).
        child_grad_before, child_grad_after: the child's grad around the update
            (``after == before + contribution``, computed with the very same float operations as
            backward()).
        op: the op name of `node` (a key of `autograd.OPS`).
        derivative_text: the op's derivative for this operand, such as ``d(a*b)/da = b``.
    """

    index: int
    kind: Literal["edge", "seed"]
    node: Value
    child: Value
    child_position: int
    node_number: int
    child_number: int
    upstream_grad: float
    local_grad: float
    contribution: float
    child_grad_before: float
    child_grad_after: float
    op: str
    derivative_text: str

    def equation(self) -> str:
        """The step as one line of arithmetic: ``upstream × local = contribution``."""
        return f"{self.upstream_grad!r} × {self.local_grad!r} = {self.contribution!r}"

    @property
    def phase(self) -> Phase:
        """``"seed"`` or ``"backward"``: where this step sits in a training step's timeline."""
        return "seed" if self.kind == "seed" else "backward"


def chain_rule_steps(root: Value, *, include_seed: bool = False) -> Iterator[ChainRuleStep]:
    """Run ``root.backward()`` one edge at a time, yielding a `ChainRuleStep` after each edge.

    The order, the arithmetic and the grads left behind are exactly those of `Value.backward()`:
    nodes in reverse ``topological_order(root)``, each node's children in order, and
    ``child.grad += local_grad * upstream_grad`` per edge, so after the generator is exhausted
    every grad is bit-for-bit what ``root.backward()`` would have left. The same reset rules apply:
    interior grads are reset to 0, `root` gets grad 1.0 (added if `root` is a leaf), and leaves
    accumulate onto whatever grad they already hold.

    With ``include_seed=True`` the first record (index 0, kind ``"seed"``) is the root's seeding
    d root / d root = 1, so a viewer can show it as the starting step.

    Nothing happens until you ask for the first step (it is a generator), and the graph's grads
    are updated step by step as you iterate: stopping half-way leaves a half-finished backward
    pass. Don't change grads or build new nodes on this graph while stepping through it.
    """
    if not isinstance(root, Value):
        raise TypeError(f"chain_rule_steps: expected a Value, got {type(root).__name__} {root!r}")
    order = topological_order(root)
    number_of = {node: number for number, node in enumerate(order)}
    root_number = len(order) - 1

    root_grad_before = seed_backward(order, root)  # the very start of Value.backward()
    if include_seed:
        yield ChainRuleStep(
            index=0,
            kind="seed",
            node=root,
            child=root,
            child_position=-1,
            node_number=root_number,
            child_number=root_number,
            upstream_grad=1.0,
            local_grad=1.0,
            contribution=1.0,
            child_grad_before=root_grad_before,
            child_grad_after=root.grad,
            op=root.op,
            derivative_text="d(root)/d(root) = 1",
        )

    index = 0
    for node_number in range(root_number, -1, -1):
        node = order[node_number]
        if not node.children:
            continue
        upstream = node.grad
        spec = OPS.get(node.op)
        for position, (child, local) in enumerate(zip(node.children, node.local_grads)):
            before = child.grad
            contribution = edge_contribution(local, upstream)
            # Written as `before + contribution` on purpose: this is exactly what backward()'s
            # `child.grad += local * upstream` computes, so the grads agree to the last bit.
            child.grad = before + contribution
            index += 1
            yield ChainRuleStep(
                index=index,
                kind="edge",
                node=node,
                child=child,
                child_position=position,
                node_number=node_number,
                child_number=number_of[child],
                upstream_grad=upstream,
                local_grad=local,
                contribution=contribution,
                child_grad_before=before,
                child_grad_after=child.grad,
                op=node.op,
                derivative_text=spec.derivative_text(position) if spec is not None else f"d({node.op})",
            )


def describe_node(node: Value, max_length: int = 32) -> str | None:
    """A short human name for `node`: its label, its number if it is a constant, or its formula.

    For an unlabelled interior node the formula is written from its children's names
    (``w1*x1 + w2*x2``). Returns None when that formula would be longer than `max_length`, so the
    caller can fall back to another name. A label is always returned as it is.
    """
    if node.label:
        return node.label
    text = _describe(node, max_length)
    return text if text is not None and len(text) <= max_length else None


def node_names(order: Sequence[Value], fmt: Callable[[float], str] = repr, max_length: int = 32) -> list[str]:
    """A name for every node of `order`: `describe_node`, else its op and value (``tanh = 0.5481``),
    which is what a drawing of the graph shows in the node's box. `fmt` formats the value."""
    return [describe_node(node, max_length) or f"{node.op} = {fmt(node.data)}" for node in order]


def grads_before(order: Sequence[Value], steps: Iterable[ChainRuleStep]) -> list[float]:
    """Every node's grad before `steps` ran (by position in `order`), recovered from the records.

    A node's grad before the pass is the "before" of the first step that touched it (interior
    grads after the reset, leaves with what they had accumulated); untouched nodes keep their grad.
    Together with each step's ``child_grad_after`` this gives the grads at any point of the pass.
    """
    grads = [node.grad for node in order]
    for step in reversed(list(steps)):
        grads[step.child_number] = step.child_grad_before
    return grads


def _describe(node: Value, budget: int) -> str | None:
    described = _describe_with_precedence(node, budget)
    return None if described is None else described[0]


def _describe_with_precedence(node: Value, budget: int) -> tuple[str, int] | None:
    """(text, precedence) of `node`'s formula, or None if it does not fit in `budget` characters.

    Each op's formula and precedences come from its registry entry (`OpSpec.formula`)."""
    # Every level of nesting costs at least one character, so the budget also bounds the recursion.
    if budget <= 0:
        return None
    if node.label:
        return node.label, ATOM
    if not node.children:
        text = _number_text(node.data)
        return text, (UNARY if text.startswith("-") else ATOM)
    spec = OPS.get(node.op)
    if spec is None or spec.formula is None or spec.arity != len(node.children):
        return None  # n-ary nodes (sum, dot) have no short formula
    operands = []
    for child, needed in zip(node.children, spec.operand_precedence):
        operand = _operand(child, budget - 1, needed)
        if operand is None:
            return None
        operands.append(operand)
    fields = dict(zip("ab", operands))
    if spec.params_kind == "constant":
        fields["c"] = _number_text(node.params)
    return spec.formula.format(**fields), spec.precedence


def _operand(node: Value, budget: int, needed_precedence: int) -> str | None:
    """The operand's text, in parentheses if it binds less tightly than `needed_precedence`."""
    described = _describe_with_precedence(node, budget)
    if described is None:
        return None
    text, precedence = described
    return text if precedence >= needed_precedence else f"({text})"


def _number_text(number: float | None) -> str:
    if number is None:
        return "?"
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(float(number))


# ---------------------------------------------------------------------------------------------------
# A whole training step: forward, seed, backward, update, and the loss after it
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardStep:
    """One step of the forward pass: an op computing one node's value from its operands.

    Attributes:
        index: 1, 2, 3, ... in topological order (leaves are given, not computed, so they get no step).
        node, node_number: the node computed and its position in ``topological_order(root)``.
        op: the op name (a key of `autograd.OPS`).
        operands: the operands' values, in order (``node.children``' data).
        value: the result, ``node.data``.
    """

    index: int
    node: Value
    node_number: int
    op: str
    operands: tuple[float, ...]
    value: float

    phase: Literal["forward"] = field(default="forward", init=False)

    def equation(self, fmt: Callable[[float], str] = repr, max_terms: int = 4) -> str:
        """``value = op(operands)`` with numbers, such as ``(-3.0)*2.0 = -6.0`` or
        ``tanh(0.8814) = 0.7071``; n-ary ops show at most `max_terms` terms, then how many more."""
        return forward_equation(self.node, fmt, max_terms, operands=self.operands, value=self.value)


def forward_equation(
    node: Value,
    fmt: Callable[[float], str] = repr,
    max_terms: int = 4,
    *,
    operands: Sequence[float] | None = None,
    value: float | None = None,
) -> str:
    """The arithmetic that made `node`, written with its operands' numbers (see `ForwardStep`).

    `operands` and `value` default to the children's and the node's current data; a `ForwardStep`
    passes the numbers it recorded, so its text does not change when an update moves the parameters.
    """
    out = fmt(node.data if value is None else value)
    children = node.children
    if not children:
        return f"{out} (given)"
    spec = OPS.get(node.op)
    symbol = spec.symbol if spec is not None else node.op
    numbers = [child.data for child in children] if operands is None else list(operands)
    texts = [fmt(x) for x in numbers]
    if node.op == "dot":
        return f"{_dot_terms_text(node, numbers, fmt, max_terms)} = {out}"
    if spec is None or spec.formula is None:  # n-ary (sum) and unregistered ops: symbol(a, b, c, ...)
        shown = texts[:max_terms]
        more = len(texts) - len(shown)
        tail = f", … {more} more" if more else ""
        return f"{symbol}({', '.join(shown)}{tail}) = {out}"
    # The op's own formula from the registry, with numbers for its operands and constant. Inside a
    # function call a negative number reads fine; elsewhere it gets parentheses: -(-1.5), (-3)*2.
    call = spec.formula[0].isalpha()
    fields = dict(zip("ab", texts))
    if isinstance(node.params, float):
        fields["c"] = fmt(node.params)
    if not call:
        fields = {name: f"({text})" if text.startswith("-") else text for name, text in fields.items()}
    try:
        return f"{spec.formula.format(**fields)} = {out}"
    except (KeyError, IndexError):  # a formula naming more than this node recorded
        return f"{symbol}({', '.join(texts)}) = {out}"


def _dot_terms_text(
    node: Value, numbers: Sequence[float], fmt: Callable[[float], str], max_terms: int
) -> str:
    """``w0×x0 + w1×x1 + … + b`` for a `dot` node, from its operands' values and local derivatives.

    A dot of Value weights and Value inputs has children ``weights + inputs (+ bias)``, each weight's
    local derivative being its input's value; any other dot has one term child × local per child.
    """
    locals_ = node.local_grads
    count = len(numbers)
    half = count // 2
    paired = (
        half > 0
        and count in (2 * half, 2 * half + 1)
        and all(locals_[k] == numbers[half + k] and locals_[half + k] == numbers[k] for k in range(half))
    )
    if paired:
        terms = [f"{fmt(numbers[k])}×{fmt(numbers[half + k])}" for k in range(half)]
        if count == 2 * half + 1:
            terms.append(fmt(numbers[-1]))
    else:
        terms = [f"{fmt(x)}×{fmt(local)}" for x, local in zip(numbers, locals_)]
    shown = terms[:max_terms]
    more = len(terms) - len(shown)
    return " + ".join(shown) + (f" + … {more} more" if more else "")


def forward_steps(root: Value) -> Iterator[ForwardStep]:
    """The forward pass that made `root`, one `ForwardStep` per computed node, in topological order.

    gradstep computes values as the graph is built, so this replays nothing: each step reports the
    node's op, its operands' values and its own `data`, in the order a forward pass computes them.
    """
    if not isinstance(root, Value):
        raise TypeError(f"forward_steps: expected a Value, got {type(root).__name__} {root!r}")
    index = 0
    for number, node in enumerate(topological_order(root)):
        if node.children:
            index += 1
            operands = tuple(child.data for child in node.children)
            yield ForwardStep(index, node, number, node.op, operands, node.data)


@dataclass(frozen=True)
class ParameterUpdate:
    """What an optimiser does to one parameter in one step, as the optimiser itself computed it.

    Attributes:
        parameter: the Value updated.
        data_before, grad, data_after: the parameter before the step, its grad, and its new value.
        quantities: the named numbers of the update in the order they are computed, each as
            ``(name, rule, value)``, such as ``("velocity", "momentum·velocity + g", 0.12)`` for SGD with
            momentum or m, v, m̂, v̂ for Adam (state before the step is listed first).
        rule: the update in symbols, such as ``p − lr·g``.
    """

    parameter: Value
    data_before: float
    grad: float
    data_after: float
    quantities: tuple[tuple[str, str, float], ...]
    rule: str


@dataclass(frozen=True, eq=False)
class StagedUpdate:
    """One optimiser step computed but not yet applied: every parameter's `ParameterUpdate`.

    `apply()` makes exactly these changes (parameter values and the optimiser's state) and counts the
    step; an optimiser's ``step()`` writes what ``staged_step().apply()`` does, bit for bit, so what
    a stepper shows is what a step does. Applying twice, or after the optimiser has moved on,
    raises RuntimeError.
    """

    optimizer: str
    lr: float
    updates: tuple[ParameterUpdate, ...]
    _apply: Callable[[], None] = field(repr=False)

    def apply(self) -> None:
        """Make the staged changes (all of them, at once)."""
        self._apply()


@runtime_checkable
class StagesUpdates(Protocol):
    """An optimiser that can compute its next step without applying it (``nn.SGD``, ``nn.Adam``)."""

    def staged_step(self) -> StagedUpdate:
        """The next step's per-parameter arithmetic; nothing changes until ``apply()``."""
        ...

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        ...


@dataclass(frozen=True)
class UpdateStep:
    """One step of the update phase: the optimiser's arithmetic for one parameter.

    Attributes:
        index: 1, 2, 3, ... in the optimiser's parameter order.
        node_number: the parameter's position in ``topological_order(root)``, or -1 if the loss does
            not use it (its grad is 0; the optimiser may still move it, e.g. with momentum).
        update: the `ParameterUpdate` the optimiser staged.
        optimizer, lr: the optimiser's class name and the learning rate of this step.
    """

    index: int
    node_number: int
    update: ParameterUpdate
    optimizer: str
    lr: float

    phase: Literal["update"] = field(default="update", init=False)


@dataclass(frozen=True)
class AfterStep:
    """The end of the timeline: the loss computed again with the updated parameters.

    Attributes:
        loss_before, loss_after: the loss's value before and after the update.
        root: the new loss Value (a new graph, built by calling the loss function again).
    """

    loss_before: float
    loss_after: float
    root: Value

    phase: Literal["after"] = field(default="after", init=False)
    index: int = field(default=0, init=False)


TrainingStep = ForwardStep | ChainRuleStep | UpdateStep | AfterStep


def training_step_steps(
    loss: Value | Callable[[], Value],
    optimizer: StagesUpdates | None = None,
    *,
    accumulate: bool = False,
    include_forward: bool = True,
    commit: bool = True,
) -> Iterator[TrainingStep]:
    """One whole training step, one small step at a time: forward, seed, backward, update, after.

    Yields, in order:

    * forward: a `ForwardStep` per computed node, in topological order (with ``include_forward``);
    * seed: the `ChainRuleStep` setting d loss / d loss = 1;
    * backward: a `ChainRuleStep` per edge, exactly as `chain_rule_steps`;
    * update (with an optimiser): an `UpdateStep` per parameter with the optimiser's own arithmetic
      and state (``optimizer.staged_step()``, the code its ``step()`` runs);
    * after (with an optimiser): an `AfterStep` with the loss computed again after the update.

    Every record has a ``phase``: ``"forward"``, ``"seed"``, ``"backward"``, ``"update"``, ``"after"``.

    Args:
        loss: the loss Value, or a function that builds it (``lambda: loss_of(model, x, y)``). With an
            optimiser it must be a function: it is called again after the update for the new loss.
        optimizer: anything with ``staged_step()`` (`StagesUpdates`), such as ``nn.SGD`` or ``nn.Adam``.
        accumulate: False (the default) zeroes every leaf's grad first (and the optimiser's
            ``zero_grad()``), so the backward pass is a fresh one and ends exactly where
            ``zero_grad(); loss.backward()`` ends, whatever grads the graph held. True keeps the
            leaves' grads and adds to them, as a second ``backward()`` would.
        include_forward: False leaves the forward steps out.
        commit: True (the default) applies the update, so the parameters and the optimiser's state
            end as after ``optimizer.step()``. False shows the update but leaves the parameters and the
            optimiser as they were (the new loss is computed with the new values, then they are put back).

    A loss function is called once right away (to build the graph); then, like `chain_rule_steps`,
    the grads change as you step, and the update is applied (with ``commit``) once the last update
    step has been taken. Stopping early leaves a half-finished pass and no update.
    """
    caller = "training_step_steps"
    if optimizer is not None and not isinstance(optimizer, StagesUpdates):
        raise TypeError(
            f"{caller}: optimizer must have staged_step() (nn.SGD, nn.Adam, ...), "
            f"got {type(optimizer).__name__}"
        )
    if isinstance(loss, Value):
        if optimizer is not None:
            raise TypeError(
                f"{caller}: with an optimizer, pass the loss as a function that builds it (such as "
                "lambda: loss_of(model, x, y)), so it can be computed again after the update; got a Value"
            )
        loss_fn = None
        root = loss
    elif callable(loss):
        loss_fn = loss
        root = _call_loss(loss_fn, caller)
    else:
        raise TypeError(
            f"{caller}: loss must be a Value or a function returning one, got {type(loss).__name__}"
        )
    return _training_step_steps(root, loss_fn, optimizer, accumulate, include_forward, commit)


def _call_loss(loss_fn: Callable[[], Value], caller: str) -> Value:
    result = loss_fn()
    if not isinstance(result, Value):
        raise TypeError(f"{caller}: the loss function must return a Value, got {type(result).__name__}")
    return result


def _training_step_steps(
    root: Value,
    loss_fn: Callable[[], Value] | None,
    optimizer: StagesUpdates | None,
    accumulate: bool,
    include_forward: bool,
    commit: bool,
) -> Iterator[TrainingStep]:
    if include_forward:
        yield from forward_steps(root)
    order = topological_order(root)
    if not accumulate:
        if optimizer is not None:
            optimizer.zero_grad()  # also parameters this loss does not use, as a training loop would
        for node in order:
            if not node.children:
                node.grad = 0.0
    yield from chain_rule_steps(root, include_seed=True)
    if optimizer is None or loss_fn is None:
        return
    staged = optimizer.staged_step()
    number_of = {node: number for number, node in enumerate(order)}
    for index, update in enumerate(staged.updates, start=1):
        number = number_of.get(update.parameter, -1)
        yield UpdateStep(index, number, update, staged.optimizer, staged.lr)
    if commit:
        staged.apply()
        new_root = _call_loss(loss_fn, "training_step_steps")
    else:
        saved = [(update.parameter, update.parameter.data) for update in staged.updates]
        try:
            for update in staged.updates:
                update.parameter.data = update.data_after
            new_root = _call_loss(loss_fn, "training_step_steps")
        finally:
            for parameter, data in saved:
                parameter.data = data
    yield AfterStep(root.data, new_root.data, new_root)
