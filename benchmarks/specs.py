"""Reproducible spec files for the benchmarks (written as TOML text, numbers at 4 decimals)."""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLP_RELU = ROOT / "derive" / "presets" / "mlp-relu.toml"


def _num(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _vector(values) -> str:
    return "[" + ", ".join(_num(v) for v in values) + "]"


def _matrix(rows) -> str:
    return "[\n" + "".join(f"  {_vector(r)},\n" for r in rows) + "]"


def toml_spec(title, sizes, activations, loss, layout, weights, biases, inputs, targets,
              learning_rate=0.01, steps=1) -> str:
    """A spec as TOML text; weights[l] in the given layout."""
    lines = [f'title = "{title}"', "", "[network]", f"sizes = {list(sizes)}",
             "activations = [" + ", ".join(f'"{a}"' for a in activations) + "]",
             f'loss = "{loss}"', f'weight_layout = "{layout}"', "", "[parameters]"]
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        lines.append(f"W{l} = {_matrix(W)}")
        lines.append(f"b{l} = {_vector(b)}")
    lines += ["", "[data]", f"inputs = {_matrix(inputs)}", f"targets = {_matrix(targets)}", "",
              "[training]", f"learning_rate = {learning_rate}", "update_biases = true", f"steps = {steps}", ""]
    return "\n".join(lines)


def mlp_relu_batch4() -> dict:
    """The mlp-relu preset (its weights, layout and target) with a batch of 4 inputs.

    Sample 1 is the preset's input; samples 2-4 are Gaussian draws (seed 2024) at 4
    decimals, with targets drawn the same way.
    """
    import tomllib

    preset = tomllib.loads(MLP_RELU.read_text(encoding="utf-8"))
    rng = random.Random(2024)
    inputs = [preset["data"]["inputs"][0]] + [[round(rng.gauss(0, 1), 4) for _ in range(10)] for _ in range(3)]
    targets = [preset["data"]["targets"][0]] + [[round(rng.gauss(0, 3), 4)] for _ in range(3)]
    return {"preset": preset, "inputs": inputs, "targets": targets}


def mlp_relu_batch4_toml() -> str:
    d = mlp_relu_batch4()
    p = d["preset"]
    params = p["parameters"]
    return toml_spec(
        "mlp-relu with a batch of 4", p["network"]["sizes"], p["network"]["activations"], p["network"]["loss"],
        p["network"]["weight_layout"], [params["W1"], params["W2"]], [params["b1"], params["b2"]],
        d["inputs"], d["targets"], learning_rate=p["training"]["learning_rate"],
    )


def large_toml(hidden_activation: str = "relu", output_activation: str = "identity",
               sizes=(784, 32, 10), seed: int = 784) -> str:
    """A 784-32-10 network: uniform weights scaled by 1/sqrt(fan-in), inputs in [0, 1], one sample."""
    rng = random.Random(seed)
    weights, biases = [], []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = 1 / n_in**0.5
        weights.append([[round(rng.uniform(-bound, bound), 4) for _ in range(n_in)] for _ in range(n_out)])
        biases.append([round(rng.uniform(-bound, bound), 4) for _ in range(n_out)])
    inputs = [[round(rng.random(), 4) for _ in range(sizes[0])]]
    targets = [[round(rng.random(), 4) for _ in range(sizes[-1])]]
    acts = [hidden_activation] * (len(sizes) - 2) + [output_activation]
    name = "-".join(map(str, sizes))
    return toml_spec(f"A {name} {hidden_activation} network", sizes, acts, "mse", "out_in",
                     weights, biases, inputs, targets)


def deep_toml(depth: int, activation: str = "relu", width: int = 20, n_in: int = 10, n_out: int = 1,
              seed: int = 20) -> str:
    """A 10-[20]xdepth-1 network (the issue's depth series): hidden layers of ``activation``, identity output, mse."""
    sizes = (n_in, *([width] * depth), n_out)
    rng = random.Random(seed + depth)
    weights, biases = [], []
    for n_i, n_o in zip(sizes, sizes[1:]):
        bound = (3 / n_i) ** 0.5 if activation != "relu" else (6 / n_i) ** 0.5
        weights.append([[round(rng.uniform(-bound, bound), 4) for _ in range(n_i)] for _ in range(n_o)])
        biases.append([round(rng.uniform(-0.1, 0.1), 4) for _ in range(n_o)])
    inputs = [[round(rng.gauss(0, 1), 4) for _ in range(n_in)]]
    targets = [[round(rng.gauss(0, 1), 4) for _ in range(n_out)]]
    acts = [activation] * depth + ["identity"]
    return toml_spec(f"A {n_in}-[{width}]x{depth}-{n_out} {activation} network", sizes, acts, "mse", "out_in",
                     weights, biases, inputs, targets)


def mazur_batch_toml(samples: int, seed: int = 1000) -> str:
    """The mazur preset's network and parameters with ``samples`` samples (the first is the blog's)."""
    import tomllib

    preset = tomllib.loads((ROOT / "derive" / "presets" / "mazur.toml").read_text(encoding="utf-8"))
    rng = random.Random(seed)
    inputs = [preset["data"]["inputs"][0]] + [[round(rng.random(), 4) for _ in range(2)] for _ in range(samples - 1)]
    targets = [preset["data"]["targets"][0]] + [[round(rng.random(), 4) for _ in range(2)]
                                                for _ in range(samples - 1)]
    p, net = preset["parameters"], preset["network"]
    return toml_spec(f"mazur with {samples} samples", net["sizes"], net["activations"], net["loss"],
                     net.get("weight_layout", "out_in"), [p["W1"], p["W2"]], [p["b1"], p["b2"]], inputs, targets,
                     learning_rate=preset["training"]["learning_rate"])
