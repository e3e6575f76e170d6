"""A network is a circuit too: one neuron of a network as its circuit of gates, linked to the network's numbers.

The neuron's net input ``net = w1 i1 + w2 i2 + b`` and its output ``out = act(net)``
become a formula spec with the network's numbers (the first sample's inputs to the
layer); its circuit's values are the network's ``net`` and ``out``, and the gradient it
sends to each weight, ``dout/dw = dout/dnet * dnet/dw``, times the network's ``dE/dout``
is the network's ``dE/dw`` (for one sample; with several, that sample's share). The
link is computed, and checked: a disagreement is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.core import expressions
from derive.core.circuit_spec import CircuitSpec
from derive.core.numeric import is_exact, to_mp
from derive.core.steps import Steps
from derive.errors import DeriveError, suggestion


@dataclass(frozen=True)
class Link:
    """How the neuron's circuit and the network's worked solution name and value the same numbers."""

    unit: str  # h1
    layer: int
    net: str  # the net input's name, in both views
    out: str
    net_value: object
    out_value: object
    dE_dout: str | None  # the network's name of the gradient arriving at out (None: not in the network's steps)
    dE_dout_value: object
    parameters: tuple  # ((parameter name, network gradient name, network value), ...)
    batch: int


class NeuronMismatch(AssertionError):
    """The neuron's circuit disagrees with the network's worked solution: a bug in derive."""


def _units(steps: Steps) -> dict:
    """Every name a unit may be given by (h1, net_h1, out_h1, ...) -> (layer, index)."""
    spec, n = steps.spec, steps.notation
    found = {}
    for l in range(1, spec.layers + 1):
        for j in range(spec.sizes[l]):
            names = {n.unit(l, j).text, steps.by_key[("net", l, 0, j)].name, steps.by_key[("out", l, 0, j)].name,
                     f"{l}_{j + 1}", f"{l},{j + 1}"}
            for name in names:
                found.setdefault(name, (l, j))
    return found


def _formula_name(name: str, where: str) -> str:
    if not (name.isascii() and name.isidentifier()) or name in expressions.RESERVED:
        raise DeriveError(where, f"the network's name '{name}' cannot be a wire of a circuit")
    return name


def _number(value) -> sp.Expr:
    if is_exact(value):
        return sp.Rational(value.numerator, value.denominator)
    return sp.Float(str(to_mp(value)), 60)


def neuron(solution, unit: str | None = None) -> tuple[CircuitSpec, Link]:
    """The formula spec of one neuron of a solved network (default: the first unit of the first layer)."""
    steps = Steps(solution)
    spec = steps.spec
    units = _units(steps)
    if unit is None:
        l, j = 1, 0
    elif unit in units:
        l, j = units[unit]
    else:
        raise DeriveError("--unit", f"no unit '{unit}' in this network{suggestion(unit, list(units))}; units: "
                          + ", ".join(sorted({steps.notation.unit(*v).text for v in units.values()})))
    activation = spec.activations[l - 1]
    where = f"{spec.source}: network.activations"
    unit_name = steps.notation.unit(l, j).text
    if activation == "softmax":
        raise DeriveError(where, f"unit {unit_name} is a softmax unit: its output depends on every net input of its "
                          "layer, so it is not one neuron's circuit; choose a unit of another layer with --unit")
    key = lambda *k: steps.by_key[k].name
    net, out = _formula_name(key("net", l, 0, j), where), _formula_name(key("out", l, 0, j), where)
    terms, values = [], []
    for i in range(spec.sizes[l - 1]):
        w = _formula_name(key("W", l, j, i), where)
        x = _formula_name(key("out", l - 1, 0, i), where)
        terms.append(f"{w}*{x}")
        values += [(w, _number(steps.exact(w))), (x, _number(steps.exact(x)))]
    b = _formula_name(key("b", l, j), where)
    values.append((b, _number(steps.exact(b))))
    formulas = [(net, " + ".join(terms + [b]))]
    if activation.startswith("leaky_relu"):
        slope = activation.partition("(")[2].rstrip(")") or "0.01"
        formulas.append((out, f"max({net}, {slope}*{net})"))
    elif activation != "identity":
        formulas.append((out, f"{activation}({net})"))
    source = f"{spec.source}: {unit_name}"
    trees = tuple((name, text, expressions.tree(text, source, name)) for name, text in formulas)
    output = formulas[-1][0]
    circuit_spec = CircuitSpec(f"{spec.name}-circuit-{unit_name}", f"{spec.title}: unit {unit_name} as a circuit "
                               "of gates", source, trees, tuple(values), output, "whole")
    dE = ("dE_dout", l, 0, j)
    parameters = []
    for i in range(spec.sizes[l - 1]):
        parameters.append((key("W", l, j, i), _gradient(steps, ("W", l, j, i), spec.batch)))
    parameters.append((key("b", l, j), _gradient(steps, ("b", l, j, None), spec.batch)))
    link = Link(unit_name, l, net, out, steps.exact(net), steps.exact(out), key(*dE) if dE in steps.by_key else None,
                steps.exact(key(*dE)) if dE in steps.by_key else None,
                tuple((p, name, steps.exact(name) if name else None) for p, name in parameters), spec.batch)
    return circuit_spec, link


def _gradient(steps: Steps, parameter: tuple, batch: int) -> str | None:
    """The network's name of the loss's gradient for a parameter (the first sample's share with several)."""
    if batch == 1:
        return steps.by_key[("gradient", *parameter)].name
    key = ("contribution", *parameter, 0)
    return steps.by_key[key].name if key in steps.by_key else None


def check(circuit, link: Link) -> None:
    """The circuit's net and out are the network's, and its gradients times dE/dout the network's gradients."""
    for name, value in ((link.net, link.net_value), (link.out, link.out_value)):
        if not _close(circuit.values[name], value):
            raise NeuronMismatch(f"{name}: the circuit gives {circuit.values[name]}, the network {value}")
    for p, name, value in link.parameters:
        if name is None or link.dE_dout_value is None:
            continue
        mine = _product(circuit.gradients.get(p, 0), link.dE_dout_value)
        if not _close(mine, value):
            raise NeuronMismatch(f"{name}: the circuit gives {mine}, the network {value}")


def _product(a, b):
    if is_exact(a) and is_exact(b):
        return a * b
    return to_mp(a) * to_mp(b)


def _close(a, b) -> bool:
    if is_exact(a) and is_exact(b):
        return a == b
    return abs(to_mp(a) - to_mp(b)) <= to_mp(10) ** -40 * max(1, abs(to_mp(b)))
