"""Student-facing text speaks about the network: no development wording, raw keys or code in any outputs/ document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derive.core.solve import solve
from derive.core.spec import parse
from derive.documents.worked import build
from derive.errors import DeriveError
from derive.formats.render import render

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "derive" / "presets"

#: (what must never be printed, why)
NEVER = [
    ("first source document", "the tool's own sources"),
    ("detail option", "an option of the tool"),
    ("as the spec writes", "the spec file"),
    ("half_sse", "a loss's registry key"),
    ("softmax_ce", "a loss's registry key"),
    ("in_out", "a weight layout's key"),
    ("out_in", "a weight layout's key"),
    ("x @", "code, not mathematics"),
    ("Checked:", "the verification belongs to its appendix"),
    ("relu activation", "ReLU is written in words"),
    ("layer l - 1", "a hyphen for a minus"),
    ("this convention does not", "the spec's update convention, not the network"),
]

#: plain-text mathematics outside the mathematics: "N = 2", "a 2 x 2 matrix"
PLAIN_MATH = [re.compile(r"\b[NK] = \d"), re.compile(r"\b\d+ x \d+\b")]

#: the student-facing documents: worked solutions, slides, sheets and keys in Markdown, LaTeX and HTML
DOCUMENTS = sorted(p for p in (ROOT / "outputs").rglob("*")
                   if p.suffix in (".md", ".tex", ".html") and p.is_file())


def prose(text: str, suffix: str) -> str:
    """The text with its mathematics removed ($...$, $$...$$, \\(...\\), \\[...\\], align environments)."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]", " ", text, flags=re.S)
    if suffix == ".tex":
        text = re.sub(r"\\begin\{(align\*?|equation\*?|tikzpicture)\}.*?\\end\{\1\}", " ", text, flags=re.S)
    return text


def test_documents_exist():
    assert len(DOCUMENTS) > 20


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT / "outputs")))
def test_no_development_wording(path):
    text = path.read_text(encoding="utf-8")
    found = [f"{word!r} ({why})" for word, why in NEVER if word in text]
    assert not found, f"{path.name} prints {', '.join(found)}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT / "outputs")))
def test_no_plain_mathematics_in_prose(path):
    text = prose(path.read_text(encoding="utf-8"), path.suffix)
    found = [m.group(0) for pattern in PLAIN_MATH for m in pattern.finditer(text)]
    assert not found, f"{path.name} writes mathematics as plain text: {found[:5]}"


def test_verification_appendix_in_the_solutions():
    for name in ("mazur", "mlp-relu", "softmax-ce"):
        text = (ROOT / "outputs" / name / "solution.md").read_text(encoding="utf-8")
        # lettered after the appendix of tables where there is one (mlp-relu: Appendix A, All numbers)
        assert re.search(r"^## Appendix [AB]\. How these numbers were checked$", text, re.M)


def test_blog_notes_only_in_the_blog_preset():
    blog = (ROOT / "outputs" / "mazur" / "solution.md").read_text(encoding="utf-8")
    assert "0.291027924" in blog and "9,999" in blog
    for name in ("mazur-adam", "mazur-torch", "mlp-relu", "softmax-ce"):
        assert "0.291027924" not in (ROOT / "outputs" / name / "solution.md").read_text(encoding="utf-8")


BASE = (PRESETS / "mazur.toml").read_text(encoding="utf-8").split("[document]")[0]

NOTE_CASES = [
    ('notes = "one"', r"document\.notes: expected a list of sentences, got"),
    ("notes = [1]", r"document\.notes\[0\]: expected a sentence"),
    ('notes = ["  "]', r"document\.notes\[0\]: expected a sentence, got empty text"),
    ('notes = ["' + "a" * 2001 + '"]', r"document\.notes\[0\]: a note of 2001 characters"),
]


@pytest.mark.parametrize("line,message", NOTE_CASES)
def test_bad_notes(line, message):
    with pytest.raises(DeriveError, match=message):
        parse(BASE + "\n[document]\n" + line + "\n", "net.toml")


def test_notes_read():
    spec = parse(BASE + '\n[document]\nnotes = [" A remark. "]\n', "net.toml")
    assert spec.notes == ("A remark.",) and spec.convention == ""


#: a weight or bias matrix named in prose as code ("Starting weights W1", "b2 after the update")
PLAIN_NAME = re.compile(r"(?<![#\w])[Wb]\d+\b")


@pytest.mark.parametrize("name", ["mlp-relu", "mazur"])
def test_solutions_name_matrices_in_words_or_mathematics(name):
    """Table captions, the sentences before the tables and the appendix references say "the weights of layer
    1" or W^[1] as mathematics; a sentence never begins with a bare equals sign."""
    doc = build(solve(name))
    for template, suffix in (("md/solution.md.j2", ".md"), ("tex/solution.tex.j2", ".tex")):
        text = render(template, doc=doc)
        assert not PLAIN_NAME.findall(prose(text, suffix)), f"{name} {suffix}"
        assert not re.search(r"\. (\$=\$|\\\(=\\\)) ", text), f"{name} {suffix}: a sentence begins with '='"
