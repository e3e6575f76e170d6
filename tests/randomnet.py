"""Random networks for the oracle tests: spec text with short decimals, reproducible by seed."""

from __future__ import annotations

import random

from derive.core.functions import ACTIVATIONS as REGISTERED
from derive.core.functions import LOSSES as REGISTERED_LOSSES

#: every elementwise activation and every loss on any targets the registries hold: a new entry is drawn (and
#: so checked against the oracles) without a line here
ACTIVATIONS = [name for name, act in REGISTERED.items() if not act.coupled]
LOSSES = [name for name, loss in REGISTERED_LOSSES.items() if loss.targets == "any"]


def decimal(rng: random.Random, scale: float = 1.0, places: int = 2) -> str:
    value = round(rng.uniform(-scale, scale), places)
    return f"{value:.{places}f}"


def matrix(rows: int, cols: int, rng, scale=1.0, places=2) -> str:
    return "[" + ", ".join("[" + ", ".join(decimal(rng, scale, places) for _ in range(cols)) + "]" for _ in range(rows)) + "]"


def spec_text(seed: int, **overrides) -> str:
    """A random network: depth 1-3 hidden layers, 1-4 units, mixed activations, losses, layouts."""
    rng = random.Random(seed)
    depth = overrides.get("depth", rng.randint(1, 3))
    sizes = overrides.get("sizes") or [rng.randint(1, 4) for _ in range(depth + 1)] + [rng.randint(1, 3)]
    if "out" in overrides:  # the number of outputs (a softmax needs two or more)
        sizes = [*sizes[:-1], overrides["out"]]
    activations = overrides.get("activations") or [rng.choice(ACTIVATIONS) for _ in sizes[1:]]
    loss = overrides.get("loss") or rng.choice(LOSSES)
    layout = overrides.get("layout") or rng.choice(["out_in", "in_out"])
    batch = overrides.get("batch", rng.randint(1, 3))
    steps = overrides.get("steps", rng.randint(1, 3))
    update_biases = overrides.get("update_biases", rng.choice([True, False]))
    lines = [
        f'title = "random network {seed}"',
        "[network]",
        f"sizes = {sizes}",
        "activations = [" + ", ".join(f'"{a}"' for a in activations) + "]",
        f'loss = "{loss}"',
        f'weight_layout = "{layout}"',
        "[parameters]",
    ]
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        shape = (n_out, n_in) if layout == "out_in" else (n_in, n_out)
        lines.append(f"W{l} = {matrix(*shape, rng)}")
        lines.append(f"b{l} = [" + ", ".join(decimal(rng) for _ in range(n_out)) + "]")
    lines += [
        "[data]",
        f"inputs = {matrix(batch, sizes[0], rng)}",
        f"targets = {targets(loss, batch, sizes[-1], rng, overrides.get('one_hot', True))}",
        "[training]",
        f"learning_rate = {rng.choice(['0.1', '0.25', '0.5'])}",
        f"update_biases = {'true' if update_biases else 'false'}",
        f"steps = {steps}",
    ]
    return "\n".join(lines) + "\n"


def targets(loss: str, batch: int, width: int, rng, one_hot: bool = True) -> str:
    """Targets the loss accepts: probabilities for bce, one-hot rows or class probabilities for cross_entropy."""
    if loss == "bce":
        return "[" + ", ".join("[" + ", ".join(f"{rng.randint(0, 100) / 100:.2f}" for _ in range(width)) + "]"
                               for _ in range(batch)) + "]"
    if loss == "cross_entropy":
        rows = []
        for _ in range(batch):
            if one_hot:
                hot = rng.randrange(width)
                rows.append([1 if k == hot else 0 for k in range(width)])
            else:
                cuts = sorted(rng.randint(0, 100) for _ in range(width - 1))
                rows.append([f"{(b - a) / 100:.2f}" for a, b in zip([0] + cuts, cuts + [100])])
        return "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in rows) + "]"
    return matrix(batch, width, rng)
