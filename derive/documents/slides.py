"""Lecture slides: one example walked through frame by frame, the diagram highlighting the current quantity.

The frames are built from the same parts as the worked solution, each asked for by
name from the document context: the network's description and task
(derive.documents.network), each unit's forward step, delta and gradients
(derive.documents.scalar), each layer of the matrix form (derive.documents.matrix).
Each row of a derivation is one overlay step (Beamer ``\\onslide``, HTML
fragments), so the factors appear one by one. Large networks get vectorised frames
instead of one frame per parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from derive.core import functions as fn
from derive.core.notation import Name
from derive.core.solve import Solution
from derive.documents import network
from derive.documents.context import Context, is_large
from derive.documents.diagram import build as diagram
from derive.documents.diagram import RADIUS, label_boxes
from derive.documents.layout import width
from derive.documents.matrix import backward as matrix_backward
from derive.documents.matrix import forward as matrix_forward
from derive.documents.matrix import loss as matrix_loss
from derive.documents.matrix import update as matrix_update
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.network import layout
from derive.documents.metadata import Metadata, document_metadata
from derive.documents.model import CHECKED_TITLE, Chain, M, P, Paragraph, Table
from derive.documents.options import Options
from derive.documents.scalar import backward, deltas, forward, update
from derive.documents.summary import after_step, checked
from derive.documents.worked import context

UPDATES_PER_FRAME = 2


ROWS_PER_TABLE_FRAME = 10
#: derivation rows that fit one frame at a size legible from the back of a room
ROWS_PER_FRAME = 9


@dataclass(frozen=True)
class Frame:
    """One slide: a title, its blocks, and optionally a diagram with the current quantity highlighted."""

    title: str
    blocks: tuple
    figure: object = None  # a derive.diagram.Diagram or None
    kind: str = "step"  # title | network | step | table
    heading: object = None  # the title with its names as mathematics (a Paragraph), where it has any

    def figure_box(self, column: float) -> str:
        """The \\resizebox size that fits a circuit's diagram into a column of this fraction of the text width."""
        ratio = (self.figure.height + 2.2) / (self.figure.width + 3.2)  # the picture with its labels
        return "{!}{0.78\\textheight}" if ratio * column * 2.0 > 0.78 else "{\\linewidth}{!}"

    @property
    def placement(self) -> str:
        """Where the diagram goes, drawn at its natural size: "beside" the blocks, "above" them, or "" (none).

        At its natural size the diagram's labels are 8 pt, the smallest text on a frame; a picture that
        would have to shrink to fit is left out instead (the frame shows the derivation alone).
        """
        if self.figure is None or self.figure.kind != "network":
            return ""
        (x0, y0, x1, y1), chars = picture_box(self.figure), _text_width(self.blocks)
        column = TEXT_WIDTH - (x1 - x0) - COLUMN_SEP  # the text's column beside the picture
        # the text wraps in that column: as tall as it then is, not as tall as across the frame
        # a picture on a frame of its own is centred above nothing rather than beside an empty column
        if self.blocks and y1 - y0 <= BODY_HEIGHT and column >= max(chars * DIGIT, MIN_TEXT_COLUMN) \
                and _text_height(self.blocks, column) <= BODY_HEIGHT:
            return "beside"
        if x1 - x0 <= TEXT_WIDTH and y1 - y0 + _text_height(self.blocks, TEXT_WIDTH) <= BODY_HEIGHT:
            return "above"
        return ""

    @property
    def figure_width(self) -> str:
        """The width of the diagram's column, in cm."""
        x0, _, x1, _ = picture_box(self.figure)
        return f"{x1 - x0:.2f}"

    @property
    def bounding_box(self) -> str:
        """The TikZ bounding box of the whole picture, every label of every overlay step within it (it never moves)."""
        x0, y0, x1, y1 = picture_box(self.figure)
        return f"({x0:.3f},{y0:.3f}) rectangle ({x1:.3f},{y1:.3f})"

    @property
    def steps(self) -> int:
        """Overlay steps: one per derivation row."""
        return sum(len(b.rows) for b in self.blocks if isinstance(b, Chain))


#: a 16:9 Beamer frame at its natural size (16 cm x 9 cm, 11 pt): its text width and the height below the title, in cm
TEXT_WIDTH, BODY_HEIGHT = 14.0, 6.8
#: a digit at 11 pt, the space between two columns, the narrowest column of text beside a picture (cm)
DIGIT, COLUMN_SEP, MIN_TEXT_COLUMN = 0.194, 0.4, 5.0
#: a derivation row's height, the space above and below a derivation, a line of text (cm at 11 pt)
ROW_HEIGHT, CHAIN_SKIP, LINE_HEIGHT = 0.6, 0.5, 0.5


