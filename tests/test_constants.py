"""Exact constants in network specs: "1 + sin(pi/4)" read by derive's own parser, kept exact (a Fraction
when rational, else the constant to 60 digits, never a double), printed in the givens as written, and
every hostile text refused with the file, the key and the column.

Oracles: mpmath at 200 bits computing the blog network by hand with the constant; PyTorch in float64.
"""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import pytest

from derive.cli import main
from derive.core.backprop import Rules
from derive.core.expressions import latex
from derive.core.numeric import MP, to_float
from derive.core.solve import solve
from derive.core.spec import parse, read
from derive.errors import DeriveError

MAZUR = read("mazur")


def mazur_with(inputs: str = "[[0.05, 0.10]]", targets: str = "[[0.01, 0.99]]", rate: str = "0.5",
               w1: str = "[[0.15, 0.20], [0.25, 0.30]]", activations: str = '"sigmoid"') -> str:
    return f"""title = "constants"
[network]
sizes = [2, 2, 2]
activations = {activations}
loss = "half_sse"
[parameters]
W1 = {w1}
b1 = [0.35, 0.35]
W2 = [[0.40, 0.45], [0.50, 0.55]]
b2 = [0.60, 0.60]
[data]
inputs = {inputs}
targets = {targets}
[training]
learning_rate = {rate}
update_biases = false
"""


@pytest.mark.parametrize("text, value", [
    ('"1/10"', Fraction(1, 10)),
    ('"0.05"', Fraction(1, 20)),
    ('"sqrt(4) / 8"', Fraction(1, 4)),
    ('"sin(pi/6)"', Fraction(1, 2)),
    ('"(1/2)^3 - 2^-3"', Fraction(0)),
])
def test_a_rational_constant_is_a_fraction_and_the_network_stays_exact(text, value):
    spec = parse(mazur_with(inputs=f"[[{text}, 0.10]]", activations='"relu"'), "c.toml")
    assert type(spec.inputs[0][0]) is Fraction and spec.inputs[0][0] == value
    assert spec.rational and Rules.for_spec(spec).exact


@pytest.mark.parametrize("text, reference", [
    ("1 + sin(pi/4)", lambda: 1 + mpmath.sin(mpmath.pi / 4)),
    ("sqrt(2)/2", lambda: mpmath.sqrt(2) / 2),
    ("e^-1", lambda: mpmath.e ** -1),
    ("exp(-1)", lambda: mpmath.exp(-1)),
    ("ln(3) / (1 + ln(3))", lambda: mpmath.log(3) / (1 + mpmath.log(3))),
    ("cos(1)^2", lambda: mpmath.cos(1) ** 2),
])
def test_an_irrational_constant_is_carried_to_60_digits(text, reference):
    spec = parse(mazur_with(targets=f'[[0.01, "{text}"]]'), "c.toml")
    with mpmath.workdps(80):
        exact = reference()
        assert abs(spec.targets[0][1] - exact) < mpmath.mpf(10) ** -59 * abs(exact)
    assert not spec.rational and not Rules.for_spec(spec).exact
    assert spec.written_as("targets[0][1]") == text


def _mazur_by_hand(x, t, w1, eta):
    """The blog network's loss and updated w1 at 200 bits, written out (the oracle)."""
    ctx = MP
    sig = lambda z: 1 / (1 + ctx.exp(-z))  # noqa: E731
    W1 = [[w1, ctx.mpf("0.2")], [ctx.mpf("0.25"), ctx.mpf("0.3")]]
    W2 = [[ctx.mpf("0.4"), ctx.mpf("0.45")], [ctx.mpf("0.5"), ctx.mpf("0.55")]]
    h = [sig(W1[j][0] * x[0] + W1[j][1] * x[1] + ctx.mpf("0.35")) for j in range(2)]
    o = [sig(W2[k][0] * h[0] + W2[k][1] * h[1] + ctx.mpf("0.6")) for k in range(2)]
    loss = sum((t[k] - o[k]) ** 2 for k in range(2)) / 2
    d_o = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
    d_h0 = sum(d_o[k] * W2[k][0] for k in range(2)) * h[0] * (1 - h[0])
    return loss, w1 - eta * d_h0 * x[0]


def test_constants_everywhere_agree_with_a_200_bit_calculation_by_hand():
    text = mazur_with(inputs='[["e^-3", "1/10"]]', targets='[["sqrt(2)/20", "1 - exp(-5)"]]',
                      w1='[["pi/20", 0.20], [0.25, 0.30]]', rate='"1/(1 + sqrt(2))"')
    solution = solve(parse(text, "c.toml"))
    x = [MP.exp(-3), MP.mpf(1) / 10]
    t = [MP.sqrt(2) / 20, 1 - MP.exp(-5)]
    loss, w1_new = _mazur_by_hand(x, t, MP.pi / 20, 1 / (1 + MP.sqrt(2)))
    assert abs(solution.first.loss - loss) < MP.mpf(10) ** -55
    assert abs(solution.first.new_weights[1][0][0] - w1_new) < MP.mpf(10) ** -55


