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
    (nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)), "normalises across the samples"),
])
def test_from_torch_refuses_what_it_cannot_express(model, message):
    with pytest.raises(DeriveError, match=message):
        derive.from_torch(model, [[1, 2]], [[1, 2]])


def classifier():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]))
        model[0].bias.copy_(torch.tensor([0.05, -0.05, 0.1]))
        model[2].weight.copy_(torch.tensor([[0.7, -0.8, 0.9], [-0.1, 0.2, -0.3], [0.4, 0.5, -0.6]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.1, -0.1]))
    return model


@pytest.mark.parametrize("targets", [
    [2, 0],  # class indices, as CrossEntropyLoss also takes them
    [[0, 0, 1], [1, 0, 0]],  # the same as one-hot rows
])
def test_from_torch_reads_a_classifier_with_cross_entropy(targets):
    """Logits out, CrossEntropyLoss: derive's loss and gradients are PyTorch's (float32 model, so 1e-6)."""
    model, x = classifier(), torch.tensor([[0.5, -1.0], [0.25, 0.75]])
    spec = derive.from_torch(model, x, targets, loss=nn.CrossEntropyLoss(), lr=0.1)
    assert spec.activations == ("tanh", "softmax") and spec.loss == "cross_entropy"
    assert spec.targets == ((0, 0, 1), (1, 0, 0))
    loss = nn.CrossEntropyLoss()(model(x), torch.tensor([2, 0]))
    loss.backward()
    run = derive.solve(spec).first
    assert float(run.loss) == pytest.approx(loss.item(), abs=1e-6)
    for ours, theirs in ((run.grad_W[2], model[2].weight.grad), (run.grad_W[1], model[0].weight.grad)):
        assert [float(v) for row in ours for v in row] == pytest.approx(theirs.flatten().tolist(), abs=1e-6)


@pytest.mark.parametrize("model, loss, targets, message", [
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1)), nn.CrossEntropyLoss(), [1], "the softmax is applied twice"),
    (nn.Sequential(nn.Linear(2, 3)), nn.CrossEntropyLoss(), [3], "class index 3 is not one of the 3 classes"),
    (nn.Sequential(nn.Linear(2, 3)), nn.CrossEntropyLoss(label_smoothing=0.1), [1], "label smoothing"),
    (nn.Sequential(nn.Linear(2, 3)), nn.CrossEntropyLoss(weight=torch.ones(3)), [1], "class weights"),
    (nn.Sequential(nn.Linear(2, 3)), nn.CrossEntropyLoss(reduction="sum"), [1], "reduction 'sum'"),
    (nn.Sequential(nn.Linear(2, 3)), nn.NLLLoss(), [1], "cannot express NLLLoss"),
])
def test_from_torch_refuses_losses_it_cannot_express(model, loss, targets, message):
    with pytest.raises(DeriveError, match=message):
        derive.from_torch(model, [[0.5, 0.25]], targets, loss=loss)


@pytest.mark.parametrize("source", ["mazur", "mazur-torch", "softmax-ce", "mlp-relu"])
def test_to_torch_gives_the_same_loss_and_gradients(source):
    """PyTorch out: the spec as an nn.Sequential and loss; autograd in float64 agrees with derive to 1e-12."""
    model, x, t, loss_fn = derive.to_torch(source)
    loss = loss_fn(model(x), t)
    loss.backward()
    ours = derive.solve(source, verify_symbolic=False).first
    assert loss.item() == pytest.approx(float(ours.loss), rel=1e-12)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for l, linear in enumerate(linears, start=1):
        assert [float(v) for row in ours.grad_W[l] for v in row] == pytest.approx(
            linear.weight.grad.flatten().tolist(), rel=1e-12, abs=1e-15)
        assert [float(v) for v in ours.grad_b[l]] == pytest.approx(linear.bias.grad.tolist(), rel=1e-12, abs=1e-15)


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


