"""The example notebook in outputs/ runs top to bottom; the API displays itself in Jupyter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import derive

ROOT = Path(__file__).resolve().parent.parent


def test_example_notebook_runs_top_to_bottom(capsys):
    pytest.importorskip("torch")  # .ci/run installs it
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


def test_solution_displays_as_its_worked_solution():
    solution = derive.solve("mazur")
    shown = solution._repr_markdown_()
    assert shown.startswith("# A step-by-step backpropagation example")
    assert "$$" in shown and "network.svg" not in shown
    assert repr(solution) == "<Solution 'mazur': 2-2-2 network, loss 0.298371109, 1 step>"


def test_api_renders_to_strings_and_files(tmp_path):
    solution = derive.solve("mazur")
    assert solution.latex().startswith("\\documentclass")
    assert json.loads(solution.json())["quantities"]["w5_new"] == pytest.approx(0.35891648, abs=1e-8)
    written = solution.write(tmp_path, formats=("md", "json"))
    assert sorted(p.name for p in written) == ["network.svg", "solution.json", "solution.md"]
