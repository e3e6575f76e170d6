"""Issue 14's findings, each reproduced exactly as reported: hostile names and titles, odd output targets,
interrupts, malformed PyTorch files and arguments, limits. Tables of cases with the line each must give."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.cli import main
from derive.formats import escape
from derive.io.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
MAZUR = (ROOT / "derive" / "presets" / "mazur.toml").read_text(encoding="utf-8")
TITLE = 'title = "A step-by-step backpropagation example"'
needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX Live is not installed (.ci/run installs it)")


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def spec_with_title(folder: Path, title: str, name: str = "net.toml") -> Path:
    path = folder / name
    path.write_text(MAZUR.replace(TITLE, "title = " + json.dumps(title, ensure_ascii=False)), encoding="utf-8")
    return path


# -- escaping: check reports, cloze texts, TeX job names --------------------------------------------------

HOSTILE_TITLES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "x](javascript:alert(1))", "# heading"]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_check_markdown_escapes_the_title_and_the_file_name(title, tmp_path, capsys):
    """check.md and the Jupyter display: no tag of the title survives, a backtick in the file name stays in its span."""
    import derive

    spec = spec_with_title(tmp_path, title)
    answers = tmp_path / "a`b<img src=x onerror=alert(1)>.toml"
    answers.write_text("out_o1 = 0.7514\nout_o2 = 0.7\n", encoding="utf-8")
    code, _, _ = run_cli(["check", spec, answers, "--format", "md", "--out", tmp_path / "report"], capsys)
    assert code == 1
    shown = (tmp_path / "report" / "check.md").read_text(encoding="utf-8")
    for markdown in (shown, derive.check(str(spec), str(answers))._repr_markdown_()):
        heading, _, intro = markdown.split("\n")[:3]
        assert heading == "# Checking answers: " + escape.markdown(title)
        assert intro.startswith("The answers in ``a`b<img src=x onerror=alert(1)>.toml``, checked")
        outside_code = re.sub(r"(`+)(.+?)\1", "", heading + intro)
        # no markup outside the code spans: every <, [, ], # is escaped
        assert not re.search(r"(?<!\\)[<\[\]]", outside_code) and outside_code.count("#") == 1 + title.count("#")
        assert all(m.start() == 0 or outside_code[m.start() - 1] == "\\" for m in re.finditer("#", outside_code)
                   if m.start() > 0)


@pytest.mark.parametrize("text, span", [("plain", "`plain`"), ("a`b", "``a`b``"), ("`x", "`` `x ``"),
                                        ("a``b", "```a``b```"), ("line\nbreak", "`line\\nbreak`")])
def test_code_span(text, span):
    assert escape.code(text) == span


def test_moodle_cloze_file_name_opens_no_field(tmp_path, capsys, monkeypatch):
    """x{1:SHORTANSWER:=pwn}.toml without --variants: Moodle finds exactly the 43 fields of the sheet."""
    import xml.etree.ElementTree as ET

    monkeypatch.chdir(tmp_path)
    Path("x{1:SHORTANSWER:=pwn}.toml").write_text(MAZUR, encoding="utf-8")
    code, _, err = run_cli(["worksheet", "x{1:SHORTANSWER:=pwn}.toml", "--format", "moodle", "--out", "quiz"], capsys)
    assert code == 0, err
    question = next(q for q in ET.parse("quiz/moodle.xml").getroot().iter("question") if q.get("type") == "cloze")
    text = question.find("questiontext/text").text
    # Moodle's own pattern for a subquestion (question/type/multianswer/questiontype.php)
    fields = re.findall(r"\{[0-9]*:(?:MULTICHOICE|MC|SHORTANSWER|SA|NUMERICAL|NM)[A-Z_]*:", text)
    assert len(fields) == 43 and all(f == "{1:NUMERICAL:" for f in fields)
    assert "x&#123;1:SHORTANSWER:=pwn}" in text


@needs_tex
@pytest.mark.parametrize("name", ["a%b", "a~b", 'a"b', "a\\b", "a^^5cb"])
def test_worksheet_pdf_for_odd_file_names(name, tmp_path, capsys, monkeypatch):
    """The file name is no longer the TeX job name: %, ~, quotes, backslashes and ^^ build."""
    monkeypatch.chdir(tmp_path)
    Path(f"{name}.toml").write_text(MAZUR, encoding="utf-8")
    code, _, err = run_cli(["worksheet", f"{name}.toml", "--format", "pdf", "--out", "w"], capsys)
    assert code == 0, err
    stem = name.replace('"', "_").replace("\\", "_")  # the characters some systems refuse in a file name
    assert sorted(p.name for p in Path("w").iterdir()) == [f"key-{stem}.pdf", f"sheet-{stem}.pdf"]


@pytest.mark.parametrize("name, stem", [("a%b~c", "a_b_c"), ('x"y\\z', "x_y_z"), ("ünï", "_n_"), ("", "document")])
def test_jobname(name, stem):
    assert escape.jobname(name) == stem


@pytest.mark.parametrize("name, stem", [("a%b", "a%b"), ('a"b\\c', "a_b_c"), ("x/y:z", "x_y_z"), ("ünï", "ünï"),
                                        ("..", "network"), ("a\nb", "a_b")])
def test_filename(name, stem):
    assert escape.filename(name) == stem


# -- titles: empty, Greek and mathematics typeset; other scripts refused up front ------------------------------

@needs_tex
@pytest.mark.parametrize("title", ["", "   ", "η", "∂E/∂w ≤ ε in ℝ", "Gradient ∇E with learning rate η = 0.5"])
def test_titles_typeset(title, tmp_path, capsys):
    spec = spec_with_title(tmp_path, title)
    code, _, err = run_cli(["solve", spec, "--format", "pdf", "--out", tmp_path / "out"], capsys)
    assert code == 0, err
    assert (tmp_path / "out" / "solution.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("title, char", [("日本語", "'日' (U+65E5 CJK UNIFIED IDEOGRAPH-65E5)"),
                                         ("smile 😀", "'😀' (U+1F600 GRINNING FACE)"),
                                         ("Привет", "'П' (U+041F CYRILLIC CAPITAL LETTER PE)")])
def test_titles_the_pdf_cannot_typeset_are_refused_up_front(title, char, tmp_path, capsys):
    spec = spec_with_title(tmp_path, title)
    code, out, err = run_cli(["solve", spec, "--out", tmp_path / "out"], capsys)
    assert (code, out) == (2, "")
    assert err == (f"derive: error: {spec}: title: contains {char}, which the PDF cannot typeset (its fonts hold "
                   "Latin and Greek letters and mathematical symbols); write it without that character, or leave "
                   "out the PDF and LaTeX (for example --format md,json)\n")
    assert not (tmp_path / "out").exists()
    assert run_cli(["solve", spec, "--format", "md,json", "--out", tmp_path / "out"], capsys)[0] == 0


@needs_tex
def test_a_long_history_is_plotted_from_a_downsampled_series(tmp_path, capsys):
    """steps = 20000: the PDF builds (the plot's coordinates no longer overflow TeX's buffer)."""
    spec = tmp_path / "long.toml"
    spec.write_text(MAZUR.replace("steps = 1\n", "steps = 20000\n"), encoding="utf-8")
    code, _, err = run_cli(["solve", spec, "--format", "tex,pdf,md", "--out", tmp_path / "out"], capsys)
    assert code == 0, err
    tex = (tmp_path / "out" / "solution.tex").read_text(encoding="utf-8")
    coordinates = re.search(r"coordinates \{([^}]*)\}", tex).group(1)
    assert 100 < coordinates.count("(") <= 1000 and "(0," in coordinates and "(20000," in coordinates
    assert (tmp_path / "out" / "loss.svg").read_text().count(",") <= 2100


def test_downsample_keeps_first_last_and_extremes():
    from derive.documents.model import downsample

    ys = [1.0] * 10_000
    ys[4321] = 5.0
    ys[7777] = -3.0
    xs, kept = downsample(range(10_000), ys, 400)
    assert len(xs) <= 400 and xs[0] == 0 and xs[-1] == 9999 and xs == sorted(xs)
    assert 4321 in xs and 7777 in xs and max(kept) == 5.0 and min(kept) == -3.0
    assert downsample([0, 1, 2], [3, 2, 1]) == ([0, 1, 2], [3, 2, 1])


# -- presets and paths -------------------------------------------------------------------------------------------

def test_a_folder_named_like_a_preset_never_hides_it(tmp_path, capsys, monkeypatch):
    """derive solve mazur --out mazur, twice: the second run still solves the preset."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        code, out, err = run_cli(["solve", "mazur", "--format", "json", "--out", "mazur"], capsys)
        assert (code, out, err) == (0, "mazur/solution.json\n", "")


