"""Circuit worksheets, keys and quizzes; derive check on circuits with its named mistakes; a neuron as a circuit."""

from __future__ import annotations

import base64
import re
from fractions import Fraction

import pytest

from derive.cli import main
from derive.core import circuit, circuit_spec, circuit_versions, neuron_circuit
from derive.core.circuit_sweep import exact_values, quantities, sweep
from derive.core.numeric import to_float
from derive.core.solve import solve
from derive.core.versions import load
from derive.documents import circuit_diagram
from derive.documents.options import Options
from derive.errors import DeriveError
from derive.exercises import circuits as sheets
from derive.grading import circuits as grading


def solved(name):
    return circuit.solve(circuit_versions.load(name))


def check(name, text):
    return {r.name: r for r in grading.check_text(name, text).results}


# ---------------------------------------------------------------- quantities and sweeps

def test_quantities_of_the_fan_out_circuit():
    c = solved("circuit-fan-out")
    names = [q.name for q in quantities(c) if not q.given]
    assert names == ["u1", "u2", "u3", "f", "df/du3", "df/dw", "df/du1", "df/du2", "df/dx|gate2", "df/dz",
                     "df/dx|gate1", "df/dy", "df/dx"]
    values = exact_values(c)
    assert (values["df/dx|gate1"], values["df/dx|gate2"], values["df/dx"]) == (8, -2, 6)


@pytest.mark.parametrize("name", ["circuit-add-mul", "circuit-fan-out", "circuit-sigmoid-neuron"])
def test_the_exact_sweep_is_the_circuit(name):
    c = solved(name)
    assert sweep(c).computed == {k: v for k, v in exact_values(c).items() if k in sweep(c).computed}


def test_the_rounded_sweep_rounds_and_reuses():
    """The sigmoid neuron by hand to 4 decimals: e^-1 = 0.3679, 1.3679, 1/1.3679 = 0.73105 -> 0.7310 (the exact
    0.731059 rounds to 0.7311), -1/1.3679^2 = -0.5344."""
    w = sweep(solved("circuit-sigmoid-neuron"), 4)
    assert w.computed["u6"] == Fraction("0.3679") and w.computed["u7"] == Fraction("1.3679")
    assert w.computed["f"] == Fraction("0.7310")
    assert w.computed["df/du7"] == Fraction("-0.5344")  # -1/1.3679^2 = -0.53443...
    assert w.computed["df/du5"] == Fraction("-0.1966")  # 0.3679 * -0.5344 = -0.19660...
    assert w.computed["df/dw0"] == Fraction("-0.1966")


# ---------------------------------------------------------------- versions

def test_versions_are_hand_friendly_and_reproducible():
    spec = circuit_versions.load("circuit-fan-out")
    made = circuit_versions.versions(spec, 5, 42)
    assert [v.values for v in made] == [v.values for v in circuit_versions.versions(spec, 5, 42)]
    assert len({v.values for v in made} | {spec.values}) == 6
    for v in made:
        assert all(value.is_Integer and value != 0 and abs(value) <= 5 for _, value in v.values)
        c = circuit.solve(v)
        assert circuit_versions.problems(c, 4) == []
        x, z = c.values["x"], c.values["z"]
        assert x != z  # no tie at the max gate
    assert circuit_versions.load("circuit-fan-out@42-03").values == made[2].values


def test_a_decimal_input_gets_one_decimal():
    spec = circuit_spec.parse('[expression]\nf = "exp(a) * b"\n[values]\na = 0.5\nb = 2\n', "c.toml")
    for v in circuit_versions.versions(spec, 4, 1):
        a, b = dict(v.values)["a"], dict(v.values)["b"]
        assert (a * 10).is_Integer and abs(a) <= 3 and b.is_Integer


