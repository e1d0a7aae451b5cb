"""Make the README's screenshots of the browser stepper in docs/, at 1280x800.

    python docs/make_stepper_screenshots.py

Writes two stepper pages to a temporary folder (the lecture neuron, made after backward(), and the
moons demo's example page), opens them in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright, with the same flags as the browser tests) and saves ``docs/stepper-backward.png`` (a
chain-rule edge in the scalar view), ``docs/stepper-moons-neurons.png`` (the moons net's backward
pass in the neuron view) and ``docs/stepper-moons-update.png`` (an SGD update of one neuron).
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
from demos import two_moons  # noqa: E402

FORMULA = "tanh(x1*w1 + x2*w2 + b)"
VARIABLES = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
VIEWPORT = {"width": 1280, "height": 800}


def main() -> int:
    from playwright.sync_api import sync_playwright

    root = parse(FORMULA, **VARIABLES)
    root.backward()  # the README's order: the page still shows a fresh pass
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        neuron_page = write_stepper_html(root, Path(folder) / "neuron.html", title=FORMULA)
        X, y, _ = two_moons.load_moons()
        two_moons.write_graph_files(X, y, Path(folder))
        moons_page = Path(folder) / "example_stepper.html"
        context = playwright.chromium.launch_persistent_context(
            str(Path(folder) / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        # (file, page, phase to stop at, which step of that phase: first or last)
        shots = [
            ("stepper-backward.png", neuron_page, "backward", 6),
            ("stepper-moons-neurons.png", moons_page, "backward", 20),
            ("stepper-moons-update.png", moons_page, "update", 5),
        ]
        try:
            for name, path, phase, offset in shots:
                page = context.new_page()
                page.goto(path.as_uri())
                page.evaluate(
                    """([phase, offset]) => {
                        const s = window.gradstep.stepper;
                        let first = 0;
                        while (s.phase(first) !== phase) first += 1;
                        s.go(first + offset);
                    }""",
                    [phase, offset],
                )
                atomic_write(DOCS / name, page.screenshot())
                print(f"wrote {DOCS / name}")
                page.close()
        finally:
            context.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
