"""Network diagrams: Python lays the network out and places every label, the templates draw it (TikZ, SVG).

Every text the picture carries has a box in one coordinate system (cm, y up): a unit's
name inside its circle, the notes above and below a unit (a bias, a net input, an output,
a delta), and an edge's label (the weight's name, its value, or both). An edge label sits
on its own edge, at the point of the edge that keeps its box farthest from every other
edge, unit, note and label (crossings of edges are where that clearance vanishes). When a
pair of layers is too crowded for that at the first distance between them, the layers
are drawn farther apart; when even the widest drawing has no room, that pair's edge labels
are left out and the caption says that the values are in the tables (a dense layer, more
than about five units on each side). :func:`overlaps` measures the boxes against each
other, the units and the edges. Layers wider than ``MAX_SHOWN`` units are drawn compactly:
the first and last units with an ellipsis between, without edge labels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from derive.documents.printing import shown

MAX_SHOWN = 6
UNIT_GAP = 1.8  # cm between units of a layer
RADIUS = 0.42  # cm
LINE = 0.32  # cm: height of a \scriptsize line with its padding
PAD = 0.08  # cm added to a label's width (the white box around it)
CLEAR = 0.04  # cm: the least distance between a label's box and anything it does not belong to
NOTE_OFFSET = RADIUS + 0.05 + LINE / 2  # from a unit's centre to the centre of its note above or below
MIN_GAP, MAX_GAP = 3.6, 13.0  # cm between layers: the first tried and the widest


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

    @property
    def above_y(self) -> float:
        """The centre of the note above the unit."""
        return self.y + NOTE_OFFSET

    @property
    def below_y(self) -> float:
        return self.y - NOTE_OFFSET


@dataclass(frozen=True)
class Edge:
    key: str  # "l:j:i": into unit j of layer l from unit i
    x1: float
    y1: float
    x2: float
    y2: float
    label: str  # the value drawn on the edge, plain text, may be empty
    lx: float  # the centre of the label's box
    ly: float
    highlight: bool
    step: int = 0  # the overlay step on which the value appears (0: from the start)
    name: str = ""  # the weight's name in LaTeX, drawn before the value ("w_{1} = 0.15") or alone
    name_text: str = ""  # the name as plain text, as wide as it is set (w1, W[2]11)

    @property
    def tikz(self) -> str:
        """TikZ path from source to target."""
        return f"{_at(self.x1, self.y1)} -- {_at(self.x2, self.y2)}"

    @property
    def label_at(self) -> str:
        return _at(self.lx, self.ly)

    @property
    def text(self) -> str:
        """Everything the label says, as plain text: the name, '=', the value."""
        return "=".join(t for t in (self.name_text, self.label) if t)


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
        """The values drawn (those shown by overlay step ``upto``, or all): unit notes and edge values."""
        texts = [(n.above, n.above_step) for n in self.nodes] + [(n.below, n.below_step) for n in self.nodes]
        texts += [(e.label, e.step) for e in self.edges]  # a name is no value
        return [t for t, at in texts if t and (upto is None or at <= upto)]


def shown_units(size: int) -> list[int | None]:
    """Units drawn for a layer; None marks the ellipsis of a compact drawing."""
    if size <= MAX_SHOWN:
        return list(range(size))
    return [0, 1, 2, None, size - 2, size - 1]


def unit_name(n, l: int, j: int):
    """A unit's name in every format and table: i1, h1, o1 (units notation), x_j and a^[l]_j (layered)."""
    if n.units:
        return n.unit(l, j)
    return n.input(None, j) if l == 0 else n.out(l, None, j)


def _telling_digits(run, digits: int, most: int = 6) -> int:
    """The fewest digits (from ``digits``) at which every weight the step changed prints differently."""
    pairs = [(old, new) for l in range(1, len(run.weights)) if run.weights[l] is not None
             for old_row, new_row in zip(run.weights[l], run.new_weights[l]) for old, new in zip(old_row, new_row)
             if old != new]
    while digits < most and any(shown(old, digits).text == shown(new, digits).text for old, new in pairs):
        digits += 1
    return digits


