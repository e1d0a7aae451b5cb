"""Make the two screenshots of the browser stepper in docs/: its first and its last step.

    python docs/make_stepper_screenshots.py

Writes the lecture neuron's stepper page to a temporary folder, opens it in headless Chromium
(Debian's /usr/bin/chromium driven by Playwright, with the same flags as the browser tests) and
saves ``docs/stepper-first.png`` (step 0: the output seeded with grad 1) and
``docs/stepper-last.png`` (the last chain-rule step: every grad filled in).
Needs the dev extras: ``pip install -e ".[dev]"`` and ``apt-get install chromium``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402  (one list of flags, shared with the tests)

from autograd import parse, write_stepper_html  # noqa: E402
from autograd.files import atomic_write  # noqa: E402

FORMULA = "tanh(x1*w1 + x2*w2 + b)"
VARIABLES = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
VIEWPORT = {"width": 1100, "height": 640}


def main() -> int:
    from playwright.sync_api import sync_playwright

    root = parse(FORMULA, **VARIABLES)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_path = write_stepper_html(root, Path(folder) / "neuron.html", title=FORMULA)
        context = playwright.chromium.launch_persistent_context(
            str(Path(folder) / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        try:
            page = context.new_page()
            page.goto(page_path.as_uri())
            shots = {"stepper-first.png": "Home", "stepper-last.png": "End"}
            for name, key in shots.items():
                page.keyboard.press(key)
                atomic_write(DOCS / name, page.screenshot(full_page=True))
                print(f"wrote {DOCS / name}")
        finally:
            context.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
