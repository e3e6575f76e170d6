"""Circuit diagrams in the classic style: inputs on the left, gates as labelled nodes, the value above each wire
and the gradient below it in another colour. Python lays the circuit out; templates draw it (TikZ and SVG).

A diagram can show only part of the numbers (``values``, ``gradients``: the wires and
edges whose numbers are known so far) for slides that annotate the circuit
progressively, and blanks (boxes to fill in) for worksheets.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import sympy as sp

from derive.documents.printing import shown

COLUMN = 2.8  # cm between columns of gates
ROW = 2.0  # cm between inputs
RADIUS = 0.42  # cm
STUB = 2.4  # cm: the output wire beyond the last gate
CHAR = 0.18  # cm: a \footnotesize character, for the overlap check
PROJECTED_CHAR = 0.15  # cm: a \scriptsize character (a label on a slide)
LINE = 0.34  # cm


@dataclass(frozen=True)
class Node:
    key: str  # a gate's output wire, or an input's name
    x: float
    y: float
    label: str  # plain text
    latex: str
    kind: str  # gate | input
    highlight: bool = False

    def at(self, dy: float = 0.0) -> str:
        return _at(self.x, self.y + dy)

    @property
    def radius(self) -> float:
        """A gate's circle grows with a long label (max(., 0))."""
        return max(RADIUS, 0.09 * len(self.label) + 0.16) if self.kind == "gate" else 0.0


@dataclass(frozen=True)
class Edge:
    key: str  # "wire>gate:slot", or "wire>" for the output wire
    wire: str
    x1: float
    y1: float
    x2: float
    y2: float
    above: str  # "q = 3": the wire's name and value, or the name alone, plain text
    below: str  # the gradient flowing back along this edge, plain text ("" when not shown)
    blank_above: bool = False
    blank_below: bool = False
    highlight: bool = False
    fill_above: str = ""  # an answer key: the number written in the box
    fill_below: str = ""
    span: float = COLUMN - 2 * RADIUS  # the room between two columns of gates

    @property
    def tikz(self) -> str:
        return f"{_at(self.x1, self.y1)} -- {_at(self.x2, self.y2)}"

    @property
    def mid(self) -> tuple[float, float]:
        """Where the labels stand: halfway across the first column the edge crosses (a long edge passes other gates later)."""
        x = self.x1 + min(self.x2 - self.x1, self.span) * 0.5
        t = (x - self.x1) / (self.x2 - self.x1) if self.x2 != self.x1 else 0.5
        return x, self.y1 + t * (self.y2 - self.y1)

    def label_at(self, dy: float, dx: float = 0.0) -> str:
        x, y = self.mid
        return _at(x + dx, y + dy)

    @property
    def shift(self) -> float:
        """How far right of the middle a value's box stands, so that the box and the name before it are centred."""
        return CHAR * len(self.above) / 2 if self.blank_above else 0.0


def _at(x: float, y: float) -> str:
    return f"({x:.3f},{y:.3f})"


@dataclass(frozen=True)
class Sum:
    """Where a wire fans out, the sum of the gradients of its branches, written under the wire's start."""

    key: str  # the wire
    x: float
    y: float
    anchor: str  # TikZ anchor of the label: north east under an input's name, north under a gate
    text: str  # "Σ 6", or "Σ" before a box
    blank: bool = False
    fill: str = ""

    def at(self) -> str:
        return _at(self.x, self.y)


@dataclass(frozen=True)
class CircuitDiagram:
    nodes: tuple
    edges: tuple
    width: float
    height: float
    top: float
    caption: str
    sums: tuple = ()
    left: float = 0.0  # how far the picture reaches left of the inputs' names (a sum's box), cm
    blank_size: tuple = (1.1, 0.38)  # width and height of a blank, cm
    projected: bool = False  # on a slide: drawn at its natural size, its labels 8 pt (Beamer's \\scriptsize at 11 pt)
    kind = "circuit"  # the templates draw it with the circuit macros


