"""The notations of the documents: units, layered, matrix; the JSON names follow the spec whatever the notation.

Oracles: the JSON written without --notation (byte for byte); the engine's values
(derive.core.backprop.Pass) rounded by the printer, placed by the spec's own layout (the
spec file's matrices as written, samples as columns for out_in and rows for in_out);
the printed operands of a layer multiplied out in exact arithmetic; the spec file's
matrices for the layout sentence; LaTeX's log for overfull boxes.
"""

from __future__ import annotations

import math
import re
import shutil
import tomllib
from decimal import Decimal
from fractions import Fraction

import pytest
from randomnet import spec_text

from derive.cli import main
from derive.core import functions as fn
from derive import solve
from derive.core.spec import PRESET_DIR, parse
from derive.documents.model import Chain, Paragraph, Section, Table
from derive.core.numeric import round_decimal, to_mp
from derive.documents.printing import column, shown
from derive.documents.worked import build
from derive.errors import DeriveError
from derive.formats.latex import compile_pdf, overfull_boxes
from derive.formats.render import render
from derive.grading.check import RIGHT, check_text

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")

#: small networks of every kind the matrix form meets: both layouts, several samples, deeper networks
CASES = {
    "mazur": None,
    "mazur-torch": None,
    "out_in-batch": dict(seed=8, layout="out_in", batch=3, sizes=[3, 4, 2]),
    "in_out-batch": dict(seed=7, layout="in_out", batch=3, sizes=[3, 4, 2]),
    "in_out-deep": dict(seed=12, layout="in_out", batch=2, sizes=[3, 3, 2, 2]),
    "out_in-deep": dict(seed=5, layout="out_in", batch=2, sizes=[3, 3, 1, 4, 1]),
    "in_out-one": dict(seed=3, layout="in_out", batch=1, sizes=[2, 3, 3]),
    "softmax-ce": None,
    "ce-batch": dict(seed=21, layout="in_out", batch=2, sizes=[3, 3, 3], loss="cross_entropy",
                     activations=["tanh", "softmax"], one_hot=False),
    "bce-batch": dict(seed=22, layout="out_in", batch=2, sizes=[2, 3, 2], loss="bce",
                      activations=["relu", "sigmoid"]),
}


def spec_source(case: str) -> str:
    """The spec file's text: a preset's file, or a random network's."""
    if CASES[case] is None:
        return (PRESET_DIR / f"{case}.toml").read_text(encoding="utf-8")
    kw = dict(CASES[case])
    return spec_text(kw.pop("seed"), **kw)


def solved(case: str, notation: str | None = "matrix"):
    return solve(parse(spec_source(case), f"{case}.toml", name=case), notation=notation)


def chains(blocks):
    for b in blocks:
        if isinstance(b, Section):
            yield from chains(b.blocks)
        elif isinstance(b, Chain):
            yield b


def tables(blocks):
    for b in blocks:
        if isinstance(b, Section):
            yield from tables(b.blocks)
        elif isinstance(b, Table):
            yield b


def paragraphs(blocks):
    for b in blocks:
        if isinstance(b, Section):
            yield from paragraphs(b.blocks)
        elif isinstance(b, Paragraph):
            yield b


ARRAY = re.compile(r"\\left\(\\begin\{array\}\{r+\}(.*?)\\end\{array\}\\right\)")


def arrays(tex: str) -> list[list[list[str]]]:
    """Every matrix of a line of LaTeX, as rows of entries."""
    return [[[cell.strip().removeprefix("{").removesuffix("}") if cell.strip().startswith("{[") else cell.strip()
              for cell in row.split("&")] for row in re.split(r"\\\\(?:\[1ex\])?", body)]
            for body in ARRAY.findall(tex)]


def assert_printed(entries, values, digits=9):
    """A printed matrix is the values in one format: every entry the value rounded to the same decimals,
    with at least ``digits`` significant digits unless it is the value exactly."""
    flat = [(e, v) for row_e, row_v in zip(entries, values, strict=True) for e, v in zip(row_e, row_v, strict=True)]
    assert len(entries) == len(values)
    places = {len(e.partition(".")[2]) for e, _ in flat}
    assert len(places) == 1, entries
    (d,) = places
    for e, v in flat:
        assert Decimal(e) == round_decimal(v, d), (e, v)
        exact = abs(to_mp(Fraction(Decimal(e))) - to_mp(v)) <= abs(to_mp(v)) * to_mp(10) ** -45
        assert exact or len(e.lstrip("-").replace(".", "").lstrip("0")) >= digits, (e, v)


