"""A large network's worked solution as a lecture handout: the text summarises each big matrix (its shape, a
corner of entries with ellipses, its range), the appendix "All numbers" prints every entry; small networks
keep every table where it stands."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from test_page_layout import THREE

from derive.core.solve import solve
from derive.core.spec import parse, read
from derive.documents.handout import TABLES_APPENDIX, TABLES_TITLE
from derive.documents.matrix.tables import APPENDIX_ENTRIES, BODY_ENTRIES
from derive.documents.model import Chain, Section, Table
from derive.documents.options import Options
from derive.documents.worked import build, context
from derive.formats.latex import compile_pdf, overfull_boxes
from derive.formats.render import render

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import specs  # noqa: E402


def tables(blocks):
    for b in blocks:
        if isinstance(b, Table):
            yield b
        elif isinstance(b, Section):
            yield from tables(b.blocks)


def entries(table: Table) -> int:
    """The numbers a table holds: every column but the first, which labels the rows."""
    return len(table.rows) * (len(table.header) - 1)


def body_and_appendix(doc):
    body = [s for s in doc.sections if not s.appendix]
    appendix = [s for s in doc.sections if s.title == TABLES_TITLE]
    return body, appendix


@pytest.fixture(scope="module")
def mlp():
    solution = solve("mlp-relu")
    return solution, build(solution)


def test_no_body_table_holds_more_than_the_threshold(mlp):
    _, doc = mlp
    body, _ = body_and_appendix(doc)
    found = list(tables(body))
    assert found, "the inputs stay in a table"
    for table in found:
        assert entries(table) <= BODY_ENTRIES, table.caption
        assert len(table.rows) < 20, table.caption


def _full(caption: str) -> str:
    return re.sub(r", (columns \d+ to \d+|part \d+ of \d+)$", "", caption)


def _expected(solution) -> dict:
    """(caption -> the printed values) of every matrix of mlp-relu that the text summarises.

    A matrix is printed in one format (the same decimals throughout), a unit table column by column.
    """
    run, sizes = solution.first, solution.spec.sizes
    ctx = context(solution)
    flat = lambda matrix: ctx.column(v for row in matrix for v in row)
    out = {}
    for l in (1, 2):
        for caption, values in ((f"Starting weights of layer {l}", run.weights[l]),
                                (f"Gradient with respect to the weights of layer {l}", run.grad_W[l]),
                                (f"Weights of layer {l} after the update", run.new_weights[l])):
            assert len(flat(values)) == sizes[l - 1] * sizes[l]
            out[caption] = flat(values)
    for caption, values in (("Starting biases of layer 1", run.biases[1]), ("Gradient with respect to the biases of layer 1", run.grad_b[1]),
                            ("Biases of layer 1 after the update", run.new_biases[1])):
        out[caption] = ctx.column(values)
    out["Net inputs and outputs of the hidden layer"] = flat(run.net[1]) + flat(run.out[1])
    out["The deltas of the hidden layer"] = flat(run.dE_dout[1]) + flat(run.dout_dnet[1]) + flat(run.delta[1])
    return out


def test_the_appendix_holds_every_entry_of_every_summarised_matrix(mlp):
    solution, doc = mlp
    _, appendix = body_and_appendix(doc)
    assert len(appendix) == 1 and appendix[0].appendix
    got: dict[str, list] = {}
    for table in tables(appendix):
        got.setdefault(_full(table.caption), []).extend(c for row in table.rows for c in row[1:])
    expected = _expected(solution)
    assert set(got) == set(expected)
    for caption, values in expected.items():
        assert len(got[caption]) == len(values), caption  # 200 for W1: 10 x 20
        assert sorted(got[caption]) == sorted(values), caption


def test_each_summary_shows_a_corner_and_says_where_the_table_is(mlp):
    solution, doc = mlp
    md = render("md/solution.md.j2", doc=doc)
    body = md.split(f"## {TABLES_APPENDIX}. {TABLES_TITLE}")[0]
    W1 = context(solution).grid(solution.first.weights[1])  # 20 x 10 (out x in); the spec writes it 10 x 20
    corner = next(c for c in (ch for s in doc.sections for ch in _chains(s)) if c.rows[0][0] == "W^{[1]}")
    latex = corner.rows[0][2]
    for needed in (W1[0][0], W1[19][9], r"\cdots", r"\vdots", r"\ddots"):
        assert needed in latex
    assert W1[10][5] not in latex  # a middle entry is left out
    assert f"All 200 entries are in the table \u201cStarting weights of layer 1\u201d of {TABLES_APPENDIX}." in body
    assert f"## {TABLES_APPENDIX}. {TABLES_TITLE}" in md and "## Appendix B. How these numbers were checked" in md
    # the Markdown body holds no table of more numbers than the threshold
    for block in re.findall(r"(?:^\|.*\n)+", body, re.M):
        rows = [r for r in block.strip().split("\n")[2:]]
        assert len(rows) * (block.split("\n")[0].count("|") - 2) <= BODY_ENTRIES
    tex = render("tex/solution.tex.j2", doc=doc)
    assert tex.index(r"\appendix") < tex.index(r"\section{All numbers}") < tex.index(
        r"\section{How these numbers were checked}")


def _chains(section):
    for b in section.blocks:
        if isinstance(b, Chain):
            yield b
        elif isinstance(b, Section):
            yield from _chains(b)


#: small networks: every table stays where it stands, no appendix of tables
SMALL = [("mazur", lambda: read("mazur"), None), ("softmax-ce", lambda: read("softmax-ce"), None),
         ("mazur in matrix notation", lambda: read("mazur"), "matrix"),
         ("3-3-2-1, two samples", lambda: parse(THREE, "three.toml"), None),
         ("3-3-2-1 in matrix notation", lambda: parse(THREE, "three.toml"), "matrix")]


@pytest.mark.parametrize("name, spec, notation", SMALL, ids=[s[0] for s in SMALL])
def test_small_networks_keep_their_tables(name, spec, notation):
    solution = solve(spec(), notation=notation) if notation else solve(spec())
    doc = build(solution, Options())
    assert TABLES_TITLE not in [s.title for s in doc.sections]
    assert all(t.summary is None for t in tables(doc.sections))
    assert "Appendix A. How these numbers were checked" in render("md/solution.md.j2", doc=doc)


def test_784_32_10_reads_as_a_handout():
    solution = solve(parse(specs.large_toml(), "784-32-10.toml"))
    doc = build(solution)
    body, appendix = body_and_appendix(doc)
    assert all(entries(t) <= BODY_ENTRIES for t in tables(body))
    assert all(entries(t) <= APPENDIX_ENTRIES for t in tables(appendix))
    md = render("md/solution.md.j2", doc=doc)
    assert "A $32 \\times 784$ matrix" in md and "These 25088 numbers are too many to print in full." in md
    assert "All 320 entries are in the table \u201cStarting weights of layer 2\u201d" in md
    assert r"W^{[1]}_{1,784} x_{784}" in md and md.count(r"\cdots") > 10  # a 784-term sum shows its ends
    assert len(md) < 200_000
    if shutil.which("latexmk"):  # nothing runs off the page: the corners, the 784-term sums, the 10 squared errors
        _, log = compile_pdf(render("tex/solution.tex.j2", doc=doc), "solution.tex")
        assert overfull_boxes(log) == []
