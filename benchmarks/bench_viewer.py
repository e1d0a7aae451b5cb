"""The training viewer: recording overhead against a plain `fit`, page build time, page size, load time.

    python benchmarks/bench_viewer.py [--rounds 4] [--chromium /usr/bin/chromium]

The run is the moons demo's: micrograd's 2-16-16-1 relu MLP, 100 full-batch SGD steps on 100 points
(50 more as the test set). Correctness first: the recorded run's losses must equal the plain run's bit
for bit. Then plain and recorded fits alternate for `--rounds` rounds in this one process; the
overhead is the recorder's own time (inside its methods) over the plain fit's, medians of the rounds
(the difference of the wall times is printed too, but on a shared machine it is mostly noise).
The page is built once without stepper pages (they are the stepper's cost, not the viewer's) and
once with the default four; its size is checked against the 5 MB budget,
and Chromium (headless, via Playwright) opens it from disk three times: the load time is from
navigation until ``window.gradstep.viewer`` exists; a step is timed inside the page, from ``go(n)``
until the frame after it is painted (two animation frames, so at least one 60 Hz frame is included).
Targets: recording overhead ≤ 25 %, page ≤ 5 MB, load < 1 s, a step < 50 ms. MISSED targets print.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

import nn  # noqa: E402
from demos import two_moons  # noqa: E402

TARGETS = {"overhead": 0.25, "size": 5_000_000, "load": 1.0, "step": 0.050}
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
]


X, Y, _ = two_moons.load_moons()
X_TEST, Y_TEST, _ = two_moons.load_moons(two_moons.N_TEST, two_moons.SEED + 1)


RECORDER_SECONDS = [0.0]


def _timed(method):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            RECORDER_SECONDS[0] += time.perf_counter() - started

    return wrapper


for _name in ("_begin", "_before_step", "_after_step", "_finish"):
    setattr(nn.Recorder, _name, _timed(getattr(nn.Recorder, _name)))


def timed_train(record: bool):
    """The demo's 100-step fit on the demo's data (loaded once, outside the timing)."""
    model = two_moons.make_model()
    optimizer = nn.SGD(model.parameters(), lr=nn.LinearDecay(1.0, 0.1, two_moons.STEPS))

    def loss_fn():
        loss, accuracy = two_moons.loss_and_accuracy(model, X, Y)
        return loss, {"accuracy": accuracy}

    recorder = nn.Recorder(model, X, Y, loss="hinge", X_test=X_TEST, y_test=Y_TEST) if record else None
    started = time.perf_counter()
    history = nn.fit(loss_fn, optimizer, two_moons.STEPS, progress="none", record=recorder)
    return time.perf_counter() - started, history


def browser_times(path: Path, chromium: str) -> tuple[list[float], float, float]:
    from playwright.sync_api import sync_playwright

    loads, steps, scripts = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        for _ in range(3):
            page = browser.new_page()
            page.set_viewport_size({"width": 1280, "height": 800})
            started = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_function("() => window.gradstep && window.gradstep.viewer")
            loads.append(time.perf_counter() - started)
            # In the page: the script's work for go(n), and until the frame after it is painted.
            timings = page.evaluate(
                """async () => {
                    const viewer = window.gradstep.viewer, script = [], painted = [];
                    const frame = () =>
                        new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
                    for (let n = 0; n < 30; n++) {
                        await frame();
                        const start = performance.now();
                        viewer.go((n * 37) % viewer.count);
                        script.push(performance.now() - start);
                        await frame();
                        painted.push(performance.now() - start);
                    }
                    return [script, painted];
                }"""
            )
            scripts.extend(t / 1000 for t in timings[0])
            steps.extend(t / 1000 for t in timings[1])
            page.close()
        browser.close()
    return loads, statistics.median(scripts), statistics.median(steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args(argv)

    _, plain = timed_train(False)
    _, recorded = timed_train(True)
    if plain.losses != recorded.losses:
        print("ERROR: recording changed the training (losses differ)")
        return 1
    plain_times, recorded_times, inside = [], [], []
    for round_number in range(options.rounds):  # alternate which goes first
        for record in (False, True) if round_number % 2 == 0 else (True, False):
            RECORDER_SECONDS[0] = 0.0
            seconds, history = timed_train(record)
            if record:
                recorded_times.append(seconds)
                inside.append(RECORDER_SECONDS[0])
                recorded = history
            else:
                plain_times.append(seconds)
    # The recorder's own time (inside its four methods) is steadier than a difference of two noisy
    # wall times on a shared machine; both are printed, the target is checked on the former.
    overhead = statistics.median(inside) / statistics.median(plain_times)
    wall = statistics.median(recorded_times) / statistics.median(plain_times) - 1.0
    run = recorded.run
    missed = []
    print(
        f"fit, 100 steps: plain {statistics.median(plain_times):.2f} s, recorded "
        f"{statistics.median(recorded_times):.2f} s (medians of {options.rounds}, wall-time difference "
        f"{wall:+.1%}); time inside the recorder {statistics.median(inside):.2f} s = {overhead:.1%} "
        "of the plain fit"
    )
    if overhead > TARGETS["overhead"]:
        missed.append(f"recording overhead {overhead:.1%} > {TARGETS['overhead']:.0%}")

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        page = run.page()
        build = time.perf_counter() - started
        path = page.save(Path(folder) / "training.html")
        size = path.stat().st_size
        started = time.perf_counter()
        run.write_html(Path(folder) / "with_steppers.html")
        build_all = time.perf_counter() - started
        steppers = sorted((Path(folder) / "with_steppers_steppers").glob("*.html"))
        stepper_bytes = sum(p.stat().st_size for p in steppers)
        print(
            f"page build: {build:.1f} s ({len(run.frames)} recorded steps); with the {len(steppers)} default "
            f"stepper pages {build_all:.1f} s"
        )
        print(
            f"page size: {size / 1e6:.2f} MB (budget {TARGETS['size'] / 1e6:.0f} MB); stepper pages "
            f"{stepper_bytes / 1e6:.1f} MB in their folder"
        )
        if size > TARGETS["size"]:
            missed.append(f"page size {size / 1e6:.2f} MB > {TARGETS['size'] / 1e6:.0f} MB")
        try:
            loads, script, step = browser_times(path, options.chromium)
        except Exception as error:  # no Playwright or no Chromium: say so, time the rest
            print(f"browser timing skipped: {str(error).splitlines()[0]}")
        else:
            load = statistics.median(loads)
            print(
                f"Chromium: load {load * 1000:.0f} ms "
                f"(median of 3: {', '.join(f'{t * 1000:.0f}' for t in loads)}), "
                f"a step: go(n) {script * 1000:.1f} ms of script, {step * 1000:.1f} ms until the next frame "
                "is painted (medians of 90)"
            )
            if load > TARGETS["load"]:
                missed.append(f"load {load:.2f} s > {TARGETS['load']} s")
            if step > TARGETS["step"]:
                missed.append(f"step {step * 1000:.0f} ms > {TARGETS['step'] * 1000:.0f} ms")
    for line in missed:
        print(f"MISSED: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
