"""The gradstep command line, run as a real subprocess (and in-process for the many error cases)."""

from __future__ import annotations

import errno
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gradstep import cli
from tests.fixtures import LECTURE_NEURON_INPUTS

ROOT = Path(__file__).resolve().parent.parent
# The lecture neuron as command-line arguments (written w*x, as users type it), then name=value each.
NEURON = ["tanh(w1*x1 + w2*x2 + b)", *(f"{name}={value!r}" for name, value in LECTURE_NEURON_INPUTS.items())]


def gradstep(*args: str, keys: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m autograd.cli`` with `args`, typing `keys` on its stdin (a pipe)."""
    return subprocess.run(
        [sys.executable, "-m", "gradstep", *args],
        input=keys if keys is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def headers(output: str) -> list[str]:
    """The 'step k/n' headers in the order they were shown (a prompt may start the line)."""
    lines = (line.removeprefix("[Enter/b/q] ") for line in output.splitlines())
    return [line.split()[1] for line in lines if line.startswith("step ")]


def test_grad_prints_the_value_and_every_gradient():
    result = gradstep("grad", *NEURON)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "f = tanh(w1*x1 + w2*x2 + b)",
        "f = 0.707107",
        "df/dx1 = -1.5",
        "df/dx2 = 0.5",
        "df/dw1 = 1",
        "df/dw2 = 0",
        "df/db  = 0.5",
    ]
    assert result.stderr == ""


def test_step_all_prints_every_step_without_waiting():
    result = gradstep("step", *NEURON, "--all")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # 5 forward steps, the seed, 9 edges
    assert headers(out) == [f"{k}/14" for k in range(15)]
    assert "[Enter/b/q]" not in out
    assert "step 1/14  w1*x1 = (-3)*2 = -6" in out
    assert "step 4/14  f = tanh(0.881374) = 0.707107" in out
    assert "step 5/14  start at the output: grad(f) = df/df = 1" in out
    # the tanh edge: upstream 1 × local 1 - tanh² = 0.5
    assert "step 6/14  f  ->  w1*x1 + w2*x2 + b    (operand 1 of tanh)" in out
    assert "  rule:   d(tanh a)/da = (1-t)*(1+t), t = tanh a" in out
    assert "  chain:  grad(w1*x1 + w2*x2 + b) += upstream × local = 1 × 0.5 = 0.5" in out
    assert "  chain:  grad(x1) += upstream × local = 0.5 × -3 = -1.5" in out
    assert "  grads so far: x1=-1.5  x2=0.5  w1=1  w2=0  b=0.5" in out
    assert out.rstrip().endswith("df/db  = 0.5")


def test_step_with_lr_adds_the_sgd_update_and_the_value_after_it():
    result = gradstep("step", *NEURON, "--all", "--lr", "0.1", "--train", "w1,b")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert headers(out) == [f"{k}/17" for k in range(18)]  # + 2 updates + after
    assert "-- update: one SGD step per variable --" in out
    assert "step 15/17  w1 <- p − lr·grad\n  grad = 1  lr = 0.1\n  w1: -3 -> -3.1" in out
    assert "step 16/17  b <- p − lr·grad" in out and "b: 6.88137 -> 6.83137" in out
    assert "step 17/17  f = 0.707107 -> " in out and "(lower)" in out
    assert "df/dx1 = -1.5" in out  # the variables keep their values: the grads are this step's


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--lr", "0.1", "--train", "w9"],
            "--train names variables of the formula (x1, x2, w1, w2, b), got 'w9'",
        ),
        (["--train", "w1"], "--train needs --lr"),
        (["--lr", "-1"], "--lr must be a finite number >= 0, got -1.0"),
        (["--lr", "inf"], "--lr must be a finite number >= 0, got inf"),
    ],
)
def test_step_update_options_are_checked(args, message):
    result = gradstep("step", *NEURON, "--all", *args)
    assert result.returncode == 2 and message in result.stderr


def test_step_is_driven_by_keys_on_stdin():
    # next, next, back, next, quit
    result = gradstep("step", "x*x + y", "x=3", "y=1", keys="\n\nb\n\nq\n")
    assert result.returncode == 0, result.stderr
    assert headers(result.stdout) == ["0/6", "1/6", "2/6", "1/6", "2/6"]
    assert "done" not in result.stdout
    # x*x: two edges into the same x, 3 then 6
    full = gradstep("step", "x*x + y", "x=3", "y=1", keys="\n" * 10)
    assert headers(full.stdout) == [f"{k}/6" for k in range(7)]
    assert "grad(x): 0 -> 3" in full.stdout and "grad(x): 3 -> 6" in full.stdout
    assert "done: every gradient is filled in" in full.stdout


def test_step_handles_end_of_input_unknown_keys_and_back_at_the_start():
    result = gradstep("step", "x*y", "x=1", "y=2", keys="b\nwhat\n")
    assert result.returncode == 0, result.stderr
    assert headers(result.stdout) == ["0/3", "0/3", "0/3"]
    assert "(Enter: next step, b: back, q: quit)" in result.stdout


def test_help_for_every_command():
    for command in ([], ["grad"], ["step"], ["draw"], ["html"]):
        result = gradstep(*command, "--help")
        assert result.returncode == 0
        assert result.stdout.startswith("usage: gradstep")
    assert "--all" in gradstep("step", "--help").stdout
    assert "-o OUTPUT" in gradstep("draw", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "x*", "x=1"], "the formula ends too early"),
        (["grad", "x*y", "x=1"], "unknown variable 'y': no value was given for it (given: x)"),
        (["grad", "__import__('os').system('echo hi')", "x=1"], "unknown function '__import__'"),
        (["grad", "x.real", "x=1"], "attribute access"),
        (["grad", "log(x)", "x=0"], "log: operand must be > 0"),
        (["step", "x", "x"], "expected a variable as name=value (such as x=2), got 'x'"),
        (["step", "x", "x=abc"], "the value of x must be a number"),
        (["step", "x", "x=nan"], "the value of x must be a number"),
        (["step", "x", "x=1_000"], "the value of x must be a number"),
        (["step", "x", "x=1e999"], "too large"),
        (["step", "x", "1x=2"], "'1x' is not a valid variable name"),
        (["step", "x", "x=1", "x=2"], "variable x is given twice"),
        (["grad", "exp", "exp=1"], "taken by the function"),
        (["grad", "x", "x=1", "--format", "nope"], "format"),
        (["draw", "x", "x=1", "-o", "graph.txt"], "cannot tell the format"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys):
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"gradstep {args[0]}: error: ")
    assert message in lines[0]


def test_errors_in_a_subprocess_have_no_traceback():
    result = gradstep("grad", "tanh(w*x + b", "w=1", "x=2", "b=0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "gradstep grad: error: '(' is never closed (at column 5): tanh(w*x + b\n"
    missing = gradstep("step", "x*y", "x=1", "--all")
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    assert "Traceback" not in missing.stderr


def test_usage_errors_exit_with_2():
    assert gradstep().returncode == 2
    result = gradstep("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_draw_writes_an_svg(tmp_path):
    target = tmp_path / "graph.svg"
    result = gradstep("draw", *NEURON, "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {target}"
    assert result.stderr == ""
    svg = target.read_text(encoding="utf-8")
    assert "<svg" in svg and "grad &#45;1.5000" in svg  # drawn after backprop (x1's grad)
    assert os.listdir(tmp_path) == ["graph.svg"]


def test_draw_into_a_missing_folder_is_one_line_and_exit_code_1(tmp_path):
    result = gradstep("draw", "x*y", "x=1", "y=2", "-o", str(tmp_path / "missing" / "graph.svg"))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "could not write" in result.stderr


def test_html_writes_the_stepper(tmp_path):
    target = tmp_path / "backprop.html"
    result = gradstep("html", *NEURON, "-o", str(target))
    assert result.returncode == 0, result.stderr
    page = target.read_text(encoding="utf-8")
    assert "<title>tanh(w1*x1 + w2*x2 + b)</title>" in page
    assert 'id="stepper-data"' in page


def test_a_formula_starting_with_minus_after_double_dash():
    result = gradstep("grad", "--", "-x*y", "x=2", "y=3")
    assert result.returncode == 0, result.stderr
    assert "df/dx = -3" in result.stdout


def test_output_survives_a_terminal_that_cannot_show_unicode():
    result = gradstep("step", "x*y", "x=2", "y=3", "--all", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "upstream ? local" in result.stdout


def test_a_closed_pipe_stops_quietly():
    process = subprocess.Popen(
        [sys.executable, "-m", "gradstep", "step", "+".join(["x"] * 300), "x=1", "--all"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr


def test_demo_is_delegated_to_the_demos_package(monkeypatch):
    import demos.__main__

    seen = []
    monkeypatch.setattr(demos.__main__, "main", lambda argv: seen.append(argv) or 7)
    assert cli.main(["demo", "--list", "x"]) == 7
    assert seen == [["--list", "x"]]


def test_installed_console_script():
    script = Path(sys.executable).with_name("gradstep")
    if not script.exists():
        pytest.skip("gradstep is not installed in this environment (pip install .)")
    result = subprocess.run(
        [str(script), "grad", "x*y", "x=2", "y=3"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "df/dx = 3" in result.stdout and "df/dy = 2" in result.stdout


# ---- output that cannot be written, outputs that must not be replaced -----------------------------

OUTPUT_COMMANDS = [
    ["grad", *NEURON],
    ["step", *NEURON, "--all"],
    ["step", "+".join(["x"] * 300), "x=1", "--all"],  # more than a buffer's worth of output
    ["draw", "x*y", "x=1", "y=2", "-o", "{tmp}/g.svg"],
    ["html", "x*y", "x=1", "y=2", "-o", "{tmp}/p.html"],
    ["--help"],
    ["grad", "--help"],
    ["demo", "--list"],
]


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize("args", OUTPUT_COMMANDS, ids=lambda args: " ".join(args)[:30])
def test_output_to_a_full_device_is_one_line_and_exit_code_1(tmp_path, args, unbuffered):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "gradstep", *(arg.format(tmp=tmp_path) for arg in args)],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gradstep") and lines[0].endswith(
        "error: could not write the output: No space left on device"
    )


class _FullStream(io.StringIO):
    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_in_process_output_failure_is_one_line_even_for_a_stream_without_a_descriptor(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _FullStream())
    assert cli.main(["grad", "x*y", "x=1", "y=2"]) == 1
    assert (
        capsys.readouterr().err
        == "gradstep grad: error: could not write the output: No space left on device\n"
    )


def test_output_to_dev_null_is_fine():
    with open(os.devnull, "w") as null:
        result = subprocess.run(
            [sys.executable, "-m", "gradstep", "grad", *NEURON],
            stdout=null,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert result.returncode == 0 and result.stderr == ""


def test_html_onto_a_fifo_or_a_directory_is_refused_in_one_line(tmp_path):
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    result = gradstep("html", "x*y", "x=1", "y=2", "-o", str(fifo))
    assert result.returncode == 1
    assert result.stderr == (
        f"gradstep html: error: {fifo} is a FIFO (named pipe), not a regular file: refusing to replace it\n"
    )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    folder = tmp_path / "graph.svg"
    folder.mkdir()
    result = gradstep("draw", "x*y", "x=1", "y=2", "-o", str(folder))
    assert result.returncode == 1 and "is a directory, not a regular file" in result.stderr
    assert folder.is_dir()


def test_html_onto_a_device_node_leaves_the_device_alone(tmp_path):
    # The report was `gradstep html ... -o /dev/full` run as root replacing the device with a page.
    # Testing that on the real /dev/full would be destructive if it regressed, so use our own node.
    device = tmp_path / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # /dev/full's numbers
    except (PermissionError, AttributeError):
        pytest.skip("cannot make device nodes here")
    result = gradstep("html", "x*y", "x=1", "y=2", "-o", str(device))
    assert result.returncode == 1
    assert result.stderr == (
        f"gradstep html: error: {device} is a character device, not a regular file: refusing to replace it\n"
    )
    assert stat.S_ISCHR(os.lstat(device).st_mode) and sorted(os.listdir(tmp_path)) == ["full"]


def test_draw_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "graph.svg"
    link.symlink_to(tmp_path / "out" / "real.svg")
    result = gradstep("draw", "x*y", "x=1", "y=2", "-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and "<svg" in (tmp_path / "out" / "real.svg").read_text()


# ---------------------------------------------------------------------------------------------------
# gradstep draw with hostile formulas: a well-formed SVG or one clear line, never a trap or traceback
# ---------------------------------------------------------------------------------------------------

_FORMULA_PIECES = [
    *"xy+-*/() .1e",
    "**",
    "tanh(",
    "exp(",
    "relu(",
    "x+x+x+x+x+x+x+x+x+x",
    "\\",
    "\\n",
    "\x00",
    "\x07",
    "\ud800",
    '"',
    "{",
    "|",
    "<",
    "\n",
]


def run_main(args: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def check_draw_outcome(code: int, err: str, path: Path) -> None:
    import xml.etree.ElementTree as ET

    if code == 0:
        ET.fromstring(path.read_bytes())  # well-formed SVG
        path.unlink()
    else:
        assert code == cli.EXIT_USAGE, err  # a bad formula, not a failed drawing
        assert err.count("\n") == 1 and err.startswith("gradstep draw: error: "), err
        assert "Traceback" not in err and "Trap" not in err and "crashed" not in err


def test_fuzz_gradstep_draw_with_hostile_formulas(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    path = tmp_path / "fuzz.svg"

    @settings(max_examples=60, deadline=None)
    @given(
        pieces=st.lists(st.sampled_from(_FORMULA_PIECES), min_size=1, max_size=14), no_backward=st.booleans()
    )
    def check(pieces, no_backward):
        formula = "".join(pieces)
        args = ["draw", formula, "x=1.5", "y=-2", "-o", str(path)] + (
            ["--no-backward"] if no_backward else []
        )
        code, _, err = run_main(args)
        check_draw_outcome(code, err, path)

    check()


@pytest.mark.parametrize(
    "formula",
    ["x" + "+x" * 2_000, "x" + "*x" * 600, "tanh(" * 300 + "x" + ")" * 300, "x\\", "x\x00", "x\ud800"],
)
def test_gradstep_draw_of_big_or_odd_formulas(tmp_path, formula):
    path = tmp_path / "g.svg"
    code, out, err = run_main(["draw", formula, "x=1.0001", "-o", str(path)])
    check_draw_outcome(code, err, path)
    if "+x" in formula:  # 2,001 uses of x: summarised within the layout budget, drawn quickly
        assert code == 0 and out.startswith("wrote ")


def test_gradstep_draw_before_backward_says_so_in_the_picture(tmp_path):
    path = tmp_path / "g.svg"
    code, _, err = run_main(["draw", "x*y", "x=2", "y=3", "--no-backward", "-o", str(path)])
    assert code == 0, err
    assert "call backward()" in path.read_text(encoding="utf-8")
    code, _, err = run_main(["draw", "x*y", "x=2", "y=3", "-o", str(path)])
    assert code == 0 and "call backward()" not in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# gradstep step on a real terminal (a pseudo-terminal): single keys, the final pause, Ctrl-D, Ctrl-C
# ---------------------------------------------------------------------------------------------------


class Terminal:
    """``gradstep step`` running on a pseudo-terminal, as in a shell: we type keys and read the screen."""

    def __init__(self, *args: str) -> None:
        import pty
        import termios

        self.master, slave = pty.openpty()
        self.settings_before = termios.tcgetattr(slave)
        self.slave = slave
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gradstep", "step", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=self._control_the_terminal,  # so Ctrl-C on it sends SIGINT, as in a shell
        )
        self.screen = ""

    @staticmethod
    def _control_the_terminal() -> None:
        import fcntl
        import termios

        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def _read_more(self, timeout: float = 30.0) -> bool:
        """Add what the program wrote to the screen; False at its end (or after `timeout` s of silence)."""
        import select

        if not select.select([self.master], [], [], timeout)[0]:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # the program exited and its side of the terminal is closed
            return False
        self.screen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return bool(chunk)

    def read_until(self, text: str, occurrences: int = 1) -> None:
        while self.screen.count(text) < occurrences:
            if not self._read_more():
                raise AssertionError(f"{text!r} did not appear; the screen so far:\n{self.screen}")

    def type(self, keys: str, then_wait_for: str = "") -> None:
        """Type `keys` (no Enter added), then wait until one more `then_wait_for` is on the screen."""
        before = self.screen.count(then_wait_for) if then_wait_for else 0
        os.write(self.master, keys.encode())
        if then_wait_for:
            self.read_until(then_wait_for, before + 1)

    def finish(self) -> int:
        """Wait for the program to exit, reading its output meanwhile (a full terminal would block it)."""
        import time

        deadline = time.monotonic() + 30
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read_more(timeout=0.2)
        while self._read_more(timeout=0.2):
            pass
        return self.process.wait(timeout=5)

    def close(self) -> None:
        import termios

        if self.slave < 0:
            return
        self.settings_after = termios.tcgetattr(self.slave)
        self.process.kill()
        self.process.wait()
        os.close(self.master)
        os.close(self.slave)
        self.slave = -1


@pytest.fixture
def terminal():
    sessions = []

    def start(*args: str) -> Terminal:
        sessions.append(Terminal(*args))
        return sessions[-1]

    yield start
    for session in sessions:
        session.close()


PROMPT, LAST_PROMPT = "[Enter/b/q] ", "[b: back, Enter/q: quit] "


def test_on_a_terminal_single_keys_act_without_enter(terminal):
    term = terminal("x*x + y", "x=3", "y=1")
    term.read_until(PROMPT)
    assert "keys act at once" in term.screen
    term.type("n", PROMPT)  # 1
    term.type(" ", PROMPT)  # 2
    term.type("b", PROMPT)  # back to 1, no Enter needed
    term.type("\x1b[C", PROMPT)  # right arrow: 2
    term.type("\x1b[D", PROMPT)  # left arrow: 1
    term.type("\r", PROMPT)  # Enter: 2
    term.type("q")
    assert term.finish() == 0
    assert headers(term.screen) == ["0/6", "1/6", "2/6", "1/6", "2/6", "1/6", "2/6"]
    assert term.screen.endswith(PROMPT + "\n")  # the prompt line is ended


def test_on_a_terminal_the_last_step_pauses_and_you_can_step_back(terminal):
    term = terminal("x*y", "x=1", "y=2")
    term.read_until(PROMPT)
    term.type("n", PROMPT)
    term.type("n", PROMPT)  # forward x*y, the seed, then the two edges
    term.type("n", LAST_PROMPT)  # the last step: every grad, then a pause
    assert "done: every gradient is filled in" in term.screen and "df/dx = 2" in term.screen
    term.type("b", PROMPT)  # back from the end
    term.type("n", LAST_PROMPT)
    term.type("\r")  # Enter at the end quits
    assert term.finish() == 0
    assert headers(term.screen) == ["0/3", "1/3", "2/3", "3/3", "2/3", "3/3"]


def test_on_a_terminal_ctrl_d_ends_cleanly_and_restores_the_terminal(terminal):
    term = terminal("x*y", "x=1", "y=2")
    term.read_until(PROMPT)
    term.type("\x04")
    assert term.finish() == 0
    assert term.screen.endswith(PROMPT + "\n") and "Traceback" not in term.screen
    term.close()
    assert term.settings_after == term.settings_before


def test_on_a_terminal_ctrl_c_exits_130_and_restores_the_terminal(terminal):
    term = terminal("x*y", "x=1", "y=2")
    term.read_until(PROMPT)
    term.type("\x03")
    assert term.finish() == 130
    assert "Traceback" not in term.screen
    term.close()
    assert term.settings_after == term.settings_before


def test_from_a_pipe_keys_are_lines_and_the_last_step_pauses_too():
    result = gradstep("step", "x*y", "x=1", "y=2", keys="\n\n\nb\n\nq\n")
    assert result.returncode == 0, result.stderr
    assert "each key then Enter" in result.stdout
    assert headers(result.stdout) == ["0/3", "1/3", "2/3", "3/3", "2/3", "3/3"]
    assert result.stdout.count(LAST_PROMPT) == 2 and result.stdout.count("done: every gradient") == 2


def test_from_a_pipe_end_of_input_ends_the_prompt_line_and_exits_0():
    result = gradstep("step", "x*y", "x=1", "y=2", keys="\n")
    assert result.returncode == 0, result.stderr
    assert headers(result.stdout) == ["0/3", "1/3"]
    assert result.stdout.endswith(PROMPT + "\n") and result.stderr == ""


def test_version_and_python_dash_m():
    result = gradstep("--version")
    from gradstep import __version__

    assert result.returncode == 0 and result.stdout == f"gradstep {__version__}\n"
    assert "doctor" in gradstep("--help").stdout
