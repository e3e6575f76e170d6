"""Lecture slides of a circuit: the diagram annotated progressively, a value appearing on its wire when it is derived.

One frame per gate of the forward sweep (the gate highlighted, the values known so far
on the wires), one per gate of the backward sweep (the gradients known so far below the
wires), each with its derivation; the same Frame and Deck as a network's slides, so the
same templates write Beamer and HTML.
"""

from __future__ import annotations

import math

from derive.documents import circuit_diagram
from derive.documents.circuit_document import (
    _Printer,
    display_expression,
    forward_rows,
    input_rows,
    node_latex,
    pattern,
    sum_rows,
)
from derive.documents.layout import width
from derive.documents.model import CHECKED_TITLE, Chain, M, P, Paragraph
from derive.documents.slides import Deck, Frame

#: text lines below a circuit's diagram (0.42 of the frame's height, Beamer's \small): a row of displayed
#: fractions takes 1.5 lines, a sentence half a line more than its lines (Beamer found 7.5 too tall)
LINES_BELOW = 6.5
#: characters of running text on a line of a frame
CHARACTERS_PER_LINE = 90


def _lines(block) -> float:
    """The text lines a block takes below the diagram."""
    if isinstance(block, Chain):
        return 1.5 * len(block.rows)
    characters = sum(len(text) if kind == "text" else width(text) for kind, text in block.parts)
    return 0.5 + math.ceil(characters / CHARACTERS_PER_LINE)


def _continued(title: str, blocks: list, figure) -> list[Frame]:
    """A frame whose derivations do not fit below its diagram, continued on the next frames under the same
    diagram. A derivation is never split (each input of a gate is one), a sentence stays with the derivation it
    introduces or, when it comes last, with the one it sums up."""
    units = []  # blocks that stay on one frame
    for k, block in enumerate(blocks):
        introduced = units and isinstance(units[-1][-1], Paragraph)
        closing = isinstance(block, Paragraph) and k == len(blocks) - 1
        if units and (introduced or closing):
            units[-1].append(block)
        else:
            units.append([block])
    parts, lines = [[]], 0.0
    for unit in units:
        size = sum(_lines(block) for block in unit)
        if parts[-1] and lines + size > LINES_BELOW:
            parts.append([])
            lines = 0.0
        parts[-1] += unit
        lines += size
    return [Frame(title + (" (continued)" if k else ""), tuple(part), figure, "circuit") for k, part in enumerate(parts)]


def deck(circuit, digits: int = 6) -> Deck:
    """The slides of a solved circuit (6 significant digits: legible on a projector)."""
    p = _Printer(circuit, digits)
    spec = circuit.spec
    shown_digits = min(digits, 3)
    inputs = set(circuit.inputs)
    frames = [Frame(spec.title, (), None, "title")]
    names = {w: p.wire(w) for w in circuit.wires}
    formula = Chain(tuple((p.wire(name), "=", node_latex(node, names)) for name, _, node in spec.formulas))
    numbers = P("The numbers put in: ", *[part for w in circuit.inputs for part in
                                           (M(f"{p.wire(w)} = {p.num(circuit.values[w])}"), ", ")][:-1], ".")
    frames.append(Frame("The circuit", (formula, numbers),
                        circuit_diagram.build(circuit, shown_digits, values=inputs, gradients=()), "circuit"))
    known = set(inputs)
    for gate in circuit.gates:
        known.add(gate.output)
        figure = circuit_diagram.build(circuit, shown_digits, values=known, gradients=(), highlight={gate.output})
        frames.append(Frame(f"Forward: gate {gate.index} ({gate.label.replace('*', '×')})",
                            (Chain(forward_rows(circuit, p, gate)),), figure, "circuit"))
    sent = {f"{circuit.output}>"}
    told = set()
    for gate in reversed(circuit.gates):
        if gate.output not in circuit.gradients:
            continue
        blocks = []
        if len(circuit.contributions.get(gate.output, ())) > 1:
            blocks.append(Chain(sum_rows(circuit, p, gate.output)))
        operation = display_expression(gate, *[circuit.symbols[w] for w in gate.inputs])
        blocks.append(P("Upstream gradient of ", M(f"{p.wire(gate.output)} = {p.general(operation)}"), ": ",
                        M(f"{p.d(circuit.output, gate.output)} = {p.num(circuit.gradients[gate.output])}")))
        blocks += [Chain(tuple(input_rows(circuit, p, gate, slot))) for slot in range(len(gate.inputs))]
        if gate.kind not in told:
            told.add(gate.kind)
            said = pattern(circuit, p, gate)
            blocks.append(said if not isinstance(said, str) else P(said))
        sent |= {f"{w}>{gate.index}:{k}" for k, w in enumerate(gate.inputs)}
        figure = circuit_diagram.build(circuit, shown_digits, gradients=set(sent), highlight={gate.output})
        frames += _continued(f"Backward: gate {gate.index} ({gate.label.replace('*', '×')})", blocks, figure)
    fanned = [w for w in circuit.inputs if len(circuit.contributions.get(w, ())) > 1]
    if fanned:
        frames.append(Frame("Inputs that fan out: the gradients add up",
                            tuple(Chain(sum_rows(circuit, p, w)) for w in fanned),
                            circuit_diagram.build(circuit, shown_digits, highlight=set(fanned)), "circuit"))
    frames.append(Frame("The whole circuit", (P(f"{CHECKED_TITLE}: {circuit.verification.method}."),),
                        circuit_diagram.build(circuit, shown_digits), "circuit"))
    return Deck(spec.title, f"{len(circuit.gates)} gates, {len(circuit.inputs)} inputs", tuple(frames))