def _reading_order(circuit) -> list[str]:
    """The inputs in the order the output's formula reads them."""
    order: list[str] = []

    def visit(wire: str) -> None:
        gate = circuit.producer(wire)
        if gate is None:
            if wire not in order:
                order.append(wire)
            return
        for w in gate.inputs:
            visit(w)

    for gate in reversed(circuit.gates):
        if not circuit.consumers(gate.output):
            visit(gate.output)
    return order + [w for w in circuit.inputs if w not in order]


def _place(circuit, order, spacing=(COLUMN, ROW)) -> dict:
    """(x, y) of every input and gate for one order of the inputs: each gate between its inputs."""
    COLUMN, ROW = spacing
    column = {w: 0 for w in circuit.inputs}
    y = {w: -k * ROW for k, w in enumerate(order)}
    for gate in circuit.gates:
        column[gate.output] = 1 + max(column[w] for w in gate.inputs)
        y[gate.output] = sum(y[w] for w in gate.inputs) / len(gate.inputs)
    # two gates of one column never share a row: a later one moves down
    for c in range(1, max(column.values()) + 1):
        placed = []
        for gate in circuit.gates:
            if column[gate.output] != c:
                continue
            while any(abs(y[gate.output] - other) < ROW * 0.9 for other in placed):
                y[gate.output] -= ROW / 2
            placed.append(y[gate.output])
    return {w: (column[w] * COLUMN, y[w]) for w in column}


def _crossings(circuit, position) -> tuple[int, float]:
    """How many pairs of wires cross, and how far the wires climb in all: the smaller the tidier."""
    segments = [(position[w], position[g.output]) for w in circuit.wires for g, _ in circuit.consumers(w)]

    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    crossing = 0
    for i in range(len(segments)):
        for j in range(i + 1, len(segments)):
            (a, b), (c, d) = segments[i], segments[j]
            if len({a, b, c, d}) < 4:
                continue
            if side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
                crossing += 1
    # a wire that runs through a gate it does not belong to is worse than a crossing
    for a, b in segments:
        for wire, (x, y) in position.items():
            if (x, y) not in (a, b) and a[0] < x < b[0] and abs(a[1] + (x - a[0]) / (b[0] - a[0]) * (b[1] - a[1]) - y) < 0.8:
                crossing += 2
    return crossing, sum(abs(a[1] - b[1]) for a, b in segments)


#: up to this many inputs every order is tried (6! = 720 layouts); beyond it the reading order is kept
MAX_PERMUTED = 6


def _layout(circuit, spacing=(COLUMN, ROW)) -> dict:
    """The tidiest placement: the order of the inputs with the fewest crossing wires (the reading order on a tie)."""
    first = _reading_order(circuit)
    if len(first) > MAX_PERMUTED:
        return _place(circuit, first, spacing)
    best = min(permutations(first), key=lambda order: _crossings(circuit, _place(circuit, order)))
    return _place(circuit, best, spacing)


