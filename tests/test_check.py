"""derive check: verdicts that respect rounding, follow-through credit, named mistakes, answers files.

Oracles: the engine's reverse sweep (the step graph must reproduce it), independent
plain-Python hand calculations of the mazur example, the blog author's published
buggy loss, PyTorch running the first source document's own backward pass, and
answer keys of hand calculations that round every intermediate.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pytest
from randomnet import spec_text

from make_check_examples import MAZUR_ANSWERS, generate
from make_check_examples import mlp_answers as _mlp_answers
import derive
from derive.cli import main
from derive.core import backprop
from derive.core.numeric import round_decimal
from derive.core.solve import solve
from derive.core.spec import parse
from derive.core.steps import Steps
from derive.core.versions import load
from derive.errors import DeriveError
from derive.grading.answers import Answer
from derive.grading.answers import parse as parse_answers
from derive.grading.check import CONSISTENT, RIGHT, WRONG, check, check_text
from derive.grading.mistakes import KINDS, Mistake, variants
from derive.grading.rounding import answer_key, written_places

ROOT = Path(__file__).resolve().parent.parent
mlp_answers = lru_cache(maxsize=None)(_mlp_answers)
RANDOM_SEEDS = range(6)


@lru_cache(maxsize=None)
def steps_of(source: str) -> Steps:
    """The step graph of a preset, a random network ('random-3') or a batch network ('batch-mse')."""
    if source.startswith("random-"):
        spec = parse(spec_text(int(source.split("-")[1])), f"{source}.toml")
    elif source == "softmax-mse":  # a batch through a softmax output under the squared error
        text = spec_text(9, sizes=[2, 2, 3], activations=["tanh", "softmax"], loss="mse", batch=2, steps=1,
                         update_biases=True)
        spec = parse(text, f"{source}.toml")
    elif source.startswith("opt "):  # the blog network trained two steps by an optimizer: 'opt optimizer=adam eps=0.001'
        keys = dict(item.split("=") for item in source.split()[1:])
        lines = ["learning_rate = 0.1", "steps = 2", "update_biases = true"]
        lines += [f"{k} = {v if v[0].isdigit() or v in ('true', 'false') else repr(v)}" for k, v in keys.items()]
        text = (Path(__file__).resolve().parent.parent / "derive/presets/mazur-adam.toml").read_text().split("[training]")[0]
        # larger inputs than the blog's: the hidden weights' second moments are not below what 9 decimals show
        text = text.replace("inputs  = [[0.05, 0.10]]", "inputs  = [[1.5, 2.5]]")
        spec = parse(text + "[training]\n" + "\n".join(lines) + "\n", "optimizer.toml")
    elif source.startswith("batch-"):
        loss = source.split("-")[1]
        text = spec_text(5, sizes=[2, 2, 1], activations=["tanh", "sigmoid"], loss=loss, batch=2, steps=1,
                         update_biases=True)
        spec = parse(text, f"{source}.toml")
    else:
        spec = load(source)
    return Steps(solve(spec, verify_symbolic=False))


def answers_at(steps: Steps, values: dict, places: int) -> list[Answer]:
    """Answers written with ``places`` decimals."""
    return [Answer(name, name, round_decimal(v, places)) for name, v in values.items()]


def verdicts(report) -> dict:
    return {r.name: r.verdict for r in report.results}


# -- the step graph is the engine's sweep, linked step by step ----------------------------------

@pytest.mark.parametrize("source", ["mazur", "mazur-torch", "mlp-relu", "batch-mse", "softmax-ce", "softmax-mse"]
                         + [f"random-{s}" for s in RANDOM_SEEDS])
def test_step_graph_reproduces_the_sweep(source):
    steps = steps_of(source)
    steps.verify()  # raises on any difference
    assert [s.name for s in steps if s.name != "eta"] == list(steps.exact_values)


# -- verdicts that respect rounding ------------------------------------------------------------

RULE_CASES = [
    # (name, as written, verdict): exact values out_o1 = 0.7513650695..., dE_total/dout_h1 = 0.0363503063...
    ("out_o1", "0.7514", RIGHT),  # the example
    ("out_o1", "0.7513", WRONG),  # ... and its counter-example
    ("out_o1", "0.75", RIGHT),
    ("out_o1", "0.76", WRONG),
    ("out_o1", "0.751365070", RIGHT),
    ("out_o1", "0.751365071", WRONG),
    ("out_o1", "1", RIGHT),  # a whole number: d = 0
    ("E_total", "0.2983711063861847", RIGHT),  # the second source document's float32 printout
    ("E_total", "0.2983721063861847", WRONG),
    ("dE_total/dw1", "4.3857e-4", RIGHT),
    ("dE_total/dw1", "4.3858e-4", WRONG),
    ("dE_total/dout_h1", "0.0364", RIGHT),  # the exact value rounded
    ("dE_total/dout_h1", "0.0363", RIGHT),  # what rounding every intermediate to 4 decimals gives
    ("dE_total/dout_h1", "0.0362", WRONG),
    ("w5_new", "0.35891648", RIGHT),
    ("w5_new", "0.35891647", WRONG),
]


@pytest.mark.parametrize("name, written, verdict", RULE_CASES)
def test_rounding_rule(name, written, verdict):
    steps = steps_of("mazur")
    report = check(steps, parse_answers(f'"{name}" = {written}\n', "answers.toml", steps))
    assert report.results[0].verdict == verdict
    assert report.exit_code == (0 if verdict == RIGHT else 1)


@pytest.mark.parametrize("text, places", [("0.7514", 4), ("4.3857e-4", 8), ("1", 0), ("0.70", 2), ("2.5E+1", 0),
                                          ("0.2983711063861847", 6), ("1234.567891234567", 2)])
def test_written_places(text, places):
    number = int(text) if text.isdigit() else Decimal(text)
    assert written_places(number) == places


@pytest.mark.parametrize("source", ["mazur", "mazur-torch", "mlp-relu", "batch-sse", "random-2", "random-5",
                                    "softmax-ce", "softmax-mse"])
def test_right_answers_pass_at_every_precision(source):
    steps = steps_of(source)
    computed = {s.name: steps.exact(s.name) for s in steps if not s.given}
    for places in range(2, 10):
        report = check(steps, answers_at(steps, computed, places))
        assert report.exit_code == 0, [(r.name, r.answer.text) for r in report.results if r.verdict != RIGHT][:3]


@pytest.mark.parametrize("seed", [*RANDOM_SEEDS, "softmax-ce", "softmax-mse"])
def test_no_false_alarm_on_hand_rounded_keys(seed):
    """A calculation that rounds every intermediate to K decimals is right, whichever of its numbers it writes."""
    steps = steps_of(seed if isinstance(seed, str) else f"random-{seed}")
    rng = random.Random(seed)
    for places in range(2, 10):
        key = answer_key(steps, places)
        names = list(key)
        for chosen in (names, [n for n in names if rng.random() < 0.25] or names[-1:]):
            report = check(steps, [Answer(n, n, key[n][0]) for n in chosen])
            assert report.exit_code == 0, (places, [(r.name, r.answer.text) for r in report.results if r.verdict != RIGHT][:3])


def test_round_intermediate_command(tmp_path, capsys):
    assert main(["solve", "mazur", "--format", "json", "--round-intermediate", "4", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "rounding every intermediate to 4 decimals: 5 of 59 values differ" in printed
    key = (tmp_path / "answer-key-4dp.toml").read_text()
    assert 'out_h1 = 0.5933' in key and '"dE_total/dout_h1" = 0.0363' in key  # the drift of a 4-decimal calculation
    assert main(["check", "mazur", str(tmp_path / "answer-key-4dp.toml")]) == 0
    assert main(["solve", "mazur", "--format", "json", "--round-intermediate", "-1", "--out", str(tmp_path)]) == 2


# -- named mistakes ------------------------------------------------------------------------------

MISTAKE_CASES = [
    # (network, mistake, first diagnoses accepted when only gradients and updates are given)
    ("mlp-relu", Mistake("relu_mask_on_output", 1), ()),
    ("mazur", Mistake("sign_flipped"), ()),
    ("mazur", Mistake("update_plus"), ()),
    ("mazur", Mistake("no_learning_rate"), ()),
    ("mazur", Mistake("derivative_left_out"), ()),
    ("mazur", Mistake("derivative_left_out", 1), ()),
    ("mazur", Mistake("derivative_at_out", 2), ()),
    ("mazur", Mistake("identity_at_net", 1), ()),
    ("mazur", Mistake("one_path", 1, 0), ()),
    ("mazur", Mistake("one_path", 1, 1), ()),
    ("mazur", Mistake("updated_weights", 1), ()),
    ("mazur", Mistake("half_dropped"), ()),
    ("mazur", Mistake("output_mean_added"), ()),
    ("mazur", Mistake("wrong_unit_input", 1), ()),
    ("mazur", Mistake("transposed_gradient", 1), ()),
    ("mazur", Mistake("bias_input", None, -1), ()),
    ("mazur", Mistake("bias_input", None, 1), ()),
    ("mazur-torch", Mistake("factor_two_forgotten"), ()),
    ("mazur-torch", Mistake("half_added"), ("factor_two_forgotten",)),  # same gradients: only E tells them apart
    ("mazur-torch", Mistake("output_mean_dropped"), ()),
    ("batch-mse", Mistake("batch_mean_dropped"), ()),
    ("batch-sse", Mistake("batch_mean_added"), ("factor_two_forgotten",)),  # N = 2: both halve every gradient
    ("softmax-ce", Mistake("softmax_diagonal"), ()),
    ("softmax-ce", Mistake("sign_flipped"), ()),
    ("softmax-mse", Mistake("softmax_diagonal"), ()),
    ("softmax-mse", Mistake("batch_mean_dropped"), ()),
    # optimizers: every answer from the first two steps, or only the first step's updates
    ("opt optimizer=adam", Mistake("no_bias_correction"), ("t_from_zero",)),  # step 1 alike: t - 1 = 0 corrects nothing
    ("opt optimizer=adam eps=0.001", Mistake("eps_inside_sqrt"), ()),
    ("opt optimizer=rmsprop eps=0.001", Mistake("eps_inside_sqrt"), ()),
    ("opt optimizer=adam", Mistake("beta_swapped"), ()),
    ("opt optimizer=rmsprop", Mistake("beta_swapped"), ()),
    ("opt optimizer=adam", Mistake("t_from_zero"), ("no_bias_correction",)),
    ("opt optimizer=momentum", Mistake("momentum_sign"), ()),
    ("opt optimizer=nesterov", Mistake("momentum_sign"), ()),
    ("opt optimizer=adamw weight_decay=0.1 decay_biases=false", Mistake("decay_on_biases"), ()),
    ("opt optimizer=sgd l2=0.5 decay_biases=false", Mistake("decay_on_biases"), ()),
    ("opt optimizer=adam weight_decay=0.1", Mistake("decay_confused"), ()),
    ("opt optimizer=adamw weight_decay=0.1", Mistake("decay_confused"), ()),
]


def test_every_kind_of_mistake_is_tested():
    assert {m.kind for _, m, _ in MISTAKE_CASES} == set(KINDS)


@pytest.mark.parametrize("source, mistake, alike", MISTAKE_CASES, ids=lambda v: getattr(v, "kind", None))
@pytest.mark.parametrize("mode", ["every step, 9 decimals", "gradients and updates, 9 decimals",
                                  "every step, rounded as it goes (4 decimals; 8 for an optimizer)"])
def test_mistake_is_diagnosed(source, mistake, alike, mode):
    steps = steps_of(source)
    assert mistake in variants(steps.spec)
    # an optimizer's second moments are about 1e-5: a hand calculation keeps them to 8 decimals, not 4
    rounded = 8 if source.startswith("opt") else 4
    places = rounded if "rounded" in mode else 9
    world = steps.world(mistake, places=rounded if "rounded" in mode else None)
    updates = lambda s: s.kind in ("gradient", "updated") or s.key[:1] == ("opt",) and s.key[2] == "p"  # w5[2]
    names = [s.name for s in steps if not s.given and (mode.startswith("every") or updates(s))]
    report = check(steps, answers_at(steps, {n: world.computed(n) for n in names}, places))
    results = {r.name: r for r in report.results}
    wrong = [r for r in report.results if r.verdict == WRONG]
    assert wrong, "the mistake changed no answer"
    accepted = {mistake.kind, *alike} if mode.startswith("gradients") else {mistake.kind}
    for r in wrong:
        assert r.diagnoses, f"{r.name} = {r.answer.text}: no diagnosis"
        assert r.diagnoses[0].mistake.kind in accepted, (r.name, [d.title for d in r.diagnoses])
        if mode.startswith("every"):  # diagnosed where it is made; what follows is consistent
            assert mistake.formula(steps[r.name], steps) is not None, r.name
        assert r.diagnoses[0].sentence
    if places == 9:
        for name, r in results.items():
            changed = round_decimal(world.computed(name), 9) != round_decimal(steps.exact(name), 9)
            assert (r.verdict != RIGHT) == changed, (name, r.verdict)
    for r in report.results:
        if r.verdict == CONSISTENT:
            assert all(results[f].verdict == WRONG for f in r.follows)


def test_the_blog_authors_bug_gives_the_published_loss():
    """Updated output weights in the hidden deltas: the loss after one step is 0.291027924, not 0.291027774."""
    steps = steps_of("mazur")
    spec, rules = steps.spec, steps.rules

    def loss_after(world):
        weights = [None] + [
            tuple(tuple(world.computed(steps.by_key[("updated", "W", l, j, i)].name) for i in range(spec.sizes[l - 1]))
                  for j in range(spec.sizes[l]))
            for l in range(1, spec.layers + 1)
        ]
        biases = [None] + [rules.lift(b) for b in spec.biases]
        return backprop.forward(spec, rules, weights, biases)[-1]

    assert str(round_decimal(loss_after(steps.world()), 9)) == "0.291027774"
    assert str(round_decimal(loss_after(steps.world(Mistake("updated_weights"))), 9)) == "0.291027924"


# -- follow-through ------------------------------------------------------------------------------

def _r4(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def hand_calculation(out_h1_slip: str | None, one_path: bool = False) -> dict:
    """The mazur example by hand in plain Python, 4 decimals throughout (an oracle independent of derive)."""
    sig = lambda z: 1 / (1 + math.exp(-z))
    i1, i2, t1 = 0.05, 0.10, 0.01
    h = {}
    h["net_h1"] = _r4(0.15 * i1 + 0.20 * i2 + 0.35)
    h["out_h1"] = Decimal(out_h1_slip) if out_h1_slip else _r4(sig(float(h["net_h1"])))
    h["net_h2"] = _r4(0.25 * i1 + 0.30 * i2 + 0.35)
    h["out_h2"] = _r4(sig(float(h["net_h2"])))
    a, b = float(h["out_h1"]), float(h["out_h2"])
    h["net_o1"] = _r4(0.40 * a + 0.45 * b + 0.60)
    h["out_o1"] = _r4(sig(float(h["net_o1"])))
    o = float(h["out_o1"])
    h["E_o1"] = _r4(0.5 * (t1 - o) ** 2)
    h["dE/dout_o1"] = _r4(o - t1)
    h["dout_o1/dnet_o1"] = _r4(o * (1 - o))
    h["delta_o1"] = _r4(float(h["dE/dout_o1"]) * float(h["dout_o1/dnet_o1"]))
    d = float(h["delta_o1"])
    h["dE/dw5"] = _r4(d * a)
    h["w5+"] = _r4(0.40 - 0.5 * float(h["dE/dw5"]))
    h["dE/dw6"] = _r4(d * b)
    if one_path:  # only the path through o1: dE/dout_h1 = delta_o1 * w5
        h["dE/dout_h1"] = _r4(d * 0.40)
    return h


FOLLOW = {  # the expected verdicts of the chain with out_h1 slipped (0.5393 for 0.5933)
    "net_h1": RIGHT, "out_h1": WRONG, "net_h2": RIGHT, "out_h2": RIGHT, "net_o1": CONSISTENT, "out_o1": CONSISTENT,
    "E_o1": CONSISTENT, "dE/dout_o1": CONSISTENT, "dout_o1/dnet_o1": CONSISTENT, "delta_o1": CONSISTENT,
    "dE/dw5": CONSISTENT, "w5+": CONSISTENT, "dE/dw6": CONSISTENT,
}


def _toml(h: dict) -> str:
    return "".join(f'"{k}" = {v}\n' for k, v in h.items())


def check_toml(source: str, text: str):
    steps = steps_of(source)
    return check(steps, parse_answers(text, "answers.toml", steps))


def test_check_text_solves_the_spec_itself():
    assert [r.verdict for r in check_text("mazur", 'out_o1 = 0.7514\n"w5+" = 0.3589\n').results] == [RIGHT, RIGHT]


def test_a_correct_hand_calculation_is_right():
    report = check_toml("mazur", _toml(hand_calculation(None)))
    assert report.exit_code == 0


def test_follow_through_after_one_early_slip():
    report = check_toml("mazur", _toml(hand_calculation("0.5393")))
    labels = {r.answer.label: r for r in report.results}
    assert {label: r.verdict for label, r in labels.items()} == FOLLOW
    for label, r in labels.items():
        if r.verdict == CONSISTENT:
            assert r.follows == ("out_h1",)
    assert "consistent with your out_h1" in main_text("mazur", _toml(hand_calculation("0.5393")))
    assert report.summary().startswith("13 answers: 3 right, 1 wrong, 9 consistent")


def test_a_named_mistake_after_a_slip_is_diagnosed_from_the_students_numbers():
    h = hand_calculation("0.5393", one_path=True)
    report = check_toml("mazur", _toml(h))
    r = next(r for r in report.results if r.answer.label == "dE/dout_h1")
    assert r.verdict == WRONG and r.diagnoses[0].mistake == Mistake("one_path", 1, 0)
    assert "Only the path through o1" in r.diagnoses[0].sentence


def main_text(spec: str, toml: str) -> str:
    import contextlib
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answers.toml"
        path.write_text(toml)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["check", spec, str(path)])
    return out.getvalue()


# -- answers files --------------------------------------------------------------------------------

ALIASES = [
    ("mazur", "dE/dw5", "dE_total/dw5"),
    ("mazur", "DE_TOTAL/DW5", "dE_total/dw5"),
    ("mazur", "∂E/∂w5", "dE_total/dw5"),
    ("mazur", "w5+", "w5_new"),
    ("mazur", "w5'", "w5_new"),
    ("mazur", "new_w5", "w5_new"),
    ("mazur", "W5_NEW", "w5_new"),
    ("mazur", "grad_w5", "dE_total/dw5"),
    ("mazur", "w5.grad", "dE_total/dw5"),
    ("mazur", "δ_o1", "delta_o1"),
    ("mazur", "E", "E_total"),
    ("mazur", "outo1", "out_o1"),
    ("mazur", "out o1", "out_o1"),
    ("mazur", "a1_1", "out_h1"),
    ("mazur", "z2_1", "net_o1"),
    ("mazur", "dE/da2_1", "dE_total/dout_o1"),
    ("mlp-relu", "dE_total/dW1_1_1", "dE/dW1_1_1"),
    ("mlp-relu", "W1_3_2+", "W1_3_2_new"),
    ("batch-mse", "E[2]", "E_total[2]"),
]


@pytest.mark.parametrize("source, written, canonical", ALIASES)
def test_aliases(source, written, canonical):
    steps = steps_of(source)
    answers = parse_answers(f'"{written}" = 0.5\n', "answers.toml", steps)
    assert [a.name for a in answers] == [canonical]


def test_tensors_in_the_spec_layout():
    steps = steps_of("mazur")
    text = 'gradients.W1 = [[0.0004, 0.0009], [0.0005, 0.0010]]\ngradients.b1 = [[0.0088, 0.0100]]\nupdated.W2 = [[0.3589, 0.4087], [0.5113, 0.5614]]\n'
    answers = parse_answers(text, "a.toml", steps)
    assert {a.name: str(a.number) for a in answers}["dE_total/dw2"] == "0.0009"  # row 1, column 2 (out_in)
    assert {a.name: str(a.number) for a in answers}["w7_new"] == "0.5113"
    assert check(steps, answers).exit_code == 0
    mlp = steps_of("mlp-relu")  # in_out: row r is input r, column c is unit c
    grid = "[" + ", ".join("[" + ", ".join(["0"] * 20) + "]" for _ in range(10)) + "]"
    names = [a.name for a in parse_answers(f"gradients.W1 = {grid}\n", "a.toml", mlp)]
    assert names[:2] == ["dE/dW1_1_1", "dE/dW1_2_1"] and len(names) == 200


def test_json_answers(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text('{"out_o1": 0.7514, "gradients.W2": [[0.0822, 0.0827], [-0.0226, -0.0227]], "quantities": {"w5+": 0.3589}}')
    assert main(["check", "mazur", str(path)]) == 0


BAD_ANSWERS = [
    ('"dE/dw9" = 0.1\n', "did you mean 'dE_total/dw"),
    ('ouT_o3 = 0.1\n', "did you mean 'out_o"),
    ('out_o1 = "0.75"\n', "expected a number, got the text '0.75'"),
    ("out_o1 = true\n", "expected a number"),
    ("gradients.W1 = [[0.1, 0.2]]\n", "expected a 2 x 2 matrix"),
    ("gradients.b2 = [0.1, 0.2, 0.3]\n", "expected 2 numbers (one per unit of layer 2) as a list, a row or a column"),
    ("gradients.W3 = [[0.1]]\n", "unknown tensor"),
    ("updated.b1 = [0.1, 0.2]\n", "does not update the biases"),
    ('out_o1 = 0.75\nouto1 = 0.75\n', "given twice"),
    ("dE/dw5 = 0.08\n", 'must be in quotes in TOML, for example "dE/dw5"'),
    ("", "empty"),
    ("[forward]\nnet_h1 = 0.3775\n", "unknown section"),
]


@pytest.mark.parametrize("text, message", BAD_ANSWERS)
def test_bad_answers_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", "mazur", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_exit_codes_and_formats(tmp_path, capsys):
    right, wrong = tmp_path / "right.toml", tmp_path / "wrong.toml"
    right.write_text("out_o1 = 0.7514\n")
    wrong.write_text("out_o1 = 0.7513\n")
    assert main(["check", "mazur", str(right)]) == 0
    assert main(["check", "mazur", str(wrong), "--format", "text,md,json", "--out", str(tmp_path / "r")]) == 1
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["check.json", "check.md", "check.txt"]
    assert main(["check", "mazur", str(wrong), "--format", "pdf"]) == 2


# -- the two examples in outputs/ ----------------------------------------------------------------

def test_outputs_are_reproduced_byte_for_byte(tmp_path):
    generate(tmp_path)
    for folder in ("mlp-relu-check", "mazur-check"):
        fresh = sorted(p.name for p in (tmp_path / folder).iterdir())
        assert fresh == ["answers.toml", "check.json", "check.md", "check.txt"]
        for name in fresh:
            assert (tmp_path / folder / name).read_bytes() == (ROOT / "outputs" / folder / name).read_bytes(), \
                f"outputs/{folder}/{name} is stale: run python tools/make_check_examples.py"


def test_code_check_flags_exactly_the_inactive_units():
    steps = steps_of("mlp-relu")
    report = check(steps, parse_answers(mlp_answers(), "answers.toml", steps))
    net = steps.solution.first.net[1][0]  # the engine's own sweep: hidden net inputs
    inactive = {j for j, z in enumerate(net) if z <= 0}
    assert len(inactive) == 11
    expected = {steps.by_key[("gradient", "W", 1, j, i)].name for j in inactive for i in range(10)}
    expected |= {steps.by_key[("gradient", "b", 1, j, None)].name for j in inactive}
    wrong = {r.name for r in report.results if r.verdict == WRONG}
    assert wrong == expected
    assert all(r.diagnoses[0].mistake.kind == "relu_mask_on_output" for r in report.results if r.verdict == WRONG)
    assert report.count(RIGHT) == 241 - len(expected)


def test_code_check_answers_are_what_the_documents_code_computes():
    """PyTorch runs the first source document's backward pass, line by line, on the example's weights."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    spec = steps_of("mlp-relu").spec
    f64 = torch.float64
    as_in_out = lambda w: [list(col) for col in zip(*w)]  # stored (out x in) -> the document's (in x out)
    w1 = torch.tensor([[float(v) for v in row] for row in as_in_out(spec.weights[0])], dtype=f64)
    w2 = torch.tensor([[float(v) for v in row] for row in as_in_out(spec.weights[1])], dtype=f64)
    b1 = torch.tensor([[float(v) for v in spec.biases[0]]], dtype=f64)
    b2 = torch.tensor([[float(v) for v in spec.biases[1]]], dtype=f64)
    input_tensor = torch.tensor([[float(v) for v in spec.inputs[0]]], dtype=f64)
    target_output = torch.tensor([[float(v) for v in spec.targets[0]]], dtype=f64)
    # the document's code
    hidden_output = torch.matmul(input_tensor, w1) + b1
    hidden_output = F.relu(hidden_output)
    output_tensor = torch.matmul(hidden_output, w2) + b2
    output_grad = 2 * (output_tensor - target_output) / output_tensor.size(0)
    w2_grad = torch.matmul(hidden_output.t(), output_grad)
    b2_grad = output_grad.sum(0, keepdim=True)
    hidden_output_grad = torch.matmul(output_grad, w2.t())
    hidden_output_grad[hidden_output < 0] = 0
    w1_grad = torch.matmul(input_tensor.t(), hidden_output_grad)
    b1_grad = hidden_output_grad.sum(0, keepdim=True)
    printed = tomllib.loads(mlp_answers(), parse_float=Decimal)["gradients"]
    for ours, theirs in ((printed["W1"], w1_grad), (printed["b1"], b1_grad), (printed["W2"], w2_grad), (printed["b2"], b2_grad)):
        theirs = theirs.tolist()
        assert len(ours) == len(theirs) and len(ours[0]) == len(theirs[0])
        for row_ours, row_theirs in zip(ours, theirs):
            for a, b in zip(row_ours, row_theirs):
                assert abs(float(a) - b) <= 0.5e-4 + 1e-9, (a, b)


