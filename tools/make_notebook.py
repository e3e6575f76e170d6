"""The example notebook of outputs/: the source documents' session, redone with derive (runs top to bottom)."""

from __future__ import annotations

import json
from pathlib import Path

CELLS = [
    ("markdown", """# derive in a notebook

The second source document trains the classic 2-2-2 sigmoid network one step with PyTorch
(`nn.MSELoss`, `optim.SGD(lr=0.5)`). Here derive does the same step exactly, shows every
derivation, and checks the numbers against PyTorch."""),
    ("code", """import derive

solution = derive.solve("mazur-torch")   # a built-in example, or a path to a spec file
solution"""),
    ("markdown", "Every number of the worked solution has a name (the JSON `quantities`):"),
    ("code", """q = solution.quantities
for name in ["out_o1", "out_o2", "E_total", "dE_total/dw5", "w5_new", "b_h1_new"]:
    print(f"{name:>14} = {float(q[name]):.10f}")"""),
    ("markdown", """The same network as a PyTorch model: `derive.from_torch` reads its weights as PyTorch prints
them (0.15, not 0.1500000059604645) and gives a spec that solves to the same numbers."""),
    ("code", """import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)  # PyTorch in float64, so that its step can be compared to 12 digits
model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.15, 0.20], [0.25, 0.30]])); model[0].bias.fill_(0.35)
    model[2].weight.copy_(torch.tensor([[0.40, 0.45], [0.50, 0.55]])); model[2].bias.fill_(0.60)
inputs, targets = torch.tensor([[0.05, 0.10]]), torch.tensor([[0.01, 0.99]])

spec = derive.from_torch(model, inputs, targets, loss=nn.MSELoss(), lr=0.5)
from_model = derive.solve(spec)
assert from_model.quantities["w5_new"] == solution.quantities["w5_new"]"""),
    ("markdown", "PyTorch's own step, in float64, agrees with derive's exact one:"),
    ("code", """optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
loss = nn.MSELoss()(model(inputs), targets)
optimizer.zero_grad(); loss.backward(); optimizer.step()
print(model[2].weight.data)
exact = [[float(w) for w in row] for row in solution.first.new_weights[2]]
assert torch.allclose(model[2].weight.data, torch.tensor(exact, dtype=torch.float64), rtol=1e-12)"""),
    ("markdown", "The worked solution as text, ready for a Markdown cell or a file:"),
    ("code", """print(solution.markdown()[:600])"""),
]


def notebook() -> str:
    """The notebook as nbformat 4 JSON text (no outputs, so that it is the same on every run)."""
    cells = []
    for kind, source in CELLS:
        cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notebook.ipynb").write_text(notebook(), encoding="utf-8")
