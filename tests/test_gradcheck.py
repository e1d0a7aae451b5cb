"""Gradient checking as a user feature: reports, mismatch errors, no side effects."""

from __future__ import annotations

import math

import pytest

from autograd import GradientMismatchError, Value, check_grads, numerical_grad


def test_numerical_grad_of_a_smooth_function():
    x, y = Value(0.5, "x"), Value(-1.5, "y")
    grads = numerical_grad(lambda x, y: x * y + x.exp(), [x, y])
    assert grads == pytest.approx([-1.5 + math.exp(0.5), 0.5], rel=1e-8)
    assert (x.data, y.data) == (0.5, -1.5)  # restored


def test_report_lists_every_input():
    x, y = Value(0.3, "x"), Value(-1.2)
    report = check_grads(lambda x, y: (x * y).tanh() + x**2, [x, y])
    assert report.ok
    assert [e.index for e in report.entries] == [0, 1]
    assert report.entries[0].label == "x"
    assert report.max_rel_error < 1e-8
    assert report.relative_difference < 1e-9
    text = str(report)
    assert "'x'" in text and "#1" in text and "all agree" in text


def test_mismatch_raises_with_both_numbers_for_every_failing_input():
    def wrong(x, y):
        # relu at its kink: backprop takes the slope 0, the central difference sees 0.5
        return x.relu() + y.relu() + (x * 0.0 + 1.0)

    x, y = Value(0.0, "x"), Value(0.0, "y")
    with pytest.raises(GradientMismatchError) as caught:
        check_grads(wrong, [x, y])
    message = str(caught.value)
    assert "2 of 2 gradients disagree" in message
    assert "input 'x': backprop 0.0, central difference 0.49999" in message
    assert "input 'y': backprop 0.0, central difference 0.49999" in message
    assert not caught.value.report.ok
    assert isinstance(caught.value, AssertionError)


def test_mismatch_can_be_reported_without_raising():
    x = Value(0.0, "x")
    report = check_grads(lambda x: x.relu(), [x], raise_on_mismatch=False)
    assert not report.ok
    assert report.mismatches[0].numeric == pytest.approx(0.5)
    assert "MISMATCH" in str(report)


def test_check_grads_restores_leaf_grads_and_data():
    x, w = Value(0.3, "x"), Value(2.0, "w")
    x.grad, w.grad = 7.0, -3.0
    check_grads(lambda x: x * w, [x])
    assert (x.grad, w.grad) == (7.0, -3.0)
    assert x.data == 0.3


def test_ng_relative_difference_on_a_deliberately_wrong_gradient():
    # x**2 with a 1% error injected by using the wrong input: relative difference is large
    x = Value(1.0)
    report = check_grads(lambda x: x * x, [x], eps=1e-4)
    assert report.relative_difference < 1e-9
    bad = report.entries[0]
    assert bad.analytic == 2.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: check_grads(lambda x: x, [1.0]),
            TypeError,
            "check_grads: values[0] must be a Value, got 1.0",
        ),
        (lambda: numerical_grad(lambda x: x, ["a"]), TypeError, "numerical_grad: values[0] must be a Value"),
        (lambda: check_grads(lambda x: x, [Value(1.0)], eps=0), ValueError, "eps must be a positive finite"),
        (lambda: numerical_grad(lambda x: x, [Value(1.0)], eps=-1), ValueError, "eps must be a positive"),
        (
            lambda: check_grads(lambda x: "s", [Value(1.0)]),
            TypeError,
            "check_grads: f must return a Value, got 's'",
        ),
        (
            lambda: numerical_grad(lambda x: None, [Value(1.0)]),
            TypeError,
            "f must return a Value or a number",
        ),
        (
            lambda: check_grads(lambda x: x, [Value(1.0) * 2]),
            ValueError,
            "check_grads: values[0] is computed by op 'mul_const'; pass leaf Values",
        ),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def test_domain_error_during_differencing_says_which_input():
    x = Value(0.0, "x")
    with pytest.raises(ValueError) as caught:
        numerical_grad(lambda x: x.log(), [x], eps=1e-3)
    assert any("input 0 (x)" in note for note in caught.value.__notes__)
    assert x.data == 0.0


def test_report_reprs_are_readable_in_a_notebook():
    x, y = Value(0.3, "x"), Value(-1.2, "y")
    report = check_grads(lambda x, y: (x * y).tanh() + x**2, [x, y])
    assert repr(report).startswith("<GradCheckReport: 2 inputs, all agree; largest rel error ")
    assert "\n" not in repr(report) and "entries=" not in repr(report)
    page = report._repr_html_()
    assert page.startswith("<table><caption>gradient check: all agree") and page.count("<tr>") == 3
    assert "<td>'x'</td>" not in page and "<td>&#x27;x&#x27;</td>" in page  # escaped

    class Printer:
        text_written = ""

        def text(self, text):
            self.text_written += text

    printer = Printer()
    report._repr_pretty_(printer, cycle=False)
    assert printer.text_written == str(report)


def test_a_failing_report_says_so_in_its_reprs():
    x = Value(1.0, "x")
    report = check_grads(lambda x: x * 2, [x], eps=1e-6, raise_on_mismatch=False)
    wrong = type(report)(
        (type(report.entries[0])(0, "x", 2.0, 3.0, 1.0, 1 / 3, False),), report.eps, report.rtol, report.atol
    )
    assert "1 of 1 disagree" in repr(wrong) and "MISMATCH" in wrong._repr_html_()
    assert repr(report).startswith("<GradCheckReport: 1 input, all agree")
