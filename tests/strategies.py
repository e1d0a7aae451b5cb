"""Hypothesis strategies: random straight-line programs over a few inputs, with reuse.

A `Program` is a list of instructions; each reads any earlier result (inputs included), so programs
exercise fan-out, `x*x`, `x/x` and deep chains. `run_program` interprets one program with any
"backend" (gradstep Values, plain floats, torch tensors), so the very same computation can be
checked against finite differences and against PyTorch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

import autograd
from autograd import Value


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a)) if a >= 0.0 else math.exp(a) / (1.0 + math.exp(a))


@dataclass(frozen=True)
class OpCase:
    """The one test row of a registered op: every registry-driven test reads it.

    build: makes one node of the op from its operands (Values; also torch tensors unless `torch`).
    points: operand values where the op is checked (away from kinks, so differences work).
    reference: the op's value on plain floats, by `math`, written independently of the engine.
    torch: the same op on torch tensors, when `build` does not work on them.
    zero_derivative: the local derivative is 0 by definition (stop_gradient): checked as such,
        not by finite differences, and left out of random programs.
    safe: operands far enough from the op's kinks and poles for finite differences (random programs).
    """

    build: Callable[..., Any]
    points: tuple[tuple[float, ...], ...]
    reference: Callable[..., float]
    torch: Callable[..., Any] | None = None
    zero_derivative: bool = False
    safe: Callable[..., bool] = lambda *operands: True


OP_CASES: dict[str, OpCase] = {
    "add": OpCase(lambda a, b: a + b, ((0.3, -1.2), (2.0, 5.0)), operator.add),
    "sub": OpCase(lambda a, b: a - b, ((0.3, -1.2), (2.0, 5.0)), operator.sub),
    "mul": OpCase(lambda a, b: a * b, ((0.3, -1.2), (-2.0, 5.0)), operator.mul),
    "div": OpCase(
        lambda a, b: a / b, ((0.3, -1.2), (2.0, 0.25)), operator.truediv, safe=lambda a, b: abs(b) > 1e-2
    ),
    # The number forms of the binary ops: a number operand recorded in the node (``x + 2``).
    "add_const": OpCase(lambda a: a + 2.5, ((0.3,), (-2.0,)), lambda a: a + 2.5),
    "radd_const": OpCase(lambda a: 2.5 + a, ((0.3,), (-2.0,)), lambda a: 2.5 + a),
    "sub_const": OpCase(lambda a: a - 2.5, ((0.3,), (-2.0,)), lambda a: a - 2.5),
    "rsub_const": OpCase(lambda a: 2.5 - a, ((0.3,), (-2.0,)), lambda a: 2.5 - a),
    "mul_const": OpCase(lambda a: a * -1.5, ((0.3,), (-2.0,)), lambda a: a * -1.5),
    "rmul_const": OpCase(lambda a: -1.5 * a, ((0.3,), (-2.0,)), lambda a: -1.5 * a),
    "div_const": OpCase(lambda a: a / 0.3, ((0.3,), (-2.0,)), lambda a: a / 0.3),
    "rdiv_const": OpCase(
        lambda a: 0.3 / a, ((0.3,), (-2.0,)), lambda a: 0.3 / a, safe=lambda a: abs(a) > 1e-2
    ),
    "max_const": OpCase(
        lambda a: a.max(0.25),
        ((0.7,), (-2.0,)),
        lambda a: a if a >= 0.25 else 0.25,
        torch=lambda a: __import__("torch").clamp(a, min=0.25),
        safe=lambda a: abs(a - 0.25) > 1e-3,
    ),
    "neg": OpCase(lambda a: -a, ((0.7,), (-3.0,)), operator.neg),
    "pow": OpCase(lambda a: a**3, ((0.7,), (-1.3,)), lambda a: a**3.0),
    "rpow": OpCase(lambda a: 2.0**a, ((0.7,), (-1.3,)), lambda a: 2.0**a),
    "vpow": OpCase(
        lambda a, b: a**b,
        ((0.7, 1.5), (2.5, -0.5)),
        lambda a, b: a**b,
        safe=lambda a, b: a > 1e-2 and abs(b) < 10,
    ),
    "exp": OpCase(lambda a: a.exp(), ((0.7,), (-3.0,)), math.exp),
    "log": OpCase(lambda a: a.log(), ((0.7,), (30.0,)), math.log, safe=lambda a: a > 1e-2),
    "sqrt": OpCase(lambda a: a.sqrt(), ((0.7,), (30.0,)), math.sqrt, safe=lambda a: a > 1e-2),
    "tanh": OpCase(lambda a: a.tanh(), ((0.7,), (-2.0,)), math.tanh),
    "sigmoid": OpCase(lambda a: a.sigmoid(), ((0.7,), (-4.0,)), _sigmoid),
    "softplus": OpCase(
        lambda a: a.softplus(),
        ((0.7,), (-4.0,), (35.0,)),
        lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a))),
        torch=lambda a: __import__("torch").nn.functional.softplus(a),
    ),
    "relu": OpCase(
        lambda a: a.relu(), ((0.7,), (-2.0,)), lambda a: a if a > 0.0 else 0.0, safe=lambda a: abs(a) > 1e-3
    ),
    "abs": OpCase(lambda a: abs(a), ((0.7,), (-2.0,)), abs, safe=lambda a: abs(a) > 1e-3),
    "sin": OpCase(lambda a: a.sin(), ((0.7,), (-2.0,)), math.sin),
    "cos": OpCase(lambda a: a.cos(), ((0.7,), (-2.0,)), math.cos),
    "max": OpCase(
        lambda a, b: a.max(b),
        ((0.3, -1.2), (2.0, 5.0)),
        lambda a, b: a if a >= b else b,
        torch=lambda a, b: __import__("torch").maximum(a, b),
        safe=lambda a, b: abs(a - b) > 1e-3,
    ),
    "stop_gradient": OpCase(
        lambda a: a.stop_gradient(),
        ((0.7,), (-2.0,)),
        lambda a: a,
        torch=lambda a: a.detach() + 0.0 * a,
        zero_derivative=True,
    ),
    "sum": OpCase(
        lambda a, b, c: autograd.vsum([a, b, c, 1.5]),
        ((0.7, -2.0, 3.0),),
        lambda a, b, c: a + b + c + 1.5,
        torch=lambda a, b, c: a + b + c + 1.5,
    ),
    "dot": OpCase(
        lambda a, b, c, d: autograd.dot([a, b], [c, d], bias=a),
        ((0.7, -2.0, 3.0, 0.5),),
        lambda a, b, c, d: a * c + b * d + a,
        torch=lambda a, b, c, d: a * c + b * d + a,
    ),
}

# The ops random programs use, straight from the registry: one operand or two, no recorded constant.
UNARY = tuple(
    name
    for name, spec in autograd.OPS.items()
    if spec.arity == 1 and spec.params_kind == "none" and not OP_CASES[name].zero_derivative
)
BINARY = tuple(name for name, spec in autograd.OPS.items() if spec.arity == 2)
# One Value and a number recorded in the node, written as Python writes them (the same expression
# on Values, floats and tensors; the Values backend reaches the registered op through the operator).
NUMBER_FORMS: dict[str, Callable[[Any, float], Any]] = {
    "add_const": lambda a, c: a + c,
    "radd_const": lambda a, c: c + a,
    "sub_const": lambda a, c: a - c,
    "rsub_const": lambda a, c: c - a,
    "mul_const": lambda a, c: a * c,
    "rmul_const": lambda a, c: c * a,
    "div_const": lambda a, c: a / c,
    "rdiv_const": lambda a, c: c / a,
    "pow": lambda a, c: a**c,
    "rpow": lambda a, c: c**a,
}
WITH_CONSTANT = (*NUMBER_FORMS, "max_const")
assert set(WITH_CONSTANT) == {n for n, spec in autograd.OPS.items() if spec.params_kind == "constant"}
NARY = ("sum", "dot")
CONSTANTS = (-1.5, -0.5, 0.25, 1.0, 2.0, 3.0)
EXPONENTS = (-1.0, 0.5, 1.5, 2.0, 3.0)
BASES = (0.5, 2.0, 3.0)


@dataclass(frozen=True)
class Instruction:
    op: str
    operands: tuple[int, ...]
    constant: float | None = None


@dataclass(frozen=True)
class Program:
    inputs: tuple[float, ...]
    instructions: tuple[Instruction, ...]

    def __str__(self) -> str:
        names = [f"x{i}" for i in range(len(self.inputs))]
        lines = [f"x{i} = {v!r}" for i, v in enumerate(self.inputs)]
        for k, ins in enumerate(self.instructions):
            name = f"t{k}"
            args = ", ".join(names[i] for i in ins.operands)
            extra = f", c={ins.constant!r}" if ins.constant is not None else ""
            lines.append(f"{name} = {ins.op}({args}{extra})")
            names.append(name)
        return "\n".join(lines)


@st.composite
def programs(draw: Callable[..., Any], max_inputs: int = 4, max_ops: int = 10) -> Program:
    n_inputs = draw(st.integers(1, max_inputs))
    inputs = tuple(
        draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=n_inputs, max_size=n_inputs))
    )
    instructions = []
    for k in range(draw(st.integers(1, max_ops))):
        available = n_inputs + k
        # Prefer recent results so programs are deep, while any earlier result stays reachable.
        index = st.one_of(st.integers(max(0, available - 3), available - 1), st.integers(0, available - 1))
        kind = draw(st.sampled_from(("unary", "binary", "constant", "nary")))
        if kind == "unary":
            instructions.append(Instruction(draw(st.sampled_from(UNARY)), (draw(index),)))
        elif kind == "binary":
            instructions.append(Instruction(draw(st.sampled_from(BINARY)), (draw(index), draw(index))))
        elif kind == "constant":
            op = draw(st.sampled_from(WITH_CONSTANT))
            pool = EXPONENTS if op == "pow" else BASES if op == "rpow" else CONSTANTS
            instructions.append(Instruction(op, (draw(index),), draw(st.sampled_from(pool))))
        else:
            op = draw(st.sampled_from(NARY))
            size = draw(st.integers(1, 4))
            count = size * 2 if op == "dot" else size
            operands = tuple(draw(index) for _ in range(count))
            instructions.append(Instruction(op, operands))
    return Program(inputs, tuple(instructions))


class Backend:
    """How to apply each instruction to a backend's numbers."""

    def __init__(self, module: Any = None) -> None:
        self.torch = module

    def apply(self, ins: Instruction, args: Sequence[Any]) -> Any:
        c = ins.constant
        op = ins.op
        if op in NUMBER_FORMS:
            return NUMBER_FORMS[op](args[0], c)
        if op == "max_const":
            if self.torch is not None:
                return self.torch.clamp(args[0], min=c)
            return args[0].max(c) if isinstance(args[0], Value) else (args[0] if args[0] >= c else c)
        if op == "sum":
            return self.sum(args)
        if op == "dot":
            half = len(args) // 2
            return self.dot(args[:half], args[half:])
        if self.torch is not None:
            case = OP_CASES[op]
            return (case.torch or case.build)(*args)
        return autograd.OPS[op].function(*args)  # type: ignore[misc]

    def sum(self, args: Sequence[Any]) -> Any:
        if self.torch is not None:
            return self.torch.stack(list(args)).sum()
        return autograd.vsum(args)

    def dot(self, ws: Sequence[Any], xs: Sequence[Any]) -> Any:
        if self.torch is not None:
            return (self.torch.stack(list(ws)) * self.torch.stack(list(xs))).sum()
        return autograd.dot(ws, xs)