def test_mazur_example_counts_the_slip_once():
    steps = steps_of("mazur")
    report = check(steps, parse_answers(MAZUR_ANSWERS, "answers.toml", steps))
    assert [r.name for r in report.results if r.verdict == WRONG] == ["out_h1"]
    assert report.count(CONSISTENT) == 34 and report.count(RIGHT) == 8
    assert all(r.follows == ("out_h1",) for r in report.results if r.verdict == CONSISTENT)


# -- a diagnosis never contradicts the student's own right answers -----------------------------

def test_right_gradient_rules_out_the_flipped_error_sign():
    # the case: dE/dw5 right, w5+ computed with + instead of -; a flipped error sign would have
    # flipped the gradient too, so it is not even offered as "also fits"
    report = check_text("mazur", '"dE/dw5" = 0.082167\n"w5+" = 0.441084\n')
    right, wrong = report.results
    assert right.verdict == RIGHT and wrong.verdict == WRONG
    assert [d.mistake.kind for d in wrong.diagnoses] == ["update_plus"]


def test_one_hidden_deltas_sign_alone_gets_the_sign_hint():
    # the output deltas are right, so the error's sign was not flipped: only delta_h1's sign is off
    report = check_text("mazur", "delta_o1 = 0.138499\ndelta_o2 = -0.038098\ndelta_h1 = -0.008771\n")
    r = {r.name: r for r in report.results}
    assert r["delta_o1"].verdict == r["delta_o2"].verdict == RIGHT
    assert r["delta_h1"].verdict == WRONG and r["delta_h1"].diagnoses == ()
    assert "opposite sign" in r["delta_h1"].note