def picture_box(figure) -> tuple:
    """The box (x0, y0, x1, y1) in cm that a network diagram drawn at its natural size takes: its units, its
    ellipses and every label, where the layout put them (the layers as far apart as the model drew them)."""
    boxes = [box[1:] for box in label_boxes(figure)]
    boxes += [(n.x - RADIUS, n.y - RADIUS, n.x + RADIUS, n.y + RADIUS) for n in figure.nodes]
    boxes += [(d.x - 0.2, d.y - 0.3, d.x + 0.2, d.y + 0.3) for d in figure.dots]
    # a unit's circle is drawn with a thick line, a little outside its radius
    margin = 0.1
    return (min(b[0] for b in boxes) - margin, min(b[1] for b in boxes) - margin,
            max(b[2] for b in boxes) + margin, max(b[3] for b in boxes) + margin)


def _text_width(blocks) -> float:
    """The widest derivation or table among the blocks, in digit widths (paragraphs wrap to any width)."""
    widths = [0.0]
    for block in blocks:
        if isinstance(block, Chain):
            widths.append(max(width(row[0]) for row in block.rows) + max(width(row[2]) for row in block.rows) + 2)
        elif isinstance(block, Table):
            columns = zip(*(map(str, row) for row in (block.header, *block.rows)))
            widths.append(0.8 * sum(max(width(cell) for cell in column) + 2 for column in columns))
    return max(widths)


def _text_height(blocks, column: float) -> float:
    """Roughly how tall the blocks are set in a column this many cm wide."""
    height = 0.0
    for block in blocks:
        if isinstance(block, Chain):
            height += sum(_height(row) for row in block.rows) * ROW_HEIGHT + CHAIN_SKIP
        elif isinstance(block, Table):
            height += 0.5 * (len(block.rows) + 1) + 0.8
        else:
            chars = sum(len(text) if kind == "text" else width(text) for kind, text in block.parts)
            # a fraction in running text is set at full size: its line is taller
            fractions = sum(text.count(r"\frac") for kind, text in block.parts if kind == "math")
            height += -(-chars * 0.9 * DIGIT // column) * LINE_HEIGHT + 0.2 + 0.4 * fractions
    return height


def window(figure, first: int, last: int):
    """The part of a network diagram showing only layers first..last (and the edges between them), moved to x = 0."""
    layer = lambda key: int(key.split(":")[0])
    nodes = [n for n in figure.nodes if first <= layer(n.key) <= last]
    if first == 0 and last == len({layer(n.key) for n in figure.nodes}) - 1:
        return figure
    left = min(n.x for n in nodes)
    right = max(n.x for n in nodes)
    edges = [e for e in figure.edges if first < layer(e.key) <= last]
    return replace(figure, nodes=tuple(replace(n, x=n.x - left) for n in nodes),
                   edges=tuple(replace(e, x1=e.x1 - left, x2=e.x2 - left, lx=e.lx - left) for e in edges),
                   dots=tuple(replace(d, x=d.x - left) for d in figure.dots if left - 0.01 <= d.x <= right + 0.01),
                   width=right - left)


@dataclass(frozen=True)
class Deck:
    """A set of slides; ``handout``: one printed page per frame with every step shown, ``per_page`` frames a sheet."""

    title: str
    subtitle: str
    frames: tuple
    handout: bool = False
    per_page: int = 1
    #: the title frame's course, lecturer, date and institution (derive.documents.metadata)
    meta: Metadata = Metadata()


def split(frame: Frame, height=None) -> list[Frame]:
    """A frame whose derivations are too long for one slide, continued on the next ones (``height``: the text
    lines a derivation row takes, when not _height's)."""
    height = height or _height
    parts, current, rows = [], [], 0
    for block in _broken(frame.blocks, ROWS_PER_FRAME):
        size = sum(height(row) for row in block.rows) if isinstance(block, Chain) else 2
        if current and rows + size > ROWS_PER_FRAME:
            # a sentence that introduces the next derivation goes over with it: no frame ends with a colon
            carried = [current.pop()] if len(current) > 1 and isinstance(current[-1], Paragraph) else []
            parts.append(current)
            current, rows = carried, 2 * len(carried)
        current.append(block)
        rows += size
    parts.append(current)
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + sum(len(b.rows) for b in part if isinstance(b, Chain)))
    figures = [frame.figure.within(offsets[k], offsets[k + 1] - offsets[k]) if frame.figure else None
               for k in range(len(parts))]
    return [Frame(frame.title + (" (continued)" if k else ""), tuple(part), figures[k], frame.kind,
                  replace(frame.heading, parts=(*frame.heading.parts, ("text", " (continued)"))) if k and frame.heading
                  else frame.heading)
            for k, part in enumerate(parts)]


