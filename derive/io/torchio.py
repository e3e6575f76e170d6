"""PyTorch models in and out: a spec from an nn.Sequential or a saved state dict, spec files as TOML, and a spec
as an nn.Sequential with its loss, to run PyTorch on the same network.

PyTorch is optional (``pip install derive[torch]``); it is imported only here, and
only when a model is read. Weights are read as PyTorch prints them at full
precision: the shortest decimal that gives back the same float32 (0.15, not
0.1500000059604645), then exactly as that decimal.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from derive.core.spec import NetworkSpec, parse
from derive.errors import DeriveError

ACTIVATION_MODULES = {"Sigmoid": "sigmoid", "ReLU": "relu", "Tanh": "tanh", "Identity": "identity"}
LOSS_MODULES = {"MSELoss": "mse", "BCELoss": "bce", "CrossEntropyLoss": "cross_entropy"}


def shortest(value, dtype: str = "float32") -> str:
    """The shortest decimal text that reads back as the same float (as PyTorch prints it)."""
    import numpy as np

    kind = np.float32 if dtype == "float32" else np.float64
    return np.format_float_positional(kind(value), unique=True, trim="-")


def _decimals(tensor) -> list:
    dtype = "float64" if "64" in str(tensor.dtype) else "float32"
    values = tensor.detach().cpu().tolist()
    if isinstance(values, list):
        return [_decimals_list(v, dtype) for v in values] if values and isinstance(values[0], list) \
            else [shortest(v, dtype) for v in values]
    return [shortest(values, dtype)]


def _decimals_list(row, dtype):
    return [shortest(v, dtype) for v in row]


def layers_of(model) -> list[tuple]:
    """(Linear, activation name) pairs of a Sequential-like model; a clear error for anything else."""
    children = list(model.children()) if list(model.children()) else [model]
    layers, pending = [], None
    for child in children:
        kind = type(child).__name__
        if kind == "Linear":
            if pending is not None:
                layers.append((pending, "identity"))
            pending = child
        elif kind == "Softmax":
            if pending is None:
                raise DeriveError("model", "Softmax comes before any Linear layer; derive needs Linear, activation, ...")
            if child.dim not in (1, -1):
                raise DeriveError("model", f"Softmax(dim={child.dim}) normalises across the samples; derive's softmax "
                                  "is over the units of a layer (dim=1 or dim=-1)")
            layers.append((pending, "softmax"))
            pending = None
        elif kind in ACTIVATION_MODULES or kind == "LeakyReLU":
            if pending is None:
                raise DeriveError("model", f"{kind} comes before any Linear layer; derive needs Linear, activation, ...")
            if kind == "LeakyReLU":
                slope = shortest(child.negative_slope, "float64")
                if not 0 < float(slope) < 1:
                    raise DeriveError("model", f"LeakyReLU with slope {slope}: derive needs a slope between 0 and 1")
                name = "leaky_relu" if slope == "0.01" else f"leaky_relu({slope})"
            else:
                name = ACTIVATION_MODULES[kind]
            layers.append((pending, name))
            pending = None
        else:
            raise DeriveError("model", f"derive cannot express a {kind} layer; supported: Linear and "
                              f"{', '.join(ACTIVATION_MODULES)}, LeakyReLU, Softmax (last)")
    if pending is not None:
        layers.append((pending, "identity"))
    if not layers:
        raise DeriveError("model", "the model has no Linear layer")
    return layers


def to_toml(spec_dict: dict) -> str:
    """A spec as TOML text (derive writes its own specs; numbers as decimal text)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            if v and isinstance(v[0], list):
                return "[\n" + ",\n".join("  " + value(r) for r in v) + ",\n]"
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, Decimal):
            return str(v)
        return str(v)

    lines = [f"title = {value(spec_dict['title'])}", ""]
    for section in ("network", "parameters", "data", "training"):
        lines.append(f"[{section}]")
        lines += [f"{key} = {value(v)}" for key, v in spec_dict[section].items()]
        lines.append("")
    return "\n".join(lines)


def _raw(value):
    """Decimal text kept as text for TOML (Decimal prints exactly what it holds)."""
    if isinstance(value, list):
        return [_raw(v) for v in value]
    return Decimal(value)


def spec_dict(layers, inputs, targets, loss: str, lr, update_biases: bool, steps: int, title: str) -> dict:
    """The spec as plain data (decimal texts), from (weight rows, bias, activation) per layer."""
    parameters = {}
    sizes = [len(layers[0][0][0])]
    for l, (weight, bias, _) in enumerate(layers, start=1):
        parameters[f"W{l}"] = _raw(weight)
        parameters[f"b{l}"] = _raw(bias)
        sizes.append(len(weight))
    return {
        "title": title,
        "network": {"sizes": sizes, "activations": [a for _, _, a in layers], "loss": loss, "weight_layout": "out_in"},
        "parameters": parameters,
        "data": {"inputs": _raw(inputs), "targets": _raw(targets)},
        "training": {"learning_rate": Decimal(str(lr)), "update_biases": update_biases, "steps": steps},
    }


