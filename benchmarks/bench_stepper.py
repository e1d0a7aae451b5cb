"""The stepper page at the size of a real net: build time, page size, load time and time per step.

    python benchmarks/bench_stepper.py        # about a minute; needs playwright and /usr/bin/chromium

Two pages, as the stepper issue names them: the moons demo's example page (one example's whole
training step of the 2-16-16-1 MLP under the demo's SGD) and a 2-16-16-1 MLP's 4-example batch hinge
loss under Adam. Before timing, each page is checked in the browser: its step count and phases are
the embedded ones and its last step shows the recorded numbers. Rounds alternate between the pages.
Load time is navigation start to the end of the load event (the stepper has drawn step 0 by then);
time per step is ``stepper.go(k)`` plus the next frame, over every step of the page's opening view
(and over the first 400 steps of the scalar view, for comparison). Targets: load < 1 s, < 50 ms a step.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

import nn  # noqa: E402
from autograd import Value, topological_order  # noqa: E402
from autograd.drawing.page import stepper_page  # noqa: E402
from demos import two_moons  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LOAD_TARGET_S = 1.0
STEP_TARGET_MS = 50.0
ROUNDS = 2
SCALAR_STEPS_TIMED = 400  # the scalar view is timed over its first steps (all of them take minutes)


def moons_example() -> tuple[str, object]:
    X, y, _ = two_moons.load_moons()
    model = two_moons.make_model()
    losses = two_moons.hinge_losses(model, X, y)
    index = max(range(len(X)), key=losses.__getitem__)
    values = len(topological_order(two_moons.example_loss(model, X[index], y[index])))

    def build():
        return stepper_page(
            lambda: two_moons.example_loss(model, X[index], y[index]),
            two_moons.make_optimizer(model),
            parameters=model,
            progress=False,
        )

    return f"moons example ({values} values)", build


def batch_of_four() -> tuple[str, object]:
    model = nn.MLP(2, [16, 16, 1], activation="relu", rng=3)
    X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.5], [0.1, 0.9]]
    y = [1, -1, 1, -1]

    def loss_fn() -> Value:
        return nn.hinge([model(x) for x in X], y)

    values = len(topological_order(loss_fn()))

    def build():
        return stepper_page(loss_fn, nn.Adam(model.parameters(), lr=0.01), parameters=model, progress=False)

    return f"2-16-16-1 batch of 4 ({values} values)", build


_WALK = """async ([view, limit]) => {
    const stepper = window.gradstep.stepper;
    if (view) stepper.setView(view);
    const times = [];
    for (let k = 0; k < Math.min(stepper.count, limit); k++) {
        const start = performance.now();
        stepper.go(k);
        await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
        times.push(performance.now() - start);
    }
    return times;
}"""


def check_page(page, document: str) -> None:
    """The page in the browser shows what was embedded: step count, phases, the last step's title."""
    data = json.loads(re.search(r'id="stepper-data">(.*?)</script>', document, re.DOTALL).group(1))
    steps = data["neuronSteps"] if data["views"]["default"] == "neuron" else data["steps"]
    stepper = "window.gradstep.stepper"
    assert page.evaluate(f"{stepper}.count") == len(steps)
    kinds = page.evaluate(f"() => Array.from({{length: {stepper}.count}}, (_, k) => {stepper}.stepKind(k))")
    assert kinds == [step["phase"] for step in steps]
    page.evaluate(f"{stepper}.go({stepper}.count - 1)")
    assert page.text_content("#headline") == steps[-1]["title"]


def main() -> int:
    from playwright.sync_api import sync_playwright

    cases = [moons_example(), batch_of_four()]
    results: dict[str, dict[str, list[float]]] = {name: {} for name, _ in cases}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for round_number in range(ROUNDS):
            for name, build in cases:
                start = time.perf_counter()
                built = build()
                results[name].setdefault("build", []).append(time.perf_counter() - start)
                path = built.save(Path(folder) / f"{len(sizes)}-{round_number}.html")
                sizes[name] = path.stat().st_size
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(path.as_uri())
                load = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
                results[name].setdefault("load", []).append(load / 1000)
                if round_number == 0:
                    check_page(page, built.html())
                    page.evaluate("window.gradstep.stepper.go(0)")
                view = page.evaluate("window.gradstep.stepper.view")
                results[name].setdefault(f"step ({view} view)", []).extend(
                    page.evaluate(_WALK, [None, 10**9])
                )
                if page.evaluate("!document.getElementById('view-scalar').disabled") and view != "scalar":
                    walked = page.evaluate(_WALK, ["scalar", SCALAR_STEPS_TIMED])
                    results[name].setdefault("step (scalar view)", []).extend(walked)
                page.close()
        browser.close()

    missed = []
    print(f"{'page':<36} {'build':>8} {'size':>9} {'load':>8}   time per step (median / 90th / max)")
    for name, measured in results.items():
        build_s = min(measured["build"])
        load_s = statistics.median(measured["load"])
        print(f"{name:<36} {build_s:>6.2f} s {sizes[name] / 1e6:>6.2f} MB {load_s:>6.2f} s")
        if load_s >= LOAD_TARGET_S:
            missed.append(f"{name}: load {load_s:.2f} s (target < {LOAD_TARGET_S} s)")
        for key, times in measured.items():
            if not key.startswith("step"):
                continue
            ordered = sorted(times)
            median = statistics.median(ordered)
            p90 = ordered[int(0.9 * (len(ordered) - 1))]
            print(
                f"    {key:<30} {len(ordered) // ROUNDS:>5} steps timed: "
                f"{median:5.1f} / {p90:5.1f} / {ordered[-1]:6.1f} ms"
            )
            if median >= STEP_TARGET_MS:
                missed.append(f"{name}, {key}: median {median:.1f} ms (target < {STEP_TARGET_MS} ms)")
    for line in missed:
        print(f"MISSED: {line}")
    if not missed:
        print(f"all targets met (load < {LOAD_TARGET_S} s, median step < {STEP_TARGET_MS} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
