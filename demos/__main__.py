"""`gradstep demo` / `python -m demos`: run the flagship demo, one demo by name, or list them all.

gradstep demo                   trains two moons and writes its pictures, graph and stepper
gradstep demo --list            every demo with the question it answers and how long it takes
gradstep demo NAME [--out DIR]  one demo; pictures go to gradstep-output/NAME/ unless --out says
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

# Demo name -> module in this package, in the order of the questions they answer.
DEMOS: dict[str, str] = {
    "half": "half_squared_error",
    "weight-decay": "weight_decay",
    "cross-entropy": "cross_entropy",
    "deltas": "ng_vs_mitchell",
    "single-weight": "single_weight",
    "gradcheck": "gradient_check",
    "moons": "two_moons",
    "digits": "digits",
    "derivatives": "tanh_derivatives",  # grad(create_graph=True), repeated
    "newton": "newton_vs_gd",  # autograd.hessian for Newton's step
    "forward-vs-reverse": "forward_vs_reverse",  # jvp sweeps against one backward sweep
    "compiled": "show_compiled_code",  # the code autograd.compile writes for backprop
}
FLAGSHIP = "moons"

USAGE = """\
usage: gradstep demo [--out DIR]          run the flagship demo (two moons)
       gradstep demo NAME [--out DIR]     run one demo (gradstep demo NAME --help for its options)
       gradstep demo --list               list the demos and the questions they answer"""


def load(name: str) -> ModuleType:
    """The module of the demo called `name` (ValueError naming the choices for an unknown name)."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; choose one of: {', '.join(DEMOS)}")
    return importlib.import_module(f"{__package__ or 'demos'}.{DEMOS[name]}")


def listing() -> str:
    """One line per demo: name and question (README.md's table gives measured running times)."""
    lines = []
    width = max(15, 2 + max(len(name) for name in DEMOS))  # the questions line up, two spaces at least
    for name in DEMOS:
        module = load(name)
        flagship = " (the default)" if name == FLAGSHIP else ""
        lines.append(f"  {name:<{width}}{module.QUESTION}{flagship}")
    return "demos (name, question):\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `gradstep demo` and `python -m demos`; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        print()
        print(listing())
        return 0
    if args and args[0] in ("-l", "--list"):
        print(listing())
        return 0
    name, rest = (args[0], args[1:]) if args and not args[0].startswith("-") else (FLAGSHIP, args)
    try:
        module = load(name)
    except ValueError as error:
        print(f"gradstep demo: {error}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    from autograd.drawing.graphviz import RenderError

    from ._common import DemoError

    # Every failure is one line, as in the formula commands; the checks run before any work.
    try:
        return module.main(rest)
    except (DemoError, ImportError, RenderError) as error:
        # ImportError: an extra that went missing after the checks (its message says what to install).
        print(f"gradstep demo {name}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"gradstep demo {name}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:
        detail = f" {error}" if str(error) else ""
        print(f"gradstep demo {name}: interrupted{detail}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
