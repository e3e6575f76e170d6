"""The mistakes students and code really make in backpropagation, as changes of the worked steps.

A :class:`Mistake` replaces the formula of some steps of :mod:`derive.core.steps`
(``dE_total/dout_o1 = t_o1 - out_o1`` instead of ``out_o1 - t_o1``); evaluating the
steps with it gives every value a calculation with that mistake produces, from the
exact numbers or from a student's own earlier numbers (:class:`derive.core.steps.World`).
:mod:`derive.grading.check` names a mistake when it reproduces a wrong answer.

Each named mistake is one entry of :data:`KINDS`, a :class:`Kind` subclass registered
with :func:`named`: its id, a short title for tables, the variants a network can have
(asked of the activation and loss registries, never of their names), the change of the
steps, and the sentence for the step where the mistake enters, with the right formula
and numbers. To add a named mistake, add its class below (where it ranks on a tie) and a
row to tests/test_check.py's MISTAKE_CASES.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.core import functions as fn
from derive.core.graph import product, total
from derive.core.steps import Step, Steps
from derive.documents.printing import shown


@dataclass(frozen=True)
class Mistake:
    """One mistake: its kind, the layer it is made in (None: every layer) and a detail (``which``).

    ``which`` is the unit of the next layer whose path is the only one used
    (``one_path``), or what a bias is multiplied by (``bias_input``: -1 the bias
    itself, -2 the unit's own output, i >= 0 input i of the layer).
    """

    kind: str
    layer: int | None = None
    which: int | None = None

    def formula(self, step: Step, steps: Steps):
        """The formula this mistake computes ``step`` with, or None when it leaves the step alone."""
        return KINDS[self.kind].change(self, step, steps)

    def title(self, steps: Steps) -> str:
        """A few words for a table: 'sign of (t - out) flipped'."""
        text = KINDS[self.kind].title(self, steps)
        if self.layer is not None and KINDS[self.kind].per_layer:
            text += f" ({steps.notation.layer_name(self.layer).removeprefix('the ')})"
        return text

    def explain(self, entry: Step, steps: Steps) -> str:
        """The sentence that tells a student what went wrong at ``entry`` and what is right."""
        return KINDS[self.kind].explain(self, entry, _Words(steps))


class Kind:
    """A named mistake. Subclass it, set ``id`` (and ``per_layer``), and register the class with :func:`named`.

    ``title`` (a few words) and ``explain`` (the sentence) say it; ``variants`` lists the
    mistakes a network can have (by default one, when :meth:`applies`); ``change``
    gives the formula a step is computed with under the mistake, or None.
    """

    id: str = ""
    per_layer: bool = False  # made in one layer: its title names the layer
    words: str = ""  # the title, when it does not depend on the network

    def title(self, m: Mistake, steps: Steps) -> str:
        return self.words

    def applies(self, spec) -> bool:
        return True

    def variants(self, spec) -> list[Mistake]:
        return [Mistake(self.id)] if self.applies(spec) else []

    def change(self, m: Mistake, step: Step, steps: Steps):
        raise NotImplementedError

    def explain(self, m: Mistake, e: Step, w: "_Words") -> str:
        raise NotImplementedError


#: the named mistakes by id, in the order they are preferred on a tie
KINDS: dict[str, Kind] = {}


def named(cls: type) -> type:
    """Register a named mistake; the order of registration is the order of preference on a tie."""
    kind = cls()
    if not kind.id or kind.id in KINDS:
        raise ValueError(f"a named mistake needs an id of its own, got {kind.id!r}")
    KINDS[kind.id] = kind
    return cls


class _Words:
    """Names and numbers for the sentences."""

    def __init__(self, steps: Steps):
        self.steps = steps
        self.n = steps.notation

    def name(self, *key) -> str:
        return self.steps.by_key[key].name

    def num(self, x) -> str:
        return shown(x, 6).text

    def value(self, *key) -> str:
        return self.num(self.steps.exact(self.steps.by_key[key].name))

    def weight(self, l: int, j: int, i: int) -> str:
        """'w2 (i2 -> h1)'."""
        return f"{self.name('W', l, j, i)} ({self.n.out(l - 1, None, i).text} -> {self.unit(l, j)})"

    def unit(self, l: int, j: int) -> str:
        return self.n.unit(l, j).text if self.n.units else self.n.out(l, None, j).text


# -- helpers the entries share -----------------------------------------------------------

def _in(m: Mistake, l: int) -> bool:
    return m.layer is None or m.layer == l


def _layers(kind: str, layers: list[int]) -> list[Mistake]:
    """A mistake made everywhere it applies, then in each of those layers alone."""
    if not layers:
        return []
    every = [Mistake(kind)] if len(layers) > 1 else []
    return every + [Mistake(kind, l) for l in layers]


def _act_layers(spec, which) -> list[int]:
    """The layers whose activation has the property ``which(activation)``."""
    return [l for l in range(1, spec.layers + 1) if which(fn.ACTIVATIONS[spec.activations[l - 1]])]


def _activation(steps: Steps, l: int) -> fn.Activation:
    return fn.ACTIVATIONS[steps.spec.activations[l - 1]]


def _loss(spec) -> fn.Loss:
    return fn.LOSSES[spec.loss]


def _squared(spec, coefficient) -> bool:
    """The loss is a squared error with this coefficient in front of each square."""
    squared = _loss(spec).squared
    return squared is not None and squared.coefficient == coefficient


def _delta_is_error(spec) -> bool:
    """The output delta is written out - t (softmax with the cross-entropy): the Jacobian's sum reduced."""
    return fn.cancels(_loss(spec), fn.ACTIVATIONS[spec.activations[-1]])


def _loss_words(spec) -> str:
    """'cross-entropy': the loss's name in a sentence."""
    return _loss(spec).title.removesuffix(" loss")


def _K(spec) -> int:
    return spec.sizes[-1]


def _reduction(spec, over: str) -> str:
    """How the loss reduces over the outputs or the batch: 'sum' or 'mean'."""
    loss = _loss(spec)
    return loss.output_reduction if over == "output" else loss.batch_reduction


def _output_dE_dout(step: Step, steps: Steps) -> bool:
    return step.kind == "dE_dout" and step.key[1] == steps.spec.layers


def _scaled(factor, step: Step, steps: Steps, kinds=("error", "dE_dout")):
    """The step's formula times ``factor``, for the loss terms (and/or their derivatives at the output)."""
    if step.kind in kinds and (step.kind != "dE_dout" or _output_dE_dout(step, steps)):
        return product(factor, step.formula)
    return None


def _batch_scaled(factor, step: Step):
    if step.kind in ("loss", "gradient"):
        return product(factor, step.formula)
    return None


def _square(spec, l: int) -> bool:
    return spec.sizes[l - 1] == spec.sizes[l] > 1


def _update(plus: bool, step: Step, steps: Steps):
    if step.kind != "updated":
        return None
    p = step.key[1:]
    param = steps.symbol(*p[:3]) if p[0] == "b" else steps.symbol(*p)
    grad = steps.symbol("gradient", *p)
    if plus:
        return total(param, product(steps.symbol("eta"), grad))
    return total(param, -grad)


# -- the named mistakes, in the order they are preferred on a tie ---------------------------
# Each sentence names the rule that was broken and the numbers of the step where the
# mistake enters; the report prints the right step (formula, numbers, value) under it.

@named
class ReluMaskOnOutput(Kind):
    id, per_layer = "relu_mask_on_output", True
    words = "ReLU mask tested on the activated values (never masks)"

    def variants(self, spec):
        return _layers(self.id, _act_layers(spec, lambda act: act.mask))

    def change(self, m, step, steps):
        if step.kind == "dout_dnet" and _in(m, step.key[1]) and _activation(steps, step.key[1]).mask:
            _, l, s, j = step.key
            out = steps.symbol("out", l, s, j)
            return sp.Piecewise((0, out < 0), (1, True))
        return None

    def explain(self, m, e, w):
        _, l, s, j = e.key
        net = w.name("net", l, s, j)
        return (
            f"The ReLU mask was tested on the activated values (out < 0), which are never negative, so it never "
            f"masks anything; but ReLU'(net) is 0 wherever the net input is not positive. Here {net} = "
            f"{w.value('net', l, s, j)}, so {e.name} = 0 and every gradient that flows through {w.unit(l, j)} is 0."
        )


@named
class SignFlipped(Kind):
    id, words = "sign_flipped", "sign of (t - out) flipped"

    def change(self, m, step, steps):
        if _delta_is_error(steps.spec):  # its output delta is written out - t directly
            is_output_delta = step.kind == "delta" and step.key[1] == steps.spec.layers
            return -step.formula if is_output_delta else None
        return -step.formula if _output_dE_dout(step, steps) else None

    def explain(self, m, e, w):
        spec = w.steps.spec
        if _delta_is_error(spec):
            return (f"The sign is flipped: with {spec.activations[-1]} and the {_loss_words(spec)} the output's "
                    f"delta is out - t, not t - out; so {e.name} = {w.value(*e.key)}, and every gradient computed "
                    f"from it had the wrong sign.")
        return (
            f"The sign of the error is flipped: the derivative of the loss with respect to an output is "
            f"out - t (differentiating (t - out)^2 brings down the minus sign of -out), not t - out; so "
            f"{e.name} = {w.value(*e.key)}, and every gradient computed from it had the wrong sign."
        )


@named
class SoftmaxDiagonal(Kind):
    id, words = "softmax_diagonal", "softmax treated as elementwise (Jacobian's diagonal only)"

    def applies(self, spec):
        return spec.coupled_output

    def change(self, m, step, steps):
        if step.kind == "delta" and step.key[1] == steps.spec.layers:
            _, l, s, j = step.key
            return product(steps.symbol("dE_dout", l, s, j), steps.symbol("dout_dnet", l, s, j))
        return None

    def explain(self, m, e, w):
        _, l, s, j = e.key
        net, spec = w.name("net", l, s, j), w.steps.spec
        return (f"Every softmax output depends on {net}, so {e.name} is the sum over all outputs k of dE/dout_k * "
                f"dout_k/d{net}; using only the own output's term ({w.name('dE_dout', l, s, j)} * "
                f"{w.name('dout_dnet', l, s, j)}, the Jacobian's diagonal, as if the softmax were elementwise) leaves "
                f"out the coupling: {e.name} = {w.value(*e.key)}"
                + (f", which reduces to out - t for the {_loss_words(spec)}." if _delta_is_error(spec) else "."))


# -- optimizer mistakes: the optimizer's rules replayed with the mistake (derive.core.optimizers) ----------

_ADAM = ("adam", "adamw")
_ROOTED = ("adam", "adamw", "rmsprop", "adagrad")


class OptimizerKind(Kind):
    """A mistake in an optimizer's lines: the steps' formulas are the optimizer's rules made with it."""

    rule = ""  # the sentence: the rule that was broken
    optimizers: tuple[str, ...] = ()  # the optimizers whose lines the mistake is made in

    def applies(self, spec):
        return spec.training.settings.optimizer in self.optimizers

    def change(self, m, step, steps):
        if step.kind != "opt":
            return None
        return steps.optimizer_formulas(self.id).get(step.key)

    def explain(self, m, e, w):
        return f"{self.rule}; {e.name} = {w.value(*e.key)}."


@named
class NoBiasCorrection(OptimizerKind):
    id, words = "no_bias_correction", "bias correction forgotten"
    rule = ("The bias correction was left out: m and v start at 0, so Adam divides them by 1 - beta1^t and "
            "1 - beta2^t before the step")
    optimizers = _ADAM


@named
class EpsInsideSqrt(OptimizerKind):
    id, words = "eps_inside_sqrt", "epsilon added inside the square root"
    rule = "Epsilon goes outside the square root: the denominator is sqrt(v) + eps, not sqrt(v + eps)"
    optimizers = _ROOTED


@named
class BetaSwapped(OptimizerKind):
    id, words = "beta_swapped", "beta and 1 - beta swapped"
    rule = ("beta and 1 - beta are swapped: the running mean keeps beta of the old value and adds 1 - beta of "
            "the new one")
    optimizers = ("adam", "adamw", "rmsprop")


@named
class TFromZero(OptimizerKind):
    id, words = "t_from_zero", "step counter t started at 0"
    rule = "The step counter starts at 1: the first step corrects with 1 - beta^1, the second with 1 - beta^2"
    optimizers = _ADAM


@named
class MomentumSign(OptimizerKind):
    id, words = "momentum_sign", "momentum added with the wrong sign"
    rule = ("The momentum term is added, not subtracted: the velocity is mu times the previous velocity plus the "
            "new gradient")

    def applies(self, spec):
        s = spec.training.settings
        return spec.steps > 1 and (s.optimizer in ("momentum", "nesterov")
                                   or (s.optimizer == "rmsprop" and bool(s["momentum"])))


@named
class DecayOnBiases(OptimizerKind):
    id, words = "decay_on_biases", "weight decay applied to the biases"
    rule = "The biases are not decayed here: the penalty and the weight decay apply to the weights only"

    def applies(self, spec):
        training = spec.training
        return (spec.update_biases and not training.decay_biases
                and bool(training.l2 or training.settings.get("weight_decay")))


@named
class DecayConfused(OptimizerKind):
    id, words = "decay_confused", "L2 penalty and decoupled weight decay confused"
    rule = ("Adam adds the weight decay to the gradient (an L2 penalty, divided by sqrt(v) with the rest), AdamW "
            "shrinks the parameter itself by eta lambda p before the step")

    optimizers = _ADAM

    def applies(self, spec):
        return super().applies(spec) and bool(spec.training.settings.get("weight_decay"))


@named
class UpdatePlus(Kind):
    id, words = "update_plus", "update with + instead of -"

    def applies(self, spec):
        return spec.training.plain  # another optimizer's update has its own lines and mistakes

    def change(self, m, step, steps):
        return _update(True, step, steps)

    def explain(self, m, e, w):
        p = e.key[1:]
        grad = w.name("gradient", *p)
        param = w.name(*p[:3]) if p[0] == "b" else w.name(*p)
        return (f"The update went uphill: gradient descent subtracts the gradient, {e.name} = {param} - "
                f"eta*{grad} = {w.value(*e.key)}, not {param} + eta*{grad}.")


@named
class NoLearningRate(Kind):
    id, words = "no_learning_rate", "learning rate not applied"

    def applies(self, spec):
        return spec.learning_rate != 1 and spec.training.plain

    def change(self, m, step, steps):
        return _update(False, step, steps)

    def explain(self, m, e, w):
        p = e.key[1:]
        grad = w.name("gradient", *p)
        param = w.name(*p[:3]) if p[0] == "b" else w.name(*p)
        return (f"The learning rate was not applied: the step is the gradient times eta = "
                f"{w.num(w.steps.exact('eta'))}, so {e.name} = {param} - eta*{grad} = {w.value(*e.key)}.")


@named
class DerivativeLeftOut(Kind):
    id, per_layer, words = "derivative_left_out", True, "activation derivative left out"

    def variants(self, spec):
        # an elementwise activation with a derivative to leave out (the identity's is 1)
        return _layers(self.id, _act_layers(spec, lambda act: not (act.passthrough or act.coupled)))

    def change(self, m, step, steps):
        if step.kind == "delta" and _in(m, step.key[1]):
            return steps.symbol("dE_dout", *step.key[1:])
        return None

    def explain(self, m, e, w):
        _, l, s, j = e.key
        return (f"The activation's derivative was left out: {e.name} = {w.name('dE_dout', l, s, j)} * "
                f"{w.name('dout_dnet', l, s, j)}, and {w.name('dout_dnet', l, s, j)} = "
                f"{w.value('dout_dnet', l, s, j)}, so {e.name} = {w.value(*e.key)}.")


def _taught_in_out(act: fn.Activation) -> bool:
    """An elementwise activation whose taught derivative is written in its output (sigma' = out (1 - out))."""
    return act.taught_in_out and not act.coupled


@named
class DerivativeAtOut(Kind):
    id, per_layer, words = "derivative_at_out", True, "activation derivative taken at out instead of net"

    def variants(self, spec):
        return _layers(self.id, _act_layers(spec, _taught_in_out))

    def change(self, m, step, steps):
        if step.kind == "dout_dnet" and _in(m, step.key[1]):
            _, l, s, j = step.key
            act = _activation(steps, l)
            if _taught_in_out(act):
                return act.derivative().xreplace({fn.z: steps.symbol("out", l, s, j)})
        return None

    def explain(self, m, e, w):
        _, l, s, j = e.key
        f = _activation(w.steps, l).symbol
        net, out = w.name("net", l, s, j), w.name("out", l, s, j)
        return (f"The derivative {f}' was taken at the output instead of at the net input: {e.name} = "
                f"{f}'({net}) = {w.value(*e.key)}, not {f}'({out}).")


@named
class IdentityAtNet(Kind):
    id, per_layer, words = "identity_at_net", True, "derivative rule fed the net input instead of the output"

    def variants(self, spec):
        return _layers(self.id, _act_layers(spec, _taught_in_out))

    def change(self, m, step, steps):
        if step.kind == "dout_dnet" and _in(m, step.key[1]):
            _, l, s, j = step.key
            act = _activation(steps, l)
            if _taught_in_out(act):
                return act.identity.xreplace({fn.a: steps.symbol("net", l, s, j)})
        return None

    def explain(self, m, e, w):
        _, l, s, j = e.key
        act = _activation(w.steps, l)
        net, out = w.name("net", l, s, j), w.name("out", l, s, j)
        return (f"The rule {act.rule_plain('out')} takes the unit's output, not its net input: {e.name} = "
                f"{act.rule_plain(out)} = {w.value(*e.key)}, not {act.rule_plain(net)}.")


@named
class OnePath(Kind):
    id = "one_path"

    def title(self, m, steps):
        return f"only the path through {_Words(steps).unit(m.layer + 1, m.which)} used"

    def variants(self, spec):
        return [Mistake(self.id, l, k) for l in range(1, spec.layers) if spec.sizes[l + 1] > 1
                for k in range(spec.sizes[l + 1])]

    def change(self, m, step, steps):
        if step.kind == "dE_dout" and step.key[1] == m.layer:
            _, l, s, j = step.key
            return steps.symbol("path", l, s, j, m.which)
        return None

    def explain(self, m, e, w):
        _, l, s, j = e.key
        return (f"Only the path through {w.unit(l + 1, m.which)} was used, but {w.name('out', l, s, j)} feeds every "
                f"unit of the next layer, so {e.name} is the sum of the paths through all of them, "
                f"{w.value(*e.key)}.")


@named
class UpdatedWeights(Kind):
    id, per_layer, words = "updated_weights", True, "already updated weights used for the deltas"

    def variants(self, spec):
        return _layers(self.id, list(range(1, spec.layers)))

    def change(self, m, step, steps):
        if step.kind == "path" and _in(m, step.key[1]):
            _, l, s, j, k = step.key
            return product(steps.symbol("delta", l + 1, s, k), steps.symbol("updated", "W", l + 1, k, j))
        return None

    def explain(self, m, e, w):
        _, l, s, j, k = e.key
        W, new = w.name("W", l + 1, k, j), w.name("updated", "W", l + 1, k, j)
        return (f"The backward pass used the already updated weight {new} = {w.value('updated', 'W', l + 1, k, j)} "
                f"instead of {W} = {w.value('W', l + 1, k, j)}: every delta is computed with the weights of the "
                f"forward pass, and the weights change only after all gradients are known.")


@named
class HalfDropped(Kind):
    id, words = "half_dropped", "factor 1/2 of the loss dropped"

    def applies(self, spec):
        return _squared(spec, sp.Rational(1, 2))

    def change(self, m, step, steps):
        return _scaled(2, step, steps)

    def explain(self, m, e, w):
        return (f"The factor 1/2 of the loss was dropped: the loss is 1/2 of the sum of (t - out)^2, whose "
                f"derivative is out - t, not 2(out - t); without it your value is twice the right one, "
                f"{e.name} = {w.value(*e.key)}.")


@named
class FactorTwoForgotten(Kind):
    id, words = "factor_two_forgotten", "factor 2 of the square's derivative forgotten"

    def applies(self, spec):
        return _squared(spec, 1)

    def change(self, m, step, steps):
        return _scaled(sp.Rational(1, 2), step, steps, ("dE_dout",))

    def explain(self, m, e, w):
        return (f"The factor 2 from differentiating the square was forgotten: the derivative of (out - t)^2 is "
                f"2(out - t), so {e.name} = {w.value(*e.key)}.")


@named
class HalfAdded(Kind):
    id, words = "half_added", "factor 1/2 added to the loss"

    def applies(self, spec):
        return _squared(spec, 1)

    def change(self, m, step, steps):
        return _scaled(sp.Rational(1, 2), step, steps)

    def explain(self, m, e, w):
        return (f"This loss ({w.steps.spec.loss}) has no factor 1/2 in front of the square, so your value is half "
                f"the right one, {e.name} = {w.value(*e.key)}.")


@named
class OutputMeanDropped(Kind):
    id = "output_mean_dropped"

    def title(self, m, steps):
        return f"1/{_K(steps.spec)} of the mean over the outputs dropped"

    def applies(self, spec):
        return _reduction(spec, "output") == "mean" and _K(spec) > 1

    def change(self, m, step, steps):
        return _scaled(_K(steps.spec), step, steps)

    def explain(self, m, e, w):
        K = _K(w.steps.spec)
        return (f"The loss ({w.steps.spec.loss}) is the mean over the {K} outputs, so each output's term carries "
                f"a factor 1/{K}; without "
                f"it your value is {K} times the right one, {e.name} = {w.value(*e.key)}.")


@named
class OutputMeanAdded(Kind):
    id = "output_mean_added"

    def title(self, m, steps):
        return f"1/{_K(steps.spec)} added (mean instead of sum over the outputs)"

    def applies(self, spec):
        # not where the output delta is out - t (the cross-entropy): it never uses the scaled terms
        return _reduction(spec, "output") == "sum" and _K(spec) > 1 and not _delta_is_error(spec)

    def change(self, m, step, steps):
        return _scaled(sp.Rational(1, _K(steps.spec)), step, steps)

    def explain(self, m, e, w):
        K = _K(w.steps.spec)
        return (f"The loss ({w.steps.spec.loss}) is a sum over the outputs, not a mean: there is no factor 1/{K}, "
                f"and your value is 1/{K} of the right one, {e.name} = {w.value(*e.key)}.")


@named
class BatchMeanDropped(Kind):
    id = "batch_mean_dropped"

    def title(self, m, steps):
        return f"1/{steps.spec.batch} of the mean over the samples dropped"

    def applies(self, spec):
        return _reduction(spec, "batch") == "mean" and spec.batch > 1

    def change(self, m, step, steps):
        return _batch_scaled(steps.spec.batch, step)

    def explain(self, m, e, w):
        N = w.steps.spec.batch
        return (f"The loss ({w.steps.spec.loss}) is the mean over the {N} samples: the samples' contributions "
                f"are added and divided by "
                f"{N}; without the 1/{N} your value is {N} times the right one, {e.name} = {w.value(*e.key)}.")


@named
class BatchMeanAdded(Kind):
    id = "batch_mean_added"

    def title(self, m, steps):
        return f"1/{steps.spec.batch} added (mean instead of sum over the samples)"

    def applies(self, spec):
        return _reduction(spec, "batch") == "sum" and spec.batch > 1

    def change(self, m, step, steps):
        return _batch_scaled(sp.Rational(1, steps.spec.batch), step)

    def explain(self, m, e, w):
        N = w.steps.spec.batch
        return (f"The loss ({w.steps.spec.loss}) sums over the {N} samples: the contributions are added, not "
                f"averaged, and your value is 1/{N} of the right one, {e.name} = {w.value(*e.key)}.")


@named
class WrongUnitInput(Kind):
    id, per_layer, words = "wrong_unit_input", True, "input of the wrong unit used (layout confusion)"

    def variants(self, spec):
        return _layers(self.id, [l for l in range(1, spec.layers + 1) if _square(spec, l)])

    def change(self, m, step, steps):
        if step.kind == "dnet_dp" and step.key[1] == "W" and _in(m, step.key[2]):
            _, _, l, j, i, s = step.key
            if _square(steps.spec, l) and i != j:
                return steps.symbol("out", l - 1, s, j)
        return None

    def explain(self, m, e, w):
        _, _, l, j, i, s = e.key
        return (f"{w.weight(l, j, i)} multiplies {w.name('out', l - 1, s, i)}, so {e.name} = "
                f"{w.name('out', l - 1, s, i)} = {w.value(*e.key)}; you used {w.name('out', l - 1, s, j)}, the input "
                f"of another weight (the rows and columns of the weight matrix mixed up).")


@named
class TransposedGradient(Kind):
    id, per_layer, words = "transposed_gradient", True, "gradient of the transposed weight (layout confusion)"

    def variants(self, spec):
        return _layers(self.id, [l for l in range(1, spec.layers + 1) if _square(spec, l)])

    def change(self, m, step, steps):
        if step.kind == "gradient" and step.key[1] == "W" and _in(m, step.key[2]):
            _, _, l, j, i = step.key
            if _square(steps.spec, l) and i != j:
                N = steps.spec.batch
                terms = [product(steps.symbol("delta", l, s, i), steps.symbol("out", l - 1, s, j)) for s in range(N)]
                formula = total(*terms) if N > 1 else terms[0]
                weight = steps.graph.batch_weight
                return formula if weight == 1 else product(weight, formula)
        return None

    def explain(self, m, e, w):
        _, _, l, j, i = e.key
        return (f"This is the gradient of {w.weight(l, i, j)}, not of {w.weight(l, j, i)}: the rows and columns of "
                f"the weight matrix were swapped (the {w.steps.spec.weight_layout} layout: see the names of "
                f"quantities).")


@named
class BiasInput(Kind):
    """``which``: -1 the bias itself, -2 the unit's own output, i >= 0 input i of the layer."""

    id = "bias_input"

    def title(self, m, steps):
        if m.which == -1:
            return "bias multiplied by itself instead of 1"
        if m.which == -2:
            return "bias multiplied by its unit's output instead of 1"
        return f"bias treated as a weight on input {m.which + 1}"

    def variants(self, spec):
        return [Mistake(self.id, None, w) for w in range(-2, max(spec.sizes[:-1]))]

    def change(self, m, step, steps):
        if step.kind == "dnet_dp" and step.key[1] == "b":
            _, _, l, j, _, s = step.key
            if m.which == -1:
                return steps.symbol("b", l, j)
            if m.which == -2:
                return steps.symbol("out", l, s, j)
            if m.which < steps.spec.sizes[l - 1]:
                return steps.symbol("out", l - 1, s, m.which)
        return None

    def explain(self, m, e, w):
        _, _, l, j, _, s = e.key
        if m.which == -1:
            used = f"the bias {w.name('b', l, j)} itself"
        elif m.which == -2:
            used = f"the unit's output {w.name('out', l, s, j)}"
        else:
            used = f"the input {w.name('out', l - 1, s, m.which)}"
        return (f"A bias is a weight on a constant input of 1, so {e.name} = 1 and the bias's gradient is the "
                f"delta itself; you multiplied by {used} as if that were the bias's input.")


def variants(spec) -> list[Mistake]:
    """Every mistake that can be made on this network, in the order they are preferred on a tie."""
    found = []
    for kind in KINDS.values():
        found.extend(kind.variants(spec))
    return found