#: the width of the column beside a diagram, in digit widths at the frame's font size
BESIDE_WIDTH = 43


def _fits_beside(blocks) -> bool:
    """True when every derivation row fits the column beside the diagram."""

    # the rows of a derivation share its left column: the widest left side plus the widest right side
    return all(max(width(row[0]) for row in block.rows) + max(width(row[2]) for row in block.rows) + 2 <= BESIDE_WIDTH
               for block in blocks if isinstance(block, Chain))


#: the widest table of inputs and targets the task frame shows (a wide input is in the diagram and the tables)
MAX_TASK_COLUMNS = 9


MAX_TASK_ROWS = 6


def _titled(parts, blocks, figure=None) -> Frame:
    """A frame whose title names quantities: plain text for the HTML title and tests, mathematics on the slide."""
    text = "".join(p if isinstance(p, str) else p.text for p in parts)
    heading = P(*(p if isinstance(p, str) else M(p.latex) for p in parts if p))
    return Frame(text, blocks, figure, heading=heading)


def _chains(blocks) -> tuple:
    """Only the derivations and short text of a list of worked-solution blocks."""
    return tuple(b for b in blocks if isinstance(b, (Chain, Paragraph, Table)))


#: the slides' options: 6 significant digits, legible on a projector
SLIDE_OPTIONS = Options(digits=6)


def deck(solution: Solution, options: Options = SLIDE_OPTIONS) -> Deck:
    """The slides of a solved network."""
    # a sum beside the diagram fills that column, then goes on to the next line
    ctx = context(solution, replace(options, line_width=BESIDE_WIDTH))
    spec = solution.spec
    frames = [Frame(spec.title, (), None, "title")]
    # what the network is beside its diagram; what it is asked to do (loss, rate, data) on a frame of its own
    frames += _pictured("The network", tuple(network.description(ctx)),
                        (diagram(solution, "weights", digits=ctx.digits), diagram(solution, "names")))
    data = network.data_table(ctx)
    fits = len(data.header) <= MAX_TASK_COLUMNS and len(data.rows) <= MAX_TASK_ROWS
    frames.append(Frame("The task", (*network.definition(ctx), network.rate_sentence(ctx),
                                     data if fits else _data_chain(ctx)), None))
    if solution.matrix_form:
        frames += _matrix_frames(ctx)
    elif is_large(solution):
        frames += _vectorised_frames(ctx)
    else:
        frames += [part for frame in _scalar_frames(ctx) for part in split(frame)]
    frames += _pictured("After one step", (_losses(ctx), after_step(ctx)), (diagram(solution, "updated", digits=ctx.digits),))
    if options.verification:
        frames.append(Frame(CHECKED_TITLE, (checked(ctx).blocks[0],), None))
    frames = _readable(frames)
    return Deck(spec.title, _subtitle(ctx), tuple(frames), meta=document_metadata(spec, options.metadata))


def _pictured(title: str, blocks: tuple, pictures: tuple) -> list[Frame]:
    """A frame of text with the first of the pictures that can be read beside or above it, or else the text, then
    the first picture that can be read on a frame of its own (none where none can)."""
    for picture in pictures:
        if Frame(title, blocks, picture, "network").placement:
            return [Frame(title, blocks, picture, "network")]
    alone = [Frame(picture.caption, (), picture, "network") for picture in pictures]
    return [Frame(title, blocks, None, "network"), *[frame for frame in alone if frame.placement][:1]]


def _readable(frames: list[Frame]) -> list[Frame]:
    """The frames without the diagrams that cannot be drawn at their natural size beside or above the text.

    A frame continued over several is consistent: its diagram on every part or on none.
    """
    base = lambda frame: frame.title.removesuffix(" (continued)")
    unreadable = {base(f) for f in frames if f.figure is not None and f.kind != "circuit" and not f.placement}
    return [replace(f, figure=None) if f.figure is not None and f.kind != "circuit" and base(f) in unreadable else f
            for f in frames]


