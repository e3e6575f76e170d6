"""Lecture slides of a circuit: the diagram annotated progressively, a value appearing on its wire when it is derived.

One frame per gate of the forward sweep (the gate highlighted, the values known so far
on the wires), one per gate of the backward sweep (the gradients known so far below the
wires), each with its derivation; the same Frame and Deck as a network's slides, so the
same templates write Beamer and HTML.
"""

from __future__ import annotations

from derive.documents import circuit_diagram
from derive.documents.circuit_document import (
    _Printer,
    backward_rows,
    display_expression,
    forward_rows,
    node_latex,
    pattern,
    sum_rows,
)
from derive.documents.model import CHECKED_TITLE, Chain, M, P
from derive.documents.slides import Deck, Frame


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
        rows = backward_rows(circuit, p, gate)
        blocks.append(Chain(tuple(rows)))
        if gate.kind not in told:
            told.add(gate.kind)
            said = pattern(circuit, p, gate)
            blocks.append(said if not isinstance(said, str) else P(said))
        sent |= {f"{w}>{gate.index}:{k}" for k, w in enumerate(gate.inputs)}
        figure = circuit_diagram.build(circuit, shown_digits, gradients=set(sent), highlight={gate.output})
        frames.append(Frame(f"Backward: gate {gate.index} ({gate.label.replace('*', '×')})", tuple(blocks), figure,
                            "circuit"))
    fanned = [w for w in circuit.inputs if len(circuit.contributions.get(w, ())) > 1]
    if fanned:
        frames.append(Frame("Inputs that fan out: the gradients add up",
                            tuple(Chain(sum_rows(circuit, p, w)) for w in fanned),
                            circuit_diagram.build(circuit, shown_digits, highlight=set(fanned)), "circuit"))
    frames.append(Frame("The whole circuit", (P(f"{CHECKED_TITLE}: {circuit.verification.method}."),),
                        circuit_diagram.build(circuit, shown_digits), "circuit"))
    return Deck(spec.title, f"{len(circuit.gates)} gates, {len(circuit.inputs)} inputs", tuple(frames))
