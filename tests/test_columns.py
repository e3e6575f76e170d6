"""One number format per table column: the same decimals down a column (and in a matrix), a true minus in Markdown."""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest
from randomnet import spec_text

from derive import solve
from derive.core.spec import parse, preset_names
from derive.documents.options import Options
from derive.documents.printing import column, plain_number
from derive.documents.worked import build
from derive.formats.render import render

# (values, digits, the LaTeX of each entry): the column takes the most decimals any entry needs
COLUMNS = [
    ([F("0.15"), F("0.2559"), F("-0.93")], 9, ["0.1500", "0.2559", "-0.9300"]),  # exact short inputs padded
    ([F(1, 3), F("0.15"), 0], 9, ["0.333333333", "0.150000000", "0.000000000"]),  # nine digits of 1/3 set it
    ([F(1, 3), F("0.15")], 3, ["0.333", "0.150"]),
    ([F(2), F(-3)], 9, ["2", "-3"]),
    ([F("0.9999999999999")], 9, ["1.00000000"]),  # rounds up to nine significant digits, zeros kept
    ([F(-1, 300), F("0.5")], 4, ["-0.003333", "0.500000"]),  # the small entry's four digits set the decimals
    ([F("0.5"), F(1, 10**9)], 9, [r"5 \times 10^{-1}", r"1 \times 10^{-9}"]),  # a tiny entry: scientific
    ([F("0.5"), F(1, 3 * 10**10), 0], 3,
     [r"5.00 \times 10^{-1\phantom{0}}", r"3.33 \times 10^{-11}", r"0.00\phantom{{} \times 10^{000}}"]),
    ([F(7, 3) * 10**12, F(1)], 3, [r"2.33 \times 10^{12}", r"1.00 \times 10^{0\phantom{0}}"]),  # a huge entry
]


@pytest.mark.parametrize("values, digits, latex", COLUMNS)
def test_a_column_has_one_format(values, digits, latex):
    assert [s.latex for s in column(values, digits)] == latex


@pytest.mark.parametrize("values, rounded", [
    ([F("0.15"), F("0.2559")], [False, False]),
    ([F(1, 3), F("0.15")], [True, False]),
])
def test_a_column_says_which_entries_it_rounded(values, rounded):
    assert [s.rounded for s in column(values)] == rounded


@pytest.mark.parametrize("latex, text", [
    ("-0.9300", "\u22120.9300"),
    ("12", "12"),
    (r"-2.33 \times 10^{12}", "\u22122.33 × 10¹²"),
    (r"5.00 \times 10^{-1\phantom{0}}", "5.00 × 10⁻¹"),
    (r"0.00\phantom{{} \times 10^{000}}", "0.00"),
    (r"w_{1}", None),
    (r"0.6\ \text{(kept)}", None),
    (r"1 + \sin(\pi/4)", None),
])
def test_a_number_in_markdown_is_text_with_a_true_minus(latex, text):
    assert plain_number(latex) == text


# -- the documents -------------------------------------------------------------------------------
MD_NUMBER = re.compile(r"\u2212?\d+(?:\.\d+)?(?: × 10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?")
TEX_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?: \\times 10\^\{-?\d+(?:\\phantom\{0*\})?\}|\\phantom\{.*\})?")


def decimals(text: str) -> int:
    """The decimals of a number (of its mantissa in scientific form)."""
    return len(re.match(r"[-\u2212]?\d+(?:\.(\d+))?", text)[1] or "")


def markdown_tables(md: str) -> list[list[list[str]]]:
    """Every table of a Markdown document as rows of cells, header and rule left out."""
    tables, current = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif current:
            tables.append(current[2:])
            current = []
    return tables


TABULAR = re.compile(r"\\midrule\n(?:\\endhead\n)?(.*?)\\bottomrule", re.S)
ARRAY = re.compile(r"\\begin\{array\}\{r+\}(.*?)\\end\{array\}")


def latex_tables(tex: str) -> list[list[list[str]]]:
    """Every table of a LaTeX document as rows of cells (inside $...$ where they are mathematics)."""
    return [[[c.strip().removeprefix("$").removesuffix("$") for c in row.split("&")]
             for row in body.split("\\\\") if row.strip()] for body in TABULAR.findall(tex)]


def latex_matrices(tex: str) -> list[list[str]]:
    """The entries of every matrix of numbers (a matrix with anything else in it is left out)."""
    found = []
    for body in ARRAY.findall(tex):
        entries = [e.strip() for row in re.split(r"\\\\(?:\[\dex\])?", body) for e in row.split("&")]
        if all(TEX_NUMBER.fullmatch(e) for e in entries):
            found.append(entries)
    return found


def columns_of(table):
    return [[row[k] for row in table if k < len(row)] for k in range(max(len(row) for row in table))]


def one_format(cells, pattern) -> bool:
    """True when the number cells of a column all have the same decimals."""
    found = {decimals(c) for c in cells if pattern.fullmatch(c)}
    return len(found) <= 1


def documents():
    specs = [(name, None) for name in preset_names()] + [("mazur", "matrix"), ("mlp-relu", "matrix")]
    for name, notation in specs:
        yield f"{name}-{notation or 'default'}", solve(name, notation=notation)
    for seed in (3, 11):
        yield f"random-{seed}", solve(parse(spec_text(seed, batch=2), "r.toml"))


CASES = list(documents())


@pytest.fixture(scope="module", params=CASES, ids=[name for name, _ in CASES])
def rendered(request):
    doc = build(request.param[1], Options())
    return render("md/solution.md.j2", doc=doc), render("tex/solution.tex.j2", doc=doc)


def test_every_markdown_table_column_has_one_format_and_true_minus_signs(rendered):
    md, _ = rendered
    tables = markdown_tables(md)
    assert tables
    numbers = 0
    for table in tables:
        for cells in columns_of(table):
            assert one_format(cells, MD_NUMBER), cells
            numbers += sum(bool(MD_NUMBER.fullmatch(c)) for c in cells)
        for cell in (c for row in table for c in row):
            outside = re.sub(r"\$[^$]*\$", "", cell)
            assert not re.search(r"-\s*\d", outside), cell  # a hyphen where a minus belongs
            assert not re.fullmatch(r"\$-?\d+(\.\d+)?\$", cell), cell  # a number left as LaTeX
    assert numbers > 0


def test_every_latex_table_column_and_matrix_has_one_format(rendered):
    _, tex = rendered
    tables = latex_tables(tex)
    assert tables
    for table in tables:
        for cells in columns_of(table):
            assert one_format(cells, TEX_NUMBER), cells
    for entries in latex_matrices(tex):
        assert one_format(entries, TEX_NUMBER), entries