def build(circuit, digits: int = 3, values=None, gradients=None, highlight=(), blanks=(), caption: str = "",
          names: bool = True, filled=None, spacing=(COLUMN, ROW), blank_size=(1.1, 0.38), stub: float = STUB,
          projected: bool = False) -> CircuitDiagram:
    """The circuit's diagram.

    ``values``: wires whose value is shown (default all); ``gradients``: edge keys whose
    gradient is shown (default all the backward sweep computes); ``highlight``: node and
    edge keys to emphasise; ``blanks``: boxes to fill in: a wire's name (its value, in a
    box on its first branch), ``d:wire`` (its gradient: below its only branch, or the sum
    under the wire's start where it fans out) and ``d:wire>gate:slot`` (one branch's
    gradient); ``filled``: the numbers an answer key writes in the boxes, by the same keys;
    ``spacing``: cm between columns and between inputs; ``blank_size``: a box's width and height in cm;
    ``stub``: the output wire's length beyond the last gate, cm; ``projected``: drawn on a slide.
    """
    fmt = lambda v: shown(v, digits).text
    filled = filled or {}
    position = _layout(circuit, spacing)
    span = spacing[0] - 2 * RADIUS
    every_edge = {f"{w}>{g.index}:{k}" for w in circuit.wires for g, k in circuit.consumers(w)} | {f"{circuit.output}>"}
    values = set(circuit.wires) if values is None else set(values)
    gradients = every_edge if gradients is None else set(gradients)
    nodes = []
    for wire in circuit.inputs:
        x, y = position[wire]
        nodes.append(Node(wire, x, y, wire, _latex_name(wire), "input", wire in highlight))
    for gate in circuit.gates:
        x, y = position[gate.output]
        nodes.append(Node(gate.output, x, y, gate.label.replace("*", "×"), gate.label_latex, "gate",
                          gate.output in highlight))
    radius = {n.key: n.radius for n in nodes}
    edges = []
    boxed = set()  # wires whose value box is drawn (on the first branch only)

    def above(wire):
        if wire in blanks:
            if wire in boxed:
                return wire  # the box is on the first branch; the others name the wire
            boxed.add(wire)
            return f"{wire} ="
        shown_value = f" = {fmt(circuit.values[wire])}" if wire in values else ""
        return f"{wire}{shown_value}" if names else shown_value[3:]

    def fanned(wire):
        return len(circuit.contributions.get(wire, ())) > 1

    def branch_blank(wire, key):
        return f"d:{key}" in blanks or (f"d:{wire}" in blanks and not fanned(wire))

    def below(wire, key, value):
        if branch_blank(wire, key):
            return ""
        return fmt(value) if key in gradients and value is not None else ""

    by_edge = {(c.wire, c.gate, c.slot): c for parts in circuit.contributions.values() for c in parts}
    for wire in circuit.wires:
        x1, y1 = position[wire]
        start = x1 + (radius[wire] if circuit.producer(wire) else 0.3)
        for gate, slot in circuit.consumers(wire):
            x2, y2 = position[gate.output]
            key = f"{wire}>{gate.index}:{slot}"
            part = by_edge.get((wire, gate.index, slot))
            text = above(wire)
            blank_above = wire in blanks and text.endswith("=")
            blank_below = branch_blank(wire, key) and part is not None
            below_key = f"d:{key}" if fanned(wire) else f"d:{wire}"
            # the route: along the source's row, then into the gate (a wire to a later column bends once)
            edges.append(Edge(key, wire, start, y1, x2 - radius[gate.output], y2, text,
                              below(wire, key, part.value if part else None), blank_above, blank_below,
                              key in highlight, filled.get(wire, "") if blank_above else "",
                              filled.get(below_key, "") if blank_below else "", span))
    out = circuit.output
    x, y = position[out]
    key = f"{out}>"
    edges.append(Edge(key, out, x + radius[out], y, x + radius[out] + stub, y, above(out),
                      "1" if key in gradients and f"d:{out}" not in blanks else "", out in blanks,
                      f"d:{out}" in blanks, key in highlight, filled.get(out, "") if out in blanks else "",
                      filled.get(f"d:{out}", ""), span))
    for other in circuit.spec.outputs:  # outputs the backward sweep does not differentiate end in a stub too
        if other != out:
            x, y = position[other]
            edges.append(Edge(f"{other}>", other, x + radius[other], y, x + radius[other] + stub, y, above(other), "",
                              other in blanks, False, False, filled.get(other, "") if other in blanks else "", "", span))
    sums = []
    for wire in circuit.wires:
        if not fanned(wire) or wire == out:
            continue
        branches = {f"{c.wire}>{c.gate}:{c.slot}" for c in circuit.contributions[wire]}
        blank = f"d:{wire}" in blanks
        if not blank and not branches <= gradients:
            continue
        x, y = position[wire]
        text = "Σ" if blank else f"Σ {fmt(circuit.gradients[wire])}"
        if circuit.producer(wire) is None:
            sums.append(Sum(wire, x + 0.15, y - 0.3, "north east", text, blank, filled.get(f"d:{wire}", "")))
        else:
            sums.append(Sum(wire, x, y - radius[wire] - 0.1, "north", text, blank, filled.get(f"d:{wire}", "")))
    left = max([0.0] + [-(s.x - blank_size[0] - 0.35) for s in sums if s.blank and s.anchor == "north east"])
    xs = [n.x for n in nodes] + [e.x2 for e in edges]
    ys = [n.y for n in nodes]
    return CircuitDiagram(tuple(nodes), tuple(edges), max(xs) - min(xs) + 0.6 + left, max(ys) - min(ys), max(ys),
                          caption or "The circuit: each wire's value above it, the gradient of "
                          f"{circuit.output} below it", tuple(sums), left, tuple(blank_size), projected)