def _printed(entries, values) -> bool:
    try:
        assert_printed(entries, values)
    except (AssertionError, ValueError, ArithmeticError):  # another shape, or not numbers
        return False
    return True


def samples(values, layout):
    """values[s][j] as the matrix form places them: a column per sample (out_in), a row per sample (in_out)."""
    rows = [list(row) for row in values]
    return rows if layout == "in_out" else [list(col) for col in zip(*rows)]


def as_written(text: str, key: str):
    """A parameter matrix as the spec file writes it (its own layout)."""
    return tomllib.loads(text)["parameters"][key]


def expected_results(solution) -> dict:
    """The result of every chain of the matrix form, by its left-hand side: the engine's values, in layout."""
    spec, run = solution.spec, solution.first
    layout, batch = spec.weight_layout, spec.batch > 1
    text = spec_source(spec.name)
    transpose = (lambda m: [list(c) for c in zip(*m)])
    in_layout = (lambda m: [list(r) for r in m]) if layout == "out_in" else transpose
    vector = (lambda v: [[x] for x in v]) if layout == "out_in" else (lambda v: [list(v)])
    z, a = ("Z", "A") if batch else ("z", "a")
    out = {}
    for l in range(1, spec.layers + 1):
        act = fn.ACTIVATIONS[spec.activations[l - 1]]
        out[f"{z}^{{[{l}]}}"] = samples(run.net[l], layout)
        out[f"{a}^{{[{l}]}}"] = samples(run.out[l], layout)
        out[(r"\Delta" if batch else r"\delta") + f"^{{[{l}]}}"] = samples(run.delta[l], layout)
        top = r"E^{(n)}" if batch else "E"
        # a softmax layer's delta comes from its Jacobian, not from dE/da times an elementwise derivative
        if not (l == spec.layers and act.name == "identity") and not act.coupled:
            out[rf"\frac{{\partial {top}}}{{\partial {a}^{{[{l}]}}}}"] = samples(run.dE_dout[l], layout)
            out[act.derivative_latex.format(f"{z}^{{[{l}]}}")] = samples(run.dout_dnet[l], layout)
        out[rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}}}"] = in_layout(run.grad_W[l])
        out[rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}}"] = vector(run.grad_b[l])
        out[f"{{W^{{[{l}]}}}}^{{+}}"] = in_layout(run.new_weights[l])
        if spec.update_biases:
            out[f"{{b^{{[{l}]}}}}^{{+}}"] = vector(run.new_biases[l])
        # the starting parameters, from the spec file as written
        out[f"W^{{[{l}]}}"] = [[Fraction(str(x)) for x in row] for row in as_written(text, f"W{l}")]
    return out


@pytest.fixture(scope="module", params=list(CASES))
def matrix_case(request):
    solution = solved(request.param)
    return solution, build(solution)


def test_json_is_the_same_whatever_the_notation(tmp_path):
    """The JSON (names and numbers) is byte for byte what derive writes without --notation."""
    for case in ("mazur", "in_out-deep", "out_in-batch"):
        spec_file = tmp_path / f"{case}.toml"
        spec_file.write_text(spec_source(case), encoding="utf-8")
        written = {}
        for notation in (None, "units", "layered", "matrix"):
            out = tmp_path / f"{case}-{notation}"
            argv = ["solve", str(spec_file), "--format", "json", "--out", str(out)]
            assert main(argv + (["--notation", notation] if notation else [])) == 0
            written[notation] = (out / "solution.json").read_bytes()
        assert len(set(written.values())) == 1, case
    default = solved("mazur", None)
    for notation in ("units", "layered", "matrix"):
        other = solved("mazur", notation)
        assert other.json() == default.json()
        assert list(other.quantities) == list(default.quantities)
    assert "out_h1" in default.quantities and "w5_new" in default.quantities  # mazur's own scheme: units


