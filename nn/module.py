"""Modules made of `Value`s: `Neuron`, `Layer`, `MLP`, and the `Module` base with checkpoints.

A neuron's pre-activation ``Σ wᵢxᵢ + b`` is ONE graph node (`autograd.dot`), its activation one more,
so a drawn or stepped network shows one box per neuron stage. No gradient formula lives here:
`backward()` derives them all.

Every parameter has a stable name such as ``layers.1.neurons.3.w.2`` (weight 2 of neuron 3 of
layer 1) or ``layers.1.neurons.3.b`` (its bias); the name is also the parameter's `label`, so
graphs and the chain-rule stepper show it.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeGuard

from autograd import Value, dot
from autograd.files import FileTooLargeError, NotARegularFileError, atomic_write, read_regular_file

from ._checks import describe, is_finite_real, is_sequence
from ._random import RandomSource, RngLike, make_rng

__all__ = [
    "ACTIVATIONS",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_MAX_DEPTH",
    "CHECKPOINT_SIZE_SLACK",
    "CHECKPOINT_VERSION",
    "INITS",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
]

Input = Value | float | int

# name -> the Value method that applies it (None: the identity, no extra node).
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": None,
}

# Weight initialisations (biases always start at 0, as in micrograd and PyTorch's custom inits):
#   uniform  U(-1, 1)                             micrograd
#   xavier   U(-a, a), a = sqrt(6/(fan_in+fan_out)) Glorot & Bengio 2010 (tanh, sigmoid)
#   he       N(0, sqrt(2/fan_in))                  He et al. 2015 (relu)
#   lecun    N(0, 1/sqrt(fan_in))                  LeCun 1998; Rashid's "Make Your Own Neural Network"
#   zeros    0                                     a linear/logistic model, or to fill in by hand
INITS = ("uniform", "xavier", "he", "lecun", "zeros")

CHECKPOINT_FORMAT = "gradstep.nn checkpoint"
CHECKPOINT_VERSION = 1
# How deeply a checkpoint's JSON may nest arrays and objects (save writes 3 levels for an MLP).
CHECKPOINT_MAX_DEPTH = 32
# The size limit `load` reads up to: this much, plus 4x the size of the model's own checkpoint.
CHECKPOINT_SIZE_SLACK = 1 << 20
_CHECKPOINT_KEYS = ("format", "version", "model", "shape", "parameters")
# An integer literal longer than this cannot be a finite float (max 309 digits) nor a sane size.
_MAX_INTEGER_DIGITS = 400


# ---------------------------------------------------------------------------------------------------
# Checks shared by the modules
# ---------------------------------------------------------------------------------------------------


def _check_count(value: object, what: str, caller: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{caller}: {what} must be a positive int, got {describe(value)}")
    return value


def _check_activation(activation: object, caller: str) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"{caller}: unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    return activation


def _check_inputs(x: object, n_inputs: int, caller: str) -> tuple[Input, ...]:
    """`x` as a tuple of floats and Values, or a clear error. Cheap in the common all-float case."""
    if not is_sequence(x):
        raise TypeError(f"{caller}: expected a list of {n_inputs} numbers or Values, got {describe(x)}")
    items = tuple(x)
    if len(items) != n_inputs:
        raise ValueError(f"{caller}: expected {n_inputs} inputs, got {len(items)}")
    if set(map(type, items)) <= {float, Value} and all(
        [math.isfinite(x) for x in items if x.__class__ is float]
    ):
        return items  # the common case (Values are always finite, and reading them would be a data read)
    checked: list[Input] = []
    for position, item in enumerate(items):
        if isinstance(item, Value):
            checked.append(item)
        elif isinstance(item, numbers.Real) and not isinstance(item, bool):
            number = float(item)
            if not math.isfinite(number):
                raise ValueError(f"{caller}: input {position} must be finite, got {number!r}")
            checked.append(number)
        else:
            raise TypeError(f"{caller}: input {position} is {describe(item)}; expected a number or a Value")
    return tuple(checked)


def _initial_weight(init: str, fan_in: int, fan_out: int, rng: RandomSource) -> float:
    if init == "uniform":
        return rng.uniform(-1.0, 1.0)
    if init == "xavier":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit)
    if init == "he":
        return rng.gauss(0.0, math.sqrt(2.0 / fan_in))
    if init == "lecun":
        return rng.gauss(0.0, 1.0 / math.sqrt(fan_in))
    return 0.0  # "zeros"


def _check_init(init: object, caller: str) -> str:
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(
            f"{caller}: unknown init {init!r}; choose one of {list(INITS)} "
            "(for exact weights use MLP.from_weights or load_state_dict)"
        )
    return init


def _finite_number(value: object, where: str) -> float:
    """A finite float from a JSON/Python number, else a ValueError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, (list, tuple, dict)):
            raise ValueError(
                f"{where}: wrong shape: expected a single number, got a {type(value).__name__} "
                f"of {len(value)} items"
            )
        raise ValueError(f"{where}: expected a number, got {describe(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(
            f"{where}: expected a finite number, got an integer too large for a float "
            f"(about 10**{int(math.log10(abs(value)))})"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: expected a finite number, got {number!r}")
    return number


# ---------------------------------------------------------------------------------------------------
# Module
# ---------------------------------------------------------------------------------------------------


class Module:
    """Base class: named parameters, zero_grad, state dicts and JSON checkpoints.

    As in PyTorch, a subclass just stores its parameters and submodules as attributes:

        class Affine(nn.Module):
            def __init__(self):
                self.scale = Value(1.0)
                self.shift = Value(0.0)
                self.label_parameters()      # optional: names become labels in graphs

    `named_parameters()` finds them: every public attribute that is a `Value` (named after the
    attribute), a `Module` (its parameters, prefixed), or a list/tuple of those (prefixed with the
    index), in attribute-assignment order. Attributes starting with "_" are skipped, so keep
    non-parameter Values there. Override `named_parameters()` for anything else.
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(name, Value)`` for every parameter, in a stable order (the order of `parameters()`).

        A Value reachable twice (a shared weight) is listed once, under its first name.
        """
        named: list[tuple[str, Value]] = []
        seen: set[Value] = set()
        for name, attribute in vars(self).items():
            if not name.startswith("_"):
                _collect_parameters(name, attribute, named, seen)
        return named

    def parameters(self) -> list[Value]:
        """Every trainable `Value`, in a stable order (what an optimiser updates)."""
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate across `backward()` calls)."""
        for parameter in self.parameters():
            parameter.grad = 0.0

    def shape(self) -> dict[str, Any] | None:
        """A JSON-able description of the architecture, compared when loading a checkpoint."""
        return None

    def label_parameters(self) -> None:
        """Set each parameter's `label` to its name, so graphs and the stepper show
        ``layers.0.neurons.2.w.1`` instead of nothing. The built-in modules do this when created."""
        for name, parameter in self.named_parameters():
            parameter.label = name

    # ---- state dicts --------------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """``{name: value}`` for every parameter, in `named_parameters()` order."""
        return {name: parameter.data for name, parameter in self.named_parameters()}

    def load_state_dict(
        self, state: Mapping[str, object], strict: bool = True
    ) -> tuple[list[str], list[str]]:
        """Set the parameters from `state` (as made by `state_dict()`); returns the names
        ``(missing, unexpected)`` (both empty when `strict`).

        Everything is checked before anything changes: a value that is not a single finite number,
        or (when `strict`, the default) a missing or unexpected name, raises `ValueError` naming
        the problem, and the weights stay as they were. ``strict=False`` loads the names that match.
        """
        updates, missing, unexpected = self._validated_updates(state, "load_state_dict", strict)
        for parameter, value in updates:
            parameter.data = value
        return missing, unexpected

    def _validated_updates(
        self, state: object, caller: str, strict: bool = True
    ) -> tuple[list[tuple[Value, float]], list[str], list[str]]:
        if not isinstance(state, Mapping):
            raise ValueError(
                f"{caller}: expected a mapping of parameter names to numbers, got {describe(state)}"
            )
        named = self.named_parameters()
        missing = [name for name, _ in named if name not in state]
        expected = {name for name, _ in named}
        unexpected = [name for name in state if name not in expected]
        if strict and (missing or unexpected):
            problems = []
            if missing:
                problems.append(f"missing {len(missing)} parameter(s): {_name_list(missing)}")
            if unexpected:
                problems.append(f"unexpected {len(unexpected)} parameter(s): {_name_list(unexpected)}")
            raise ValueError(
                f"{caller}: the parameters do not match this {type(self).__name__} "
                f"({'; '.join(problems)}); nothing was changed"
            )
        updates = [
            (parameter, _finite_number(state[name], f"{caller}: parameter {name!r}"))
            for name, parameter in named
            if name in state
        ]
        return updates, missing, unexpected

    # ---- JSON checkpoints ---------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters to `path` as JSON, atomically (a crash never leaves a half file).

        The file holds a format name and version, the model's `shape()` and every parameter by name.
        Floats are written with `repr` precision, so `load` restores them exactly. A parameter that
        is NaN or infinite raises `ValueError` naming it before anything is written, so `save` never
        writes a checkpoint that `load` would refuse.
        """
        where = f"save({os.fspath(path)!r})"
        not_finite = [
            (name, parameter.data)
            for name, parameter in self.named_parameters()
            if not is_finite_real(parameter.data)
        ]
        if not_finite:
            shown = ", ".join(f"{name!r} = {data!r}" for name, data in not_finite[:5])
            more = f" and {len(not_finite) - 5} more" if len(not_finite) > 5 else ""
            raise ValueError(
                f"{where}: {len(not_finite)} parameter(s) are not finite numbers ({shown}{more}); "
                "a checkpoint holds finite numbers only, nothing was written"
            )
        try:
            text = self._checkpoint_text()
        except (TypeError, ValueError, RecursionError) as error:
            raise ValueError(
                f"{where}: shape() must return plain JSON data ({error}); nothing was written"
            ) from None
        depth = _json_nesting_depth(text)
        if depth > CHECKPOINT_MAX_DEPTH:
            raise ValueError(
                f"{where}: shape() nests {depth} levels deep, more than the {CHECKPOINT_MAX_DEPTH} "
                "a checkpoint may have; nothing was written"
            )
        return atomic_write(path, text)

    def _checkpoint_text(self) -> str:
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": repr(self),
            "shape": self.shape(),
            "parameters": self.state_dict(),
        }
        return json.dumps(checkpoint, indent=1, allow_nan=False) + "\n"

    def checkpoint_size_limit(self) -> int:
        """The largest checkpoint file `load` reads for this model, in bytes.

        1 MiB (`CHECKPOINT_SIZE_SLACK`) plus four times the size of the model's own checkpoint: room
        for any weights and re-indented JSON, while a wrong file (``/dev/zero``, a data set) fails
        at once instead of filling the memory.
        """
        placeholders = {name: -1.2345678901234567e-300 for name, _ in self.named_parameters()}
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": repr(self),
            "shape": self.shape(),
            "parameters": placeholders,
        }
        try:
            size = len(json.dumps(checkpoint, indent=1).encode("utf-8"))
        except (TypeError, ValueError, RecursionError):
            size = len(json.dumps(placeholders, indent=1).encode("utf-8"))
        return CHECKPOINT_SIZE_SLACK + 4 * size

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Set the parameters from a checkpoint written by `save`; returns `self`.

        The whole file is validated first, and on any problem with what is there a `ValueError`
        names the file and the problem and no parameter changes (a missing or unreadable file is the
        usual `OSError`). What is checked:

        - it is a regular file (a FIFO or device is refused without reading) of at most
          `checkpoint_size_limit()` bytes, only that much is ever read;
        - strict UTF-8 JSON, nested at most `CHECKPOINT_MAX_DEPTH` levels, no key twice in an object;
        - exactly the keys `save` writes, the format name, ``"version": 1`` as an integer (``true``
          or ``1.0`` are refused), the same `shape()` (types included: ``true`` is not ``1``);
        - every parameter present, none extra, each a single finite number (never a bool).
        """
        where = f"load({os.fspath(path)!r})"
        limit = self.checkpoint_size_limit()
        try:
            raw = read_regular_file(path, limit)
        except NotARegularFileError as error:
            raise ValueError(f"{where}: not a checkpoint file: {error.strerror}") from None
        except FileTooLargeError as error:
            raise ValueError(
                f"{where}: too large for a checkpoint of this model ({error}; "
                f"see Module.checkpoint_size_limit)"
            ) from None
        checkpoint = _parse_checkpoint(raw, where)
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f'{where}: not a gradstep checkpoint (no "format": {CHECKPOINT_FORMAT!r})')
        unknown = [key for key in checkpoint if key not in _CHECKPOINT_KEYS]
        if unknown:
            raise ValueError(
                f"{where}: unexpected key(s) {_name_list(unknown)} in a version {CHECKPOINT_VERSION} "
                f"checkpoint (it holds {', '.join(_CHECKPOINT_KEYS)})"
            )
        version = checkpoint.get("version")
        if type(version) is not int or version != CHECKPOINT_VERSION:
            raise ValueError(
                f"{where}: unsupported checkpoint version {_clipped(json.dumps(version))} "
                f"(this gradstep reads version {CHECKPOINT_VERSION}, an integer)"
            )
        if "model" in checkpoint and not isinstance(checkpoint["model"], str):
            raise ValueError(f'{where}: "model" must be a text, got {describe(checkpoint["model"])}')
        # The model's own shape as JSON gives it back (tuples become lists), to compare like with like.
        saved_shape, own_shape = checkpoint.get("shape"), json.loads(json.dumps(self.shape()))
        if saved_shape is not None and own_shape is not None and not _same_json(saved_shape, own_shape):
            raise ValueError(
                f"{where}: wrong shape: the checkpoint holds {_shape_text(saved_shape)}, "
                f"this model is {_shape_text(own_shape)}; nothing was changed"
            )
        if "parameters" not in checkpoint:
            raise ValueError(f'{where}: the checkpoint has no "parameters"')
        updates, _, _ = self._validated_updates(checkpoint["parameters"], where)
        for parameter, value in updates:
            parameter.data = value
        return self


# ---- reading checkpoint JSON strictly ---------------------------------------------------------

# A string, or an unterminated one running to the end: consuming the rest keeps the scan linear (a
# failed match would be retried from every later quote: 40 s for 48 kB of escaped quotes, measured).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON `text` (brackets inside strings do not count).

    A cheap scan done before parsing, so a hostile file nested 100,000 deep is refused with a clear
    error instead of exhausting Python's recursion limit inside the parser.
    """
    brackets = _JSON_BRACKET.findall(_JSON_STRING.sub("", text))
    return max(accumulate(1 if bracket in "[{" else -1 for bracket in brackets), default=0)