def _latex_name(name: str) -> str:
    """A wire name as mathematics: w0 is w_{0}, u3 is u_{3}."""
    return sp.latex(sp.Symbol(name))


def label_boxes(diagram: CircuitDiagram) -> list[tuple]:
    """Approximate boxes (name, x0, y0, x1, y1) in cm of every label, blank and node, for the overlap check."""
    boxes = []
    bw, bh = diagram.blank_size
    char = PROJECTED_CHAR if diagram.projected else CHAR
    for node in diagram.nodes:
        r = node.radius or 0.2
        boxes.append((f"node {node.key}", node.x - r, node.y - r, node.x + r, node.y + r))
    for edge in diagram.edges:
        x, y = edge.mid
        name = f"label {edge.key}"
        if edge.blank_above:  # the name and the box after it, centred over the wire
            w = char * len(edge.above)
            boxes.append((name, x + edge.shift - bw / 2 - w, y + 0.06, x + edge.shift + bw / 2, y + 0.06 + bh))
        elif edge.above:
            w = char * len(edge.above) / 2
            boxes.append((name, x - w, y + 0.06, x + w, y + 0.06 + LINE))
        if edge.blank_below:
            boxes.append((name, x - bw / 2, y - 0.06 - bh, x + bw / 2, y - 0.06))
        elif edge.below:
            w = char * len(edge.below) / 2
            boxes.append((name, x - w, y - 0.06 - LINE, x + w, y - 0.06))
    for total in diagram.sums:
        w = char * len(total.text) + (bw if total.blank else 0)
        h = bh if total.blank else LINE
        x0 = total.x - w if total.anchor == "north east" else total.x - w / 2
        boxes.append((f"sum {total.key}", x0, total.y - h, x0 + w, total.y))
    return boxes


def overlaps(diagram: CircuitDiagram) -> list[tuple[str, str]]:
    """Pairs of labels (or a label and a node) that share space; labels of one wire may repeat side by side."""
    boxes = label_boxes(diagram)
    clashes = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            p, q = boxes[a], boxes[b]
            if p[0].startswith("node") and q[0].startswith("node"):
                continue
            if p[0] == q[0]:
                continue
            if p[1] < q[3] and q[1] < p[3] and p[2] < q[4] and q[2] < p[4]:
                clashes.append((p[0], q[0]))
    return clashes


#: a gate's neighbourhood on a slide: cm between its columns, between the wires into one gate, a wire from outside
LOCAL_COLUMN, LOCAL_ROW, LOCAL_STUB = 2.9, 1.6, 0.6


def _stubs(node: Node, count: int, side: float) -> list[Edge]:
    """Short unlabelled wires into (side -1) or out of (side 1) a node from beyond the picture: it goes on there."""
    r = node.radius or 0.3
    dys = [0.0] if count == 1 else [0.18, -0.18][:count] + [0.0] * (count - 2)
    edges = []
    for k, dy in enumerate(dys):
        inner = node.x + side * (r * r - dy * dy) ** 0.5
        outer = node.x + side * (r + LOCAL_STUB)
        x1, x2 = (outer, inner) if side < 0 else (inner, outer)
        edges.append(Edge(f"{node.key}~{side}:{k}", node.key, x1, node.y + dy, x2, node.y + dy, "", ""))
    return edges


