"""torch.optim in float64 as the oracle of every optimizer: parameters, optimizer state and losses over the steps."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import pytest
from randomnet import spec_text

from derive.cli import main
from derive.core import training
from derive.core.optimizers import OPTIMIZERS, Training
from derive.core.solve import solve
from derive.core.spec import parse
from derive.errors import DeriveError

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-12, 1e-15
#: a parameter that ends near 0 after steps of about the learning rate keeps float64's absolute error of the
#: larger values it was computed from: parameters agree to 1e-12 relative or 1e-13 absolute
PARAMETER_ATOL = 1e-13
#: derive's state key -> torch.optim's (the Mitchell form's Delta is -lr times torch's momentum buffer)
TORCH_STATE = {"b": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq", "vmax": "max_exp_avg_sq",
               "s": "sum", "gbar": "grad_avg"}
RMSPROP_STATE = {"v": "square_avg", "b": "momentum_buffer", "gbar": "grad_avg"}


def torch_optimizer(spec, groups):
    """torch.optim's optimizer for the spec's settings over the given parameter groups."""
    s, lr = spec.training.settings, float(spec.learning_rate)
    get = lambda key: float(s[key])
    if s.optimizer in ("sgd", "momentum", "nesterov"):
        momentum = get("momentum") if s.optimizer != "sgd" else 0.0
        dampening = float(s.get("dampening", 0))
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, dampening=dampening,
                               nesterov=s.optimizer == "nesterov")
    if s.optimizer == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=get("alpha"), eps=get("eps"), momentum=get("momentum"),
                                   centered=s["centered"])
    if s.optimizer in ("adam", "adamw"):
        kind = torch.optim.Adam if s.optimizer == "adam" else torch.optim.AdamW
        return kind(groups, lr=lr, betas=(get("beta1"), get("beta2")), eps=get("eps"), amsgrad=s["amsgrad"])
    return torch.optim.Adagrad(groups, lr=lr, lr_decay=get("lr_decay"), eps=get("eps"),
                               initial_accumulator_value=get("initial_accumulator_value"))


def torch_train(spec):
    """Train with torch.optim in float64: (history of the whole data's loss, per-step batch losses, W, b, state)."""
    f64 = torch.float64
    W = [torch.tensor([[float(v) for v in row] for row in w], dtype=f64, requires_grad=True) for w in spec.weights]
    b = [torch.tensor([float(v) for v in bias], dtype=f64, requires_grad=True) for bias in spec.biases]
    x = torch.tensor([[float(v) for v in row] for row in spec.inputs], dtype=f64)
    t = torch.tensor([[float(v) for v in row] for row in spec.targets], dtype=f64)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z,
            "leaky_relu": torch.nn.functional.leaky_relu, "leaky_relu(0.2)": lambda z: torch.nn.functional.leaky_relu(z, 0.2),
            "softmax": lambda z: torch.softmax(z, dim=1), "softplus": torch.nn.functional.softplus}
    tr = spec.training
    wd = float(tr.settings.get("weight_decay", 0))
    l2 = float(tr.l2)

    def loss_of(rows):
        a, target = x[rows], t[rows]
        for l, (w, bias, name) in enumerate(zip(W, b, spec.activations), 1):
            z = a @ w.T + bias
            a = z if spec.loss == "cross_entropy" and l == spec.layers else acts[name](z)
        data = {"mse": lambda: torch.nn.functional.mse_loss(a, target),
                "bce": lambda: torch.nn.functional.binary_cross_entropy(a, target),
                "cross_entropy": lambda: torch.nn.functional.cross_entropy(a, target),
                "half_sse": lambda: 0.5 * ((target - a) ** 2).sum(),
                "sse": lambda: ((target - a) ** 2).sum()}[spec.loss]()
        if l2:
            regular = W + (b if tr.decay_biases else [])
            data = data + l2 / 2 * sum((p ** 2).sum() for p in regular)
        return data

    groups = [{"params": W, "weight_decay": wd}]
    if spec.update_biases:
        groups.append({"params": b, "weight_decay": wd if tr.decay_biases else 0.0})
    optimizer = torch_optimizer(spec, groups)
    everything = list(range(spec.batch))
    batches = tr.batches(spec.batch)
    history, batch_losses = [], []
    for step in range(spec.steps):
        rows = list(batches[step % len(batches)])
        with torch.no_grad():
            history.append(loss_of(everything).item())
        optimizer.zero_grad()
        loss = loss_of(rows)
        batch_losses.append(loss.item())
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        history.append(loss_of(everything).item())
    return history, batch_losses, W, b, optimizer


