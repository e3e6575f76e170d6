"""The activation and loss registries: every entry against PyTorch through the module it names, entries added
through the registry alone, unknown names refused, and softplus (torch.nn.Softplus, beta 1)."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp
from randomnet import spec_text
from sympy.parsing.sympy_parser import convert_xor, implicit_multiplication, parse_expr, standard_transformations

import derive
from derive.core import functions as fn
from derive.core.functions import ACTIVATIONS, LOSSES, Activation, Grid, Loss, LossModule, Module, Squared
from derive.core.solve import solve
from derive.core.spec import parse
from derive.core.versions import versions
from derive.errors import DeriveError
from derive.grading import mistakes
from derive.grading.mistakes import KINDS, Kind, Mistake, named, variants

torch = pytest.importorskip("torch")
nn = torch.nn

#: one of each kind of entry: the stored ones and a member of the leaky_relu family
ACTIVATION_NAMES = [*ACTIVATIONS, "leaky_relu(0.2)"]


def random_spec(seed: int, activation: str, loss: str = "mse"):
    """A random network with ``activation`` on every layer it may take (a coupled one on the output only)."""
    act = ACTIVATIONS[activation]
    if act.coupled:
        return parse(spec_text(seed, depth=1, activations=["tanh", activation], loss=loss, out=3), "r.toml")
    return parse(spec_text(seed, depth=2, activations=[activation] * 3, loss=loss), "r.toml")


def torch_gradients(spec):
    """Loss and weight gradients from to_torch's model and loss (the modules the registry names), float64."""
    model, x, t, loss_fn = derive.to_torch(spec)
    loss = loss_fn(model(x), t)
    loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return loss.item(), [m.weight.grad.tolist() for m in linears]


def assert_agrees(spec):
    ours = solve(spec, verify_symbolic=False).first
    loss, grads = torch_gradients(spec)
    assert float(ours.loss) == pytest.approx(loss, rel=1e-12, abs=1e-15)
    for l, theirs in enumerate(grads, start=1):
        got = [float(v) for row in ours.grad_W[l] for v in row]
        assert got == pytest.approx([v for row in theirs for v in row], rel=1e-10, abs=1e-14), f"dE/dW{l}"


# -- every entry against the PyTorch module it names ---------------------------------------

@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_each_activation_is_its_torch_module(activation):
    """The SymPy definition and PyTorch's module compute the same function and gradients."""
    for seed in range(3):
        assert_agrees(random_spec(seed, activation))


@pytest.mark.parametrize("loss", list(LOSSES))
def test_each_loss_is_its_torch_module(loss):
    output = LOSSES[loss].link or "identity"
    spec = parse(spec_text(7, depth=1, activations=["tanh", output], loss=loss, out=3), "r.toml")
    assert_agrees(spec)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_from_torch_reads_each_activation_back(activation):
    act = ACTIVATIONS[activation]
    module = getattr(nn, act.torch.name)(**act.torch.arguments())
    spec = derive.from_torch(nn.Sequential(nn.Linear(2, 3), module), [[0.5, -0.25]], [[0.2, 0.3, 0.5]])
    assert spec.activations == (act.name,)  # nn.Identity too: a Linear layer with nothing after it


# -- softplus ------------------------------------------------------------------------------

def test_softplus_is_ln_one_plus_e_to_the_net():
    act = ACTIVATIONS["softplus"]
    assert act.definition == sp.log(1 + sp.exp(fn.z))
    assert fn.check_identities()["softplus"]
    # the taught derivative, 1 - e^(-out), is the sigmoid of the net input
    sigmoid = ACTIVATIONS["sigmoid"].definition
    assert sp.simplify(act.identity.xreplace({fn.a: act.definition}) - sigmoid) == 0
    assert not act.rational and act.taught_in_out