class _CheckpointSyntaxError(ValueError):
    """Raised from inside the JSON parser's hooks; `_parse_checkpoint` adds the file name."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _CheckpointSyntaxError(
                f"duplicate key {_clipped(repr(key))} in one JSON object (each key may appear once)"
            )
        obj[key] = value
    return obj


def _bounded_int(digits: str) -> int:
    if len(digits) > _MAX_INTEGER_DIGITS:
        raise _CheckpointSyntaxError(
            f"an integer of {len(digits)} digits ({digits[:12]}...) is too large for a float"
        )
    return int(digits)


def _parse_checkpoint(raw: bytes, where: str) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: not a text file ({error})") from None
    depth = _json_nesting_depth(text)
    if depth > CHECKPOINT_MAX_DEPTH:
        raise ValueError(
            f"{where}: JSON nested {depth} levels deep, more than the {CHECKPOINT_MAX_DEPTH} "
            "a checkpoint may have"
        )
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except _CheckpointSyntaxError as error:
        raise ValueError(f"{where}: {error}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON, the file may be truncated or corrupt ({error})") from None
    except RecursionError:  # not reachable after the depth scan; kept so no input escapes as one
        raise ValueError(f"{where}: JSON nested too deeply") from None


def _same_json(a: object, b: object) -> bool:
    """Equality of JSON data with exact types: ``true`` is not ``1`` and ``1.0`` is not ``1``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same_json(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple))
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    return a == b


