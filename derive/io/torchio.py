"""PyTorch models in and out: a spec from an nn.Sequential or a saved state dict, spec files as TOML, and a spec
as an nn.Sequential with its loss, to run PyTorch on the same network.

PyTorch is optional (``pip install derive[torch]``); it is imported only here, and
only when a model is read. Weights are read as PyTorch prints them at full
precision: the shortest decimal that gives back the same float32 (0.15, not
0.1500000059604645), then exactly as that decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

from derive.core.functions import ACTIVATIONS, LOSSES
from derive.core.spec import NetworkSpec, parse
from derive.errors import DeriveError
from derive.io.statedict import linear_layers, number


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
        if isinstance(v, str):  # a TOML basic string: JSON's escapes are TOML's (\\uXXXX for control characters)
            return json.dumps(v, ensure_ascii=False)
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


def spec_dict(layers, inputs, targets, loss: str, lr, update_biases: bool, steps: int, title: str,
              training: dict | None = None) -> dict:
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
        "training": {"learning_rate": Decimal(str(lr)), "update_biases": update_biases, "steps": steps,
                     **(training or {})},
    }


#: torch.optim's class -> how its param_groups' settings become [training] keys
_TORCH_OPTIMIZERS = {
    "SGD": ("momentum", "dampening", "weight_decay"),
    "Adam": ("betas", "eps", "weight_decay", "amsgrad"),
    "AdamW": ("betas", "eps", "weight_decay", "amsgrad"),
    "RMSprop": ("alpha", "eps", "weight_decay", "momentum", "centered"),
    "Adagrad": ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
}


def _number(value) -> Decimal:
    return Decimal(shortest(value, "float64"))


def optimizer_settings(optimizer, model=None) -> tuple:
    """(learning rate, [training] keys, update_biases) of a torch.optim optimizer over a model's parameters.

    Several parameter groups are read when they differ only in weight decay, and only as the spec can
    say it: the biases without decay (decay_biases = false), or the biases not updated at all.
    """
    kind = type(optimizer).__name__
    if kind not in _TORCH_OPTIMIZERS:
        raise DeriveError("optimizer", f"derive cannot express {kind}; supported: {', '.join(_TORCH_OPTIMIZERS)}")
    groups = optimizer.param_groups
    first = groups[0]
    for group in groups:
        if group.get("maximize"):
            raise DeriveError("optimizer", f"{kind} with maximize=True: derive descends the loss")
        if kind == "Adam" and group.get("decoupled_weight_decay"):
            raise DeriveError("optimizer", "Adam with decoupled_weight_decay=True is AdamW: pass torch.optim.AdamW")
        for key, value in group.items():
            if key not in ("params", "weight_decay", "initial_lr") and key in first and first[key] != value:
                raise DeriveError("optimizer", f"the parameter groups differ in {key}; derive takes one setting "
                                  "for every parameter (groups may differ in weight_decay between weights and biases)")
    keys = {}
    if kind == "SGD":
        name = "sgd" if not first["momentum"] else "nesterov" if first["nesterov"] else "momentum"
    else:
        name = kind.lower()
    for setting in _TORCH_OPTIMIZERS[kind]:
        value = first[setting]
        if setting == "betas":
            keys["beta1"], keys["beta2"] = _number(value[0]), _number(value[1])
        elif setting in ("momentum", "dampening") and name in ("sgd", "nesterov"):
            if setting == "dampening" and value:
                raise DeriveError("optimizer", "SGD with nesterov=True takes no dampening")
            if name == "nesterov" and setting == "momentum":
                keys["momentum"] = _number(value)
        elif isinstance(value, bool):
            keys[setting] = value
        elif setting != "weight_decay":
            keys[setting] = _number(value)
    update_biases, decay_biases, decay = _groups(groups, model)
    if decay:
        keys["weight_decay"] = _number(decay)
    elif name == "adamw":
        keys["weight_decay"] = Decimal(0)
    if decay and not decay_biases:
        keys["decay_biases"] = False
    return first["lr"], {"optimizer": name, **keys}, update_biases


def _groups(groups, model):
    """(biases updated, biases decayed, the weights' weight decay) from the parameter groups."""
    biases = {id(p) for name, p in model.named_parameters() if name.endswith("bias")} if model is not None else set()
    weight_decays, bias_decays = set(), set()
    for group in groups:
        for p in group["params"]:
            (bias_decays if id(p) in biases else weight_decays).add(group["weight_decay"])
    if len(weight_decays) > 1 or len(bias_decays) > 1:
        raise DeriveError("optimizer", "the weights (or the biases) are in groups of different weight decay; "
                          "derive takes one for the weights and the same or none for the biases")
    decay = next(iter(weight_decays), 0)
    if model is not None and not bias_decays and not weight_decays:
        raise DeriveError("optimizer", "the optimizer holds none of the model's parameters")
    update_biases = bool(bias_decays) or model is None
    bias_decay = next(iter(bias_decays), decay)
    if bias_decay not in (0, decay):
        raise DeriveError("optimizer", f"the biases' weight decay {bias_decay} is neither the weights' ({decay}) nor 0")
    return update_biases, bias_decay == decay, decay


def from_torch(model, inputs, targets, loss="mse", lr=None, update_biases: bool = True, steps: int = 1,
               title: str = "A PyTorch model", optimizer=None, training: dict | None = None) -> NetworkSpec:
    """A spec from a PyTorch model whose children are Linear layers and supported activations.

    ``inputs`` and ``targets`` are tensors or nested lists (one row per sample);
    ``loss`` is a derive loss name or a torch loss module (nn.MSELoss()); ``lr`` the
    learning rate of plain SGD (default 0.1). ``optimizer`` a torch.optim optimizer over the
    model's parameters (SGD, Adam, AdamW, RMSprop, Adagrad): its class and settings become the
    spec's optimizer, learning rate and hyper-parameters (biases left out of it are not updated;
    biases in a group without weight decay get none). ``training`` adds [training] keys
    (``{"batch_size": 2, "l2": "0.01"}``). Raises DeriveError for what derive cannot express.
    """
    extra = {}
    if optimizer is not None:
        torch_lr, extra, in_optimizer = optimizer_settings(optimizer, model)
        if lr is not None and float(lr) != torch_lr:
            raise DeriveError("lr", f"{lr} differs from the optimizer's learning rate {torch_lr}; give one of them")
        lr, update_biases = shortest(torch_lr, "float64"), update_biases and in_optimizer
    lr = 0.1 if lr is None else lr
    extra.update({k: (Decimal(v) if isinstance(v, str) and k not in ("optimizer", "form", "mode") else v)
                  for k, v in (training or {}).items()})
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
    document = spec_dict(layers, rows(inputs), rows(targets), loss, lr, update_biases, steps, title, extra)
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


def to_torch(spec: NetworkSpec, dtype=None, optimizer: bool = False):
    """The spec as PyTorch objects: (model, inputs, targets, loss function), in float64 unless ``dtype`` says.

    ``model`` is an nn.Sequential of Linear layers and activations holding the spec's
    starting parameters; ``loss(model(inputs), targets)`` is derive's loss (with the spec's L2
    penalty over the model's parameters added, when it has one). With the cross-entropy the
    model ends in the logits (no Softmax), as CrossEntropyLoss expects. With ``optimizer`` true a
    fifth item is the spec's torch.optim optimizer over the model's parameters (the biases in a
    group of their own without weight decay, or left out, as the spec says); Mitchell's momentum
    is PyTorch's SGD momentum. Mini-batches are the caller's loop (``spec.training.batches``).
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
    model = nn.Sequential(*modules)
    training = spec.training
    if training.l2:
        data_loss, l2 = loss, float(training.l2)
        regular = [p for name, p in model.named_parameters() if name.endswith("weight") or training.decay_biases]

        def loss(out, t):
            return data_loss(out, t) + l2 / 2 * sum((p ** 2).sum() for p in regular)
    made = (model, rows(spec.inputs), rows(spec.targets), loss)
    return (*made, torch_optimizer(spec, model)) if optimizer else made


def _scaled(module, scale: float):
    """A loss module times a constant (half_sse is one half of MSELoss with reduction 'sum')."""
    return lambda out, t: scale * module(out, t)


def torch_optimizer(spec: NetworkSpec, model):
    """The spec's optimizer as torch.optim builds it, over the model's parameters."""
    import torch

    s, lr = spec.training.settings, float(spec.learning_rate)
    values = {k: (v if isinstance(v, bool) else float(v)) for k, v in s.values}
    decay = values.pop("weight_decay", 0.0)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    groups = [{"params": weights, "weight_decay": decay}]
    if spec.update_biases:
        groups.append({"params": biases, "weight_decay": decay if spec.training.decay_biases else 0.0})
    if s.optimizer in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD(groups, lr=lr, momentum=values.get("momentum", 0.0),
                               dampening=values.get("dampening", 0.0), nesterov=s.optimizer == "nesterov")
    if s.optimizer in ("adam", "adamw"):
        betas = (values.pop("beta1"), values.pop("beta2"))
        kind = torch.optim.Adam if s.optimizer == "adam" else torch.optim.AdamW
        return kind(groups, lr=lr, betas=betas, **values)
    kind = {"rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}[s.optimizer]
    return kind(groups, lr=lr, **values)


def from_state_dict(path: str, activations: list[str], inputs, targets, loss: str = "mse", lr="0.1",
                    update_biases: bool = True, steps: int = 1, title: str | None = None,
                    training: dict | None = None) -> str:
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
    found = linear_layers(state, path)
    if len(found) != len(activations):
        raise DeriveError(path, f"holds {len(found)} weight matrices, but {len(activations)} activations were given")
    lr = number(lr, "--lr")
    layers = []
    for layer, activation in zip(found, activations):
        w = layer.weight
        bias = _decimals(layer.bias) if layer.bias is not None else ["0"] * w.shape[0]
        layers.append((_decimals(w), bias, activation))
    document = spec_dict(layers, inputs, targets, loss, lr, update_biases, steps, title or f"The model in {path}",
                         training)
    text = to_toml(document)
    parse(text, path, "toml")  # every problem is reported now, naming the file
    return text


__all__ = ["from_torch", "from_state_dict", "to_torch", "to_toml", "shortest", "optimizer_settings", "Fraction"]
