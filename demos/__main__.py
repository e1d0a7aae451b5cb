"""`python -m demos` / `gradstep demo`: for now, the lecture neuron's gradients."""

from __future__ import annotations

from autograd import Value


def main(argv: list[str] | None = None) -> int:
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    print(f"o = tanh(x1*w1 + x2*w2 + b) = {o.data:.4f}")
    for v in (x1, w1, x2, w2, b):
        print(f"  d o / d {v.label} = {v.grad:+.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
