"""Draw the graphs the README shows (docs/graph-*.svg), with `autograd.draw`, never by hand.

    python docs/make_graph_images.py          # writes the SVGs next to this script
    python docs/make_graph_images.py --png    # also PNGs (rasterised by resvg, a gradstep dependency)

The pictures are defined in tests/fixtures.py (`readme_graphs`), so that tests/test_render.py can
check the committed files: the lecture neuron after backward, the same neuron coloured by its
gradients, an MLP 2-4-4-1 with a squared-error loss grouped by module, a 12-example batch
loss of that MLP cut to 40 values with `max_nodes`, and tanh's derivative built as a graph
(`grad(..., create_graph=True)`) with the backward pass's nodes outlined.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # run from a checkout without installing

from tests.fixtures import readme_graphs  # noqa: E402  (the same graphs the tests check)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", action="store_true", help="also write a PNG next to each SVG")
    parser.add_argument("--out", type=Path, default=DOCS, help="output folder (default: docs/)")
    options = parser.parse_args(argv)
    for name, make in readme_graphs().items():
        graph = make()
        path = graph.save(options.out / name)
        print(f"{path}: {graph!r}")
        if options.png:
            print(graph.save(path.with_suffix(".png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