def test_softplus_network_matches_torch_autograd():
    """A softplus network's loss, gradients and update against PyTorch's functional softplus (not to_torch)."""
    spec = random_spec(11, "softplus", "half_sse")
    ours = solve(spec).first
    x = torch.tensor([[float(v) for v in row] for row in spec.inputs], dtype=torch.float64)
    t = torch.tensor([[float(v) for v in row] for row in spec.targets], dtype=torch.float64)
    W = [torch.tensor([[float(v) for v in row] for row in w], dtype=torch.float64, requires_grad=True)
         for w in spec.weights]
    b = [torch.tensor([float(v) for v in bias], dtype=torch.float64, requires_grad=True) for bias in spec.biases]
    a = x
    for w, bias in zip(W, b):
        a = torch.nn.functional.softplus(a @ w.T + bias)
    loss = 0.5 * ((t - a) ** 2).sum()
    loss.backward()
    assert float(ours.loss) == pytest.approx(loss.item(), rel=1e-12)
    for l, w in enumerate(W, start=1):
        got = [float(v) for row in ours.grad_W[l] for v in row]
        assert got == pytest.approx(w.grad.flatten().tolist(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("module, message", [
    (nn.Softplus(beta=2), r"Softplus\(beta=2\) is not derive's softplus"),
    (nn.Softplus(threshold=10), r"Softplus\(threshold=10\) is not derive's softplus"),
    (nn.LeakyReLU(1.5), r"LeakyReLU\(negative_slope=1.5\) has a slope outside 0 to 1"),
    (nn.Softmax(dim=0), r"Softmax\(dim=0\) normalises across the samples"),
])
def test_from_torch_refuses_other_settings_with_a_reason(module, message):
    with pytest.raises(DeriveError, match=message):
        derive.from_torch(nn.Sequential(nn.Linear(2, 2), module), [[1, 2]], [[0.5, 0.5]])


def test_softplus_worksheet_versions_draw_its_targets():
    spec = parse(spec_text(3, depth=1, activations=["softplus", "softplus"], loss="mse", batch=1), "r.toml")
    for version in versions(spec, 2, seed=5):
        low, high, step = ACTIVATIONS["softplus"].targets
        assert all(low <= v <= high and v % step == 0 for row in version.targets for v in row)


# -- unknown names ---------------------------------------------------------------------------

@pytest.mark.parametrize("registry, name, what", [
    (ACTIVATIONS, "softsign", "activation"), (ACTIVATIONS, "leaky_relu(2)", "activation"), (LOSSES, "huber", "loss"),
])
def test_an_unknown_name_is_an_error_never_another_entry(registry, name, what):
    with pytest.raises(fn.UnknownName) as error:
        registry[name]
    assert str(error.value) == f"unknown {what} {name!r}; known: {', '.join(registry)}"
    assert name not in registry


def test_unknown_names_from_pytorch_and_specs_are_clear_errors():
    with pytest.raises(DeriveError, match="unknown loss 'huber'"):
        derive.from_torch(nn.Sequential(nn.Linear(2, 1)), [[1, 2]], [[1]], loss="huber")
    with pytest.raises(DeriveError, match="cannot express HuberLoss"):
        derive.from_torch(nn.Sequential(nn.Linear(2, 1)), [[1, 2]], [[1]], loss=nn.HuberLoss())
    with pytest.raises(DeriveError, match="unknown activation 'softsign'"):
        parse(spec_text(1, depth=1, activations=["softsign", "identity"]), "r.toml")


# -- the plain-text rules say what the identities say -----------------------------------------

TRANSFORMS = standard_transformations + (implicit_multiplication, convert_xor)


@pytest.mark.parametrize("activation", [n for n, a in ACTIVATIONS.items() if not a.identity.has(sp.Piecewise)])
def test_the_plain_rule_is_the_taught_identity(activation):
    act = ACTIVATIONS[activation]
    out, net = sp.Symbol("out"), sp.Symbol("net")
    # our own registry text (never a spec's): parsed only here, to hold the words to the mathematics
    written = parse_expr(act.rule_plain("out"), {"out": out, "net": net, "e": sp.E}, transformations=TRANSFORMS)
    assert sp.simplify(written - act.identity.xreplace({fn.a: out, fn.z: net})) == 0


@pytest.mark.parametrize("loss", list(LOSSES))
def test_the_loss_formula_and_plain_term_are_its_term(loss):
    rule = LOSSES[loss]
    t, out = sp.Symbol("t"), sp.Symbol("out")
    plain = rule.term_plain.format(t="t", out="out").replace("ln(", "log(")
    written = parse_expr(plain, {"t": t, "out": out}, transformations=TRANSFORMS)
    assert sp.expand(written - rule.term.xreplace({fn.a: out, fn.t: t})) == 0
    text = rule.formula_latex("E", "t_k", "o_k", r"\sum_{k=1}^{2}", 3, 2)
    assert text.startswith("E = -" if rule.negated else "E = ")
    assert (r"\frac{1}{N K}" in text) == (rule.output_reduction == rule.batch_reduction == "mean")


# -- entries added through the registry alone --------------------------------------------------

LOGSIGMOID = Activation(
    "logsigmoid", -sp.log(1 + sp.exp(-fn.z)), 1 - sp.exp(fn.a),
    r"\ln\sigma({0})", r"(\ln\sigma)'({0})",
    equation=r"\ln\sigma({net}) = -\ln(1 + e^{{-{net}}})",
    symbol="logsigmoid", identity_plain="1 - e^({out})", rational=False,
    torch=Module("LogSigmoid"), targets=Grid(Fraction(-1), Fraction(0), Fraction(1, 20)), saturates=True,
)

HALF_MSE = Loss(
    "half_mse", sp.Rational(1, 2) * (fn.a - fn.t) ** 2, "mean", "mean",
    r"\tfrac{{1}}{{2}} ({o} - {t})^2", False, "1/2 ({out} - {t})^2",
    "one half of the mean squared error", rational=True, title="half mean squared error loss",
    torch=LossModule("MSELoss", "mean", scale=sp.Rational(1, 2)),
    squared=Squared(sp.Rational(1, 2), False, "one half of the mean"),
)


def test_an_activation_added_to_the_registry_alone(monkeypatch):
    """LogSigmoid as a newcomer adds it: one entry; spec, solution, PyTorch both ways, versions and mistakes follow."""
    monkeypatch.setitem(ACTIVATIONS, "logsigmoid", LOGSIGMOID)
    assert fn.check_identities()["logsigmoid"]
    spec = random_spec(5, "logsigmoid")
    solve(spec)  # the chain rule checked against SymPy's own derivative of the whole loss
    assert_agrees(spec)
    read = derive.from_torch(nn.Sequential(nn.Linear(2, 2), nn.LogSigmoid(), nn.Linear(2, 1)), [[1, 2]], [[0.5]])
    assert read.activations == ("logsigmoid", "identity")
    kinds = {m.kind for m in variants(spec)}
    assert {"derivative_at_out", "identity_at_net", "derivative_left_out"} <= kinds
    assert "relu_mask_on_output" not in kinds
    small = parse(spec_text(2, depth=1, activations=["logsigmoid", "logsigmoid"], batch=1), "r.toml")
    assert all(-1 <= v < 0 for version in versions(small, 2, seed=1) for row in version.targets for v in row)


def test_a_loss_added_to_the_registry_alone(monkeypatch):
    monkeypatch.setitem(LOSSES, "half_mse", HALF_MSE)
    spec = parse(spec_text(4, depth=1, activations=["sigmoid", "identity"], loss="half_mse", out=2), "r.toml")
    solve(spec)
    assert_agrees(spec)
    kinds = {m.kind for m in variants(spec)}
    assert {"half_dropped", "output_mean_dropped"} <= kinds and "factor_two_forgotten" not in kinds
    assert HALF_MSE.formula_latex("E", "t", "o", "S", 1, 2) == r"E = \frac{1}{N K} S \tfrac{1}{2} (o - t)^2"


def test_a_named_mistake_is_one_registered_class(monkeypatch):
    """A new named mistake is one class: registered, it is a variant, and it changes the steps it names."""
    monkeypatch.setattr(mistakes, "KINDS", dict(KINDS))

    @named
    class EtaSquared(Kind):
        id, words = "eta_squared", "learning rate squared"

        def change(self, m, step, steps):
            if step.kind == "updated":
                return step.formula.xreplace({steps.symbol("eta"): steps.symbol("eta") ** 2})
            return None

        def explain(self, m, e, w):
            return "The learning rate was squared."

    assert list(mistakes.KINDS)[-1] == "eta_squared"
    spec = parse(spec_text(1), "r.toml")
    assert Mistake("eta_squared") in mistakes.variants(spec)
    with pytest.raises(ValueError):
        named(EtaSquared)
    assert "eta_squared" not in KINDS  # the registry outside this test is untouched


def test_the_registries_answer_what_the_rest_of_derive_asks():
    """The properties other modules read in place of names, table by table."""
    table = {name: (a.coupled, a.passthrough, a.taught_in_out, a.mask, a.kink, a.saturates)
             for name, a in ACTIVATIONS.items()}
    assert table == {
        "sigmoid": (False, False, True, False, False, True),
        "tanh": (False, False, True, False, False, True),
        "relu": (False, False, False, True, True, False),
        "identity": (False, True, False, False, False, False),
        "leaky_relu": (False, False, False, False, True, False),
        "softmax": (True, False, True, False, False, True),
        "softplus": (False, False, True, False, False, True),
    }
    assert fn.OUTPUT_ONLY == ("softmax",)
    assert [name for name, rule in LOSSES.items() if fn.cancels(rule, ACTIVATIONS[rule.link or "identity"])] == [
        "cross_entropy"]
    assert {name: rule.targets for name, rule in LOSSES.items()} == {
        "half_sse": "any", "sse": "any", "mse": "any", "bce": "probabilities", "cross_entropy": "classes"}
