"""Worksheets: right keys (against an independent hand calculation), good versions, importable quizzes."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal

import pytest

from derive import solve
from derive.cli import main
from derive.core.versions import load, problems, versions
from derive.documents.options import Options
from derive.errors import DeriveError
from derive.exercises.batch import to_json
from derive.exercises.moodle import moodle_xml
from derive.exercises.worksheet import choose, exercise
from derive.formats.latex import compile_pdf, dumped_preamble

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")


def hand(spec, places=4):
    """A 2-2-2 sigmoid network worked by hand: every result rounded to ``places`` decimals and reused."""
    q = Decimal(1).scaleb(-places)
    r = lambda x: Decimal(x).quantize(q, rounding=ROUND_HALF_UP)
    sig = lambda z: r(1 / (1 + math.exp(-float(z))))  # a calculator's sigmoid; only the rounding matters
    x = [Decimal(str(float(v))) for v in spec.inputs[0]]
    t = [Decimal(str(float(v))) for v in spec.targets[0]]
    W1 = [[Decimal(str(float(v))) for v in row] for row in spec.weights[0]]
    W2 = [[Decimal(str(float(v))) for v in row] for row in spec.weights[1]]
    b1 = [Decimal(str(float(v))) for v in spec.biases[0]]
    b2 = [Decimal(str(float(v))) for v in spec.biases[1]]
    eta = Decimal(str(float(spec.learning_rate)))
    key = {}
    h = []
    for j in range(2):
        key[f"net_h{j + 1}"] = net = r(W1[j][0] * x[0] + W1[j][1] * x[1] + b1[j])
        key[f"out_h{j + 1}"] = out = sig(net)
        h.append(out)
    o = []
    for k in range(2):
        key[f"net_o{k + 1}"] = net = r(W2[k][0] * h[0] + W2[k][1] * h[1] + b2[k])
        key[f"out_o{k + 1}"] = out = sig(net)
        o.append(out)
    key["E_o1"] = r((t[0] - o[0]) ** 2 / 2)
    key["E_o2"] = r((t[1] - o[1]) ** 2 / 2)
    key["E_total"] = r(key["E_o1"] + key["E_o2"])
    delta_o = []
    for k in range(2):
        key[f"dE_total/dout_o{k + 1}"] = g = r(o[k] - t[k])
        key[f"dout_o{k + 1}/dnet_o{k + 1}"] = s = r(o[k] * (1 - o[k]))
        key[f"delta_o{k + 1}"] = d = r(g * s)
        delta_o.append(d)
        for j in range(2):
            name = f"w{5 + 2 * k + j}"
            key[f"dE_total/d{name}"] = gw = r(d * h[j])
            key[f"{name}_new"] = r(W2[k][j] - eta * gw)
        key[f"dE_total/db_o{k + 1}"] = d
    for j in range(2):
        paths = [r(delta_o[k] * W2[k][j]) for k in range(2)]
        key[f"dE_total/dout_h{j + 1}"] = g = r(paths[0] + paths[1])
        key[f"dout_h{j + 1}/dnet_h{j + 1}"] = s = r(h[j] * (1 - h[j]))
        key[f"delta_h{j + 1}"] = d = r(g * s)
        for i in range(2):
            name = f"w{1 + 2 * j + i}"
            key[f"dE_total/d{name}"] = gw = r(d * x[i])
            key[f"{name}_new"] = r(W1[j][i] - eta * gw)
        key[f"dE_total/db_h{j + 1}"] = d
    return key


@pytest.mark.parametrize("seed", [1, 42, 2026])
def test_keys_match_an_independent_hand_calculation(seed):
    for spec in versions(load("mazur"), 5, seed):
        ex = exercise(solve(spec), Options(blanks="full", places=4), "x")
        expected = hand(spec)
        for blank in ex.blanks:
            assert Decimal(blank.key) == expected[blank.name], (spec.name, blank.name)


def test_keys_are_right_for_the_check_engine(tmp_path, capsys):
    """A student who writes the key's numbers for version 42-07 passes `derive check mazur@42-07`."""
    ex = exercise(solve("mazur@42-07"), Options(blanks="full", places=4), "42-07")
    answers = tmp_path / "answers.toml"
    answers.write_text("\n".join(f'"{b.name}" = {b.key}' for b in ex.blanks) + "\n")
    assert main(["check", "mazur@42-07", str(answers)]) == 0
    # and the same numbers are not right for another version
    assert main(["check", "mazur@42-08", str(answers)]) == 1


