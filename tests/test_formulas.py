"""derive check of formula answers: right in any algebraic form, wrong ones named by the mistake that gives them."""

from __future__ import annotations

import re

import pytest
from randomnet import spec_text

from derive.cli import main
from derive.core.solve import solve
from derive.core.spec import parse
from derive.errors import DeriveError
from derive.exercises import formula_sheets
from derive.grading import formulas

MAZUR = solve("mazur")

# (quantity, formula as a student writes it, verdict, the mistake named or None)
CASES = [
    ("dE/dw5", "(out_o1 - t_o1)*out_o1*(1-out_o1)*out_h1", "right", None),
    ("dE/dw5", "out_h1*out_o1*(1 - out_o1)*(out_o1 - t_o1)", "right", None),  # another order
    ("dE/dw5", "out_h1*(out_o1^2 - out_o1^3 - t_o1*out_o1 + t_o1*out_o1^2)", "right", None),  # multiplied out
    ("dE/dw5", "delta_o1*out_h1", "right", None),  # a delta by its name
    ("dE/dw5", "(sigmoid(net_o1) - t_o1)*sigmoid(net_o1)*(1 - sigmoid(net_o1))*out_h1", "right", None),
    ("dE/dw5", "(out_o1 - t_o1)*out_h1", "wrong", "missing_factor"),
    ("dE/dw5", "out_o1*(1-out_o1)*out_h1", "wrong", "missing_factor"),
    ("dE/dw5", "(out_o1 - t_o1)*sigmoid(out_o1)*(1-sigmoid(out_o1))*out_h1", "wrong", "derivative_at_out"),
    ("dE/dw5", "(t_o1 - out_o1)*out_o1*(1-out_o1)*out_h1", "wrong", "error_sign"),
    ("dE/dw1", "(delta_o1*w5 + delta_o2*w7)*out_h1*(1-out_h1)*i1", "right", None),
    ("dE/dw1", "delta_o1*w5*out_h1*(1-out_h1)*i1", "wrong", "one_path"),
    ("dE/dw1", "delta_o2*w7*out_h1*(1-out_h1)*i1", "wrong", "one_path"),
    ("dE/dw1", "(delta_o1*w5 + delta_o2*w7)*i1", "wrong", "missing_factor"),
    ("dE/dw1", "(delta_o1*w5 + delta_o2*w7)*out_h1*(1-out_h1)*i2", "wrong", None),  # the wrong input: no named mistake
    ("dout_o1/dnet_o1", "out_o1*(1-out_o1)", "right", None),
    ("dout_o1/dnet_o1", "exp(-net_o1)/(1+exp(-net_o1))^2", "right", None),
    ("dout_o1/dnet_o1", "sigmoid(out_o1)*(1-sigmoid(out_o1))", "wrong", "derivative_at_out"),
    ("dE/dout_h1", "delta_o1*w5", "wrong", "one_path"),
    ("net_h1", "w1*i1 + w2*i2 + b_h1", "right", None),
    ("E_total", "(t_o1 - out_o1)^2/2 + (t_o2 - out_o2)^2/2", "right", None),
]


@pytest.mark.parametrize("quantity, formula, verdict, mistake", CASES)
def test_formula_answers_on_the_blog_network(quantity, formula, verdict, mistake):
    report = formulas.check(MAZUR, f'"{quantity}" = "{formula}"\n')
    result = report.results[0]
    assert result.verdict == verdict
    assert (result.mistake.kind if result.mistake else None) == mistake


def test_deep_layered_network_by_its_layered_names():
    spec = parse(spec_text(3, sizes=[2, 2, 2, 2], activations=["sigmoid"] * 3, loss="half_sse", batch=1,
                           layout="out_in"), "deep.toml")
    solution = solve(spec)
    right = "(delta2_1*W2_1_1 + delta2_2*W2_2_1)*a1_1*(1-a1_1)*x1"
    one_path = "delta2_1*W2_1_1*a1_1*(1-a1_1)*x1"
    report = formulas.check(solution, f'"dE/dW1_1_1" = "{right}"\n"dE/dW1_1_2" = "{one_path.replace("x1", "x2")}"\n')
    assert [r.verdict for r in report.results] == ["right", "wrong"]
    assert report.results[1].mistake.kind == "one_path"
    # written all the way down to the outputs: delta2 through delta3 and W3
    deep = ("((delta3_1*W3_1_1 + delta3_2*W3_2_1)*a2_1*(1-a2_1)*W2_1_1"
            " + (delta3_1*W3_1_2 + delta3_2*W3_2_2)*a2_2*(1-a2_2)*W2_2_1)*a1_1*(1-a1_1)*x1")
    assert formulas.check(solution, f'"dE/dW1_1_1" = "{deep}"\n').results[0].verdict == "right"


