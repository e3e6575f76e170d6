"""Versions of a formula spec for worksheets: the same formula with new, hand-friendly numbers.

An input written as a whole number gets a whole number from -5 to 5, one written with
decimals a number with one decimal from -3 to 3 (never 0: a 0 hides what a gate does);
an exact constant ("pi/4") stays. A draw is kept only when the circuit is good to work by
hand: every value defined, with a derivative, in the sweep of a student who rounds; no
tie at a max or min gate and no ReLU or abs at 0 (the gradient would not be defined by
the picture); no exp, sigmoid or tanh far out on its curve (|input| <= 3); no value or
gradient beyond 1000; nothing that rounds to 0 at the sheet's decimals unless it is 0;
and no two versions alike, nor a version equal to the spec itself.

Versions are named as networks' are, ``NAME@SEED-NN``, wherever a formula spec is accepted.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import sympy as sp

from derive.core import circuit as engine
from derive.core import circuit_spec
from derive.core.circuit_spec import CircuitSpec
from derive.core.circuit_sweep import Undefined, exact_values, sweep
from derive.core.numeric import round_decimal
from derive.core.versions import MAX_TRIES, VERSION
from derive.errors import DeriveError

LARGEST = 1000
CURVED = {"exp", "sigmoid", "tanh"}  # gates whose input must stay where the curve is not flat
STEEPEST = 3


def draw(spec: CircuitSpec, rng: random.Random) -> CircuitSpec:
    """New numbers for the inputs: whole numbers for whole ones, one decimal for decimal ones."""
    values = []
    for name, value in spec.values:
        if value.is_Integer:
            value = sp.Integer(rng.choice([k for k in range(-5, 6) if k]))
        elif value.is_Rational:
            value = sp.Rational(rng.choice([k for k in range(-30, 31) if k]), 10)
        values.append((name, value))
    return replace(spec, values=tuple(values))


def problems(circuit, places: int) -> list[str]:
    """Why a solved circuit is not good to work by hand (empty when it is)."""
    found = []
    for gate in circuit.gates:
        ins = [circuit.values[w] for w in gate.inputs]
        if gate.kind in ("max", "min") and ins[0] == ins[1]:
            found.append(f"gate {gate.index}: a tie")
        if gate.kind in ("maxc", "minc") and ins[0] == engine._number(gate.constant):
            found.append(f"gate {gate.index}: a tie with its constant")
        if gate.kind in ("relu", "abs") and ins[0] == 0:
            found.append(f"gate {gate.index}: at its kink")
        if gate.kind in CURVED and abs(ins[0]) > STEEPEST:
            found.append(f"gate {gate.index}: far out on its curve")
    for name, value in exact_values(circuit).items():
        size = abs(value)
        if size > LARGEST:
            found.append(f"{name}: too large")
        elif value != 0 and round_decimal(value, places).is_zero():
            found.append(f"{name}: rounds to 0")
    if not found:
        try:
            sweep(circuit, places)
        except Undefined as why:
            found.append(f"the rounded sweep meets {why}")
    return found


def versions(spec: CircuitSpec, count: int, seed: int, places: int = 4) -> list[CircuitSpec]:
    """``count`` different hand-friendly versions of ``spec``, reproducible from ``seed``."""
    seen: set = set()
    return [version(spec, seed, n, places, seen) for n in range(1, count + 1)]


def version(spec: CircuitSpec, seed: int, n: int, places: int = 4, seen: set | None = None) -> CircuitSpec:
    """Version ``n`` (from 1) of ``spec`` for ``seed``."""
    seen = set() if seen is None else seen
    if not seen and n > 1:  # versions must differ from the earlier ones: rebuild those first
        for earlier in range(1, n):
            version(spec, seed, earlier, places, seen)
    seen.add(spec.values)
    rng = random.Random(f"derive-circuit-version-{seed}-{n}")
    for _ in range(MAX_TRIES):
        candidate = draw(spec, rng)
        if candidate.values in seen:
            continue
        try:
            solved = engine.solve(candidate)
        except DeriveError:
            continue
        if problems(solved, places):
            continue
        seen.add(candidate.values)
        ident = f"{seed}-{n:02d}"
        return replace(candidate, name=f"{spec.name}@{ident}", title=f"{spec.title} (version {ident})")
    raise DeriveError(spec.source, f"found no hand-friendly version {n} of the formula in {MAX_TRIES} draws; "
                      "give the inputs other numbers, or fewer versions")


def _versioned(source: str):
    match = VERSION.match(source)
    if match and not Path(source).exists() and circuit_spec.is_circuit(match["base"]):
        return match
    return None


def is_circuit(source) -> bool:
    """True when ``source`` names a formula spec, a circuit preset, or a version of one (``NAME@SEED-NN``)."""
    return circuit_spec.is_circuit(source) or _versioned(str(source)) is not None


def load(source, composite: str | None = None, places: int = 4) -> CircuitSpec:
    """A formula spec from a file, a preset name or a version ``NAME@SEED-NN``."""
    match = _versioned(str(source))
    if match is None:
        return circuit_spec.load(source, composite=composite)
    n = int(match["n"])
    if n < 1:
        raise DeriveError(str(source), "versions are numbered from 1")
    return version(circuit_spec.load(match["base"], composite=composite), int(match["seed"]), n, places)
