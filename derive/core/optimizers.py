"""The optimizers as lecturers teach them: one registry entry per optimizer, each as torch.optim defines it.

An :class:`Optimizer` is its hyper-parameters (with PyTorch's defaults), the state it keeps per
parameter, and :meth:`Optimizer.step`, one update of one scalar parameter written as the lines a
hand calculation writes (``m_t = β₁ m_{t-1} + (1 - β₁) g_t``, ``m̂_t = m_t / (1 - β₁ᵗ)``, ...), in the
order of torch.optim's documented algorithm: weight decay first (added to the gradient, or for
AdamW subtracted from the parameter), then the moments, the bias correction, ε outside the square
root. Rational arithmetic stays exact (``Fraction``); a square root that is not rational is taken
in the 200-bit context of :mod:`derive.core.numeric`.

Each :class:`Line` carries the values its formula is written with, so that a document puts the
numbers into the formula the registry gives (:data:`FORMULAS`), and the mistakes of
:mod:`derive.grading.optimizer_mistakes` replay a step with one line changed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import sympy as sp

from derive.core.numeric import MP, is_exact, tame, to_mp

ZERO, ONE = Fraction(0), Fraction(1)


def sqrt(x):
    """The square root: exact when ``x`` is the square of a rational, else 200-bit (SymPy's for a formula)."""
    if isinstance(x, sp.Basic):
        return sp.sqrt(x)
    if type(x).__name__ == "arb":  # a FLINT ball (derive.core.fastrun)
        return x.sqrt()
    if isinstance(x, Fraction) and x >= 0:
        p, q = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if p * p == x.numerator and q * q == x.denominator:
            return Fraction(p, q)
    return MP.sqrt(to_mp(x))


def minus(a, b):
    """a - b for values of either domain (Fraction - mpf is not defined; a + (-b) is, with the same value)."""
    try:
        return a - b
    except TypeError:
        return a + (-b)


def over(a, b):
    """a / b for values of either domain (exact when both are rational)."""
    try:
        return a / b
    except TypeError:
        return a * (1 / b)


def maximum(a, b):
    """The larger of two values of either domain (Fraction and mpf do not compare directly)."""
    if isinstance(a, sp.Basic) or isinstance(b, sp.Basic):
        return sp.Max(a, b)
    if type(a).__name__ == "arb":  # FLINT balls: by their midpoints
        return a if a.mid() >= b.mid() else b
    if is_exact(a) and is_exact(b):
        return a if a >= b else b
    return a if to_mp(a) >= to_mp(b) else b


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter: its spec key, PyTorch's default, what values it takes, its symbol."""

    key: str
    default: object
    kind: str  # 'unit': 0 <= x < 1; 'nonnegative'; 'bool'
    symbol: str  # LaTeX
    words: str


@dataclass(frozen=True)
class Line:
    """One line of an update: what it computes (``key``), its value and the values its formula uses."""

    key: str
    value: object
    args: tuple


@dataclass(frozen=True)
class Update:
    """One parameter's step: the state before and after, and the lines in between."""

    before: dict
    after: dict
    lines: tuple
    old: object
    new: object
    gradient: object = None  # the data loss's gradient the step was given


@dataclass(frozen=True)
class Optimizer:
    """A registry entry: name, hyper-parameters, per-parameter state, forms, and the step itself."""

    name: str
    title: str
    hyper: tuple  # of Hyper
    state: Callable  # (settings) -> state keys, in printing order
    rule: Callable  # (settings, p, g, state, t, decay, lines) -> new p; mutates state, appends Lines
    forms: tuple = ("pytorch",)
    torch_class: str = ""
    rational: Callable = lambda settings: True  # no square root: exact on a rational network
    #: (settings, p, state) -> where the gradient is taken (the classical Nesterov form looks ahead), or None: at p
    ahead: Callable | None = None

    def keys(self) -> tuple:
        return tuple(h.key for h in self.hyper)

    def point(self, settings: "Settings", p, state: dict):
        """Where this step's gradient is taken: the parameter itself, or a look-ahead point."""
        return p if self.ahead is None else self.ahead(settings, p, state)

    def step(self, settings: "Settings", p, g, before: dict, t: int, decay, l2=ZERO, lines=None) -> Update:
        """One update of the scalar parameter ``p`` with gradient ``g`` of the data loss at step ``t`` (from 1).

        ``decay`` is this parameter's weight decay (0 for a bias the spec excludes), ``l2`` its
        coefficient of the L2 penalty in the loss (its own term of the gradient). The values may be
        SymPy expressions: ``lines`` with a ``named(key, value)`` method then turns each named line into
        a step of its own (derive.core.steps).
        """
        state = dict(before)
        lines = [] if lines is None else lines
        gradient = g
        if l2:
            g = line(lines, "l2", g + l2 * p, g, l2, p)
        new = self.rule(settings, p, g, state, t, decay, lines)
        state = {k: tame(v) for k, v in state.items()}
        if lines is DISCARD:
            return Update(before, state, (), p, tame(new), gradient)
        return Update(dict(before), state, tuple(lines), p, tame(new), gradient)


@dataclass(frozen=True)
class Settings:
    """An optimizer with its hyper-parameter values (defaults filled in), learning rate and form."""

    optimizer: str = "sgd"
    lr: Fraction = Fraction(1, 10)  # the spec's learning rate (derive.core.training sets it from the spec)
    values: tuple = (("weight_decay", ZERO),)  # ((key, value), ...) in the registry's order
    form: str = "pytorch"
    #: a named mistake the rules make on purpose (derive.grading's optimizer mistakes), '' for none
    mistake: str = ""

    @functools.cached_property
    def _by_key(self) -> dict:
        return dict(self.values)

    def __getitem__(self, key):
        return self._by_key[key]

    def get(self, key, default=None):
        return self._by_key.get(key, default)

    @property
    def entry(self) -> Optimizer:
        return OPTIMIZERS[self.optimizer]

    def initial_state(self) -> dict:
        return {key: ZERO for key in self.entry.state(self)}


class _Discarded(list):
    """The lines of a step nobody will read (a long run's later steps): none are made."""


#: pass as ``lines`` to Optimizer.step to skip making the Line records
DISCARD = _Discarded()


def line(lines: list, key: str, value, *args):
    """Append a Line and return its value (or, building formulas, the symbol of its step)."""
    if lines is DISCARD:
        return value
    lines.append(Line(key, value, args))
    named = getattr(lines, "named", None)
    return named(key, value) if named is not None else value


def _coupled_decay(lines, g, p, decay):
    """torch.optim's weight decay: added to the gradient before anything else (an L2 term in disguise)."""
    return line(lines, "decay", g + decay * p, g, decay, p) if decay else g


def _sgd(s, p, g, state, t, decay, lines):
    g = _coupled_decay(lines, g, p, decay)
    return line(lines, "p", minus(p, s.lr * g), p, s.lr, g)


def _momentum_state(s):
    return ("Delta",) if s.form == "mitchell" else ("b",)


def _momentum(s, p, g, state, t, decay, lines):
    g = _coupled_decay(lines, g, p, decay)
    mu = s["momentum"]
    if s.form == "mitchell":
        # Mitchell: Δw(n) = η δ x + α Δw(n-1) with δ x = -∂E/∂w; the same parameters as PyTorch's form
        delta = line(lines, "mitchell", -s.lr * g + _sign(s) * mu * state["Delta"], s.lr, g, mu, state["Delta"])
        state["Delta"] = delta
        return line(lines, "p_plus", p + delta, p, delta)
    if s.form == "sutskever":
        # Sutskever et al. (2013): the gradient is taken at the look-ahead point p + mu v (train() does that)
        line(lines, "lookahead", p + mu * state["v"], p, mu, state["v"])
        v = state["v"] = line(lines, "velocity", minus(_sign(s) * mu * state["v"], s.lr * g), mu, state["v"], s.lr, g)
        return line(lines, "p_v", p + v, p, v)
    b = _buffer(s, g, state, t, lines)
    if s.optimizer == "nesterov":
        g = line(lines, "nesterov", g + mu * b, g, mu, b)
        return line(lines, "p", minus(p, s.lr * g), p, s.lr, g)
    return line(lines, "p_b", minus(p, s.lr * b), p, s.lr, b)


def _nesterov_state(s):
    return ("v",) if s.form == "sutskever" else ("b",)


def _lookahead(s, p, state):
    """The classical Nesterov form's gradient point p + mu v (PyTorch's form takes it at p itself)."""
    return p + s["momentum"] * state["v"] if s.form == "sutskever" else p


def _buffer(s, g, state, t, lines):
    """torch.optim.SGD's momentum buffer: b_1 = g_1, then b_t = μ b_{t-1} + (1 - τ) g_t."""
    mu, tau = s["momentum"], s.get("dampening", ZERO)
    if t == 1:
        b = line(lines, "b1", g, g)
    else:
        b = line(lines, "b", _sign(s) * mu * state["b"] + (1 - tau) * g, mu, state["b"], tau, g)
    state["b"] = b
    return b


def _rmsprop_state(s):
    keys = ["v"]
    if s["centered"]:
        keys.append("gbar")
    if s["momentum"]:
        keys.append("b")
    return tuple(keys)


def _rmsprop(s, p, g, state, t, decay, lines):
    g = _coupled_decay(lines, g, p, decay)
    alpha, eps, mu = s["alpha"], s["eps"], s["momentum"]
    keep, new = (alpha, 1 - alpha) if s.mistake != "beta_swapped" else (1 - alpha, alpha)
    v = state["v"] = line(lines, "v_rms", keep * state["v"] + new * g * g, alpha, state["v"], g)
    vt = v
    if s["centered"]:
        gbar = state["gbar"] = line(lines, "gbar", keep * state["gbar"] + new * g, alpha, state["gbar"], g)
        vt = line(lines, "v_centered", minus(v, gbar * gbar), v, gbar)
    root = line(lines, "root_v", _root(s, vt, eps), vt)
    if mu:
        b = state["b"] = line(lines, "b_rms", _sign(s) * mu * state["b"] + over(g, _plus_eps(s, root, eps)),
                              mu, state["b"], g, root, eps)
        return line(lines, "p_b", minus(p, s.lr * b), p, s.lr, b)
    return line(lines, "p_rms", minus(p, s.lr * over(g, _plus_eps(s, root, eps))), p, s.lr, g, root, eps)


def _sign(s) -> int:
    """+1, or -1 for the mistake of adding the momentum term with the wrong sign."""
    return -1 if s.mistake == "momentum_sign" else 1


def _adam_state(s):
    return ("m", "v", "vmax") if s["amsgrad"] else ("m", "v")


def _adam(s, p, g, state, t, decay, lines):
    decoupled = s.optimizer == "adamw"
    if s.mistake == "decay_confused":  # L2 in the gradient taken for decoupled decay, or the other way round
        decoupled = not decoupled
    if decoupled:
        # decoupled: the parameter shrinks before the step and the gradient is left alone
        if decay:
            p = line(lines, "decoupled", minus(p, s.lr * decay * p), p, s.lr, decay)
    else:
        g = _coupled_decay(lines, g, p, decay)
    b1, b2, eps = s["beta1"], s["beta2"], s["eps"]
    (keep1, new1), (keep2, new2) = (b1, 1 - b1), (b2, 1 - b2)
    if s.mistake == "beta_swapped":
        (keep1, new1), (keep2, new2) = (new1, keep1), (new2, keep2)
    m = state["m"] = line(lines, "m", keep1 * state["m"] + new1 * g, b1, state["m"], g)
    v = state["v"] = line(lines, "v", keep2 * state["v"] + new2 * g * g, b2, state["v"], g)
    # the bias correction at step t (a count from 0 corrects with t - 1, and not at all where that is 0)
    tc = t - 1 if s.mistake == "t_from_zero" else t
    corrected = tc > 0 and s.mistake != "no_bias_correction"
    m_hat = line(lines, "m_hat", over(m, _correction(b1, tc)) if corrected else m, m, b1, t)
    if s["amsgrad"]:
        v = state["vmax"] = line(lines, "vmax", maximum(state["vmax"], v), state["vmax"], v)
    v_hat = line(lines, "v_hat", over(v, _correction(b2, tc)) if corrected else v, v, b2, t)
    root = line(lines, "root_v_hat", _root(s, v_hat, eps), v_hat)
    return line(lines, "p_adam", minus(p, s.lr * over(m_hat, _plus_eps(s, root, eps))), p, s.lr, m_hat, root, eps)


def _correction(beta, t: int):
    """1 - beta^t, once per step rather than once per parameter (a power of a 60-digit float is not cheap)."""
    if type(beta).__name__ == "arb":  # a ball cannot be a key; FLINT's power is cheap anyway
        return 1 - beta**t
    return _cached_correction(beta, t)


@functools.lru_cache(maxsize=64)
def _cached_correction(beta, t: int):
    return 1 - beta**t


def _root(s, x, eps):
    """sqrt(x), or sqrt(x + eps) for the mistake of putting epsilon inside the root."""
    return sqrt(x + eps) if s.mistake == "eps_inside_sqrt" else sqrt(x)


def _plus_eps(s, root, eps):
    return root if s.mistake == "eps_inside_sqrt" else root + eps


def _adagrad(s, p, g, state, t, decay, lines):
    g = _coupled_decay(lines, g, p, decay)
    rate = s.lr
    if s["lr_decay"]:
        rate = line(lines, "lr_decay", over(s.lr, 1 + (t - 1) * s["lr_decay"]), s.lr, t, s["lr_decay"])
    total = state["s"] = line(lines, "sum", state["s"] + g * g, state["s"], g)
    root = line(lines, "root_s", _root(s, total, s["eps"]), total)
    return line(lines, "p_adagrad", minus(p, rate * over(g, _plus_eps(s, root, s["eps"]))), p, rate, g, root, s["eps"])


_D = Fraction
WEIGHT_DECAY = Hyper("weight_decay", _D(0), "nonnegative", r"\lambda",
                     "weight decay, added to the gradient as lambda times the parameter")
MOMENTUM = Hyper("momentum", _D(9, 10), "unit", r"\mu", "momentum factor")
DAMPENING = Hyper("dampening", _D(0), "unit", r"\tau", "dampening of the new gradient in the velocity")
EPS_ADAM = Hyper("eps", _D(1, 10**8), "nonnegative", r"\varepsilon", "added to the denominator, outside the root")

OPTIMIZERS = {
    "sgd": Optimizer("sgd", "gradient descent", (WEIGHT_DECAY,), lambda s: (), _sgd, torch_class="SGD"),
    "momentum": Optimizer(
        "momentum", "gradient descent with momentum", (MOMENTUM, DAMPENING, WEIGHT_DECAY), _momentum_state,
        _momentum, forms=("pytorch", "mitchell"), torch_class="SGD"),
    "nesterov": Optimizer(
        "nesterov", "gradient descent with Nesterov momentum", (MOMENTUM, WEIGHT_DECAY), _nesterov_state,
        _momentum, forms=("pytorch", "sutskever"), torch_class="SGD", ahead=_lookahead),
    "rmsprop": Optimizer(
        "rmsprop", "RMSprop",
        (Hyper("alpha", _D(99, 100), "unit", r"\alpha", "smoothing constant of the squared gradients"),
         Hyper("eps", _D(1, 10**8), "nonnegative", r"\varepsilon", "added to the denominator, outside the root"),
         WEIGHT_DECAY,
         Hyper("momentum", _D(0), "unit", r"\mu", "momentum factor (0: none)"),
         Hyper("centered", False, "bool", "", "divide by the estimated variance instead of the second moment")),
        _rmsprop_state, _rmsprop, torch_class="RMSprop", rational=lambda s: False),
    "adam": Optimizer(
        "adam", "Adam",
        (Hyper("beta1", _D(9, 10), "unit", r"\beta_1", "decay rate of the first moment"),
         Hyper("beta2", _D(999, 1000), "unit", r"\beta_2", "decay rate of the second moment"),
         EPS_ADAM, WEIGHT_DECAY,
         Hyper("amsgrad", False, "bool", "", "divide by the largest second moment so far")),
        _adam_state, _adam, torch_class="Adam", rational=lambda s: False),
    "adamw": Optimizer(
        "adamw", "AdamW",
        (Hyper("beta1", _D(9, 10), "unit", r"\beta_1", "decay rate of the first moment"),
         Hyper("beta2", _D(999, 1000), "unit", r"\beta_2", "decay rate of the second moment"),
         EPS_ADAM,
         Hyper("weight_decay", _D(1, 100), "nonnegative", r"\lambda",
               "decoupled weight decay: the parameter shrinks by lr times lambda times itself"),
         Hyper("amsgrad", False, "bool", "", "divide by the largest second moment so far")),
        _adam_state, _adam, torch_class="AdamW", rational=lambda s: False),
    "adagrad": Optimizer(
        "adagrad", "Adagrad",
        (Hyper("lr_decay", _D(0), "nonnegative", r"\eta_{\mathrm{decay}}", "decay of the learning rate per step"),
         WEIGHT_DECAY,
         Hyper("initial_accumulator_value", _D(0), "nonnegative", r"s_0", "starting value of the sum of squares"),
         Hyper("eps", _D(1, 10**10), "nonnegative", r"\varepsilon", "added to the denominator, outside the root")),
        lambda s: ("s",), _adagrad, torch_class="Adagrad", rational=lambda s: False),
}

#: every hyper-parameter key any optimizer takes (the spec refuses one its optimizer does not take)
HYPER_KEYS = tuple(dict.fromkeys(h.key for o in OPTIMIZERS.values() for h in o.hyper))


def settings(optimizer: str, lr, given: dict | None = None, form: str = "pytorch") -> Settings:
    """Settings with the defaults filled in (the values are assumed checked, as the spec reader does)."""
    entry = OPTIMIZERS[optimizer]
    given = given or {}
    values = tuple((h.key, given.get(h.key, h.default)) for h in entry.hyper)
    return Settings(optimizer, lr, values, form)


def initial_state(s: Settings) -> dict:
    """The state before the first step (Adagrad's sum starts at its initial accumulator value)."""
    state = s.initial_state()
    if s.optimizer == "adagrad":
        state["s"] = s["initial_accumulator_value"]
    return state


# -- how the lines are written ------------------------------------------------------------
# key -> (symbol, general formula, formula with the numbers in). Placeholders: {p} the parameter,
# {t} the step, {0}, {1}, ... the line's args printed; symbols use {p} too.
FORMULAS = {
    "l2": (r"g_{t}", r"\partial E/\partial {p} + \lambda_{2} \, {p}", r"{0} + {1} \cdot {2}"),
    "decay": (r"g_{t}", r"g_{t} + \lambda \, {p}", r"{0} + {1} \cdot {2}"),
    "decoupled": (r"{p}", r"{p} - \eta \lambda \, {p}", r"{0} - {1} \cdot {2} \cdot {0}"),
    "p": (r"{p}^{+}", r"{p} - \eta \, g_{t}", r"{0} - {1} \cdot {2}"),
    "b1": (r"b_{t}", r"g_{t}", r"{0}"),
    "b": (r"b_{t}", r"\mu \, b_{t-1} + (1 - \tau) \, g_{t}", r"{0} \cdot {1} + (1 - {2}) \cdot {3}"),
    "p_b": (r"{p}^{+}", r"{p} - \eta \, b_{t}", r"{0} - {1} \cdot {2}"),
    "nesterov": (r"g'_{t}", r"g_{t} + \mu \, b_{t}", r"{0} + {1} \cdot {2}"),
    "lookahead": (r"\tilde{{p}}_{t}", r"{p} + \mu \, v_{t-1}", r"{0} + {1} \cdot {2}"),
    "velocity": (r"v_{t}", r"\mu \, v_{t-1} - \eta \, g_{t}", r"{0} \cdot {1} - {2} \cdot {3}"),
    "p_v": (r"{p}^{+}", r"{p} + v_{t}", r"{0} + {1}"),
    "mitchell": (r"\Delta {p}(t)", r"-\eta \, \partial E/\partial {p} + \alpha \, \Delta {p}(t-1)",
                 r"-{0} \cdot {1} + {2} \cdot {3}"),
    "p_plus": (r"{p}^{+}", r"{p} + \Delta {p}(t)", r"{0} + {1}"),
    "v_rms": (r"v_{t}", r"\alpha \, v_{t-1} + (1 - \alpha) \, g_{t}^{2}", r"{0} \cdot {1} + (1 - {0}) \cdot {2}^2"),
    "gbar": (r"\bar g_{t}", r"\alpha \, \bar g_{t-1} + (1 - \alpha) \, g_{t}", r"{0} \cdot {1} + (1 - {0}) \cdot {2}"),
    "v_centered": (r"\tilde v_{t}", r"v_{t} - \bar g_{t}^{2}", r"{0} - {1}^2"),
    "root_v": (r"\sqrt{\tilde v_{t}}", r"\sqrt{\tilde v_{t}}", r"\sqrt{{0}}"),
    "b_rms": (r"b_{t}", r"\mu \, b_{t-1} + g_{t} / (\sqrt{\tilde v_{t}} + \varepsilon)",
              r"{0} \cdot {1} + {2} / ({3} + {4})"),
    "p_rms": (r"{p}^{+}", r"{p} - \eta \, g_{t} / (\sqrt{\tilde v_{t}} + \varepsilon)",
              r"{0} - {1} \cdot {2} / ({3} + {4})"),
    "m": (r"m_{t}", r"\beta_1 m_{t-1} + (1 - \beta_1) \, g_{t}", r"{0} \cdot {1} + (1 - {0}) \cdot {2}"),
    "v": (r"v_{t}", r"\beta_2 v_{t-1} + (1 - \beta_2) \, g_{t}^{2}", r"{0} \cdot {1} + (1 - {0}) \cdot {2}^2"),
    "m_hat": (r"\hat m_{t}", r"m_{t} / (1 - \beta_1^{t})", r"{0} / (1 - {1}^{{2}})"),
    "vmax": (r"v^{\max}_{t}", r"\max(v^{\max}_{t-1}, v_{t})", r"\max({0}, {1})"),
    "v_hat": (r"\hat v_{t}", r"v_{t} / (1 - \beta_2^{t})", r"{0} / (1 - {1}^{{2}})"),
    "root_v_hat": (r"\sqrt{\hat v_{t}}", r"\sqrt{\hat v_{t}}", r"\sqrt{{0}}"),
    "p_adam": (r"{p}^{+}", r"{p} - \eta \, \hat m_{t} / (\sqrt{\hat v_{t}} + \varepsilon)",
               r"{0} - {1} \cdot {2} / ({3} + {4})"),
    "lr_decay": (r"\tilde\eta_{t}", r"\eta / (1 + (t - 1) \, \eta_{\mathrm{decay}})", r"{0} / (1 + ({1} - 1) \cdot {2})"),
    "sum": (r"s_{t}", r"s_{t-1} + g_{t}^{2}", r"{0} + {1}^2"),
    "root_s": (r"\sqrt{s_{t}}", r"\sqrt{s_{t}}", r"\sqrt{{0}}"),
    "p_adagrad": (r"{p}^{+}", r"{p} - \tilde\eta_{t} \, g_{t} / (\sqrt{s_{t}} + \varepsilon)",
                  r"{0} - {1} \cdot {2} / ({3} + {4})"),
}

#: a line whose value is a named quantity -> the prefix of its name (``m_w5[2]``); the parameter lines
#: (``p``, ``p_adam``, ...) are ``w5[2]``, the other lines are parts of a formula
LINE_QUANTITY = {"l2": "gtotal", "decay": "g", "nesterov": "g_nesterov", "m_hat": "m_hat", "v_hat": "v_hat",
                 "m": "m", "v": "v", "vmax": "vmax", "gbar": "gbar", "b1": "b", "b": "b", "b_rms": "b",
                 "mitchell": "Delta", "v_rms": "v", "sum": "s", "lookahead": "ahead", "velocity": "v"}
PARAMETER_LINES = ("p", "p_b", "p_plus", "p_rms", "p_adam", "p_adagrad", "p_v")

#: a state variable's name in quantities (``m_w5[2]``) and its symbol in documents
STATE_NAMES = {
    "b": ("b", r"b"), "Delta": ("Delta", r"\Delta"), "m": ("m", r"m"), "v": ("v", r"v"),
    "vmax": ("vmax", r"v^{\max}"), "gbar": ("gbar", r"\bar g"), "s": ("s", r"s"),
}


@dataclass(frozen=True)
class Step:
    """One optimizer step of the whole network: its mini-batch, losses and every parameter's update."""

    t: int
    samples: tuple  # indices of the mini-batch's samples
    data_loss: object  # the loss of the mini-batch at the parameters before the step
    penalty: object  # the L2 term at those parameters (0 without one)
    updates: dict = field(repr=False)  # (kind, l, j, i) -> Update; i None for a bias

    @property
    def loss(self):
        return self.data_loss + self.penalty


@dataclass(frozen=True)
class Training:
    """How the spec trains: the optimizer, the L2 penalty in the loss, the mini-batches and the mode."""

    settings: Settings = Settings()
    l2: Fraction = ZERO  # lambda of the penalty lambda/2 sum p^2 in the loss
    decay_biases: bool = True  # the L2 penalty and the weight decay apply to the biases too
    batch_size: int = 0  # samples per step; 0: the whole batch
    order: tuple = ()  # sample indices in the order they are taken; (): as given
    mode: str = "batch"  # 'batch' or 'online' (one sample per step)

    @property
    def plain(self) -> bool:
        """True for plain gradient descent on the whole batch: the step backprop.run itself makes."""
        s = self.settings
        return (s.optimizer == "sgd" and not s["weight_decay"] and not self.l2 and not self.batch_size
                and not self.order and self.mode == "batch")

    def batches(self, samples: int) -> tuple:
        """The mini-batches as tuples of sample indices, in the order the steps take them."""
        order = self.order or tuple(range(samples))
        size = self.batch_size or samples
        return tuple(order[k:k + size] for k in range(0, len(order), size))

    def decay_for(self, kind: str) -> bool:
        """True when the penalty and the weight decay apply to a parameter of this kind ('W' or 'b')."""
        return kind == "W" or self.decay_biases
