"""The `gradstep` command line: gradients, chain-rule steps, drawings and the browser stepper of a formula.

    gradstep grad "tanh(w1*x1 + w2*x2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432
    gradstep step "x*y + x" x=2 y=3            # Enter: next step, b: back, q: quit
    gradstep step "x*y + x" x=2 y=3 --all      # every step at once (fine in a pipe)
    gradstep draw "x*y + x" x=2 y=3 -o graph.svg
    gradstep html "x*y + x" x=2 y=3 -o backprop.html
    gradstep train --data moons --steps 100 -o training.html   # the training viewer page
    gradstep demo
    gradstep doctor                            # what this environment gives gradstep
    gradstep --version

Formulas use the safe language of `autograd.parse` (numbers, your variables, + - * / **, parentheses
and the registered one-argument functions such as exp, log, tanh, sigmoid, relu). A bad formula, an
unknown variable, a missing value or a malformed ``name=value`` gives one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO, cast

from autograd.engine import Value, topological_order
from autograd.expr import ExpressionError, parse
from autograd.steps import (
    AfterStep,
    ChainRuleStep,
    ForwardStep,
    TrainingStep,
    UpdateStep,
    grads_before,
    node_names,
    training_step_steps,
)

__all__ = ["main"]

EXIT_USAGE = 2  # bad formula or arguments, as argparse uses
EXIT_FAILURE = 1  # a drawing or a file could not be written

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)
# ASCII only: Python's float() would also take "1_000", "nan", "infinity" and other scripts' digits.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_EPILOG = """\
Variables are given as name=value (x=2 w=-0.5). If the formula starts with '-', put -- before it
(gradstep grad -- "-x*y" x=1 y=2) or a space inside the quotes (" -x*y").
"""


class CommandError(Exception):
    """A problem to report in one line, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------------------------------
# From the command line to a graph
# ---------------------------------------------------------------------------------------------------


def _parse_assignment(text: str) -> tuple[str, float]:
    match = _ASSIGNMENT.fullmatch(text)
    if match is None:
        if "=" in text:
            name = text.split("=", 1)[0]
            raise CommandError(
                f"{name!r} is not a valid variable name in {text!r} (use letters, digits and _)"
            )
        raise CommandError(f"expected a variable as name=value (such as x=2), got {text!r}")
    name, number_text = match.groups()
    if not _NUMBER.fullmatch(number_text.strip()):
        raise CommandError(f"the value of {name} must be a number (such as {name}=2.5), got {number_text!r}")
    number = float(number_text)
    if not math.isfinite(number):
        raise CommandError(f"the value of {name} is too large for a float: {number_text}")
    return name, number


def build_graph(formula: str, assignments: Sequence[str]) -> tuple[Value, dict[str, Value]]:
    """The graph of `formula` and its variables (leaf Values by name, in command-line order)."""
    variables: dict[str, Value] = {}
    for text in assignments:
        name, number = _parse_assignment(text)
        if name in variables:
            raise CommandError(f"variable {name} is given twice")
        variables[name] = Value(number, name)
    try:
        root = parse(formula, **variables)
    except ExpressionError as error:
        raise CommandError(error.one_line()) from None
    except (TypeError, ValueError) as error:  # a variable name the language cannot use (exp=1)
        raise CommandError(str(error).removeprefix("parse: ")) from None
    return root, variables


def _formatter(number_format: str) -> Callable[[float], str]:
    from autograd.drawing.render import check_number_format, format_number

    try:
        check_number_format(number_format)
    except (TypeError, ValueError) as error:
        raise CommandError(str(error).removeprefix("draw: ")) from None
    return lambda number: format_number(number, number_format)


# ---------------------------------------------------------------------------------------------------
# gradstep grad
# ---------------------------------------------------------------------------------------------------


def _gradient_lines(variables: dict[str, Value], fmt: Callable[[float], str]) -> list[str]:
    width = max((len(name) for name in variables), default=0)
    return [f"df/d{name.ljust(width)} = {fmt(leaf.grad)}" for name, leaf in variables.items()]


def run_grad(options: argparse.Namespace, out: TextIO) -> int:
    root, variables = build_graph(options.formula, options.variables)
    fmt = _formatter(options.format)
    root.backward()
    print(f"f = {options.formula.strip()}", file=out)
    print(f"f = {fmt(root.data)}", file=out)
    for line in _gradient_lines(variables, fmt):
        print(line, file=out)
    return 0


# ---------------------------------------------------------------------------------------------------
# gradstep step
# ---------------------------------------------------------------------------------------------------