@pytest.mark.parametrize("make, expected", [
    (lambda p: torch.optim.Adam(p, lr=0.1), {"optimizer": "adam", "beta1": Fraction(9, 10), "beta2": Fraction(999, 1000),
                                            "eps": Fraction(1, 10**8), "amsgrad": False}),
    (lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.05, amsgrad=True),
     {"optimizer": "adamw", "beta1": Fraction(4, 5), "weight_decay": Fraction(1, 20), "amsgrad": True}),
    (lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, dampening=0.1),
     {"optimizer": "momentum", "momentum": Fraction(9, 10), "dampening": Fraction(1, 10)}),
    (lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.5, nesterov=True), {"optimizer": "nesterov", "momentum": Fraction(1, 2)}),
    (lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.3),
     {"optimizer": "rmsprop", "alpha": Fraction(99, 100), "centered": True, "momentum": Fraction(3, 10)}),
    (lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01), {"optimizer": "adagrad", "lr_decay": Fraction(1, 100)}),
])
def test_from_torch_reads_the_optimizer_and_to_torch_gives_it_back(make, expected):
    model = mazur_model()
    optimizer = make(model.parameters())
    spec = derive.from_torch(model, [[0.05, 0.10]], [[0.01, 0.99]], loss="half_sse", optimizer=optimizer, steps=3)
    settings = spec.training.settings
    assert settings.optimizer == expected.pop("optimizer")
    for key, value in expected.items():
        assert settings[key] == value, key
    assert spec.learning_rate == Fraction(str(optimizer.param_groups[0]["lr"]))
    back = derive.to_torch(spec, optimizer=True)
    assert len(back) == 5 and len(derive.to_torch(spec)) == 4  # the four-item form still works
    model64, x, t, loss, again = back
    assert type(again) is type(optimizer)
    for key in ("lr", "weight_decay", "momentum", "betas", "eps", "amsgrad", "centered", "lr_decay", "dampening"):
        if key in optimizer.param_groups[0]:
            assert again.param_groups[0][key] == pytest.approx(optimizer.param_groups[0][key]), key
    # the optimizer it returns trains the model as derive does
    ours = derive.solve(spec)
    for _ in range(spec.steps):
        again.zero_grad()
        loss(model64(x), t).backward()
        again.step()
    assert model64[2].weight[0, 0].item() == pytest.approx(float(ours.final_weights[2][0][0]), rel=1e-12)


def test_from_torch_reads_biases_without_decay_and_biases_left_out():
    model = mazur_model()
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    adamw = torch.optim.AdamW([{"params": weights}, {"params": biases, "weight_decay": 0.0}], lr=0.1)
    spec = derive.from_torch(model, [[0.05, 0.10]], [[0.01, 0.99]], optimizer=adamw)
    assert spec.training.decay_biases is False and spec.update_biases
    spec = derive.from_torch(model, [[0.05, 0.10]], [[0.01, 0.99]], optimizer=torch.optim.Adam(weights, lr=0.1))
    assert spec.update_biases is False
    with pytest.raises(DeriveError, match="maximize"):
        derive.from_torch(model, [[0.05, 0.10]], [[0.01, 0.99]], optimizer=torch.optim.Adam(weights, maximize=True))
    with pytest.raises(DeriveError, match="cannot express LBFGS"):
        derive.from_torch(model, [[0.05, 0.10]], [[0.01, 0.99]], optimizer=torch.optim.LBFGS(weights))


def test_import_torch_reads_the_optimizer_options(tmp_path, capsys):
    path = tmp_path / "m.pt"
    torch.save(mazur_model().state_dict(), path)
    out = tmp_path / "spec.toml"
    code = main(["import-torch", str(path), "--activations", "sigmoid,sigmoid", "--inputs", "[[0.05, 0.1]]",
                 "--targets", "[[0.01, 0.99]]", "--lr", "0.1", "--optimizer", "adam", "--betas", "0.8,0.99",
                 "--eps", "1e-6", "--steps", "2", "--out", str(out)])
    assert code == 0
    spec = derive.load(str(out))
    s = spec.training.settings
    assert (s.optimizer, s["beta1"], s["beta2"], s["eps"]) == ("adam", Fraction(4, 5), Fraction(99, 100), Fraction(1, 10**6))
    code = main(["import-torch", str(path), "--activations", "sigmoid,sigmoid", "--inputs", "[[0.05, 0.1]]",
                 "--targets", "[[0.01, 0.99]]", "--optimizer", "adam", "--betas", "0.9", "--out", str(out)])
    assert code == 2 and "--betas" in capsys.readouterr().err
    code = main(["import-torch", str(path), "--activations", "sigmoid,sigmoid", "--inputs", "[[0.05, 0.1]]",
                 "--targets", "[[0.01, 0.99]]", "--optimizer", "sgd", "--betas", "0.9,0.99", "--out", str(out)])
    assert code == 2 and "takes no beta1" in capsys.readouterr().err
