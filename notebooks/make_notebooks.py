"""Build the tutorial notebooks in this folder from the cells below and run them, saving their outputs.

    python notebooks/make_notebooks.py            # rebuild and execute every notebook
    python notebooks/make_notebooks.py --check    # fail if a saved notebook's code differs from here

The cells here are the source of truth: edit them, then run this script, so the saved notebooks (which
GitHub and nbviewer show with their outputs) never drift from the code. Needs the notebook extra:
``pip install ".[notebook]"`` (nbclient, nbformat, ipykernel).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
TIMEOUT_PER_CELL = 600  # seconds; the slowest cell (a demo's training run) takes well under a minute

Cell = tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    return ("md", text.strip("\n"))


def code(text: str) -> Cell:
    return ("code", text.strip("\n"))


# ---------------------------------------------------------------------------------------------------
# 1. The micrograd lecture path
# ---------------------------------------------------------------------------------------------------

LECTURE = [
    md("""
# Backprop from scratch, the micrograd way, with gradstep

This notebook follows the path of Andrej Karpathy's micrograd lecture with gradstep: a scalar
expression, its graph, the chain rule by hand and by `backward()`, one neuron, a small MLP trained
on a toy set, and one whole training step stepped through. Every picture below is drawn by gradstep
itself; the live pages (the steppers) run inside their own frames, so their keys never reach this
notebook.
"""),
    md("""
## A scalar expression and its graph

Every operation on a `Value` records its operands, so the result knows how it was made.
"""),
    code("""
from autograd import Value, draw

a = Value(2.0, "a")
b = Value(-3.0, "b")
c = Value(10.0, "c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = Value(-2.0, "f")
L = d * f
L.label = "L"
L
"""),
    md("""
`backward()` runs the chain rule from `L` back to every leaf. `dL/da` is `dL/dd · dd/de · de/da`
= `f · 1 · b` = `(-2)(-3)` = 6.
"""),
    code("""
L.backward()
print(f"dL/da = {a.grad}, dL/db = {b.grad}, dL/dc = {c.grad}, dL/df = {f.grad}")
draw(L)
"""),
    md("""
## The lecture's neuron

`o = tanh(x1·w1 + x2·w2 + b)`, with the bias chosen so that `o` is 0.7071. The drawing fits the
width of the cell; click it to see it at its natural size (or show `graph.full_size()`).
"""),
    code("""
x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
bias = Value(6.8813735870195432, "b")
n = x1 * w1 + x2 * w2 + bias
n.label = "n"
o = n.tanh()
o.label = "o"
o.backward()
print(f"o = {o.data:.4f}; x1.grad = {x1.grad}, w1.grad = {w1.grad}")
draw(o, parameters=[w1, w2, bias], legend=True)
"""),
    md("""
## Step through the chain rule

`chain_rule_steps` yields exactly what `backward()` does, one edge at a time:
`grad(child) += upstream × local`.
"""),
    code("""
from autograd import chain_rule_steps

for step in chain_rule_steps(o):
    print(f"{step.index:2}  {step.derivative_text:<24} {step.equation():<28} "
          f"grad {step.child_grad_before:+.4f} -> {step.child_grad_after:+.4f}")
"""),
    md("""
The same steps as a page, forward pass first: press **Next** (or click into the frame and use → and
←, space to play). Made after `backward()`, it still shows a fresh pass from zeroed grads. On GitHub,
where scripts are removed, a picture of the graph shows instead.
"""),
    code("""
import autograd

autograd.stepper(o, title="o = tanh(x1·w1 + x2·w2 + b)", parameters=[w1, w2, bias])
"""),
    md("""
## A small MLP on a toy set

The lecture's four examples and targets, a 3-4-4-1 tanh MLP, and the training loop written by hand:
forward, loss, zero the grads, backward, update.
"""),
    code("""
import nn

xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]
model = nn.MLP(3, [4, 4, 1], rng=0)
print(f"{len(model.parameters())} parameters")

for k in range(20):
    predictions = [model(x) for x in xs]
    loss = sum((p - y) ** 2 for p, y in zip(predictions, ys))
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data += -0.05 * p.grad
    if k % 4 == 0 or k == 19:
        print(f"step {k:2}: loss {loss.data:.6f}")
print("predictions:", [round(model(x).data, 4) for x in xs])
"""),
    md("""
The graph of one example's loss: each neuron is a cluster inside its layer, parameters in amber.
"""),
    code("""
one_loss = (model(xs[0]) - ys[0]) ** 2
one_loss.label = "loss"
model.zero_grad()
one_loss.backward()
draw(one_loss, parameters=model)
"""),
    md("""
## One whole training step, stepped

A training step is forward → loss → backward → update → a new loss. The stepper shows all of it for
one example under plain SGD: every forward op with its numbers, the seed, every backward edge, each
parameter's update `p ← p - lr·grad` as the optimiser computes it, and the loss after the update.
The Neuron button switches to one box per neuron, where a step lists the scalar steps it is made of
(nets of 200 values or more open that way); Scalar shows every value again.
"""),
    code("""