class _StepPrinter:
    """Shows one step of the timeline: a forward op, the seed, a chain-rule edge, an update, f after."""

    def __init__(
        self,
        root: Value,
        steps: list[TrainingStep],
        variables: dict[str, Value],
        fmt: Callable[[float], str],
    ) -> None:
        self.steps = steps
        self.variables = variables
        self.fmt = fmt
        self.order = topological_order(root)
        self.names = node_names(self.order, fmt)
        self.names[-1] = "f"
        self.number_of = {node: number for number, node in enumerate(self.order)}
        chain = [step for step in steps if isinstance(step, ChainRuleStep)]
        self.initial = grads_before(self.order, chain)

    def grads_after(self, position: int) -> list[float]:
        grads = list(self.initial)
        for step in self.steps[: position + 1]:
            if isinstance(step, ChainRuleStep):
                grads[step.child_number] = step.child_grad_after
        return grads

    def show(self, position: int, out: TextIO) -> None:
        step = self.steps[position]
        last = len(self.steps) - 1
        fmt = self.fmt
        header = f"step {position}/{last}"
        if position == 0 or self.steps[position - 1].phase != step.phase:
            print(f"-- {_PHASE_HEADINGS[step.phase]} --", file=out)
        if isinstance(step, ForwardStep):
            print(f"{header}  {self.names[step.node_number]} = {step.equation(fmt)}", file=out)
            return
        if isinstance(step, UpdateStep):
            update = step.update
            name = update.parameter.label or f"parameter {step.index}"
            print(f"{header}  {name} <- {update.rule}", file=out)
            numbers = [("grad", update.grad)] + [(q, value) for q, _, value in update.quantities]
            print("  " + "  ".join(f"{q} = {fmt(value)}" for q, value in numbers), file=out)
            print(f"  {name}: {fmt(update.data_before)} -> {fmt(update.data_after)}", file=out)
            return
        if isinstance(step, AfterStep):
            change = step.loss_after - step.loss_before
            verdict = "lower" if change < 0 else ("higher" if change > 0 else "unchanged")
            print(f"{header}  f = {fmt(step.loss_before)} -> {fmt(step.loss_after)} ({verdict})", file=out)
            return
        child = self.names[step.child_number]
        if step.kind == "seed":
            print(f"{header}  start at the output: grad(f) = df/df = 1", file=out)
        else:
            node = self.names[step.node_number]
            operand = f"operand {step.child_position + 1} of {step.op}"
            print(f"{header}  {node}  ->  {child}    ({operand})", file=out)
            print(f"  rule:   {step.derivative_text}", file=out)
            print(
                f"  chain:  grad({child}) += upstream × local = {fmt(step.upstream_grad)} × "
                f"{fmt(step.local_grad)} = {fmt(step.contribution)}",
                file=out,
            )
        print(f"  grad({child}): {fmt(step.child_grad_before)} -> {fmt(step.child_grad_after)}", file=out)
        if self.variables:
            grads = self.grads_after(position)
            so_far = "  ".join(
                f"{name}={fmt(grads[self.number_of[leaf]] if leaf in self.number_of else 0.0)}"
                for name, leaf in self.variables.items()
            )
            print(f"  grads so far: {so_far}", file=out)


_PHASE_HEADINGS = {
    "forward": "forward: every value from its operands, in topological order",
    "seed": "seed",
    "backward": "backward: one chain-rule step per edge, grad(child) += upstream × local",
    "update": "update: one SGD step per variable",
    "after": "after the update: the formula again",
}
_HELP_KEYS = "Enter: next step, b: back, q: quit"
_PROMPT = "[Enter/b/q] "
_LAST_PROMPT = "[b: back, Enter/q: quit] "
NEXT, BACK, QUIT, END_OF_INPUT, UNKNOWN = "next", "back", "quit", "end of input", "unknown"
# Single keys (a terminal in cbreak mode) and what they do; arrows arrive as escape sequences.
_KEY_ACTIONS = {
    "\r": NEXT,
    "\n": NEXT,
    " ": NEXT,
    "n": NEXT,
    "\x1b[C": NEXT,  # right arrow
    "\x1b[B": NEXT,  # down arrow
    "b": BACK,
    "p": BACK,
    "\x7f": BACK,  # backspace
    "\x08": BACK,
    "\x1b[D": BACK,  # left arrow
    "\x1b[A": BACK,  # up arrow
    "q": QUIT,
    "\x1b": QUIT,  # Esc
    "\x04": END_OF_INPUT,  # Ctrl-D: the terminal does not turn it into end-of-file in cbreak mode
}
# Whole lines (a pipe, or a terminal without termios): the first letter counts, an empty line is Enter.
_LINE_ACTIONS = {"": NEXT, "n": NEXT, "b": BACK, "p": BACK, "q": QUIT}


