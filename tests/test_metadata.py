"""Document metadata: the course, lecturer, date and institution on the title block and running head of the
worked solution, worksheets and keys (and the slides), from the spec's [document] table or the command line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from derive.cli import main
from derive.core.solve import solve
from derive.core.spec import parse
from derive.documents.metadata import Metadata, document_metadata, given
from derive.documents.options import Options
from derive.documents.slides import deck

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")

NETWORK = """title = "A small sigmoid network"
[network]
sizes = [2, 2, 1]
activations = ["sigmoid", "sigmoid"]
loss = "half_sse"
[parameters]
W1 = [[0.15, 0.2], [0.25, 0.3]]
b1 = [0.35, 0.35]
W2 = [[0.4, 0.45]]
b2 = [0.6]
[data]
inputs = [[0.05, 0.1]]
targets = [[0.01]]
[training]
learning_rate = 0.5
"""
DOCUMENT = """[document]
course = "Machine Learning 1"
author = "Dr. A. Lecturer"
date = 2026-11-30
institution = "Faculty of Science & Engineering"
"""
#: what the command line gives over the spec's entries
OVERRIDES = ["--course", "Deep Learning 2", "--date", "1 December 2026"]


def write(tmp_path, text: str):
    path = tmp_path / "net.toml"
    path.write_text(text)
    return str(path)


def head(tex: str) -> str:
    """The running head's entries of a LaTeX document (its \\fancyhead lines)."""
    return "\n".join(re.findall(r"\\fancyhead\[[LCR]\]\{.*\}", tex))


def title_block(tex: str) -> str:
    """The LaTeX between \\begin{document} and the end of the first centred block."""
    start = tex.index(r"\begin{document}")
    return tex[start:tex.index(r"\end{center}", start)]


# -- the one function that decides -------------------------------------------------------------------------

def test_the_command_line_wins_over_the_spec_and_blanks_leave_the_spec_s():
    spec = parse(NETWORK + DOCUMENT, "net.toml")
    assert document_metadata(spec) == Metadata("Machine Learning 1", "Dr. A. Lecturer", "2026-11-30",
                                               "Faculty of Science & Engineering")
    mixed = document_metadata(spec, given(course="Deep Learning 2", author=None, date=None, institution=None))
    assert (mixed.course, mixed.author) == ("Deep Learning 2", "Dr. A. Lecturer")
    assert document_metadata(parse(NETWORK, "net.toml")) == Metadata() and not Metadata()


LONG_COURSE = "Introduction to Machine Learning and Neural Networks (CS 4120, winter term)"
LONG_PLACE = "Faculty of Science & Engineering, University of Somewhere"


@pytest.mark.parametrize("meta, lines, running, short", [
    (Metadata(), (), "", ""),
    (Metadata(course="ML 1"), ("ML 1",), "ML 1", "ML 1"),
    (Metadata(date="2026-11-30"), ("2026-11-30",), "2026-11-30", "2026-11-30"),
    (Metadata("ML 1", "A. Lecturer", "2026-11-30", "Uni"), ("ML 1 · Uni", "A. Lecturer · 2026-11-30"),
     "ML 1 · 2026-11-30", "ML 1"),
    (Metadata(author="A. Lecturer", institution="Uni"), ("Uni", "A. Lecturer"), "", ""),
    # a pair too long for one line takes two; a running head keeps the date and shortens the course at a word
    (Metadata(LONG_COURSE, "A. Lecturer", "2026-11-30", LONG_PLACE), (LONG_COURSE, LONG_PLACE, "A. Lecturer · 2026-11-30"),
     "Introduction to Machine… · 2026-11-30", "Introduction to Machine…"),
    (Metadata(date="the first Monday of the winter term"), ("the first Monday of the winter term",),
     "the first Monday of…", "the first Monday of…"),
])
def test_title_lines_and_running_head(meta, lines, running, short):
    assert (meta.lines, meta.head, meta.head_short) == (lines, running, short)


def test_the_slides_read_the_same_function():
    spec = parse(NETWORK + DOCUMENT, "net.toml")
    options = Options(digits=6, metadata=given(course="Deep Learning 2"))
    assert deck(solve(spec), options).meta == document_metadata(spec, options.metadata)


# -- the worked solution -----------------------------------------------------------------------------------

def test_the_solution_prints_the_entries_in_every_format(tmp_path):
    out = tmp_path / "out"
    assert main(["solve", write(tmp_path, NETWORK + DOCUMENT), "--format", "tex,md,json", "--out", str(out),
                 *OVERRIDES]) == 0
    tex = (out / "solution.tex").read_text()
    assert "Deep Learning 2 · Faculty of Science \\& Engineering" in title_block(tex)
    assert "Dr. A. Lecturer · 1 December 2026" in title_block(tex)
    assert r"\fancyhead[L]{\small A small sigmoid network}" in head(tex)
    assert r"\fancyhead[R]{\small Deep Learning 2 · 1 December 2026}" in head(tex)
    assert "Machine Learning 1" not in tex and "2026-11-30" not in tex
    md = (out / "solution.md").read_text()
    assert md.split("## 1.")[0].splitlines()[4:6] == ["Deep Learning 2 · Faculty of Science &amp; Engineering\\",
                                                      "Dr. A. Lecturer · 1 December 2026"]
    data = json.loads((out / "solution.json").read_text())
    assert data["document"] == {"course": "Deep Learning 2", "author": "Dr. A. Lecturer", "date": "1 December 2026",
                                "institution": "Faculty of Science & Engineering"}