#: inputs written on one row of the task frame's data, when the inputs are too many for a table
VALUES_PER_ROW = 5


def _data_chain(ctx: Context) -> Chain:
    """The inputs and targets of a network with many, as rows of vectors (five values a row) under each other."""
    spec, n = ctx.spec, ctx.n

    def rows(names, values):
        for start in range(0, len(names), VALUES_PER_ROW):
            part = names[start:start + VALUES_PER_ROW]
            left = part[0] if len(part) == 1 else (f"{part[0]}, {part[1]}" if len(part) == 2 else
                                                   rf"{part[0]}, \dots, {part[-1]}")
            yield rf"({left})" if len(part) > 1 else left, "=", \
                rf"({', '.join(values[start:start + VALUES_PER_ROW])})" if len(part) > 1 else values[start]

    out = []
    for s in range(spec.batch):
        note = rf"\text{{sample {s + 1}: }}\ " if spec.batch > 1 else ""
        inputs = [ctx.given(v, f"inputs[{s}][{i}]") for i, v in enumerate(spec.inputs[s])]
        targets = [ctx.given(v, f"targets[{s}][{k}]") for k, v in enumerate(spec.targets[s])]
        lines = [*rows([n.input(None, i).latex for i in range(spec.sizes[0])], inputs),
                 *rows([n.target(None, k).latex for k in range(spec.sizes[-1])], targets)]
        out += [(note + lines[0][0], *lines[0][1:]), *lines[1:]]
    return Chain(tuple(out))


def _losses(ctx: Context) -> Chain:
    """The loss before and after the step, and the change."""
    before, after = ctx.s.history[0], ctx.s.history[1]
    E = ctx.n.loss().latex
    return Chain(((rf"{E}\ \text{{before}}", ctx.rel(before), ctx.num(before)),
                  (rf"{E}\ \text{{after}}", ctx.rel(after), ctx.num(after)),
                  (r"\text{change}", ctx.rel(after - before), ctx.num(after - before))))


def _subtitle(ctx: Context) -> str:
    s = ctx.spec
    return f"{'-'.join(map(str, s.sizes))} network, {' / '.join(fn.ACTIVATIONS[a].title for a in s.activations)}, {fn.LOSSES[s.loss].title}"


def _rows(blocks) -> list[int]:
    """The overlay step on which each derivation among the blocks is complete (its last row)."""
    ends, step = [], 0
    for block in blocks:
        if isinstance(block, Chain):
            step += len(block.rows)
            ends.append(step)
    return ends