def test_the_flipped_sign_is_still_named_when_nothing_rules_it_out():
    report = check_text("mazur", "delta_h1 = -0.008771\n")
    assert report.results[0].diagnoses[0].mistake.kind == "sign_flipped"


@pytest.mark.parametrize("source, mistake", [(s, m) for s, m, _ in MISTAKE_CASES if s in ("mazur", "softmax-ce")],
                         ids=lambda v: getattr(v, "kind", None))
def test_no_diagnosis_contradicts_a_right_answer(source, mistake):
    # the mistake's values for every step, except the first step it changes, which is given right:
    # whatever is named for the wrong answers must leave that right answer as it is
    steps = steps_of(source)
    world = steps.world(mistake)
    changed = [s.name for s in steps if not s.given
               and round_decimal(world.computed(s.name), 6) != round_decimal(steps.exact(s.name), 6)]
    kept = changed[0]
    values = {n: (steps.exact(n) if n == kept else world.computed(n)) for n in changed}
    report = check(steps, answers_at(steps, values, 6))
    assert report.results[[r.name for r in report.results].index(kept)].verdict == RIGHT
    written = {r.name: steps.lift(r.answer.value) for r in report.results}
    right = round_decimal(steps.exact(kept), 6)
    for r in report.results:
        for d in r.diagnoses:  # made from the exact numbers or from the student's own, it gives the right answer
            assert any(round_decimal(steps.world(d.mistake, yours).computed(kept), 6) == right
                       for yours in (None, written)), (r.name, d.title)