optimizer = nn.SGD(model.parameters(), lr=0.05)


def example_loss():
    return (model(xs[0]) - ys[0]) ** 2


autograd.stepper(example_loss, optimizer, title="one SGD step on (mlp(x0) - y0)²", parameters=model)
"""),
    md("""
The optimiser was only read: stepping it for real gives the "after" loss the page ends on.
"""),
    code("""
before = example_loss()
model.zero_grad()
before.backward()
optimizer.step()
print(f"loss before {before.data:.6f}, after one step {example_loss().data:.6f}")
"""),
    md("""
## The same numbers from PyTorch (when it is installed)

The same weights in PyTorch float64: the loss and every parameter's gradient agree.
"""),
    code("""
one_loss = example_loss()  # with the weights after that step
model.zero_grad()
one_loss.backward()
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed here: pip install torch to run this comparison.")

if torch is not None:
    weights, biases = model.to_weights()
    x = torch.tensor(xs[0], dtype=torch.float64)
    layers = [
        (torch.tensor(w, dtype=torch.float64, requires_grad=True),
         torch.tensor(b, dtype=torch.float64, requires_grad=True))
        for w, b in zip(weights, biases)
    ]
    h = x
    for i, (W, B) in enumerate(layers):
        h = W @ h + B
        if i < len(layers) - 1:
            h = torch.tanh(h)
    torch_loss = (h[0] - ys[0]) ** 2
    torch_loss.backward()
    ours = [p.grad for p in model.parameters()]
    theirs = []
    for W, B in layers:  # nn's order: per neuron, its weights then its bias
        for row, bias_grad in zip(W.grad.tolist(), B.grad.tolist()):
            theirs += [*row, bias_grad]
    print(f"loss: gradstep {one_loss.data:.12f}, PyTorch {torch_loss.item():.12f}")
    print(f"largest gradient difference over {len(ours)} parameters: "
          f"{max(abs(u - t) for u, t in zip(ours, theirs)):.1e}")
"""),
]


# ---------------------------------------------------------------------------------------------------
# 2. The classic questions
# ---------------------------------------------------------------------------------------------------

QUESTIONS = [
    md("""
# The classic backprop questions, answered by the engine

Each section asks one question people keep asking about backprop, computes the answer with
`Value` and `backward()`, prints it next to the textbook's formula, and draws the result. These are
the `gradstep demo NAME` programs (`demos/`), called from Python.
"""),
    code("""
import tempfile
from pathlib import Path

from IPython.display import Image

pictures = Path(tempfile.mkdtemp(prefix="gradstep-notebook-"))
"""),
    md("""
## Why the ½ in the squared error?

The ½ only rescales the gradient by a constant (the learning rate absorbs it). Dropping σ'(z), on
the other hand, changes the gradient's direction.
"""),
    code("""
from demos import half_squared_error as half

half.main(["--out", str(pictures)])
Image(filename=str(pictures / "half_squared_error.png"))
"""),
    md("""
## Cross-entropy vs the quadratic cost (Nielsen)

With a sigmoid output, the quadratic cost's gradient carries σ'(z) and stalls where the neuron
saturates; cross-entropy's does not.
"""),
    code("""
from demos import cross_entropy

cross_entropy.main(["--out", str(pictures)])
Image(filename=str(pictures / "cross_entropy_vs_quadratic.png"))
"""),
    md("""
## Ng's δ = a − y or Mitchell's (a − y)·a·(1 − a)?

Both are right, for different losses: `z.grad` at the output pre-activation is each one, for its own
loss. (The full demo, `gradstep demo deltas`, also trains Trask's XOR net for his 60,000 iterations;
here a shorter run of 6,000 draws the picture.)
"""),
    code("""
from demos import ng_vs_mitchell as deltas

print(f"{'z':>5} {'y':>2} {'log loss: z.grad':>17} {'a - y':>10} {'½(a-y)²: z.grad':>17} {'(a-y)a(1-a)':>12}")
for z in (-2.0, 0.0, 1.5):
    for y in (0.0, 1.0):
        print(f"{z:>5} {y:>2.0f} {deltas.output_delta(z, y, 'log'):>17.8f} "
              f"{deltas.textbook_delta(z, y, 'log'):>10.8f} {deltas.output_delta(z, y, 'squared'):>17.8f} "
              f"{deltas.textbook_delta(z, y, 'squared'):>12.8f}")
runs = {loss: deltas.train_trask(loss=loss, iterations=6000) for loss in deltas.LOSSES}
Image(filename=str(deltas.plot_trask(runs, pictures / "trask_xor_error.png")))
"""),
    md("""
## Averaging over examples, and weight decay (UFLDL)

The gradient of the mean is the gradient of the sum divided by m, and the decay term λ/2·ΣW² adds
exactly λW to each weight's gradient (biases untouched).
"""),
    code("""
