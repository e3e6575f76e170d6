"""Lecture slides of a circuit: the diagram annotated progressively, a value appearing on its wire when it is derived.

One frame per gate of the forward sweep (the gate highlighted, the values known so far
on the wires), one per gate of the backward sweep (the gradients known so far below the
wires), each with its derivation; the same Frame and Deck as a network's slides, so the
same templates write Beamer and HTML.

Every picture is drawn at its natural size, its labels 8 pt, above the text. A gate's frame
shows the part of the circuit it concerns (the nodes that feed the gate, the gate, the gates
it feeds): a whole circuit of more than a few gates is too wide to be read above a derivation
on a 16:9 frame, and the gate's wires are the ones its derivation names. The whole circuit is
drawn on the opening and closing frames, compactly, with its wires' names where they fit and
the numbers alone where they do not, on a frame of its own when the text beside it does not
fit, and left out where even that is too wide.
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
from derive.documents.slides import BODY_HEIGHT, TEXT_WIDTH, Deck, Frame, _text_height

#: a text line below a circuit's diagram (11 pt: an exponent's index stays 6 pt), cm: a row of displayed fractions takes 1.5 lines, a
#: sentence half a line more than its lines; the space between the picture and the text
LINE, GAP = 0.6, 0.4
#: the whole circuit on a slide: cm between columns and between inputs, with and without the wires' names
WHOLE = ({"names": True, "spacing": (2.4, 1.2), "stub": 1.8}, {"names": True, "spacing": (1.7, 1.2), "stub": 1.0},
         {"names": False, "spacing": (1.75, 1.2), "stub": 1.1})
#: characters of running text on a line of a frame
CHARACTERS_PER_LINE = 90


def _lines(block) -> float:
    """The text lines a block takes below the diagram."""
    if isinstance(block, Chain):
        return 1.5 * len(block.rows)
    characters = sum(len(text) if kind == "text" else width(text) for kind, text in block.parts)
    return 0.5 + math.ceil(characters / CHARACTERS_PER_LINE)


def _lines_below(figure) -> float:
    """The text lines that fit below a picture drawn at its natural size."""
    return (BODY_HEIGHT - circuit_diagram.extent(figure)[1] - GAP) / LINE


def _whole(circuit, digits: int, **shown) -> object:
    """The whole circuit drawn at its natural size: the first layout that fits the frame's width, or None."""
    for layout in WHOLE:
        figure = circuit_diagram.build(circuit, digits, projected=True, **layout, **shown)
        width, height = circuit_diagram.extent(figure)
        # a label wider than the room between two gates runs into them (labels of neighbouring wires may touch)
        crowded = any(a.startswith("node") or b.startswith("node") for a, b in circuit_diagram.overlaps(figure))
        if width <= TEXT_WIDTH and height <= BODY_HEIGHT and not crowded:
            return figure
    return None


def _overview(title: str, blocks: tuple, figure) -> list[Frame]:
    """A frame of the whole circuit and its text: together where both fit, else the text, then the picture alone."""
    if figure is None:
        return [Frame(title, blocks, None, "circuit")]
    if not blocks or circuit_diagram.extent(figure)[1] + GAP + _text_height(blocks, TEXT_WIDTH) <= BODY_HEIGHT:
        return [Frame(title, blocks, figure, "circuit")]
    return [Frame(title, blocks, None, "circuit"), Frame(title + " (drawn)", (), figure, "circuit")]


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
        if parts[-1] and lines + size > _lines_below(figure):
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
    frames += _overview("The circuit", (formula, numbers), _whole(circuit, shown_digits, values=inputs, gradients=()))
    known = set(inputs)
    for gate in circuit.gates:
        known.add(gate.output)
        figure = circuit_diagram.neighbourhood(circuit, gate, shown_digits, values=known)
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
        figure = circuit_diagram.neighbourhood(circuit, gate, shown_digits, values=circuit.wires, gradients=sent)
        frames += _continued(f"Backward: gate {gate.index} ({gate.label.replace('*', '×')})", blocks, figure)
    fanned = [w for w in circuit.inputs if len(circuit.contributions.get(w, ())) > 1]
    if fanned:
        frames += _overview("Inputs that fan out: the gradients add up",
                            tuple(Chain(sum_rows(circuit, p, w)) for w in fanned),
                            _whole(circuit, shown_digits, highlight=set(fanned)))
    frames += _overview("The whole circuit", (P(f"{CHECKED_TITLE}: {circuit.verification.method}."),),
                        _whole(circuit, shown_digits))
    return Deck(spec.title, f"{len(circuit.gates)} gates, {len(circuit.inputs)} inputs", tuple(frames))