def _collect_parameters(name: str, item: object, named: list[tuple[str, Value]], seen: set[Value]) -> None:
    if isinstance(item, Value):
        if item not in seen:
            seen.add(item)
            named.append((name, item))
    elif isinstance(item, Module):
        if type(item).named_parameters is Module.named_parameters:
            # The default walk: descend directly instead of building and re-walking a list per level.
            for attribute_name, attribute in vars(item).items():
                if not attribute_name.startswith("_"):
                    _collect_parameters(f"{name}.{attribute_name}", attribute, named, seen)
        else:
            for inner_name, parameter in item.named_parameters():
                _collect_parameters(f"{name}.{inner_name}", parameter, named, seen)
    elif isinstance(item, (list, tuple)):
        for index, element in enumerate(item):
            _collect_parameters(f"{name}.{index}", element, named, seen)


def _clipped(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters, so a hostile file cannot make an error message huge."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name_list(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(_clipped(repr(name)) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _shape_text(shape: object) -> str:
    if isinstance(shape, dict) and shape.get("class") == "MLP" and isinstance(shape.get("sizes"), list):
        return _clipped(
            f"an MLP {'-'.join(str(size) for size in shape['sizes'])} (bias {shape.get('bias')})", 200
        )
    return _clipped(json.dumps(shape), 200)


# ---------------------------------------------------------------------------------------------------
# Neuron, Layer, MLP
# ---------------------------------------------------------------------------------------------------


class Neuron(Module):
    """``activation(Σ wᵢxᵢ + b)``: one `dot` node plus one activation node (none for "linear").

    Args:
        n_inputs: how many inputs it takes.
        activation: "tanh", "relu", "sigmoid" or "linear".
        bias: whether it has a bias `b` (else `b` is None).
        init: how the weights start (see `INITS`); the bias starts at 0.
        rng: an int seed, a `random.Random`, or None for Python's global `random` state.
        fan_out: the layer width, used by the "xavier" init.
    """

    def __init__(
        self,
        n_inputs: int,
        activation: str = "tanh",
        *,
        bias: bool = True,
        init: str = "uniform",
        rng: RngLike | RandomSource = None,
        fan_out: int = 1,
    ) -> None:
        self.n_inputs = _check_count(n_inputs, "n_inputs", "Neuron")
        self.activation = _check_activation(activation, "Neuron")
        init = _check_init(init, "Neuron")
        source = rng if _is_random_source(rng) else make_rng(rng, "Neuron")
        # A tuple, so `dot` uses it without copying on every call.
        self.w: tuple[Value, ...] = tuple(
            Value(_initial_weight(init, n_inputs, fan_out, source)) for _ in range(n_inputs)
        )
        self.b: Value | None = Value(0.0) if bias else None
        self.label_parameters()

    def shape(self) -> dict[str, Any]:
        return {"class": "Neuron", "n_inputs": self.n_inputs, "bias": self.b is not None}

    def __call__(self, x: Sequence[Input]) -> Value:
        z = dot(self.w, _check_inputs(x, self.n_inputs, "Neuron"), self.b)
        activate = ACTIVATIONS[self.activation]
        return z if activate is None else activate(z)

    def __repr__(self) -> str:
        return f"Neuron({self.n_inputs}, activation={self.activation!r}, bias={self.b is not None})"


def _is_random_source(rng: object) -> TypeGuard[RandomSource]:
    # A Layer hands its neurons one shared generator (possibly the global `random` module).
    return hasattr(rng, "uniform") and hasattr(rng, "gauss")


class Layer(Module):
    """`n_outputs` neurons that all see the same `n_inputs` inputs and share one activation.

    Calling it returns a Value when it has one neuron, else a list of Values.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: str = "tanh",
        *,
        bias: bool = True,
        init: str = "uniform",
        rng: RngLike | RandomSource = None,
    ) -> None:
        self.n_inputs = _check_count(n_inputs, "n_inputs", "Layer")
        n_outputs = _check_count(n_outputs, "n_outputs", "Layer")
        self.activation = _check_activation(activation, "Layer")
        init = _check_init(init, "Layer")
        source = rng if _is_random_source(rng) else make_rng(rng, "Layer")
        self.neurons = [
            Neuron(n_inputs, activation, bias=bias, init=init, rng=source, fan_out=n_outputs)
            for _ in range(n_outputs)
        ]
        self.label_parameters()

    @property
    def n_outputs(self) -> int:
        return len(self.neurons)

    def shape(self) -> dict[str, Any]:
        return {
            "class": "Layer",
            "n_inputs": self.n_inputs,
            "n_outputs": self.n_outputs,
            "bias": [neuron.b is not None for neuron in self.neurons],
        }

    def _forward(self, x: tuple[Input, ...]) -> tuple[Value, ...]:
        # The hot path of training: inputs are already checked, so no per-element work here.
        pre_activations = [dot(neuron.w, x, neuron.b) for neuron in self.neurons]
        activate = ACTIVATIONS[self.activation]
        if activate is None:
            return tuple(pre_activations)
        return tuple([activate(z) for z in pre_activations])

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        out = self._forward(_check_inputs(x, self.n_inputs, "Layer"))
        return out[0] if len(out) == 1 else list(out)

    def __repr__(self) -> str:
        return f"Layer({self.n_inputs}, {self.n_outputs}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` is 2 inputs, two hidden layers of 16, 1 output.

    Args:
        n_inputs: the number of inputs.
        layer_sizes: the width of each layer, the last one being the output layer.
        activation: the hidden layers' activation ("tanh", "relu", "sigmoid", "linear").
        output_activation: the output layer's activation; "linear" by default (as in micrograd),
            so the outputs are scores/logits for the losses on logits.
        bias: True/False for every layer, or one bool per layer (Rashid's and Trask's nets have none).
        init: the weight initialisation, one of `INITS`; for exact published weights use
            `MLP.from_weights`.
        rng: an int seed, a `random.Random`, or None for Python's global `random` state.

    Calling the model with a list of `n_inputs` numbers or Values returns a Value when the last
    layer has one neuron, else a list of Values.
    """

    def __init__(
        self,
        n_inputs: int,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "linear",
        *,
        bias: bool | Sequence[bool] = True,
        init: str = "uniform",
        rng: RngLike = None,
    ) -> None:
        self.n_inputs = _check_count(n_inputs, "n_inputs", "MLP")
        if not is_sequence(layer_sizes) or len(layer_sizes) == 0:
            raise ValueError(
                f"MLP: layer_sizes must be a non-empty list of ints, got {describe(layer_sizes)}"
            )
        sizes = [_check_count(size, "each layer size", "MLP") for size in layer_sizes]
        self.activation = _check_activation(activation, "MLP")
        self.output_activation = _check_activation(output_activation, "MLP")
        init = _check_init(init, "MLP")
        if isinstance(bias, bool):
            biases = [bias] * len(sizes)
        elif is_sequence(bias) and len(bias) == len(sizes) and all(isinstance(b, bool) for b in bias):
            biases = list(bias)
        else:
            raise ValueError(
                f"MLP: bias must be a bool or a list of {len(sizes)} bools, got {describe(bias)}"
            )
        source = make_rng(rng, "MLP")
        fan_ins = [self.n_inputs, *sizes[:-1]]
        activations = [self.activation] * (len(sizes) - 1) + [self.output_activation]
        self.layers = [
            Layer(fan_in, size, layer_activation, bias=layer_bias, init=init, rng=source)
            for fan_in, size, layer_activation, layer_bias in zip(fan_ins, sizes, activations, biases)
        ]
        self.label_parameters()

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[Sequence[Sequence[float]]],
        biases: Sequence[Sequence[float] | None] | None = None,
        activation: str = "tanh",
        output_activation: str = "linear",
    ) -> MLP:
        """An MLP with exactly these weights (to reproduce a published network).

        Args:
            weights: one matrix per layer, each a list of rows, one row per neuron holding its
                weights in input order: ``weights[l][j][i]`` is the weight from input i to neuron j
                of layer l (PyTorch's ``nn.Linear.weight`` layout, out × in). A net written as
                ``X @ W`` (Trask) needs each W transposed.
            biases: None for no biases at all, or one entry per layer: a list with one bias per
                neuron, or None for a layer without biases.
        """
        if not is_sequence(weights) or len(weights) == 0:
            raise ValueError(
                f"MLP.from_weights: weights must be a non-empty list of matrices, got {describe(weights)}"
            )
        matrices = [_check_matrix(matrix, layer) for layer, matrix in enumerate(weights)]
        for index in range(1, len(matrices)):
            expected, got = len(matrices[index - 1]), len(matrices[index][0])
            if got != expected:
                raise ValueError(
                    f"MLP.from_weights: layer {index} rows have {got} weights but layer {index - 1} "
                    f"has {expected} neurons"
                )
        if biases is None:
            bias_vectors: list[list[float] | None] = [None] * len(matrices)
        elif is_sequence(biases) and len(biases) == len(matrices):
            bias_vectors = [
                _check_bias(vector, layer, len(matrices[layer])) for layer, vector in enumerate(biases)
            ]
        else:
            raise ValueError(
                f"MLP.from_weights: biases must be None or a list of {len(matrices)} entries, "
                f"got {describe(biases)}"
            )
        model = cls(
            len(matrices[0][0]),
            [len(matrix) for matrix in matrices],
            activation,
            output_activation,
            bias=[vector is not None for vector in bias_vectors],
            init="zeros",
        )
        for layer, matrix, vector in zip(model.layers, matrices, bias_vectors):
            for j, neuron in enumerate(layer.neurons):
                for w, value in zip(neuron.w, matrix[j]):
                    w.data = value
                if vector is not None and neuron.b is not None:
                    neuron.b.data = vector[j]
        return model

    def to_weights(self) -> tuple[list[list[list[float]]], list[list[float] | None]]:
        """``(weights, biases)`` in the layout `from_weights` takes (copies of the numbers)."""
        weights = [[[w.data for w in neuron.w] for neuron in layer.neurons] for layer in self.layers]
        biases = [
            [neuron.b.data for neuron in layer.neurons if neuron.b is not None]
            if layer.neurons[0].b is not None
            else None
            for layer in self.layers
        ]
        return weights, biases

    @property
    def sizes(self) -> list[int]:
        """``[n_inputs, *layer_sizes]``, e.g. ``[2, 16, 16, 1]``."""
        return [self.n_inputs, *(layer.n_outputs for layer in self.layers)]

    def shape(self) -> dict[str, Any]:
        return {
            "class": "MLP",
            "sizes": self.sizes,
            "bias": [layer.neurons[0].b is not None for layer in self.layers],
        }

    def __call__(self, x: Sequence[Input]) -> Value | list[Value]:
        first, *rest = self.layers  # an MLP has at least one layer
        outputs = first._forward(_check_inputs(x, self.n_inputs, "MLP"))
        for layer in rest:
            outputs = layer._forward(outputs)
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def __repr__(self) -> str:
        biases = [layer.neurons[0].b is not None for layer in self.layers]
        bias_text = "" if all(biases) else f", bias={biases if any(biases) else False}"
        return (
            f"MLP({self.n_inputs}, {self.sizes[1:]}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}{bias_text})"
        )


def _check_matrix(matrix: object, layer: int) -> list[list[float]]:
    where = f"MLP.from_weights: weights[{layer}]"
    if not is_sequence(matrix) or len(matrix) == 0:
        raise ValueError(f"{where} must be a non-empty list of rows (one per neuron), got {describe(matrix)}")
    rows = []
    for j, row in enumerate(matrix):
        if not is_sequence(row) or len(row) == 0:
            raise ValueError(f"{where}[{j}] must be a non-empty list of numbers, got {describe(row)}")
        rows.append([_finite_number(value, f"{where}[{j}][{i}]") for i, value in enumerate(row)])
    if len({len(row) for row in rows}) != 1:
        raise ValueError(f"{where}: rows differ in length ({[len(row) for row in rows]})")
    return rows


def _check_bias(vector: object, layer: int, n_neurons: int) -> list[float] | None:
    where = f"MLP.from_weights: biases[{layer}]"
    if vector is None:
        return None
    if not is_sequence(vector) or len(vector) != n_neurons:
        raise ValueError(f"{where} must be None or a list of {n_neurons} numbers, got {describe(vector)}")
    return [_finite_number(value, f"{where}[{j}]") for j, value in enumerate(vector)]