def close(ours, theirs, rtol=RTOL, atol=ATOL) -> bool:
    return abs(float(ours) - theirs) <= rtol * max(abs(theirs), abs(float(ours))) + atol


def compare(spec):
    ours = solve(spec)
    s = spec.training.settings
    # centered RMSprop divides by sqrt(v - gbar^2), a difference that cancels more with every step of
    # similar gradients: after many steps float64 keeps about 11 digits of it (derive's is exact)
    rtol = 1e-10 if s.optimizer == "rmsprop" and s["centered"] and spec.steps > 2 else RTOL
    close = lambda a, e, atol=ATOL: globals()["close"](a, e, rtol, atol)
    history, batch_losses, W, b, optimizer = torch_train(spec)
    trajectory = ours.trajectory
    assert len(ours.history) == len(history)
    for k, (a, e) in enumerate(zip(ours.history, history)):
        assert close(a, e), f"history[{k}]: derive {float(a)!r}, torch {e!r}"
    for k, (a, e) in enumerate(zip(trajectory.batch_losses, batch_losses)):
        assert close(a, e), f"batch loss of step {k + 1}: derive {float(a)!r}, torch {e!r}"
    names = RMSPROP_STATE if spec.training.settings.optimizer == "rmsprop" else TORCH_STATE
    lr = float(spec.learning_rate)
    for l in range(1, spec.layers + 1):
        for j in range(spec.sizes[l]):
            for i in list(range(spec.sizes[l - 1])) + [None]:
                tensor = W[l - 1] if i is not None else b[l - 1]
                index = (j, i) if i is not None else (j,)
                value = ours.final_weights[l][j][i] if i is not None else ours.final_biases[l][j]
                assert close(value, tensor[index].item(), PARAMETER_ATOL), f"{'W' if i is not None else 'b'}{l}{index}"
                key = ("W" if i is not None else "b", l, j, i)
                if key not in trajectory.final_state:
                    assert i is None and not spec.update_biases
                    continue
                state = optimizer.state[tensor]
                for name, mine in trajectory.final_state[key].items():
                    if name == "Delta":
                        theirs = -lr * state["momentum_buffer"][index].item()
                    else:
                        theirs = state[names[name]][index].item()
                    assert close(mine, theirs), f"{name} of {key}: derive {float(mine)!r}, torch {theirs!r}"
    return ours


def training_text(optimizer: str, steps: int, update_biases: bool, decay: bool, extra: dict) -> dict:
    """The [training] keys of one case (the random network supplies the rest)."""
    keys = {"optimizer": f'"{optimizer}"', "steps": str(steps), "update_biases": str(update_biases).lower()}
    if decay:
        keys["weight_decay"] = "0.05"
    keys.update(extra)
    return keys


def spec_of(seed: int, keys: dict, **overrides):
    """The first random network from ``seed`` on whose gradients float64 can be trusted to 12 digits.

    RMSprop, Adam and Adagrad divide a gradient by its own size: where a gradient is small because
    terms cancel, float64's gradient has few correct digits left and so has PyTorch's step (derive's
    is exact), and no 1e-12 comparison can pass. Such networks are skipped by a rule, not by result:
    every gradient of the first step at least 1e-3 in size.
    """
    keys = dict(keys)
    lines = [f"learning_rate = {keys.pop('learning_rate', '0.1')}"] + [f"{k} = {v}" for k, v in keys.items()]
    for candidate in range(seed, seed + 1000):
        head, _, _ = spec_text(candidate, **overrides).partition("[training]")
        spec = parse(head + "[training]\n" + "\n".join(lines) + "\n", f"random-{candidate}.toml")
        plain = solve(replace(spec, training=Training(), steps=1), verify_symbolic=False).first
        grads = [g for l in range(1, spec.layers + 1) for g in (*(x for row in plain.grad_W[l] for x in row),
                                                                *plain.grad_b[l])]
        if all(abs(float(g)) >= 1e-3 for g in grads):
            return spec
    raise AssertionError("no well-conditioned network")


VARIANTS = {
    "sgd": [{}],
    "momentum": [{}, {"momentum": "0.5", "dampening": "0.25"}],
    "nesterov": [{}, {"momentum": "0.75"}],
    "rmsprop": [{}, {"centered": "true"}, {"momentum": "0.5", "alpha": "0.9"}, {"centered": "true", "momentum": "0.9"}],
    "adam": [{}, {"amsgrad": "true", "beta1": "0.8", "beta2": "0.99"}, {"eps": "0.001"}],
    "adamw": [{}, {"amsgrad": "true"}],
    "adagrad": [{}, {"lr_decay": "0.1", "initial_accumulator_value": "0.5"}],
}
CASES = [
    (optimizer, extra, steps, update_biases, decay)
    for optimizer, variants in VARIANTS.items() for extra in variants
    for steps, update_biases, decay in itertools.product((1, 2, 10), (True, False), (False, True))
    if not (optimizer == "sgd" and not decay and not extra)  # plain gradient descent: test_torch_oracle.py
]


