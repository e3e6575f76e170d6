"""PyTorch autograd in float64 as the oracle: loss, gradients, updates and history on random networks."""

from __future__ import annotations

import pytest
from randomnet import ACTIVATIONS, LOSSES, spec_text

from derive.core.solve import solve
from derive.core.spec import parse

torch = pytest.importorskip("torch")  # .ci/run installs torch==2.13.0, so CI never skips this

SEEDS = range(24)
RTOL, ATOL = 1e-12, 1e-15


def torch_run(spec):
    """Train the spec with PyTorch in float64; return (history, grads of step 1, params after step 1, final)."""
    f64 = torch.float64
    W = [torch.tensor([[float(v) for v in row] for row in w], dtype=f64, requires_grad=True) for w in spec.weights]
    b = [torch.tensor([float(v) for v in bias], dtype=f64, requires_grad=True) for bias in spec.biases]
    x = torch.tensor([[float(v) for v in row] for row in spec.inputs], dtype=f64)
    t = torch.tensor([[float(v) for v in row] for row in spec.targets], dtype=f64)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z,
            "leaky_relu": torch.nn.functional.leaky_relu,  # PyTorch's default slope 0.01, as derive's
            "leaky_relu(0.2)": lambda z: torch.nn.functional.leaky_relu(z, 0.2),
            "softmax": lambda z: torch.softmax(z, dim=1),
            "softplus": torch.nn.functional.softplus}  # beta 1, threshold 20: ln(1 + e^z) for the nets drawn here
    lr = float(spec.learning_rate)

    def loss_of():
        a = x
        for l, (w, bias, name) in enumerate(zip(W, b, spec.activations), 1):
            z = a @ w.T + bias  # nn.Linear: W is (out x in)
            if spec.loss == "cross_entropy" and l == spec.layers:
                # CrossEntropyLoss takes the logits and applies the softmax itself (derive writes it as the
                # output activation)
                return torch.nn.functional.cross_entropy(z, t)
            a = acts[name](z)
        if spec.loss == "mse":
            return torch.nn.functional.mse_loss(a, t)
        if spec.loss == "bce":
            return torch.nn.functional.binary_cross_entropy(a, t)
        if spec.loss == "half_sse":
            return 0.5 * ((t - a) ** 2).sum()
        if spec.loss == "sse":
            return ((t - a) ** 2).sum()
        raise KeyError(f"the oracle has no row for the loss {spec.loss!r}: add one")

    history, first = [], None
    for step in range(spec.steps):
        loss = loss_of()
        history.append(loss.item())
        for p in W + b:
            p.grad = None
        loss.backward()
        grads = ([w.grad.clone() for w in W], [bias.grad.clone() for bias in b])
        with torch.no_grad():
            for w in W:
                w -= lr * w.grad
            if spec.update_biases:
                for bias in b:
                    bias -= lr * bias.grad
        if step == 0:
            first = (grads, [w.detach().clone() for w in W], [bias.detach().clone() for bias in b])
    with torch.no_grad():
        history.append(loss_of().item())
    return history, first, ([w.detach() for w in W], [bias.detach() for bias in b])


def close(ours, theirs) -> bool:
    return abs(float(ours) - theirs) <= RTOL * max(abs(theirs), abs(float(ours))) + ATOL


def assert_matrix(ours, theirs, what):
    theirs = theirs.tolist()
    for r, row in enumerate(ours):
        values = row if isinstance(row, tuple) else (row,)
        expected = theirs[r] if isinstance(theirs[r], list) else [theirs[r]]
        for c, (a, e) in enumerate(zip(values, expected)):
            assert close(a, e), f"{what}[{r}][{c}]: derive {float(a)!r}, torch {e!r}"


@pytest.mark.parametrize("seed, overrides", [(seed, {}) for seed in SEEDS] + [
    (100 + k, {"activations": acts}) for k, acts in enumerate([
        ["leaky_relu", "leaky_relu", "identity"], ["leaky_relu(0.2)", "sigmoid"], ["tanh", "leaky_relu(0.2)"],
        ["softplus", "softplus", "softplus"],
    ])
] + [
    (200 + k, {"activations": acts, "loss": "bce"}) for k, acts in enumerate([
        ["sigmoid", "sigmoid"], ["relu", "tanh", "sigmoid"], ["leaky_relu", "sigmoid"], ["softplus", "sigmoid"],
    ])
] + [
    # cross-entropy on logits (identity output, as PyTorch writes it, or softmax, meaning the same),
    # one-hot targets and class probabilities, batches, both layouts
    (300 + k, {"activations": acts, "loss": "cross_entropy", "one_hot": hot, "out": out})
    for k, (acts, hot, out) in enumerate([
        (["sigmoid", "identity"], True, 3), (["relu", "tanh", "softmax"], False, 4),
        (["tanh", "identity"], False, 2), (["leaky_relu", "sigmoid", "identity"], True, 3),
        (["identity"], True, 3),
    ])
] + [
    # softmax outputs under the squared losses: the full Jacobian couples every output
    (400 + k, {"activations": acts, "loss": loss, "out": 3})
    for k, (acts, loss) in enumerate([
        (["sigmoid", "softmax"], "mse"), (["tanh", "softmax"], "half_sse"), (["relu", "relu", "softmax"], "sse"),
    ])
])
def test_random_network_matches_torch(seed, overrides):
    if "activations" in overrides:
        overrides = dict(overrides, depth=len(overrides["activations"]) - 1)
    spec = parse(spec_text(seed, **overrides), f"random-{seed}.toml")
    ours = solve(spec)
    history, (grads, W1, b1), (Wf, bf) = torch_run(spec)
    assert len(ours.history) == len(history)
    for k, (a, e) in enumerate(zip(ours.history, history)):
        assert close(a, e), f"history[{k}]: derive {float(a)!r}, torch {e!r}"
    run = ours.first
    for l in range(1, spec.layers + 1):
        assert_matrix(run.grad_W[l], grads[0][l - 1], f"dE/dW{l}")
        assert_matrix(run.grad_b[l], grads[1][l - 1], f"dE/db{l}")
        assert_matrix(run.new_weights[l], W1[l - 1], f"W{l} after step 1")
        assert_matrix(run.new_biases[l], b1[l - 1], f"b{l} after step 1")
        assert_matrix(ours.final_weights[l], Wf[l - 1], f"W{l} after the last step")
        assert_matrix(ours.final_biases[l], bf[l - 1], f"b{l} after the last step")


def test_random_networks_cover_every_case():
    """The seeds above mix every activation, loss, layout, depth, batch size, bias rule and several steps."""
    specs = [parse(spec_text(seed), "r.toml") for seed in SEEDS]
    assert {a for s in specs for a in s.activations} == set(ACTIVATIONS)
    assert {s.loss for s in specs} == set(LOSSES)
    assert {s.weight_layout for s in specs} == {"out_in", "in_out"}
    assert {s.layers for s in specs} >= {2, 3, 4}
    assert max(s.batch for s in specs) > 1 and min(s.batch for s in specs) == 1
    assert {s.update_biases for s in specs} == {True, False}
    assert max(s.steps for s in specs) > 1
