"""Every Python snippet of the README runs and prints exactly the output the README shows after it.

Conventions in README.md: a ```python block may be followed by a ```text block, which is exactly what
the snippet prints (a snippet without one must print nothing). An HTML comment on the line before the
block names it, ``<!-- snippet NAME -->``; ``after OTHER`` runs snippet OTHER first (its output is
not checked again), ``slow`` marks a snippet that takes more than a few seconds, and ``not-run: why``
a fragment that is not a program (code to paste into the engine, checked by the test it names).
Snippets run in a fresh temporary folder, each in its own namespace.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures import readme_graphs

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- snippet (?P<meta>[^>]*?) -->\n)?"
    r"```python\n(?P<code>.*?)```\n"
    r"(?:\n```text\n(?P<output>.*?)```\n)?",
    re.DOTALL,
)


@dataclass(frozen=True)
class Snippet:
    name: str
    code: str
    output: str
    after: str | None
    slow: bool
    not_run: str | None = None


def snippets(text: str | None = None) -> dict[str, Snippet]:
    found: dict[str, Snippet] = {}
    for number, match in enumerate(_BLOCK.finditer(README.read_text() if text is None else text), start=1):
        words = (match.group("meta") or f"snippet-{number}").split()
        name, after = words[0], words[words.index("after") + 1] if "after" in words else None
        assert name not in found, f"two README snippets are called {name!r}"
        meta = match.group("meta") or ""
        not_run = meta.split("not-run:", 1)[1].strip() if "not-run:" in meta else None
        found[name] = Snippet(
            name, match.group("code"), match.group("output") or "", after, "slow" in words, not_run
        )
    return found


SNIPPETS = snippets()


def run(snippet: Snippet, namespace: dict) -> str:
    """Run the snippet (after the one it continues) and return what it printed."""
    if snippet.after is not None:
        run(SNIPPETS[snippet.after], namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(snippet.code, f"README:{snippet.name}", "exec"), namespace)
    return printed.getvalue()


def test_the_readme_has_its_snippets():
    assert {"neuron", "gradcheck", "moons", "drawing", "steps", "compile", "micrograd"} <= set(SNIPPETS)
    python_blocks = README.read_text().count("```python\n")
    assert len(SNIPPETS) == python_blocks  # every block was parsed


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.slow] if s.slow else [])
        for name, s in SNIPPETS.items()
        if s.not_run is None
    ],
)
def test_snippet_prints_what_the_readme_shows(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["README"])
    state = random.getstate()
    try:
        printed = run(SNIPPETS[name], {"__name__": f"readme_{name}"})
    finally:
        random.setstate(state)
    assert printed == SNIPPETS[name].output


def test_the_neuron_picture_is_the_drawing_snippets_graph(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    run(SNIPPETS["drawing"], namespace)
    assert namespace["graph"].source == readme_graphs()["graph-neuron.svg"]().source


def test_fragments_that_are_not_run_name_the_test_that_checks_them():
    for snippet in SNIPPETS.values():
        if snippet.not_run is not None:
            named = re.findall(r"tests/\w+\.py", snippet.not_run)
            assert named and all((ROOT / path).is_file() for path in named), snippet.name
            assert snippet.output == ""


def test_the_parser_reads_outputs_names_and_continuations():
    text = (
        "<!-- snippet a -->\n```python\nprint(1)\n```\n\n```text\n1\n```\n"
        "<!-- snippet b after a slow -->\n```python\npass\n```\n"
        "```python\nx = 1\n```\n"
    )
    found = snippets(text)
    assert list(found) == ["a", "b", "snippet-3"]
    assert found["a"].output == "1\n" and found["b"].after == "a" and found["b"].slow
    assert found["snippet-3"].output == "" and not found["snippet-3"].slow


def readme_commands() -> list[str]:
    """The ``gradstep ...`` lines of the README's bash blocks (comments removed)."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.DOTALL)
    return [
        line.split("   #")[0].split("  #")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("gradstep ")
    ]


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command, tmp_path):
    import shlex
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "gradstep", *shlex.split(command)[1:]],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