@pytest.mark.parametrize("formula, values, why", [
    ("max(x, y) * z", {"x": 2, "y": 2, "z": 1}, "a tie"),
    ("relu(x) * y", {"x": 0, "y": 3}, "at its kink"),
    ("exp(x) * y", {"x": 5, "y": 1}, "far out on its curve"),
    ("x * y * z", {"x": 40, "y": 30, "z": 2}, "too large"),
])
def test_problems_reject_what_is_not_good_by_hand(formula, values, why):
    spec = circuit_spec.parse("[expression]\n" f'f = "{formula}"\n[values]\n'
                              + "".join(f"{k} = {v}\n" for k, v in values.items()), "c.toml")
    assert any(why in p for p in circuit_versions.problems(circuit.solve(spec), 4))


# ---------------------------------------------------------------- worksheets

def test_the_key_of_the_textbook_circuit():
    ex = sheets.exercise(solved("circuit-add-mul"), Options(blanks="full", places=4), "x")
    assert {b.name: b.key for b in ex.blanks} == {"q": "3", "f": "-12", "df/dq": "-4", "df/dz": "3", "df/dx": "-4",
                                                   "df/dy": "-4"}
    assert [b.stage for b in ex.blanks] == ["forward"] * 2 + ["backward"] * 4


def test_the_key_of_the_sigmoid_neuron_is_a_hand_calculation():
    ex = sheets.exercise(solved("circuit-sigmoid-neuron"), Options(blanks="f,df/du7,df/dx0", places=4), "x")
    key = {b.name: b for b in ex.blanks}
    assert (key["f"].key, key["df/du7"].key, key["df/dx0"].key) == ("0.7310", "-0.5344", "0.3932")
    assert key["f"].values == ("0.7310", "0.7311")  # the key's value and the exact value rounded
    # the worked step puts in the rounded numbers before it
    assert "1.3679" in " ".join(rhs for _, _, rhs in key["df/du7"].step)


@pytest.mark.parametrize("blanks, error", [
    ("q, nonsense", "unknown level or quantity 'nonsense'"),
    ("x", "x is given on the sheet"),
    ("df/df", "given on the sheet"),
    (",", "no blank chosen"),
])
def test_bad_blanks(blanks, error):
    with pytest.raises(DeriveError, match=re.escape(error)):
        sheets.choose(solved("circuit-add-mul"), blanks)


def test_the_sheet_has_a_box_for_every_blank_and_the_key_fills_it():
    ex = sheets.exercise(solved("circuit-fan-out"), Options(blanks="full", places=4), "x")
    sheet, key = sheets.diagram(ex, False), sheets.diagram(ex, True)
    boxes = sum(e.blank_above + e.blank_below for e in sheet.edges) + sum(s.blank for s in sheet.sums)
    assert boxes == len(ex.blanks) == 13
    # on the sheet no box gives its answer away; on the key every box holds it
    assert not any(e.below for e in sheet.edges if e.key != "f>") and not any(e.fill_above for e in sheet.edges)
    fills = [e.fill_above for e in key.edges if e.blank_above] + [e.fill_below for e in key.edges if e.blank_below]
    assert sorted(fills + [s.fill for s in key.sums]) == sorted(b.key for b in ex.blanks)
    assert circuit_diagram.overlaps(sheet) == []


def test_worksheet_files(tmp_path):
    code = main(["worksheet", "circuit-fan-out", "--variants", "2", "--seed", "7", "--format", "md,moodle,qti,json,tex",
                 "--out", str(tmp_path)])
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"sheet-7-01.md", "key-7-02.md", "sheet-7-01.svg", "key-7-01.tex", "moodle.xml", "canvas-qti.zip",
            "worksheets.json"} <= set(names)
    moodle = (tmp_path / "moodle.xml").read_text()
    assert moodle.count('<question type="cloze">') == 2
    assert moodle.count("{1:NUMERICAL:") == 26
    picture = re.search(r'encoding="base64">([^<]+)<', moodle)[1]
    assert base64.b64decode(picture).startswith(b"<svg")
    assert "@@PLUGINFILE@@/circuit-7-01.svg" in moodle
    key = (tmp_path / "key-7-01.md").read_text()
    ex = sheets.exercises(circuit_versions.load("circuit-fan-out"), Options(blanks="full", places=4), 2, 7)[0]
    assert all(f"${b.key}$" in key for b in ex.blanks)
    assert "derive" not in (tmp_path / "sheet-7-01.md").read_text().lower()


