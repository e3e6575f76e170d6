"""The example notebook in outputs/ runs top to bottom; the API displays itself in Jupyter."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

import derive

ROOT = Path(__file__).resolve().parent.parent


def test_example_notebook_runs_top_to_bottom(capsys, monkeypatch):
    """From its own folder, as Jupyter runs it: the folder outputs/mazur-torch/ beside it hides no preset."""
    pytest.importorskip("torch")  # .ci/run installs it
    monkeypatch.chdir(ROOT / "outputs")
    assert (ROOT / "outputs" / "mazur-torch").is_dir()
    notebook = json.loads((ROOT / "outputs" / "notebook.ipynb").read_text())
    namespace: dict = {}
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 4
    try:
        for cell in code:
            exec(compile("".join(cell["source"]), "notebook cell", "exec"), namespace)  # our own notebook's code
    finally:
        import torch

        torch.set_default_dtype(torch.float32)  # the notebook switches PyTorch to float64
    assert "w5_new" in capsys.readouterr().out


def test_solution_displays_as_its_worked_solution(tmp_path):
    solution = derive.solve("mazur")
    shown = solution._repr_markdown_()
    assert shown.startswith("# A step-by-step backpropagation example")
    assert "$$" in shown and "(network.svg)" not in shown
    # the diagram travels inside the Markdown, as the file the folder would hold
    encoded = re.search(r"!\[The network[^\]]*\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", shown).group(1)
    solution.write(tmp_path, formats=("md",))
    assert base64.b64decode(encoded).decode() == (tmp_path / "network.svg").read_text(encoding="utf-8")
    assert repr(solution) == "<Solution 'mazur': 2-2-2 network, loss 0.298371109, 1 step>"


def test_a_check_report_displays_its_verdicts():
    report = derive.check("mazur", {"out_o1": 0.75136507, "out_o2": 0.7})
    shown = report._repr_markdown_()
    assert shown.startswith("#") and "out_o1" in shown and "out_o2" in shown
    assert report.count("right") == 1 and report.count("wrong") == 1


def test_api_renders_to_strings_and_files(tmp_path):
    solution = derive.solve("mazur")
    assert solution.latex().startswith("\\documentclass")
    assert json.loads(solution.json())["quantities"]["w5_new"] == pytest.approx(0.35891648, abs=1e-8)
    written = solution.write(tmp_path, formats=("md", "json"))
    assert sorted(p.name for p in written) == ["network.svg", "solution.json", "solution.md"]


@pytest.mark.parametrize("module", ["derive", "derive.grading.check"])
def test_the_examples_in_the_docstrings_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
