"""Network diagrams: Python lays the network out, the templates draw it (TikZ for LaTeX, SVG for Markdown/HTML).

Weight labels sit on their edge at a fraction of the way that depends on the source
unit, so the labels of one source stack in one column and columns do not touch;
:func:`overlaps` checks that no two labels share space. Layers wider than
``MAX_SHOWN`` units are drawn compactly: the first and last units with an
ellipsis between, without edge labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from derive.documents.printing import shown

MAX_SHOWN = 6
UNIT_GAP = 1.8  # cm between units of a layer
RADIUS = 0.42  # cm
CHAR = 0.16  # cm: width of a \scriptsize character, for the overlap check
LINE = 0.32  # cm: height of a \scriptsize line


@dataclass(frozen=True)
class Node:
    key: str  # "l:j", e.g. "1:0"
    x: float
    y: float
    name: str  # plain text, e.g. "h1"
    latex: str  # e.g. "h_{1}"
    above: str  # a value shown above (bias, net input), plain text
    below: str  # a value shown below (output or delta), plain text
    highlight: bool
    above_step: int = 0  # the overlay step on which ``above`` appears (0: from the start)
    below_step: int = 0

    def at(self, dy: float = 0.0) -> str:
        """TikZ coordinates of the unit, shifted up by dy cm."""
        return _at(self.x, self.y + dy)


@dataclass(frozen=True)
class Edge:
    key: str  # "l:j:i": into unit j of layer l from unit i
    x1: float
    y1: float
    x2: float
    y2: float
    label: str  # plain text, may be empty
    lx: float
    ly: float
    highlight: bool
    step: int = 0  # the overlay step on which the label appears (0: from the start)
    name: str = ""  # the weight's name in LaTeX when the label names the weight rather than giving a value

    @property
    def tikz(self) -> str:
        """TikZ path from source to target."""
        return f"{_at(self.x1, self.y1)} -- {_at(self.x2, self.y2)}"

    @property
    def label_at(self) -> str:
        return _at(self.lx, self.ly)


@dataclass(frozen=True)
class Dots:
    x: float
    y: float

    @property
    def at(self) -> str:
        return _at(self.x, self.y)


def _at(x: float, y: float) -> str:
    """A TikZ coordinate with the few decimals a drawing needs (deterministic text)."""
    return f"({x:.3f},{y:.3f})"


@dataclass(frozen=True)
class Diagram:
    kind = "network"  # the templates draw it with the network macros
    nodes: tuple
    edges: tuple
    dots: tuple
    width: float
    height: float
    caption: str
    labelled: bool

    def within(self, offset: int, count: int) -> "Diagram":
        """The diagram on a part of its frame that shows overlay steps offset+1 .. offset+count.

        A value revealed on an earlier part is there from the start; one revealed on a later part is not drawn.
        """
        def step(text, at):
            if not at or at <= offset:
                return text, 0
            return (text, at - offset) if at <= offset + count else ("", 0)

        nodes = []
        for node in self.nodes:
            (above, a), (below, b) = step(node.above, node.above_step), step(node.below, node.below_step)
            nodes.append(replace(node, above=above, above_step=a, below=below, below_step=b))
        edges = []
        for edge in self.edges:
            label, at = step(edge.label, edge.step)
            edges.append(replace(edge, label=label, step=at))
        return replace(self, nodes=tuple(nodes), edges=tuple(edges))

    def values(self, upto: int | None = None) -> list[str]:
        """The values drawn (those shown by overlay step ``upto``, or all): unit notes and edge labels."""
        texts = [(n.above, n.above_step) for n in self.nodes] + [(n.below, n.below_step) for n in self.nodes]
        texts += [(e.label, e.step) for e in self.edges if not e.name]  # a name is no value
        return [t for t, at in texts if t and (upto is None or at <= upto)]


def shown_units(size: int) -> list[int | None]:
    """Units drawn for a layer; None marks the ellipsis of a compact drawing."""
    if size <= MAX_SHOWN:
        return list(range(size))
    return [0, 1, 2, None, size - 2, size - 1]


def _telling_digits(run, digits: int, most: int = 6) -> int:
    """The fewest digits (from ``digits``) at which every weight the step changed prints differently."""
    pairs = [(old, new) for l in range(1, len(run.weights)) if run.weights[l] is not None
             for old_row, new_row in zip(run.weights[l], run.new_weights[l]) for old, new in zip(old_row, new_row)
             if old != new]
    while digits < most and any(shown(old, digits).text == shown(new, digits).text for old, new in pairs):
        digits += 1
    return digits


def build(solution, annotate: str = "weights", highlight=(), digits: int = 3, known=None, steps=None) -> Diagram:
    """A diagram of the network. ``annotate``: weights | forward | gradients | updated | deltas | names (no numbers).

    ``highlight`` is a collection of node keys ("l:j") and edge keys ("l:j:i") to emphasise.
    ``known`` (all when None) holds the keys of the derived values to draw: ``net:l:j``, ``out:l:j``,
    ``delta:l:j``, ``grad:l:j:i`` (a weight's gradient) and ``grad:l:j`` (a bias's); ``steps`` maps
    further keys to the overlay step on which they appear (the row of the frame that derives them).
    """
    steps = dict(steps or {})

    def drawn(key: str) -> tuple[bool, int]:
        """Whether a derived value is drawn, and from which overlay step."""
        if key in steps:
            return True, steps[key]
        return known is None or key in known, 0

    spec, n, run = solution.spec, solution.document_names, solution.first
    sizes = spec.sizes
    compact = max(sizes) > MAX_SHOWN
    layouts = [shown_units(size) for size in sizes]
    if annotate == "updated":
        digits = _telling_digits(run, digits)
    fmt = lambda v: shown(v, digits).text
    labels = {}
    if not compact and annotate in ("weights", "updated", "gradients"):
        source = {"weights": run.weights, "updated": run.new_weights, "gradients": run.grad_W}[annotate]
        labels = {(l, j, i): fmt(source[l][j][i]) for l in range(1, len(sizes))
                  for j in range(sizes[l]) for i in range(sizes[l - 1])}
    elif not compact and annotate == "names" and n.units:  # the blog's weight names; layered names are in the text
        labels = {(l, j, i): n.weight(l, j, i).text for l in range(1, len(sizes))
                  for j in range(sizes[l]) for i in range(sizes[l - 1])}
    # each source unit's labels stand in a column of their own between the layers: the gap is made wide enough
    # (for every label, drawn yet or not, so that the picture does not move from frame to frame)
    half = max((CHAR * len(text) / 2 + 0.04 for text in labels.values()), default=0.0)
    if annotate == "gradients":
        labels = {(l, j, i): text for (l, j, i), text in labels.items() if drawn(f"grad:{l}:{j}:{i}")[0]}
    named = not compact and annotate in ("forward", "deltas")
    if named:  # the derivations name the weights: the diagram names them on their edges
        labels = {(l, j, i): _plain(n.weight(l, j, i).latex) for l in range(1, len(sizes))
                  for j in range(sizes[l]) for i in range(sizes[l - 1])}
        half = max((CHAR * len(text) / 2 + 0.04 for text in labels.values()), default=0.0)
    column = 2 * half + 0.15
    fan = max(len([u for u in units if u is not None]) for units in layouts[:-1])
    # near its source the edges of one unit are close together: the first column starts where they are
    # a label's height apart
    t_min = (LINE + 0.08) / UNIT_GAP
    gap = max(4.0, (fan * column + RADIUS + half + 0.6) / (1 - t_min))
    start = max(t_min * gap, RADIUS + 0.3 + half)
    if named and spec.batch == 1:  # a name's column stands clear of the notes above and below its source unit
        notes = [f"net={fmt(run.net[l][0][j])}" if annotate == "forward" else f"delta={fmt(run.delta[l][0][j])}"
                 for l in range(1, len(sizes)) for j in range(sizes[l])]
        notes += [f"out={fmt(run.out[l][0][j])}" for l in range(1, len(sizes)) for j in range(sizes[l])]
        start = max(start, CHAR * max(map(len, notes)) / 2 + half + 0.1)
        gap = max(gap, start + fan * column + RADIUS + half + 0.3)
    height = UNIT_GAP * (max(len(u) for u in layouts) - 1)
    positions, nodes, dots = {}, [], []
    for l, units in enumerate(layouts):
        top = UNIT_GAP * (len(units) - 1) / 2
        for row, j in enumerate(units):
            x, y = l * gap, top - row * UNIT_GAP
            if j is None:
                dots.append(Dots(x, y))
                continue
            positions[(l, j)] = (x, y)
            name = n.unit(l, j) if n.units else None
            label_text = name.text if name else (f"x{j + 1}" if l == 0 else f"{l}.{j + 1}")
            label_latex = name.latex if name else (f"x_{{{j + 1}}}" if l == 0 else f"{j + 1}")
            above = below = ""
            above_step = below_step = 0
            if l == 0:
                below = fmt(run.out[0][0][j]) if spec.batch == 1 and annotate != "names" else ""
            else:
                if annotate in ("weights", "updated"):
                    b = run.biases[l][j] if annotate == "weights" else run.new_biases[l][j]
                    above = f"b={fmt(b)}"
                elif annotate == "gradients":
                    shown_now, above_step = drawn(f"grad:{l}:{j}")
                    above = f"dE/db={fmt(run.grad_b[l][j])}" if shown_now else ""
                # the net input above the unit, its output below: each appears when it has been derived
                if annotate == "forward" and spec.batch == 1:
                    shown_now, above_step = drawn(f"net:{l}:{j}")
                    above = f"net={fmt(run.net[l][0][j])}" if shown_now else ""
                    shown_now, below_step = drawn(f"out:{l}:{j}")
                    below = f"out={fmt(run.out[l][0][j])}" if shown_now else ""
                if annotate == "deltas" and spec.batch == 1:
                    shown_now, below_step = drawn(f"delta:{l}:{j}")
                    below = f"delta={fmt(run.delta[l][0][j])}" if shown_now else ""
            nodes.append(Node(f"{l}:{j}", x, y, label_text, label_latex, above, below,
                              f"{l}:{j}" in highlight, above_step, below_step))
    edges = []
    for l in range(1, len(sizes)):
        sources = [j for j in layouts[l - 1] if j is not None]
        for j in (j for j in layouts[l] if j is not None):
            for rank, i in enumerate(sources):
                (x1, y1), (x2, y2) = positions[(l - 1, i)], positions[(l, j)]
                lx = x1 + start + rank * column
                t = (lx - x1) / (x2 - x1)
                at = drawn(f"grad:{l}:{j}:{i}")[1] if annotate == "gradients" else 0
                edges.append(Edge(f"{l}:{j}:{i}", x1 + RADIUS, y1, x2 - RADIUS, y2, labels.get((l, j, i), ""),
                                  lx, y1 + t * (y2 - y1), f"{l}:{j}:{i}" in highlight, at,
                                  n.weight(l, j, i).latex if named else ""))
    captions = {
        "weights": "The network with its starting weights and biases",
        "forward": "The forward pass: net input and output of every unit",
        "gradients": "The gradient of the loss with respect to every weight and bias",
        "updated": "The parameters after the update",
        "deltas": "The delta of every unit",
        "names": "The network" + (" and the names of its weights" if n.units else ""),
    }
    caption = captions[annotate] + (" (middle units of wide layers left out)" if compact else "")
    return Diagram(tuple(nodes), tuple(edges), tuple(dots), gap * (len(sizes) - 1), height, caption, not compact)


def label_boxes(diagram: Diagram) -> list[tuple]:
    """Approximate boxes (x0, y0, x1, y1) in cm of every label and unit, for the overlap check."""
    boxes = []
    for node in diagram.nodes:
        boxes.append(("unit " + node.key, node.x - RADIUS, node.y - RADIUS, node.x + RADIUS, node.y + RADIUS))
        for text, dy in ((node.above, RADIUS + LINE / 2 + 0.05), (node.below, -RADIUS - LINE / 2 - 0.05)):
            if text:
                w = CHAR * len(text) / 2
                boxes.append((f"text {node.key}", node.x - w, node.y + dy - LINE / 2, node.x + w, node.y + dy + LINE / 2))
    for edge in diagram.edges:
        if edge.label:
            w = CHAR * len(edge.label) / 2 + 0.04
            boxes.append((f"edge {edge.key}", edge.lx - w, edge.ly - LINE / 2, edge.lx + w, edge.ly + LINE / 2))
    return boxes


def _plain(latex: str) -> str:
    """A name as plain text, as wide as it is set: w_{5} -> w5, W^{[2]}_{1,1} -> W[2]1,1."""
    return re.sub(r"\\[a-z]+|[{}_^ ]", "", latex)


def overlaps(diagram: Diagram) -> list[tuple[str, str]]:
    """Pairs of labels (or a label and a unit) that share space."""
    boxes = label_boxes(diagram)
    clashes = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            p, q = boxes[a], boxes[b]
            if p[0].startswith("unit") and q[0].startswith("unit"):
                continue
            if p[1] < q[3] and q[1] < p[3] and p[2] < q[4] and q[2] < p[4]:
                clashes.append((p[0], q[0]))
    return clashes
