"""A saved PyTorch state dict checked before it becomes a spec: every malformed one gets one clear line.

``torch.load(..., weights_only=True)`` gives back whatever the file held: a dictionary of
tensors (a state dict) or a list, a bare tensor, integer keys, complex, sparse or
non-finite tensors, weights of any shape. :func:`linear_layers` accepts exactly the
state dict of a stack of ``nn.Linear`` layers and names the key and the problem of
anything else, as :class:`derive.errors.DeriveError`. The command-line values of
``derive import-torch`` are checked here too (:func:`rows`, :func:`number`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from derive.errors import DeriveError, printable


@dataclass(frozen=True)
class Layer:
    """One Linear layer of a state dict: its weight key, weight (out x in) and bias (None: no bias)."""

    key: str
    weight: object
    bias: object


def _kind(value) -> str:
    """What a loaded value is, in a few words."""
    if isinstance(value, dict):
        return "a dictionary"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _shape(tensor) -> str:
    return "(" + ", ".join(str(n) for n in tensor.shape) + ("," if len(tensor.shape) == 1 else "") + ")"


def _check_tensor(path: str, key: str, value, what: str) -> None:
    """Refuse a value that is not a dense tensor of finite real numbers."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise DeriveError(path, f"{key}: is {_kind(value)}, not a tensor; a state dict maps parameter names to tensors")
    if value.layout != torch.strided:
        raise DeriveError(path, f"{key}: is a sparse tensor; save the dense {what} (tensor.to_dense())")
    if value.is_complex():
        raise DeriveError(path, f"{key}: holds complex numbers ({value.dtype}); derive takes real numbers")
    if value.dtype == torch.bool:
        raise DeriveError(path, f"{key}: holds true/false values, not numbers")
    if value.is_floating_point() and value.numel():
        bad = (~torch.isfinite(value)).nonzero()
        if len(bad):
            index = "".join(f"[{int(i)}]" for i in bad[0])
            number = value[tuple(int(i) for i in bad[0])].item()
            shown = "NaN" if number != number else ("infinity" if number > 0 else "-infinity")
            raise DeriveError(path, f"{key}{index}: is {shown}; derive needs finite numbers")


def linear_layers(state, path: str) -> list[Layer]:
    """The Linear layers of a loaded state dict, in order; a DeriveError naming the key for anything else."""
    if hasattr(state, "state_dict") and callable(state.state_dict):
        state = state.state_dict()
    if not isinstance(state, dict):
        raise DeriveError(path, f"holds {_kind(state)}, not a state dict (a dictionary of parameter names to "
                          "tensors, as torch.save(model.state_dict(), path) writes)")
    for key in state:
        if not isinstance(key, str):
            raise DeriveError(path, f"key {key!r} is not a parameter name; a state dict's keys are text such as "
                              "'0.weight'")
    weights = [key for key in state if key == "weight" or key.endswith(".weight")]
    if not weights:
        raise DeriveError(path, "holds no weights (no key ending in 'weight'); a Linear layer's weight is saved as "
                          "'NAME.weight'")
    layers = []
    for key in weights:
        weight = state[key]
        _check_tensor(path, key, weight, "weights")
        if weight.dim() != 2:
            raise DeriveError(path, f"{key}: has shape {_shape(weight)}; a Linear layer's weight is a matrix "
                              "(out_features x in_features)")
        if 0 in weight.shape:
            raise DeriveError(path, f"{key}: has shape {_shape(weight)}; a layer needs at least one unit and one input")
        bias_key = key[: -len("weight")] + "bias"
        bias = state.get(bias_key)
        if bias is not None:
            _check_tensor(path, bias_key, bias, "biases")
            if bias.dim() != 1 or bias.shape[0] != weight.shape[0]:
                raise DeriveError(path, f"{bias_key}: has shape {_shape(bias)}; the bias of {key} (shape "
                                  f"{_shape(weight)}) is a vector of {weight.shape[0]}")
        layers.append(Layer(key, weight, bias))
    for before, after in zip(layers, layers[1:]):
        if after.weight.shape[1] != before.weight.shape[0]:
            raise DeriveError(path, f"{after.key}: takes {after.weight.shape[1]} inputs, but {before.key} gives "
                              f"{before.weight.shape[0]} outputs")
    return layers


def number(text: str, option: str) -> Decimal:
    """A number given on the command line (decimal text), finite; a clear error otherwise."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():

        raise DeriveError(option, f"expected a number such as 0.1, got '{printable(str(text))}'")
    return value


def rows(text: str, option: str) -> list[list[str]]:
    """JSON rows of numbers given on the command line ('[[0.05, 0.1]]', or one flat row), as decimal texts."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except (json.JSONDecodeError, RecursionError) as error:
        detail = getattr(error, "msg", "nested too deeply")
        raise DeriveError(option, f"expected a list of rows such as [[0.05, 0.1]]: {detail}") from None
    if not isinstance(value, list) or not value:
        got = "an empty list" if value == [] else f"{'an object' if isinstance(value, dict) else _json_kind(value)}"
        raise DeriveError(option, f"expected a list of rows such as [[0.05, 0.1]], got {got}")
    if not isinstance(value[0], list):
        value = [value]
    for r, row in enumerate(value):
        if not isinstance(row, list) or not row:
            raise DeriveError(option, f"row {r + 1}: expected a list of numbers such as [0.05, 0.1], got "
                              f"{_json_kind(row)}")
        for c, item in enumerate(row):
            if not isinstance(item, Decimal) or not item.is_finite():
                raise DeriveError(option, f"row {r + 1}, item {c + 1}: expected a number, got {_json_kind(item)}")
    return [[str(item) for item in row] for row in value]


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"text {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    return f"the number {value}"
