"""Neural-network building blocks made only of `autograd.Value` operations.

    import nn
    model = nn.MLP(2, [16, 16, 1], activation="relu", rng=0)
    loss = nn.losses.hinge([model(x) for x in X], y) + nn.l2_penalty(model, 2e-4, include_biases=True)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)

Every gradient comes from `Value.backward()`; nothing in `nn` writes a derivative by hand.
"""

from . import _autograd_check, data, losses, optim, train, viewer  # noqa: F401  (the check runs first)
from .data import (
    load_digits,
    make_circles,
    make_moons,
    make_spiral,
    make_xor,
    one_hot,
    read_points_csv,
    train_test_split,
    xor_table,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    l2_penalty,
    multiclass_hinge,
    squared_error,
)
from .module import MLP, Layer, Module, Neuron
from .optim import SGD, Adam, AdamW, ExponentialDecay, LinearDecay, Optimizer
from .train import BatchedStep, History, MinibatchLoss, fit, train_step
from .viewer import Recorder, TrainingRun

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "BatchedStep",
    "ExponentialDecay",
    "History",
    "Layer",
    "LinearDecay",
    "MinibatchLoss",
    "Module",
    "Neuron",
    "Optimizer",
    "Recorder",
    "TrainingRun",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "fit",
    "hinge",
    "l2_penalty",
    "load_digits",
    "losses",
    "make_circles",
    "make_moons",
    "make_spiral",
    "make_xor",
    "multiclass_hinge",
    "one_hot",
    "optim",
    "read_points_csv",
    "squared_error",
    "train",
    "train_step",
    "train_test_split",
    "viewer",
    "xor_table",
]
