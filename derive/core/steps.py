"""The worked solution as a graph of named steps, and its evaluation with other numbers put in.

Every scalar of :func:`derive.core.quantities.quantities` is a :class:`Step`: its name, where
it sits in the network (``key``), and its formula in the *named quantities it is
computed from* (``net_h1 = w1*i1 + w2*i2 + b_h1``, ``delta_o1 = dE_total/dout_o1 *
dout_o1/dnet_o1``, ``w5_new = w5 - eta*dE_total/dw5``). Numbers given in the problem
(inputs, targets, weights, biases, the learning rate) have no formula.

The formulas are the engine's own (:class:`derive.core.graph.Graph`: the definitions and
SymPy's local derivatives), linked step by step. Evaluated with the exact numbers
they give every value of the reverse sweep; :meth:`Steps.verify` checks that,
value by value, and a difference is a bug in derive, never hidden.

A :class:`World` evaluates the graph with changes a hand calculation makes:

* ``written`` -- the student's own numbers are used wherever they wrote one
  (follow-through: a later step is computed from their earlier answers);
* ``places`` -- every computed value is rounded half away from zero to that many
  decimals before it is used (a calculator user who writes down and reuses each
  intermediate);
* ``mistake`` -- some steps' formulas are replaced (see :mod:`derive.grading.mistakes`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import sympy as sp
from sympy.printing.str import StrPrinter

from derive.core import functions as fn
from derive.core.derivation import ChainRuleMismatch, _same
from derive.core.graph import product, total
from derive.core.notation import Name
from derive.core.numeric import evaluate, lift, round_decimal
from derive.core.optimizers import LINE_QUANTITY, PARAMETER_LINES, STATE_NAMES, initial_state
from derive.core.quantities import quantities

try:
    from derive.core.numeric import _compile_small
except ImportError:  # the engine's compiler is an optimisation; the walk gives the same values
    _compile_small = None


def solution_trajectory(solution):
    """The optimizer's record of a solution, or None for plain gradient descent."""
    return getattr(solution, "trajectory", None)


def _named(text: str, latex: str) -> Name:
    return Name(text, latex)


#: the symbol a named optimizer quantity is written with
_SYMBOLS = {"m_hat": r"\hat m", "v_hat": r"\hat v", "gtotal": r"g^{\mathrm{total}}", "g_nesterov": "g'",
            "ahead": r"\tilde\theta",
            **{key: latex for key, (_, latex) in STATE_NAMES.items()}}


class _Named(list):
    """The lines of one optimizer update, made into steps: each named line is a step and its symbol is used on."""

    def __init__(self, steps, key, pname, t, formulas, mistake):
        super().__init__()
        self.steps, self.key, self.pname, self.t, self.formulas, self.mistake = steps, key, pname, t, formulas, mistake

    def named(self, line_key, value):
        p, t = self.pname, self.t
        if line_key in LINE_QUANTITY:
            prefix = LINE_QUANTITY[line_key]
            text = f"{prefix}_{p.text}[{t}]"
            symbol = _SYMBOLS.get(prefix, prefix)
            latex = rf"{symbol}_{{{t}}}({p.latex})"
        elif line_key in PARAMETER_LINES:
            text, latex = f"{p.text}[{t}]", rf"{p.latex}^{{({t})}}"
        else:
            return value  # a part of a formula (a root, a shrunk parameter): written inside the next one
        step_key = ("opt", t, text.split("[")[0].removesuffix("_" + p.text) if line_key not in PARAMETER_LINES
                    else "p", *self.key)
        self.formulas[step_key] = value
        if self.mistake:
            # a line the right calculation has too is its step; one only the mistake makes is written inside
            return self.steps.symbol(*step_key) if step_key in self.steps.by_key else value
        return self.steps._add(step_key, Name(text, latex), value)


@dataclass(frozen=True)
class Step:
    """One named quantity: its place in the network and its formula (None for a given number)."""

    name: str
    key: tuple  # (kind, *indices) with 0-based indices, layers from 1; see Steps.keys
    symbol: sp.Symbol
    latex: str
    formula: sp.Expr | None

    @property
    def kind(self) -> str:
        return self.key[0]

    @property
    def given(self) -> bool:
        return self.formula is None


