"""Hypothesis strategies: random straight-line programs over a few inputs, with reuse.

A `Program` is a list of instructions; each reads any earlier result (inputs included), so programs
exercise fan-out, `x*x`, `x/x` and deep chains. `run_program` interprets one program with any
"backend" (gradstep Values, plain floats, torch tensors), so the very same computation can be
checked against finite differences and against PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

import autograd
from autograd import Value

UNARY = ("neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos")
BINARY = ("add", "sub", "mul", "div", "vpow")
WITH_CONSTANT = ("add_c", "c_sub", "mul_c", "c_div", "pow", "rpow")
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
        if op == "add":
            return args[0] + args[1]
        if op == "sub":
            return args[0] - args[1]
        if op == "mul":
            return args[0] * args[1]
        if op == "div":
            return args[0] / args[1]
        if op == "vpow":
            return args[0] ** args[1]
        if op == "add_c":
            return args[0] + c
        if op == "c_sub":
            return c - args[0]
        if op == "mul_c":
            return c * args[0]
        if op == "c_div":
            return c / args[0]
        if op == "pow":
            return args[0] ** c
        if op == "rpow":
            return c ** args[0]
        if op == "neg":
            return -args[0]
        if op == "abs":
            return abs(args[0])
        if op == "sum":
            return self.sum(args)
        if op == "dot":
            half = len(args) // 2
            return self.dot(args[:half], args[half:])
        return self.function(op, args[0])

    def sum(self, args: Sequence[Any]) -> Any:
        if self.torch is not None:
            return self.torch.stack(list(args)).sum()
        return autograd.vsum(args)

    def dot(self, ws: Sequence[Any], xs: Sequence[Any]) -> Any:
        if self.torch is not None:
            return (self.torch.stack(list(ws)) * self.torch.stack(list(xs))).sum()
        return autograd.dot(ws, xs)

    def function(self, name: str, x: Any) -> Any:
        if self.torch is not None:
            return getattr(self.torch, name)(x)
        return getattr(x, name)()


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
        if ins.op in ("relu", "abs"):
            assume(abs(first) > 1e-3)
        if ins.op in ("log", "sqrt") or (ins.op == "pow" and not float(ins.constant).is_integer()):
            assume(first > 1e-2)
        if ins.op == "vpow":
            assume(first > 1e-2 and abs(args[1].data) < 10)
        if ins.op == "div":
            assume(abs(args[1].data) > 1e-2)
        if ins.op == "c_div" or (ins.op == "pow" and ins.constant < 0):
            assume(abs(first) > 1e-2)
        try:
            result = backend.apply(ins, args)
        except (ValueError, ArithmeticError):
            assume(False)
        assume(math.isfinite(result.data) and abs(result.data) < 1e4)
        values.append(result)
    return leaves, values[-1]