def test_without_entries_the_solution_has_no_metadata(tmp_path):
    out = tmp_path / "out"
    assert main(["solve", write(tmp_path, NETWORK), "--format", "tex,json", "--out", str(out)]) == 0
    tex = (out / "solution.tex").read_text()
    assert r"\fancyhead[R]" not in tex and r"\\[2ex]" not in title_block(tex)
    assert "document" not in json.loads((out / "solution.json").read_text())


@needs_tex
def test_the_solution_pdf_shows_them_on_the_title_and_every_running_head(tmp_path):
    out = tmp_path / "out"
    assert main(["solve", write(tmp_path, NETWORK + DOCUMENT), "--format", "pdf", "--out", str(out),
                 *OVERRIDES]) == 0
    text = subprocess.run(["pdftotext", "-layout", str(out / "solution.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) > 1
    for page in pages:  # the running head: the title left, the course and date right
        first = page.strip().splitlines()[0]
        assert re.match(r"A small sigmoid network\s+Deep Learning 2 · 1 December 2026$", first), first
    assert "Deep Learning 2 · Faculty of Science & Engineering" in pages[0]
    assert "Dr. A. Lecturer · 1 December 2026" in pages[0]


# -- worksheets and keys -----------------------------------------------------------------------------------

def test_a_worksheet_and_its_key_print_the_entries(tmp_path):
    out = tmp_path / "out"
    assert main(["worksheet", write(tmp_path, NETWORK + DOCUMENT), "--format", "tex,md,qti,json", "--out", str(out),
                 "--places", "5", *OVERRIDES]) == 0
    for stem, kind in (("sheet-net", "Worksheet"), ("key-net", "Answer key")):
        tex = (out / f"{stem}.tex").read_text()
        block = title_block(tex)
        assert kind in block and "Deep Learning 2 · Faculty of Science \\& Engineering" in block
        assert "Dr. A. Lecturer · 1 December 2026" in block
        assert r"\fancyhead[R]{\small Deep Learning 2 · version \leftmark}" in head(tex)
        md = (out / f"{stem}.md").read_text()
        assert "Deep Learning 2 · Faculty of Science &amp; Engineering\\\nDr. A. Lecturer · 1 December 2026" in md
    assert "Name: " in (out / "sheet-net.tex").read_text()
    assert json.loads((out / "worksheets.json").read_text())["document"]["course"] == "Deep Learning 2"
    import zipfile

    with zipfile.ZipFile(out / "canvas-qti.zip") as archive:
        assert "Deep Learning 2: A small sigmoid network" in archive.read("imsmanifest.xml").decode()


def test_an_exam_paper_prints_the_entries(tmp_path):
    out = tmp_path / "out"
    assert main(["worksheet", write(tmp_path, NETWORK + DOCUMENT), "mazur", "--exam", "--format", "tex", "--out",
                 str(out), "--places", "5"]) == 0
    tex = (out / "exam-exam.tex").read_text()
    assert "Machine Learning 1 · Faculty of Science \\& Engineering" in title_block(tex)
    assert "Machine Learning 1 · version" in head(tex)


# -- bad entries -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("document, args, message", [
    ("[document]\ncourse = 3\n", [], "net.toml: document.course: expected text, got the number 3"),
    ("[document]\nauthor = [\"A\", \"B\"]\n", [], "net.toml: document.author: expected text, got a list"),
    ("[document]\ndate = \"" + "x" * 201 + "\"\n", [], "net.toml: document.date: expected one line of at most 200"),
    ("[document]\nlecturer = \"A\"\n", [], "net.toml: document.lecturer: unknown key; the lecturer is written as author"),
    ("[document]\ncolour = \"red\"\n", [], "net.toml: document.colour: unknown key"),
    ("[document]\ncourse = \"ML 🙂\"\n", ["--format", "tex"], "net.toml: document.course: the course: contains '🙂'"),
    ("", ["--course", "a\nb"], "--course: expected one line of at most 200 characters for the course"),
    ("", ["--institution", "Uni 🙂", "--format", "tex"], "--institution: the institution: contains '🙂'"),
])
@pytest.mark.parametrize("command", ["solve", "worksheet"])
def test_a_bad_entry_is_one_clear_error(tmp_path, capsys, command, document, args, message):
    out = tmp_path / "out"
    assert main([command, write(tmp_path, NETWORK + document), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("derive: error: ")
    assert message in err, err
    assert not out.exists()


def test_straight_quotes_print_as_typographic_ones(tmp_path):
    text = NETWORK + '[document]\nnotes = ["The loss \\"after 10,000 steps\\" is after 9,999."]\ncourse = "\\"Deep\\" Learning"\n'
    spec = parse(text, "net.toml")
    assert spec.notes == ("The loss \u201cafter 10,000 steps\u201d is after 9,999.",)
    assert spec.course == "\u201cDeep\u201d Learning"
