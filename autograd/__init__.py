"""gradstep's autodiff engine: scalar `Value`s that record a graph, and backprop over it.

The core (`Value`, `vsum`, `dot`, `topological_order`, the op registry `OPS`) imports nothing
optional. Everything else (gradient checking, stable helpers, stepping, drawing, the browser
stepper, the expression parser, compiling) is loaded on first use, so ``import autograd`` stays
fast and works without Graphviz or NumPy installed.

Note: HIPS autograd, an unrelated project, also installs a package named ``autograd``; the two cannot
share one environment. Importing this package prints one line on stderr when they do
(`autograd.name_clash`; ``gradstep doctor`` reports it too).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from .engine import OPS, OpSpec, Value, dot, register_op, topological_order, vsum
from .name_clash import warn_if_clashing

if TYPE_CHECKING:
    # The lazily exported names, so that mypy and editors see their real types (`X as X` marks a
    # re-export). Kept equal to _LAZY_EXPORTS by tests/test_style.py.
    from .compiler import CompiledFunction as CompiledFunction
    from .compiler import TracingError as TracingError
    from .compiler import compile as compile
    from .derivatives import backward_nodes as backward_nodes
    from .derivatives import grad as grad
    from .derivatives import hessian as hessian
    from .derivatives import hvp as hvp
    from .drawing.page import StepperTooLargeError as StepperTooLargeError
    from .drawing.page import stepper_page as stepper_page
    from .drawing.page import write_stepper_html as write_stepper_html
    from .drawing.render import GraphvizNotFoundError as GraphvizNotFoundError
    from .drawing.render import RenderError as RenderError
    from .drawing.render import RenderTimeoutError as RenderTimeoutError
    from .drawing.render import draw as draw
    from .drawing.views import Stepper as Stepper
    from .drawing.views import stepper as stepper
    from .expr import ExpressionError as ExpressionError
    from .expr import parse as parse
    from .forward import TangentStep as TangentStep
    from .forward import jvp as jvp
    from .forward import tangent_steps as tangent_steps
    from .functions import log_sigmoid as log_sigmoid
    from .functions import log_softmax as log_softmax
    from .functions import logsumexp as logsumexp
    from .functions import softmax as softmax
    from .functions import softplus as softplus
    from .functions import vmax as vmax
    from .gradcheck import GradCheckEntry as GradCheckEntry
    from .gradcheck import GradCheckReport as GradCheckReport
    from .gradcheck import GradientMismatchError as GradientMismatchError
    from .gradcheck import check_grads as check_grads
    from .gradcheck import numerical_grad as numerical_grad
    from .steps import ChainRuleStep as ChainRuleStep
    from .steps import chain_rule_steps as chain_rule_steps
    from .steps import forward_steps as forward_steps
    from .steps import training_step_steps as training_step_steps

__version__ = "0.1.0"
__gradstep_engine__ = True  # how `autograd.name_clash` tells this package from HIPS autograd

warn_if_clashing(sys.modules[__name__])

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
    # derivatives.py: gradients as numbers or as graphs, Hessians
    "grad": "derivatives",
    "hessian": "derivatives",
    "hvp": "derivatives",
    "backward_nodes": "derivatives",
    # forward.py: forward mode
    "jvp": "forward",
    "tangent_steps": "forward",
    "TangentStep": "forward",
    # drawing/render.py
    "draw": "drawing.render",
    "GraphvizNotFoundError": "drawing.render",
    "RenderError": "drawing.render",
    "RenderTimeoutError": "drawing.render",
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
