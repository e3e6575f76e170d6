"""Lecture slides: they compile, have a frame per step, and every number on them is the engine's."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import replace
from fractions import Fraction
from html.parser import HTMLParser

import decks
import pytest
from randomnet import spec_text

from derive import solve
from derive.core.spec import parse
from derive.documents import circuit_diagram
from derive.documents.model import Chain, Table
from derive.documents.printing import shown
from derive.documents.slides import ROWS_PER_FRAME, TEXT_WIDTH, Deck, deck
from derive.errors import DeriveError
from derive.formats.html import slides_html
from derive.formats.latex import compile_pdf, overfull_boxes
from derive.formats.render import render

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")
MAZUR = solve("mazur")
DECK = deck(MAZUR)


def test_a_frame_per_step():
    spec = MAZUR.spec
    titles = [f.title for f in DECK.frames]
    assert titles[:2] == [spec.title, "The network"]
    units = sum(spec.sizes[1:])
    assert sum(t.startswith("Forward pass:") and "continued" not in t for t in titles) == units
    assert sum(t.startswith("Backward pass: the delta") and "continued" not in t for t in titles) == units
    assert sum(t.startswith("The gradient of") and "continued" not in t for t in titles) == spec.parameter_count
    assert all(f.steps <= ROWS_PER_FRAME for f in DECK.frames)


def test_every_gradient_on_the_slides_is_the_engines():
    tex = render("beamer/slides.tex.j2", deck=DECK)
    run = MAZUR.first
    for l in (1, 2):
        for row in run.grad_W[l]:
            for g in row:
                assert shown(g, 6).latex in tex


def test_overlays_reveal_each_row():
    tex = render("beamer/slides.tex.j2", deck=DECK)
    rows = sum(f.steps for f in DECK.frames)
    assert tex.count(r"\onslide<") == 2 * rows  # both cells of every derivation row


#: the decks compiled by the TeX tests: the presets, deeper and wider networks, a batch, a softmax, a vectorised one
DECKS = {
    "mazur": "mazur",
    "softmax-ce": "softmax-ce",
    "mlp-relu": "mlp-relu",
    "3-3-2-1 tanh/tanh/sigmoid, batch 2": spec_text(61, sizes=[3, 3, 2, 1], activations=["tanh", "tanh", "sigmoid"],
                                                    loss="mse", batch=2),
    "4-5-3 softmax": spec_text(63, sizes=[4, 5, 3], activations=["tanh", "softmax"], loss="cross_entropy", batch=1),
    "softmax/mse, batch 2": spec_text(60, depth=1, activations=["sigmoid", "softmax"], loss="mse", batch=2, out=3),
    "3-8-4 vectorised": spec_text(70, sizes=[3, 8, 4], activations=["relu", "identity"], loss="cross_entropy", batch=2),
}


@functools.cache
def _compiled(name: str) -> tuple[bytes, str]:
    """A deck as a handout (every overlay step shown, a page a frame): its PDF and TeX's log."""
    if name.startswith("circuit-"):
        return compile_pdf(render("beamer/slides.tex.j2", deck=replace(decks.DECKS[name](), handout=True)), "slides.tex")
    source = DECKS[name]
    spec = source if "\n" not in source else parse(source, "r.toml")
    return compile_pdf(render("beamer/slides.tex.j2", deck=replace(deck(solve(spec)), handout=True)), "slides.tex")


@needs_tex
@pytest.mark.parametrize("name", DECKS)
def test_nothing_runs_off_a_frame(name):
    """No derivation, table, matrix or diagram wider or taller than its frame (TeX reports every overfull box)."""
    pdf, log = _compiled(name)
    assert pdf.startswith(b"%PDF")
    assert overfull_boxes(log) == []


#: the smallest text on a projected frame at its natural size (16 cm x 9 cm); an index (a subscript, a
#: superscript, a sum's limit) is set in TeX's script sizes: 8 pt on 11 pt text, 6 pt on an index or an 8 pt label
SMALLEST, SMALLEST_INDEX = 8, 6