#: glyph widths in cm at the label size, the wider of TeX's \scriptsize Computer Modern and a 13 px serif SVG
#: font at 60 px/cm (DejaVu Serif, the widest common serif); any other character counts as a wide letter
_GLYPH = {**dict.fromkeys("0123456789", 0.14), **dict.fromkeys(".,:;[]()|' ", 0.075), "=": 0.19, "-": 0.19,
          "+": 0.19, "/": 0.09, "W": 0.24, "M": 0.24, "w": 0.19, "m": 0.2, "i": 0.08, "l": 0.08, "j": 0.09}
LETTER = 0.15
SCRIPT = 0.72  # an index is set this much smaller


def _width(text: str) -> float:
    return sum(_GLYPH.get(c, LETTER) for c in text)


def name_width(latex: str) -> float:
    """The width in cm of a name at the label size: its letters, its indices smaller (one after the other, as SVG
    sets them; TeX stacks them, narrower)."""
    scripts = re.findall(r"[_^]\{([^{}]*)\}|[_^](\w)", latex)
    base = re.sub(r"[_^](\{[^{}]*\}|\w)", "", latex)
    return _width(plain(base)) + SCRIPT * sum(_width(plain(a or b)) for a, b in scripts)


def plain(latex: str) -> str:
    """A name as plain text, as wide as it is set: w_{5} -> w5, W^{[2]}_{1,1} -> W[2]1,1."""
    return re.sub(r"\\[a-z]+|[{}_^ ]", "", latex)


def text_width(text: str, name: str = "") -> float:
    """The width in cm of a label's box: the name (LaTeX), '=' and the text at the label size, with the padding."""
    return (name_width(name) + _GLYPH["="] if name and text else name_width(name)) + _width(text) + PAD


# -- geometry: boxes are (x0, y0, x1, y1), segments ((x1, y1), (x2, y2)), circles (x, y, r) -------------------
def _box(cx: float, cy: float, width: float, height: float = LINE) -> tuple:
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def _box_box(a, b) -> float:
    """Distance between two boxes (0 when they overlap)."""
    dx = max(0.0, a[0] - b[2], b[0] - a[2])
    dy = max(0.0, a[1] - b[3], b[1] - a[3])
    return math.hypot(dx, dy)


def _point_box(px, py, b) -> float:
    return math.hypot(max(0.0, b[0] - px, px - b[2]), max(0.0, b[1] - py, py - b[3]))


def _point_segment(px, py, seg) -> float:
    (ax, ay), (bx, by) = seg
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _crosses(seg, b) -> bool:
    """Whether a segment enters a box (Liang-Barsky clipping)."""
    (ax, ay), (bx, by) = seg
    lo, hi = 0.0, 1.0
    for p, q in ((-(bx - ax), ax - b[0]), (bx - ax, b[2] - ax), (-(by - ay), ay - b[1]), (by - ay, b[3] - ay)):
        if p == 0:
            if q < 0:
                return False
        else:
            r = q / p
            if p < 0:
                lo = max(lo, r)
            else:
                hi = min(hi, r)
            if lo > hi:
                return False
    return True


def _segment_box(seg, b, far: float = math.inf) -> float:
    """Distance between a segment and a box (0 when the segment enters it); ``far`` when it is at least that."""
    (ax, ay), (bx, by) = seg
    if _box_box((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)), b) >= far:
        return far
    if _crosses(seg, b):
        return 0.0
    corners = ((b[0], b[1]), (b[0], b[3]), (b[2], b[1]), (b[2], b[3]))
    return min([_point_box(*seg[0], b), _point_box(*seg[1], b)] + [_point_segment(x, y, seg) for x, y in corners])


def _circle_box(c, b) -> float:
    return max(0.0, _point_box(c[0], c[1], b) - c[2])


