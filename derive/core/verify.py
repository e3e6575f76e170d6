"""The oracle inside the pipeline: the chain rule checked independently of the backward sweep.

Shallow networks with a small batch (where it is cheap): for every parameter (or a
fixed spread-out sample of a large layer) the loss is composed as one SymPy
expression of that parameter, every other quantity put in as its exact number;
SymPy differentiates it directly and the value is compared with the chain rule's.
On small networks the check is also symbolic: the loss is composed in every
parameter, input and target, and the chain rule's general form, every
intermediate replaced by its definition, must equal SymPy's derivative at random
rational points; that proof is about the architecture, so it is made once per
process and architecture, and its direct derivatives, with this network's numbers
put in, are the numeric check's values. SymPy differentiates the composed loss in one
weight and one bias per layer; when swapping two units of a layer (or two inputs)
leaves the composed loss unchanged, as SymPy confirms, the derivative in another
parameter is that derivative with the units swapped (each is still compared with its
chain-rule expression).

Deep networks, wide ones and large batches would make that composition grow
without bound (exponentially in depth): they are checked layer by layer and in
forward mode instead (:mod:`derive.tangent`), linear in depth and batch size, and
the documents' verification sentence says which check ran.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.core import functions as fn
from derive.core import tangent
from derive.core.backprop import Pass, Rules
from derive.core.derivation import ChainRuleMismatch, _same
from derive.core.numeric import MP, _holds, evaluate, is_exact
from derive.core.spec import NetworkSpec

#: networks with at most this many parameters are checked symbolically as well
SYMBOLIC_LIMIT = 16
#: networks with at most this many parameters have every derivative checked numerically
FULL_LIMIT = 50
#: on larger networks, this many parameters per layer (weights and biases) are checked
SAMPLE_PER_LAYER = 12
#: the direct derivative of the composed loss is taken up to this depth, batch and size (beyond: tangent.py)
COMPOSED_LAYERS = 3
COMPOSED_BATCH = 8
COMPOSED_PARAMETERS = 1000


@dataclass(frozen=True)
class Verification:
    """What was checked against the direct derivative, and how."""

    checked: int  # parameters whose direct derivative was compared numerically
    total: int  # parameters in the network
    symbolic: int  # parameters whose chain-rule expression was proved equal to the direct derivative
    method: str  # a sentence for the documents


def sympy_number(x):
    """A value as a SymPy number: Rational when exact, a 60-digit Float otherwise."""
    if is_exact(x):
        x = Fraction(x)
        return sp.Rational(x.numerator, x.denominator)
    return sp.Float(x, 60)


def parameters(spec: NetworkSpec):
    """Every parameter as (kind, layer, unit, source)."""
    for l in range(1, spec.layers + 1):
        for j in range(spec.sizes[l]):
            for i in range(spec.sizes[l - 1]):
                yield ("W", l, j, i)
            yield ("b", l, j, None)


def chosen(spec: NetworkSpec, every_parameter: bool = False) -> list[tuple]:
    """All parameters of a small network; a fixed, spread-out sample of a large one."""
    every = list(parameters(spec))
    if every_parameter or len(every) <= FULL_LIMIT:
        return every
    picked = []
    rng = random.Random(20260101)  # fixed, so that the same spec is checked the same way every time
    for l in range(1, spec.layers + 1):
        layer = [p for p in every if p[1] == l]
        biases = [p for p in layer if p[0] == "b"]
        weights = [p for p in layer if p[0] == "W"]
        picked += [weights[0], weights[-1], biases[0]]
        picked += rng.sample(weights, min(len(weights), SAMPLE_PER_LAYER - 4)) + rng.sample(biases, 1)
    return sorted(set(picked), key=_position)


def _position(key):
    """Where a parameter comes in :func:`parameters`: layer, unit, its weights by source, then its bias."""
    kind, l, j, i = key
    return (l, j, 0, i) if kind == "W" else (l, j, 1, 0)


class Constants(dict):
    """Numbers entering an expression as named constants: SymPy differentiates structure, not 60-digit floats."""

    def __call__(self, value):
        symbol = sp.Symbol(f"c{len(self)}", real=True)
        self[symbol] = value
        return symbol


def composed_loss(spec: NetworkSpec, rules: Rules, run: Pass, free: dict, number=sympy_number, branch=True):
    """The loss as one SymPy expression; ``free`` maps (kind, l, j, i) to the symbol left free.

    Quantities that do not depend on a free parameter are folded into numbers first
    and enter through ``number``: as a SymPy number, or as a named constant (see
    :class:`Constants`), so that the expression holds only what depends on the
    free parameters. With ``branch``, a piecewise activation is replaced by the
    branch that holds at the run's values (see :func:`at_point`).
    """
    L = spec.layers
    first = min(key[1] for key in free)
    targets = rules.lift(spec.targets)
    touched = {(key[1], key[2]) for key in free}  # (layer, unit) of every free parameter
    total = sp.Integer(0)
    for s in range(spec.batch):
        out = list(run.out[first - 1][s])  # a Python number, or a SymPy expression once it depends on p
        for l in range(first, L + 1):
            definition, _, cross = rules.activations[l]
            layer_out = []
            numeric_inputs = not any(isinstance(o, sp.Basic) for o in out)
            for j in range(spec.sizes[l]):
                if numeric_inputs and (l, j) not in touched:
                    # does not depend on a free parameter (a softmax output's numerator, if any other does)
                    layer_out.append(run.out[l][s][j] if cross is None else number(run.net[l][s][j]))
                    continue
                known = run.biases[l][j] if ("b", l, j, None) not in free else 0
                terms = [] if ("b", l, j, None) not in free else [free[("b", l, j, None)]]
                for i, o in enumerate(out):
                    w = free.get(("W", l, j, i))
                    if w is None and not isinstance(o, sp.Basic):
                        known = known + run.weights[l][j][i] * o
                    else:
                        w = number(run.weights[l][j][i]) if w is None else w
                        terms.append(w * (o if isinstance(o, sp.Basic) else number(o)))
                if not terms:
                    layer_out.append(run.out[l][s][j] if cross is None else number(run.net[l][s][j]))
                    continue
                net = sp.Add(*terms, number(known))
                if cross is not None:
                    layer_out.append(net)
                    continue
                chosen = at_point(definition, run.net[l][s][j]) if branch else definition
                layer_out.append(chosen.xreplace({fn.z: net}))
            if cross is not None:
                if numeric_inputs and not any((l, j) in touched for j in range(spec.sizes[l])):
                    layer_out = list(run.out[l][s])
                else:
                    # softmax: every output is its numerator over the sum of all the layer's numerators
                    numerators = [definition.xreplace({fn.z: z}) for z in layer_out]
                    layer_out = [n / sp.Add(*numerators) for n in numerators]
            out = layer_out
        for k in range(spec.sizes[-1]):
            o = out[k] if isinstance(out[k], sp.Basic) else number(out[k])
            total += rules.loss_term.xreplace({fn.a: o, fn.t: number(targets[s][k])})
    weight = rules.batch_weight
    return sp.Rational(weight.numerator, weight.denominator) * total


def at_point(definition: sp.Expr, value) -> sp.Expr:
    """The branch of a piecewise definition (ReLU) that holds at this net input.

    The derivative at a point is the derivative of the branch that holds around it;
    at a kink (net exactly 0) the branch ``z > 0`` does not hold, which gives the
    derivative 0 there, PyTorch's convention.
    """
    if not isinstance(definition, sp.Piecewise):
        return definition
    for piece, condition in definition.args:
        if _holds(condition, {fn.z: value}):
            return piece
    raise ValueError(f"no branch of {definition} holds at {value}")


def direct_derivative(spec, rules, run, key):
    """SymPy's derivative of the composed loss with respect to one parameter, at its value."""
    p = sp.Symbol("p", real=True)
    kind, l, j, i = key
    constants = Constants()
    loss = composed_loss(spec, rules, run, {key: p}, constants)
    constants[p] = run.weights[l][j][i] if kind == "W" else run.biases[l][j]
    return evaluate(sp.diff(loss, p), constants)