@pytest.mark.parametrize("seed", range(1, 16))
def test_versions_are_hand_friendly_and_different(seed):
    made = versions(load("mazur-torch"), 8, seed)
    assert all(problems(spec, 4) == [] for spec in made)
    assert len({(s.weights, s.biases, s.inputs, s.targets) for s in made}) == len(made)
    for spec in made:
        for value in [v for m in spec.weights for row in m for v in row] + [v for row in spec.inputs for v in row]:
            assert (value * 20).denominator == 1  # multiples of 0.05


def test_same_seed_same_versions():
    a = [exercise(solve(s), Options(blanks="forward", places=4), s.name) for s in versions(load("mazur"), 3, 9)]
    b = [exercise(solve(s), Options(blanks="forward", places=4), s.name) for s in versions(load("mazur"), 3, 9)]
    assert to_json(a) == to_json(b)


@pytest.mark.parametrize("blanks, names", [
    ("forward", ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2",
                 "E_o1", "E_o2", "E_total"]),
    ("update", ["w5_new", "w6_new", "w7_new", "w8_new", "w1_new", "w2_new", "w3_new", "w4_new"]),
    ("out_o1,dE_total/dw5", ["out_o1", "dE_total/dw5"]),
])
def test_blanks_by_level_stage_and_name(blanks, names):
    from derive.core.steps import Steps

    assert [s.name for s in choose(Steps(solve("mazur")), blanks)] == names


def test_moodle_quiz_has_the_structure_moodle_imports():
    made = [exercise(solve(s), Options(blanks="full", places=4), s.name.split("@")[1]) for s in versions(load("mazur"), 3, 5)]
    root = ET.fromstring(moodle_xml(made, "Backpropagation"))
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    cloze = [q for q in questions if q.get("type") == "cloze"]
    assert len(cloze) == 3
    for q, ex in zip(cloze, made):
        assert q.find("name/text").text.endswith(f"(version {ex.ident})")
        # each field: its marks, then the key's value first, at 100 % (tests/test_fair_marking.py parses the rest)
        fields = re.findall(r"\{(\d+):NUMERICAL:=([-\d.]+):([\d.]+)#", q.find("questiontext/text").text)
        from derive.exercises.worksheet import by_stage

        in_order = [b for _, group in by_stage(ex) for b in group]
        assert len(fields) == len(in_order) == len(ex.blanks)
        for (marks, value, tolerance), blank in zip(fields, in_order):
            assert value == blank.key and Decimal(tolerance) == Decimal("0.00005") and int(marks) == blank.marks