class Steps:
    """Every step of one solved network, in reading order (the order of ``quantities``).

    Keys: ``("out", 0, s, i)`` an input, ``("t", s, k)``, ``("W", l, j, i)``,
    ``("b", l, j)``, ``("eta",)`` the learning rate (given, not an answer),
    ``("net"|"out"|"dE_dout"|"dout_dnet"|"delta", l, s, j)``, ``("path", l, s, j, k)``
    (the path from unit j of layer l through unit k of layer l + 1), ``("jacobian", l, s, k, j)``
    (d out_k/d net_j of a softmax layer, k != j; the diagonal is ``dout_dnet``),
    ``("error", s, k)``, ``("sample_loss", s)`` (several samples only), ``("loss",)``,
    and per parameter (``p = ("W", l, j, i)`` or ``("b", l, j, None)``):
    ``("dnet_dp", *p, s)``, ``("contribution", *p, s)`` (several samples only),
    ``("gradient", *p)``, ``("updated", *p)``.
    """

    def __init__(self, solution):
        self.solution = solution
        self.spec = solution.spec
        self.notation = solution.notation
        self.graph = solution.graph
        self.rules = solution.rules
        self.exact_values = quantities(solution)
        self.steps: dict[str, Step] = {}
        self.by_key: dict[tuple, Step] = {}
        self.by_symbol: dict[sp.Symbol, Step] = {}
        self.latex: dict[sp.Symbol, str] = {}
        self._given: dict[str, object] = {}
        self._parents: dict[sp.Expr, tuple] = {}
        self._functions: dict[str, object] = {}
        self._order: dict[str, int] | None = None  # reading order, for sorting a formula's parents
        self._rounded_worlds: dict = {}  # places -> the world rounding every step to them (no mistake, no answers)
        self._build()
        order = list(self.exact_values)
        missing = [name for name in order if name not in self.steps]
        if missing:
            raise ChainRuleMismatch(f"the step graph has no step for {missing[:3]}")
        # reading order: the quantities' order, the learning rate first
        self.steps = {"eta": self.steps["eta"], **{name: self.steps[name] for name in order}}

    # -- building --------------------------------------------------------------------
    def _add(self, key: tuple, name: Name, formula, symbol: sp.Symbol | None = None, value=None) -> sp.Symbol:
        symbol = symbol if symbol is not None else sp.Symbol(name.text, real=True)
        step = Step(name.text, key, symbol, name.latex, formula)
        if name.text in self.steps:
            raise ChainRuleMismatch(f"two steps are named {name.text}")
        self.steps[name.text] = step
        self.by_key[key] = step
        self.by_symbol[symbol] = step
        self.latex[symbol] = name.latex
        if formula is None:
            self._given[name.text] = value
        return symbol

    def symbol(self, *key) -> sp.Symbol:
        """The symbol of the step at ``key``."""
        return self.by_key[key].symbol

    def _build(self):
        spec, n, g, rules = self.spec, self.notation, self.graph, self.rules
        L, N, sizes = spec.layers, spec.batch, spec.sizes
        weights = (None, *rules.lift(spec.weights))
        biases = (None, *rules.lift(spec.biases))
        inputs, targets = rules.lift(spec.inputs), rules.lift(spec.targets)
        self._add(("eta",), Name("eta", r"\eta"), None, sp.Symbol("eta", positive=True), rules.lift(spec.learning_rate))
        for s in range(N):
            for i in range(sizes[0]):
                self._add(("out", 0, s, i), n.input(s, i), None, g.x(s, i), inputs[s][i])
            for k in range(sizes[-1]):
                self._add(("t", s, k), n.target(s, k), None, g.t(s, k), targets[s][k])
        for l in range(1, L + 1):
            for j in range(sizes[l]):
                for i in range(sizes[l - 1]):
                    self._add(("W", l, j, i), n.weight(l, j, i), None, g.W(l, j, i), weights[l][j][i])
                self._add(("b", l, j), n.bias(l, j), None, g.b(l, j), biases[l][j])
        # forward pass
        for s in range(N):
            for l in range(1, L + 1):
                for j in range(sizes[l]):
                    self._add(("net", l, s, j), n.net(l, s, j), total(*g.net_terms(l, s, j)), g.net(l, s, j))
                    self._add(("out", l, s, j), n.out(l, s, j), g.out_definition(l, s, j), g.out(l, s, j))
        # the loss
        for s in range(N):
            errors = [self._add(("error", s, k), n.error(s, k), g.error_definition(s, k), g.error(s, k))
                      for k in range(sizes[-1])]
            if N > 1:
                self._add(("sample_loss", s), n.sample_loss(s), total(*errors), g.sample_loss(s))
        if N > 1:
            losses = total(*(self.symbol("sample_loss", s) for s in range(N)))
            formula = losses if g.batch_weight == 1 else product(g.batch_weight, losses)
        else:
            formula = total(*(self.symbol("error", 0, k) for k in range(sizes[-1])))
        self._add(("loss",), n.loss(), formula, g.loss())
        # the backward pass, layer by layer from the output, then that layer's parameters
        eta = self.symbol("eta")
        for l in range(L, 0, -1):
            for s in range(N):
                top = n.sample_loss(s)
                if g.activation(l).coupled:
                    self._softmax_steps(l, s)
                    continue
                for j in range(sizes[l]):
                    out = n.out(l, s, j)
                    if l == L:
                        dE_dout = g.dloss_dout(s, j)
                    else:
                        paths = []
                        for k in range(sizes[l + 1]):
                            name = n.path(l, s, j, k)
                            formula = product(self.symbol("delta", l + 1, s, k), self.symbol("W", l + 1, k, j))
                            paths.append(self._add(("path", l, s, j, k), name, formula))
                        dE_dout = total(*paths)
                    e = self._add(("dE_dout", l, s, j), n.derivative(top, out), dE_dout)
                    a = self._add(("dout_dnet", l, s, j), n.derivative(out, n.net(l, s, j)), g.dout_dnet(l, s, j))
                    self._add(("delta", l, s, j), n.delta(l, s, j), product(e, a), g.delta(l, s, j))
            for j in range(sizes[l]):
                for i in list(range(sizes[l - 1])) + [None]:
                    p = ("W", l, j, i) if i is not None else ("b", l, j, None)
                    pname = n.weight(l, j, i) if i is not None else n.bias(l, j)
                    psym = self.symbol(*p[:3]) if i is None else self.symbol(*p)
                    terms = []
                    for s in range(N):
                        local = self.symbol("out", l - 1, s, i) if i is not None else sp.Integer(1)
                        dnet = self._add(("dnet_dp", *p, s), n.derivative(n.net(l, s, j), pname), local)
                        term = product(self.symbol("delta", l, s, j), dnet)
                        if N > 1:
                            term = self._add(("contribution", *p, s), n.derivative(n.sample_loss(s), pname), term)
                        terms.append(term)
                    gradient = total(*terms) if N > 1 else terms[0]
                    if g.batch_weight != 1:
                        gradient = product(g.batch_weight, gradient)
                    grad = self._add(("gradient", *p), n.derivative(n.loss(), pname), gradient)
                    if (i is not None or spec.update_biases) and solution_trajectory(self.solution) is None:
                        self._add(("updated", *p), n.updated(pname), psym - product(eta, grad))
        if solution_trajectory(self.solution) is not None:
            self._optimizer_steps()

    # -- the optimizer ---------------------------------------------------------------
    def _optimizer_steps(self, mistake: str = ""):
        """Each recorded step's optimizer lines as steps: ``m_w5[1] = beta1*m_w5[0] + (1 - beta1)*dE_dw5[1]``.

        The first step's gradient is the backward pass's; a later step's is given (its forward and backward
        passes are not written out). ``w5_new`` is ``w5[1]``. With ``mistake`` the formulas are those the
        optimizer's rules give with that mistake (:meth:`optimizer_formulas`), and no step is added.
        """
        trajectory, n = self.solution.trajectory, self.notation
        plan = trajectory.training
        settings = replace(plan.settings, lr=self.spec.learning_rate, mistake=mistake)
        entry = settings.entry
        decay = settings.get("weight_decay", Fraction(0))
        formulas = {}
        previous = {}
        for step in trajectory.steps:
            t = step.t
            for key, update in step.updates.items():
                kind, l, j, i = key
                pname = n.weight(l, j, i) if kind == "W" else n.bias(l, j)
                p_key = ("W", l, j, i) if kind == "W" else ("b", l, j)
                if t == 1:
                    start = (("opt", 0, "p", *key), _named(f"{pname.text}[0]", rf"{pname.latex}^{{(0)}}"))
                    if not mistake:
                        self._add(start[0], start[1], self.symbol(*p_key))
                    p_sym = self.symbol(*start[0])
                    state = initial_state(settings)
                else:
                    p_sym, state = previous[key]
                g_key = ("opt", t, "dE_d", *key)
                if not mistake:
                    g_name = _named(f"dE_d{pname.text}[{t}]", rf"\partial E/\partial {pname.latex}^{{({t - 1})}}")
                    if t == 1:
                        self._add(g_key, g_name, self.symbol("gradient", *(p_key if kind == "W" else (*p_key, None))))
                    else:
                        self._add(g_key, g_name, None, value=update.gradient)
                g_sym = self.symbol(*g_key)
                regular = plan.decay_for(kind) or mistake == "decay_on_biases"
                lines = _Named(self, key, pname, t, formulas, mistake)
                made = entry.step(settings, p_sym, g_sym, state, t, decay if regular else 0,
                                  plan.l2 if regular else 0, lines)
                previous[key] = (made.new, made.after)
                if t == 1 and not mistake and (kind == "W" or self.spec.update_biases):
                    self._add(("updated", *(p_key if kind == "W" else (*p_key, None))), n.updated(pname), made.new)
        return formulas

    def optimizer_formulas(self, mistake: str) -> dict:
        """The optimizer steps' formulas (by key) as its rules compute them with a named mistake."""
        cache = self.__dict__.setdefault("_mistaken", {})
        if mistake not in cache:
            cache[mistake] = self._optimizer_steps(mistake)
        return cache[mistake]

    def _softmax_steps(self, l: int, s: int):
        """A softmax layer: every output's dE/dout, the Jacobian, then each delta as the sum over the outputs.

        With the cross-entropy a hand calculation writes delta = out - t, the sum
        reduced (see derive.derivation); the Jacobian entries are still steps to ask for.
        """
        g, n, K = self.graph, self.notation, self.spec.sizes[l]
        top = n.sample_loss(s)
        dE = [self._add(("dE_dout", l, s, k), n.derivative(top, n.out(l, s, k)), g.dloss_dout(s, k))
              for k in range(K)]
        local = {}
        for j in range(K):
            net = n.net(l, s, j)
            for k in range(K):
                key = ("dout_dnet", l, s, j) if k == j else ("jacobian", l, s, k, j)
                local[k, j] = self._add(key, n.derivative(n.out(l, s, k), net), g.dout_dnet(l, s, j, k))
        for j in range(K):
            if fn.cancels(g.loss_fn, g.activation(l)):  # the Jacobian's sum reduces to the error
                formula = self.symbol("out", l, s, j) - self.symbol("t", s, j)
            else:
                formula = total(*(product(dE[k], local[k, j]) for k in range(K)))
            self._add(("delta", l, s, j), n.delta(l, s, j), formula, g.delta(l, s, j))

    # -- lookups ---------------------------------------------------------------------
    def __getitem__(self, name: str) -> Step:
        return self.steps[name]

    def __contains__(self, name: str) -> bool:
        return name in self.steps

    def __iter__(self):
        return iter(self.steps.values())

    def given_value(self, name: str):
        """The number the problem gives for a given step."""
        return self._given[name]

    def parents(self, formula: sp.Expr, remember: bool = True) -> tuple[str, ...]:
        """The names of the steps a formula uses, in reading order (remembered unless ``remember`` is false)."""
        found = self._parents.get(formula)
        if found is None:
            if self._order is None or len(self._order) != len(self.steps):
                self._order = {name: i for i, name in enumerate(self.steps)}
            found = tuple(sorted({self.by_symbol[s].name for s in formula.free_symbols}, key=self._order.__getitem__))
            if remember:
                self._parents[formula] = found
        return found

    def function(self, name: str):
        """(function, inputs) of a step's formula, compiled once for all the worlds.

        ``function(env)`` evaluates the formula; ``env`` maps each symbol of ``inputs``,
        pairs (the formula's own symbol object, the step's name), to its value. Kept
        here, one per step, rather than in the shared cache of derive.numeric, which a
        network of many thousand steps would overflow and refill for every world; keyed
        by the formula's own symbol objects, so that a lookup never compares two equal
        symbols that SymPy's bounded cache made twice.
        """
        found = self._functions.get(name)
        if found is None:
            formula = self.steps[name].formula
            function = _compile_small(formula) if _compile_small is not None else None
            if function is None:
                function = lambda env, formula=formula: evaluate(formula, env, {})  # noqa: E731
            inputs = tuple((symbol, self.by_symbol[symbol].name) for symbol in formula.free_symbols)
            found = self._functions[name] = (function, inputs)
        return found

    def lift(self, x):
        """A number (Fraction, Decimal, int) in this network's domain (Fraction or 60-digit float)."""
        return lift(Fraction(x), self.rules.exact)

    def exact(self, name: str):
        """The exact value of a step."""
        return self._given[name] if name in self._given else self.exact_values[name]

    def verify(self) -> None:
        """Evaluate every step from its formula and compare with the engine's sweep."""
        world = World(self)
        for name, step in self.steps.items():
            if step.given:
                continue
            value, expected = world.computed(name), self.exact_values[name]
            if not _same(value, expected):
                raise ChainRuleMismatch(f"{name}: the step formula gives {value}, the sweep gave {expected}")

    def world(self, mistake=None, written=None, places=None, base=None, changed=None, affected=None) -> "World":
        if mistake is None and not written and base is None and changed is None and affected is None:
            # the calculation rounding to ``places`` (or exact) is asked for by the key, the accepted answers, the
            # distractors and the worked steps alike: its values are the same every time, computed once
            found = self._rounded_worlds.get(places)
            if found is None:
                found = self._rounded_worlds[places] = World(self, places=places)
            return found
        return World(self, mistake, written, places, base, changed, affected)


