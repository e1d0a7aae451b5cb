"""Forward mode: jvp, forward_tangents and tangent_steps (which check each other bit for bit)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.derivatives import grad
from autograd.forward import forward_tangents, jvp, tangent_steps
from tests.strategies import Backend, build_checked, programs, run_program


@settings(max_examples=60, deadline=None)
@given(programs())
def test_jvp_along_each_basis_vector_is_the_gradient_entry(program):
    leaves, out = build_checked(program)
    gradient = grad(out, leaves)
    n = len(leaves)
    for i in range(n):
        basis = [1.0 if k == i else 0.0 for k in range(n)]
        value, directional = jvp(lambda xs: run_program(program, xs, Backend()), list(program.inputs), basis)
        assert value == out.data
        assert directional == pytest.approx(gradient[i], rel=1e-12, abs=1e-300)


@settings(max_examples=40, deadline=None)
@given(programs())
def test_tangent_steps_repeat_the_sweep_bit_for_bit(program):
    leaves, out = build_checked(program)
    seeds = {leaf: 0.5 + k for k, leaf in enumerate(leaves)}
    swept = forward_tangents(out, seeds)
    steps = list(tangent_steps(out, seeds))
    last: dict[Value, float] = {}
    for step in steps:
        assert step.contribution == step.local_grad * step.child_tangent
        last[step.node] = step.node_tangent_after
    for node, tangent in last.items():
        assert swept[node] == tangent


def test_single_op_jvp_equals_its_local_derivative_bit_for_bit():
    value, directional = jvp(lambda xs: xs[0].tanh(), [0.7], [1.0])
    t = math.tanh(0.7)
    assert (value, directional) == (t, (1.0 - t) * (1.0 + t))


def test_lecture_neuron_steps():
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    steps = list(tangent_steps(o, {w1: 1.0}, include_seed=True))
    assert steps[0].kind == "seed" and steps[-1].node is o
    assert steps[-1].node_tangent_after == pytest.approx(grad(o, [w1])[0], rel=1e-15)


def test_errors_name_the_problem():
    x = Value(1.0)
    with pytest.raises(ValueError, match="2 tangents for 1 values"):
        jvp(lambda xs: xs[0], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        forward_tangents(x * 2, {x: math.inf})
    with pytest.raises(ValueError, match="only leaves"):
        forward_tangents(x * 2, {x * 3: 1.0})
    with pytest.raises(TypeError, match="must return a Value"):
        jvp(lambda xs: 1.0, [1.0], [1.0])  # type: ignore[arg-type,return-value]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # inside torch.func
@settings(max_examples=60, deadline=None)
@given(programs(), st.data())
def test_jvp_matches_torch_func_jvp(torch, program, data):
    leaves, out = build_checked(program)
    n = len(leaves)
    tangents = data.draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=n, max_size=n), "tangents")
    value, slope = jvp(lambda xs: run_program(program, xs, Backend()), list(program.inputs), tangents)

    def torch_program(x):
        return run_program(program, list(x.unbind()), Backend(torch))

    point = torch.tensor(program.inputs, dtype=torch.float64)
    direction = torch.tensor(tangents, dtype=torch.float64)
    t_value, t_slope = torch.func.jvp(torch_program, (point,), (direction,))
    assert value == out.data
    assert value == pytest.approx(float(t_value), rel=1e-12, abs=1e-300)
    assert slope == pytest.approx(float(t_slope), rel=1e-9, abs=1e-12)