def test_a_version_is_checked_against_its_own_numbers():
    ex = sheets.exercises(circuit_versions.load("circuit-fan-out"), Options(blanks="full", places=4), 3, 5)[2]
    text = "".join(f'"{b.name}" = {b.key}\n' for b in ex.blanks)
    report = grading.check_text(f"circuit-fan-out@{ex.ident}", text)
    assert report.count("right") == len(ex.blanks)


# ---------------------------------------------------------------- check

def test_right_answers_with_the_rounding_written():
    results = check("circuit-sigmoid-neuron", 'f = 0.73\n"df/dx0" = 0.3932\n"df/dw1" = -0.39\nu7 = 1.368\n')
    assert {n: r.verdict for n, r in results.items()} == {"u7": "right", "f": "right", "df/dw1": "right",
                                                            "df/dx0": "right"}
    assert check("circuit-sigmoid-neuron", "f = 0.7312\n")["f"].verdict == "wrong"


def test_aliases_name_the_same_quantity():
    results = check("circuit-fan-out", 'dx = 6\n"grad_w" = -9\n"df/dx@gate1" = 8\n')
    assert set(results) == {"df/dx", "df/dw", "df/dx|gate1"}
    with pytest.raises(DeriveError, match="unknown quantity"):
        check("circuit-fan-out", "dq = 1\n")


def test_follow_through_counts_one_slip_once():
    # q wrong (x - y instead of x + y), the rest computed from it
    results = check("circuit-add-mul", 'q = -7\nf = 28\n"df/dz" = -7\n"df/dq" = -4\n')
    assert results["q"].verdict == "wrong"
    assert results["f"].verdict == "consistent" and results["f"].follows == ("q",)
    assert results["df/dz"].verdict == "consistent"
    assert results["df/dq"].verdict == "right"


#: (circuit, answers, quantity, mistake kind, where it enters): the values are worked by hand
MISTAKES = [
    # f = q z: the multiply gate's gradient from its own input: df/dq = q = 3 instead of z = -4
    ("circuit-add-mul", '"df/dq" = 3\n', "df/dq", "mul_own_input", "df/dq"),
    ("circuit-add-mul", '"df/dx" = 3\n', "df/dx", "mul_own_input", "df/dq"),
    # x fans out into x*y (sends 8) and max(x, z) (sends -2): one branch only
    ("circuit-fan-out", '"df/dx" = 8\n', "df/dx", "fanout_not_summed", "df/dx"),
    ("circuit-fan-out", '"df/dx" = -2\n', "df/dx", "fanout_not_summed", "df/dx"),
    # max(3, 2) sends the upstream -2 to both x and z
    ("circuit-fan-out", '"df/dz" = -2\n', "df/dz", "max_both", "df/dz"),
    # 1/x at 1.36788: +1/x^2 = 0.534447 instead of -0.534447
    ("circuit-sigmoid-neuron", '"df/du7" = 0.5344\n', "df/du7", "recip_local", "df/du7"),
    # ... or -1/x = -0.731059
    ("circuit-sigmoid-neuron", '"df/du7" = -0.7311\n', "df/du7", "recip_local", "df/du7"),
    # exp at -1: its input -1 instead of e^-1 = 0.367879: -1 * -0.534447 = 0.534447
    ("circuit-sigmoid-neuron", '"df/du5" = 0.5344\n', "df/du5", "exp_local", "df/du5"),
    # upstream not multiplied at the multiply gate u1 = w0 x0: df/dx0 = w0 = 2
    ("circuit-sigmoid-neuron", '"df/dx0" = 2\n', "df/dx0", "upstream_not_multiplied", "df/dx0"),
    # upstream not multiplied at the last gate's input u3 -> df/du3 = 1 (the add gate's local gradient)
    ("circuit-add-mul", '"df/dx" = 1\n', "df/dx", "upstream_not_multiplied", "df/dx"),
]