class World:
    """The steps evaluated with the student's numbers, with rounding, or with a mistake.

    ``written`` maps names to values (already in the network's domain) that replace
    the computed ones wherever they are used; ``places`` rounds every computed value
    (half away from zero) before it is used; ``mistake`` replaces some formulas.

    A mistake's world may lean on ``base``, the same world without the mistake:
    ``changed`` holds the mistake's formulas by step name and ``affected`` the steps
    whose value it can change; every other value is the base world's, computed once
    for all the mistakes tried (see :mod:`derive.diagnosis`).
    """

    def __init__(self, steps: Steps, mistake=None, written: dict | None = None, places: int | None = None,
                 base: "World | None" = None, changed: dict | None = None, affected=None):
        self.steps = steps
        self.mistake = mistake
        self.written = written or {}
        self.places = places
        self.base = base
        self.changed = changed
        self.affected = affected
        self._values: dict[str, object] = {}

    def formula(self, step: Step):
        """The formula this world computes the step with."""
        if self.changed is not None:
            return self.changed.get(step.name, step.formula)
        if self.mistake is not None and not step.given:
            changed = self.mistake.formula(step, self.steps)
            if changed is not None:
                return changed
        return step.formula

    def used(self, name: str):
        """The value later steps use: the student's own number when they wrote one."""
        if name in self.written:
            return self.written[name]
        return self.computed(name)

    def computed(self, name: str):
        """The value of a step computed from the values its formula uses."""
        if name in self._values:
            return self._values[name]
        if self.base is not None and name not in self.affected:
            return self.base.computed(name)
        step = self.steps[name]
        if step.given:
            value = self.steps.given_value(name)
        else:
            formula = self.formula(step)
            if formula is step.formula:
                function, inputs = self.steps.function(name)
                value = function({symbol: self.used(parent) for symbol, parent in inputs})
            else:
                # a mistake's formula is evaluated in a few worlds only: walked, not compiled or remembered
                env = {self.steps[p].symbol: self.used(p) for p in self.steps.parents(formula, remember=False)}
                value = evaluate(formula, env, {})
        if not step.given:
            if self.places is not None:
                value = _rounded(value, self.places) if isinstance(value, Fraction) else \
                    self.steps.lift(round_decimal(value, self.places))
        self._values[name] = value
        return value

    def evaluate(self, formula):
        """A formula evaluated with this world's values of the steps it uses."""
        env = {self.steps[p].symbol: self.used(p) for p in self.steps.parents(formula)}
        return evaluate(formula, env)

    def environment(self, formula) -> dict:
        """The values a formula is evaluated with, by symbol."""
        return {self.steps[p].symbol: self.used(p) for p in self.steps.parents(formula)}