@pytest.mark.parametrize("text, problem", [
    ('"dE/dw5" = "__import__(1)"\n', "unknown function '__import__'"),
    ('"dE/dw5" = "exp.__class__"\n', "attribute access"),
    ('"dE/dw5" = "out_o1.real"\n', "attribute access"),
    ('"dE/dw5" = "(out_o1 - t_o)*out_h1"\n', "unknown name 't_o'"),
    ('"dE/dw5" = 0.08\n', "expected a formula in quotes"),
    ('w5 = "w5"\n', "not a formula to derive"),
])
def test_bad_formula_answers_are_one_clear_error(text, problem):
    with pytest.raises(DeriveError) as error:
        formulas.check(MAZUR, text, "answers.toml")
    assert problem in str(error.value) and "answers.toml" in str(error.value)


def test_derive_check_reads_a_formula_file(tmp_path, capsys):
    answers = tmp_path / "formulas.toml"
    answers.write_text('"dE/dw5" = "(out_o1 - t_o1)*out_o1*(1-out_o1)*out_h1"\n'
                       '"dE/dw6" = "(out_o1 - t_o1)*out_h2"\n')
    assert main(["check", "mazur", str(answers)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^dE_total/dw5 .* right$", out, re.M) and "a factor left out" in out
    assert "The right formula:\n    dE_total/dw6 = (out_o1 - t_o1)*out_o1*(1 - out_o1)*out_h2\n" in out
    assert main(["check", "mazur", str(answers), "--format", "json,md", "--out", str(tmp_path / "report")]) == 1
    assert (tmp_path / "report" / "check.json").exists() and (tmp_path / "report" / "check.md").exists()


def test_every_named_mistake_is_a_registry_entry():
    assert set(formulas.MISTAKES) == {"missing_factor", "derivative_at_out", "one_path", "error_sign"}


@pytest.mark.parametrize("spec", ["mazur", "softmax-ce"])
def test_the_formula_worksheets_key_checks_right(spec):
    """Every formula of the key, written into the answers template, is judged right (the key is the check's)."""
    solution = solve(spec)
    sheet = formula_sheets.exercise(solution)
    template = formula_sheets.answers_template(sheet)
    filled = template
    for blank in sheet.blanks:
        filled = filled.replace(f'"{blank.name}" = ""', f'"{blank.name}" = "{blank.text}"')
    report = formulas.check(solution, filled)
    assert len(report.results) == len(sheet.blanks) > 6
    assert all(r.verdict == "right" for r in report.results)


def test_formula_worksheet_files(tmp_path):
    assert main(["worksheet", "mazur", "--symbolic", "--format", "md", "--out", str(tmp_path)]) == 0
    sheet, key = (tmp_path / "formula-sheet.md").read_text(), (tmp_path / "formula-key.md").read_text()
    assert "(out_o1 - t_o1)*out_o1*(1 - out_o1)*out_h1" in key and "(out_o1 - t_o1)" not in sheet
    assert '"dE_total/dw1" = ""' in (tmp_path / "answers-template.toml").read_text()
    assert main(["worksheet", "mazur", "--symbolic", "--variants", "2", "--out", str(tmp_path)]) == 2


def test_formula_worksheets_are_a_kind_of_worksheet_job(tmp_path):
    """The worksheets' registry of formats writes them: pdf, tex and md; a quiz format is refused by name."""
    assert main(["worksheet", "mazur", "--symbolic", "--blanks", "dE_total/dw5", "--format", "tex",
                 "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers-template.toml", "formula-key.tex",
                                                          "formula-sheet.tex"]
    assert main(["worksheet", "mazur", "--symbolic", "--format", "moodle", "--out", str(tmp_path / "m")]) == 2
    assert not (tmp_path / "m").exists()