# -- placing the edge labels of one pair of layers --------------------------------------------------------------
def _segment(x1, y1, x2, y2) -> tuple:
    """The drawn edge between two unit centres: from the source's east point to the target's west point."""
    return ((x1 + RADIUS, y1), (x2 - RADIUS, y2))


def _place(edges: dict, widths: dict, circles: list, notes: list, x_lo: float, x_hi: float) -> dict | None:
    """Label centres for the edges of one pair of layers, or None where one of them finds no room.

    ``edges`` maps a key to its segment, ``widths`` the keys to label (to the box width). Each label
    takes the point of its edge (t from 0.05 to 0.95) whose box stays farthest from the other edges,
    the units, the notes and the labels placed before it (t in steps of 0.025; clearance capped at a label's height, then
    the point nearest the middle of the edge); the labels with the fewest free points go first.
    """
    cap = LINE

    def candidates(key):
        (ax, ay), (bx, by) = edges[key]
        for k in range(37):
            t = 0.05 + 0.025 * k
            cx, cy = ax + t * (bx - ax), ay + t * (by - ay)
            b = _box(cx, cy, widths[key])
            if b[0] < x_lo or b[2] > x_hi:
                continue
            clear = min([_circle_box(c, b) for c in circles] + [_box_box(n, b) for n in notes] + [cap])
            for other, seg in edges.items():
                if clear < CLEAR:
                    break
                if other != key:
                    clear = min(clear, _segment_box(seg, b, cap))
            if clear >= CLEAR:
                yield t, (cx, cy), b, clear

    free = {key: list(candidates(key)) for key in widths}
    placed, boxes = {}, []
    for key in sorted(widths, key=lambda k: (len(free[k]), k)):
        best = None
        for t, centre, b, clear in free[key]:
            clear = min([clear] + [_box_box(o, b) for o in boxes])
            if clear < CLEAR:
                continue
            score = (min(clear, cap), -abs(t - 0.5))
            if best is None or score > best[0]:
                best = (score, centre, b)
        if best is None:
            return None
        placed[key] = best[1]
        boxes.append(best[2])
    return placed