@pytest.mark.parametrize("optimizer, extra, steps, update_biases, decay", CASES)
def test_optimizer_matches_torch(optimizer, extra, steps, update_biases, decay):
    seed = sum(map(ord, f"{optimizer}{sorted(extra.items())}{steps}{update_biases}{decay}")) % 1000
    keys = training_text(optimizer, steps, update_biases, decay, dict(extra))
    compare(spec_of(seed, keys, activations=None, loss=None))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("regularisation", [{"l2": "0.1"}, {"l2": "0.1", "decay_biases": "false"},
                                            {"weight_decay": "0.1", "decay_biases": "false"}])
def test_l2_penalty_and_decay_without_biases(optimizer, regularisation):
    if optimizer == "sgd" and "weight_decay" not in regularisation and "l2" not in regularisation:
        pytest.skip("plain")
    seed = 700 + list(OPTIMIZERS).index(optimizer)
    keys = training_text(optimizer, 3, True, False, dict(regularisation))
    compare(spec_of(seed, keys, batch=3))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("batching", [{"batch_size": "2"}, {"mode": '"online"'}, {"batch_size": "2", "order": "[3, 1, 2]"}])
def test_mini_batches_in_order(optimizer, batching):
    seed = 800 + list(OPTIMIZERS).index(optimizer)
    keys = training_text(optimizer, 5, True, False, dict(batching))
    ours = compare(spec_of(seed, keys, batch=3))
    assert ours.spec.batch == (1 if "mode" in batching else 2)  # the worked first step is the first mini-batch's


def test_mitchell_momentum_is_pytorch_momentum_written_as_the_step():
    keys = training_text("momentum", 4, True, False, {"form": '"mitchell"', "momentum": "0.9"})
    ours = compare(spec_of(901, keys, batch=2))
    step = ours.trajectory.steps[1]
    update = next(iter(step.updates.values()))
    assert [line.key for line in update.lines] == ["mitchell", "p_plus"]
    assert update.after["Delta"] == update.new - update.old


def test_online_mode_takes_one_sample_per_step_with_mitchells_momentum():
    keys = training_text("momentum", 6, True, False, {"mode": '"online"'})
    spec = spec_of(902, keys, batch=3)
    assert spec.training.settings.form == "mitchell" and spec.training.batches(3) == ((0,), (1,), (2,))
    ours = compare(spec)
    assert [s.samples for s in ours.trajectory.steps] == [(0,), (1,), (2,)] * 2


def test_adam_first_step_is_exact_on_a_rational_network():
    """sqrt(v_hat_1) = |g_1| is rational: the first Adam step of a relu network stays an exact fraction."""
    keys = training_text("adam", 1, True, False, {})
    spec = spec_of(903, keys, activations=["relu", "identity"], loss="mse", depth=1)
    ours = solve(spec)
    assert all(type(w) is Fraction for row in ours.first.new_weights[2] for w in row)


MAZUR_HEAD = """title = "t"
[network]
sizes = [2, 2, 2]
activations = "sigmoid"
loss = "half_sse"
[parameters]
W1 = [[0.15, 0.20], [0.25, 0.30]]
b1 = [0.35, 0.35]
W2 = [[0.40, 0.45], [0.50, 0.55]]
b2 = [0.60, 0.60]
[data]
inputs  = [[0.05, 0.10], [0.1, 0.2]]
targets = [[0.01, 0.99], [0.5, 0.5]]
[training]
learning_rate = 0.1
"""


