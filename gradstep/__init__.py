"""gradstep: a scalar reverse-mode autodiff engine you can see and step through.

The library is two import packages, `autograd` (the engine, drawing, stepping, compiling) and `nn`
(modules, losses, optimisers, training). This package is the application around them: the
``gradstep`` command line (`gradstep.cli`, also ``python -m gradstep``) and the demos. Nothing in
`autograd` or `nn` imports it.

    import gradstep
    gradstep.__version__
    from gradstep import Value, nn      # the names a first session needs, re-exported
"""

from __future__ import annotations

from importlib import metadata

import nn
from autograd import Value, dot, vsum

try:
    __version__ = metadata.version("gradstep")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    from autograd import __version__

__all__ = ["Value", "__version__", "dot", "nn", "vsum"]
