"""Regenerate outputs/: every built-in example in every format, PDF included.

    python tools/make_outputs.py            # rewrites outputs/ in place
    python tools/make_outputs.py DIR        # writes the same tree under DIR (the golden test does this)

Each generator below is a command line of derive's own; tests/test_outputs.py runs
them into a temporary folder and compares the result with the committed files.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from derive.cli import main  # noqa: E402
from derive.core.spec import preset_names  # noqa: E402


def commands(out: Path) -> list[list[str]]:
    """The derive command lines that make outputs/, each writing under ``out``."""
    lines = [["solve", name, "--out", str(out / name)] for name in preset_names()]
    lines += [["slides", name, "--out", str(out / name)] for name in ("mazur", "mazur-adam", "mlp-relu", "softmax-ce")]
    lines.append(["solve", "mazur", "--notation", "matrix", "--format", "md,tex,pdf", "--out", str(out / "mazur-matrix")])
    lines.append(["worksheet", "mazur", "--variants", "2", "--seed", "42", "--formulas", "--blanks", "full",
                  "--format", "pdf,md,moodle,qti,json", "--out", str(out / "mazur-worksheets")])
    # formula specs: the circuit of gates in every format
    lines += [["solve", name, "--out", str(out / name)] for name in ("circuit-add-mul", "circuit-sigmoid-neuron",
                                                                      "circuit-fan-out")]
    lines.append(["slides", "circuit-sigmoid-neuron", "--out", str(out / "circuit-sigmoid-neuron")])
    lines.append(["worksheet", "circuit-fan-out", "--variants", "2", "--seed", "42", "--format", "pdf,md,moodle,json",
                  "--out", str(out / "circuit-worksheets")])
    lines.append(["solve", "mazur", "--as-circuit", "--out", str(out / "mazur-circuit-h1")])
    # the derivation itself: general formulas, the blog's form with the numbers after them, a deeper network
    three = str(ROOT / "tools" / "specs" / "three-layer.toml")
    lines.append(["solve", "mazur", "--symbolic", "--format", "md,tex,pdf", "--out", str(out / "mazur-symbolic")])
    lines.append(["slides", "mazur", "--symbolic", "--out", str(out / "mazur-symbolic")])
    lines.append(["solve", "mazur", "--symbolic", "then-numbers", "--format", "md,tex,pdf",
                  "--out", str(out / "mazur-symbolic-numbers")])
    lines.append(["solve", three, "--symbolic", "--format", "md,tex,pdf", "--out", str(out / "three-layer-symbolic")])
    lines.append(["solve", three, "--symbolic", "--notation", "matrix", "--format", "md,tex,pdf",
                  "--out", str(out / "three-layer-symbolic-matrix")])
    lines.append(["worksheet", "mazur", "--symbolic", "--blanks", "backward", "--format", "pdf,md",
                  "--out", str(out / "mazur-formula-worksheet")])
    return lines


def generate(out: Path) -> None:
    """Run every command; stop at the first failure. Then write the example notebook."""
    import make_notebook
    from make_check_examples import generate as check_examples

    make_notebook.write(out)
    check_examples(out)
    for line in commands(out):
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(line)
        if code not in (0, 1):  # `derive check` exits 1 when it finds wrong answers, as it should
            raise SystemExit(f"derive {' '.join(line)} failed with exit code {code}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "outputs")