# -- answers as columns, rows, transposes, and Python data ---------------------------------------

def _torch_gradients(source: str, dtype):
    """PyTorch's gradients of a preset's loss (the oracle), as (model's Linear layers)."""
    import torch

    model, inputs, targets, loss = derive.to_torch(source, dtype)
    loss(model(inputs), targets).backward()
    return [m for m in model if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("shape", ["row", "column", "flat"])
def test_a_bias_as_a_row_a_column_or_a_list(shape):
    steps = steps_of("mazur")
    b1 = {"row": "[[0.0088, 0.0100]]", "column": "[[0.0088], [0.0100]]", "flat": "[0.0088, 0.0100]"}[shape]
    answers = parse_answers(f"gradients.b1 = {b1}\n", "a.toml", steps)
    assert {a.name: str(a.number) for a in answers} == {"dE_total/db_h1": "0.0088", "dE_total/db_h2": "0.0100"}
    assert check(steps, answers).exit_code == 0


def test_a_weight_matrix_in_the_other_layout_when_it_is_not_square():
    mlp = steps_of("mlp-relu")  # in_out: W1 is 10 x 20; its transpose, 20 x 10, as torch.nn.Linear holds it
    linear = _torch_gradients("mlp-relu", None)[0]
    report = derive.check("mlp-relu", {"gradients": {"W1": linear.weight.grad}})
    assert len(report.results) == 200 and report.exit_code == 0
    transposed = [[0] * 10 for _ in range(20)]
    transposed[3][1] = 1  # unit 4 (row), input 2 (column)
    answers = parse_answers(f"gradients.W1 = {transposed}\n", "a.toml", mlp)
    assert [a.name for a in answers if a.number == 1] == ["dE/dW1_2_4"]  # named in the spec's layout: input 2, unit 4


@pytest.mark.parametrize("text, message", [
    ("gradients.b1 = [[0.1, 0.2], [0.3, 0.4]]\n", "as a list, a row or a column, got 2 rows of 2 numbers"),
    ("gradients.W1 = [[0.1], [0.2]]\n", "expected a 2 x 2 matrix"),
])
def test_tensors_of_no_readable_shape(text, message):
    with pytest.raises(DeriveError, match=re.escape(message)):
        parse_answers(text, "a.toml", steps_of("mazur"))


def test_nested_mappings_of_arrays_tensors_decimals_and_fractions():
    import numpy as np
    import torch

    first, second = _torch_gradients("mazur-torch", torch.float64)
    answers = {
        "gradients": {"W1": first.weight.grad, "b1": first.bias.grad.numpy().reshape(-1, 1),  # a column, as NumPy
                      "W2": second.weight.grad.numpy()},
        "quantities": {"out_o1": Decimal("0.7514")},
        "E": Fraction(2983711, 10**7),  # 0.2983711, exactly
        "w5+": np.float64(0.4) - np.float64(0.5) * second.weight.grad[0, 0].item(),
    }
    report = derive.check("mazur-torch", answers)
    assert [r.verdict for r in report.results] == [RIGHT] * len(report.results) and len(report.results) == 13
    wrong = derive.check("mazur-torch", {"gradients": {"W2": -second.weight.grad.to(torch.float32)}})
    assert wrong.count(WRONG) == 4  # float32: judged to the digits a single-precision float holds


@pytest.mark.parametrize("answers, message", [
    ({"gradients": {"W9": [[1]]}}, "unknown tensor"),
    ({1: 0.5}, "a name must be text"),
    ({"out_o1": float("nan")}, "expected a finite number"),
    ({"out_o1": object()}, "expected a number"),
    ({}, "holds no answers"),
])
def test_bad_python_answers(answers, message):
    with pytest.raises(DeriveError, match=message):
        derive.check("mazur", answers)