@pytest.mark.parametrize("name, answers, quantity, kind, entry", MISTAKES)
def test_named_mistakes(name, answers, quantity, kind, entry):
    result = check(name, answers)[quantity]
    assert result.verdict == "wrong"
    assert kind in [d.mistake.kind for d in result.diagnoses]
    first = next(d for d in result.diagnoses if d.mistake.kind == kind)
    assert first.entry == entry


def test_a_diagnosis_states_the_right_numbers():
    r = check("circuit-fan-out", '"df/dx" = 8\n')["df/dx"]
    assert "(-2) + 8 = 6" in r.diagnoses[0].sentence
    text = grading.to_text(grading.check_text("circuit-fan-out", '"df/dx" = 8\n'))
    assert "df/dx = df/dx|gate2 + df/dx|gate1 = (-2) + 8 = 6" in text


def test_the_sigmoid_gate_local_gradient():
    spec = circuit_spec.parse('[expression]\nf = "sigmoid(w*x)"\n[values]\nw = 2\nx = 0.5\n', "c.toml")
    c = circuit.solve(spec)
    sigma = to_float(c.values["f"])
    report = grading.check(c, grading.parse_answers(f'"df/dw" = {round(sigma * 0.5, 4)}\n', "a", c))
    assert report.results[0].diagnoses[0].mistake.kind == "sigmoid_local"


def test_a_slip_no_mistake_explains():
    r = check("circuit-add-mul", '"df/dz" = 4\n')["df/dz"]
    assert r.verdict == "wrong" and not r.diagnoses and r.note


def test_check_command_on_a_circuit(tmp_path, capsys):
    answers = tmp_path / "a.toml"
    answers.write_text('q = 3\n"df/dx" = -4\n')
    assert main(["check", "circuit-add-mul", str(answers)]) == 0
    answers.write_text('q = 3\n"df/dx" = 3\n')
    assert main(["check", "circuit-add-mul", str(answers), "--format", "json"]) == 1
    assert '"mistake": "mul_own_input"' in capsys.readouterr().out
    answers.write_text("df/dx = 3\n")
    assert main(["check", "circuit-add-mul", str(answers)]) == 2
    assert "must be in quotes" in capsys.readouterr().err


# ---------------------------------------------------------------- a neuron as a circuit

@pytest.mark.parametrize("unit", [None, "h2", "o1", "out_o2"])
def test_a_neuron_of_the_blog_network_is_its_circuit(unit):
    solution = solve(load("mazur"))
    spec, link = neuron_circuit.neuron(solution, unit)
    c = circuit.solve(spec)
    neuron_circuit.check(c, link)  # net, out and every gradient times dE/dout are the network's
    if unit is None:
        assert link.unit == "h1" and [g.kind for g in c.gates] == ["mul", "mul", "add", "add", "sigmoid"]
        assert float(to_float(c.values["net_h1"])) == pytest.approx(0.3775)
        assert float(to_float(c.values["out_h1"])) == pytest.approx(0.593269992, abs=1e-9)
        assert float(to_float(link.parameters[0][2])) == pytest.approx(0.000438568, abs=1e-9)


def test_a_neuron_circuit_that_disagrees_is_caught():
    spec, link = neuron_circuit.neuron(solve(load("mazur")))
    c = circuit.solve(spec)
    wrong = c.gradients | {"w1": c.gradients["w1"] * 2}
    with pytest.raises(neuron_circuit.NeuronMismatch):
        neuron_circuit.check(type(c)(**{**c.__dict__, "gradients": wrong}), link)


def test_as_circuit_command(tmp_path):
    assert main(["solve", "mazur", "--as-circuit", "--unit", "o1", "--format", "md", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "solution.md").read_text()
    assert "The unit in the network" in text and "0.0821670406" in text  # the network's dE_total/dw5
    assert main(["solve", "mazur", "--as-circuit", "--unit", "z9", "--format", "md", "--out", str(tmp_path)]) == 2