def test_constants_agree_with_pytorch():
    pytest.importorskip("torch")
    from derive.io.torchio import to_torch

    spec = parse(mazur_with(targets='[["1 + sin(pi/4)", "sqrt(2)/2"]]'), "c.toml")
    model, inputs, targets, loss = to_torch(spec)
    value = loss(model(inputs), targets)
    value.backward()
    solution = solve(spec)
    assert float(value.detach()) == pytest.approx(to_float(solution.first.loss), rel=1e-14)
    assert float(model[0].weight.grad[0, 0]) == pytest.approx(to_float(solution.first.grad_W[1][0][0]), rel=1e-12)


def test_the_givens_are_printed_as_written(tmp_path):
    text = mazur_with(inputs='[["e^-1", 0.10]]', targets='[["1 + sin(pi/4)", "sqrt(2)/2"]]',
                      w1='[["pi/20", 0.20], [0.25, 0.30]]')
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert main(["solve", str(path), "--format", "md,json", "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "solution.md").read_text()
    assert r"$e^{-1}$ | 0.1 | $1 + \sin\left(\frac{\pi}{4}\right)$ | $\frac{\sqrt{2}}{2}$" in md
    assert r"$\frac{\pi}{20}$" in md  # w1 in the starting parameters
    data = json.loads((tmp_path / "out" / "solution.json").read_text())
    assert data  # the JSON keeps its numbers (floats), its names unchanged


@pytest.mark.parametrize("text, printed", [
    ("1 + sin(pi/4)", r"1 + \sin\left(\frac{\pi}{4}\right)"),
    ("sqrt(2)/2", r"\frac{\sqrt{2}}{2}"),
    ("e^-1", "e^{-1}"),
    ("-(1 + 2) * 3", r"-\left(1 + 2\right) \cdot 3"),
    ("1 - (2 - 3)", r"1 - \left(2 - 3\right)"),
    ("1 - -2", r"1 - \left(-2\right)"),
    ("(2^3)^2", r"\left(2^{3}\right)^{2}"),
    ("1/3", r"\frac{1}{3}"),
    ("0.050", "0.05"),
])
def test_latex_as_written(text, printed):
    assert latex(text) == printed


HOSTILE = [
    # (the number's text, the column the error points at, words of the message)
    ("__import__('os').system('true')", 12, "quotes"),
    ("__import__(os)", 1, "unknown function"),
    ("().__class__", 1, "attribute access"),
    ("pi.real", 1, "attribute access"),
    ("10^10^10", 3, "too large"),
    ("9**9**9", 2, "too large"),
    ("exp(exp(exp(10)))", 5, "too large"),
    ("(" * 200 + "1" + ")" * 200, 61, "nested"),
    ("-" * 100 + "1", 61, "signs in a row"),
    ("1/0", 3, "division by zero"),
    ("ln(-1)", 1, "no real value"),
    ("sqrt(-2)", 1, "no real value"),
    ("x + 1", 1, "unknown name 'x'"),
    ("1 +", 4, "ends"),
    ("lambda: 1", 1, "lambda"),
    ("[1, 2]", 1, "'[' is not part of a formula"),
    ("1e999", 1, "too large"),
    ("sin(1, 2)", 1, "takes 1 argument"),
    ("2 ** 0.5 if 1 else 0", 1, "if"),
    ("", 1, "empty"),
    ("1" * 2000, 1001, "longer than"),
]


@pytest.mark.parametrize("text, column, words", HOSTILE)
def test_hostile_constants_give_one_error_with_file_key_and_column(text, column, words, tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text(mazur_with(targets=f"[[0.01, {json.dumps(text)}]]"))
    with pytest.raises(DeriveError) as error:
        read(path)
    message = str(error.value)
    assert message.startswith(f"{path}: data.targets[0][1]: column {column}: "), message
    assert words in message, message
    assert main(["solve", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"column {column}" in err
    assert not (tmp_path / "out").exists()


def test_json_specs_take_constants_too():
    document = json.loads(json.dumps({
        "network": {"sizes": [2, 2, 2], "activations": "sigmoid", "loss": "half_sse"},
        "parameters": {"W1": [[0.15, 0.2], [0.25, 0.3]], "b1": [0.35, 0.35], "W2": [[0.4, 0.45], [0.5, 0.55]],
                       "b2": [0.6, 0.6]},
        "data": {"inputs": [[0.05, 0.1]], "targets": [["e^-1", 0.99]]},
        "training": {"learning_rate": "1/2"}}))
    spec = parse(json.dumps(document), "c.json", "json")
    assert spec.learning_rate == Fraction(1, 2) and spec.written_as("targets[0][0]") == "e^-1"
    with pytest.raises(DeriveError, match=r"c.json: data.targets\[0\]\[0\]: column 4: "):
        parse(json.dumps(document).replace("e^-1", "e^(pi.x)"), "c.json", "json")