def _sizes(pdf: bytes, tmp_path) -> list[tuple]:
    """Every piece of text on every page: (page, text, size in pt, whether it is an index).

    An index is a piece smaller than a piece it touches (within 3 pt), as a subscript touches its base, or as
    small as an index it touches (the 1 of an exponent's h_1).
    """
    (tmp_path / "deck.pdf").write_bytes(pdf)
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-stdout", "-zoom", "1", str(tmp_path / "deck.pdf")],
                         capture_output=True, text=True, check=True).stdout
    sizes = {m["id"]: int(m["size"]) for m in re.finditer(r'<fontspec id="(?P<id>\d+)" size="(?P<size>-?\d+)"', xml)}
    pieces = []
    for number, page in enumerate(xml.split("<page ")[1:], 1):
        boxes = [(int(m[1]), int(m[2]), int(m[3]), int(m[4]), sizes[m[5]], re.sub("<[^>]+>", "", m[6]))
                 for m in re.finditer(r'<text top="(-?\d+)" left="(-?\d+)" width="(\d+)" height="(\d+)" '
                                      r'font="(\d+)">(.*?)</text>', page)]
        touching = [[k for k, (t, l, w, h, _, _) in enumerate(boxes) if k != n and l - 3 <= left + wide
                     and left - 3 <= l + w and t - 3 <= top + high and top - 3 <= t + h]
                    for n, (top, left, wide, high, _, _) in enumerate(boxes)]
        index = [any(boxes[k][4] > box[4] for k in near) for box, near in zip(boxes, touching)]
        for _ in range(3):  # an index of an index of an index
            index = [index[n] or any(index[k] and boxes[k][4] >= boxes[n][4] for k in touching[n])
                     for n in range(len(boxes))]
        pieces += [(number, box[5], box[4], small) for box, small in zip(boxes, index)]
    return pieces


@needs_tex
@pytest.mark.skipif(shutil.which("pdftohtml") is None, reason="poppler-utils reads the font sizes")
@pytest.mark.parametrize("name", ["mazur", "mlp-relu", "3-3-2-1 tanh/tanh/sigmoid, batch 2", "4-5-3 softmax",
                                  "circuit-sigmoid-neuron", "circuit-fan-out"])
def test_no_text_below_8pt(name, tmp_path):
    """Every letter on every frame, the diagram's labels included, is 8 pt or more at the frame's natural size."""
    pdf, _ = _compiled(name)
    pieces = _sizes(pdf, tmp_path)
    assert any(size == SMALLEST and not index for _, _, size, index in pieces)  # the diagram's labels are read
    small = [(page, text, size) for page, text, size, index in pieces
             if size < (SMALLEST_INDEX if index else SMALLEST)]
    assert small == []


@pytest.mark.parametrize("name", ["mazur", "softmax-ce", "3-3-2-1 tanh/tanh/sigmoid, batch 2"])
def test_diagrams_are_drawn_at_their_natural_size(name):
    """No diagram is shrunk to fit: its 8 pt labels (scriptsize on an 11 pt frame) stay 8 pt."""
    source = DECKS[name]
    tex = render("beamer/slides.tex.j2", deck=deck(solve(source if "\n" not in source else parse(source, "r.toml"))))
    assert r"\documentclass[aspectratio=169,11pt]{beamer}" in tex
    pictures = re.findall(r"\\begin\{tikzpicture\}\[scale=([\d.]+)", tex)
    assert pictures and all(float(scale) == 1.0 for scale in pictures)
    assert r"\resizebox" not in tex and r"\tiny" not in tex
    assert set(re.findall(r"font=(\\[a-z]+)", tex)) == {r"\scriptsize"}


@pytest.mark.parametrize("name", ["circuit-sigmoid-neuron", "circuit-fan-out"])
def test_circuits_are_drawn_at_their_natural_size(name):
    """No circuit is shrunk to fit: labels at \\scriptsize (8 pt), gates at \\footnotesize, never scaled; every gate
    has a frame with its picture, whose labels do not run into a gate."""
    slides = decks.DECKS[name]()
    tex = render("beamer/slides.tex.j2", deck=slides)
    assert r"\resizebox" not in tex and r"\scalebox" not in tex and "scale=" not in tex
    assert set(re.findall(r"font=(\\[a-z]+)", tex)) == {r"\scriptsize", r"\footnotesize"}
    gates = [f for f in slides.frames if f.title.startswith(("Forward: gate", "Backward: gate"))]
    assert gates and all(f.figure is not None and f.figure.projected for f in gates)
    assert all(circuit_diagram.overlaps(f.figure) == [] for f in gates)
    assert all(circuit_diagram.extent(f.figure)[0] <= TEXT_WIDTH for f in slides.frames if f.figure is not None)