@pytest.mark.parametrize("notation, printed, not_printed", [
    ("units", r"\mathrm{out}_{h_{1}}", r"a^{[1]}_{1}"),
    ("layered", r"a^{[1]}_{1}", r"\mathrm{out}_{h_{1}}"),
    ("matrix", r"\begin{array}", r"\mathrm{out}_{h_{1}}"),
])
def test_the_notation_changes_only_the_documents(notation, printed, not_printed):
    solution = solved("mazur", notation)
    md = solution.markdown()
    assert printed in md and not_printed not in md
    assert "out_h1" in solution.quantities and solution.notation.scheme == "units"


def test_the_spec_can_ask_for_the_matrix_notation():
    """network.notation = "matrix": matrix documents, and the JSON names 'auto' gives (the blog's for mazur)."""
    text = (PRESET_DIR / "mazur.toml").read_text().replace(
        'weight_layout = "out_in"', 'weight_layout = "out_in"\nnotation = "matrix"')
    solution = solve(parse(text, "matrix.toml"))
    assert solution.matrix_form and solution.notation.scheme == "units"
    assert solution.json() == solved("mazur", None).json()
    assert solution.markdown() == solved("mazur", "matrix").markdown()


def test_in_notation_renders_the_same_solution_in_another_notation():
    assert solved("mazur", None).in_notation("matrix").markdown() == solved("mazur", "matrix").markdown()


@pytest.mark.parametrize("notation, error", [("blog", "unknown notation 'blog'"), ("Matrix", "did you mean 'matrix'")])
def test_an_unknown_notation_is_bad_input(notation, error):
    with pytest.raises(DeriveError, match=error):
        solve("mazur", notation=notation)


@needs_tex
@pytest.mark.parametrize("case", ["mazur", "in_out-batch"])
def test_matrix_slides_compile_and_show_the_matrices(case):
    """derive slides --notation matrix: the products with their matrices, nothing off the frame."""
    from derive.documents.slides import deck

    slides = deck(solved(case, "matrix"))
    titles = [frame.title for frame in slides.frames]
    assert "The weight layout" in titles and any(t.startswith("Backward pass") for t in titles)
    tex = render("beamer/slides.tex.j2", deck=slides)
    assert r"\begin{array}" in tex
    _, log = compile_pdf(tex, "slides.tex")
    assert overfull_boxes(log) == []


@pytest.mark.parametrize("spec, answers, canonical", [
    # mazur's own names are the blog's; the layered names are read too
    ("mazur", 'out_o1 = 0.7514\na1_1 = 0.5933\n"dE/dW2_1_1" = 0.0822\nW2_1_1_new = 0.3589\n',
     ["out_o1", "out_h1", "dE_total/dw5", "w5_new"]),
    # a spec that asks for the layered names: the blog's are read too
    ("layered", 'a2_1 = 0.7514\nout_h1 = 0.5933\n"dE/dw5" = 0.0822\n"w5+" = 0.3589\n',
     ["a2_1", "a1_1", "dE/dW2_1_1", "W2_1_1_new"]),
])
def test_check_reads_either_scheme(spec, answers, canonical, tmp_path):
    if spec == "layered":
        text = spec_source("mazur").replace('weight_layout = "out_in"', 'weight_layout = "out_in"\nnotation = "layered"')
        (tmp_path / "layered.toml").write_text(text, encoding="utf-8")
        spec = str(tmp_path / "layered.toml")
    report = check_text(spec, answers)
    assert {r.name: r.verdict for r in report.results} == dict.fromkeys(canonical, RIGHT)


def test_every_printed_result_is_the_engines_value(matrix_case):
    """The last line of each chain: the engine's values, rounded, in the spec's layout; = only when all exact."""
    solution, doc = matrix_case
    expected = expected_results(solution)
    found = set()
    for chain in chains(doc.sections):
        lhs = chain.rows[0][0]
        if lhs not in expected:
            continue
        if lhs.startswith("W^{"):  # the starting parameters: W and b on one line, or on two
            matrices = arrays(chain.rows[0][2])
        else:
            matrices = arrays(chain.rows[-1][2])
        assert matrices, (lhs, chain.rows[-1])
        values = expected[lhs]
        assert_printed(matrices[0], values)
        if not lhs.startswith("W^{"):
            exact = not any(p.rounded for p in column(v for row in values for v in row))
            assert chain.rows[-1][1] == ("=" if exact else r"\approx"), lhs
        found.add(lhs)
    # a result too wide for a line is a table instead (its rows and columns as the matrix's)
    body = [[list(row[1:]) for row in t.rows] for t in tables(doc.sections)]
    for lhs in set(expected) - found:
        values = expected[lhs]
        turned = [list(col) for col in zip(*values)]  # a bias's table has a row per unit, whatever the layout
        assert any(_printed(entries, values) or _printed(entries, turned) for entries in body), lhs
    loss = [c for c in chains(doc.sections) if c.rows[0][0] == solution.document_names.loss().latex][-1]
    assert loss.rows[-1][1:] == (shown(solution.first.loss).relation, shown(solution.first.loss).latex)


