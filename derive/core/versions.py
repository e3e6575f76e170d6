"""Versions of a network for worksheets: the same architecture with new, hand-friendly numbers.

A version is named by the seed and its number, ``SEED-NN`` (``42-07``); the same seed
gives the same versions on every machine (Python's random with a text seed does not
depend on the hash seed). ``NAME@SEED-NN`` names a version wherever a spec is
accepted (``derive check mazur@42-07 answers.toml``).

Numbers are drawn on a grid a student can work with (weights and inputs in steps of
0.05, targets on the output activation's grid: sigmoid outputs in steps of 0.01) and a
draw is kept only when the numbers are good to work by hand: no saturated sigmoid or
tanh (|net| <= 2.5), no ReLU net input within 0.1 of its kink, every blank meaningful at
the sheet's precision, and no two versions alike.

Meaningful precision: the sheet asks every answer to the same ``places`` decimals, which
suits values of order 0.1 to 10. A draw is kept only when every loss term, derivative,
delta and gradient keeps at least two significant figures at that precision
(``|v| >= 10**-(places - 1)``, 0.001 at 4 decimals; one figure when ``places`` < 3),
or is exactly 0 where 0 is a right answer that tests something (the cross-entropy's
terms for a target of 0; a gradient is never 0). This rule was chosen over asking small
values in scientific notation or in units of 10^-k because it keeps one instruction
("every answer to 4 decimals, rounding half away from zero, and use your rounded
answers"): the key, the quizzes and ``derive check`` then judge every blank by the same
rounding rule, and the calculation that rounds every step to the sheet's decimals stays
the one the student does. A blank of one significant figure (-0.0007) tests nothing.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from derive.core.backprop import Rules, run
from derive.core.functions import ACTIVATIONS, LOSSES
from derive.core.spec import NetworkSpec, read
from derive.errors import DeriveError

MAX_TRIES = 2000
SATURATION = 2.5
KINK = 0.1
VERSION = re.compile(r"^(?P<base>.+)@(?P<seed>\d{1,9})-(?P<n>\d{1,4})$")


def grid(rng: random.Random, low: Fraction, high: Fraction, step: Fraction, nonzero: bool = True) -> Fraction:
    """A multiple of ``step`` between low and high (not 0 when ``nonzero``)."""
    choices = [k * step for k in range(int(low / step), int(high / step) + 1) if not (nonzero and k == 0)]
    return rng.choice(choices)


def draw(spec: NetworkSpec, rng: random.Random) -> NetworkSpec:
    """New weights, biases, inputs and targets on the hand-friendly grid."""
    step = Fraction(1, 20)
    weights = tuple(
        tuple(tuple(grid(rng, Fraction(-9, 10), Fraction(9, 10), step) for _ in range(n_in)) for _ in range(n_out))
        for n_in, n_out in zip(spec.sizes, spec.sizes[1:])
    )
    biases = tuple(tuple(grid(rng, Fraction(-1, 2), Fraction(1, 2), step, False) for _ in range(n)) for n in spec.sizes[1:])
    inputs = tuple(tuple(grid(rng, Fraction(-1), Fraction(1), step) for _ in range(spec.sizes[0]))
                   for _ in range(spec.batch))
    out = ACTIVATIONS[spec.activations[-1]]
    if out.targets is None:
        # class probabilities: one-hot rows for a loss on classes (a class to predict), else a mix on a 0.05 grid
        K = spec.sizes[-1]
        rows = []
        for _ in range(spec.batch):
            if LOSSES[spec.loss].targets == "classes":
                hot = rng.randrange(K)
                rows.append(tuple(Fraction(int(k == hot)) for k in range(K)))
            else:
                cuts = sorted(grid(rng, Fraction(0), Fraction(1), step, False) for _ in range(K - 1))
                rows.append(tuple(b - a for a, b in zip([Fraction(0), *cuts], [*cuts, Fraction(1)])))
        return replace(spec, weights=weights, biases=biases, inputs=inputs, targets=tuple(rows))
    targets = tuple(tuple(grid(rng, *out.targets) for _ in range(spec.sizes[-1])) for _ in range(spec.batch))
    return replace(spec, weights=weights, biases=biases, inputs=inputs, targets=targets)


def problems(spec: NetworkSpec, places: int) -> list[str]:
    """Why a drawn network is not good to work by hand (empty when it is)."""
    rules = Rules.for_spec(spec)
    result = run(spec, rules)
    found = []
    for l in range(1, spec.layers + 1):
        act = ACTIVATIONS[spec.activations[l - 1]]
        for sample in result.net[l]:
            for z in map(float, sample):  # the thresholds are coarse: floats compare across number types
                if act.saturates and abs(z) > SATURATION:
                    found.append(f"saturated {act.name} (net {z:.2f})")
                if act.kink and abs(z) < KINK:
                    found.append(f"{act.name} net input {z:.3f} near its kink at 0")
    smallest = smallest_meaningful(places)
    for l in range(1, spec.layers + 1):
        grads = [float(g) for row in result.grad_W[l] for g in row] + [float(g) for g in result.grad_b[l]]
        if any(abs(g) < smallest for g in grads):
            found.append(f"a gradient of layer {l} keeps fewer than {figures(places)} significant figures "
                         f"at {places} decimals")
        local = [result.dE_dout[l], result.dout_dnet[l], result.delta[l]]
        if l == spec.layers:
            local.append(result.errors)
        if any(0 < abs(float(v)) < smallest for values in local for sample in values for v in sample):
            found.append(f"a derivative of layer {l} keeps fewer than {figures(places)} significant figures")
    return found


def figures(places: int) -> int:
    """The significant figures every blank keeps at ``places`` decimals: 2 (1 when places < 3)."""
    return 2 if places >= 3 else 1


def smallest_meaningful(places: int) -> float:
    """The smallest size of a value that keeps ``figures(places)`` significant figures at ``places`` decimals."""
    return 10.0 ** -(places - figures(places) + 1)


def versions(spec: NetworkSpec, count: int, seed: int, places: int = 4) -> list[NetworkSpec]:
    """``count`` different hand-friendly versions of ``spec``, reproducible from ``seed``."""
    made, seen = [], set()
    for n in range(1, count + 1):
        made.append(version(spec, seed, n, places, seen))
    return made


def version(spec: NetworkSpec, seed: int, n: int, places: int = 4, seen: set | None = None) -> NetworkSpec:
    """Version ``n`` (from 1) of ``spec`` for ``seed``."""
    seen = set() if seen is None else seen
    if seen == set() and n > 1:  # versions must differ from the earlier ones: rebuild those first
        for earlier in range(1, n):
            version(spec, seed, earlier, places, seen)
    rng = random.Random(f"derive-version-{seed}-{n}")
    for _ in range(MAX_TRIES):
        candidate = draw(spec, rng)
        key = (candidate.weights, candidate.biases, candidate.inputs, candidate.targets)
        if key in seen or problems(candidate, places):
            continue
        seen.add(key)
        ident = f"{seed}-{n:02d}"
        return replace(candidate, name=f"{spec.name}@{ident}", title=f"{spec.title} (version {ident})")
    raise DeriveError(spec.source, f"found no hand-friendly version {n} in {MAX_TRIES} draws; "
                      "the network may be too large for a worksheet")


def resolve(source: str):
    """The spec named ``NAME@SEED-NN``, or None when ``source`` names no version."""
    match = VERSION.match(str(source))
    if not match:
        return None
    base = read(match["base"])
    n = int(match["n"])
    if n < 1:
        raise DeriveError(str(source), "versions are numbered from 1")
    return version(base, int(match["seed"]), n)


def load(source: str | Path) -> NetworkSpec:
    """Load a spec from a file path, a preset name, or a worksheet version ``NAME@SEED-NN``.

    Raises DeriveError on any problem.
    """
    source = str(source)
    if "@" in source and not Path(source).exists():
        version = resolve(source)
        if version is not None:
            return version
    return read(source)
