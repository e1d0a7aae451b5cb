"""autograd/drawing/views.py: `autograd.stepper(root)`, the stepper as an object you save or show inline."""

from __future__ import annotations

import base64
import re

import pytest

import autograd
import nn
from autograd import Value, write_stepper_html
from autograd.drawing.page import stepper_page
from autograd.drawing.pages import Page


def lecture_neuron() -> Value:
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    return (x1 * w1 + x2 * w2 + b).tanh()


def test_stepper_is_a_page_with_the_stepper_document(tmp_path):
    o = lecture_neuron()
    page = autograd.stepper(o, title="the neuron")
    assert isinstance(page, autograd.Stepper) and isinstance(page, Page)
    reference = stepper_page(o, title="the neuron")
    assert page.html() == reference.html() and page.fallback_svg == reference.fallback_svg
    saved = page.save(tmp_path / "s.html")
    assert saved.read_text(encoding="utf-8") == page.html()
    # write_stepper_html still writes the same page
    assert (
        write_stepper_html(o, tmp_path / "w.html", title="the neuron").read_text(encoding="utf-8")
        == page.html()
    )
    assert "Stepper 'the neuron'" in repr(page) and "bytes" in repr(page)


def test_stepper_shows_inline_with_the_drawing_as_its_fallback():
    o = lecture_neuron()
    page = autograd.stepper(o)
    bundle = page._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"] == page._repr_html_()
    picture = base64.b64decode(
        re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', bundle["text/html"]).group(1)
    ).decode()
    assert picture.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in picture
    assert "data 0.7071" in picture  # the page's own drawing


def test_stepper_passes_its_options_and_refuses_bad_ones():
    o = lecture_neuron()
    assert "0.707" in autograd.stepper(o, number_format="{:.3f}").html()
    assert autograd.stepper(o, height=400).height == 400
    with pytest.raises(ValueError, match="view must be 'auto', 'neuron' or 'scalar', got 'x'"):
        autograd.stepper(o, view="x")
    with pytest.raises(ValueError, match="height must be an int from 100 to 10000 pixels, got 5"):
        autograd.stepper(o, height=5)


def test_stepper_of_a_whole_training_step_with_an_optimizer():
    model = nn.MLP(2, [3, 1], rng=0)
    optimizer = nn.SGD(model.parameters(), lr=0.1)

    def loss():
        return nn.squared_error([model([0.5, -1.0])], [1.0])

    page = autograd.stepper(loss, optimizer, title="one SGD step")
    assert isinstance(page, autograd.Stepper)
    assert page.html() == stepper_page(loss, optimizer, title="one SGD step").html()
    assert '"update"' in page.html()
