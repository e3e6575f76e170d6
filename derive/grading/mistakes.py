"""The mistakes students and code really make in backpropagation, as changes of the worked steps.

A :class:`Mistake` replaces the formula of some steps of :mod:`derive.core.steps`
(``dE_total/dout_o1 = t_o1 - out_o1`` instead of ``out_o1 - t_o1``); evaluating the
steps with it gives every value a calculation with that mistake produces, from the
exact numbers or from a student's own earlier numbers (:class:`derive.core.steps.World`).
:mod:`derive.grading.check` names a mistake when it reproduces a wrong answer.

Each kind has a short title for tables and :meth:`Mistake.explain`, a sentence for
the step where the mistake enters, with the right formula and numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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


@dataclass(frozen=True)
class Kind:
    id: str
    title: Callable  # (mistake, steps) -> str
    change: Callable  # (mistake, step, steps) -> formula or None
    variants: Callable  # (spec) -> list of Mistake
    explain: Callable  # (mistake, entry step, words) -> str
    per_layer: bool = False


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


def _in(m: Mistake, l: int) -> bool:
    return m.layer is None or m.layer == l


def _layers(kind: str, layers: list[int]) -> list[Mistake]:
    """A mistake made everywhere it applies, then in each of those layers alone."""
    if not layers:
        return []
    every = [Mistake(kind)] if len(layers) > 1 else []
    return every + [Mistake(kind, l) for l in layers]


def _output_dE_dout(step: Step, steps: Steps) -> bool:
    return step.kind == "dE_dout" and step.key[1] == steps.spec.layers


def _scaled(factor, kinds=("error", "dE_dout")):
    """A change that multiplies the loss terms (and/or their derivatives) by ``factor(spec)``."""

    def change(m, step, steps):
        if step.kind in kinds and (step.kind != "dE_dout" or _output_dE_dout(step, steps)):
            return product(factor(steps.spec), step.formula)
        return None

    return change


def _batch_scaled(factor):
    def change(m, step, steps):
        if step.kind in ("loss", "gradient"):
            return product(factor(steps.spec), step.formula)
        return None

    return change


# -- the changes -----------------------------------------------------------------------

def _relu_mask(m, step, steps):
    if step.kind == "dout_dnet" and _in(m, step.key[1]) and steps.spec.activations[step.key[1] - 1] == "relu":
        _, l, s, j = step.key
        out = steps.symbol("out", l, s, j)
        return sp.Piecewise((0, out < 0), (1, True))
    return None


def _sign(m, step, steps):
    if steps.spec.loss == "cross_entropy":  # its output delta is written out - t directly
        is_output_delta = step.kind == "delta" and step.key[1] == steps.spec.layers
        return -step.formula if is_output_delta else None
    return -step.formula if _output_dE_dout(step, steps) else None


def _softmax_diagonal(m, step, steps):
    if step.kind == "delta" and step.key[1] == steps.spec.layers:
        _, l, s, j = step.key
        return product(steps.symbol("dE_dout", l, s, j), steps.symbol("dout_dnet", l, s, j))
    return None


def _update(plus: bool):
    def change(m, step, steps):
        if step.kind != "updated":
            return None
        p = step.key[1:]
        param = steps.symbol(*p[:3]) if p[0] == "b" else steps.symbol(*p)
        grad = steps.symbol("gradient", *p)
        if plus:
            return total(param, product(steps.symbol("eta"), grad))
        return total(param, -grad)

    return change


def _left_out(m, step, steps):
    if step.kind == "delta" and _in(m, step.key[1]):
        return steps.symbol("dE_dout", *step.key[1:])
    return None


def _at_out(m, step, steps):
    if step.kind == "dout_dnet" and _in(m, step.key[1]):
        _, l, s, j = step.key
        act = steps.spec.activations[l - 1]
        if act in ("sigmoid", "tanh"):
            return fn.ACTIVATIONS[act].derivative().xreplace({fn.z: steps.symbol("out", l, s, j)})
    return None


def _identity_at_net(m, step, steps):
    if step.kind == "dout_dnet" and _in(m, step.key[1]):
        _, l, s, j = step.key
        act = steps.spec.activations[l - 1]
        if act in ("sigmoid", "tanh"):
            return fn.ACTIVATIONS[act].identity.xreplace({fn.a: steps.symbol("net", l, s, j)})
    return None


def _one_path(m, step, steps):
    if step.kind == "dE_dout" and step.key[1] == m.layer:
        _, l, s, j = step.key
        return steps.symbol("path", l, s, j, m.which)
    return None


def _updated_weights(m, step, steps):
    if step.kind == "path" and _in(m, step.key[1]):
        _, l, s, j, k = step.key
        return product(steps.symbol("delta", l + 1, s, k), steps.symbol("updated", "W", l + 1, k, j))
    return None


def _square(spec, l: int) -> bool:
    return spec.sizes[l - 1] == spec.sizes[l] > 1


def _wrong_input(m, step, steps):
    if step.kind == "dnet_dp" and step.key[1] == "W" and _in(m, step.key[2]):
        _, _, l, j, i, s = step.key
        if _square(steps.spec, l) and i != j:
            return steps.symbol("out", l - 1, s, j)
    return None


def _transposed(m, step, steps):
    if step.kind == "gradient" and step.key[1] == "W" and _in(m, step.key[2]):
        _, _, l, j, i = step.key
        if _square(steps.spec, l) and i != j:
            N = steps.spec.batch
            terms = [product(steps.symbol("delta", l, s, i), steps.symbol("out", l - 1, s, j)) for s in range(N)]
            formula = total(*terms) if N > 1 else terms[0]
            weight = steps.graph.batch_weight
            return formula if weight == 1 else product(weight, formula)
    return None


def _bias_input(m, step, steps):
    if step.kind == "dnet_dp" and step.key[1] == "b":
        _, _, l, j, _, s = step.key
        if m.which == -1:
            return steps.symbol("b", l, j)
        if m.which == -2:
            return steps.symbol("out", l, s, j)
        if m.which < steps.spec.sizes[l - 1]:
            return steps.symbol("out", l - 1, s, m.which)
    return None


# -- which variants a network can have ------------------------------------------------

def _act_layers(spec, names) -> list[int]:
    return [l for l in range(1, spec.layers + 1) if spec.activations[l - 1] in names]


def _K(spec) -> int:
    return spec.sizes[-1]


def _reduction(spec, over: str) -> str:
    """How the loss reduces over the outputs or the batch: 'sum' or 'mean'."""
    loss = fn.LOSSES[spec.loss]
    return loss.output_reduction if over == "output" else loss.batch_reduction


def _when(condition, mistake_kind):
    return lambda spec: [Mistake(mistake_kind)] if condition(spec) else []


# -- the sentences ----------------------------------------------------------------------
# Each names the rule that was broken and the numbers of the step where the mistake
# enters; the report prints the right step (formula, numbers, value) under it.

def _explain_relu(m, e, w):
    _, l, s, j = e.key
    net = w.name("net", l, s, j)
    return (
        f"The ReLU mask was tested on the activated values (out < 0), which are never negative, so it never "
        f"masks anything; but ReLU'(net) is 0 wherever the net input is not positive. Here {net} = "
        f"{w.value('net', l, s, j)}, so {e.name} = 0 and every gradient that flows through {w.unit(l, j)} is 0."
    )


def _explain_sign(m, e, w):
    if w.steps.spec.loss == "cross_entropy":
        return (f"The sign is flipped: with softmax and the cross-entropy the output's delta is out - t, not "
                f"t - out; so {e.name} = {w.value(*e.key)}, and every gradient computed from it had the wrong sign.")
    return (
        f"The sign of the error is flipped: the derivative of the loss with respect to an output is "
        f"out - t (differentiating (t - out)^2 brings down the minus sign of -out), not t - out; so "
        f"{e.name} = {w.value(*e.key)}, and every gradient computed from it had the wrong sign."
    )


def _explain_update(plus: bool):
    def explain(m, e, w):
        p = e.key[1:]
        grad = w.name("gradient", *p)
        param = w.name(*p[:3]) if p[0] == "b" else w.name(*p)
        if plus:
            return (f"The update went uphill: gradient descent subtracts the gradient, {e.name} = {param} - "
                    f"eta*{grad} = {w.value(*e.key)}, not {param} + eta*{grad}.")
        return (f"The learning rate was not applied: the step is the gradient times eta = "
                f"{w.num(w.steps.exact('eta'))}, so {e.name} = {param} - eta*{grad} = {w.value(*e.key)}.")

    return explain


def _explain_half(dropped: bool):
    def explain(m, e, w):
        if dropped:
            return (f"The factor 1/2 of the loss was dropped: the loss is 1/2 of the sum of (t - out)^2, whose "
                    f"derivative is out - t, not 2(out - t); without it your value is twice the right one, "
                    f"{e.name} = {w.value(*e.key)}.")
        return (f"This loss ({w.steps.spec.loss}) has no factor 1/2 in front of the square, so your value is half "
                f"the right one, {e.name} = {w.value(*e.key)}.")

    return explain


def _explain_two(m, e, w):
    return (f"The factor 2 from differentiating the square was forgotten: the derivative of (out - t)^2 is "
            f"2(out - t), so {e.name} = {w.value(*e.key)}.")


def _explain_output_mean(dropped: bool):
    def explain(m, e, w):
        K = _K(w.steps.spec)
        if dropped:
            return (f"The loss ({w.steps.spec.loss}) is the mean over the {K} outputs, so each output's term carries "
                    f"a factor 1/{K}; without "
                    f"it your value is {K} times the right one, {e.name} = {w.value(*e.key)}.")
        return (f"The loss ({w.steps.spec.loss}) is a sum over the outputs, not a mean: there is no factor 1/{K}, "
                f"and your value is 1/{K} of the right one, {e.name} = {w.value(*e.key)}.")

    return explain


def _explain_batch_mean(dropped: bool):
    def explain(m, e, w):
        N = w.steps.spec.batch
        if dropped:
            return (f"The loss ({w.steps.spec.loss}) is the mean over the {N} samples: the samples' contributions "
                    f"are added and divided by "
                    f"{N}; without the 1/{N} your value is {N} times the right one, {e.name} = {w.value(*e.key)}.")
        return (f"The loss ({w.steps.spec.loss}) sums over the {N} samples: the contributions are added, not "
                f"averaged, and your value is 1/{N} of the right one, {e.name} = {w.value(*e.key)}.")

    return explain


def _explain_softmax_diagonal(m, e, w):
    _, l, s, j = e.key
    net = w.name("net", l, s, j)
    return (f"Every softmax output depends on {net}, so {e.name} is the sum over all outputs k of dE/dout_k * "
            f"dout_k/d{net}; using only the own output's term ({w.name('dE_dout', l, s, j)} * "
            f"{w.name('dout_dnet', l, s, j)}, the Jacobian's diagonal, as if the softmax were elementwise) leaves "
            f"out the coupling: {e.name} = {w.value(*e.key)}"
            + (", which reduces to out - t for the cross-entropy." if w.steps.spec.loss == "cross_entropy" else "."))


def _explain_left_out(m, e, w):
    _, l, s, j = e.key
    return (f"The activation's derivative was left out: {e.name} = {w.name('dE_dout', l, s, j)} * "
            f"{w.name('dout_dnet', l, s, j)}, and {w.name('dout_dnet', l, s, j)} = "
            f"{w.value('dout_dnet', l, s, j)}, so {e.name} = {w.value(*e.key)}.")


def _explain_at_out(m, e, w):
    _, l, s, j = e.key
    f = "sigma" if w.steps.spec.activations[l - 1] == "sigmoid" else "tanh"
    net, out = w.name("net", l, s, j), w.name("out", l, s, j)
    return (f"The derivative {f}' was taken at the output instead of at the net input: {e.name} = "
            f"{f}'({net}) = {w.value(*e.key)}, not {f}'({out}).")


def _explain_identity_at_net(m, e, w):
    _, l, s, j = e.key
    sig = w.steps.spec.activations[l - 1] == "sigmoid"
    net, out = w.name("net", l, s, j), w.name("out", l, s, j)
    rule, right, wrong = (("out(1 - out)", f"{out}(1 - {out})", f"{net}(1 - {net})") if sig
                          else ("1 - out^2", f"1 - {out}^2", f"1 - {net}^2"))
    return (f"The rule {rule} takes the unit's output, not its net input: {e.name} = {right} = "
            f"{w.value(*e.key)}, not {wrong}.")


def _explain_one_path(m, e, w):
    _, l, s, j = e.key
    return (f"Only the path through {w.unit(l + 1, m.which)} was used, but {w.name('out', l, s, j)} feeds every "
            f"unit of the next layer, so {e.name} is the sum of the paths through all of them, "
            f"{w.value(*e.key)}.")


def _explain_updated_weights(m, e, w):
    _, l, s, j, k = e.key
    W, new = w.name("W", l + 1, k, j), w.name("updated", "W", l + 1, k, j)
    return (f"The backward pass used the already updated weight {new} = {w.value('updated', 'W', l + 1, k, j)} "
            f"instead of {W} = {w.value('W', l + 1, k, j)}: every delta is computed with the weights of the "
            f"forward pass, and the weights change only after all gradients are known.")


def _explain_wrong_input(m, e, w):
    _, _, l, j, i, s = e.key
    return (f"{w.weight(l, j, i)} multiplies {w.name('out', l - 1, s, i)}, so {e.name} = "
            f"{w.name('out', l - 1, s, i)} = {w.value(*e.key)}; you used {w.name('out', l - 1, s, j)}, the input "
            f"of another weight (the rows and columns of the weight matrix mixed up).")


def _explain_transposed(m, e, w):
    _, _, l, j, i = e.key
    return (f"This is the gradient of {w.weight(l, i, j)}, not of {w.weight(l, j, i)}: the rows and columns of "
            f"the weight matrix were swapped (the {w.steps.spec.weight_layout} layout: see the names of quantities).")


def _explain_bias(m, e, w):
    _, _, l, j, _, s = e.key
    if m.which == -1:
        used = f"the bias {w.name('b', l, j)} itself"
    elif m.which == -2:
        used = f"the unit's output {w.name('out', l, s, j)}"
    else:
        used = f"the input {w.name('out', l - 1, s, m.which)}"
    return (f"A bias is a weight on a constant input of 1, so {e.name} = 1 and the bias's gradient is the "
            f"delta itself; you multiplied by {used} as if that were the bias's input.")


def _title_one_path(m, steps):
    return f"only the path through {_Words(steps).unit(m.layer + 1, m.which)} used"


def _title_bias(m, steps):
    if m.which == -1:
        return "bias multiplied by itself instead of 1"
    if m.which == -2:
        return "bias multiplied by its unit's output instead of 1"
    return f"bias treated as a weight on input {m.which + 1}"


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind("relu_mask_on_output", lambda m, s: "ReLU mask tested on the activated values (never masks)", _relu_mask,
             lambda spec: _layers("relu_mask_on_output", _act_layers(spec, ("relu",))), _explain_relu, True),
        Kind("sign_flipped", lambda m, s: "sign of (t - out) flipped", _sign,
             lambda spec: [Mistake("sign_flipped")], _explain_sign),
        Kind("softmax_diagonal", lambda m, s: "softmax treated as elementwise (Jacobian's diagonal only)",
             _softmax_diagonal, _when(lambda spec: spec.activations[-1] == "softmax", "softmax_diagonal"),
             _explain_softmax_diagonal),
        Kind("update_plus", lambda m, s: "update with + instead of -", _update(True),
             lambda spec: [Mistake("update_plus")], _explain_update(True)),
        Kind("no_learning_rate", lambda m, s: "learning rate not applied", _update(False),
             _when(lambda spec: spec.learning_rate != 1, "no_learning_rate"), _explain_update(False)),
        Kind("derivative_left_out", lambda m, s: "activation derivative left out", _left_out,
             lambda spec: _layers("derivative_left_out", _act_layers(spec, ("sigmoid", "tanh", "relu"))),
             _explain_left_out, True),
        Kind("derivative_at_out", lambda m, s: "activation derivative taken at out instead of net", _at_out,
             lambda spec: _layers("derivative_at_out", _act_layers(spec, ("sigmoid", "tanh"))), _explain_at_out, True),
        Kind("identity_at_net", lambda m, s: "derivative rule fed the net input instead of the output",
             _identity_at_net, lambda spec: _layers("identity_at_net", _act_layers(spec, ("sigmoid", "tanh"))),
             _explain_identity_at_net, True),
        Kind("one_path", _title_one_path, _one_path,
             lambda spec: [Mistake("one_path", l, k) for l in range(1, spec.layers) if spec.sizes[l + 1] > 1
                           for k in range(spec.sizes[l + 1])], _explain_one_path),
        Kind("updated_weights", lambda m, s: "already updated weights used for the deltas", _updated_weights,
             lambda spec: _layers("updated_weights", list(range(1, spec.layers))), _explain_updated_weights, True),
        Kind("half_dropped", lambda m, s: "factor 1/2 of the loss dropped", _scaled(lambda spec: 2),
             _when(lambda spec: spec.loss == "half_sse", "half_dropped"), _explain_half(True)),
        Kind("factor_two_forgotten", lambda m, s: "factor 2 of the square's derivative forgotten",
             _scaled(lambda spec: sp.Rational(1, 2), ("dE_dout",)),
             _when(lambda spec: spec.loss in ("mse", "sse"), "factor_two_forgotten"), _explain_two),
        Kind("half_added", lambda m, s: "factor 1/2 added to the loss", _scaled(lambda spec: sp.Rational(1, 2)),
             _when(lambda spec: spec.loss in ("mse", "sse"), "half_added"), _explain_half(False)),
        Kind("output_mean_dropped", lambda m, s: f"1/{_K(s.spec)} of the mean over the outputs dropped",
             _scaled(lambda spec: _K(spec)),
             _when(lambda spec: _reduction(spec, "output") == "mean" and _K(spec) > 1, "output_mean_dropped"),
             _explain_output_mean(True)),
        Kind("output_mean_added", lambda m, s: f"1/{_K(s.spec)} added (mean instead of sum over the outputs)",
             _scaled(lambda spec: sp.Rational(1, _K(spec))),
             # not for the cross-entropy: its delta, out - t, never uses the scaled terms
             _when(lambda spec: _reduction(spec, "output") == "sum" and _K(spec) > 1 and spec.loss != "cross_entropy",
                   "output_mean_added"), _explain_output_mean(False)),
        Kind("batch_mean_dropped", lambda m, s: f"1/{s.spec.batch} of the mean over the samples dropped",
             _batch_scaled(lambda spec: spec.batch),
             _when(lambda spec: _reduction(spec, "batch") == "mean" and spec.batch > 1, "batch_mean_dropped"),
             _explain_batch_mean(True)),
        Kind("batch_mean_added", lambda m, s: f"1/{s.spec.batch} added (mean instead of sum over the samples)",
             _batch_scaled(lambda spec: sp.Rational(1, spec.batch)),
             _when(lambda spec: _reduction(spec, "batch") == "sum" and spec.batch > 1, "batch_mean_added"),
             _explain_batch_mean(False)),
        Kind("wrong_unit_input", lambda m, s: "input of the wrong unit used (layout confusion)", _wrong_input,
             lambda spec: _layers("wrong_unit_input", [l for l in range(1, spec.layers + 1) if _square(spec, l)]),
             _explain_wrong_input, True),
        Kind("transposed_gradient", lambda m, s: "gradient of the transposed weight (layout confusion)", _transposed,
             lambda spec: _layers("transposed_gradient", [l for l in range(1, spec.layers + 1) if _square(spec, l)]),
             _explain_transposed, True),
        Kind("bias_input", _title_bias, _bias_input,
             lambda spec: [Mistake("bias_input", None, w) for w in range(-2, max(spec.sizes[:-1]))], _explain_bias),
    )
}


def variants(spec) -> list[Mistake]:
    """Every mistake that can be made on this network, in the order they are preferred on a tie."""
    found = []
    for kind in KINDS.values():
        found.extend(kind.variants(spec))
    return found
