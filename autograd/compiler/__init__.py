"""Compile a traced graph to straight-line Python: the code backprop derived, at hand-written speed.

    from autograd import Value, compile

    def cost(w, b, x, y):
        a = (w * x + b).sigmoid()
        return (y - a) ** 2 / 2

    step = compile(cost, [Value(0.6, "w"), Value(0.9, "b"), Value(1.0, "x"), Value(0.0, "y")])
    print(step.source)                      # readable Python, one line per operation
    value, grads = step(0.6, 0.9, 1.0, 0.0)  # grads == {"w": ..., "b": ..., "x": ..., "y": ...}

`compile` runs the function ONCE on the given leaf Values, walks the graph it built, and writes a
Python function with one line per operation for the forward pass and, for the backward pass, one
line per node that sums its incoming edges (local derivative × the parent's grad) in exactly the
order `Value.backward()` adds them. Each line is written from the op's own definition in the
registry (`autograd.OPS`: its code templates repeat the eager op's float operations one for one),
and each node's structure from what the node recorded (`Value.params`: `dot`'s operands, `vsum`'s
terms, the constant of ``x ** 3``), so the compiled function returns bit-for-bit the numbers the
eager graph gives, for any inputs that take the same path through the Python code. `compile`
checks that at the traced inputs before it returns, and never changes its inputs.

What cannot be compiled: Python control flow that depends on the data. Tracing records the
operations one run performed; an ``if`` or a loop whose decision looked at a traced value would be
frozen into the branch seen while tracing. Branches *inside* an op (relu, abs, max, sigmoid,
softplus, the special cases of ``**``) are fine: they are written out as code and re-decided on
every call; `autograd.vmax`, `logsumexp`, `softmax` and the losses built on them choose with such
ops. Comparisons (``<`` ``<=`` ``>`` ``>=``, so also ``max(values)``, ``sorted``) and ``float()``
of a value that depends on the inputs are detected while tracing and raise `TracingError`.
Reading ``.data`` cannot be seen: numbers read that way are baked in as constants (the compiled
code is then the frozen-numbers program). Pass ``check_inputs`` (a second set of input values):
`compile` traces again there and raises `TracingError` if the program or its results differ.
Leaf Values the output uses that are not among the inputs are an error unless
``freeze_leaves=True`` bakes them in as constants.

Batched mode (`CompiledFunction.batched`, needs NumPy: ``pip install numpy``) evaluates
a second, vectorised variant of the same code with one array entry per example, branches turned
into ``numpy.where``, and sums or averages the gradients over the batch.

Layered mode (`CompiledFunction.layered`, also NumPy) runs the graph by families of nodes instead of
by node: a layer's `dot` nodes as one matrix product, each elementwise family as one array
operation over (batch × units), parameters and gradients as one array each (see `layers`). Its
numbers match the eager loop to ~1e-15 relative; `nn.BatchedStep` trains an MLP with it.

The package: `trace` (running the function, watching data reads), `graph` (reading the records),
`codegen` (writing code from the templates), `comments` (the derivative formulas), `batched`,
`layers` (the layer-structured batch path).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from ..engine import Value, topological_order
from . import codegen
from .batched import REDUCTIONS, BatchResult, evaluate, numpy_namespace, require_numpy
from .comments import formula_comments
from .graph import Graph, identifier
from .layers import LayeredFunction, LayeredResult
from .trace import TracingError, describe_node, trace_once

__all__ = [
    "REDUCTIONS",
    "BatchResult",
    "CompiledFunction",
    "CompiledResult",
    "LayeredFunction",
    "LayeredResult",
    "TracingError",
    "compile",
]


class CompiledResult(NamedTuple):
    """The output of a compiled function and d(output)/d(input) for every input, by input name."""

    value: float
    grads: dict[str, float]


def _input_keys(inputs: Sequence[Value]) -> tuple[str, ...]:
    keys: list[str] = []
    used: set[str] = set()
    for index, node in enumerate(inputs):
        wanted = node.label or f"x{index}"
        key, suffix = wanted, 2
        while key in used:
            key = f"{wanted}#{suffix}"
            suffix += 1
        used.add(key)
        keys.append(key)
    return tuple(keys)


class CompiledFunction:
    """A traced function compiled to straight-line Python. Made by `autograd.compile`.

    Calling it with new input values (floats, in input order, or one mapping by input name)
    returns ``CompiledResult(value, grads)``, the output and d(output)/d(input) by input name, bit
    for bit what the eager graph computes. `function` is the generated function itself (floats in,
    ``(output, tuple of grads)`` out, no checks): the fastest way to call it in a loop.
    `source` is its readable code; `batched` evaluates a vectorised variant over many examples.

    `input_names` are the arguments in order; `grad_names` the inputs whose gradients are
    returned (all of them unless `compile` was given `wrt`), in the same order as the arguments.
    """

    def __init__(self, graph: Graph, function_name: str, input_keys: tuple[str, ...]) -> None:
        self._graph = graph
        self.name = function_name
        self.input_names = input_keys
        wrt = set(graph.wrt)
        self._grad_positions = [index for index, node in enumerate(graph.inputs) if node in wrt]
        self.grad_names = tuple(input_keys[index] for index in self._grad_positions)
        self.operation_count = graph.operation_count
        self._comments = formula_comments(graph)
        self.source: str = codegen.generate(graph, function_name, codegen.SCALAR, self._comments)
        self.function: Callable[..., tuple[float, tuple[float, ...]]] = codegen.build(
            self.source, function_name, codegen.scalar_namespace()
        )
        self._batched_source: str | None = None
        self._batched_function: Callable[..., Any] | None = None
        self._batched_careful_function: Callable[..., Any] | None = None
        self._careful_function: Callable[..., tuple[float, tuple[float, ...]]] | None = None
        self._layered: dict[tuple[str, ...], LayeredFunction] = {}

    def evaluate(self, values: Sequence[float]) -> tuple[float, tuple[float, ...]]:
        """(output, grads in input order) at `values` (floats, unchecked): what `__call__` returns
        after its checks. The generated `function` runs first; if one of its gradients is not finite,
        its careful variant (see `codegen.CAREFUL`) is run instead, which differs from it only where an
        inf or NaN upstream grad meets a zero local derivative (0 × inf is 0, as in `backward()`)."""
        output, grads = self.function(*values)
        if all(map(math.isfinite, grads)):
            return output, grads
        if self._careful_function is None:
            source = codegen.generate(self._graph, self.name, codegen.CAREFUL, {})
            self._careful_function = codegen.build(source, self.name, codegen.scalar_namespace())
        return self._careful_function(*values)

    def __repr__(self) -> str:
        return (
            f"<CompiledFunction {self.name}: {self.operation_count} operations, "
            f"inputs {list(self.input_names)[:6]}{'...' if len(self.input_names) > 6 else ''}>"
        )

    @property
    def batched_source(self) -> str:
        """The NumPy variant's code: the same lines, with branches written as ``numpy.where``."""
        if self._batched_source is None:
            self._batched_source = codegen.generate(self._graph, self.name, codegen.BATCHED, self._comments)
        return self._batched_source

    def _floats(self, args: tuple[Any, ...]) -> list[float]:
        if len(args) == 1 and isinstance(args[0], Mapping):
            by_name = args[0]
            missing = [name for name in self.input_names if name not in by_name]
            extra = [name for name in by_name if name not in self.input_names]
            if missing or extra:
                raise ValueError(
                    f"{self.name}: the mapping must hold exactly the inputs {list(self.input_names)}; "
                    f"missing {missing}, unexpected {extra}"
                )
            args = tuple(by_name[name] for name in self.input_names)
        if len(args) != len(self.input_names):
            raise TypeError(f"{self.name}: expected {len(self.input_names)} input values, got {len(args)}")
        values = []
        for name, value in zip(self.input_names, args):
            if type(value) is not float:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(f"{self.name}: input {name!r} must be a number, got {value!r}")
                value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{self.name}: input {name!r} must be finite, got {value!r}")
            values.append(value)
        return values

    def __call__(self, *args: Any) -> CompiledResult:
        """Evaluate at new inputs: ``f(0.6, 0.9, 1.0, 0.0)`` or ``f({"w": 0.6, ...})``."""
        try:
            output, grads = self.evaluate(self._floats(args))
        except OverflowError:
            output, grads = math.inf, ()
        if not math.isfinite(output):
            raise OverflowError(
                f"{self.name}: the output is {output!r}; an operation overflowed (the eager graph "
                "raises at the operation; run it eagerly to see which)"
            )
        return CompiledResult(output, dict(zip(self.grad_names, grads)))

    def batched(self, *args: Any, reduction: str = "sum") -> BatchResult:
        """Evaluate over a batch: each input is a number (shared by every example, e.g. a weight)
        or a 1-D sequence/array with one entry per example (e.g. a data feature).

        Gradients are reduced as `reduction` says: "sum" (of the per-example outputs), "mean", or
        "none" (one entry per example). Results match the eager per-example loop to ~1e-15
        relative (NumPy's exp, log, ... may differ from math's in the last bit).
        """
        if self._batched_function is None:
            np = require_numpy()
            self._batched_function = codegen.build(self.batched_source, self.name, numpy_namespace(np))
        return evaluate(
            self._batched_function,
            self._careful_batched_function,
            self.name,
            self.input_names,
            self.grad_names,
            self._grad_positions,
            args,
            reduction,
        )

    def _careful_batched_function(self) -> Callable[..., Any]:
        """The batched code's careful variant (0 × inf is 0, as in `backward()`), built when needed."""
        if self._batched_careful_function is None:
            source = codegen.generate(self._graph, self.name, codegen.BATCHED_CAREFUL, {})
            namespace = numpy_namespace(require_numpy())
            self._batched_careful_function = codegen.build(source, self.name, namespace)
        return self._batched_careful_function

    def layered(self, data: Sequence[str] = ()) -> LayeredFunction:
        """The graph run by layers over a batch: `data` names the per-example inputs (their values
        come as the columns of one 2-D array), every other input is shared (a parameter, given
        in one 1-D array). Same-op nodes over operands from the same groups run as one NumPy
        operation, a layer's `dot` nodes as one matrix product; see `autograd.compiler.layers`.

            fast = step.layered(data=[*pixel_names, *target_names])
            result = fast(theta, batch, reduction="mean")  # result.grad: one array, by grad_names
        """
        key = tuple(data)
        if key not in self._layered:
            self._layered[key] = LayeredFunction(self._graph, self.name, self.input_names, key)
        return self._layered[key]