def _scalar_frames(ctx: Context) -> list[Frame]:
    """A frame for each unit's forward step, the loss, each unit's delta, each parameter's gradient; the updates.

    The diagram beside a derivation shows only what has been derived so far: the values of the earlier frames
    from the start, the one this frame derives on the overlay step of the row that completes it.
    """
    solution, spec, n = ctx.s, ctx.spec, ctx.n  # the names the documents print
    frames, known = [], set()

    def figure(annotate, highlight, steps, layers):
        """The diagram of layers (first, last), its numbers printed as the derivations print theirs."""
        picture = diagram(solution, annotate, highlight, ctx.digits, known=frozenset(known), steps=steps)
        known.update(steps)
        return window(picture, *layers)

    for s in range(spec.batch):
        known.clear()  # each sample's forward pass starts afresh
        for l in range(1, spec.layers + 1):
            coupled = ctx.g.activation(l).coupled
            for j in range(spec.sizes[l]):
                edges = {f"{l}:{j}:{i}" for i in range(spec.sizes[l - 1])}
                unit = n.unit(l, j) if n.units else f"unit {j + 1} of layer {l}"
                title = ("Forward pass: ", unit, ctx.sample_note(s))
                # a softmax output needs every net input of its layer: the outputs get their own frame
                chains = ((forward.net_chain(ctx, l, s, j),) if coupled else
                          (forward.net_chain(ctx, l, s, j), forward.out_chain(ctx, l, s, j)))
                ends = _rows(chains)
                steps = {f"net:{l}:{j}": ends[0], **({} if coupled else {f"out:{l}:{j}": ends[1]})}
                frames.append(_titled(title, chains, figure("forward", {f"{l}:{j}"} | edges, steps, (l - 1, l))))
            if coupled:
                units = {f"{l}:{j}" for j in range(spec.sizes[l])}
                chains = tuple(forward.out_chain(ctx, l, s, j) for j in range(spec.sizes[l]))
                steps = {f"out:{l}:{j}": end for j, end in enumerate(_rows(chains))}
                frames.append(Frame(f"Forward pass: the softmax{ctx.sample_note(s)}", chains,
                                    figure("forward", units, steps, (l - 1, l))))
    loss = _chains(forward.loss_blocks(ctx))
    outputs = {f"{spec.layers}:{k}" for k in range(spec.sizes[-1])}
    frames.append(Frame("The loss", loss, figure("forward", outputs, {}, (spec.layers - 1, spec.layers)) if _fits_beside(loss) else None))
    known.clear()  # the backward pass: deltas, then gradients, each drawn once derived
    for l in range(spec.layers, 0, -1):
        if ctx.g.activation(l).coupled:
            for s in range(spec.batch):  # the full width of the frame, for the Jacobian as a matrix
                frames.append(Frame(f"Backward pass: the softmax Jacobian{ctx.sample_note(s)}",
                                    tuple(b for b in deltas.softmax_blocks(ctx, l, s) if isinstance(b, Chain))))
        for j in range(spec.sizes[l]):
            for s in range(spec.batch):
                name = n.unit(l, j) if n.units else f"unit {j + 1} of layer {l}"
                blocks = [b for b in deltas.unit_blocks(ctx, l, s, j) if isinstance(b, Chain)]
                above = {f"{l + 1}:{k}:{j}" for k in range(spec.sizes[l + 1])} if l < spec.layers else set()
                # a long sum (a softmax delta, many samples) takes the full width of the frame, without the diagram
                steps = {f"delta:{l}:{j}": _rows(blocks)[-1]} if s == spec.batch - 1 else {}
                layers = (l, l + 1) if l < spec.layers else (l - 1, l)
                picture = figure("deltas", {f"{l}:{j}"} | above, steps, layers) if _fits_beside(blocks) else None
                if picture is None:
                    known.update(steps)
                title = ("Backward pass: the delta of ", name, ctx.sample_note(s))
                frames.append(_titled(title, tuple(blocks), picture))
            for i in list(range(spec.sizes[l - 1])) + [None]:
                kind = "W" if i is not None else "b"
                pname = n.weight(l, j, i) if i is not None else n.bias(l, j)
                highlight = {f"{l}:{j}:{i}"} if i is not None else {f"{l}:{j}"}
                blocks = tuple(backward.gradient_blocks(ctx, kind, l, j, i))
                key = f"grad:{l}:{j}:{i}" if i is not None else f"grad:{l}:{j}"
                frames.append(_titled(("The gradient of ", pname), blocks,
                                      figure("gradients", highlight, {key: _rows(blocks)[-1]}, (l - 1, l))))
    updates = update.update_chains(ctx)
    for start in range(0, len(updates), UPDATES_PER_FRAME):
        frames.append(Frame("The update", tuple(updates[start:start + UPDATES_PER_FRAME]), None))
    return frames