def _rounded(x: Fraction, places: int) -> Fraction:
    """``x`` rounded half away from zero to ``places`` decimals, as round_decimal does, kept a Fraction."""
    unit = 10 ** places
    q, r = divmod(abs(x.numerator) * unit, x.denominator)
    if 2 * r >= x.denominator:
        q += 1
    return Fraction(-q if x < 0 else q, unit)


class _TextPrinter(StrPrinter):
    """Plain-text formulas: step names as written, derivative names in parentheses, numbers optional."""

    def __init__(self, numbers: dict | None = None):
        super().__init__({"order": "none"})
        self.numbers = numbers or {}

    def _print_Symbol(self, expr):
        if expr in self.numbers:
            text = self.numbers[expr]
            return f"({text})" if text.startswith("-") else text
        name = expr.name
        return f"({name})" if "/" in name or "*" in name else name

    def _print_Piecewise(self, expr):
        (piece, condition), (other, _) = expr.args[0], expr.args[-1]
        if piece.is_Symbol and other == 0:
            return f"max(0, {self._print(piece)})"
        return f"({self._print(piece)} if {self._print(condition)}, else {self._print(other)})"


def formula_text(formula, numbers: dict | None = None) -> str:
    """A formula in plain text; ``numbers`` maps symbols to the text of the number put in."""
    return _TextPrinter(numbers).doprint(formula).replace("**", "^")


