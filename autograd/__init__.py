"""gradstep's autodiff engine: scalar `Value`s that record a graph, and backprop over it.

The core (`Value`, `vsum`, `dot`, `topological_order`, the op registry `OPS`) imports nothing
optional. Everything else (gradient checking, stable helpers, stepping, drawing, the browser
stepper, the expression parser, compiling) is loaded on first use, so ``import autograd`` stays
fast and works without Graphviz or NumPy installed.

Note: HIPS autograd, an unrelated project, also installs a package named ``autograd``; do not
install both into one environment.
"""

from __future__ import annotations

import importlib
from typing import Any

from .engine import OPS, OpSpec, Value, dot, register_op, topological_order, vsum

__version__ = "0.1.0"

# public name -> submodule that defines it; imported lazily on first attribute access.
_LAZY_EXPORTS: dict[str, str] = {
    # gradcheck.py
    "numerical_grad": "gradcheck",
    "check_grads": "gradcheck",
    "GradCheckReport": "gradcheck",
    "GradCheckEntry": "gradcheck",
    "GradientMismatchError": "gradcheck",
    # functions.py: numerically stable composites built from the primitives
    "logsumexp": "functions",
    "softmax": "functions",
    "log_softmax": "functions",
    "softplus": "functions",
    "log_sigmoid": "functions",
    "vmax": "functions",
    # steps.py
    "chain_rule_steps": "steps",
    "ChainRuleStep": "steps",
    "training_step_steps": "steps",
    "forward_steps": "steps",
    # drawing/render.py
    "draw": "drawing.render",
    "GraphvizNotFoundError": "drawing.render",
    "RenderError": "drawing.render",
    # drawing/page.py
    "write_stepper_html": "drawing.page",
    "stepper_page": "drawing.page",
    "StepperTooLargeError": "drawing.page",
    # drawing/views.py: page objects that save or show themselves inline in a notebook
    "stepper": "drawing.views",
    "Stepper": "drawing.views",
    # expr.py
    "parse": "expr",
    "ExpressionError": "expr",
    # compiler/ (a package)
    "compile": "compiler",
    "CompiledFunction": "compiler",
    "TracingError": "compiler",
}

__all__ = [
    "OPS",
    "OpSpec",
    "Value",
    "dot",
    "register_op",
    "topological_order",
    "vsum",
    *_LAZY_EXPORTS,
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_EXPORTS))
