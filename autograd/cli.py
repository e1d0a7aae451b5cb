"""The `gradstep` command line (placeholder until the stepping issue lands its full CLI)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "demo":
        from demos.__main__ import main as demo_main

        return demo_main(args[1:])
    print("usage: gradstep demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
