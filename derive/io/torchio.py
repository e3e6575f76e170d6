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

from derive.core.functions import ACTIVATIONS, LOSSES
from derive.core.spec import NetworkSpec, parse
from derive.errors import DeriveError


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


def _modules() -> dict:
    """The registry's activations by the torch.nn class that computes them (a family by its first member)."""
    found = {}
    for act in ACTIVATIONS.values():
        found.setdefault(act.torch.name, []).append(act)
    return found


def _activation(child, candidates: list) -> str:
    """derive's name of an activation module, or a clear error when its settings are not derive's function."""
    kind = type(child).__name__
    refusal = ""
    for act in candidates:
        module = act.torch
        if module.parameter is not None:  # a family: the setting names the member (LeakyReLU(0.2): leaky_relu(0.2))
            value = shortest(getattr(child, module.parameter), "float64")
            member = f"{act.family}({value})"
            if member in ACTIVATIONS:
                return ACTIVATIONS[member].name
            refusal = f"{kind}({module.parameter}={value}) {module.refused}"
            continue
        wrong = [(attribute, getattr(child, attribute, None)) for attribute, values in module.settings
                 if getattr(child, attribute, None) not in values]
        if not wrong:
            return act.name
        refusal = f"{kind}({wrong[0][0]}={wrong[0][1]}) {module.refused}"
    raise DeriveError("model", refusal)


def layers_of(model) -> list[tuple]:
    """(Linear, activation name) pairs of a Sequential-like model; a clear error for anything else."""
    children = list(model.children()) if list(model.children()) else [model]
    modules = _modules()
    layers, pending = [], None
    for child in children:
        kind = type(child).__name__
        if kind == "Linear":
            if pending is not None:
                layers.append((pending, "identity"))
            pending = child
        elif kind in modules:
            if pending is None:
                raise DeriveError("model", f"{kind} comes before any Linear layer; derive needs Linear, activation, ...")
            layers.append((pending, _activation(child, modules[kind])))
            pending = None
        else:
            supported = ", ".join(name + (" (last)" if any(a.coupled for a in acts) else "")
                                  for name, acts in modules.items())
            raise DeriveError("model", f"derive cannot express a {kind} layer; supported: Linear and {supported}")
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
    if loss not in LOSSES:
        raise DeriveError("loss", str(LOSSES.unknown(loss)))
    rule = LOSSES[loss]
    found = layers_of(model)
    if rule.takes_logits and found[-1][1] == rule.link:
        module = ACTIVATIONS[rule.link].torch.name
        raise DeriveError("model", f"the model ends in {module} and {rule.torch.name} applies the {rule.link} again to "
                          f"what it is given (PyTorch expects logits): the {rule.link} is applied twice. Remove the "
                          f"nn.{module}; derive writes {rule.torch.name}'s own {rule.link} as the output activation")
    if rule.targets == "classes":
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
    candidates = [rule for rule in LOSSES.values() if rule.torch.name == name and rule.torch.scale == 1]
    if not candidates:
        supported = dict.fromkeys(rule.torch.name for rule in LOSSES.values())
        raise DeriveError("loss", f"derive cannot express {name}; supported: {', '.join(supported)}")
    reduction = getattr(loss, "reduction", "mean")
    matching = [rule for rule in candidates if rule.torch.reduction == reduction]
    if not matching:
        known = " and ".join(f"{rule.name} is the {rule.torch.reduction}" for rule in candidates)
        raise DeriveError("loss", f"{name} with reduction '{reduction}': derive's {known}")
    if getattr(loss, "weight", None) is not None:
        raise DeriveError("loss", f"{name} with class weights: derive weighs every output alike")
    if getattr(loss, "label_smoothing", 0.0):
        raise DeriveError("loss", f"{name} with label smoothing: smooth the targets themselves instead")
    rule = matching[0]
    for attribute, value in rule.torch.settings:
        if getattr(loss, attribute, value) != value:
            raise DeriveError("loss", f"{name} with {attribute}={getattr(loss, attribute)}: derive's {rule.name} "
                              f"has {attribute}={value}")
    return rule.name


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
    rule = LOSSES[spec.loss]
    modules = []
    for l, activation in enumerate(spec.activations, start=1):
        linear = nn.Linear(spec.sizes[l - 1], spec.sizes[l], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[float(w) for w in row] for row in spec.weights[l - 1]], dtype=dtype))
            linear.bias.copy_(torch.tensor([float(b) for b in spec.biases[l - 1]], dtype=dtype))
        modules.append(linear)
        act = ACTIVATIONS[activation]
        if act.passthrough or (rule.takes_logits and l == spec.layers):
            continue  # no module: the identity, or the link a loss on logits applies itself (CrossEntropyLoss)
        modules.append(getattr(nn, act.torch.name)(**act.torch.arguments()))
    rows = lambda data: torch.tensor([[float(v) for v in row] for row in data], dtype=dtype)
    module = getattr(nn, rule.torch.name)(reduction=rule.torch.reduction, **dict(rule.torch.settings))
    loss = module if rule.torch.scale == 1 else _scaled(module, float(rule.torch.scale))
    return nn.Sequential(*modules), rows(spec.inputs), rows(spec.targets), loss


def _scaled(module, scale: float):
    """A loss module times a constant (half_sse is one half of MSELoss with reduction 'sum')."""
    return lambda out, t: scale * module(out, t)


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