from demos import weight_decay

weight_decay.main(["--out", str(pictures)])
Image(filename=str(pictures / "weight_decay.png"))
"""),
    md("""
## A single weight

`ŷ = σ(w·x)` learning the identity: the weight always moves against the gradient's sign, but the
error never goes below 0.125, because σ(0) = 0.5 whatever w is. A bias fixes it.
"""),
    code("""
from demos import single_weight

single_weight.main(["--out", str(pictures)])
Image(filename=str(pictures / "single_weight.png"))
"""),
    md("""
## What is the derivative of the derivative?

`grad(y, [x], create_graph=True)` returns the gradient as a Value whose graph is the backward pass,
so it can be differentiated again: tanh and its first six derivatives, each checked against its
closed form in t = tanh x.
"""),
    code("""
from demos import tanh_derivatives

tanh_derivatives.main(["--out", str(pictures)])
Image(filename=str(pictures / "tanh_derivatives.png"))
"""),
    md("""
## Newton's method or gradient descent?

`hessian` gives the second derivatives of one sigmoid neuron's loss; Newton's step uses them and
reaches the minimum in a handful of steps where gradient descent takes thousands.
"""),
    code("""
from demos import newton_vs_gd

newton_vs_gd.main(["--out", str(pictures)])
Image(filename=str(pictures / "newton_vs_gradient_descent.png"))
"""),
]


# ---------------------------------------------------------------------------------------------------
# 3. Compiling a graph
# ---------------------------------------------------------------------------------------------------

COMPILING = [
    md("""
# Compiling a graph and reading the code backprop derived

`autograd.compile` runs a function once on `Value`s, then writes the computation as straight-line
Python: one line per operation forward, and backward one line per node that sums its edges in
exactly the order `backward()` adds them. Reading it shows the textbook's deltas appear by themselves.
"""),
    code("""
from autograd import Value, compile, draw
from demos.show_compiled_code import NIELSEN_START, nielsen_cost

inputs = [Value(value, name) for name, value in NIELSEN_START.items()]
cost = nielsen_cost(*inputs)
cost.backward()
draw(cost)
"""),
    md("""
Nielsen's neuron, `C = (y - a)²/2` with `a = σ(w·x + b)`, compiled:
"""),
    code("""
step = compile(nielsen_cost, [Value(value, name) for name, value in NIELSEN_START.items()])
print(step.source)
"""),
    md("""
The compiled function gives the eager engine's numbers bit for bit:
"""),
    code("""
value, grads = step(*NIELSEN_START.values())
eager = {v.label: v.grad for v in inputs}
print(f"C = {value!r} (eager {cost.data!r})")
for name in grads:
    print(f"dC/d{name}: compiled {grads[name]!r}, eager {eager[name]!r}, same: {grads[name] == eager[name]}")
"""),
    md("""
A 2-2-1 sigmoid net: the hidden layer's deltas, `δh = (v · δo) · h(1 - h)`, are lines of the code.
"""),
    code("""
from demos.show_compiled_code import compile_two_layer_net

print(compile_two_layer_net().source)
"""),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "01-micrograd-lecture.ipynb": LECTURE,
    "02-classic-questions.ipynb": QUESTIONS,
    "03-compiling-a-graph.ipynb": COMPILING,
}


def build(cells: list[Cell]):  # -> nbformat.NotebookNode
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source))
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"  # stable ids: rebuilding changes nothing but outputs
    return notebook


def execute(notebook, *, cwd: Path = FOLDER):
    """Run every cell of `notebook` in a fresh python3 kernel (nbclient); a failing cell raises."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook, timeout=TIMEOUT_PER_CELL, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return notebook


def code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def stale(folder: Path = FOLDER) -> list[str]:
    """Names of saved notebooks that are missing or whose cells differ from the ones in this script."""
    import nbformat

    problems = []
    for name, cells in NOTEBOOKS.items():
        path = folder / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        saved = nbformat.read(path, as_version=4)
        wanted = build(cells)
        if [(c.cell_type, c.source) for c in saved.cells] != [(c.cell_type, c.source) for c in wanted.cells]:
            problems.append(f"{name}: its cells differ from notebooks/make_notebooks.py")
        elif any(
            c.cell_type == "code" and not c.get("outputs") and c.execution_count is None for c in saved.cells
        ):
            problems.append(f"{name}: saved without outputs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that the saved notebooks are current"
    )
    parser.add_argument("names", nargs="*", help="notebooks to rebuild (default: all)")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    import nbformat

    from autograd.files import atomic_write

    for name in args.names or list(NOTEBOOKS):
        if name not in NOTEBOOKS:
            parser.error(f"no notebook named {name!r}; choose from {', '.join(NOTEBOOKS)}")
        print(f"running {name} ...", flush=True)
        notebook = execute(build(NOTEBOOKS[name]))
        atomic_write(FOLDER / name, nbformat.writes(notebook) + "\n")
        print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
