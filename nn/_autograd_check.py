"""Fail early, in one line, when ``import autograd`` is not gradstep's engine (the HIPS autograd clash).

``nn`` imports this first: if HIPS autograd's ``__init__.py`` has replaced gradstep's (see
`autograd.name_clash`), ``import nn`` raises an ImportError saying so, instead of a puzzling
"cannot import name 'Value' from 'autograd'".
"""

from __future__ import annotations

import autograd

if getattr(autograd, "__gradstep_engine__", False) is not True:
    try:
        from autograd.name_clash import clash_message

        message = clash_message(autograd)
    except ImportError:  # gradstep's autograd folder is not on the path at all
        message = None
    raise ImportError(
        message
        or f"gradstep: `import autograd` loads {getattr(autograd, '__file__', None)}, which is not "
        "gradstep's engine (HIPS autograd?); install gradstep into its own virtual environment"
    )