def _table_frames(title: str, table: Table, lead=()) -> list[Frame]:
    """A long table over several frames (never one row alone), ``lead`` text before it on the first.

    The first frame holds as many rows as fit below the lead; the rest are shared evenly by the next frames.
    """
    part = lambda rows: Table(table.header, rows, table.kinds, table.align, table.caption)
    rows = table.rows
    first = min(len(rows), ROWS_PER_TABLE_FRAME)
    while first > 0 and lead and _text_height((*lead, part(rows[:first])), TEXT_WIDTH) > BODY_HEIGHT:
        first -= 1
    if len(rows) - first == 1:  # no row alone on the last frame
        first -= 1
    rest = rows[first:]
    count = -(-len(rest) // ROWS_PER_TABLE_FRAME)
    size = -(-len(rest) // count) if count else 0
    parts = [part(rest[start:start + size]) for start in range(0, len(rest), size or 1)]
    if first:
        parts.insert(0, part(rows[:first]))
    # a lead too long to share a frame with two rows has one of its own (several sentences, never one alone)
    frames = [Frame(title, tuple(lead), None)] if lead and not first else []
    return frames + [Frame(title, (*(lead if k == 0 and first else ()), p), None, "table") for k, p in enumerate(parts)]


#: the height one frame holds, in text lines: a row of a derivation is as tall as the matrix in it
LINES_PER_MATRIX_FRAME = 10


def _height(row) -> float:
    """Text lines a derivation row takes: the rows of its tallest matrix, or 1; a row of fractions is taller."""
    body = row[0] + row[2]
    rows = [part.count(r"\\") + 1 for part in body.split(r"\begin{array}")[1:]]
    # a display fraction is half a line taller, a line with a sample's superscript over a layer's in it;
    # a text-size one (the loss's 1/2 or 1/3) a fifth; a power of a parenthesis a tenth
    sample = re.search(r"\(\d+\)\}", body) is not None  # a sample's index in a superscript: ^{(1)}, ^{[2](1)}
    fraction = 1.5 + 0.5 * sample if r"\frac" in body or r"\dfrac" in body else 1.2 if r"\tfrac" in body else 1
    return max(rows, default=1) * fraction + 0.1 * (r"\right)^" in body)


def _broken(blocks, limit: float) -> list:
    """The blocks, a derivation taller than ``limit`` lines broken into pieces that go on over the next frames."""
    pieces = []
    for block in blocks:
        if isinstance(block, Chain) and sum(_height(row) for row in block.rows) > limit:
            group, height = [], 0
            for row in block.rows:
                if group and height + _height(row) > limit:
                    pieces.append(Chain(tuple(group)))
                    group, height = [], 0
                group.append(row)
                height += _height(row)
            pieces.append(Chain(tuple(group)))
        else:
            pieces.append(block)
    return pieces


def _matrix_split(title: str, blocks: list) -> list[Frame]:
    """Frames of the matrix form, the full width of the slide (no diagram): whole derivations, as many as fit."""
    pieces = _broken(blocks, LINES_PER_MATRIX_FRAME)
    parts, current, lines = [], [], 0
    for block in pieces:
        # a table: its rows are a little shorter than a derivation's, plus caption and rules
        size = sum(_height(row) for row in block.rows) if isinstance(block, Chain) else 0.9 * len(block.rows) + 3
        if current and lines + size > LINES_PER_MATRIX_FRAME:
            parts.append(current)
            current, lines = [], 0
        current.append(block)
        lines += size
    if current:
        parts.append(current)
    return [Frame(title + (" (continued)" if k else ""), tuple(part)) for k, part in enumerate(parts)]


def _matrix_frames(m: MatrixContext) -> list[Frame]:
    """The matrix form on slides: each layer's products with their matrices, the loss, the deltas, the update."""
    shown = lambda blocks: [b for b in blocks if isinstance(b, (Chain, Table))]
    frames = [Frame("The weight layout", tuple(layout(m)), None)]
    L = m.spec.layers
    for l in range(1, L + 1):
        frames += _matrix_split(f"Forward pass: {m.layer_title(l).lower()}", shown(matrix_forward.layer(m, l)))
    frames += _matrix_split("The loss", shown(matrix_loss.loss_blocks(m)))
    for l in range(L, 0, -1):
        frames += _matrix_split(f"Backward pass: {m.layer_title(l).lower()}", shown(matrix_backward.layer(m, l)))
    updates = [b for l in range(L, 0, -1) for b in shown(matrix_update.update_blocks(m, l))]
    frames += _matrix_split("The update", updates)
    return frames


def _vectorised_frames(m: MatrixContext) -> list[Frame]:
    """A large network on slides: each layer's lead and tables, the loss, the deltas, the chosen derivations."""
    frames = []
    L = m.spec.layers
    for l in range(1, L + 1):
        blocks, title = matrix_forward.layer(m, l), f"Forward pass: {m.layer_title(l).lower()}"
        lead = [b for b in blocks if isinstance(b, Paragraph)][:1]
        for k, table in enumerate(b for b in blocks if isinstance(b, Table)):
            frames += _table_frames(title, table, lead if k == 0 else ())
    frames += split(Frame("The loss", _chains(forward.loss_blocks(m)), None))
    for l in range(L, 0, -1):
        blocks = matrix_backward.layer(m, l)
        paragraphs = tuple(b for b in blocks if isinstance(b, Paragraph))
        deltas_table = next(b for b in blocks if isinstance(b, Table))
        frames += _table_frames(f"Backward pass: {m.layer_title(l).lower()}", deltas_table, paragraphs[:2])
    for name, blocks in matrix_update.derivations(m):
        # the title names the derivative the frames arrive at, as mathematics
        gradient = Name(f"dE/d{name.text}", rf"\partial {m.n.loss().latex} / \partial {name.latex}")
        frames += split(_titled((gradient, " and the update of ", name), tuple(b for b in blocks if isinstance(b, Chain))))
    return frames
