"""The slide decks the overflow tests set, by name: worked examples, the derivation in general form, circuits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from randomnet import spec_text

from derive import solve
from derive.core import circuit, circuit_spec
from derive.core.spec import parse
from derive.core.versions import load
from derive.documents.circuit_slides import deck as circuit_deck
from derive.documents.slides import SLIDE_OPTIONS, deck
from derive.documents.symbolic_slides import deck as symbolic_deck

THREE_LAYER = str(Path(__file__).parent.parent / "tools" / "specs" / "three-layer.toml")
THREE = spec_text(61, sizes=[3, 3, 2, 1], activations=["tanh", "tanh", "sigmoid"], loss="mse", batch=1)

DECKS = {
    "mazur": lambda: deck(solve("mazur")),
    "softmax-ce": lambda: deck(solve("softmax-ce")),
    "3-3-2-1": lambda: deck(solve(parse(THREE, "r.toml"))),
    # the general formulas: long rows broken to the frame's width, tall derivations continued
    "mazur --symbolic": lambda: symbolic_deck(solve("mazur")),
    "mazur --symbolic then-numbers": lambda: symbolic_deck(solve("mazur"),
                                                           replace(SLIDE_OPTIONS, symbolic="then-numbers")),
    "three-layer --symbolic": lambda: symbolic_deck(solve(load(THREE_LAYER))),
    # a circuit's diagram above the derivation: a gate with two inputs goes on over a second frame
    "circuit-sigmoid-neuron": lambda: circuit_deck(circuit.solve(circuit_spec.load("circuit-sigmoid-neuron"))),
    "circuit-fan-out": lambda: circuit_deck(circuit.solve(circuit_spec.load("circuit-fan-out"))),
}
