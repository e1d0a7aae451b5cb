"""Make the README's screenshot of gradstep in JupyterLab: a drawing and a live stepper, inline.

    python docs/make_jupyter_screenshot.py

Starts JupyterLab on 127.0.0.1 with a temporary root and configuration (as tests/test_notebooks.py
does), opens a notebook that draws the lecture neuron and shows its stepper, runs it, steps the
stepper a few times and saves ``docs/jupyter.png``. Needs ``pip install -e ".[dev]"`` and Debian's
chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402  (one list of flags, shared with the tests)
from test_notebooks import _stepper_frame, _write_notebook, jupyterlab_server, run_all_cells  # noqa: E402

from autograd.files import atomic_write  # noqa: E402

CELLS = [
    "import autograd\n"
    "from autograd import Value, draw\n\n"
    "x1, x2 = Value(2.0, 'x1'), Value(0.0, 'x2')\n"
    "w1, w2 = Value(-3.0, 'w1'), Value(1.0, 'w2')\n"
    "b = Value(6.8813735870195432, 'b')\n"
    "o = (x1 * w1 + x2 * w2 + b).tanh()\n"
    "o.backward()\n"
    "draw(o, parameters=[w1, w2, b])",
    "autograd.stepper(o, title='o = tanh(x1·w1 + x2·w2 + b)', parameters=[w1, w2, b], height=560)",
]
VIEWPORT = {"width": 1280, "height": 1400}
STEPS = 9


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        root, home = Path(folder) / "root", Path(folder) / "home"
        root.mkdir()
        home.mkdir()
        _write_notebook(root / "gradstep.ipynb", CELLS)
        with jupyterlab_server(root, home) as (base, token):
            context = playwright.chromium.launch_persistent_context(
                str(home / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport=VIEWPORT,
            )
            try:
                tab = context.new_page()
                tab.goto(f"{base}/lab/tree/gradstep.ipynb?token={token}", timeout=60_000)
                tab.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
                # Close the file browser so the notebook has the width, and dismiss the news prompt.
                tab.locator(".lm-MenuBar-itemLabel", has_text="View").first.click()
                tab.locator(".lm-Menu-itemLabel", has_text="File Browser").first.click()
                no_news = tab.get_by_role("button", name="No")
                run_all_cells(tab)
                tab.locator("iframe.gradstep-frame").wait_for(state="visible", timeout=120_000)
                deadline = time.monotonic() + 30
                while (frame := _stepper_frame(tab)) is None and time.monotonic() < deadline:
                    time.sleep(0.2)
                if frame is None:
                    raise SystemExit("the stepper did not load")
                for _ in range(STEPS):
                    frame.locator("#next").click()
                if no_news.count():
                    no_news.first.click()
                tab.locator(".jp-Notebook .jp-Cell").first.click()
                time.sleep(1.0)
                atomic_write(DOCS / "jupyter.png", tab.screenshot())
                print(f"wrote {DOCS / 'jupyter.png'}")
            finally:
                context.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
