"""Optimisers that read each parameter's `grad` (from `backward()`) and update its `data`.

The update formulas follow `torch.optim` (the same operations in the same order), so one step in
float64 gives PyTorch's numbers up to the last bit or two. They are not always bit-for-bit the same:
PyTorch's CPU kernels compute ``p + alpha * g`` with a single rounding (a fused multiply-add),
where Python rounds the product and then the sum.

A learning rate is a number or a schedule: any callable ``schedule(step) -> lr``, where `step`
counts the optimiser's completed steps from 0, such as `LinearDecay`:

    optimizer = SGD(model.parameters(), lr=LinearDecay(1.0, 0.1, 100))   # micrograd's 1.0 - 0.9*k/100

A step is all or nothing: new values are computed for every parameter first, and if any is not
finite (an exploding gradient) a `FloatingPointError` names it and nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from autograd import Value
from autograd.steps import ParameterUpdate, StagedUpdate

from ._checks import describe, is_finite_real, is_sequence
from .module import Module

# Measured (tests/test_optim.py, docs/reference-numbers.md): one fresh step over 20 seeds x 51
# parameters is bit-for-bit PyTorch's in 914-977 of 1020 parameters for SGD, 1013-1020 for Adam/AdamW,
# and within 2.5e-16 * (|p| + |step|) everywhere. math.fma (3.13+) would close the gap, but its
# pure-Python stand-in on 3.11 made per-sample SGD training 1.5-4x slower, so we keep plain floats.

__all__ = ["SGD", "Adam", "AdamW", "ExponentialDecay", "LinearDecay", "Optimizer", "Schedule"]

Schedule = Callable[[int], float]

# The most steps a loaded state may claim: past 2**53 a float no longer counts them exactly.
_MAX_STEPS = 2**53


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


def _key_list(keys: list[Any], limit: int = 5) -> str:
    """``['a', 'b']``, with long keys cut and at most `limit` shown (a hostile state stays short)."""
    shown = [repr(key) if len(repr(key)) <= 60 else repr(key)[:57] + "..." for key in keys[:limit]]
    return "[" + ", ".join(shown) + (f", and {len(keys) - limit} more" if len(keys) > limit else "") + "]"


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
    # Buffers that only ever hold numbers >= 0, with the reason (said when a loaded state breaks it).
    _non_negative_buffers: ClassVar[dict[str, str]] = {}

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
        """Restore what `state_dict()` returned; everything is checked before anything changes.

        The state must have exactly the keys `state_dict()` writes; ``steps`` an int from 0 to 2**53;
        each buffer one finite number per parameter (bools are not numbers) within what the buffer
        can hold (Adam's second moments are never negative); and a state before the first step holds
        no momentum. A `ValueError` names the buffer and the parameter and the optimiser is unchanged,
        so a loaded state can never make `step()` fail on a value it could not have produced.
        """
        class_name = type(self).__name__
        caller = f"{class_name}.load_state_dict"
        if not isinstance(state, Mapping) or state.get("optimizer") != class_name:
            found = f"one of {state.get('optimizer')!r}" if isinstance(state, Mapping) else describe(state)
            raise ValueError(f"{caller}: expected a state_dict() of {class_name}, got {found}")
        expected_keys = ["optimizer", "steps", *self._buffers]
        missing = [key for key in expected_keys if key not in state]
        unexpected = [key for key in state if key not in expected_keys]
        if missing or unexpected:
            problems = ([f"missing {_key_list(missing)}"] if missing else []) + (
                [f"unexpected {_key_list(unexpected)}"] if unexpected else []
            )
            raise ValueError(
                f"{caller}: a state_dict() of {class_name} has the keys {expected_keys} "
                f"({'; '.join(problems)})"
            )
        steps = state["steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= _MAX_STEPS:
            raise ValueError(f"{caller}: 'steps' must be an int from 0 to 2**53, got {describe(steps)}")
        restored: dict[str, list[float] | None] = {}
        for name, optional in self._buffers.items():
            buffer = state[name]
            if buffer is None and optional:
                restored[name] = None
                continue
            if not is_sequence(buffer) or len(buffer) != len(self.params):
                raise ValueError(
                    f"{caller}: {name!r} must be a list of {len(self.params)} numbers (one per parameter), "
                    f"got {describe(buffer)}"
                )
            restored[name] = [
                self._checked_buffer_value(name, index, x, caller) for index, x in enumerate(buffer)
            ]
        if steps == 0:
            self._check_fresh_state(restored, caller)
        self.steps = steps
        for name, buffer in restored.items():
            setattr(self, name, buffer)

    def _parameter_name(self, index: int) -> str:
        label = self.params[index].label
        return f"parameter {label!r}" if label else f"parameter {index}"

    def _checked_buffer_value(self, name: str, index: int, value: object, caller: str) -> float:
        where = f"{name}[{index}] ({self._parameter_name(index)})"
        if not is_finite_real(value):
            raise ValueError(f"{caller}: {where} must be a finite number, got {describe(value)}")
        number = float(value)
        if name in self._non_negative_buffers and number < 0.0:
            reason = self._non_negative_buffers[name]
            raise ValueError(f"{caller}: {where} must be >= 0 ({reason}), got {number!r}")
        return number

    def _check_fresh_state(self, restored: dict[str, list[float] | None], caller: str) -> None:
        """A state with 'steps' 0 is what the constructor makes: optional buffers absent, others 0."""
        for name, buffer in restored.items():
            if buffer is None:
                continue
            if self._buffers[name]:
                raise ValueError(
                    f"{caller}: 'steps' is 0 but {name!r} is filled in; before the first step it is None "
                    "(wrong step count?)"
                )
            for index, value in enumerate(buffer):
                if value != 0.0:
                    raise ValueError(
                        f"{caller}: 'steps' is 0 but {name}[{index}] ({self._parameter_name(index)}) is "
                        f"{value!r}; before the first step it is 0 (wrong step count?)"
                    )

    def step(self) -> None:
        """Update every parameter from its current grad, all or nothing.

        If a new value, or a buffer the optimiser keeps (momentum, moments), would not be finite, a
        `FloatingPointError` names the parameter and nothing changes. The numbers are those of
        ``staged_step().apply()`` bit for bit (tested), without the per-parameter records a stepper
        reads.
        """
        # Building those records cost ~1 µs per parameter: 2,368 weights took 2.4 ms per SGD step,
        # 16x the batched forward and backward pass of the step (nn.BatchedStep on digits).
        values, buffers = self._new_values(self.current_lr)
        if not (
            all(map(math.isfinite, values)) and all(all(map(math.isfinite, b)) for b in buffers.values())
        ):
            self.staged_step().apply()  # raises the FloatingPointError that names the parameter
            return
        self._commit(values, buffers)

    def _commit(self, values: list[float], buffers: dict[str, list[float]]) -> None:
        """Make a computed step's changes: the new buffers, every parameter's new value, the count."""
        for name, buffer in buffers.items():
            setattr(self, name, buffer)
        for parameter, value in zip(self.params, values):
            parameter.data = value
        self.steps += 1

    def _new_values(self, lr: float) -> tuple[list[float], dict[str, list[float]]]:
        """Every parameter's new value and the optimiser's new buffers, as `_stage` computes them;
        an optimiser may compute them without the records (`SGD` and `Adam` do)."""
        updates, buffers = self._stage(lr)
        return [update.data_after for update in updates], buffers

    def staged_step(self) -> StagedUpdate:
        """The next step computed but not applied: each parameter's arithmetic and state, as an
        `autograd.steps.StagedUpdate` whose ``apply()`` makes exactly those changes.

        `step()` writes the same numbers as ``staged_step().apply()``, bit for bit (tested), so the
        stepper (`autograd.steps.training_step_steps`) shows the very numbers a step writes.
        Raises FloatingPointError (and stages nothing) if any new value or buffer would not be
        finite.
        """
        lr = self.current_lr
        updates, staged_buffers = self._stage(lr)
        for update in updates:
            if not math.isfinite(update.data_after):
                raise FloatingPointError(
                    f"{type(self).__name__}: step {self.steps} would make "
                    f"{update.parameter.label or 'a parameter'} {update.data_after!r} "
                    f"(grad {update.grad!r}); no parameter was changed. Lower the learning rate?"
                )
        for name, buffer in staged_buffers.items():
            for index, value in enumerate(buffer):
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"{type(self).__name__}: step {self.steps} would make {name}[{index}] "
                        f"({self._parameter_name(index)}) {value!r} (grad {self.params[index].grad!r}); "
                        "no parameter was changed. Is the gradient exploding?"
                    )
        steps_when_staged = self.steps
        applied = False

        def apply() -> None:
            nonlocal applied
            if applied or self.steps != steps_when_staged:
                raise RuntimeError(
                    f"{type(self).__name__}: this staged step (step {steps_when_staged}) was already "
                    "applied or the optimizer has moved on; call staged_step() again"
                )
            applied = True
            self._commit([update.data_after for update in updates], staged_buffers)

        return StagedUpdate(type(self).__name__, lr, tuple(updates), apply)

    def _stage(self, lr: float) -> tuple[list[ParameterUpdate], dict[str, list[float]]]:
        """Every parameter's update at learning rate `lr`, and the optimiser's new buffers by
        attribute name; neither changes anything until the step is applied."""
        raise NotImplementedError


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

    def _stage(self, lr: float) -> tuple[list[ParameterUpdate], dict[str, list[float]]]:
        momentum, dampening, weight_decay = self.momentum, self.dampening, self.weight_decay
        updates = []
        buffers = []
        for index, parameter in enumerate(self.params):
            quantities: list[tuple[str, str, float]] = [("lr", "learning rate", lr)]
            g = parameter.grad
            if weight_decay != 0.0:
                g = g + weight_decay * parameter.data
                quantities.append(("g", "grad + weight_decay·p", g))
            rule = "p − lr·g" if weight_decay != 0.0 else "p − lr·grad"
            if momentum != 0.0:
                if self.momentum_buffers is None:
                    buffer = g
                    quantities.append(("velocity", "g (the first step starts the velocity)", buffer))
                else:
                    previous = self.momentum_buffers[index]
                    buffer = previous * momentum + (1.0 - dampening) * g
                    quantities.append(("velocity before", "from the last step", previous))
                    damped = "g" if dampening == 0.0 else "(1 − dampening)·g"
                    quantities.append(("velocity", f"momentum·velocity + {damped}", buffer))
                buffers.append(buffer)
                if self.nesterov:
                    g = g + momentum * buffer
                    quantities.append(("g", "g + momentum·velocity (Nesterov)", g))
                    rule = "p − lr·g"
                else:
                    g = buffer
                    rule = "p − lr·velocity"
            new = parameter.data - lr * g
            updates.append(
                ParameterUpdate(parameter, parameter.data, parameter.grad, new, tuple(quantities), rule)
            )
        return updates, ({"momentum_buffers": buffers} if momentum != 0.0 else {})

    def _new_values(self, lr: float) -> tuple[list[float], dict[str, list[float]]]:
        # `_stage`'s arithmetic, operation for operation, without its records.
        momentum, dampening, weight_decay = self.momentum, self.dampening, self.weight_decay
        if momentum == 0.0 and weight_decay == 0.0:
            return [parameter.data - lr * parameter.grad for parameter in self.params], {}
        values, buffers = [], []
        previous = self.momentum_buffers
        for index, parameter in enumerate(self.params):
            g = parameter.grad
            if weight_decay != 0.0:
                g = g + weight_decay * parameter.data
            if momentum != 0.0:
                buffer = g if previous is None else previous[index] * momentum + (1.0 - dampening) * g
                buffers.append(buffer)
                g = g + momentum * buffer if self.nesterov else buffer
            values.append(parameter.data - lr * g)
        return values, ({"momentum_buffers": buffers} if momentum != 0.0 else {})


class Adam(Optimizer):
    """Adam (Kingma & Ba), as ``torch.optim.Adam``:

    g = grad + weight_decay · p    (L2 in the gradient; with decoupled_weight_decay=True, as in
                                   AdamW, p = p · (1 - lr · weight_decay) first and g = grad)
    m = m + (1 - β1)(g - m);  v = β2 v + (1 - β2) g²
    p = p - lr / (1 - β1ᵗ) · m / (sqrt(v) / sqrt(1 - β2ᵗ) + eps)
    """

    _buffers: ClassVar[dict[str, bool]] = {"first_moments": False, "second_moments": False}
    _non_negative_buffers: ClassVar[dict[str, str]] = {
        "second_moments": "a second moment is a running mean of squared gradients"
    }

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

    def _stage(self, lr: float) -> tuple[list[ParameterUpdate], dict[str, list[float]]]:
        beta1, beta2 = self.betas
        t = self.steps + 1
        # The same scalar work as PyTorch's single-tensor Adam, in the same order.
        bias_correction1 = 1.0 - beta1**t
        step_size = lr / bias_correction1
        bias_correction2 = 1.0 - beta2**t
        bias_correction2_sqrt = bias_correction2**0.5
        weight = 1.0 - beta1
        updates, first, second = [], [], []
        for parameter, m, v in zip(self.params, self.first_moments, self.second_moments):
            quantities: list[tuple[str, str, float]] = [
                ("lr", "learning rate", lr),
                ("m before", "from the last step", m),
                ("v before", "from the last step", v),
            ]
            p = parameter.data
            if self.weight_decay != 0.0:
                if self.decoupled_weight_decay:
                    p = p * (1.0 - lr * self.weight_decay)
                    quantities.append(("p decayed", "p·(1 − lr·weight_decay)", p))
                    g = parameter.grad
                else:
                    g = parameter.grad + self.weight_decay * p
                    quantities.append(("g", "grad + weight_decay·p", g))
            else:
                g = parameter.grad
            # torch.lerp(m, g, weight), which picks the better-conditioned form by the weight.
            m = m + weight * (g - m) if weight < 0.5 else g - (g - m) * (1.0 - weight)
            v = v * beta2 + (1.0 - beta2) * g * g
            denominator = math.sqrt(v) / bias_correction2_sqrt + self.eps
            new = p + -step_size * m / denominator
            # m̂ and v̂ are the bias-corrected moments of the textbook rule p − lr·m̂/(√v̂ + ε); PyTorch's
            # order of operations (used for `new`) folds the corrections into step_size and the
            # denominator, so they are shown for reading and are not used to compute the update.
            g_name = "g" if self.weight_decay != 0.0 and not self.decoupled_weight_decay else "grad"
            quantities += [
                ("m", f"β1·m + (1 − β1)·{g_name}", m),
                ("v", f"β2·v + (1 − β2)·{g_name}²", v),
                ("m̂", f"m / (1 − β1^{t})", m / bias_correction1),
                ("v̂", f"v / (1 − β2^{t})", v / bias_correction2),
            ]
            rule = "p − lr·m̂ / (√v̂ + ε)   [computed as p − (lr/(1 − β1ᵗ))·m / (√v/√(1 − β2ᵗ) + ε)]"
            updates.append(
                ParameterUpdate(parameter, parameter.data, parameter.grad, new, tuple(quantities), rule)
            )
            first.append(m)
            second.append(v)

        return updates, {"first_moments": first, "second_moments": second}

    def _new_values(self, lr: float) -> tuple[list[float], dict[str, list[float]]]:
        # `_stage`'s arithmetic, operation for operation, without its records.
        beta1, beta2 = self.betas
        t = self.steps + 1
        step_size = lr / (1.0 - beta1**t)
        bias_correction2_sqrt = (1.0 - beta2**t) ** 0.5
        weight, eps, weight_decay = 1.0 - beta1, self.eps, self.weight_decay
        decoupled = weight_decay != 0.0 and self.decoupled_weight_decay
        coupled = weight_decay != 0.0 and not self.decoupled_weight_decay
        values, first, second = [], [], []
        for parameter, m, v in zip(self.params, self.first_moments, self.second_moments):
            p, g = parameter.data, parameter.grad
            if decoupled:
                p = p * (1.0 - lr * weight_decay)
            elif coupled:
                g = g + weight_decay * p
            m = m + weight * (g - m) if weight < 0.5 else g - (g - m) * (1.0 - weight)
            v = v * beta2 + (1.0 - beta2) * g * g
            values.append(p + -step_size * m / (math.sqrt(v) / bias_correction2_sqrt + eps))
            first.append(m)
            second.append(v)
        return values, {"first_moments": first, "second_moments": second}


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
