"""Losses and the L2 penalty, as pure functions of `Value`s (backprop derives every gradient).

Shapes. `predictions` (or `logits`, `scores`) and `targets` come as
  * one number/Value and one target (a single example with a single output),
  * a list with one Value per example and a list of targets, or
  * a list of lists (several outputs per example) and a matching list of lists of targets.
Targets are plain numbers (class indices for the multi-class losses).

Reductions. The classic texts differ, so all three are here:
  * ``"mean"``: divide by the number of terms (every output of every example), PyTorch's default;
  * ``"sum"``: no division (Trask; Nielsen's per-example cost);
  * ``"batchmean"``: divide by the number of examples m, summing over each example's outputs
    (UFLDL's and Ng's (1/m) Σᵢ; the same as "mean" when each example has one output).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TypeGuard

from autograd import Value, dot, logsumexp, softplus, vsum

from ._checks import describe, is_finite_real, is_sequence
from .module import Module

__all__ = [
    "REDUCTIONS",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge",
    "l2_penalty",
    "multiclass_hinge",
    "squared_error",
]

Operand = Value | float | int
REDUCTIONS = ("mean", "sum", "batchmean")


# ---------------------------------------------------------------------------------------------------
# Shape handling shared by the losses
# ---------------------------------------------------------------------------------------------------


def _prediction(value: object, where: str) -> Operand:
    if isinstance(value, Value):
        return value
    if is_finite_real(value):
        return float(value)
    raise TypeError(f"{where}: expected a Value or a finite number, got {describe(value)}")


def _target(value: object, where: str) -> float:
    if is_finite_real(value):
        return float(value)
    raise TypeError(f"{where}: a target must be a finite number, got {describe(value)}")


def _elementwise(
    predictions: object, targets: object, caller: str
) -> tuple[list[tuple[Operand, float]], int]:
    """Flatten matching predictions/targets into (prediction, target) pairs; also count examples."""
    if not is_sequence(predictions):
        if is_sequence(targets):
            raise ValueError(f"{caller}: one prediction but {len(targets)} targets")
        return [(_prediction(predictions, caller), _target(targets, caller))], 1
    if not is_sequence(targets):
        raise ValueError(f"{caller}: {len(predictions)} predictions but one target {targets!r}")
    if len(predictions) != len(targets) or len(predictions) == 0:
        raise ValueError(
            f"{caller}: predictions and targets must be non-empty and of equal length, "
            f"got {len(predictions)} and {len(targets)}"
        )
    pairs: list[tuple[Operand, float]] = []
    for i, (prediction, target) in enumerate(zip(predictions, targets)):
        where = f"{caller}: example {i}"
        if is_sequence(prediction):
            if not is_sequence(target) or len(target) != len(prediction) or len(prediction) == 0:
                raise ValueError(
                    f"{where}: has {len(prediction)} outputs but its target is {describe(target)}"
                )
            for k, (p, t) in enumerate(zip(prediction, target)):
                pairs.append((_prediction(p, f"{where}, output {k}"), _target(t, f"{where}, output {k}")))
        else:
            if is_sequence(target):
                raise ValueError(f"{where}: one output but its target is {describe(target)}")
            pairs.append((_prediction(prediction, where), _target(target, where)))
    return pairs, len(predictions)


def _reduce(
    terms: list[Value | float], reduction: str, n_terms: int, n_examples: int, factor: float = 1.0
) -> Value:
    """factor · Σ terms, divided as `reduction` says: one sum node and at most one scaling node."""
    if reduction == "sum":
        scale = factor
    elif reduction == "mean":
        scale = factor / n_terms
    else:  # "batchmean"
        scale = factor / n_examples
    total = vsum(terms)
    return total if scale == 1.0 else total * scale


def _check_reduction(reduction: object, caller: str) -> None:
    # Checked before any node is built, so a typo fails fast and leaves no half graph behind.
    if reduction not in REDUCTIONS:
        raise ValueError(f"{caller}: unknown reduction {reduction!r}; choose one of {list(REDUCTIONS)}")


def _check_margin(margin: object, caller: str) -> float:
    if not is_finite_real(margin):
        raise ValueError(f"{caller}: margin must be a finite number, got {describe(margin)}")
    return float(margin)


def _data(value: Operand) -> float:
    return value.data if isinstance(value, Value) else value


# ---------------------------------------------------------------------------------------------------
# Regression and probability losses
# ---------------------------------------------------------------------------------------------------


def squared_error(
    predictions: object, targets: object, *, half: bool = False, reduction: str = "mean"
) -> Value:
    """Σ (prediction - target)², times ½ when `half` (so the gradient is a - y), reduced.

    ``half=False, reduction="mean"`` is PyTorch's ``MSELoss``; ``half=True, reduction="batchmean"``
    is UFLDL's (1/m) Σᵢ ½‖h(xᵢ) - yᵢ‖²; ``half=True, reduction="sum"`` is Trask's and Nielsen's.
    """
    _check_reduction(reduction, "squared_error")
    pairs, n_examples = _elementwise(predictions, targets, "squared_error")
    terms: list[Value | float] = [(p - y) ** 2 for p, y in pairs]
    return _reduce(terms, reduction, len(pairs), n_examples, factor=0.5 if half else 1.0)


def binary_cross_entropy(probabilities: object, targets: object, *, reduction: str = "mean") -> Value:
    """Log loss on probabilities: -[y·log p + (1-y)·log(1-p)], reduced.

    Targets lie in [0, 1]. A term whose log would be of 0 (p = 0 with y > 0, or p = 1 with y < 1)
    is an infinite loss: that raises `ValueError` naming the example instead of being clamped to a
    wrong finite number. A sigmoid output can round to exactly 1.0 for inputs above ~37; for
    training, prefer `binary_cross_entropy_with_logits` on the pre-sigmoid score, which is stable.
    Terms with a zero coefficient (y = 0 or y = 1) are left out of the graph: the value and every
    gradient are the same, and the graph is the textbook's -log p or -log(1-p).
    """
    caller = "binary_cross_entropy"
    _check_reduction(reduction, caller)
    pairs, n_examples = _elementwise(probabilities, targets, caller)
    log_likelihoods: list[Value | float] = []
    for index, (p, y) in enumerate(pairs):
        where = f"{caller}: term {index}"
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"{where}: target must lie in [0, 1], got {y!r}")
        probability = _data(p)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"{where}: probability must lie in [0, 1], got {probability!r}")
        if (y > 0.0 and probability == 0.0) or (y < 1.0 and probability == 1.0):
            raise ValueError(
                f"{where}: probability {probability!r} with target {y!r} is an infinite loss (log of 0); "
                "use binary_cross_entropy_with_logits on the pre-sigmoid scores instead"
            )
        if not isinstance(p, Value):
            p = Value(p, op="const")
        if y == 1.0:
            log_likelihoods.append(p.log())
        elif y == 0.0:
            log_likelihoods.append((1.0 - p).log())
        else:
            log_likelihoods.append(y * p.log() + (1.0 - y) * (1.0 - p).log())
    return _reduce(log_likelihoods, reduction, len(pairs), n_examples, factor=-1.0)


def binary_cross_entropy_with_logits(logits: object, targets: object, *, reduction: str = "mean") -> Value:
    """Log loss on scores z (probability σ(z)): softplus(z) - y·z, stable for every finite z.

    The same value as ``binary_cross_entropy(sigmoid(z), y)`` without ever forming log(0);
    PyTorch's ``BCEWithLogitsLoss``. Its gradient w.r.t. z is σ(z) - y.
    """
    caller = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, caller)
    pairs, n_examples = _elementwise(logits, targets, caller)
    terms: list[Value | float] = []
    for index, (z, y) in enumerate(pairs):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"{caller}: term {index}: target must lie in [0, 1], got {y!r}")
        loss = softplus(z)
        if y != 0.0:
            loss = loss - (z if y == 1.0 else y * z)
        terms.append(loss)
    return _reduce(terms, reduction, len(pairs), n_examples)


# ---------------------------------------------------------------------------------------------------
# Classification losses over class scores
# ---------------------------------------------------------------------------------------------------


def _class_examples(scores: object, targets: object, caller: str) -> list[tuple[list[Operand], int]]:
    """(class scores, target class) per example: one example when `targets` is an int, else a batch."""
    if _is_class_index(targets):
        examples = [(scores, targets)]
    elif is_sequence(targets):
        if not is_sequence(scores) or len(scores) != len(targets) or len(targets) == 0:
            raise ValueError(
                f"{caller}: a batch needs one list of class scores per target; got {describe(scores)} "
                f"for {len(targets)} targets"
            )
        examples = list(zip(scores, targets))
    else:
        raise TypeError(
            f"{caller}: target must be a class index (int) or a list of them, got {describe(targets)}"
        )
    checked = []
    for i, (row, target) in enumerate(examples):
        where = f"{caller}: example {i}"
        if not is_sequence(row) or len(row) < 2:
            raise ValueError(f"{where}: expected a list of at least 2 class scores, got {describe(row)}")
        if not _is_class_index(target) or not 0 <= target < len(row):
            raise ValueError(
                f"{where}: target must be a class index in [0, {len(row)}), got {describe(target)}"
            )
        checked.append(
            ([_prediction(value, f"{where}, class {k}") for k, value in enumerate(row)], int(target))
        )
    return checked


def _is_class_index(value: object) -> TypeGuard[int]:
    # Integral admits NumPy's integers too; a bool is not a class index.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def cross_entropy(logits: object, targets: object, *, reduction: str = "mean") -> Value:
    """Softmax cross-entropy: logsumexp(z) - z[target], per example (max-subtracted, never overflows).

    ``cross_entropy([z0, z1, z2], 1)`` is one example; ``cross_entropy([[...], [...]], [1, 0])`` a
    batch. PyTorch's ``CrossEntropyLoss`` on unnormalised logits and class indices.
    """
    caller = "cross_entropy"
    _check_reduction(reduction, caller)
    examples = _class_examples(logits, targets, caller)
    terms: list[Value | float] = [logsumexp(row) - row[target] for row, target in examples]
    return _reduce(terms, reduction, len(examples), len(examples))


def hinge(scores: object, targets: object, *, margin: float = 1.0, reduction: str = "mean") -> Value:
    """Binary max-margin loss max(0, margin - y·score) with labels y = ±1 (micrograd's demo loss)."""
    caller = "hinge"
    _check_reduction(reduction, caller)
    margin = _check_margin(margin, caller)
    pairs, n_examples = _elementwise(scores, targets, caller)
    terms: list[Value | float] = []
    for index, (score, y) in enumerate(pairs):
        if y not in (-1.0, 1.0):
            raise ValueError(
                f"{caller}: term {index}: labels must be -1 or +1, got {y!r} (0/1 labels? use 2y-1)"
            )
        margin_violation = margin - y * score
        terms.append(
            margin_violation.relu() if isinstance(margin_violation, Value) else max(0.0, margin_violation)
        )
    return _reduce(terms, reduction, len(pairs), n_examples)


def multiclass_hinge(
    scores: object, targets: object, *, margin: float = 1.0, reduction: str = "mean"
) -> Value:
    """Multi-class SVM loss Σ_{j≠t} max(0, s_j - s_t + margin) per example (Weston-Watkins, CS231n).

    PyTorch's ``MultiMarginLoss`` additionally divides each example's sum by the number of classes.
    """
    caller = "multiclass_hinge"
    _check_reduction(reduction, caller)
    margin = _check_margin(margin, caller)
    examples = _class_examples(scores, targets, caller)
    terms: list[Value | float] = []
    for row, target in examples:
        correct = row[target]
        for j, score in enumerate(row):
            if j != target:
                violation = score - correct + margin
                terms.append(violation.relu() if isinstance(violation, Value) else max(0.0, violation))
    return _reduce(terms, reduction, len(examples), len(examples))


# ---------------------------------------------------------------------------------------------------
# Regularisation
# ---------------------------------------------------------------------------------------------------


def _is_bias(name: str) -> bool:
    return name == "b" or name.endswith(".b")


def l2_penalty(model: Module | Sequence[Value], lam: float, *, include_biases: bool = False) -> Value:
    """UFLDL's weight decay (λ/2) Σ W², over the weights only unless `include_biases`.

    `model` is a `Module` (biases are the parameters named ``b``) or a list of Values (all of which
    are penalised). The sum of squares is ONE `dot` node (Σ w·w), so the graph stays small.

    micrograd's demo adds ``1e-4 * Σ p²`` over every parameter: that is
    ``l2_penalty(model, 2e-4, include_biases=True)``. Ng's λ/(2m) Σ Θ² is ``l2_penalty(model, λ/m)``.
    """
    if not (is_finite_real(lam) and lam >= 0):
        raise ValueError(f"l2_penalty: lam must be a finite number >= 0, got {describe(lam)}")
    if isinstance(model, Module):
        weights = [p for name, p in model.named_parameters() if include_biases or not _is_bias(name)]
    elif is_sequence(model):
        weights = list(model)
        for position, weight in enumerate(weights):
            if not isinstance(weight, Value):
                raise TypeError(f"l2_penalty: parameter {position} is {describe(weight)}; expected a Value")
    else:
        raise TypeError(f"l2_penalty: expected a Module or a list of Values, got {describe(model)}")
    return dot(weights, weights) * (0.5 * float(lam))