def composed_is_cheap(spec: NetworkSpec) -> bool:
    """True when composing the loss as one SymPy expression per parameter is cheap (shallow, small batch)."""
    return spec.layers <= COMPOSED_LAYERS and spec.batch <= COMPOSED_BATCH and spec.parameter_count <= COMPOSED_PARAMETERS


def check(spec: NetworkSpec, rules: Rules, run: Pass, derivation=None, every_parameter: bool = False) -> Verification:
    """Check the backward sweep independently; raise ChainRuleMismatch on any difference.

    Shallow networks with a small batch: each parameter's derivative against
    SymPy's direct derivative of the composed loss (every parameter of a small
    network, a fixed sample of a large one unless ``every_parameter``), and, with
    a ``derivation`` and at most SYMBOLIC_LIMIT parameters, the chain rule's
    general form proved equal to the direct derivative once per architecture.
    Deep or wide networks and large batches: the layer-by-layer check of
    :mod:`derive.tangent` (local derivatives against SymPy's, then forward mode),
    whose cost grows linearly with depth and batch size.
    """
    if not composed_is_cheap(spec):
        return check_layered(spec, rules, run, every_parameter)
    keys = chosen(spec, every_parameter)
    symbolic, directs = 0, {}
    if derivation is not None and spec.parameter_count <= SYMBOLIC_LIMIT:
        # the proof's direct derivatives are functions of every number: put this network's in
        symbolic, directs = check_symbolic(spec, rules, run, derivation)
    for key in keys:
        kind, l, j, i = key
        chain = run.grad_W[l][j][i] if kind == "W" else run.grad_b[l][j]
        direct = directs[key] if key in directs else direct_derivative(spec, rules, run, key)
        if not _same(chain, direct):
            raise ChainRuleMismatch(f"{kind}{l}[{j}][{i}]: chain rule {chain} != direct derivative {direct}")
    total = spec.parameter_count
    if len(keys) == total:
        method = f"all {total} derivatives agree with SymPy's direct derivative of the composed loss"
    else:
        method = (f"{len(keys)} of the {total} derivatives (a fixed sample from every layer) agree with "
                  "SymPy's direct derivative of the composed loss")
    if symbolic:
        method += "; as functions of all parameters, the chain-rule expressions equal the direct derivatives"
    return Verification(len(keys), total, symbolic, method)


