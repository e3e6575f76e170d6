"""Fair marking: one accepted set on the key, in Moodle, in Canvas and in `derive check`; Moodle's named mistakes.

Oracles: the verdicts of `derive check` (grading.check), the mistake catalogue's own
recomputation (Steps.world with the mistake), and a port of Moodle's cloze parser
(question/type/multianswer/questiontype.php: ANSWER_REGEX, ANSWER_ALTERNATIVE_REGEX and the
decoding of a feedback: html_entity_decode, then '\\}' -> '}' and '\\#' -> '#').
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction

import pytest

from derive import solve
from derive.cli import main
from derive.core.steps import Steps
from derive.core.versions import load, versions
from derive.documents.options import Options
from derive.errors import DeriveError
from derive.exercises.batch import exams
from derive.exercises.distractors import MOST
from derive.exercises.moodle import escape_feedback, moodle_xml, right_feedback, wrong_feedback
from derive.exercises.qti import answers as canvas_answers
from derive.exercises.worksheet import by_stage, exercise, marks_scheme, thin, true_minus
from derive.grading.check import RIGHT, WRONG, check_text
from derive.grading.rounding import round_decimal, toml_key

# -- Moodle's cloze parser, ported ------------------------------------------------------------
FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALTERNATIVE = f"({FRACTION})?({ANSWER})(#({FEEDBACK}))?"
START = r"\{([0-9]*):(?:(NUMERICAL|NM)|[A-Z_]+):"
FIELD = re.compile(START + f"({ALTERNATIVE}(~{ALTERNATIVE})*)" + r"\}", re.S)
NUMBER = re.compile(r"^\s*(-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?)(?::(" +
                    r"(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?))?\s*$")


def parse_cloze(text: str) -> list[dict]:
    """The subquestions Moodle makes of a cloze text: weight, type and (fraction, answer, tolerance, feedback)."""
    fields = []
    while True:
        match = FIELD.search(text)
        if not match:
            break
        alternatives, rest = [], match.group(3)
        while rest:
            alt = re.match("~?" + ALTERNATIVE, rest, re.S)
            assert alt, rest[:80]
            fraction = 1.0 if alt.group(1) == "=" else (float(alt.group(2)) / 100 if alt.group(2) else 0.0)
            number = NUMBER.match(alt.group(3))
            assert number, alt.group(3)
            feedback = html.unescape(alt.group(5) or "").replace("\\}", "}").replace("\\#", "#")
            alternatives.append((fraction, Decimal(number.group(1)), Decimal(number.group(2) or 0), feedback))
            rest = rest[len(alt.group(0)):]
        fields.append({"weight": int(match.group(1) or 1), "numerical": bool(match.group(2)),
                       "answers": alternatives})
        text = text[:match.start()] + "{#}" + text[match.end():]
    assert "NUMERICAL" not in text  # every field parsed
    return fields


def moodle_grade(field: dict, response: Decimal) -> float:
    """Moodle's numerical grading: the first answer (in order) whose tolerance interval holds the response."""
    for fraction, value, tolerance, _ in field["answers"]:
        if value - tolerance <= response <= value + tolerance:
            return fraction
    return 0.0


def test_the_port_of_moodles_parser_reads_moodles_own_syntax():
    fields = parse_cloze(r"x = {2:NUMERICAL:=1.5:0.05#good~%50%1.6:0.1#close \} \# ~%0%9:0#no} y")
    assert fields == [{"weight": 2, "numerical": True, "answers": [
        (1.0, Decimal("1.5"), Decimal("0.05"), "good"), (0.5, Decimal("1.6"), Decimal("0.1"), "close } # "),
        (0.0, Decimal("9"), Decimal("0"), "no")]}]


@pytest.mark.parametrize("text", [
    "plain", "a } brace", "a ~ tilde", "# hash", 'quote " and / slash', r"back\slash \} \#", "&lt;b&gt; &amp; x",
    r"\(\frac{a}{b}\) ~%0%1:0#x}", "ends with a backslash \\",
])
def test_feedback_survives_moodles_parser(text):
    field = "{1:NUMERICAL:=1:0#" + escape_feedback(text) + "~%0%2:0#" + escape_feedback(text) + "}"
    (parsed,) = parse_cloze(field)
    assert [a[3] for a in parsed["answers"]] == [text, text]
    assert [a[1] for a in parsed["answers"]] == [1, 2]


# -- one batch, looked at from every side ------------------------------------------------------
SEED, COUNT, PLACES = 7, 3, 4