@needs_tex
@pytest.mark.parametrize("name", ["mazur --symbolic then-numbers", "three-layer --symbolic", "circuit-sigmoid-neuron"])
def test_nothing_runs_off_a_frame_of_general_formulas_or_of_a_circuit(name):
    """The general derivation's long rows and tall derivations, a circuit's rows below its diagram: no overfull box."""
    _, log = compile_pdf(render("beamer/slides.tex.j2", deck=decks.DECKS[name]()), "slides.tex")
    assert overfull_boxes(log) == []


def test_softmax_frames():
    """The softmax outputs after their net inputs, the Jacobian on a frame of its own, then each unit's delta."""
    titles = [f.title for f in deck(solve("softmax-ce")).frames]
    softmax, jacobian = titles.index("Forward pass: the softmax"), titles.index("Backward pass: the softmax Jacobian")
    assert titles.index("Forward pass: o3") < softmax < titles.index("The loss") < jacobian
    assert jacobian < titles.index("Backward pass: the delta of o1")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections = self.fragments = self.maths = 0
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.sections += tag == "section"
        self.maths += tag == "math"
        self.fragments += "fragment" in (attrs.get("class") or "").split()
        for key in ("src", "href"):
            if key in attrs:
                self.links.append(attrs[key])


def test_html_slides_work_offline_with_the_same_frames():
    html = slides_html(DECK)
    parsed = _Collect()
    parsed.feed(html)
    assert parsed.sections == len(DECK.frames)
    assert parsed.fragments == sum(f.steps for f in DECK.frames)
    assert parsed.maths > 100
    assert parsed.links == []  # nothing to fetch at presentation time


@pytest.mark.parametrize("preset", ["mazur", "softmax-ce", "mlp-relu"])
def test_the_task_frame_states_loss_rate_and_data(preset):
    """After the network and its diagram, a frame says what is computed and from what."""
    solution = solve(preset)
    frames = deck(solution).frames
    task = next(f for f in frames if f.title == "The task")
    tex = render("beamer/slides.tex.j2", deck=Deck("t", "s", (task,)))
    assert rf"\eta = {shown(solution.spec.learning_rate).latex}" in tex
    loss = solution.document_names.loss().latex
    assert any(b.rows[0][0] == loss for b in task.blocks if isinstance(b, Chain))
    tables = [b for b in task.blocks if isinstance(b, Table)]
    # the inputs and targets: a table where it is small, else rows of five values (mlp-relu's ten inputs)
    assert len(tables) == (0 if solution.spec.sizes[0] > 6 else 1)
    cells = [c for row in tables[0].rows for c in row] if tables else \
        [x for b in task.blocks if isinstance(b, Chain) for row in b.rows for x in re.split(r"[(), ]+", row[2])]
    assert all(shown(v).latex in cells for rows in (solution.spec.inputs, solution.spec.targets) for row in rows
               for v in row)


def test_frame_titles_name_quantities_in_mathematics():
    tex = render("beamer/slides.tex.j2", deck=DECK)
    assert r"\begin{frame}{Forward pass: $h_{1}$}" in tex
    assert r"\begin{frame}{The gradient of $w_{5}$}" in tex
    assert "The gradient of w5" in [f.title for f in DECK.frames]  # the plain title for the HTML page and tests


NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _rounded(texts, digits: int = 3) -> set:
    """Every number in the texts, rounded as the diagram rounds it (signs dropped: a minus is typeset in many ways)."""
    return {shown(Fraction(x), digits).text for text in texts for x in NUMBER.findall(text)}


def _texts(block) -> list:
    if isinstance(block, Chain):
        return [cell for row in block.rows for cell in (row[0], row[2])]
    if isinstance(block, Table):
        return [str(c) for row in block.rows for c in row]
    return [str(part) for part in getattr(block, "parts", ())]