def layered_sample(spec: NetworkSpec, every_parameter: bool = False) -> list[tuple]:
    """The parameters followed one by one in forward mode: all of a small network, else a few per layer."""
    every = list(parameters(spec))
    if every_parameter or len(every) <= FULL_LIMIT:
        return every
    rng = random.Random(20260101)
    picked = []
    for l in range(1, spec.layers + 1):
        weights = [("W", l, j, i) for j in range(spec.sizes[l]) for i in range(spec.sizes[l - 1])]
        picked += [weights[0], weights[-1], ("b", l, 0, None), rng.choice(weights)]
    return sorted(set(picked), key=_position)


def check_layered(spec: NetworkSpec, rules: Rules, run: Pass, every_parameter: bool = False) -> Verification:
    """Local derivatives of every layer against SymPy's, then forward-mode derivatives against the sweep."""
    backend = tangent.backend(rules)  # shared: each weight matrix converted once
    tangent.check_locals(spec, rules, run, backend)
    keys = layered_sample(spec, every_parameter)
    dirs = tangent.directions(spec)
    tangent.check_forward(spec, rules, run, keys, dirs, backend)
    total, L = spec.parameter_count, spec.layers
    which = (f"all {total} parameters" if len(keys) == total
             else f"{len(keys)} of the {total} parameters (a fixed sample from every layer)")
    method = (f"checked layer by layer: every net input, output and local derivative of the {L} layers equals "
              f"its definition and SymPy's derivative of it at the point, and derivatives pushed forward "
              f"(forward mode) from {which} and along {len(dirs)} random directions (through all parameters, and "
              "through each layer's) "
              "agree with the backward sweep; the loss was not composed symbolically across the layers")
    return Verification(len(keys), total, 0, method)


#: architectures whose chain-rule expressions were proved equal to the direct derivatives (this process)
_PROVED: dict = {}