@pytest.mark.parametrize("training, key, message", [
    ('optimizer = "adma"', "training.optimizer", "unknown optimizer 'adma' (did you mean 'adam'?)"),
    ('optimizer = 3', "training.optimizer", "expected an optimizer name"),
    ('optimizer = "sgd"\nbeta1 = 0.9', "training.beta1", "the optimizer sgd takes no beta1 (it is a setting of adam, adamw)"),
    ('optimizer = "adam"\nbeta1 = 1', "training.beta1", "must be at least 0 and less than 1"),
    ('optimizer = "adam"\nbeta2 = -0.1', "training.beta2", "must not be negative"),
    ('optimizer = "adam"\neps = "tiny"', "training.eps", "unknown name 'tiny'"),
    ('optimizer = "adam"\namsgrad = 1', "training.amsgrad", "expected true or false"),
    ('optimizer = "nesterov"\nmomentum = 0', "training.momentum", "needs a momentum above 0"),
    ('optimizer = "momentum"\nform = "hinton"', "training.form", "unknown form of momentum 'hinton'"),
    ('optimizer = "momentum"\nform = "mitchell"\ndampening = 0.5', "training.dampening", "Mitchell's momentum has no dampening"),
    ('optimizer = "nesterov"\nform = "sutskever"\nweight_decay = 0.01', "training.form", "the classical (Sutskever)"),
    ('optimizer = "nesterov"\nform = "sutskever"\nl2 = 0.01', "training.form", "use form = \"pytorch\""),
    ('optimizer = "momentum"\nform = "sutskever"', "training.form", "unknown form of momentum 'sutskever'"),
    ('l2 = -1', "training.l2", "must not be negative"),
    ('decay_biases = "no"', "training.decay_biases", "expected true or false"),
    ('batch_size = 3', "training.batch_size", "from 1 to 2"),
    ('batch_size = 1.0', "training.batch_size", "written without a point"),
    ('mode = "online"\nbatch_size = 2', "training.batch_size", "online mode updates after every sample"),
    ('mode = "stochastic"', "training.mode", "unknown mode 'stochastic'"),
    ('order = [1, 1]', "training.order", "sample 2 is missing"),
    ('order = [2, 3]', "training.order[1]", "expected a sample number from 1 to 2"),
    ('order = []', "training.order", "expected a list of the sample numbers"),
])
def test_bad_training_keys_are_one_clear_error(training, key, message):
    with pytest.raises(DeriveError) as caught:
        parse(MAZUR_HEAD + training + "\n", "net.toml")
    assert caught.value.where == f"net.toml: {key}"
    assert message in caught.value.problem


@pytest.mark.parametrize("optimizer, extra", [("adam", {}), ("momentum", {"weight_decay": "0.01"}),
                                              ("rmsprop", {"centered": "true", "l2": "0.1"}),
                                              ("adagrad", {}), ("adamw", {"batch_size": "2"})])
def test_long_runs_on_flint_agree_with_the_mpmath_path(optimizer, extra, monkeypatch):
    """After the recorded steps a long run continues on FLINT arb numbers: the same values to 50 digits."""
    keys = training_text(optimizer, 45, True, False, dict(extra))
    spec = spec_of(910, keys, activations=["sigmoid", "tanh"], depth=1, batch=3)
    fast = solve(spec, verify_symbolic=False)
    monkeypatch.setattr(training, "FAST_AFTER", 10**9)
    slow = solve(spec, verify_symbolic=False)
    for a, b in zip(fast.history + fast.trajectory.batch_losses, slow.history + slow.trajectory.batch_losses):
        assert abs(a - b) <= abs(b) * 1e-50
    for l in range(1, spec.layers + 1):
        for a, b in zip(fast.final_weights[l][0], slow.final_weights[l][0]):
            assert abs(a - b) <= abs(b) * 1e-50
    for key, state in fast.trajectory.final_state.items():
        for name, value in state.items():
            assert abs(value - slow.trajectory.final_state[key][name]) <= abs(value) * 1e-50 + 1e-100


def test_a_long_adam_run_matches_torch():
    keys = training_text("adam", 60, True, True, {})
    compare(spec_of(920, keys, activations=["sigmoid", "sigmoid"], depth=1))


def test_check_reads_the_optimizer_quantities_by_name(tmp_path, capsys):
    answers = tmp_path / "a.toml"
    answers.write_text('"m_w5[1]" = 0.0082167\n"v_w5[2]" = 0.0000134237\n"w5[2]" = 0.2000144\n"m_hat_w5[2]" = 0.5\n')
    assert main(["check", "mazur-adam", str(answers)]) == 1
    out = capsys.readouterr().out
    assert "3 right" in out and "m_hat_w5[2]" in out


def test_worksheets_refuse_what_they_would_ask_wrongly(tmp_path, capsys):
    # Adam's second moments round to 0 at 4 decimals: the sheet says which decimals it needs
    assert main(["worksheet", "mazur-adam", "--format", "md", "--out", str(tmp_path / "w")]) == 2
    assert "v_w1[1] is 1.92e-10" in capsys.readouterr().err and not (tmp_path / "w").exists()  # --places 11
    # a penalty in the loss is not what the sheet's backward pass computes
    spec = tmp_path / "l2.toml"
    spec.write_text(MAZUR_HEAD + 'optimizer = "momentum"\nl2 = 0.01\n')
    assert main(["worksheet", str(spec), "--format", "md", "--out", str(tmp_path / "v")]) == 2
    assert "L2 penalty" in capsys.readouterr().err and not (tmp_path / "v").exists()


