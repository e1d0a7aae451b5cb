"""Optimisers that read each parameter's `grad` (from `backward()`) and update its `data`.

The update formulas follow `torch.optim` exactly (same order of operations, so one step in float64
gives the same numbers as PyTorch). A learning rate is a number or a schedule: any callable
``schedule(step) -> lr``, where `step` counts the optimiser's completed steps from 0, such as
`LinearDecay`:

    optimizer = SGD(model.parameters(), lr=LinearDecay(1.0, 0.1, 100))   # micrograd's 1.0 - 0.9*k/100

A step is all or nothing: new values are computed for every parameter first, and if any is not
finite (an exploding gradient) a `FloatingPointError` names it and nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from autograd import Value

from ._checks import describe, is_finite_real, is_sequence
from .module import Module

__all__ = ["SGD", "Adam", "AdamW", "ExponentialDecay", "LinearDecay", "Optimizer", "Schedule"]

Schedule = Callable[[int], float]


def _check_number(
    value: object,
    what: str,
    caller: str,
    low: float,
    high: float = math.inf,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = False,
) -> float:
    """A float in the interval [low, high) (bounds as given), else a ValueError naming `what`."""
    if not is_finite_real(value):
        raise ValueError(f"{caller}: {what} must be a finite number, got {describe(value)}")
    number = float(value)
    above_low = number >= low if low_inclusive else number > low
    below_high = number <= high if high_inclusive else number < high
    if not (above_low and below_high):
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise ValueError(f"{caller}: {what} must lie in {left}{low}, {high}{right}, got {number!r}")
    return number


# ---------------------------------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------------------------------


class LinearDecay:
    """From `start` at step 0 down (or up) to `end` at step `steps`, then `end` from there on.

    ``LinearDecay(1.0, 0.1, 100)`` is micrograd's demo schedule ``1.0 - 0.9*k/100``, with the same
    floating-point operations, so the numbers match exactly.
    """

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = _check_number(start, "start", "LinearDecay", 0.0)
        self.end = _check_number(end, "end", "LinearDecay", 0.0)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"LinearDecay: steps must be a positive int, got {describe(steps)}")
        self.steps = steps

    def __call__(self, step: int) -> float:
        if step >= self.steps:
            return self.end
        return self.start - (self.start - self.end) * step / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay({self.start!r}, {self.end!r}, {self.steps!r})"


class ExponentialDecay:
    """``start * gamma**step`` (PyTorch's ``ExponentialLR``)."""

    def __init__(self, start: float, gamma: float) -> None:
        self.start = _check_number(start, "start", "ExponentialDecay", 0.0)
        self.gamma = _check_number(gamma, "gamma", "ExponentialDecay", 0.0, 1.0, high_inclusive=True)

    def __call__(self, step: int) -> float:
        return self.start * self.gamma**step

    def __repr__(self) -> str:
        return f"ExponentialDecay({self.start!r}, {self.gamma!r})"


# ---------------------------------------------------------------------------------------------------
# Optimisers
# ---------------------------------------------------------------------------------------------------


class Optimizer:
    """Holds the parameters and the learning rate; subclasses say how one step changes them.

    Args:
        params: the Values to update (``model.parameters()``), or a `Module`.
        lr: a number, or a schedule ``lr(step)`` evaluated at every step.
    """

    def __init__(self, params: Iterable[Value] | Module, lr: float | Schedule) -> None:
        name = type(self).__name__
        if isinstance(params, Module):
            params = params.parameters()
        if isinstance(params, Value) or not isinstance(params, Iterable):
            raise TypeError(
                f"{name}: params must be a list of Values (model.parameters()), got {describe(params)}"
            )
        self.params: list[Value] = list(params)
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        seen: set[Value] = set()
        for position, parameter in enumerate(self.params):
            if not isinstance(parameter, Value):
                raise TypeError(f"{name}: params[{position}] is {describe(parameter)}; expected a Value")
            if parameter in seen:
                raise ValueError(
                    f"{name}: params[{position}] ({parameter.label or 'unlabelled'}) is listed twice"
                )
            seen.add(parameter)
        if not callable(lr):
            lr = _check_number(lr, "lr", name, 0.0)
        self.lr: float | Schedule = lr
        self.steps = 0  # completed steps; a schedule is evaluated at this index

    @property
    def current_lr(self) -> float:
        """The learning rate the next `step()` uses."""
        if not callable(self.lr):
            return self.lr
        return _check_number(
            self.lr(self.steps), f"lr schedule {self.lr!r} at step {self.steps}", type(self).__name__, 0.0
        )

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate across `backward()` calls)."""
        for parameter in self.params:
            parameter.grad = 0.0

    # Per-parameter buffers a subclass keeps between steps: attribute name -> may it be None?
    _buffers: ClassVar[dict[str, bool]] = {}

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's progress, to resume training: the step count and every per-parameter
        buffer, as JSON-able plain data. Hyperparameters (lr, momentum, ...) come from the constructor.
        """
        state: dict[str, Any] = {"optimizer": type(self).__name__, "steps": self.steps}
        for name in self._buffers:
            buffer = getattr(self, name)
            state[name] = None if buffer is None else list(buffer)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict()` returned; everything is checked before anything changes."""
        caller = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping) or state.get("optimizer") != type(self).__name__:
            found = f"one of {state.get('optimizer')!r}" if isinstance(state, Mapping) else describe(state)
            raise ValueError(f"{caller}: expected a state_dict() of {type(self).__name__}, got {found}")
        steps = state.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"{caller}: 'steps' must be an int >= 0, got {describe(steps)}")
        restored: dict[str, list[float] | None] = {}
        for name, optional in self._buffers.items():
            buffer = state.get(name)
            if buffer is None and optional:
                restored[name] = None
                continue
            if not is_sequence(buffer) or len(buffer) != len(self.params):
                raise ValueError(
                    f"{caller}: {name!r} must be a list of {len(self.params)} numbers (one per parameter), "
                    f"got {describe(buffer)}"
                )
            restored[name] = [
                _check_number(x, f"{name}[{i}]", caller, -math.inf) for i, x in enumerate(buffer)
            ]
        self.steps = steps
        for name, buffer in restored.items():
            setattr(self, name, buffer)

    def step(self) -> None:
        """Update every parameter from its current grad, all or nothing."""
        new_data = self._new_data(self.current_lr)
        for parameter, value in zip(self.params, new_data):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"{type(self).__name__}: step {self.steps} would make {parameter.label or 'a parameter'} "
                    f"{value!r} (grad {parameter.grad!r}); no parameter was changed. Lower the learning rate?"
                )
        self._commit()
        for parameter, value in zip(self.params, new_data):
            parameter.data = value
        self.steps += 1

    def _new_data(self, lr: float) -> list[float]:
        """Every parameter's new value; stage any state change for `_commit`, but do not apply it."""
        raise NotImplementedError

    def _commit(self) -> None:
        """Apply the state staged by `_new_data` (called only when the step goes ahead)."""


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``:

    g = grad + weight_decay · p
    buf = g on the first step, then momentum · buf + (1 - dampening) · g      (if momentum)
    g = g + momentum · buf if nesterov else buf                               (if momentum)
    p = p - lr · g
    """

    _buffers: ClassVar[dict[str, bool]] = {
        "momentum_buffers": True
    }  # None until the first step with momentum

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | Schedule = 0.01,
        momentum: float = 0.0,
        *,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number(momentum, "momentum", "SGD", 0.0, 1.0)
        self.dampening = _check_number(dampening, "dampening", "SGD", 0.0, 1.0, high_inclusive=True)
        self.weight_decay = _check_number(weight_decay, "weight_decay", "SGD", 0.0)
        if nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)
        self.momentum_buffers: list[float] | None = None  # created on the first step, as in PyTorch
        self._staged_buffers: list[float] | None = None

    def _new_data(self, lr: float) -> list[float]:
        momentum, dampening, weight_decay = self.momentum, self.dampening, self.weight_decay
        new_data = []
        buffers = []
        for index, parameter in enumerate(self.params):
            g = parameter.grad
            if weight_decay != 0.0:
                g = g + weight_decay * parameter.data
            if momentum != 0.0:
                if self.momentum_buffers is None:
                    buffer = g
                else:
                    buffer = self.momentum_buffers[index] * momentum + (1.0 - dampening) * g
                buffers.append(buffer)
                g = g + momentum * buffer if self.nesterov else buffer
            new_data.append(parameter.data - lr * g)
        self._staged_buffers = buffers if momentum != 0.0 else None
        return new_data

    def _commit(self) -> None:
        if self._staged_buffers is not None:
            self.momentum_buffers = self._staged_buffers


class Adam(Optimizer):
    """Adam (Kingma & Ba), as ``torch.optim.Adam``:

    g = grad + weight_decay · p    (L2 in the gradient; with decoupled_weight_decay=True, as in
                                   AdamW, p = p · (1 - lr · weight_decay) first and g = grad)
    m = m + (1 - β1)(g - m);  v = β2 v + (1 - β2) g²
    p = p - lr / (1 - β1ᵗ) · m / (sqrt(v) / sqrt(1 - β2ᵗ) + eps)
    """

    _buffers: ClassVar[dict[str, bool]] = {"first_moments": False, "second_moments": False}

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | Schedule = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        name = type(self).__name__
        if not is_sequence(betas) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {describe(betas)}")
        self.betas = (
            _check_number(betas[0], "beta1", name, 0.0, 1.0),
            _check_number(betas[1], "beta2", name, 0.0, 1.0),
        )
        self.eps = _check_number(eps, "eps", name, 0.0, low_inclusive=False)  # 0 could divide by 0
        self.weight_decay = _check_number(weight_decay, "weight_decay", name, 0.0)
        self.first_moments = [0.0] * len(self.params)
        self.second_moments = [0.0] * len(self.params)
        self._staged: tuple[list[float], list[float]] | None = None

    def _new_data(self, lr: float) -> list[float]:
        beta1, beta2 = self.betas
        t = self.steps + 1
        # The same scalar work as PyTorch's single-tensor Adam, in the same order.
        step_size = lr / (1.0 - beta1**t)
        bias_correction2_sqrt = (1.0 - beta2**t) ** 0.5
        weight = 1.0 - beta1
        new_data, first, second = [], [], []
        for parameter, m, v in zip(self.params, self.first_moments, self.second_moments):
            p = parameter.data
            if self.weight_decay != 0.0:
                if self.decoupled_weight_decay:
                    p = p * (1.0 - lr * self.weight_decay)
                    g = parameter.grad
                else:
                    g = parameter.grad + self.weight_decay * p
            else:
                g = parameter.grad
            # torch.lerp(m, g, weight), which picks the better-conditioned form by the weight.
            m = m + weight * (g - m) if weight < 0.5 else g - (g - m) * (1.0 - weight)
            v = v * beta2 + (1.0 - beta2) * g * g
            denominator = math.sqrt(v) / bias_correction2_sqrt + self.eps
            new_data.append(p + -step_size * m / denominator)
            first.append(m)
            second.append(v)
        self._staged = (first, second)
        return new_data

    def _commit(self) -> None:
        if self._staged is not None:
            self.first_moments, self.second_moments = self._staged


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``:
    ``p = p · (1 - lr · weight_decay)`` before the Adam update. PyTorch's default decay is 0.01.
    """

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float | Schedule = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay=weight_decay, decoupled_weight_decay=True)