@pytest.mark.parametrize("source", [
    "mazur", "softmax-ce",
    spec_text(61, sizes=[3, 3, 2, 1], activations=["tanh", "tanh", "sigmoid"], loss="mse", batch=1),
])
def test_the_diagram_tells_nothing_before_it_is_derived(source):
    """Every value drawn on a step's diagram, by every overlay step, is among the numbers derived up to that row."""
    spec = source if "\n" not in source else parse(source, "r.toml")
    frames = deck(solve(spec)).frames
    derived = []
    checked = 0
    for frame in frames:
        if frame.figure is not None and frame.kind == "step":
            rows = [cell for b in frame.blocks if isinstance(b, Chain) for row in b.rows for cell in (row[0], row[2])]
            for step in range(frame.steps + 1):
                drawn = _rounded(v.lstrip("-") for v in frame.figure.values(step))
                assert drawn <= _rounded(derived + rows[:2 * step]), (frame.title, step)
                checked += 1
        derived += [text for block in frame.blocks for text in _texts(block)]
    assert checked > 20


@pytest.mark.parametrize("source", ["mazur", "softmax-ce", spec_text(61, sizes=[3, 3, 2, 1],
                                                                  activations=["tanh", "tanh", "sigmoid"], batch=1)])
def test_one_number_format_per_frame(source):
    """Every number a frame's diagram draws is printed exactly so (the same digits) by a derivation up to that frame."""
    spec = source if "\n" not in source else parse(source, "r.toml")
    printed, checked = set(), 0
    for frame in deck(solve(spec)).frames:
        printed |= {x for block in frame.blocks for text in _texts(block) for x in NUMBER.findall(text)}
        if frame.figure is not None and frame.kind == "step":
            drawn = {x for value in frame.figure.values() for x in NUMBER.findall(value)}
            assert drawn <= printed, (frame.title, drawn - printed)
            checked += len(drawn)
    assert checked > 5


@needs_tex
@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils counts the pages")
@pytest.mark.parametrize("per_page, pages", [(1, lambda n: n), (2, lambda n: -(-n // 2))])
def test_a_handout_page_per_frame(per_page, pages, tmp_path):
    """Beamer's handout mode: every frame once, with all its steps shown; two frames a sheet with --per-page 2."""
    handout = replace(DECK, handout=True, per_page=per_page)
    pdf, _ = compile_pdf(render("beamer/slides.tex.j2", deck=handout), "handout.tex")
    (tmp_path / "handout.pdf").write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(tmp_path / "handout.pdf")], capture_output=True, text=True, check=True)
    assert int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1)) == pages(len(DECK.frames))
    if per_page == 1:  # every step shown: h1's frame shows its output, which its last overlay step derives
        page = [f.title for f in DECK.frames].index("Forward pass: h1") + 1
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(tmp_path / "handout.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "out=0.59327" in text  # the diagram prints the number as the derivation beside it does


def test_the_printed_html_deck_shows_every_step():
    """The print stylesheet shows every frame, its derivation rows and its diagram's values."""
    html = slides_html(DECK)
    printed = html[html.index("@media print"):html.index("</style>")]
    assert re.search(r"\.slides section \{ display: flex;", printed)
    assert re.search(r"\.fragment, svg \[data-step\] \{ visibility: visible; \}", printed)


def test_the_title_frame_names_course_lecturer_date_and_institution():
    text = spec_text(62, sizes=[2, 2, 1], batch=1) + (
        '[document]\ncourse = "Machine Learning 1"\nauthor = "Dr. A. Lecturer"\ndate = 2026-11-30\n'
        'institution = "Faculty of Science & Engineering"\n')
    tex = render("beamer/slides.tex.j2", deck=deck(solve(parse(text, "r.toml"))))
    assert r"\author{Dr. A. Lecturer}" in tex
    assert r"\institute{Machine Learning 1\\Faculty of Science \& Engineering}" in tex
    assert r"\date{2026-11-30}" in tex


def test_a_title_entry_that_is_not_text_is_refused():
    text = spec_text(62, sizes=[2, 2, 1], batch=1) + "[document]\nauthor = 3\n"
    with pytest.raises(DeriveError, match="document.author: expected text"):
        parse(text, "r.toml")


def test_the_closing_frame_shows_the_loss_before_and_after():
    last = next(f for f in DECK.frames if f.title == "After one step")
    history = MAZUR.history
    rows = next(b for b in last.blocks if isinstance(b, Chain)).rows
    assert [row[2] for row in rows] == [shown(history[0], 6).latex, shown(history[1], 6).latex,
                                        shown(history[1] - history[0], 6).latex]
    assert last.figure.caption == "The parameters after the update"
