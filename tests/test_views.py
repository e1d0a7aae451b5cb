"""autograd/drawing/views.py: `autograd.stepper(root)`, the stepper as an object you save or show inline."""

from __future__ import annotations

import base64
import re

import pytest

import autograd
from autograd import Value, write_stepper_html
from autograd.drawing.page import stepper_html
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
    assert page.html() == stepper_html(o, title="the neuron")
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
    assert 'id="v0"' in picture and "data 0.7071" in picture  # the page's own drawing
    assert page.title == "backprop stepper"


def test_stepper_passes_its_options_and_refuses_bad_ones():
    o = lecture_neuron()
    assert "0.707" in autograd.stepper(o, number_format="{:.3f}").html()
    assert autograd.stepper(o, height=400).height == 400
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        autograd.stepper(1.0)
    with pytest.raises(ValueError, match="height must be an int from 100 to 10000 pixels, got 5"):
        autograd.stepper(o, height=5)
