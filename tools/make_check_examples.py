"""The two examples of ``derive check`` in outputs/: a program's gradients and a student's hand calculation.

    python tools/make_check_examples.py          # rewrites outputs/mlp-relu-check/ and outputs/mazur-check/
    python tools/make_check_examples.py DIR     # writes the same folders under DIR (tests/test_check.py compares)

* ``mlp-relu-check/``: the gradients that the first source document's manual backward
  pass computes for the ``mlp-relu`` example's weights, printed to 4 decimals as
  PyTorch prints them. Its ReLU mask tests the activated values, which are never
  negative, so nothing is masked; ``derive check`` flags exactly the entries of the
  inactive hidden units and names that mistake.
* ``mazur-check/``: a student's hand calculation of the classic example, every
  intermediate rounded to 4 decimals, with one early slip; everything computed
  correctly from the slip is marked consistent with it.

Each folder holds ``answers.toml`` and the reports ``check.txt``, ``check.md`` and
``check.json``, made by the command line: ``derive check PRESET answers.toml
--format text,md,json --out FOLDER``.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.cli import main  # noqa: E402
from derive.core.numeric import round_decimal  # noqa: E402
from derive.core.solve import solve  # noqa: E402
from derive.core.steps import Steps  # noqa: E402
from derive.core.versions import load  # noqa: E402
from derive.grading.mistakes import Mistake  # noqa: E402
from derive.io.export import in_layout  # noqa: E402
from derive.io.files import write_files  # noqa: E402

MAZUR_ANSWERS = """\
# A student's hand calculation of the `mazur` example (Matt Mazur's step-by-step
# backpropagation), every intermediate rounded to 4 decimals and reused, small
# gradients written with a few more digits.
# One early slip: sigma(0.3775) = 0.5933 was copied down as 0.5393, and every later
# step was computed correctly from it. `derive check mazur answers.toml` marks out_h1
# wrong once and the steps computed from it "consistent with your out_h1".
# The names are the ones the worked solution prints, or aliases a student types:
# dE/dw5 for dE_total/dw5, w5+ for w5_new.

# the forward pass
net_h1 = 0.3775
out_h1 = 0.5393
net_h2 = 0.3925
out_h2 = 0.5969
net_o1 = 1.0843
out_o1 = 0.7473
net_o2 = 1.1979
out_o2 = 0.7682
E_o1 = 0.2718
E_o2 = 0.0246
E_total = 0.2964

# the output layer
"dE/dout_o1" = 0.7373
"dout_o1/dnet_o1" = 0.1888
delta_o1 = 0.1392
"dE/dw5" = 0.0751
"w5+" = 0.3625
"dE/dw6" = 0.0831
"w6+" = 0.4085
"dE/dout_o2" = -0.2218
"dout_o2/dnet_o2" = 0.1781
delta_o2 = -0.0395
"dE/dw7" = -0.0213
"w7+" = 0.5107
"dE/dw8" = -0.0236
"w8+" = 0.5618

# the hidden layer
"dE_o1/dout_h1" = 0.0557
"dE_o2/dout_h1" = -0.0198
"dE/dout_h1" = 0.0359
"dout_h1/dnet_h1" = 0.2485
delta_h1 = 0.0089
"dE/dw1" = 0.000445
"w1+" = 0.1498
"dE/dw2" = 0.00089
"w2+" = 0.1996
"dE_o1/dout_h2" = 0.0626
"dE_o2/dout_h2" = -0.0217
"dE/dout_h2" = 0.0409
"dout_h2/dnet_h2" = 0.2406
delta_h2 = 0.0098
"dE/dw3" = 0.00049
"w3+" = 0.2498
"dE/dw4" = 0.00098
"w4+" = 0.2995
"""

MLP_HEADER = """\
# The gradients that the first source document's manual backward pass computes for the
# weights of the `mlp-relu` example, printed to 4 decimals as PyTorch prints them, in
# the document's layout (w1 is input_size x hidden_size; b1 has shape 1 x hidden_size).
# The document's code overwrites the pre-activation with its ReLU and then masks the
# gradient where the *activated* value is negative, which it never is:
#
#     hidden_output = torch.matmul(input_tensor, w1) + b1
#     hidden_output = F.relu(hidden_output)
#     ...
#     hidden_output_grad = torch.matmul(output_grad, w2.t())
#     hidden_output_grad[hidden_output < 0] = 0  # never true: nothing is masked
#     w1_grad = torch.matmul(input_tensor.t(), hidden_output_grad)
#     b1_grad = hidden_output_grad.sum(0, keepdim=True)
#
# Made by `python tools/make_check_examples.py`, which computes these exactly, the way the
# code does (derive.grading.mistakes: relu_mask_on_output), and rounds them to 4 decimals.
"""


def mlp_answers() -> str:
    """The answers file of the code example: the document's gradients for the mlp-relu weights."""
    steps = Steps(solve(load("mlp-relu")))
    world = steps.world(Mistake("relu_mask_on_output", 1))
    spec = steps.spec

    def number(kind, l, j, i):
        name = steps.by_key[("gradient", kind, l, j, i)].name
        return f"{round_decimal(world.computed(name), 4):f}"

    lines = [MLP_HEADER, "[gradients]"]
    for l in range(1, spec.layers + 1):
        n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
        # the spec's layout (in_out: one row per input, one column per unit, as the document's x @ w1)
        rows = in_layout([[number("W", l, j, i) for i in range(n_in)] for j in range(n_out)], spec.weight_layout)
        lines.append(f"W{l} = [")
        lines += [f"  [{', '.join(row)}]," for row in rows]
        lines.append("]")
        lines.append(f"b{l} = [[{', '.join(number('b', l, j, None) for j in range(n_out))}]]")
    return "\n".join(lines) + "\n"


EXAMPLES = {
    "mlp-relu-check": ("mlp-relu", mlp_answers),
    "mazur-check": ("mazur", lambda: MAZUR_ANSWERS),
}


def generate(out: Path) -> None:
    """Write both examples under ``out``: each folder's answers.toml, then the reports by the command line."""
    for folder, (preset, answers) in EXAMPLES.items():
        target = out / folder
        write_files(target, {"answers.toml": answers()})
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["check", preset, str(target / "answers.toml"), "--format", "text,md,json", "--out", str(target)])
        if code not in (0, 1):
            raise SystemExit(f"derive check {preset} failed with exit code {code}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "outputs")