class KeyReader:
    """Reads what the user wants next: one key at a time on a terminal, whole lines from a pipe.

    On a terminal (stdin a TTY with termios), the terminal is in cbreak mode while the reader is
    in use (``with KeyReader(...)``), so ``b`` acts at once, without Enter, and keys typed ahead
    are kept; Ctrl-C still interrupts, and the terminal's settings are restored on leaving, also on
    error. Anywhere else (a pipe, a file, Windows), keys are lines: ``b`` then Enter. End of input
    (Ctrl-D, or the end of a pipe) is `END_OF_INPUT`.
    """

    def __init__(self, keys: TextIO, out: TextIO) -> None:
        self.keys = keys
        self.out = out
        self.fd = self._terminal_fd()
        self.single_key = self.fd is not None
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)  # TCSANOW: keep keys already typed
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None and self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _terminal_fd(self) -> int | None:
        try:
            import termios

            fd = self.keys.fileno()
            if not os.isatty(fd):
                return None
            termios.tcgetattr(fd)
        except (ImportError, OSError, ValueError, AttributeError):  # no termios, no real file, not a TTY
            return None
        return fd

    def read(self, prompt: str) -> str:
        """Show `prompt`, wait for one key (or line) and return NEXT, BACK, QUIT, END_OF_INPUT or UNKNOWN."""
        print(prompt, end="", file=self.out, flush=True)
        if self.single_key:
            action = _KEY_ACTIONS.get(self._read_key(), UNKNOWN)
            print(file=self.out)  # keys are not echoed in cbreak mode: end the prompt line ourselves
            return action
        line = self.keys.readline()
        if line == "" or not line.endswith("\n") or not self._is_terminal():
            # End of input, or a piped key (not echoed): end the prompt line ourselves.
            print(file=self.out)
        if line == "":
            return END_OF_INPUT
        return _LINE_ACTIONS.get(line.strip().lower()[:1], UNKNOWN)

    def _is_terminal(self) -> bool:
        try:
            return self.keys.isatty()
        except (AttributeError, ValueError):
            return False

    def _read_key(self) -> str:
        import select

        fd = self.keys.fileno()
        key = os.read(fd, 1)
        if key == b"\x1b":  # an arrow key sends Esc [ X at once; Esc alone sends nothing more
            while len(key) < 3 and select.select([fd], [], [], 0.05)[0]:
                key += os.read(fd, 1)
        if key == b"":
            return "\x04"  # the terminal hung up: treat as end of input
        text = key.decode("utf-8", "replace")
        return text.lower() if len(text) == 1 else text


def _timeline(options: argparse.Namespace, root: Value, variables: dict[str, Value]) -> list[TrainingStep]:
    """The steps `gradstep step` walks: forward, seed, backward, and with --lr an SGD update."""
    if options.lr is None:
        if options.train is not None:
            raise CommandError("--train needs --lr (the learning rate of the SGD update)")
        return list(training_step_steps(root))
    import nn

    if not math.isfinite(options.lr) or options.lr < 0:
        raise CommandError(f"--lr must be a finite number >= 0, got {options.lr!r}")
    names = (
        list(variables)
        if options.train is None
        else [n.strip() for n in options.train.split(",") if n.strip()]
    )
    unknown = [name for name in names if name not in variables]
    if unknown or not names:
        known = ", ".join(variables) or "none"
        raise CommandError(f"--train names variables of the formula ({known}), got {options.train!r}")
    optimizer = nn.SGD([variables[name] for name in names], lr=options.lr)
    try:
        # commit=False: the variables keep their values, so the summary at the end shows this step's grads.
        steps = training_step_steps(lambda: parse(options.formula, **variables), optimizer, commit=False)
        return list(steps)
    except (ValueError, ArithmeticError) as error:  # the updated variables leave the formula's domain
        raise CommandError(
            f"after the update the formula cannot be computed: {error}", EXIT_FAILURE
        ) from None