@needs_tex
def test_worksheet_command_writes_sheets_keys_and_combined_pdfs(tmp_path):
    assert main(["worksheet", "mazur", "--variants", "2", "--seed", "3", "--out", str(tmp_path),
                 "--format", "pdf,moodle,json"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["key-3-01.pdf", "key-3-02.pdf", "keys.pdf", "moodle.xml", "sheet-3-01.pdf", "sheet-3-02.pdf",
                     "sheets.pdf", "worksheets.json"]
    again = tmp_path / "again"
    assert main(["worksheet", "mazur", "--variants", "2", "--seed", "3", "--out", str(again),
                 "--format", "pdf,moodle,json"]) == 0
    for name in names:  # same input, same bytes: the combined PDFs too (pdfunite's random /ID is replaced)
        assert (tmp_path / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize("args, message", [
    (["--blanks", "outt_o1"], "unknown level, stage or quantity 'outt_o1' (did you mean 'out_o1'?)"),
    (["--blanks", "w5"], "w5 is given on the sheet, not an answer"),
    (["--places", "20"], "--places: expected a number of decimals from 0 to 12"),
])
def test_bad_worksheet_arguments(tmp_path, capsys, args, message):
    assert main(["worksheet", "mazur", "--format", "json", "--out", str(tmp_path / "o"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("convention, symbols", [
    ("han", [r"\mathrm{Err}_{6}", r"w_{46}^{+}", r"I_{3}", r"l = "]),
    ("mitchell", [r"\mathrm{net}_{6}", r"o_{3}", r"\frac{\partial E}{\partial w_{64}}"]),
    ("hagan", [r"n^{1}_{2}", r"s^{2}_{1}", r"\alpha = "]),
    ("deeplearning-ai", [r"Z^{[1]}_{2}", r"dW^{[2]}_{21}"]),
])
def test_a_worksheet_in_a_books_convention_is_checked_by_the_books_names(convention, symbols, tmp_path):
    """The sheet and key print the book's names; a student who types those names and the key's numbers is right."""
    from dataclasses import replace

    from derive.exercises.batch import WORKSHEETS, Batch

    spec = replace(load("mazur@42-07"), convention=convention)
    ex = exercise(solve(spec), Options(blanks="full", places=4, formulas=True), "42-07")
    plain = exercise(solve("mazur@42-07"), Options(blanks="full", places=4), "42-07")
    files = WORKSHEETS.files(Batch([ex], None, False), [WORKSHEETS["md"]])
    sheet, key = files["sheet-42-07.md"], files["key-42-07.md"]
    for text in (sheet, key):
        assert r"\mathrm{net}_{h_{1}}" not in text and r"\delta_{o_{1}}" not in text
        for symbol in symbols:
            assert symbol in text, (convention, symbol)
    sign = CONVENTIONS_SIGN[convention]
    for mine, theirs in zip(ex.blanks, plain.blanks):
        assert mine.name == theirs.name and mine.typed != theirs.name
        expected = -Decimal(theirs.key) if mine.name.startswith("delta") else Decimal(theirs.key)
        assert Decimal(mine.key) == (expected if sign < 0 else Decimal(theirs.key)), mine.name
        assert mine.derive_key == theirs.key
    answers = tmp_path / "answers.toml"
    answers.write_text("\n".join(f'"{b.typed}" = {b.key}' for b in ex.blanks) + "\n")
    assert main(["check", "--convention", convention, "mazur@42-07", str(answers)]) == 0
    # the key's numbers under the book's names are not right for another version
    assert main(["check", "--convention", convention, "mazur@42-08", str(answers)]) == 1


CONVENTIONS_SIGN = {"han": -1, "mitchell": -1, "hagan": 1, "deeplearning-ai": 1}


# -- optimizer specs: the optimizer's state and parameters of every step are blanks ----------------------------
def test_optimizer_sheet_asks_for_the_state_and_parameters_of_both_steps():
    """mazur-adam, --blanks w5 at 7 decimals: m, v, m-hat, v-hat and w5 of steps 1 and 2, in working order."""
    ex = exercise(solve("mazur-adam"), Options(blanks="w5", places=7), "adam")
    assert [b.name for b in ex.blanks] == ["m_w5[1]", "v_w5[1]", "m_hat_w5[1]", "v_hat_w5[1]", "w5[1]",
                                           "m_w5[2]", "v_w5[2]", "m_hat_w5[2]", "v_hat_w5[2]", "w5[2]"]
    by = {b.name: b for b in ex.blanks}
    # an independent hand calculation of Adam's first step from the exact gradient: m-hat = g, v-hat = g^2, so
    # w5[1] = 0.4 - 0.1 g / (|g| + 1e-8), 0.3 to 7 decimals; the key's calculation rounds v to 7 decimals first
    assert "0.3000000" in by["w5[1]"].values
    g = Decimal("0.0821670406")  # dE/dw5 of the blog network
    m = (Decimal("0.1") * g).quantize(Decimal("1e-7"), rounding=ROUND_HALF_UP)
    assert by["m_w5[1]"].key == str(m)
    v = (Decimal("0.001") * Decimal("0.0821671") ** 2).quantize(Decimal("1e-7"), rounding=ROUND_HALF_UP)
    assert by["v_w5[1]"].key == str(v)
    v_hat = (v / Decimal("0.001")).quantize(Decimal("1e-7"), rounding=ROUND_HALF_UP)
    assert by["v_hat_w5[1]"].key == str(v_hat)
    m_hat = (m / Decimal("0.1")).quantize(Decimal("1e-7"), rounding=ROUND_HALF_UP)
    w = Decimal("0.4") - Decimal("0.1") * m_hat / (Decimal(math.sqrt(v_hat)) + Decimal("1e-8"))
    assert by["w5[1]"].key == str(w.quantize(Decimal("1e-7"), rounding=ROUND_HALF_UP))


def test_optimizer_sheet_gives_the_later_gradients_and_names_the_optimizer(tmp_path):
    out = tmp_path / "out"
    assert main(["worksheet", "mazur-adam", "--blanks", "forward,w5", "--places", "7", "--format", "md,moodle",
                 "--out", str(out)]) == 0
    sheet = (out / "sheet-mazur-adam.md").read_text()
    assert r"two steps of Adam with learning rate $\eta = 0.1$, $\beta_1 = 0.9$, $\beta_2 = 0.999$" in sheet
    assert r"$\partial E/\partial w_{5}^{(1)}$ | 0.0817255 |" in sheet  # step 2's gradient, given
    assert "b_{o_{2}}^{(1)}" not in sheet  # only the asked parameter's
    assert "v_{2}(w_{5})" in (out / "moodle.xml").read_text()


def test_optimizer_keys_pass_check(tmp_path):
    """Every value the key accepts for the optimizer's blanks passes `derive check mazur-adam`."""
    ex = exercise(solve("mazur-adam"), Options(blanks="w5,b_o2", places=7), "adam")
    for k in range(max(len(b.values) for b in ex.blanks)):
        answers = tmp_path / f"answers{k}.toml"
        answers.write_text("\n".join(f'"{b.name}" = {b.values[min(k, len(b.values) - 1)]}' for b in ex.blanks) + "\n")
        assert main(["check", "mazur-adam", str(answers)]) == 0, k


@pytest.mark.parametrize("blanks, places, message", [
    ("w5", 4, "v_w5[1] is 6.75e-06: at 4 decimals it keeps fewer than 2 significant figures"),
    ("w5", 4, "--places 7"),
    ("w55", 7, "unknown level, stage or quantity 'w55'"),
])
def test_optimizer_sheet_refusals(blanks, places, message):
    with pytest.raises(DeriveError, match=re.escape(message)):
        exercise(solve("mazur-adam"), Options(blanks=blanks, places=places), "adam")


@needs_tex
def test_a_batch_loads_its_shared_preamble_as_a_format(tmp_path):
    """The format made of a batch's preamble gives the same pages as compiling each document alone."""
    assert main(["worksheet", "mazur", "--variants", "2", "--seed", "3", "--format", "tex", "--out", str(tmp_path)]) == 0
    key = (tmp_path / "key-3-01.tex").read_text()
    with dumped_preamble(key) as preamble:
        assert preamble is not None and key.startswith(preamble.text) and "\\pdftrailerid" in preamble.settings
        fast, log = compile_pdf(key, "key.tex", preamble=preamble)
    assert "format=preamble" in log
    alone, log = compile_pdf(key, "key.tex")
    assert "format=preamble" not in log
    (tmp_path / "fast.pdf").write_bytes(fast)
    (tmp_path / "alone.pdf").write_bytes(alone)
    text = [subprocess.run(["pdftotext", "-layout", str(tmp_path / f"{n}.pdf"), "-"], capture_output=True,
                           text=True, check=True).stdout for n in ("fast", "alone")]
    assert text[0] == text[1] and "page 1 of" in text[0].lower()