def run_program(program: Program, leaves: Sequence[Any], backend: Backend) -> Any:
    values = list(leaves)
    for ins in program.instructions:
        values.append(backend.apply(ins, [values[i] for i in ins.operands]))
    return values[-1]


def build_checked(program: Program) -> tuple[list[Value], Value]:
    """Run `program` on fresh leaves, rejecting (via `assume`) programs that are unfit for
    finite differences: domain errors, huge values, or an operand near a kink or a pole."""
    leaves = [Value(x, f"x{i}") for i, x in enumerate(program.inputs)]
    values: list[Value] = list(leaves)
    backend = Backend()
    for ins in program.instructions:
        args = [values[i] for i in ins.operands]
        first = args[0].data
        if ins.op in OP_CASES:
            assume(OP_CASES[ins.op].safe(*(arg.data for arg in args)))
        if ins.op == "pow" and not float(ins.constant).is_integer():
            assume(first > 1e-2)
        if ins.op == "rdiv_const" or (ins.op == "pow" and ins.constant < 0):
            assume(abs(first) > 1e-2)
        if ins.op == "max_const":
            assume(abs(first - ins.constant) > 1e-3)
        try:
            result = backend.apply(ins, args)
        except (ValueError, ArithmeticError):
            assume(False)
        assume(math.isfinite(result.data) and abs(result.data) < 1e4)
        values.append(result)
    return leaves, values[-1]