def architecture(spec: NetworkSpec) -> tuple:
    """What the symbolic proof depends on: the numbers are symbols in it."""
    return (spec.sizes, spec.activations, spec.loss, spec.batch)


def check_symbolic(spec, rules, run, derivation) -> tuple[int, dict]:
    """Prove each chain-rule expression equal to the direct derivative of the fully composed loss.

    The proof is about the architecture: parameters, inputs and targets are all
    symbols, so it is made once per architecture and process (40 worksheet
    versions of one network, or many steps, reuse it). Returns the number of
    parameters proved and each one's direct derivative evaluated at this run's numbers.
    """
    key = architecture(spec)
    if key not in _PROVED:
        _PROVED[key] = prove_structure(spec, rules, derivation.graph)
    directs, index = _PROVED[key]
    targets = rules.lift(spec.targets)
    env = _Numbers(index, run, targets)
    memo: dict = {}
    return len(directs), {k: evaluate(expr, env, memo) for k, expr in directs.items()}


class _Numbers(dict):
    """A symbol of the proof's graph mapped to its number in one run (looked up on first use)."""

    def __init__(self, index, run, targets):
        super().__init__()
        self.index, self.run, self.targets = index, run, targets

    def __missing__(self, symbol):
        kind, *at = self.index[symbol]
        r = self.run
        value = (r.weights[at[0]][at[1]][at[2]] if kind == "W" else r.biases[at[0]][at[1]] if kind == "b"
                 else r.out[0][at[1]][at[2]] if kind == "out" else self.targets[at[0]][at[1]])
        self[symbol] = value
        return value


def prove_structure(spec, rules, graph) -> tuple[dict, dict]:
    """Compare, at random points of every symbol, each chain-rule expression with the direct derivative.

    Returns each parameter's direct derivative (an expression in every parameter,
    input and target) and where each of its symbols' values lives (the graph's index).
    """
    keys = list(parameters(spec))
    symbols = {key: (graph.W(key[1], key[2], key[3]) if key[0] == "W" else graph.b(key[1], key[2])) for key in keys}
    compose = _Composer(spec, rules, None, graph, symbols)
    L = spec.layers
    total = sp.Add(*(
        rules.loss_term.xreplace({fn.a: compose(graph.out(L, s, k)), fn.t: graph.t(s, k)})
        for s in range(spec.batch) for k in range(spec.sizes[-1])
    ))
    weight = rules.batch_weight
    loss = sp.Rational(weight.numerator, weight.denominator) * total
    swaps = _unit_swaps(spec, graph)
    symmetric = all(loss.xreplace(swap) == loss for swaps_of_layer in swaps for swap in swaps_of_layer[1:])
    representatives = {}
    pairs = []
    for key in keys:
        kind, l, j, i = key
        parameter = symbols[key]
        chain = graph.batch_weight * sp.Add(*(
            graph.delta(l, s, j) * graph.dnet_dparent(l, s, j, parameter, i if kind == "W" else None)
            for s in range(spec.batch)
        ))
        if symmetric:
            # the loss is unchanged by swapping two units of a layer (with their weights) or two inputs, so
            # the derivative in W[l][j][i] is the one in W[l][0][0] with units 0, j of layer l and 0, i of
            # layer l - 1 swapped: SymPy differentiates one weight and one bias per layer
            first = (kind, l, 0, 0 if kind == "W" else None)
            if first not in representatives:
                representatives[first] = sp.diff(loss, symbols[first])
            swap = _composed(swaps[l][j], swaps[l - 1][i] if kind == "W" else {})
            direct = representatives[first].xreplace(swap) if swap else representatives[first]
        else:
            direct = sp.diff(loss, parameter)
        pairs.append((key, compose(chain), direct))
    free = set(symbols.values()) | {graph.out(0, s, i) for s in range(spec.batch) for i in range(spec.sizes[0])}
    targets = {graph.t(s, k) for s in range(spec.batch) for k in range(spec.sizes[-1])}
    rng = random.Random(7)
    # Two expressions built from exp, log and rational operations that agree at random points
    # are the same function (with probability 1); cancel() would take minutes on sigmoid nets.
    for _ in range(2):
        point = {s: Fraction(rng.randint(-999, 999), 1000) for s in sorted(free, key=str)}
        point.update({t: Fraction(rng.randint(1, 999), 1000) for t in sorted(targets, key=str)})
        memo: dict = {}
        for key, chain, direct in pairs:
            a, b = evaluate(chain, point, memo), evaluate(direct, point, memo)
            if not _same(a, b):
                raise ChainRuleMismatch(f"{key[0]}{key[1]}[{key[2]}][{key[3]}]: chain rule and direct derivative differ")
    return {key: direct for key, _, direct in pairs}, dict(graph.index)