def _eager_results(root: Value, inputs: Sequence[Value]) -> tuple[float, list[float]]:
    """The output and input grads by the engine's own backward(), leaving every grad as it was."""
    order = topological_order(root)
    saved = [node.grad for node in order]
    saved_inputs = [node.grad for node in inputs]
    try:
        for node in inputs:
            node.grad = 0.0
        for node in order:
            if not node.children:
                node.grad = 0.0
        root.backward()
        return root.data, [node.grad for node in inputs]
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad
        for node, grad in zip(inputs, saved_inputs):
            node.grad = grad


def _same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _check_against_eager(compiled: CompiledFunction, root: Value, graph: Graph, caller: str) -> None:
    output, grads = compiled.evaluate([node.data for node in graph.inputs])
    eager_output, eager_grads = _eager_results(root, graph.wrt)
    mismatches = [
        f"{name}: compiled {got!r}, eager {want!r}"
        for name, got, want in zip(
            ("output", *compiled.grad_names), (output, *grads), (eager_output, *eager_grads)
        )
        if not _same_float(got, want) and not (math.isnan(got) and math.isnan(want))
    ]
    if mismatches:
        raise TracingError(
            f"{caller}: the compiled code does not reproduce the eager graph at the traced inputs "
            f"({'; '.join(mismatches[:3])}). An op's code templates in autograd.OPS disagree with "
            "its eager method; please report this as a gradstep bug."
        )


