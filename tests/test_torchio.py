"""PyTorch models in: from_torch and import-torch read weights as PyTorch prints them, and refuse what they cannot express."""

from __future__ import annotations

from fractions import Fraction

import pytest

import derive
from derive.cli import main
from derive.errors import DeriveError

torch = pytest.importorskip("torch")  # .ci/run installs torch==2.13.0
nn = torch.nn


def mazur_model():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.15, 0.20], [0.25, 0.30]]))
        model[0].bias.fill_(0.35)
        model[2].weight.copy_(torch.tensor([[0.40, 0.45], [0.50, 0.55]]))
        model[2].bias.fill_(0.60)
    return model


def test_from_torch_reads_the_printed_decimals():
    spec = derive.from_torch(mazur_model(), torch.tensor([[0.05, 0.10]]), torch.tensor([[0.01, 0.99]]),
                             loss=nn.MSELoss(), lr=0.5)
    assert spec.weights[0][0] == (Fraction(3, 20), Fraction(1, 5))  # 0.15 exactly, not the float32 near it
    assert derive.solve(spec).quantities == derive.solve("mazur-torch").quantities


def test_from_torch_reads_leaky_relu_slopes():
    model = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(), nn.Linear(3, 2), nn.LeakyReLU(0.2), nn.Linear(2, 1))
    spec = derive.from_torch(model, [[0.5, -0.25]], [[0.1]])
    assert spec.activations == ("leaky_relu", "leaky_relu(0.2)", "identity")
    x = torch.tensor([[0.5, -0.25]])
    assert float(derive.solve(spec).first.out[3][0][0]) == pytest.approx(model(x).item(), abs=1e-6)


@pytest.mark.parametrize("model, message", [
    (nn.Sequential(nn.Linear(2, 2), nn.Dropout()), "cannot express a Dropout layer"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), "comes before any Linear layer"),
])
def test_from_torch_refuses_what_it_cannot_express(model, message):
    with pytest.raises(DeriveError, match=message):
        derive.from_torch(model, [[1, 2]], [[1, 2]])


def test_import_torch_writes_a_spec(tmp_path, capsys):
    torch.save(mazur_model().state_dict(), tmp_path / "m.pt")
    out = tmp_path / "spec.toml"
    assert main(["import-torch", str(tmp_path / "m.pt"), "--activations", "sigmoid,sigmoid", "--inputs",
                 "[[0.05, 0.10]]", "--targets", "[[0.01, 0.99]]", "--lr", "0.5", "--out", str(out)]) == 0
    assert derive.solve(str(out)).quantities == derive.solve("mazur-torch").quantities


def test_import_torch_errors_are_clean(tmp_path, capsys):
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    assert main(["import-torch", str(tmp_path / "junk.pt"), "--activations", "relu", "--inputs", "[[1]]",
                 "--targets", "[[1]]", "--out", str(tmp_path / "s.toml")]) == 2
    assert "not a PyTorch state dict" in capsys.readouterr().err
    assert not (tmp_path / "s.toml").exists()