@pytest.fixture(scope="module")
def batch():
    made = [exercise(solve(s), Options(blanks="full", places=PLACES), s.name.split("@")[1]) for s in
            versions(load("mazur"), COUNT, SEED, PLACES)]
    root = ET.fromstring(moodle_xml(made, "Backpropagation"))
    cloze = [q for q in root.findall("question") if q.get("type") == "cloze"]
    return [(ex, parse_cloze(q.find("questiontext/text").text)) for ex, q in zip(made, cloze)]


def in_order(ex):
    return [b for _, group in by_stage(ex) for b in group]


def test_every_blank_is_a_moodle_field_worth_its_marks(batch):
    for ex, fields in batch:
        assert len(fields) == len(ex.blanks)
        for field, b in zip(fields, in_order(ex)):
            assert field["numerical"] and field["weight"] == b.marks
            assert [a[2] for a in field["answers"]] == [Decimal(b.tolerance)] * len(field["answers"])


def test_the_exact_value_rounded_is_always_accepted_and_the_keys_value_first(batch):
    for ex, _ in batch:
        steps = Steps(ex.solution)
        for b in ex.blanks:
            assert b.values[0] == b.key
            assert round_decimal(steps.exact(b.name), PLACES) in [a.value for a in b.accepted]
    # the case: some blanks of this batch have two accepted values
    assert any(len(b.accepted) > 1 for ex, _ in batch for b in ex.blanks)


def test_accepted_values_agree_across_key_moodle_canvas_and_check(batch):
    for ex, fields in batch:
        spec = f"mazur@{ex.ident}"
        for field, b in zip(fields, in_order(ex)):
            full = [a[1] for a in field["answers"] if a[0] == 1.0]
            assert full == [a.value for a in b.accepted]  # Moodle: the same values, at 100 %
            assert [Decimal(a.value) for a in canvas_answers(b)] == full  # Canvas: the same values
            for a in b.accepted:
                assert moodle_grade(field, a.value) == 1.0
                assert f"Right: {a.reason()}" in field["answers"][b.accepted.index(a)][3] or len(b.accepted) == 1
            # a unit of the last decimal beyond every accepted value is not accepted
            unit = Decimal(1).scaleb(-PLACES)
            for outside in (min(full) - unit, max(full) + unit):
                assert moodle_grade(field, outside) == 0.0
        # derive check: every accepted value, one answers file per rank (a name appears once per file)
        for rank in range(max(len(b.accepted) for b in ex.blanks)):
            lines = [f"{toml_key(b.name)} = {b.accepted[rank].text}" for b in ex.blanks if len(b.accepted) > rank]
            report = check_text(spec, "\n".join(lines) + "\n")
            assert [r.verdict for r in report.results] == [RIGHT] * len(lines), rank


def test_distractors_are_the_named_mistakes_values_outside_every_accepted_interval(batch):
    seen = set()
    for ex, fields in batch:
        steps = Steps(ex.solution)
        for field, b in zip(fields, in_order(ex)):
            assert len(b.distractors) <= MOST
            zero = [(a[1], a[3]) for a in field["answers"] if a[0] == 0.0]
            assert [v for v, _ in zero] == [d.value for d in b.distractors]
            for d, (_, feedback) in zip(b.distractors, zero):
                # the mistake catalogue's own recomputation, every step rounded as the sheet asks
                assert round_decimal(steps.world(d.mistake, places=PLACES).computed(b.name), PLACES) == d.value
                tol = Fraction(b.tolerance)
                assert all(abs(Fraction(d.value) - Fraction(a.value)) > tol for a in b.accepted)
                assert moodle_grade(field, d.value) == 0.0
                assert feedback == wrong_feedback(b, d) and true_minus(d.title[1:]) in feedback
                seen.add(d.mistake.kind)
            assert [a[3] for a in field["answers"] if a[0] == 1.0] == [right_feedback(b, a) for a in b.accepted]
        # derive check calls each distractor wrong
        lines = [f"{toml_key(b.name)} = {b.distractors[0].value}" for b in ex.blanks if b.distractors]
        report = check_text(f"mazur@{ex.ident}", "\n".join(lines) + "\n")
        assert all(r.verdict == WRONG for r in report.results[:1])
    assert {"sign_flipped", "no_learning_rate", "derivative_at_out", "half_dropped", "updated_weights"} <= seen