def _unit_swaps(spec, graph) -> list[list[dict]]:
    """For every layer l and unit j, the symbols swapped when units 0 and j of layer l trade places.

    A unit of a hidden or output layer takes its weights, its bias and its outgoing weights along
    (an output unit its targets); an input takes its values in every sample and its weights. Swaps
    of different layers touch different symbols, so they commute. Entry 0 of each layer is empty.
    """
    L, B = spec.layers, spec.batch
    swaps = []
    for l in range(L + 1):
        layer = [{}]
        for j in range(1, spec.sizes[l]):
            pairs = []
            if l == 0:
                pairs += [(graph.out(0, s, 0), graph.out(0, s, j)) for s in range(B)]
            else:
                pairs += [(graph.W(l, 0, i), graph.W(l, j, i)) for i in range(spec.sizes[l - 1])]
                pairs.append((graph.b(l, 0), graph.b(l, j)))
            if l < L:
                pairs += [(graph.W(l + 1, k, 0), graph.W(l + 1, k, j)) for k in range(spec.sizes[l + 1])]
            else:
                pairs += [(graph.t(s, 0), graph.t(s, j)) for s in range(B)]
            layer.append({**dict(pairs), **{y: x for x, y in pairs}})
        swaps.append(layer)
    return swaps


def _composed(outer: dict, inner: dict) -> dict:
    """The permutation of symbols ``outer`` after ``inner`` (each a dict; a symbol not in it stays)."""
    return {x: outer.get(inner.get(x, x), inner.get(x, x)) for x in {**outer, **inner}}


class _Composer:
    """Replaces every intermediate symbol by its definition, down to parameters and numbers."""

    def __init__(self, spec, rules, run, graph, parameters):
        self.spec, self.rules, self.run, self.graph = spec, rules, run, graph
        self.parameter_symbols = set(parameters.values())
        self.memo = {}

    def __call__(self, expr):
        return expr.xreplace({s: self.symbol(s) for s in expr.free_symbols})

    def symbol(self, s):
        if s in self.parameter_symbols:
            return s
        if s in self.memo:
            return self.memo[s]
        g = self.graph
        kind, *at = g.index[s]
        if kind in ("out", "t") and (kind == "t" or at[0] == 0):
            value = s  # inputs and targets stay symbols: the proof holds for any numbers
        elif kind == "net":
            l, smp, j = at
            value = self(sp.Add(*g.net_terms(l, smp, j)))
        elif kind == "out":
            value = self(g.out_definition(*at))
        elif kind == "delta":
            unit = _delta_expression(g, self.spec, *at)
            value = self(unit)
        else:
            raise KeyError(s)
        self.memo[s] = value
        return value


def _delta_expression(g, spec, l, s, j):
    """delta as its chain-rule product, one level down: dE/dout * dout/dnet."""
    L = spec.layers
    if g.activation(l).coupled:
        return sp.Add(*(g.dloss_dout(s, k) * g.dout_dnet(l, s, j, k) for k in range(spec.sizes[l])))
    if l == L:
        upstream = g.dloss_dout(s, j)
    else:
        upstream = sp.Add(*(
            g.delta(l + 1, s, k) * g.dnet_dparent(l + 1, s, k, g.out(l, s, j), j)
            for k in range(spec.sizes[l + 1])
        ))
    return upstream * g.dout_dnet(l, s, j)


__all__ = ["Verification", "check", "direct_derivative", "MP"]