def from_torch(model, inputs, targets, loss="mse", lr=0.1, update_biases: bool = True, steps: int = 1,
               title: str = "A PyTorch model") -> NetworkSpec:
    """A spec from a PyTorch model whose children are Linear layers and supported activations.

    ``inputs`` and ``targets`` are tensors or nested lists (one row per sample);
    ``loss`` is a derive loss name or a torch loss module (nn.MSELoss()); ``lr`` the
    learning rate of plain SGD. Raises DeriveError for a layer derive cannot express.
    """
    if not isinstance(loss, str):
        loss = _loss_name(loss)
    found = layers_of(model)
    if loss == "cross_entropy" and found[-1][1] == "softmax":
        raise DeriveError("model", "the model ends in Softmax and CrossEntropyLoss applies the softmax again to what "
                          "it is given (PyTorch expects logits): the softmax is applied twice. Remove the nn.Softmax; "
                          "derive writes CrossEntropyLoss's own softmax as the output activation")
    if loss == "cross_entropy":
        targets = _class_probabilities(targets, found[-1][0].out_features)
    layers = []
    for linear, activation in found:
        bias = _decimals(linear.bias) if linear.bias is not None else ["0"] * linear.out_features
        layers.append((_decimals(linear.weight), bias, activation))
    rows = lambda data: _decimals(data) if hasattr(data, "detach") else [[str(v) for v in row] for row in data]
    document = spec_dict(layers, rows(inputs), rows(targets), loss, lr, update_biases, steps, title)
    return parse(to_toml(document), "model", "toml", name="model")


def _loss_name(loss) -> str:
    """derive's name of a torch loss module, refusing settings derive does not compute."""
    name = type(loss).__name__
    if name not in LOSS_MODULES:
        raise DeriveError("loss", f"derive cannot express {name}; supported: {', '.join(LOSS_MODULES)}")
    if getattr(loss, "reduction", "mean") != "mean":
        raise DeriveError("loss", f"{name} with reduction '{loss.reduction}': derive's {LOSS_MODULES[name]} is the mean")
    if getattr(loss, "weight", None) is not None:
        raise DeriveError("loss", f"{name} with class weights: derive weighs every output alike")
    if getattr(loss, "label_smoothing", 0.0):
        raise DeriveError("loss", f"{name} with label smoothing: smooth the targets themselves instead")
    return LOSS_MODULES[name]


def _class_probabilities(targets, classes: int):
    """Targets as rows of class probabilities: class indices (as CrossEntropyLoss also takes) become one-hot rows."""
    values = targets.detach().cpu().tolist() if hasattr(targets, "detach") else list(targets)
    if values and not isinstance(values[0], list):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return targets  # one sample's probabilities written flat: the spec reads it as it is
        for v in values:
            if not 0 <= v < classes:
                raise DeriveError("targets", f"class index {v} is not one of the {classes} classes (0 to {classes - 1})")
        return [[str(int(k == v)) for k in range(classes)] for v in values]
    return targets


def to_torch(spec: NetworkSpec, dtype=None):
    """The spec as PyTorch objects: (model, inputs, targets, loss function), in float64 unless ``dtype`` says.

    ``model`` is an nn.Sequential of Linear layers and activations holding the spec's
    starting parameters; ``loss(model(inputs), targets)`` is derive's loss. With the
    cross-entropy the model ends in the logits (no Softmax), as CrossEntropyLoss expects.
    """
    import torch
    from torch import nn

    dtype = dtype or torch.float64
    modules = []
    for l, activation in enumerate(spec.activations, start=1):
        linear = nn.Linear(spec.sizes[l - 1], spec.sizes[l], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[float(w) for w in row] for row in spec.weights[l - 1]], dtype=dtype))
            linear.bias.copy_(torch.tensor([float(b) for b in spec.biases[l - 1]], dtype=dtype))
        modules.append(linear)
        if spec.loss == "cross_entropy" and l == spec.layers:
            continue  # CrossEntropyLoss applies the softmax itself
        if activation == "softmax":
            modules.append(nn.Softmax(dim=1))
        elif activation.startswith("leaky_relu"):
            slope = activation[len("leaky_relu("):-1] if "(" in activation else "0.01"
            modules.append(nn.LeakyReLU(float(slope)))
        elif activation != "identity":
            modules.append({"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]())
    rows = lambda data: torch.tensor([[float(v) for v in row] for row in data], dtype=dtype)
    losses = {
        "mse": nn.MSELoss(), "bce": nn.BCELoss(), "cross_entropy": nn.CrossEntropyLoss(),
        "sse": nn.MSELoss(reduction="sum"),
        "half_sse": lambda out, t: 0.5 * nn.functional.mse_loss(out, t, reduction="sum"),
    }
    return nn.Sequential(*modules), rows(spec.inputs), rows(spec.targets), losses[spec.loss]


def from_state_dict(path: str, activations: list[str], inputs, targets, loss: str = "mse", lr="0.1",
                    update_biases: bool = True, steps: int = 1, title: str | None = None) -> str:
    """Spec text from a saved state dict (weights only; PyTorch's safe loader) and the architecture named."""
    try:
        import torch
    except ImportError:
        raise DeriveError(path, "reading a PyTorch file needs PyTorch: pip install derive[torch]") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DeriveError(path, "no such file") from None
    except Exception as error:  # a corrupt or foreign file: PyTorch raises many kinds
        raise DeriveError(path, f"not a PyTorch state dict PyTorch can read safely ({type(error).__name__})") from None
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    weights = [key for key in state if key.endswith("weight")]
    if len(weights) != len(activations):
        raise DeriveError(path, f"holds {len(weights)} weight matrices, but {len(activations)} activations were given")
    layers = []
    for key, activation in zip(weights, activations):
        bias_key = key[: -len("weight")] + "bias"
        w = state[key]
        bias = _decimals(state[bias_key]) if bias_key in state else ["0"] * w.shape[0]
        layers.append((_decimals(w), bias, activation))
    document = spec_dict(layers, inputs, targets, loss, lr, update_biases, steps, title or f"The model in {path}")
    text = to_toml(document)
    parse(text, path, "toml")  # every problem is reported now, naming the file
    return text


__all__ = ["from_torch", "from_state_dict", "to_torch", "to_toml", "shortest", "Fraction"]
