"""Make the `mlp-relu` preset from the figures printed in the first source document.

The document (a 10-20-1 MLP: `x @ w1 + b1`, ReLU, `@ w2 + b2`, MSE) prints its input
tensor, its loss (5.7385) and its manual gradient of w1, but not its random weights
or its target. What can be recovered is recovered, the rest is drawn reproducibly:

* x: the printed input tensor, as printed.
* w2: the document's code never masks (its ReLU mask tests the activated values), so
  every column of its w1 gradient is x_r * 2 (y - t) * w2_j. A least-squares fit over
  the printed rows gives 2 (y - t) w2_j; with |y - t| = sqrt(5.7385) from the printed
  loss, and taking y - t > 0 (the sign cannot be recovered), w2_j follows, rounded to
  4 decimals.
* w1, b1, b2: Gaussian draws (mean 0, standard deviation 1, like torch.randn) from
  Python's random.Random(seed), rounded to 4 decimals.
* t: the 4-decimal value nearest y - sqrt(5.7385), so that the loss is the printed one.

The seed is the first from 0 up for which the loss rounds to the printed 5.7385, at
least 5 hidden units are inactive and 5 active, and no hidden pre-activation is
within 0.05 of zero (a masked unit is clearly masked). Run from the repository root:

    python tools/make_mlp_relu.py > derive/presets/mlp-relu.toml
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

X = ["-0.8218", "-0.5395", "-0.3298", "0.6342", "0.2875", "1.3541", "-1.7218", "-0.9154", "0.4241", "0.3175"]
LOSS = Fraction("5.7385")
# the first four rows of the printed gradient of w1 (the fifth is cut off in the document)
GRAD_W1_ROWS = [
    [4.1775, 1.5801, 9.7490, -0.4912, -4.4792, -4.2421, -1.9519, -4.9478, -0.9522, -4.6351,
     3.7296, 3.1289, 0.6668, -2.6608, -1.2238, 3.9295, 2.8678, 7.4332, -3.9013, 0.9898],
    [2.7425, 1.0373, 6.4000, -0.3225, -2.9405, -2.7849, -1.2814, -3.2481, -0.6251, -3.0429,
     2.4484, 2.0541, 0.4377, -1.7467, -0.8034, 2.5796, 1.8827, 4.8797, -2.5611, 0.6498],
    [1.6765, 0.6341, 3.9124, -0.1971, -1.7976, -1.7024, -0.7833, -1.9856, -0.3821, -1.8601,
     1.4968, 1.2557, 0.2676, -1.0678, -0.4911, 1.5770, 1.1509, 2.9830, -1.5657, 0.3972],
    [-3.2241, -1.2195, -7.5240, 0.3791, 3.4569, 3.2739, 1.5064, 3.8185, 0.7349, 3.5772,
     -2.8784, -2.4148, -0.5146, 2.0535, 0.9445, -3.0327, -2.2133, -5.7367, 3.0109, -0.7639],
]
HIDDEN = 20


def four(x) -> Fraction:
    """Round to 4 decimals, half away from zero."""
    return Fraction(Decimal(str(float(x))).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP"))


def recovered_w2() -> list[Fraction]:
    """w2 from the printed gradient rows, by least squares over the rows."""
    x = [float(v) for v in X]
    xx = sum(v * v for v in x[: len(GRAD_W1_ROWS)])
    g = [sum(x[r] * GRAD_W1_ROWS[r][j] for r in range(len(GRAD_W1_ROWS))) / xx for j in range(HIDDEN)]
    scale = 2 * float(LOSS) ** 0.5
    return [four(gj / scale) for gj in g]


def isqrt_fraction(q: Fraction, places: int = 30) -> Fraction:
    """sqrt(q) to many decimals, exactly rounded down."""
    from math import isqrt

    scale = 10 ** (2 * places)
    return Fraction(isqrt(q.numerator * scale // q.denominator), 10**places)


def draw(seed: int):
    rng = random.Random(seed)
    w1 = [[four(rng.gauss(0, 1)) for _ in range(HIDDEN)] for _ in X]  # in_out: 10 x 20
    b1 = [four(rng.gauss(0, 1)) for _ in range(HIDDEN)]
    b2 = four(rng.gauss(0, 1))
    return w1, b1, b2


def network(seed: int):
    """The network for one seed and whether it meets the conditions."""
    x = [Fraction(v) for v in X]
    w1, b1, b2 = draw(seed)
    w2 = recovered_w2()
    z = [sum(x[i] * w1[i][j] for i in range(len(x))) + b1[j] for j in range(HIDDEN)]
    y = sum(max(zj, 0) * w2[j] for j, zj in enumerate(z)) + b2
    target = four(y - isqrt_fraction(LOSS))
    loss = (y - target) ** 2
    inactive = sum(zj < 0 for zj in z)
    ok = (
        four(loss) == LOSS
        and 5 <= inactive <= HIDDEN - 5
        and all(abs(zj) >= Fraction(1, 20) for zj in z)
    )
    return ok, w1, b1, w2, b2, target


def fmt(v: Fraction) -> str:
    return f"{float(v):.4f}".rstrip("0").rstrip(".") if v else "0.0"


def main() -> None:
    seed = 0
    while True:
        ok, w1, b1, w2, b2, target = network(seed)
        if ok:
            break
        seed += 1
    rows = ",\n".join("  [" + ", ".join(fmt(v) for v in row) + "]" for row in w1)
    print(f"""# The first source document's 10-20-1 MLP: x @ w1 + b1, ReLU, @ w2 + b2, MSE loss.
# Made by tools/make_mlp_relu.py (seed {seed}): the input is the document's printed tensor,
# w2 is recovered from its printed gradient of w1, w1, b1 and b2 are reproducible Gaussian
# draws rounded to 4 decimals, and the target makes the loss the printed 5.7385.
title = "The 10-20-1 ReLU network of the first source document"

[network]
sizes = [10, 20, 1]
activations = ["relu", "identity"]
loss = "mse"
weight_layout = "in_out"

[parameters]
W1 = [
{rows},
]
b1 = [{", ".join(fmt(v) for v in b1)}]
W2 = [{", ".join("[" + fmt(v) + "]" for v in w2)}]
b2 = [{fmt(b2)}]

[data]
inputs = [[{", ".join(X)}]]
targets = [[{fmt(target)}]]

[training]
learning_rate = 0.001
update_biases = true
steps = 1
""", end="")


if __name__ == "__main__":
    main()