@pytest.mark.parametrize("case", ["softmax-ce", "ce-batch", "bce-batch"])
def test_a_cross_entropy_loss_shows_its_logarithms_and_terms(case):
    """ln a (and ln(1 - a) for bce) entry by entry, then terms whose printed numbers add up to the loss."""
    solution = solved(case)
    spec, run = solution.spec, solution.first
    L = spec.layers
    logs = {r"\ln ": [[math.log(float(o)) for o in row] for row in run.out[L]],
            r"\ln(1 - ": [[math.log(1 - float(o)) for o in row] for row in run.out[L]]}
    found = {}
    for chain in chains(build(solution).sections):
        for prefix, values in logs.items():
            if chain.rows[0][0].startswith(prefix):
                printed = [float(x) for row in arrays(chain.rows[-1][2])[0] for x in row]
                expected = [x for row in samples(values, spec.weight_layout) for x in row]
                assert printed == pytest.approx(expected, rel=1e-8), prefix
                found[prefix] = True
    assert set(found) == ({r"\ln ", r"\ln(1 - "} if spec.loss == "bce" else {r"\ln "})
    loss = [c for c in chains(build(solution).sections) if c.rows[0][0] == solution.document_names.loss().latex][-1]
    middle = " ".join(row[2] for row in loss.rows[1:-1])
    pairs = re.findall(r"([-\d.]+) \\cdot \\left\((-[\d.]+)\\right\)", middle)
    assert len(pairs) == spec.batch * spec.sizes[-1] * (2 if spec.loss == "bce" else 1)
    scale = Fraction(1, spec.batch) * (Fraction(1, spec.sizes[-1]) if spec.loss == "bce" else 1)
    total = -float(scale) * sum(float(t) * float(v) for t, v in pairs)
    assert total == pytest.approx(float(run.loss), rel=1e-7)


def test_the_product_of_a_layer_multiplied_out_gives_its_net_input(matrix_case):
    """z of layer 1 from the printed W, inputs and b (exact decimals here), in exact arithmetic."""
    solution, doc = matrix_case
    spec = solution.spec
    z = ("Z" if spec.batch > 1 else "z") + "^{[1]}"
    chain = next(c for c in chains(doc.sections) if c.rows[0][0] == z)
    steps = []  # a step of the chain is a row with its relation and the rows continuing it
    for _, relation, rhs in chain.rows:
        if relation:
            steps.append(rhs)
        else:
            steps[-1] += " " + rhs
    step = next(rhs for rhs in steps if len(arrays(rhs)) == 3)
    first, second, bias = ([[Fraction(Decimal(e)) for e in row] for row in m] for m in arrays(step))
    product = [[sum(r[k] * c for k, c in enumerate(col)) for col in zip(*second)] for r in first]
    if spec.weight_layout == "out_in":  # W X + b: b a column, added to every column
        z_values = [[p + bias[j][0] for p in row] for j, row in enumerate(product)]
        operands = (first, second)
    else:  # X W + b: b a row, added to every row
        z_values = [[p + bias[0][j] for j, p in enumerate(row)] for row in product]
        operands = (second, first)
    text = spec_source(spec.name)
    assert operands[0] == [[Fraction(str(x)) for x in row] for row in as_written(text, "W1")]
    assert samples(operands[1], spec.weight_layout) == [[Fraction(str(x)) for x in row]
                                                        for row in tomllib.loads(text)["data"]["inputs"]]
    printed = arrays(chain.rows[-1][2])[0]
    assert_printed(printed, z_values)
    engine = samples(solution.first.net[1], spec.weight_layout)  # the printed operands are the exact ones
    assert [[shown(v, 30).latex for v in row] for row in z_values] == [[shown(v, 30).latex for v in row] for row in engine]


