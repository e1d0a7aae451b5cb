"""``python -m gradstep``: the same command line as the ``gradstep`` script."""

from .cli import main

raise SystemExit(main())