def neighbourhood(circuit, gate, digits: int = 3, values=(), gradients=()) -> CircuitDiagram:
    """The part of the circuit a slide about one gate concerns: the nodes that feed it, the gate (highlighted) and
    the gates it feeds, with the numbers of ``values`` (wires) and ``gradients`` (edge keys) on its wires.

    Wires from or to the rest of the circuit are short unlabelled stubs; the picture is drawn at its natural size.
    """
    fmt = lambda v: shown(v, digits).text
    values, gradients = set(values), set(gradients)
    by_edge = {(c.wire, c.gate, c.slot): c for parts in circuit.contributions.values() for c in parts}
    span = LOCAL_COLUMN - 2 * RADIUS

    def spread(count: int) -> list[float]:
        return [(count - 1) / 2 * LOCAL_ROW - k * LOCAL_ROW for k in range(count)]

    def above(wire: str) -> str:
        return f"{wire} = {fmt(circuit.values[wire])}" if wire in values else wire

    def below(wire: str, consumer, slot: int) -> str:
        part = by_edge.get((wire, consumer.index, slot))
        return fmt(part.value) if f"{wire}>{consumer.index}:{slot}" in gradients and part is not None else ""

    me = Node(gate.output, LOCAL_COLUMN, 0.0, gate.label.replace("*", "×"), gate.label_latex, "gate", True)
    nodes, edges = [me], []
    for slot, (wire, y) in enumerate(zip(gate.inputs, spread(len(gate.inputs)))):
        producer = circuit.producer(wire)
        if producer is None:
            source = Node(wire, 0.0, y, wire, _latex_name(wire), "input")
        else:
            source = Node(wire, 0.0, y, producer.label.replace("*", "×"), producer.label_latex, "gate")
            edges += _stubs(source, len(producer.inputs), -1)
        nodes.append(source)
        edges.append(Edge(f"{wire}>{gate.index}:{slot}", wire, source.radius or 0.3, y, LOCAL_COLUMN - me.radius, 0.0,
                          above(wire), below(wire, gate, slot), span=span))
    out = gate.output
    consumers = circuit.consumers(out)
    for (consumer, slot), y in zip(consumers, spread(len(consumers))):
        node = Node(f"{consumer.output}@", 2 * LOCAL_COLUMN, y, consumer.label.replace("*", "×"), consumer.label_latex,
                    "gate")
        nodes.append(node)
        edges.append(Edge(f"{out}>{consumer.index}:{slot}", out, me.x + me.radius, 0.0, node.x - node.radius, y,
                          above(out), below(out, consumer, slot), span=span))
        for other in range(len(consumer.inputs)):  # its other inputs come from elsewhere, diagonally
            if other != slot:
                side = -1 if other > slot else 1  # from below-left for a later input, from above-left for an earlier
                inner = (node.x - 0.707 * node.radius, y + side * 0.707 * node.radius)
                edges.append(Edge(f"{consumer.output}@{other}", consumer.inputs[other], inner[0] - 0.45,
                                  inner[1] + side * 0.45, *inner, "", ""))
        edges += _stubs(node, 1, 1)
    if not consumers or out in circuit.spec.outputs:
        key = f"{out}>"
        edges.append(Edge(key, out, me.x + me.radius, 0.0, me.x + me.radius + LOCAL_COLUMN - RADIUS, 0.0, above(out),
                          "1" if key in gradients and out == circuit.output else "", span=span))
    xs = [n.x for n in nodes] + [e.x2 for e in edges]
    ys = [n.y for n in nodes]
    left = -min([0.0] + [e.x1 for e in edges])
    return CircuitDiagram(tuple(nodes), tuple(edges), max(xs) + left + 0.6, max(ys) - min(ys), max(ys),
                          f"Gate {gate.index} and its neighbours", (), left, projected=True)


def bounds(diagram: CircuitDiagram) -> tuple[float, float, float, float]:
    """The box (x0, y0, x1, y1) in cm, y up, that a projected diagram covers with every label."""
    boxes = [b[1:] for b in label_boxes(diagram)]
    boxes += [(e.x1, min(e.y1, e.y2), e.x2, max(e.y1, e.y2)) for e in diagram.edges]
    boxes += [(n.x - PROJECTED_CHAR * len(n.label) - 0.1, n.y - 0.2, n.x, n.y + 0.2) for n in diagram.nodes if n.kind == "input"]
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def extent(diagram: CircuitDiagram) -> tuple[float, float]:
    """The width and height in cm that a projected diagram takes with every label."""
    x0, y0, x1, y1 = bounds(diagram)
    return x1 - x0, y1 - y0
