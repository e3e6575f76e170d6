"""Textbook conventions: the blog example rendered in each book's names, each book's own worked example
checked in its notation and signs, and names of one book read (or refused as ambiguous) under another.

Cited examples (the values are the books' printed, rounded ones):
* Han, Kamber & Pei, Data Mining: Concepts and Techniques, 3rd ed. (2012), Example 9.1, Figure 9.5,
  Tables 9.2 and 9.3 (tests/textbooks/han-example-9-1.toml);
* Hagan, Demuth, Beale & De Jesus, Neural Network Design, 2nd ed. (2014), chapter 11, the 1-2-1
  example approximating 1 + sin(pi/4 p) (tests/textbooks/hagan-chapter-11.toml), whose target is the
  exact constant 1 + sin(pi/4);
* Mazur's blog example (the preset) for Mitchell, Nielsen, deeplearning.ai and PyTorch, whose books
  print no numeric example of this kind: there the oracle is derive's own value in the book's sign.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.cli import main
from derive.core.conventions import CONVENTIONS
from derive.core.notation import Notation
from derive.core.solve import solve
from derive.core.spec import read
from derive.core.steps import Steps
from derive.errors import DeriveError
from derive.formats.solution import solve as solve_document
from derive.grading.answers import _renamed
from derive.grading.check import RIGHT, WRONG, check_text

BOOKS = Path(__file__).parent / "textbooks"
HAN = str(BOOKS / "han-example-9-1.toml")
HAGAN = str(BOOKS / "hagan-chapter-11.toml")

# the book's own printed values, in its names and signs
HAN_TABLES = """I4 = -0.7
O4 = 0.332
I5 = 0.1
O5 = 0.525
I6 = -0.105
O6 = 0.474
Err6 = 0.1311
Err5 = -0.0065
Err4 = -0.0087
w46_new = -0.261
w56_new = -0.138
w14_new = 0.192
w15_new = -0.306
w24_new = 0.4
w25_new = 0.1
w34_new = -0.508
w35_new = 0.194
theta6_new = 0.218
theta5_new = 0.194
theta4_new = -0.408
"""
HAGAN_EXAMPLE = """a1_1 = 0.321
a1_2 = 0.368
a2_1 = 0.446
s2_1 = -2.522
s1_1 = -0.0495
s1_2 = 0.0997
W2_1_1_new = 0.171
W2_1_2_new = -0.0772
b2_1_new = 0.732
W1_1_1_new = -0.265
W1_2_1_new = -0.420
b1_1_new = -0.475
b1_2_new = -0.140
"""


@pytest.mark.parametrize("source, answers", [(HAN, HAN_TABLES), (HAGAN, HAGAN_EXAMPLE)], ids=["han", "hagan"])
def test_a_books_worked_example_in_its_own_names_and_signs_is_right(source, answers):
    report = check_text(source, answers)  # the spec's [document] convention
    assert [r.verdict for r in report.results] == [RIGHT] * len(answers.splitlines())


def test_hans_error_typed_as_deltas_is_wrong_and_his_name_is_read_with_his_sign():
    steps_report = check_text(HAN, "delta_o1 = 0.1311\n")  # derive's delta is -Err
    assert steps_report.results[0].verdict == WRONG
    blog = check_text("mazur", "Err5 = -0.1385\nw35_new = 0.358916\n")  # no convention chosen: read, and said so
    assert [r.verdict for r in blog.results] == [RIGHT, RIGHT]
    assert [r.name for r in blog.results] == ["delta_o1", "w5_new"]
    assert "Han" in blog.results[0].answer.reading and blog.results[0].answer.sign == -1


@pytest.mark.parametrize("convention, answers", [
    ("han", "Err5 = -0.138499\nw35_new = 0.358916\ntheta3 = 0.35\nI3 = 0.3775\nO5 = 0.751365\n"),
    ("mitchell", "delta5 = -0.138499\nw53_new = 0.358916\nnet3 = 0.3775\no5 = 0.751365\nw30 = 0.35\n"),
    ("hagan", "s2_1 = 0.138499\nn1_1 = 0.3775\na2_1 = 0.751365\nW2_1_1_new = 0.358916\nF = 0.298371\n"),
    ("nielsen", "delta3_1 = 0.138499\nz2_1 = 0.3775\na3_1 = 0.751365\nw3_1_1_new = 0.358916\nC = 0.298371\n"),
    ("deeplearning-ai", "dZ2_1 = 0.138499\nZ1_1 = 0.3775\nA2_1 = 0.751365\ndW2_1_1 = 0.082167\nJ = 0.298371\n"),
    ("pytorch", "delta2_1 = 0.138499\nz1_1 = 0.3775\na2_1 = 0.751365\nW2_1_1_new = 0.358916\nloss = 0.298371\n"),
])
def test_check_reads_each_books_names_on_the_blog_example(convention, answers, tmp_path, capsys):
    report = check_text("mazur", answers, convention=convention)
    assert [r.verdict for r in report.results] == [RIGHT] * len(answers.splitlines()), [
        (r.answer.label, r.name, r.verdict) for r in report.results]
    path = tmp_path / "answers.toml"
    path.write_text(answers)
    assert main(["check", "mazur", str(path), "--convention", convention]) == 0


def test_a_name_books_read_differently_is_an_error_listing_the_readings():
    with pytest.raises(DeriveError, match=r"ambiguous: textbooks use this name for different quantities: .*Han.*Nielsen"):
        check_text("mlp-relu", "w212 = 0.1\n")


def test_hagans_e_is_not_read_as_the_loss():
    with pytest.raises(DeriveError, match="e = t - a, the output error"):
        check_text(HAGAN, "e = 1.261\n")


@pytest.mark.parametrize("convention", list(CONVENTIONS))
@pytest.mark.parametrize("source", ["mazur", "softmax-ce", HAN])
def test_every_convention_names_every_quantity_once(convention, source):
    steps = Steps(solve(read(source), verify_symbolic=False))
    names = _renamed(steps, Notation.for_spec(steps.spec, convention=convention))
    assert len(set(names.values())) == len(names), convention


# the blog example rendered in each book's names: what each must print
RENDERED = {
    "blog": [r"\mathrm{net}_{h_{1}}", r"\delta_{o_{1}}", r"E_{\mathrm{total}}", r"\eta = 0.5"],
    "han": [r"I_{3}", r"O_{5}", r"w_{35}", r"\theta_{3}", r"\left(-\mathrm{Err}_{5}\right) &=", r"l = 0.5"],
    "mitchell": [r"\mathrm{net}_{3}", r"o_{5}", r"w_{53}", r"\left(-\delta_{5}\right) &=", r"\eta = 0.5"],
    "hagan": [r"n^{1}_{1}", r"a^{2}_{1}", r"W^{2}_{11}", r"s^{2}_{1} &=", r"\alpha = 0.5", r"\partial F"],
    "nielsen": [r"z^{2}_{1}", r"a^{3}_{1}", r"w^{3}_{11}", r"\delta^{3}_{1} &=", r"\partial C"],
    "deeplearning-ai": [r"Z^{[1]}_{1}", r"A^{[2]}_{1}", r"dZ^{[2]}_{1} &=", r"dW^{[2]}_{11}", r"\alpha = 0.5"],
    "pytorch": [r"z^{[1]}_{1}", r"\mathcal{L}", r"\mathrm{lr} = 0.5"],
}


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_the_blog_example_in_each_convention(convention):
    assert set(RENDERED) == set(CONVENTIONS)
    solution = solve_document("mazur", convention=convention)
    md = solution.markdown()
    for piece in RENDERED[convention]:
        assert piece in md, (convention, piece)
    if convention != "blog":
        assert CONVENTIONS[convention].title.replace("&", "&amp;") in md and r"\mathrm{net}_{h_{1}}" not in md
    assert solution.json() == solve_document("mazur").json()  # the JSON keeps its names


def test_unknown_convention_is_one_clear_error(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    preset = (Path(__file__).parent.parent / "derive" / "presets" / "mazur.toml").read_text()
    # the preset has a [document] table of its own (its notes): the convention joins it
    spec.write_text(preset.replace("[document]\n", '[document]\nconvention = "hann"\n', 1) if "[document]\n" in preset
                    else preset + '\n[document]\nconvention = "hann"\n')
    with pytest.raises(DeriveError, match=r"document.convention: unknown convention 'hann' \(did you mean 'han'\?\)"):
        read(spec)
    with pytest.raises(SystemExit) as exit:
        main(["solve", "mazur", "--convention", "hann"])
    assert exit.value.code == 2 and "invalid choice: 'hann'" in capsys.readouterr().err


MATRIX_RENDERED = {  # the matrix form in the book's own symbols
    "hagan": [r"n^{1} &= W^{1} p + b^{1}", r"s^{2} &= \frac{\partial F}{\partial a^{2}} \odot", r"\alpha = 0.5"],
    "nielsen": [r"z^{2} &= w^{2} x + b^{2}", r"C &= \frac{1}{2}\,\lVert y - a^{3} \rVert^{2}", r"\delta^{3} &="],
    "deeplearning-ai": [r"Z^{[1]} &= W^{[1]} X + b^{[1]}", r"dZ^{[2]} &= dA^{[2]} \odot",
                        r"dW^{[2]} &= dZ^{[2]} (A^{[1]})^{\top}", r"db^{[1]} &= dZ^{[1]}"],
    "pytorch": [r"z^{[1]} &= W^{[1]} x + b^{[1]}", r"\partial \mathcal{L}/\partial z^{[l]}", r"\mathrm{lr} = 0.5"],
}
NO_MATRIX_FORM = {"han": r"\left(-\mathrm{Err}_{5}\right)", "mitchell": r"\left(-\delta_{5}\right)"}


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_the_matrix_form_in_each_convention(convention):
    """A book with a matrix form prints its symbols; one without says so and maps the matrix names to its own."""
    md = solve_document("mazur", notation="matrix", convention=convention).markdown()
    default = solve_document("mazur", notation="matrix").markdown()
    if convention == "blog":
        assert md == default
        return
    for piece in MATRIX_RENDERED.get(convention, []):
        assert piece in md, (convention, piece)
    if convention in MATRIX_RENDERED:
        assert "has no matrix form" not in md
        if convention != "pytorch":
            assert r"z^{[1]} &= W^{[1]} x + b^{[1]}" not in md
    else:
        assert md.count("has no matrix form") == 1 and NO_MATRIX_FORM[convention] in md
        assert r"z^{[1]} &= W^{[1]} x + b^{[1]}" in md