def _function_name(fn: Callable[..., Any]) -> str:
    name = identifier(getattr(fn, "__name__", "") or "", "compiled")
    return "compiled" if name == "lambda" else name


def compile(
    fn: Callable[..., Value],
    inputs: Sequence[Value],
    *,
    wrt: Sequence[Value] | None = None,
    check_inputs: Sequence[float] | None = None,
    freeze_leaves: bool = False,
) -> CompiledFunction:
    """Trace ``fn(*inputs)`` once and compile its graph to straight-line Python.

    Args:
        fn: builds a Value from the leaf Values it is given (it may also ignore its arguments
            and use the same Values from elsewhere, e.g. a model's parameters).
        inputs: the leaf Values the compiled function takes as arguments, in order. Their labels
            name the arguments, the source variables and the keys of the returned gradients
            (``"layers.0.neurons.2.b"`` becomes the variable ``layers_0_neurons_2_b``; an unlabelled
            input is ``x0``, ``x1``, ...). Their current data are the values traced with.
        wrt: the inputs to differentiate with respect to (default: all of them). Leaving out
            data inputs (a training example's features) skips the backward work for them.
        check_inputs: optional second set of input values: `fn` is traced again there and must give
            the same program, and the compiled code must match the eager graph there too. (The
            inputs hold these values during that trace and get their own back afterwards.)
        freeze_leaves: leaf Values that the output depends on but that are not `inputs` normally
            raise `TracingError`; with True their current data are baked in as constants.

    Returns:
        A `CompiledFunction`: call it with new floats to get the output and every input's gradient.

    Raises:
        TracingError: `fn` compared or float()-ed a value that depends on the inputs
            (data-dependent control flow), its program changed at `check_inputs`, or the graph
            holds something that cannot be reproduced exactly (a leaf outside `inputs`).

    Numbers are the same as the eager engine's for every input that takes the same path through
    `fn`'s Python code; see the module docstring for what that excludes.
    """
    caller = "compile"
    if not callable(fn):
        raise TypeError(f"{caller}: fn must be callable, got {fn!r}")
    if isinstance(inputs, Value) or not isinstance(inputs, Sequence):
        raise TypeError(f"{caller}: inputs must be a list of leaf Values, got {type(inputs).__name__}")
    inputs = list(inputs)
    for index, node in enumerate(inputs):
        if not isinstance(node, Value):
            raise TypeError(f"{caller}: input {index} must be a Value, got {node!r}")
        if node.children:
            raise ValueError(f"{caller}: input {index} ({describe_node(node)}) is not a leaf Value")
    if len(set(inputs)) != len(inputs):
        raise ValueError(f"{caller}: the same Value appears twice among the inputs")
    wrt_set = set(inputs) if wrt is None else _checked_wrt(wrt, inputs, caller)
    if check_inputs is not None and len(check_inputs) != len(inputs):
        raise ValueError(f"{caller}: check_inputs has {len(check_inputs)} values for {len(inputs)} inputs")
    keys = _input_keys(inputs)

    def traced() -> tuple[Value, Graph]:
        root = trace_once(fn, inputs, caller)
        return root, Graph(root, inputs, keys, wrt_set, freeze_leaves, caller)

    root, graph = traced()
    compiled = CompiledFunction(graph, _function_name(fn), keys)
    _check_against_eager(compiled, root, graph, caller)
    if check_inputs is not None:
        _retrace(traced, inputs, check_inputs, compiled, caller)
    return compiled


