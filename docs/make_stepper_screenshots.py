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
sys.path.insert(0, str(REPO))

from autograd import parse, write_stepper_html  # noqa: E402
from autograd.files import atomic_write  # noqa: E402
from tests.fixtures import (  # noqa: E402  (one browser set-up and one neuron, shared with the tests)
    CHROMIUM,
    CHROMIUM_FLAGS,
    LECTURE_NEURON_FORMULA,
    LECTURE_NEURON_INPUTS,
)

FORMULA = LECTURE_NEURON_FORMULA
VARIABLES = LECTURE_NEURON_INPUTS
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
