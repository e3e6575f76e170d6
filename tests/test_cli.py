"""The command line: files written, exit codes, and byte-identical output whatever the hash seed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main

ROOT = Path(__file__).resolve().parent.parent
needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")


def test_presets_lists_the_built_in_examples(capsys):
    assert main(["presets"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["mazur", "mazur-adam", "mazur-torch", "mlp-relu", "softmax-ce", "circuit-add-mul", "circuit-fan-out",
                     "circuit-sigmoid-neuron"]


def test_solve_json_writes_only_json(tmp_path):
    assert main(["solve", "mazur", "--format", "json", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["solution.json"]
    doc = json.loads((tmp_path / "solution.json").read_text())
    assert set(doc) >= {"loss", "forward", "gradients", "updated", "history", "quantities"}
    assert doc["gradients"]["W2"][0][0] == pytest.approx(0.082167041, abs=1e-9)
    assert doc["quantities"]["w5_new"] == pytest.approx(0.35891648, abs=1e-8)


def test_json_keeps_the_spec_layout(tmp_path):
    assert main(["solve", "mlp-relu", "--format", "json", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "solution.json").read_text())
    assert len(doc["gradients"]["W1"]) == 10 and len(doc["gradients"]["W1"][0]) == 20  # in_out: 10 x 20
    assert len(doc["updated"]["W2"]) == 20


@needs_tex
def test_solve_writes_every_format_by_default(tmp_path):
    assert main(["solve", "mazur-torch", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["network.svg", "solution.json", "solution.md", "solution.pdf", "solution.tex"]
    assert oct((tmp_path / "solution.md").stat().st_mode & 0o777) != "0o600"


@pytest.mark.parametrize("args, message", [
    (["solve", "mazur", "--format", "docx"], "--format: unknown format 'docx'"),
    (["solve", "mazur", "--digits", "0"], "--digits: expected a number of significant digits from 1 to 30"),
    (["solve", "mazurr"], "mazurr: no such file or built-in example (did you mean 'mazur'?)"),
    (["solve", "mlp-relu", "--format", "md", "--detail", "W9_1_1"], "--detail: unknown parameter 'W9_1_1'"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, message):
    assert main(args + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: error: " + message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_same_input_same_bytes_whatever_the_hash_seed(tmp_path):
    outputs = []
    for seed in ("0", "4242"):
        out = tmp_path / seed
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-m", "derive", "solve", "mazur", "--format", "json,md,tex", "--out", str(out)],
                       check=True, env=env, capture_output=True)
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]


def test_documents_of_huge_networks_are_refused_not_attempted(tmp_path, capsys):
    """A limit the user can raise: past it a document is refused at once, JSON still solves."""
    text = (ROOT / "derive" / "presets" / "mlp-relu.toml").read_text()
    spec = tmp_path / "big.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    assert main(["worksheet", str(spec), "--out", str(out)]) == 2  # 241 parameters > 100
    assert "more than a worksheet is made for (at most 100)" in capsys.readouterr().err
    assert main(["solve", str(spec), "--format", "md", "--max-parameters", "200", "--out", str(out)]) == 2
    assert main(["solve", str(spec), "--format", "md", "--max-parameters", "300", "--out", str(out)]) == 0
    assert not (out / "sheet.pdf").exists()


def test_values_beyond_a_double_are_bad_input_not_a_crash(tmp_path, capsys):
    spec = tmp_path / "huge.toml"
    spec.write_text('[network]\nsizes = [1, 1]\nactivations = ["identity"]\nloss = "mse"\n[parameters]\n'
                    'W1 = [[1e300]]\nb1 = [0]\n[data]\ninputs = [[1e300]]\ntargets = [[0]]\n[training]\n'
                    'learning_rate = 0.1\n')
    assert main(["solve", str(spec), "--format", "json", "--out", str(tmp_path / "out")]) == 2
    assert "beyond what a double holds" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_without_tex_the_default_formats_skip_the_pdf_and_say_so(tmp_path, capsys, monkeypatch):
    """The README's first command works on a machine without TeX; asking for a PDF there is an error."""
    import shutil as shell

    real = shell.which
    monkeypatch.setattr(shell, "which", lambda name: None if name in ("latexmk", "pdflatex") else real(name))
    assert main(["solve", "mazur", "--out", str(tmp_path / "a")]) == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["network.svg", "solution.json", "solution.md",
                                                                   "solution.tex"]
    assert "derive: note: no PDF: TeX Live is not installed" in capsys.readouterr().err
    assert main(["solve", "mazur", "--format", "pdf", "--out", str(tmp_path / "b")]) == 2
    assert "PDFs cannot be built: TeX Live is not installed (install TeX Live: apt-get install" in capsys.readouterr().err
    assert main(["slides", "mazur", "--out", str(tmp_path / "c")]) == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["slides.html"]


def test_half_installed_tex_names_what_is_missing(tmp_path, capsys, monkeypatch):
    """TeX Live without lmodern: derive says which files and packages are missing instead of a pdfTeX font error."""
    from derive.formats import latex

    monkeypatch.setattr(latex, "_missing", lambda: (("lmodern.sty", "lmodern"), ("lmr10.pfb", "lmodern")))
    assert main(["solve", "mazur", "--out", str(tmp_path / "a")]) == 0
    assert ("derive: note: no PDF: TeX Live lacks lmodern.sty, lmr10.pfb (apt-get install lmodern); the other "
            "formats are written") in capsys.readouterr().err
    assert main(["solve", "mazur", "--format", "pdf", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == ("derive: error: pdf: PDFs cannot be built: TeX Live lacks lmodern.sty, "
                                       "lmr10.pfb (apt-get install lmodern)\n")
    assert not (tmp_path / "b").exists()


@pytest.mark.skipif(shutil.which("kpsewhich") is None, reason="needs TeX Live")
def test_tex_detection_asks_kpsewhich_for_every_file(monkeypatch):
    """Every file the templates load is looked up; a name kpsewhich does not know is reported with its package."""
    from derive.formats import latex

    latex._missing.cache_clear()
    monkeypatch.setattr(latex, "NEEDED", latex.NEEDED + (("no-such-package-derive.sty", "texlive-nothing"),))
    try:
        assert latex.missing_files() == [("no-such-package-derive.sty", "texlive-nothing")]
        assert latex.problem() == "TeX Live lacks no-such-package-derive.sty (apt-get install texlive-nothing)"
    finally:
        latex._missing.cache_clear()


def test_tex_detection_covers_every_package_the_templates_load():
    """A package added to a template without adding it to derive.latex.NEEDED would escape the detection."""
    import re

    from derive.formats import latex

    root = Path(__file__).resolve().parent.parent / "templates"
    loaded = set()
    for template in root.rglob("*.j2"):
        text = template.read_text(encoding="utf-8")
        for kind, names in re.findall(r"\\(usepackage|documentclass)(?:\[[^\]]*\])?\{([^}]*)\}", text):
            suffix = ".sty" if kind == "usepackage" else ".cls"
            loaded.update(name.strip() + suffix for name in names.split(","))
    assert loaded and loaded <= {name for name, _ in latex.NEEDED}
