"""Stable composites: correct values and gradients, no overflow for finite input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import (
    Value,
    check_grads,
    log_sigmoid,
    log_softmax,
    logsumexp,
    softmax,
    softplus,
    topological_order,
    vmax,
)

finite = st.floats(-50, 50, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=6))
def test_logsumexp_value_and_gradient(xs):
    values = [Value(x) for x in xs]
    out = logsumexp(values)
    m = max(xs)
    assert out.data == pytest.approx(m + math.log(sum(math.exp(x - m) for x in xs)), rel=1e-12, abs=1e-12)
    check_grads(lambda *vs: logsumexp(vs), values, rtol=1e-5, atol=1e-7)


@given(st.lists(finite, min_size=1, max_size=6))
def test_softmax_sums_to_one_and_gradchecks(xs):
    values = [Value(x) for x in xs]
    probs = softmax(values)
    assert sum(p.data for p in probs) == pytest.approx(1.0, rel=1e-12)
    check_grads(lambda *vs: softmax(vs)[0] * 2.0 + softmax(vs)[-1], values, atol=1e-7)


def test_no_overflow_for_huge_inputs():
    assert logsumexp([Value(1000.0), Value(1000.0)]).data == pytest.approx(1000.0 + math.log(2.0))
    assert [p.data for p in softmax([Value(-1000.0), Value(1000.0)])] == [0.0, 1.0]
    assert log_softmax([Value(-1000.0), Value(1000.0)])[0].data == pytest.approx(-2000.0)
    assert softplus(Value(1000.0)).data == 1000.0
    assert softplus(Value(-1000.0)).data == 0.0
    assert log_sigmoid(Value(-1000.0)).data == -1000.0


@pytest.mark.parametrize("x", [-30.0, -2.0, -1e-9, 0.0, 1e-9, 2.0, 30.0])
def test_softplus_gradient_is_sigmoid_everywhere_including_zero(x):
    v = Value(x)
    out = softplus(v)
    out.backward()
    assert v.grad == pytest.approx(1.0 / (1.0 + math.exp(-x)), rel=1e-12)
    assert out.data == pytest.approx(math.log1p(math.exp(x)), rel=1e-12)


@pytest.mark.parametrize("x", [-5.0, 0.0, 3.0])
def test_log_sigmoid_gradchecks(x):
    check_grads(lambda v: log_sigmoid(v), [Value(x)])


def test_vmax_passes_the_gradient_to_the_largest():
    a, b, c = Value(1.0), Value(5.0), Value(5.0)
    out = vmax([a, b, c])
    assert out.op == "max" and out.data == 5.0  # the choice is a node, so compile can make it again
    (out * 3).backward()
    assert (a.grad, b.grad, c.grad) == (0.0, 3.0, 0.0)  # the first of the tied largest
    single = Value(2.0)
    assert vmax([single]) is single


def test_the_choices_inside_the_composites_are_ops_not_reads_of_data():
    # Every data-dependent choice is made by an op (max, softplus), so a trace sees no data read.
    values = [Value(0.5), Value(-1.0), Value(2.0)]
    for out in (logsumexp(values), softmax(values)[0], log_softmax(values)[1], softplus(values[0])):
        ops = {node.op for node in topological_order(out)}
        assert ops & {"max", "softplus"}, ops
    m = logsumexp(values).children[1]  # log(...) + m: the shift is a stop_gradient of the max
    assert m.op == "stop_gradient" and m.children[0].op == "max"


def test_numbers_are_accepted_and_empty_is_an_error():
    assert logsumexp([0.0, Value(0.0)]).data == pytest.approx(math.log(2.0))
    with pytest.raises(ValueError, match="logsumexp: needs at least one value"):
        logsumexp([])
    with pytest.raises(TypeError, match="softmax: unsupported operand 'x'"):
        softmax(["x"])


@pytest.mark.torch
@given(st.lists(finite, min_size=2, max_size=5))
def test_softmax_and_logsumexp_match_pytorch(torch, xs):
    values = [Value(x) for x in xs]
    out = logsumexp(values) + log_softmax(values)[0] * 0.5
    out.backward()
    t = torch.tensor(xs, requires_grad=True)
    expected = torch.logsumexp(t, 0) + torch.log_softmax(t, 0)[0] * 0.5
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    assert [v.grad for v in values] == pytest.approx(t.grad.tolist(), rel=1e-9, abs=1e-12)