def test_a_distractor_alone_is_diagnosed_by_check_as_a_mistake(batch):
    ex, _ = batch[0]
    for b in ex.blanks:
        for d in b.distractors:
            report = check_text(f"mazur@{ex.ident}", f"{toml_key(b.name)} = {d.value}\n")
            (r,) = report.results
            assert r.verdict == WRONG and r.diagnoses, (b.name, d.title)


# -- the sheet ---------------------------------------------------------------------------------

def test_the_backward_pass_is_asked_one_unit_at_a_time(batch):
    ex, _ = batch[0]
    backward = [b.name for b in ex.blanks if b.stage == "backward"]
    assert backward[:6] == ["dE_total/dout_o1", "dout_o1/dnet_o1", "delta_o1", "dE_total/dw5", "dE_total/dw6",
                            "dE_total/db_o1"]
    assert backward[12:15] == ["dE_total/dout_h1", "dout_h1/dnet_h1", "delta_h1"]
    assert [b.name for b in ex.blanks][:4] == ["net_h1", "out_h1", "net_h2", "out_h2"]


def test_drawn_versions_keep_two_significant_figures_in_every_blank(batch):
    for seed in (1, 7, 42):
        for spec in versions(load("mazur"), 6, seed, PLACES):
            ex = exercise(solve(spec), Options(blanks="full", places=PLACES), "x")
            assert thin(ex) == []
    # the blog's own numbers, used as they are, have such blanks: the teacher is told
    assert "dE_total/dw1" in thin(exercise(solve("mazur"), Options(blanks="full", places=PLACES), "mazur"))


@pytest.mark.parametrize("text, scheme", [
    (None, {"": 1}), ("2", {"": 2}), ("backward=2", {"": 1, "backward": 2}), ("3, update=0", {"": 3, "update": 0}),
])
def test_marks_schemes(text, scheme):
    assert marks_scheme(text) == scheme


@pytest.mark.parametrize("text, message", [
    ("backwards=2", "unknown stage 'backwards' (did you mean 'backward'?)"),
    ("forward=1.5", "expected a whole number of marks"), ("x", "expected a whole number of marks"),
])
def test_bad_marks_schemes(text, message):
    with pytest.raises(DeriveError, match=re.escape(message)):
        marks_scheme(text)


def test_marks_reach_the_sheet_moodle_and_canvas(tmp_path):
    assert main(["worksheet", "mazur", "--variants", "1", "--seed", "3", "--marks", "1,backward=2",
                 "--format", "tex,moodle,qti", "--out", str(tmp_path)]) == 0
    sheet = (tmp_path / "sheet-3-01.tex").read_text()
    assert "Backward pass\\hfill{\\normalsize\\mdseries 48 marks}" in sheet and "67 marks in all" in sheet
    moodle = (tmp_path / "moodle.xml").read_text()
    assert "<defaultgrade>67</defaultgrade>" in moodle and moodle.count("{2:NUMERICAL:") == 24


def test_prose_is_in_words_with_true_minus_signs_and_fixed_decimals(tmp_path):
    assert main(["worksheet", "mazur", "--variants", "2", "--seed", "7", "--format", "tex,md,moodle",
                 "--out", str(tmp_path)]) == 0
    moodle = (tmp_path / "moodle.xml").read_text()
    assert "half_sse" not in moodle and "half sum-of-squares loss" in moodle
    assert "rounding half away from zero" in moodle
    key = (tmp_path / "key-7-01.tex").read_text()
    assert "(exact -" not in key and r"\text{\footnotesize (exact $-" in key
    # the numbers a worked step puts in are written to the sheet's decimals (0.2450, never 0.245)
    rows = [row.split(r"\quad")[0] for row in re.findall(r"^ &(?:=|\\approx) (.*)$", key, re.M)]
    numbers = [n for row in rows for n in re.findall(r"(?<![\d.])\d+\.\d+", row)]
    assert numbers and all(len(n.split(".")[1]) in (1, 2, PLACES) for n in numbers)  # given (grid) or computed


def test_several_specs_need_exam(tmp_path, capsys):
    assert main(["worksheet", "mazur", "softmax-ce", "--format", "json", "--out", str(tmp_path / "o")]) == 2
    assert "add --exam" in capsys.readouterr().err


def test_an_exam_asks_version_n_of_every_spec():
    made = exams([load("mazur"), load("softmax-ce")], Options(blanks="full", places=PLACES), 2, 5)
    assert [ident for ident, _ in made] == ["5-01", "5-02"]
    for ident, questions in made:
        assert [q.solution.spec.name for q in questions] == [f"mazur@{ident}", f"softmax-ce@{ident}"]