def run_step(options: argparse.Namespace, out: TextIO, keys: TextIO) -> int:
    root, variables = build_graph(options.formula, options.variables)
    fmt = _formatter(options.format)
    steps = _timeline(options, root, variables)
    printer = _StepPrinter(root, steps, variables, fmt)
    edges = sum(1 for step in steps if step.phase == "backward")
    forward = sum(1 for step in steps if step.phase == "forward")
    updates = sum(1 for step in steps if step.phase == "update")
    last = len(steps) - 1
    print(f"f = {options.formula.strip()} = {fmt(root.data)}", file=out)
    plural = "step" if edges == 1 else "steps"
    print(
        f"{len(steps)} steps: {forward} forward, the seed, {edges} chain-rule {plural} (one per edge)"
        + (f", {updates} SGD updates (lr {fmt(options.lr)}) and f after them" if updates else ""),
        file=out,
    )
    if options.all:
        _walk(printer, last, variables, fmt, out, None)
        return 0
    with KeyReader(keys, out) as reader:
        how = "keys act at once" if reader.single_key else "each key then Enter"
        print(f"({_HELP_KEYS}; {how})", file=out)
        _walk(printer, last, variables, fmt, out, reader)
    return 0


def _walk(
    printer: _StepPrinter,
    edges: int,
    variables: dict[str, Value],
    fmt: Callable[[float], str],
    out: TextIO,
    reader: KeyReader | None,
) -> None:
    """Show the steps: all of them (no `reader`), or as the keys say, pausing at the last one too.

    `edges` is the position of the last step."""
    position = 0
    while True:
        print(file=out)
        printer.show(position, out)
        if position == edges:
            _print_done(variables, fmt, out)
        if reader is None:
            if position == edges:
                return
            position += 1
            continue
        # The last step pauses too, so you can step back from it.
        action = reader.read(_LAST_PROMPT if position == edges else _PROMPT)
        if action in (QUIT, END_OF_INPUT) or (action == NEXT and position == edges):
            return
        if action == BACK:
            position = max(0, position - 1)
        elif action == NEXT:
            position += 1
        else:
            print(f"({_HELP_KEYS})", file=out)


def _print_done(variables: dict[str, Value], fmt: Callable[[float], str], out: TextIO) -> None:
    print(file=out)
    print("done: every gradient is filled in, exactly as a fresh backward() leaves them", file=out)
    for line in _gradient_lines(variables, fmt):
        print(line, file=out)


# ---------------------------------------------------------------------------------------------------
# gradstep draw / html
# ---------------------------------------------------------------------------------------------------


def run_draw(options: argparse.Namespace, out: TextIO) -> int:
    from autograd.drawing.render import RenderError, draw

    root, _ = build_graph(options.formula, options.variables)
    _formatter(options.format)
    if not options.no_backward:
        root.backward()
    try:
        path = draw(root, rankdir=options.rankdir, number_format=options.format).save(options.output)
    except RenderError as error:
        raise CommandError(f"could not draw the graph: {error}", EXIT_FAILURE) from None
    except ValueError as error:  # an output name without a known extension
        raise CommandError(str(error).removeprefix("Graph.save: ")) from None
    except OSError as error:
        raise _write_error(options.output, error) from None
    print(f"wrote {path}", file=out)
    return 0


def run_html(options: argparse.Namespace, out: TextIO) -> int:
    from autograd.drawing.page import write_stepper_html
    from autograd.drawing.render import RenderError

    root, _ = build_graph(options.formula, options.variables)
    _formatter(options.format)
    try:
        path = write_stepper_html(
            root, options.output, title=options.formula.strip(), number_format=options.format
        )
    except RenderError as error:
        raise CommandError(f"could not draw the graph: {error}", EXIT_FAILURE) from None
    except OSError as error:
        raise _write_error(options.output, error) from None
    print(f"wrote {path} (open it in a browser)", file=out)
    return 0


def _write_error(path: str, error: OSError) -> CommandError:
    from autograd.files import NotARegularFileError

    if isinstance(error, NotARegularFileError):  # its message names the path and what is there
        return CommandError(str(error), EXIT_FAILURE)
    return CommandError(f"could not write {path}: {error.strerror or error}", EXIT_FAILURE)