# -- Nesterov's classical form (Sutskever et al. 2013) -----------------------------------------------------
def sutskever_float64(spec):
    """An independent float64 classical Nesterov: the gradient (torch autograd) at theta + mu v, then
    v = mu v - eta g and theta = theta + v; returns the history, the final W, b and velocities."""
    f64 = torch.float64
    W = [torch.tensor([[float(v) for v in row] for row in w], dtype=f64) for w in spec.weights]
    b = [torch.tensor([float(v) for v in bias], dtype=f64) for bias in spec.biases]
    x = torch.tensor([[float(v) for v in row] for row in spec.inputs], dtype=f64)
    t = torch.tensor([[float(v) for v in row] for row in spec.targets], dtype=f64)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}
    mu, eta = float(spec.training.settings["momentum"]), float(spec.learning_rate)
    params = W + (b if spec.update_biases else [])
    velocity = [torch.zeros_like(p) for p in params]

    def loss_of(Ws, bs):
        a = x
        for w, bias, name in zip(Ws, bs, spec.activations):
            a = acts[name](a @ w.T + bias)
        return 0.5 * ((t - a) ** 2).sum()

    history = []
    for _ in range(spec.steps):
        history.append(loss_of(W, b).item())
        ahead = [(p + mu * v).requires_grad_(True) for p, v in zip(params, velocity)]
        Ws = ahead[:len(W)]
        bs = ahead[len(W):] if spec.update_biases else b
        grads = torch.autograd.grad(loss_of(Ws, bs), ahead)
        velocity = [mu * v - eta * g for v, g in zip(velocity, grads)]
        params = [p + v for p, v in zip(params, velocity)]
        W = params[:len(W)]
        b = params[len(W):] if spec.update_biases else b
    history.append(loss_of(W, b).item())
    return history, W, b, velocity


@pytest.mark.parametrize("steps, update_biases, momentum", [(1, True, "0.9"), (2, True, "0.9"), (10, True, "0.9"),
                                                             (2, False, "0.5"), (10, False, "0.75")])
def test_sutskever_nesterov_matches_an_independent_float64_implementation(steps, update_biases, momentum):
    keys = training_text("nesterov", steps, update_biases, False, {"form": '"sutskever"', "momentum": momentum})
    spec = spec_of(700 + steps, keys, sizes=[2, 3, 2], activations=["tanh", "sigmoid"], loss="half_sse")
    ours = solve(spec)
    history, W, b, velocity = sutskever_float64(spec)
    assert all(close(a, e) for a, e in zip(ours.history, history)) and len(ours.history) == len(history)
    keys = training.parameter_keys(spec)
    for l in range(1, spec.layers + 1):
        for j in range(spec.sizes[l]):
            for i in range(spec.sizes[l - 1]):
                assert close(ours.final_weights[l][j][i], W[l - 1][j, i].item(), PARAMETER_ATOL)
                assert close(ours.trajectory.final_state[("W", l, j, i)]["v"], velocity[l - 1][j, i].item())
            assert close(ours.final_biases[l][j], b[l - 1][j].item(), PARAMETER_ATOL)
    assert len(keys) == len(ours.trajectory.final_state)


def test_sutskever_and_pytorch_nesterov_differ_but_agree_under_the_change_of_variables():
    """PyTorch's parameter is the classical look-ahead point: p_t = theta_t + mu v_t and b_t = -v_t / eta.
    The parameters themselves differ from the first step on (theta_1 = theta_0 - eta g, p_1 = p_0 - eta (1 + mu) g)."""
    common = {"momentum": "0.75", "learning_rate": "0.5"}
    pytorch = solve(spec_of(31, training_text("nesterov", 3, True, False, common)))
    classical = solve(spec_of(31, training_text("nesterov", 3, True, False, {**common, "form": '"sutskever"'})))
    mu, eta = Fraction(3, 4), Fraction(1, 2)
    for t in range(3):
        a, b = pytorch.trajectory.steps[t], classical.trajectory.steps[t]
        for key in a.updates:
            p, theta = a.updates[key].new, b.updates[key].new
            buffer, v = a.updates[key].after["b"], b.updates[key].after["v"]
            assert abs(float(p - (theta + mu * v))) < 1e-40 and abs(float(buffer + v / eta)) < 1e-40
            assert abs(float(p - theta)) > 1e-6  # not the same parameters
            if t == 0:
                g = a.updates[key].gradient
                assert abs(float(theta - (a.updates[key].old - eta * g))) < 1e-40