def build(solution, annotate: str = "weights", highlight=(), digits: int = 3, known=None, steps=None) -> Diagram:
    """A diagram of the network. ``annotate``: weights | forward | gradients | updated | deltas | names (no numbers).

    weights: each edge's weight by name and value, each unit's bias; updated: the new values; gradients: the
    gradient of every weight and bias; forward: the weights' names, each unit's net input and output;
    deltas: the names and each unit's delta; names: the names only.
    ``highlight`` is a collection of node keys ("l:j") and edge keys ("l:j:i") to emphasise.
    ``known`` (all when None) holds the keys of the derived values to draw: ``net:l:j``, ``out:l:j``,
    ``delta:l:j``, ``grad:l:j:i`` (a weight's gradient) and ``grad:l:j`` (a bias's); ``steps`` maps
    further keys to the overlay step on which they appear (the row of the frame that derives them).
    The layout does not depend on ``known`` or ``steps``: every frame of a derivation draws the same picture.
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
    weights = [(l, j, i) for l in range(1, len(sizes)) for j in range(sizes[l]) for i in range(sizes[l - 1])]
    values, names = {}, {}
    if not compact and annotate in ("weights", "updated", "gradients"):
        source = {"weights": run.weights, "updated": run.new_weights, "gradients": run.grad_W}[annotate]
        values = {w: fmt(source[w[0]][w[1]][w[2]]) for w in weights}
    if not compact and annotate in ("weights", "forward", "deltas", "names"):
        names = {w: n.weight(*w).latex for w in weights}

    # every note a unit can carry, drawn yet or not: the picture does not move from frame to frame
    notes = {}  # (l, j) -> [(above, key), (below, key)] with the key of the derived value (None: given)
    for l in range(len(sizes)):
        for j in range(sizes[l]):
            above = below = ("", None)
            if l == 0:
                below = (fmt(run.out[0][0][j]) if spec.batch == 1 and annotate != "names" else "", None)
            elif annotate in ("weights", "updated"):
                above = (f"b={fmt(run.biases[l][j] if annotate == 'weights' else run.new_biases[l][j])}", None)
            elif annotate == "gradients":
                above = (f"dE/db={fmt(run.grad_b[l][j])}", f"grad:{l}:{j}")
            elif annotate == "forward" and spec.batch == 1:
                above = (f"net={fmt(run.net[l][0][j])}", f"net:{l}:{j}")
                below = (f"out={fmt(run.out[l][0][j])}", f"out:{l}:{j}")
            elif annotate == "deltas" and spec.batch == 1:
                below = (f"delta={fmt(run.delta[l][0][j])}", f"delta:{l}:{j}")
            notes[(l, j)] = [above, below]

    height = UNIT_GAP * (max(len(u) for u in layouts) - 1)
    ys = {}
    for l, units in enumerate(layouts):
        top = UNIT_GAP * (len(units) - 1) / 2
        for row, j in enumerate(units):
            ys[(l, row)] = top - row * UNIT_GAP

    def note_boxes(l, x):
        """The boxes of the notes of layer l drawn at x, by (l, j, 0 above | 1 below); the ellipsis by None."""
        boxes = {}
        for row, j in enumerate(layouts[l]):
            if j is None:
                boxes[(l, row, None)] = _box(x, ys[(l, row)], 0.5, 0.6)
                continue
            for side, ((text, _), dy) in enumerate(zip(notes[(l, j)], (NOTE_OFFSET, -NOTE_OFFSET))):
                if text:
                    boxes[(l, j, side)] = _box(x, ys[(l, row)] + dy, text_width(text))
        return boxes

    # each pair of layers on its own: from the first distance up, the first that gives every label room
    gaps, placed, dropped, lost = [], {}, [], []
    for l in range(1, len(sizes)):
        rows = {j: row for row, j in enumerate(layouts[l]) if j is not None}
        sources = {i: row for row, i in enumerate(layouts[l - 1]) if i is not None}
        keyed = {(l, j, i): (rows[j], sources[i]) for j in rows for i in sources}
        widths = {k: text_width(values.get(k, ""), names.get(k, "")) for k in keyed if k in values or k in names}
        def fit(widths):
            """The first distance between the layers, from the least up, at which every label has room."""
            gap = max(MIN_GAP, 2 * RADIUS + 2.4 * max(widths.values(), default=0.0))
            while True:
                segments = {k: _segment(0.0, ys[(l - 1, s)], gap, ys[(l, r)]) for k, (r, s) in keyed.items()}
                circles = [(0.0, ys[(l - 1, row)], RADIUS) for row, i in enumerate(layouts[l - 1]) if i is not None]
                circles += [(gap, ys[(l, row)], RADIUS) for row, j in enumerate(layouts[l]) if j is not None]
                boxes = note_boxes(l - 1, 0.0) | note_boxes(l, gap)
                crossed = [k for k, b in boxes.items()
                           if k[2] is not None and any(_segment_box(seg, b, CLEAR) < CLEAR for seg in segments.values())]
                if crossed and gap >= MAX_GAP:  # a wide note beside steep edges: left out of the drawing
                    for key in crossed:
                        notes[key[:2]][key[2]] = ("", None)
                        lost.append(key)
                        del boxes[key]
                    crossed = []
                found = None if crossed else _place(segments, widths, circles, list(boxes.values()), RADIUS, gap - RADIUS)
                if found is not None or gap >= MAX_GAP:
                    return gap, found
                gap = min(MAX_GAP, gap * 1.15)

        gap, found = fit(widths)
        if found is None:  # no room even at the widest: this pair's values are in the tables, the layers close
            dropped.append(l)
            gap, found = fit({})
        gaps.append(gap)
        offset = sum(gaps[:-1])
        placed.update({k: (x + offset, y) for k, (x, y) in found.items()})

    xs = [sum(gaps[:l]) for l in range(len(sizes))]
    nodes, dots = [], []
    for l, units in enumerate(layouts):
        for row, j in enumerate(units):
            x, y = xs[l], ys[(l, row)]
            if j is None:
                dots.append(Dots(x, y))
                continue
            texts = []
            for text, key in notes[(l, j)]:
                shown_now, at = drawn(key) if key else (True, 0)
                texts += [text if shown_now else "", at if shown_now else 0]
            name = unit_name(n, l, j)
            nodes.append(Node(f"{l}:{j}", x, y, name.text, name.latex, texts[0], texts[2],
                              f"{l}:{j}" in highlight, texts[1], texts[3]))
    edges = []
    for l in range(1, len(sizes)):
        sources = [(row, i) for row, i in enumerate(layouts[l - 1]) if i is not None]
        for row, j in ((r, j) for r, j in enumerate(layouts[l]) if j is not None):
            for source_row, i in sources:
                k = (l, j, i)
                (ax, ay), (bx, by) = _segment(xs[l - 1], ys[(l - 1, source_row)], xs[l], ys[(l, row)])
                lx, ly = placed.get(k, (0.0, 0.0))
                value, at = (values.get(k, ""), 0) if k in placed else ("", 0)
                if value and annotate == "gradients":
                    shown_now, at = drawn(f"grad:{l}:{j}:{i}")
                    value = value if shown_now else ""
                name = names.get(k, "") if k in placed else ""
                edges.append(Edge(f"{l}:{j}:{i}", ax, ay, bx, by, value, lx, ly, f"{l}:{j}:{i}" in highlight, at,
                                  name, plain(name)))
    captions = {
        "weights": "The network with its starting weights and biases",
        "forward": "The forward pass: net input and output of every unit",
        "gradients": "The gradient of the loss with respect to every weight and bias",
        "updated": "The parameters after the update",
        "deltas": "The delta of every unit",
        "names": "The network and the names of its weights",
    }
    caption = captions[annotate] + (" (middle units of wide layers left out)" if compact else "")
    if dropped and (values or names):
        into = f"layer {dropped[0]}" if len(dropped) == 1 else \
            "layers " + ", ".join(map(str, dropped[:-1])) + f" and {dropped[-1]}"
        caption += f" (the edges into {into} are too many to label: their values are in the tables)"
    if lost:
        caption += " (values beside crowded units are in the tables)"
    return Diagram(tuple(nodes), tuple(edges), tuple(dots), xs[-1], height, caption, not compact)


def label_boxes(diagram: Diagram) -> list[tuple]:
    """Boxes (name, x0, y0, x1, y1) in cm of every note and edge label, estimated as the layout estimates them."""
    boxes = []
    for node in diagram.nodes:
        for text, y, where in ((node.above, node.above_y, "above"), (node.below, node.below_y, "below")):
            if text:
                boxes.append((f"{where} {node.key}", *_box(node.x, y, text_width(text))))
    for edge in diagram.edges:
        if edge.text:
            boxes.append((f"edge {edge.key}", *_box(edge.lx, edge.ly, text_width(edge.label, edge.name))))
    return boxes


def overlaps(diagram: Diagram) -> list[tuple[str, str]]:
    """Pairs (a label, what it touches): another label, a unit, the ellipsis, or an edge that is not its own."""
    boxes = label_boxes(diagram)
    clashes = []
    for a, p in enumerate(boxes):
        for q in boxes[a + 1:]:
            if _box_box(p[1:], q[1:]) < CLEAR / 2:
                clashes.append((p[0], q[0]))
        clashes += [(p[0], f"unit {n.key}") for n in diagram.nodes if _circle_box((n.x, n.y, RADIUS), p[1:]) < CLEAR / 2]
        clashes += [(p[0], "dots") for d in diagram.dots if _box_box(_box(d.x, d.y, 0.5, 0.6), p[1:]) < CLEAR / 2]
        clashes += [(p[0], f"line {e.key}") for e in diagram.edges
                    if p[0] != f"edge {e.key}" and _segment_box(((e.x1, e.y1), (e.x2, e.y2)), p[1:]) < CLEAR / 2]
    return clashes
