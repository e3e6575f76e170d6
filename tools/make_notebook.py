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
    ("markdown", """## The first source document: a manual backward pass, checked

The first source document writes a 10-20-1 ReLU network in matrix form (`x @ w1 + b1`) and its
backward pass by hand. `derive.to_torch` gives the built-in `mlp-relu` example as PyTorch objects;
the document's own backward pass, run on them, is then checked by `derive.check`."""),
    ("code", """import torch.nn.functional as F

model, x, t, loss_fn = derive.to_torch("mlp-relu")
w1, b1 = model[0].weight.T, model[0].bias   # the document's layout: x @ w1 + b1
w2, b2 = model[2].weight.T, model[2].bias
with torch.no_grad():
    hidden_output = F.relu(x @ w1 + b1)
    output_tensor = hidden_output @ w2 + b2
    # the document's backward pass, line by line
    output_grad = 2 * (output_tensor - t) / output_tensor.size(0)
    w2_grad = hidden_output.t() @ output_grad
    hidden_output_grad = output_grad @ w2.t()
    hidden_output_grad[hidden_output < 0] = 0   # ReLU derivative, as the document writes it
    w1_grad = x.t() @ hidden_output_grad

report = derive.check("mlp-relu", {"gradients.W1": w1_grad, "gradients.W2": w2_grad})
print(report.exit_code, "-", sum(r.verdict != "right" for r in report.results), "of", len(report.results), "entries wrong")"""),
    ("markdown", """The wrong entries are exactly the inactive hidden units' columns: the mask tests the activated
values, which are never negative, so it masks nothing. Masking on the net input fixes it:"""),
    ("code", """with torch.no_grad():
    net = x @ w1 + b1
    hidden_output_grad = output_grad @ w2.t()
    hidden_output_grad[net <= 0] = 0   # the mask on the pre-activation (0 at exactly 0, as PyTorch)
    w1_grad = x.t() @ hidden_output_grad
assert derive.check("mlp-relu", {"gradients.W1": w1_grad, "gradients.W2": w2_grad}).exit_code == 0"""),
    ("markdown", """## A classifier: softmax and cross-entropy

`nn.CrossEntropyLoss` takes logits and class indices. derive shows the softmax, its Jacobian, and
derives delta = out - t from it; its gradients are PyTorch's."""),
    ("code", """classifier = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 3))
with torch.no_grad():
    classifier[0].weight.copy_(torch.tensor([[0.15, 0.20], [0.25, 0.30]])); classifier[0].bias.fill_(0.35)
    classifier[2].weight.copy_(torch.tensor([[0.40, 0.45], [0.50, 0.55], [0.10, -0.20]]))
    classifier[2].bias.copy_(torch.tensor([0.60, 0.60, 0.10]))
spec = derive.from_torch(classifier, inputs, [1], loss=nn.CrossEntropyLoss(), lr=0.5)  # class 1 of 0, 1, 2
softmax = derive.solve(spec)
loss = nn.CrossEntropyLoss()(classifier(inputs), torch.tensor([1]))
loss.backward()
exact = [[float(g) for g in row] for row in softmax.first.grad_W[2]]
assert torch.allclose(classifier[2].weight.grad, torch.tensor(exact), rtol=1e-12)
print({name: float(v) for name, v in softmax.quantities.items() if name.startswith("delta_o")})"""),
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
