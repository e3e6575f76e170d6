"""The layout of the worked solutions: no heading ends a PDF page, no derivation repeats a step as it prints,
a lead-in sentence is kept with its display, and the needed room is estimated from the document model."""

from __future__ import annotations

import re
import subprocess

import pytest
from randomnet import spec_text

from derive.core.solve import solve
from derive.core.spec import parse, read
from derive.documents.model import Chain, Paragraph, Section, printed
from derive.documents.worked import build
from derive.formats import breaks, latex
from derive.formats.render import render

THREE = """title = "A 3-3-2-1 network with two samples"
[network]
sizes = [3, 3, 2, 1]
activations = ["tanh", "tanh", "sigmoid"]
loss = "half_sse"
weight_layout = "out_in"
[parameters]
W1 = [[0.1, -0.2, 0.3], [0.4, 0.1, -0.3], [-0.2, 0.2, 0.1]]
b1 = [0.1, -0.1, 0.05]
W2 = [[0.5, -0.3, 0.2], [0.2, 0.6, -0.1]]
b2 = [0.05, 0.1]
W3 = [[0.7, -0.4]]
b3 = [0.2]
[data]
inputs  = [[0.5, -0.25, 0.1], [0.2, 0.3, -0.4]]
targets = [[1], [0]]
[training]
learning_rate = 0.5
update_biases = true
steps = 1
"""

#: the networks whose documents are read: (name, spec)
NETWORKS = [("mazur", lambda: read("mazur")), ("softmax-ce", lambda: read("softmax-ce")),
            ("3-3-2-1, two samples", lambda: parse(THREE, "three.toml"))]


def chains(blocks):
    for b in blocks:
        if isinstance(b, Chain):
            yield b
        elif isinstance(b, Section):
            yield from chains(b.blocks)


def titles(blocks, top=True):
    """Every heading's plain text (a level-1 heading with its number as the PDF prints it)."""
    for k, b in enumerate(blocks, start=1):
        if isinstance(b, Section):
            if b.heading is None:
                yield f"{k} {b.title}" if top and not b.appendix else b.title
            yield from titles(b.blocks, False)


def steps(chain):
    """A chain's steps as they print: a row with a relation and its continuation rows."""
    out = []
    for lhs, rel, rhs in chain.rows:
        if out and not lhs and not rel:
            out[-1] += " " + rhs
        else:
            out.append(rhs)
    return [printed(step) for step in out]


@pytest.mark.parametrize("name, spec", NETWORKS + [(f"random {seed}", (lambda s=seed: parse(
    spec_text(s, depth=2, batch=2, steps=1), "r.toml"))) for seed in range(6)])
def test_no_derivation_repeats_a_step(name, spec):
    """tanh(z) = tanh(z): a step that prints as the one before it is never shown."""
    doc = build(solve(spec(), verify_symbolic=False))
    found = list(chains(doc.sections))
    assert found
    for chain in found:
        printed_steps = steps(chain)
        assert all(a != b for a, b in zip(printed_steps, printed_steps[1:])), (name, chain.rows)


@pytest.mark.parametrize("rows, kept", [
    ([("a", "=", r"\tanh(z)"), ("", "=", r"\tanh{\left(z \right)}"), ("", r"\approx", "0.2")], 2),
    ([("a", "=", "x + y"), ("", "", r"\quad {} + b"), ("", "=", "x + y"), ("", "", r"\quad {} + c")], 4),
    ([("a", "=", "x"), ("", "=", "{x}"), ("", "=", r"\left(x\right)")], 2),  # (x) prints otherwise
])
def test_a_step_printing_as_the_one_before_is_dropped(rows, kept):
    assert len(Chain(tuple(rows)).rows) == kept


def test_a_lead_in_keeps_its_display_and_a_heading_its_first_block():
    lead = Paragraph((("text", "The derivative of the activation:"),))
    display = Chain((("a", "=", r"\frac{1}{2}"), ("", "=", "0.5")))
    assert breaks.keep(lead, display) > breaks.lines(lead) + 2
    assert breaks.keep(Section("Unit 1", 3, (lead, display))) >= breaks.keep(lead, display) + 2
    assert breaks.keep(Section("Forward pass", 1, (lead, display))) >= breaks.keep(lead, display) + 3
    assert breaks.keep(Section("Long", 1, (Paragraph((("text", "x" * 20000),)),))) == breaks.MOST


def test_the_sample_index_shares_the_layer_superscript():
    """z^{[1](2)}_1 and x_1^{(2)}, never a superscript stacked over another."""
    tex = render("tex/solution.tex.j2", doc=build(solve(parse(THREE, "three.toml"), verify_symbolic=False)))
    assert r"z^{[1](2)}_{1}" in tex and r"x_{1}^{(2)}" in tex
    assert "}}^{(" not in tex


@pytest.mark.skipif(not latex.available(), reason="TeX Live is not installed")
@pytest.mark.parametrize("name, spec", NETWORKS)
def test_no_heading_ends_a_page(name, spec, tmp_path):
    """Read per page (pdftotext): a page's last line of text is never a section heading."""
    doc = build(solve(spec(), verify_symbolic=False))
    pdf, _ = latex.compile_pdf(render("tex/solution.tex.j2", doc=doc))
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    headings = {re.sub(r"\s+", " ", t).strip() for t in titles(doc.sections)} | {"Sample 1", "Sample 2"}
    pages = text.split("\f")
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        body = [line.strip() for line in page.splitlines() if line.strip() and not re.fullmatch(r"page \d+", line.strip())]
        if body:
            assert re.sub(r"\s+", " ", body[-1]) not in headings, f"{name}: page {number} ends with {body[-1]!r}"