LAYOUT = re.compile(r"W\^\{\[1\]\} is (\d+) \\times (\d+)")
EXAMPLE = re.compile(r"W\^\{\[1\]\}_\{(\d+),?(\d+)\} = (-?[\d.]+)")


@pytest.mark.parametrize("case", ["mazur", "in_out-batch", "out_in-deep", "in_out-one"])
def test_the_layout_sentence_states_the_specs_layout(case):
    solution = solved(case)
    spec, text = solution.spec, spec_source(case)
    W1 = as_written(text, "W1")
    lead = next(p for p in paragraphs(build(solution).sections)
                if p.parts and p.parts[0][1].startswith("The weight matrix"))
    words = "".join(content for kind, content in lead.parts)  # the mathematics read as its LaTeX
    maths = [content for kind, content in lead.parts if kind == "math"]
    # out x in: one row per unit of layer l, the column-vector product W a + b; in x out: the row-vector a W + b
    assert ("has one row per unit of layer l and" in words.replace("$", "")) == (spec.weight_layout == "out_in")
    assert spec.weight_layout not in words  # the layout in words, never its key
    rows, cols = map(int, LAYOUT.search(words).groups())
    assert (rows, cols) == (len(W1), len(W1[0]))  # the shape of the spec's W1 as written
    assert ("one row per unit of layer l and one column per unit of layer l-1" in words) == (spec.weight_layout == "out_in")
    # the worked example of one entry: where it stands in the spec's matrix and what it connects
    r, c, value = EXAMPLE.search(next(m for m in maths if EXAMPLE.search(m))).groups()
    position = re.search(r"\(row (\d+), column (\d+) of W\^\{\[1\]\}\) is the weight from input", words).groups()
    unit = int(re.search(r"to unit (\d+) of layer 1", words).group(1))
    source = int(re.search(r"x_\{(\d+)\}", next(m for m in maths if m.startswith("x_"))).group(1))
    assert position == (r, c)  # the name's indices are the row and column of the spec's matrix
    row, col = map(int, position)
    assert Decimal(str(W1[row - 1][col - 1])) == Decimal(value)
    weight = solution.first.weights[1][unit - 1][source - 1]  # the engine computes net_j = sum_i W_ji x_i
    assert shown(weight, 30).latex == value
    formula = next(p for p in paragraphs(build(solution).sections)
                   if p.parts and p.parts[0][1].startswith("The network computes"))
    product = r"W^{[l]} a^{[l-1]}" if spec.weight_layout == "out_in" else r"a^{[l-1]}\, W^{[l]}"
    assert product in formula.parts[1][1]


@needs_tex
@pytest.mark.parametrize("case", ["mazur", "mazur-torch", "in_out-batch", "out_in-deep", "ce-batch", "bce-batch"])
def test_the_matrix_form_compiles_without_overfull_boxes(case):
    tex = render("tex/solution.tex.j2", doc=build(solved(case)))
    pdf, log = compile_pdf(tex)
    assert pdf.startswith(b"%PDF")
    assert overfull_boxes(log) == []


def test_matrices_too_big_to_typeset_are_tables():
    """A wide layer keeps its tables in the matrix form; what fits is still typeset."""
    md = solve("mlp-relu", notation="matrix").markdown()
    assert "*Starting weights of layer 1, columns 1 to 5*" in md  # 10 x 20: a table
    assert r"\delta^{[2]} &= \frac{\partial E}{\partial a^{[2]}}" in md  # one output: a 1-entry vector
    assert "The weight matrix $W^{[l]}$ has one row per unit of layer $l-1$" in md and "in\\_out" not in md


@pytest.mark.parametrize("name", ["mlp-relu"])
def test_a_large_network_keeps_its_tables_without_the_matrix_notation(name):
    md = solve(name).markdown()
    # its only typeset matrices are the handout's summaries, a corner with ellipses (the tables: Appendix A)
    arrays = re.findall(r"\\begin\{array\}.*?\\end\{array\}", md)
    assert arrays and all(r"\cdots" in a or r"\vdots" in a for a in arrays)
    assert "*The deltas of the hidden layer*" in md
