"""notebooks/: the tutorial notebooks are current and run, and gradstep's outputs work in JupyterLab.

CI runs these with GRADSTEP_REQUIRE_JUPYTER=1 (and GRADSTEP_REQUIRE_BROWSER=1 for the JupyterLab test)
after ``pip install ".[notebook,browser]"``.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def load_builder():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.jupyter
def test_saved_notebooks_have_the_cells_of_the_script_and_their_outputs(jupyter):
    builder = load_builder()
    assert builder.stale() == [], "run: python notebooks/make_notebooks.py"
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(builder.NOTEBOOKS)


@pytest.mark.jupyter
def test_the_staleness_check_notices_an_edited_cell(jupyter, tmp_path):
    import nbformat

    builder = load_builder()
    for name in builder.NOTEBOOKS:
        (tmp_path / name).write_bytes((NOTEBOOKS / name).read_bytes())
    first = next(iter(builder.NOTEBOOKS))
    notebook = nbformat.read(tmp_path / first, as_version=4)
    next(c for c in notebook.cells if c.cell_type == "code").source += "\nprint('edited')"
    nbformat.write(notebook, tmp_path / first)
    assert builder.stale(tmp_path) == [f"{first}: its cells differ from notebooks/make_notebooks.py"]
    (tmp_path / first).unlink()
    assert builder.stale(tmp_path) == [f"{first}: missing"]


@pytest.mark.jupyter
@pytest.mark.slow
@pytest.mark.parametrize("name", list(load_builder().NOTEBOOKS))
def test_every_notebook_runs_without_error(jupyter, name):
    """Every cell of the script's notebook executes in a fresh kernel (nbclient raises on an error)."""
    builder = load_builder()
    notebook = builder.execute(builder.build(builder.NOTEBOOKS[name]))
    errors = [
        o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    assert all(c.execution_count for c in notebook.cells if c.cell_type == "code")


# ---------------------------------------------------------------------------------------------------
# JupyterLab in a real browser
# ---------------------------------------------------------------------------------------------------

_DEMO_CELLS = [
    "import autograd, nn\n"
    "from autograd import Value, draw\n"
    "x, y = Value(3.0, 'x'), Value(1.0, 'y')\n"
    "out = x * x + y\n"
    "autograd.stepper(out, title='x*x + y')",
    "model = nn.MLP(2, [4, 4, 1], rng=0)\n"
    "loss = nn.squared_error([model([0.5, -1.0])], [1.0])\n"
    "loss.backward()\n"
    "draw(loss, parameters=model)",
    "",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyterlab_server(root: Path, home: Path):
    """JupyterLab on 127.0.0.1 (free port, random token, temp root and config), always stopped."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=",
        "--LabApp.extension_manager=readonly",  # no PyPI queries
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                raise AssertionError(f"JupyterLab exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"JupyterLab did not start in 90 s: {(home / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _write_notebook(path: Path, sources: list[str]) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)


def run_all_cells(tab) -> None:
    """Run > Run All Cells, once the kernel is idle (a key press before that may be lost)."""
    tab.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)
    tab.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    tab.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def _stepper_frame(tab):
    for frame in tab.frames:
        if frame.url == "about:srcdoc" and frame.query_selector("#counter") is not None:
            return frame
    return None


def _counter(frame) -> str:
    return frame.locator("#counter").text_content()


@pytest.mark.jupyter
@pytest.mark.browser
@pytest.mark.slow
def test_jupyterlab_shows_the_stepper_and_the_drawing_and_keeps_typing_intact(jupyter, browser, tmp_path):
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    _write_notebook(root / "live.ipynb", _DEMO_CELLS)
    # The same cells already executed by nbclient and saved: opened in JupyterLab, it is not trusted.
    builder = load_builder()
    import nbformat

    executed = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )
    executed.cells = [nbformat.v4.new_code_cell(source) for source in _DEMO_CELLS]
    builder.execute(executed, cwd=root)
    nbformat.write(executed, root / "saved.ipynb")

    with jupyterlab_server(root, home) as (base, token):
        tab = browser.new_page()
        tab.set_viewport_size({"width": 1280, "height": 900})
        problems: list[str] = []
        tab.on("pageerror", lambda error: problems.append(str(error)))
        try:
            tab.goto(f"{base}/lab/tree/live.ipynb?token={token}", timeout=60_000)
            tab.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
            run_all_cells(tab)
            # The stepper: live in its sandboxed frame, the fallback picture hidden.
            tab.locator(".gradstep-output iframe.gradstep-frame").wait_for(state="visible", timeout=120_000)
            assert not tab.locator(".gradstep-output .gradstep-fallback").is_visible()
            frame_box = tab.locator(".gradstep-output iframe.gradstep-frame").bounding_box()
            area_box = tab.locator(".jp-Cell").first.locator(".jp-OutputArea-output").bounding_box()
            assert frame_box["width"] <= area_box["width"] + 1  # as wide as the output area, no wider
            deadline = time.monotonic() + 30
            while (frame := _stepper_frame(tab)) is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert frame is not None, "the stepper page did not load in its frame"
            assert _counter(frame).startswith("step 0 of ")
            frame.locator("#next").click()
            frame.locator("#next").click()
            assert _counter(frame).startswith("step 2 of ")
            frame.locator("#graph").click()  # focus inside the frame: keys go to the page
            tab.keyboard.press("ArrowRight")
            assert _counter(frame).startswith("step 3 of ")
            tab.keyboard.press("ArrowLeft")
            assert _counter(frame).startswith("step 2 of ")

            # The drawing: fits the output area; a click shows it at natural size.
            picture = tab.locator(".gradstep-graph img").first
            picture.wait_for(state="visible", timeout=120_000)
            output = tab.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
            fitted = picture.bounding_box()["width"]
            assert fitted <= output.bounding_box()["width"] + 1
            natural = picture.evaluate("img => img.naturalWidth")
            assert natural > fitted * 1.3  # a 2-4-4-1 MLP is wider than the cell
            picture.click()
            assert picture.bounding_box()["width"] == pytest.approx(natural, abs=2)
            picture.click()
            assert picture.bounding_box()["width"] == pytest.approx(fitted, abs=2)

            # Type a formula with spaces into another cell: every space arrives, the stepper stays put.
            editor = tab.locator(".jp-Cell").nth(2).locator(".cm-content")
            editor.click()
            formula = "z = x * x + y  # spaces: 1 2 3"
            tab.keyboard.type(formula)
            assert editor.text_content() == formula
            assert _counter(frame).startswith("step 2 of ")
            assert problems == []

            # A saved notebook opened untrusted: JupyterLab sanitises the HTML output (no iframe, no
            # script) and the fallback picture shows instead.
            tab.goto(f"{base}/lab/tree/saved.ipynb?token={token}", timeout=60_000)
            tab.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
            cells = tab.locator(".jp-NotebookPanel:visible .jp-Cell")
            fallback = cells.first.locator(".jp-OutputArea-output img")
            fallback.wait_for(state="visible", timeout=120_000)
            assert (
                tab.locator("iframe").count() == 0
                and tab.locator(".jp-OutputArea-output script").count() == 0
            )
            assert fallback.evaluate("img => img.naturalWidth") > 0  # the stepper's picture, decoded
            drawing = cells.nth(1).locator(".jp-OutputArea-output img")
            assert drawing.is_visible()
            drawing_width = drawing.bounding_box()["width"]
            assert drawing_width <= cells.nth(1).locator(".jp-OutputArea-output").bounding_box()["width"] + 1
            assert not cells.nth(1).locator("input").is_visible()  # the zoom checkbox stays hidden
        except Exception:
            tab.screenshot(path=str(home / "failure.png"))  # kept in pytest's tmp_path for a look
            raise
        finally:
            tab.close()

    # The exported HTML (nbconvert): with scripts off, the fallback picture and the drawing show.
    exported = tmp_path / "saved.html"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbconvert",
            "--to",
            "html",
            str(root / "saved.ipynb"),
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    context = browser.browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 800})
    try:
        static = context.new_page()
        static.goto(exported.as_uri())
        fallback = static.locator(".gradstep-fallback img")
        assert fallback.is_visible()
        assert not static.locator("iframe.gradstep-frame").is_visible()
        box = fallback.bounding_box()
        assert 0 < box["width"] <= 1000
        drawing = static.locator(".gradstep-graph img")
        assert drawing.is_visible() and drawing.bounding_box()["width"] <= 1000  # fitted, not clipped
        source = base64.b64decode(fallback.get_attribute("src").split(",", 1)[1]).decode()
        assert "<svg" in source and "grad" in source
    finally:
        context.close()
    # With scripts on, the same file shows the live page instead.
    live = browser.new_page()
    try:
        live.goto(exported.as_uri())
        live.locator("iframe.gradstep-frame").wait_for(state="visible", timeout=30_000)
        assert not live.locator(".gradstep-fallback").is_visible()
    finally:
        live.close()
    assert json.loads((root / "saved.ipynb").read_text())["cells"][0]["outputs"]