# ---------------------------------------------------------------------------------------------------
# Argument parsing
# ---------------------------------------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstep",
        description="Backprop on a formula, one scalar at a time: gradients, chain-rule steps, pictures.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_command(name: str, help_text: str, default_format: str) -> argparse.ArgumentParser:
        command = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument("formula", help='the formula, e.g. "tanh(w*x + b)"')
        command.add_argument("variables", nargs="*", metavar="name=value", help="a value for each variable")
        command.add_argument(
            "--format",
            default=default_format,
            metavar="FMT",
            help=f"how numbers are shown, a Python format such as {{:.4f}} (default {default_format})",
        )
        return command

    add_command("grad", "print the value of the formula and its gradient for every variable", "{:.6g}")
    step = add_command(
        "step", f"walk through backprop one chain-rule step at a time ({_HELP_KEYS})", "{:.6g}"
    )
    step.add_argument("--all", action="store_true", help="print every step without waiting for keys")
    step.add_argument(
        "--lr",
        type=float,
        metavar="LR",
        help="add an SGD update of the variables (learning rate LR) and f after it",
    )
    step.add_argument(
        "--train", metavar="NAMES", help="with --lr: the variables to update, e.g. w1,w2,b (default all)"
    )
    draw = add_command("draw", "draw the graph with its values and gradients (SVG, PNG or DOT)", "{:.4f}")
    draw.add_argument("-o", "--output", default="graph.svg", help="where to write it (default graph.svg)")
    draw.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"], help="layout direction")
    draw.add_argument("--no-backward", action="store_true", help="draw before backprop (all grads 0)")
    html = add_command("html", "write the browser stepper: one self-contained HTML page", "{:.4f}")
    html.add_argument(
        "-o", "--output", default="backprop.html", help="where to write it (default backprop.html)"
    )
    commands.add_parser(
        "train",
        help="train an MLP on 2-D points and write the training viewer (gradstep train --help)",
        add_help=False,
    )
    commands.add_parser("demo", help="run the demos (gradstep demo --help for their options)", add_help=False)
    commands.add_parser(
        "doctor",
        help="report Python, gradstep, where autograd and nn come from, the renderer, the extras and "
        "any clash with HIPS autograd",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"gradstep {__version__}")
    return parser


class _OutputFailed(Exception):
    """Standard output could not be written (a full disk, /dev/full, a closed pipe); not an OSError,
    so no handler meant for the files a command writes can mistake it for one of those."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class _WatchedOutput:
    """Standard output, with every write and flush failure raised as `_OutputFailed`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise _OutputFailed(error) from error

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise _OutputFailed(error) from error

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `gradstep` command line with `argv` (default: ``sys.argv[1:]``); returns the exit code.

    Output that cannot be written (``gradstep grad ... > /dev/full``) ends with one line on stderr and
    exit code 1; a reader that goes away (``| head``) ends it quietly.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    command = f"gradstep {args[0]}" if args and args[0] in _COMMANDS else "gradstep"
    real_stdout = sys.stdout
    try:
        with contextlib.redirect_stdout(cast(TextIO, _WatchedOutput(real_stdout))):
            try:
                return _run(args)
            finally:
                # What is still buffered is written now, where a failure can be reported, not at
                # exit (also after argparse's --help, which ends in SystemExit).
                sys.stdout.flush()
    except _OutputFailed as failure:
        # Whatever is left in the buffer must not fail again when the interpreter exits.
        with contextlib.suppress(AttributeError, OSError, ValueError):  # a stream with no descriptor
            os.dup2(os.open(os.devnull, os.O_WRONLY), real_stdout.fileno())
        # A reader that went away (gradstep step --all | head) is no error to report, as in Unix tools.
        if not isinstance(failure.error, BrokenPipeError):
            print(f"{command}: error: could not write the output: {failure}", file=sys.stderr)
        return EXIT_FAILURE


_COMMANDS = ("grad", "step", "draw", "html", "demo", "doctor")


def _run(args: list[str]) -> int:
    if args and args[0] == "demo":
        problem = _engine_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            return EXIT_FAILURE
        from demos.__main__ import main as demo_main

        return demo_main(args[1:])
    if args and args[0] == "train":
        from .train_command import main as train_main

        return train_main(args[1:])
    parser = _build_parser()
    options = parser.parse_args(args)
    if options.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if options.command == "doctor":
        from .doctor import main as doctor_main

        return doctor_main()
    problem = _engine_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_FAILURE
    _use_replacement_characters_if_needed(sys.stdout)
    try:
        if options.command == "grad":
            return run_grad(options, sys.stdout)
        if options.command == "step":
            return run_step(options, sys.stdout, sys.stdin)
        if options.command == "draw":
            return run_draw(options, sys.stdout)
        return run_html(options, sys.stdout)
    except CommandError as error:
        print(f"gradstep {options.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def _engine_problem() -> str | None:
    """The one-line ImportError ``import nn`` gives when ``autograd`` is not gradstep's (HIPS autograd)."""
    try:
        import nn  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def _use_replacement_characters_if_needed(stream: TextIO) -> None:
    # Derivative texts use ×, Σ and subscripts; a terminal that cannot show them gets '?', not a crash.
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "×Σᵢσ".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


if __name__ == "__main__":
    raise SystemExit(main())
