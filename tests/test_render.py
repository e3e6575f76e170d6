"""The documents: they compile cleanly, escape what a spec says, and print the engine's numbers."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal

import pytest
from randomnet import spec_text

from derive import solve
from derive.core.spec import parse, preset_names
from derive.core.numeric import round_decimal
from derive.documents.options import Options
from derive.documents.printing import shown
from derive.documents.worked import build
from derive.formats.latex import compile_pdf, first_error, overfull_boxes
from derive.formats.render import escape_latex, escape_markdown, render

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")

HOSTILE = r"50% & $x$ #1 \input{/etc/passwd} \write18{touch /tmp/pwned} ~^_{} <b>*bold*</b> [link](http://x) ../../etc"


def documents(solution, digits=9):
    doc = build(solution, Options(digits=digits))
    return doc, render("md/solution.md.j2", doc=doc), render("tex/solution.tex.j2", doc=doc)


@needs_tex
@pytest.mark.parametrize("name", preset_names())
def test_presets_compile_without_overfull_boxes(name):
    _, _, tex = documents(solve(name))
    pdf, log = compile_pdf(tex)
    assert pdf.startswith(b"%PDF")
    assert overfull_boxes(log) == []


@needs_tex
@pytest.mark.parametrize("seed", [0, 5, 12, 17])
def test_random_networks_compile_without_overfull_boxes(seed):
    solution = solve(parse(spec_text(seed), "r.toml"))
    _, _, tex = documents(solution)
    _, log = compile_pdf(tex)
    assert overfull_boxes(log) == []


@needs_tex
@pytest.mark.parametrize("activations, loss, batch", [
    (["sigmoid", "softmax"], "mse", 2),
    (["tanh", "relu", "identity"], "cross_entropy", 2),
    (["leaky_relu", "softmax"], "half_sse", 1),
])
def test_softmax_networks_compile_without_overfull_boxes(activations, loss, batch):
    """The Jacobian, its matrix and the sums over every output fit the page, also with samples."""
    text = spec_text(60, depth=len(activations) - 1, activations=activations, loss=loss, batch=batch, out=3)
    _, md, tex = documents(solve(parse(text, "r.toml")))
    assert r"\begin{pmatrix}" in tex and "softmax" in md
    _, log = compile_pdf(tex)
    assert overfull_boxes(log) == []


@needs_tex
def test_hostile_title_prints_as_text(tmp_path):
    text = spec_text(1).replace('title = "random network 1"', 'title = """' + HOSTILE.replace("\\", "\\\\") + '"""')
    solution = solve(parse(text, "hostile.toml"))
    assert solution.spec.title == HOSTILE
    _, md, tex = documents(solution)
    assert r"\input{/etc" not in tex and r"\write18{" not in tex
    pdf, log = compile_pdf(tex)
    assert "/etc/passwd" not in log.split("(./solution.tex")[0]  # nothing was read before our file
    import subprocess

    (tmp_path / "s.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True).stdout
    assert "50% & $x$ #1 \\input{/etc/passwd}" in text.replace("\n", " ")
    assert "<b>" not in md and "\\*bold\\*" in md


@pytest.mark.parametrize("text, latex", [
    ("50% & $x$", r"50\% \& \$x\$"),
    (r"\input{a}", r"\textbackslash{}input\{a\}"),
    ("a_b^c~", r"a\_b\textasciicircum{}c\textasciitilde{}"),
])
def test_escape_latex(text, latex):
    assert escape_latex(text) == latex


@pytest.mark.parametrize("text, md", [
    ("*bold* _x_", r"\*bold\* \_x\_"),
    ("<script>", r"\<script\>"),
    ("# not a heading", r"\# not a heading"),
    ("$x$ | y", r"\$x\$ \| y"),
])
def test_escape_markdown(text, md):
    assert escape_markdown(text) == md


@pytest.mark.parametrize("name", preset_names())
def test_every_gradient_and_update_is_printed_as_the_engine_computed_it(name):
    solution = solve(name)
    _, md, tex = documents(solution)
    run = solution.first
    md_numbers, tex_numbers = printed_numbers(md), printed_numbers(tex)
    for l in range(1, solution.spec.layers + 1):
        for row, new_row in zip(run.grad_W[l], run.new_weights[l]):
            for g, w in zip(row, new_row):
                assert is_printed(g, tex_numbers) and is_printed(g, md_numbers), shown(g).latex
                assert is_printed(w, tex_numbers), shown(w).latex
    assert shown(run.loss).latex in md


NUMBER = re.compile(r"[-\u2212]?\d+\.\d+")


def printed_numbers(text: str) -> dict:
    """Every decimal number of a document (a minus as - or U+2212), by its number of decimals."""
    found = {}
    for token in NUMBER.findall(text):
        d = Decimal(token.replace("\u2212", "-"))
        found.setdefault(-d.as_tuple().exponent, set()).add(d)
    return found


def is_printed(value, numbers: dict, digits: int = 9) -> bool:
    """The value appears rounded to some number of decimals, with at least ``digits`` significant digits
    (a table column may show more than the digits option asks for, never fewer)."""
    for places, printed in numbers.items():
        r = round_decimal(value, places)
        if r in printed and (len(format(abs(r), "f").replace(".", "").lstrip("0")) >= digits or r == value):
            return True
    return False


@pytest.mark.parametrize("digits", [3, 6, 12])
def test_digits_sets_the_printed_precision(digits):
    _, md, _ = documents(solve("mazur"), digits)
    assert shown(solve("mazur").first.out[2][0][0], digits).latex in md
    md = re.sub(r"## \d+\. Notes\n.*?(?=\n## )", "", md, flags=re.S)  # the notes quote the blog's figures
    # outside the tables (where a column's shared decimals may show more), no number has more digits
    prose = "\n".join(line for line in md.splitlines() if not line.startswith("|"))
    longest = max(len(re.sub(r"\D", "", m).lstrip("0")) for m in re.findall(r"-?\d+\.\d+", prose))
    assert longest <= digits


def test_markdown_math_blocks_have_no_blank_lines():
    """GitHub ends a $$ block at a blank line."""
    _, md, _ = documents(solve("mlp-relu"))
    for block in re.findall(r"\$\$(.*?)\$\$", md, re.DOTALL):
        assert "\n\n" not in block


def test_large_network_uses_the_vectorised_form():
    doc, md, _ = documents(solve("mlp-relu"))
    titles = [s.title for s in doc.sections]
    assert "Selected derivations in full" in titles
    assert "[z^{[1]} > 0]" in md  # the ReLU mask written on the pre-activation


def test_first_error_names_the_line():
    log = "This is pdfTeX\n! Undefined control sequence.\nl.42 \\foo\n"
    assert first_error(log, "solution.tex") == "LaTeX error at line 42 of solution.tex: Undefined control sequence."


@needs_tex
def test_a_latex_failure_is_reported_with_its_line():
    from derive.formats.latex import LatexFailure

    with pytest.raises(LatexFailure, match=r"line 3 of solution.tex: Undefined control sequence"):
        compile_pdf("\\documentclass{article}\n\\begin{document}\n\\nosuchcommand\n\\end{document}\n")


TANH = """title = "tanh, negative net inputs"
[network]
sizes = [2, 3, 2]
activations = ["tanh", "sigmoid"]
loss = "bce"
weight_layout = "in_out"
[parameters]
W1 = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]
b1 = [0.1, 0.0, -0.1]
W2 = [[0.2, -0.3], [0.5, 0.1], [-0.4, 0.6]]
b2 = [0.05, -0.05]
[data]
inputs = [[0.5, -1.0], [1.5, 0.25]]
targets = [[1, 0], [0, 1]]
[training]
learning_rate = 0.5
"""


def _markdown(source: str, notation=None) -> str:
    spec = source if "\n" not in source else parse(source, "tanh.toml")
    return solve(spec, notation=notation).markdown()


@pytest.mark.parametrize("source, notation, printed, not_printed", [
    # a hidden unit's derivative adds the values of its paths, as the blog does (0.0553994247 - 0.0190491183)
    ("mazur", None, r"&= 0.0553994247 - 0.0190491183 \\", r"0.138498562 \cdot 0.4 + "),
    # the softmax delta: the cancellation, the targets' sum, the Jacobian's numbers
    ("softmax-ce", None, r"\delta_{o_{1}} &= - t_{o_{1}} \left(1 - \mathrm{out}_{o_{1}}\right) + t_{o_{2}} "
                         r"\mathrm{out}_{o_{1}} + t_{o_{3}} \mathrm{out}_{o_{1}}", "SymPy expands"),
    ("softmax-ce", None, r"\mathrm{out}_{o_{1}} \left(t_{o_{1}} + t_{o_{2}} + t_{o_{3}}\right)", r"\delta_{kj}"),
    # a path below a softmax is not said to equal itself
    ("softmax-ce", None, r"\delta_{o_{1}} \cdot \frac{\partial \mathrm{net}_{o_{1}}}{\partial \mathrm{out}_{h_{1}}} "
                         r"&= \delta_{o_{1}} w_{5}", r"\delta_{o_{1}} w_{5} &= \delta_{o_{1}} \cdot"),
    ("softmax-ce", None, "#### Unit $o_{1}$", "cross_entropy loss"),
    ("mazur", "matrix", r"## The parameter $W^{[2]}_{11}$", "The parameter W2 1 1"),
    # the matrix form: squares of vectors entry by entry, a negative argument in one pair of parentheses
    (TANH, "matrix", r"\tanh'(Z^{[1]}) &= 1 - A^{[1]} \odot A^{[1]}", r"\tanh{\left(\left(-"),
    (TANH, "matrix", r"\tanh{\left(-0.25 \right)}", "first source document"),
    # bce averages over K = 2 outputs: its delta is the error halved, and says so
    (TANH, None, "the error divided by the number of outputs (the loss is their mean, $K = 2$)", "error itself"),
])
def test_the_documents_write_it_as_a_lecturer_would(source, notation, printed, not_printed):
    md = _markdown(source, notation)
    assert printed in md
    assert not_printed not in md
