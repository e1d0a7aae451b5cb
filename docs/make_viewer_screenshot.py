"""Regenerate docs/viewer.png: the training viewer of `gradstep demo moons`, mid-run, one point picked.

Run from the repository root with Playwright and Chromium installed (``pip install ".[dev]"``,
Debian's ``chromium`` package):

    python docs/make_viewer_screenshot.py [--chromium /usr/bin/chromium]

It trains the moons demo's network (100 SGD steps, recorded), writes the page into a temporary
folder, opens it in headless Chromium at 1440×1000, goes to step 30, picks a training point and
saves the screenshot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demos import two_moons  # noqa: E402

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--step", type=int, default=30)
    parser.add_argument("--example", type=int, default=None, help="the training point to pick")
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "viewer.png"))
    options = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        _, history, _, _ = two_moons.train(progress=False)
        path = two_moons.write_training_page(history, Path(folder), stepper_pages=[])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=options.chromium, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(path.as_uri() + f"#step={options.step}")
            example = "document.querySelector('#surface circle.pickable').dataset.example"
            if options.example is not None:
                example = str(options.example)
            page.evaluate(f"() => window.gradstep.viewer.pick(Number({example}))")
            page.screenshot(path=options.output)
            browser.close()
    print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
