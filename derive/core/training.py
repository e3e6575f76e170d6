"""Training with any optimizer: mini-batches in order, the L2 penalty in the loss, every parameter's update.

Plain gradient descent on the whole batch is :func:`derive.core.backprop.run`'s own update (on
FLINT for a rational network); everything else comes here. Each step takes its mini-batch's
gradients from backprop.run, adds the L2 penalty's term ``lambda p`` where the spec puts one in the
loss, and hands every scalar parameter to the optimizer of :mod:`derive.core.optimizers`, which
keeps its state (velocity, moments, sums) per parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from derive.core import backprop, fastrun
from derive.core.backprop import Pass, Rules
from derive.core.numeric import to_mp
from derive.core.optimizers import DISCARD, Settings, Step, Training, initial_state
from derive.core.spec import NetworkSpec

#: steps whose every update is kept (the documents show the first ones, the check names them all)
RECORDED_STEPS = 10
#: a run this many steps longer than the recorded steps does the rest on FLINT (derive.core.fastrun)
FAST_AFTER = 20
#: above this many parameters only the first two steps are kept
RECORDED_PARAMETERS = 1000


@dataclass(frozen=True)
class Trajectory:
    """Everything the optimizer did: its settings, the mini-batches, the recorded steps, the final state.

    ``steps`` holds the first :data:`RECORDED_STEPS` steps in full (every parameter's state before,
    the update's lines and the state after); ``batch_losses`` the loss of every step's mini-batch
    (with the penalty) at the parameters before the step, as a training loop reports it;
    ``final_state`` each parameter's optimizer state after the last step.
    """

    training: Training
    settings: Settings  # with the spec's learning rate, its numbers in the network's domain
    spec: NetworkSpec  # the whole data (the solution's own spec is the first mini-batch's)
    batches: tuple
    steps: tuple = field(repr=False)
    batch_losses: tuple = field(repr=False)
    final_state: dict = field(repr=False)

    @property
    def optimizer(self):
        return self.settings.entry


def parameter_keys(spec: NetworkSpec) -> list:
    """(kind, l, j, i) of every parameter the optimizer updates, from the output layer back (i None: a bias)."""
    keys = []
    for l in range(spec.layers, 0, -1):
        for j in range(spec.sizes[l]):
            keys += [("W", l, j, i) for i in range(spec.sizes[l - 1])]
            if spec.update_biases:
                keys.append(("b", l, j, None))
    return keys


@dataclass(frozen=True)
class Trained:
    """What :func:`train` hands to solve: the first step's pass and spec, the history and the end."""

    spec: NetworkSpec  # of the first step's mini-batch
    rules: Rules
    first: Pass
    history: tuple
    final_weights: tuple
    final_biases: tuple
    trajectory: Trajectory


def _subset(spec: NetworkSpec, samples: tuple) -> NetworkSpec:
    if list(samples) == list(range(spec.batch)):
        return spec
    return replace(spec, inputs=tuple(spec.inputs[s] for s in samples),
                   targets=tuple(spec.targets[s] for s in samples))


def penalty(training: Training, weights, biases, layers: int):
    """The L2 term lambda/2 sum p^2 over the weights (and the biases unless excluded)."""
    if not training.l2:
        return Fraction(0)
    total = Fraction(0)
    for l in range(1, layers + 1):
        for row in weights[l]:
            for w in row:
                total += w * w
        if training.decay_for("b"):
            for b in biases[l]:
                total += b * b
    return training.l2 / 2 * total


def _in_domain(settings: Settings, exact: bool) -> Settings:
    """The hyper-parameters as the network's numbers: 60-digit floats on a network that is not rational."""
    if exact:
        return settings
    values = tuple((k, v if isinstance(v, bool) else to_mp(v)) for k, v in settings.values)
    return replace(settings, values=values, lr=to_mp(settings.lr))


def _flat(weights, biases, state):
    for l in range(1, len(weights)):
        for row in weights[l]:
            yield from row
        yield from biases[l]
    for values in state.values():
        yield from values.values()


def _mp(layers):
    """Per-layer nested lists with every number as a 60-digit float."""
    return [None] + [[_mp_row(row) for row in layer] if layer and isinstance(layer[0], list) else _mp_row(layer)
                     for layer in layers[1:]]


def _mp_row(row):
    return [to_mp(x) for x in row]


def _gradient_point(entry, settings: Settings, weights, biases, state: dict) -> tuple:
    """The weights and biases the step's gradient is taken at: the parameters themselves, or (the classical
    Nesterov form) each moved to its look-ahead point; the parameters themselves whenever nothing moves."""
    if entry.ahead is None:
        return weights, biases
    W = [None] + [[list(row) for row in weights[l]] for l in range(1, len(weights))]
    b = [None] + [list(biases[l]) for l in range(1, len(biases))]
    moved = False
    for (kind, l, j, i), values in state.items():
        p = weights[l][j][i] if kind == "W" else biases[l][j]
        q = entry.point(settings, p, values)
        if q != p:
            moved = True
            if kind == "W":
                W[l][j][i] = q
            else:
                b[l][j] = q
    if not moved:
        return weights, biases
    return (None, *(tuple(tuple(row) for row in W[l]) for l in range(1, len(W)))), \
        (None, *(tuple(b[l]) for l in range(1, len(b))))


def train(spec: NetworkSpec, progress=None) -> Trained:
    """Run the spec's steps with its optimizer; see :class:`Trajectory` for what is kept."""
    training = spec.training
    full_rules = Rules.for_spec(spec)
    settings = _in_domain(replace(training.settings, lr=spec.learning_rate), full_rules.exact)
    entry = settings.entry
    batches = training.batches(spec.batch)
    subsets = {b: _subset(spec, b) for b in dict.fromkeys(batches)}
    rules = {b: (full_rules if subsets[b] is spec else Rules.for_spec(subsets[b])) for b in subsets}
    weights, biases = (None, *full_rules.lift(spec.weights)), (None, *full_rules.lift(spec.biases))
    l2 = full_rules.lift(training.l2)
    decay = settings.get("weight_decay", Fraction(0))
    keys = parameter_keys(spec)
    state = {key: initial_state(settings) for key in keys}
    kept = RECORDED_STEPS if spec.parameter_count <= RECORDED_PARAMETERS else 2
    history, batch_losses, recorded = [], [], []
    first = None
    for t in range(1, spec.steps + 1):
        if t > kept and spec.steps - t >= FAST_AFTER and fastrun.supported(spec) and entry.ahead is None and not all(
                type(x) is Fraction for x in _flat(weights, biases, state)):
            # the rest of a long run, whose steps only show in the loss history: on FLINT's arb numbers
            more, more_batches, weights, biases, state = fastrun.run(
                spec, settings, training, batches, weights, biases, state, keys, t, spec.steps)
            history += more[:-1]
            batch_losses += more_batches
            if progress:
                progress(spec.steps, spec.steps)
            break
        batch = batches[(t - 1) % len(batches)]
        sub = subsets[batch]
        at_W, at_b = _gradient_point(entry, settings, weights, biases, state)
        run = backprop.run(sub, rules[batch], at_W, at_b, certify=t == 1)
        term = penalty(training, weights, biases, spec.layers)
        loss = run.loss if at_W is weights and at_b is biases else backprop.forward(sub, rules[batch], weights, biases)[4]
        batch_losses.append(loss + term)
        if sub is spec:
            history.append(loss + term)
        else:
            history.append(backprop.forward(spec, full_rules, weights, biases)[4] + term)
        new_W = [None] + [[list(row) for row in weights[l]] for l in range(1, spec.layers + 1)]
        new_b = [None] + [list(biases[l]) for l in range(1, spec.layers + 1)]
        updates = {}
        for key in keys:
            kind, l, j, i = key
            regular = training.decay_for(kind)
            p = weights[l][j][i] if kind == "W" else biases[l][j]
            g = run.grad_W[l][j][i] if kind == "W" else run.grad_b[l][j]
            update = entry.step(settings, p, g, state[key], t, decay if regular else 0, l2 if regular else 0,
                                None if t <= kept else DISCARD)
            state[key] = update.after
            if t <= kept:
                updates[key] = update
            if kind == "W":
                new_W[l][j][i] = update.new
            else:
                new_b[l][j] = update.new
        if full_rules.exact and not all(type(x) is Fraction for x in _flat(new_W, new_b, state)):
            # a root that is not rational (or a rational grown too long): one domain for the whole network
            new_W, new_b = _mp(new_W), _mp(new_b)
            state = {key: {k: to_mp(v) for k, v in values.items()} for key, values in state.items()}
        weights = (None, *(tuple(tuple(row) for row in new_W[l]) for l in range(1, spec.layers + 1)))
        biases = (None, *(tuple(new_b[l]) for l in range(1, spec.layers + 1)))
        if t == 1:
            first = replace(run, new_weights=weights, new_biases=biases)
        if t <= kept:
            recorded.append(Step(t, batch, run.loss, term, updates))
        if progress and t > 1:
            progress(t, spec.steps)
    *_, final_loss = backprop.forward(spec, full_rules, weights, biases)
    history.append(final_loss + penalty(training, weights, biases, spec.layers))  # on the mpmath path again
    trajectory = Trajectory(training, settings, spec, batches, tuple(recorded), tuple(batch_losses), state)
    first_batch = batches[0]
    return Trained(subsets[first_batch], rules[first_batch], first, tuple(history), weights, biases, trajectory)