def names_in(steps, notation) -> dict:
    """Each step's name (a Name: text and LaTeX) in another notation, by its place in the network."""
    n = notation
    out = {}
    for step in steps:
        key = step.key
        kind = key[0]
        name = None
        if kind == "out":
            name = n.out(key[1], key[2], key[3])
        elif kind == "t":
            name = n.target(key[1], key[2])
        elif kind == "W":
            name = n.weight(*key[1:])
        elif kind == "b":
            name = n.bias(*key[1:])
        elif kind == "net":
            name = n.net(*key[1:])
        elif kind == "error":
            name = n.error(*key[1:])
        elif kind == "sample_loss":
            name = n.sample_loss(key[1])
        elif kind == "loss":
            name = n.loss()
        elif kind == "delta":
            name = n.delta(*key[1:])
        elif kind in ("dE_dout", "dout_dnet"):
            _, l, s, j = key
            top = n.sample_loss(s) if kind == "dE_dout" else n.out(l, s, j)
            bottom = n.out(l, s, j) if kind == "dE_dout" else n.net(l, s, j)
            name = n.derivative(top, bottom)
        elif kind == "path":
            _, l, s, j, k = key
            name = n.path(l, s, j, k)
        elif kind == "jacobian":
            _, l, s, k, j = key
            name = n.derivative(n.out(l, s, k), n.net(l, s, j))
        elif kind in ("dnet_dp", "contribution", "gradient", "updated"):
            p = key[1:5]
            pname = n.weight(p[1], p[2], p[3]) if p[0] == "W" else n.bias(p[1], p[2])
            if kind == "dnet_dp":
                name = n.derivative(n.net(p[1], key[5], p[2]), pname)
            elif kind == "contribution":
                name = n.derivative(n.sample_loss(key[5]), pname)
            elif kind == "gradient":
                name = n.derivative(n.loss(), pname)
            else:
                name = n.updated(pname)
        if name is not None:
            out[step.name] = name
    return out