def test_an_explicit_file_beats_the_preset_of_its_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("mazur").write_text(MAZUR.replace(TITLE, 'title = "my own file"'), encoding="utf-8")
    code, _, _ = run_cli(["solve", "mazur", "--format", "json", "--out", "out"], capsys)
    assert code == 0 and json.loads(Path("out/solution.json").read_text())["title"] == "my own file"


# -- writes --------------------------------------------------------------------------------------------------------

def _previous_run(out: Path) -> dict:
    """The files of an earlier good run in ``out``, by name."""
    assert main(["solve", "mazur", "--format", "md,json", "--out", str(out)]) == 0
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_a_folder_named_like_an_output_stops_the_run_before_any_write(tmp_path, capsys):
    out = tmp_path / "out"
    before = _previous_run(out)
    (out / "solution.tex").mkdir()
    capsys.readouterr()
    code, _, err = run_cli(["solve", "mazur", "--format", "md,tex,json", "--out", out], capsys)
    assert code == 2
    assert err == (f"derive: error: {out}/solution.tex: is a folder, not a regular file; derive writes only regular "
                   "files, so nothing was written (choose another --out or move it away)\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("make, kind", [(os.mkfifo, "a named pipe (FIFO)"), (os.mkdir, "a folder")])
def test_import_torch_and_solve_refuse_special_targets(make, kind, tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    make("target")
    torch.save({"0.weight": torch.tensor([[0.15, 0.2]])}, "m.pt")
    code, _, err = run_cli(["import-torch", "m.pt", "--activations", "sigmoid", "--inputs", "[[1, 2]]",
                            "--targets", "[[0.5]]", "--out", "target"], capsys)
    assert code == 2 and err.startswith(f"derive: error: target: is {kind}, not a regular file")
    if make is os.mkfifo:
        Path("o").mkdir()
        os.mkfifo("o/solution.json")
        code, _, err = run_cli(["solve", "mazur", "--format", "md,json", "--out", "o"], capsys)
        assert code == 2 and err.startswith("derive: error: o/solution.json: is a named pipe (FIFO)")
        assert sorted(os.listdir("o")) == ["solution.json"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root")
def test_import_torch_does_not_replace_a_device(tmp_path, capsys, monkeypatch):
    """mknod fake-null c 1 3; import-torch --out fake-null: refused, the device stays a device."""
    import stat

    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    os.mknod("fake-null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    torch.save({"0.weight": torch.tensor([[0.15, 0.2]])}, "m.pt")
    code, _, err = run_cli(["import-torch", "m.pt", "--activations", "sigmoid", "--inputs", "[[1, 2]]",
                            "--targets", "[[0.5]]", "--out", "fake-null"], capsys)
    assert (code, err) == (2, "derive: error: fake-null: is a device, not a regular file; derive writes only regular "
                              "files, so nothing was written (choose another --out or move it away)\n")
    assert stat.S_ISCHR(os.stat("fake-null").st_mode)


def test_a_latex_failure_keeps_its_files_under_their_own_names(tmp_path, capsys, monkeypatch):
    """The last good solution.tex stays; the failed run's source and log are solution.failed.tex/.log."""
    from derive.formats import latex
    from derive.formats import registry as solution  # where the worked solution's PDF is compiled

    out = tmp_path / "out"
    assert main(["solve", "mazur", "--format", "tex,json", "--out", str(out)]) == 0
    good = {p.name: p.read_bytes() for p in out.iterdir()}

    def failing(tex, name, quick=False):
        raise latex.LatexFailure(name, "LaTeX error at line 3 of solution.tex: Undefined control sequence.", "the log")

    monkeypatch.setattr(solution, "compile_pdf", failing)
    capsys.readouterr()
    code, _, err = run_cli(["solve", "mazur", "--format", "tex,pdf,json", "--out", out], capsys)
    assert code == 2
    assert err == (f"derive: error: solution.tex: LaTeX error at line 3 of solution.tex: Undefined control sequence. "
                   f"(kept {out}/solution.failed.tex and {out}/solution.failed.log)\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith("solution.failed")} == good
    assert (out / "solution.failed.log").read_text() == "the log"
    monkeypatch.setattr(solution, "compile_pdf", lambda tex, name, quick=False: (b"%PDF-1.5 fake", ""))
    assert run_cli(["solve", "mazur", "--format", "tex,pdf,json", "--out", out], capsys)[0] == 0
    assert sorted(os.listdir(out)) == ["solution.json", "solution.pdf", "solution.tex"]  # the failed pair is gone


@needs_tex
def test_sigterm_during_latex_cleans_up_and_keeps_the_old_outputs(tmp_path):
    """SIGTERM while pdflatex runs: exit 143, one line, no derive-tex-* folder left, the old outputs intact."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "out"
    before = _previous_run(out)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    child = subprocess.Popen([sys.executable, "-m", "derive", "solve", "mazur", "--out", str(out)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(temp.glob("derive-tex-*")) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    assert list(temp.glob("derive-tex-*")), "pdflatex never started"
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=120)
    assert (child.returncode, stdout) == (143, "")
    assert stderr == "derive: terminated; the outputs are the old ones or all the new ones, never a mix\n"
    assert not list(temp.iterdir())
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@needs_tex
def test_the_folders_of_a_killed_run_are_swept(tmp_path, monkeypatch):
    """SIGKILL leaves a derive-tex-PID-* folder; the next build removes it (its process is gone), not others'."""
    import tempfile

    from derive.formats.latex import compile_pdf

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"derive-tex-{dead.pid}-abc").mkdir()
    (tmp_path / f"derive-tex-{dead.pid}-abc" / "solution.tex").write_text("x")
    (tmp_path / f"derive-tex-{os.getpid()}-live").mkdir()  # a running process's: kept
    (tmp_path / "other-folder").mkdir()
    pdf, _ = compile_pdf("\\documentclass{article}\\begin{document}x\\end{document}", "t.tex")
    assert pdf.startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"derive-tex-{os.getpid()}-live", "other-folder"]


# -- import-torch: malformed state dicts and arguments ------------------------------------------------------------

def _state_dicts(torch):
    t = torch.tensor
    return {
        "w3d": ({"0.weight": torch.ones(2, 2, 2)}, "0.weight: has shape (2, 2, 2); a Linear layer's weight is a matrix "
                "(out_features x in_features)"),
        "w0d": ({"0.weight": t(1.0)}, "0.weight: has shape (); a Linear layer's weight is a matrix (out_features x "
                "in_features)"),
        "w02": ({"0.weight": torch.ones(0, 2)}, "0.weight: has shape (0, 2); a layer needs at least one unit and one "
                "input"),
        "non_tensor": ({"0.weight": [[1.0, 2.0]]}, "0.weight: is a list of 1 item, not a tensor; a state dict maps "
                       "parameter names to tensors"),
        "top_list": ([torch.ones(2, 2)], "holds a list of 1 item, not a state dict (a dictionary of parameter names "
                     "to tensors, as torch.save(model.state_dict(), path) writes)"),
        "top_tensor": (torch.ones(2, 2), "holds a tensor of shape (2, 2), not a state dict (a dictionary of parameter "
                       "names to tensors, as torch.save(model.state_dict(), path) writes)"),
        "int_keys": ({0: torch.ones(2, 2)}, "key 0 is not a parameter name; a state dict's keys are text such as "
                     "'0.weight'"),
        "complex": ({"0.weight": torch.ones(2, 2, dtype=torch.complex64)}, "0.weight: holds complex numbers "
                    "(torch.complex64); derive takes real numbers"),
        "sparse": ({"0.weight": torch.ones(2, 2).to_sparse()}, "0.weight: is a sparse tensor; save the dense weights "
                   "(tensor.to_dense())"),
        "nan": ({"0.weight": t([[1.0, float("nan")]]), "0.bias": t([0.0])}, "0.weight[0][1]: is NaN; derive needs "
                "finite numbers"),
        "inf": ({"0.weight": t([[1.0, 2.0]]), "0.bias": t([float("-inf")])}, "0.bias[0]: is -infinity; derive needs "
                "finite numbers"),
        "bias_shape": ({"0.weight": t([[1.0, 2.0]]), "0.bias": t([0.0, 1.0])}, "0.bias: has shape (2,); the bias of "
                       "0.weight (shape (1, 2)) is a vector of 1"),
        "empty": ({}, "holds no weights (no key ending in 'weight'); a Linear layer's weight is saved as "
                  "'NAME.weight'"),
    }


@pytest.mark.parametrize("case", ["w3d", "w0d", "w02", "non_tensor", "top_list", "top_tensor", "int_keys", "complex",
                                  "sparse", "nan", "inf", "bias_shape", "empty"])
def test_import_torch_malformed_state_dict(case, tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    state, message = _state_dicts(torch)[case]
    torch.save(state, "m.pt")
    code, out, err = run_cli(["import-torch", "m.pt", "--activations", "sigmoid", "--inputs", "[[1, 2]]",
                              "--targets", "[[0.5]]", "--out", "spec.toml"], capsys)
    assert (code, out, err) == (2, "", f"derive: error: m.pt: {message}\n")
    assert os.listdir() == ["m.pt"]


IMPORT_ARGUMENTS = [
    (["--lr", "0.1\n[x]"], "--lr: expected a number such as 0.1, got '0.1\\n[x]'"),
    (["--lr", "nan"], "--lr: expected a number such as 0.1, got 'nan'"),
    (["--inputs", '{"a":1}'], "--inputs: expected a list of rows such as [[0.05, 0.1]], got an object"),
    (["--inputs", "[]"], "--inputs: expected a list of rows such as [[0.05, 0.1]], got an empty list"),
    (["--inputs", '[["a", 1]]'], '--inputs: row 1, item 1: expected a number, got text "a"'),
    (["--inputs", "[[1], 2]"], "--inputs: row 2: expected a list of numbers such as [0.05, 0.1], got the number 2"),
    (["--targets", "[[true]]"], "--targets: row 1, item 1: expected a number, got true"),
    (["--targets", "[[0.5"], "--targets: expected a list of rows such as [[0.05, 0.1]]: Expecting ',' delimiter"),
    (["--out", ""], "--out: the output file name is empty text"),
    (["--out", "folder/"], "folder/: is a folder name; --out names the spec file to write, such as model.toml"),
    (["--activations", ","], "--activations: no activation given; name one per Linear layer, such as sigmoid,sigmoid"),
    (["--title", "a\nb"], "m.pt: title: contains a control or invalid character ('\\n') at position 2; a title is one "
                          "line of text"),
]


@pytest.mark.parametrize("extra, message", IMPORT_ARGUMENTS, ids=[" ".join(e) for e, _ in IMPORT_ARGUMENTS])
def test_import_torch_bad_arguments(extra, message, tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    torch.save({"0.weight": torch.tensor([[0.15, 0.2]]), "0.bias": torch.tensor([0.35])}, "m.pt")
    arguments = {"--activations": "sigmoid", "--inputs": "[[1, 2]]", "--targets": "[[0.5]]", "--out": "spec.toml"}
    arguments.update(dict(zip(extra[::2], extra[1::2])))
    code, out, err = run_cli(["import-torch", "m.pt", *[x for pair in arguments.items() for x in pair]], capsys)
    assert (code, out, err) == (2, "", f"derive: error: {message}\n")
    assert os.listdir() == ["m.pt"]


def test_import_torch_title_with_quotes_and_backslashes_round_trips(tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    torch.save({"0.weight": torch.tensor([[0.15, 0.2]]), "0.bias": torch.tensor([0.35])}, "m.pt")
    title = 'a "quoted" \\ title\twith a tab'
    code, _, err = run_cli(["import-torch", "m.pt", "--activations", "sigmoid", "--inputs", "[[1, 2]]", "--targets",
                            "[[0.5]]", "--title", title.replace("\t", " "), "--out", "spec.toml"], capsys)
    assert code == 0, err
    import derive

    assert derive.load("spec.toml").title == title.replace("\t", " ")


# -- limits and progress ---------------------------------------------------------------------------------------------

LIMITS = [
    (["--max-answers", "3"], "answers.toml: 43 answers is more than a check is made for (at most 3); --max-answers "
                             "raises the limit"),
    (["--budget", "100"], "mazur: diagnosing the wrong answers could take up to 32832 step evaluations (27 known "
                          "mistakes x 76 steps x 16), more than the budget of 100; --budget raises it"),
    (["--max-parameters", "10"], "mazur: 12 parameters is more than a check is made for (at most 10); "
                                 "--max-parameters raises the limit"),
    (["--budget", "0"], "--budget: expected a positive whole number, got 0"),
]


@pytest.mark.parametrize("extra, message", LIMITS, ids=[" ".join(e) for e, _ in LIMITS])
def test_check_limits_are_clear_and_raisable(extra, message, capsys):
    answers = ROOT / "outputs" / "mazur-check" / "answers.toml"
    code, out, err = run_cli(["check", "mazur", answers, *extra], capsys)
    assert (code, out, err) == (2, "", f"derive: error: {message}\n")


class _Terminal:
    def __init__(self, tty=True):
        self.text, self.tty = "", tty

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_shows_only_on_a_terminal_and_after_two_seconds():
    now = [0.0]
    terminal = _Terminal()
    bar = Progress(terminal, clock=lambda: now[0])
    bar(1, 10, "diagnosing")
    now[0] = 1.5
    bar(5, 10, "diagnosing")
    assert terminal.text == ""  # quick work stays silent
    now[0] = 2.5
    bar(6, 10, "diagnosing")
    now[0] = 2.55
    bar(7, 10, "diagnosing")  # within a tenth of a second: not redrawn
    now[0] = 3.0
    bar(10, 10, "diagnosing")
    assert terminal.text == ("\rdiagnosing  [##################............] 6/10"
                             "\rdiagnosing  [##############################] 10/10\n")
    piped = _Terminal(tty=False)
    late = Progress(piped, clock=lambda: now[0])
    late(1, 2)
    now[0] = 100.0
    late(2, 2)
    assert piped.text == ""