def _checked_wrt(wrt: Sequence[Value], inputs: list[Value], caller: str) -> set[Value]:
    if isinstance(wrt, Value) or not isinstance(wrt, Sequence):
        raise TypeError(f"{caller}: wrt must be a list of some of the inputs, got {type(wrt).__name__}")
    input_set = set(inputs)
    for index, node in enumerate(wrt):
        if node not in input_set:
            shown = describe_node(node) if isinstance(node, Value) else repr(node)
            raise ValueError(f"{caller}: wrt[{index}] ({shown}) is not one of the inputs")
    return set(wrt)


def _retrace(
    traced: Callable[[], tuple[Value, Graph]],
    inputs: list[Value],
    check_inputs: Sequence[float],
    compiled: CompiledFunction,
    caller: str,
) -> None:
    saved = [node.data for node in inputs]
    try:
        for node, value in zip(inputs, compiled._floats(tuple(check_inputs))):
            node.data = value
        root, graph = traced()
        if graph.fingerprint() != compiled._graph.fingerprint():
            first = codegen.generate(compiled._graph, compiled.name, codegen.SCALAR, {}).splitlines()
            second = codegen.generate(graph, compiled.name, codegen.SCALAR, {}).splitlines()
            where = next(
                (f"{a.strip()!r} became {b.strip()!r}" for a, b in zip(first, second) if a != b),
                f"{len(first)} lines became {len(second)}",
            )
            raise TracingError(
                f"{caller}: tracing at check_inputs gave a different program ({where}): the function's "
                "Python code depends on the data (an if, a loop, or a .data read), so it "
                "cannot be compiled."
            )
        _check_against_eager(compiled, root, graph, caller)
    finally:
        for node, value in zip(inputs, saved):
            node.data = value
