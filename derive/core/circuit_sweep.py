"""A solved circuit's quantities by name, and the sweeps that recompute them another way.

The quantities a student writes on a circuit: each gate's value (``q``), the gradient of
the output on each wire (``df/dq``), and where a wire fans out, the gradient coming back
along each branch (``df/dx|gate2``) besides their sum (``df/dx``). The inputs' values and
``df/df = 1`` are given.

:func:`sweep` runs the forward and backward sweeps again: rounding every result to some
decimals and reusing it (a hand calculation, the worksheet's key), with a student's own
numbers put in where they wrote one (follow-through), or with a mistake (an object that
changes a local gradient, the product with the upstream gradient, or a fan-out sum;
:mod:`derive.grading.circuits` defines the named ones).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from derive.core.circuit import Circuit, Contribution, _binary, _number, _Undefined, forward_value, local_values
from derive.core.numeric import round_decimal

VALUE, GRADIENT, BRANCH = "value", "gradient", "branch"


@dataclass(frozen=True)
class Quantity:
    """One number of the circuit: a wire's value, the output's gradient on a wire, or on one branch of it."""

    name: str
    kind: str  # value | gradient | branch
    wire: str
    gate: int | None = None  # a branch: the gate it comes back from; a value: the gate that computes it
    slot: int | None = None
    given: bool = False

    @property
    def stage(self) -> str:
        return "forward" if self.kind == VALUE else "backward"


def fans_out(circuit: Circuit, wire: str) -> bool:
    """True when the wire's gradient is a sum over several branches."""
    return len(circuit.contributions.get(wire, ())) > 1


def branch_name(circuit: Circuit, wire: str, gate: int, slot: int) -> str:
    """``df/dx|gate2``; ``df/dx|gate2:1`` when the gate takes the wire twice (x * x)."""
    name = f"{circuit.gradient_name(wire)}|gate{gate}"
    twice = sum(1 for w in next(g for g in circuit.gates if g.index == gate).inputs if w == wire) > 1
    return f"{name}:{slot + 1}" if twice else name


def sent_name(circuit: Circuit, wire: str, gate: int, slot: int) -> str:
    """The quantity the gate's gradient along one input goes into: a branch, or the wire's gradient itself."""
    return branch_name(circuit, wire, gate, slot) if fans_out(circuit, wire) else circuit.gradient_name(wire)


def quantities(circuit: Circuit) -> list[Quantity]:
    """Every quantity in reading order: the values forward, then the gradients as the backward sweep makes them."""
    out = [Quantity(w, VALUE, w, given=True) for w in circuit.inputs]
    out += [Quantity(g.output, VALUE, g.output, g.index) for g in circuit.gates]
    top = circuit.output
    out.append(Quantity(circuit.gradient_name(top), GRADIENT, top, given=True))
    for gate in reversed(circuit.gates):
        if gate.output not in circuit.gradients:
            continue
        if gate.output != top and fans_out(circuit, gate.output):
            out.append(Quantity(circuit.gradient_name(gate.output), GRADIENT, gate.output))
        for slot, wire in enumerate(gate.inputs):
            if fans_out(circuit, wire):
                out.append(Quantity(branch_name(circuit, wire, gate.index, slot), BRANCH, wire, gate.index, slot))
            else:
                out.append(Quantity(circuit.gradient_name(wire), GRADIENT, wire, gate.index, slot))
    out += [Quantity(circuit.gradient_name(w), GRADIENT, w) for w in circuit.inputs if fans_out(circuit, w)]
    return out


def parents(circuit: Circuit, q: Quantity) -> tuple[str, ...]:
    """The quantities a quantity is computed from (a local gradient may read every wire of its gate)."""
    if q.given:
        return ()
    if q.kind == VALUE:
        return tuple(dict.fromkeys(circuit.producer(q.wire).inputs))
    if q.gate is None:  # a sum over branches
        return tuple(branch_name(circuit, c.wire, c.gate, c.slot) for c in circuit.contributions[q.wire])
    gate = next(g for g in circuit.gates if g.index == q.gate)
    return tuple(dict.fromkeys((circuit.gradient_name(gate.output), *gate.inputs, gate.output)))


def exact_values(circuit: Circuit) -> dict:
    """Every quantity's exact value by name."""
    values = dict(circuit.values)
    values.update({circuit.gradient_name(w): g for w, g in circuit.gradients.items()})
    for parts in circuit.contributions.values():
        for c in parts:
            values[sent_name(circuit, c.wire, c.gate, c.slot)] = c.value
    return values


@dataclass(frozen=True)
class World:
    """The numbers of one recomputation."""

    computed: dict  # name -> the value this sweep computes for it (rounded when the sweep rounds)
    raw: dict  # name -> the same before its own rounding
    used: dict  # name -> the number later steps use (the student's where they wrote one)
    local: dict  # (gate, slot) -> the local gradient used (rounded when the sweep rounds)
    local_raw: dict
    changed: frozenset  # quantities whose own step the mistake changes (on this sweep's numbers)
    circuit: Circuit  # the circuit with this sweep's numbers, for printing its steps


class Undefined(ValueError):
    """A recomputation meets an undefined value (a student's 0 where the sweep divides)."""


def _mul(a, b):
    return _binary(lambda x, y: x * y, a, b)


def _sum(values):
    values = list(values)
    total = values[0]
    for v in values[1:]:
        total = _binary(lambda x, y: x + y, total, v)
    return total


def _differs(a, b) -> bool:
    return _binary(lambda x, y: x != y, a, b)


def sweep(circuit: Circuit, places: int | None = None, written: dict | None = None, mistake=None) -> World:
    """Recompute every quantity: rounding each result to ``places`` decimals (None: exact) and reusing it,
    using ``written`` numbers (name -> value) where given, and making ``mistake`` (None: none).

    Raises :class:`Undefined` when the numbers leave a gate without a value or a derivative.
    """
    written = written or {}
    rnd = (lambda v: v) if places is None else (lambda v: Fraction(round_decimal(v, places)))
    computed, raw, used, local, local_raw, changed = {}, {}, {}, {}, {}, set()
    constants = {g.index: None if g.constant is None else _number(g.constant) for g in circuit.gates}

    def settle(name, value):
        raw[name] = value
        computed[name] = rnd(value)
        used[name] = written.get(name, computed[name])
        return used[name]

    for w in circuit.inputs:
        used[w] = circuit.values[w]
    try:
        for gate in circuit.gates:
            ins = [used[w] for w in gate.inputs]
            settle(gate.output, forward_value(gate, *ins, *([None] * (2 - len(ins))), constants[gate.index]))
        top = circuit.output
        used[circuit.gradient_name(top)] = Fraction(1)
        for gate in reversed(circuit.gates):
            o = gate.output
            if o not in circuit.gradients:
                continue
            if o != top and fans_out(circuit, o):
                _total(circuit, o, used, settle, mistake, changed)
            upstream = used[circuit.gradient_name(o)]
            ins = [used[w] for w in gate.inputs]
            args = (*ins, *([None] * (2 - len(ins))), constants[gate.index], used[o])
            right = local_values(gate, *args)
            for slot, wire in enumerate(gate.inputs):
                name = sent_name(circuit, wire, gate.index, slot)
                lg = right[slot]
                other = mistake.local(gate, slot, args, right) if mistake else None
                if other is not None and _differs(other, lg):
                    changed.add(name)
                    lg = other
                local_raw[(gate.index, slot)] = lg
                lg = local[(gate.index, slot)] = rnd(lg)
                value = _mul(lg, upstream)
                if mistake and mistake.drops_upstream(gate, slot) and o != top:
                    if _differs(lg, value):
                        changed.add(name)
                    value = lg
                settle(name, value)
        for w in circuit.inputs:
            if fans_out(circuit, w):
                _total(circuit, w, used, settle, mistake, changed)
    except _Undefined as why:
        raise Undefined(str(why)) from None
    return World(computed, raw, used, local, local_raw, frozenset(changed), _printed(circuit, used, local))


def _total(circuit, wire, used, settle, mistake, changed) -> None:
    """The sum of the gradients coming back along a wire's branches (or what the mistake takes instead)."""
    names = [branch_name(circuit, c.wire, c.gate, c.slot) for c in circuit.contributions[wire]]
    parts = [used[n] for n in names]
    value = _sum(parts)
    other = mistake.total(wire, names, parts) if mistake else None
    name = circuit.gradient_name(wire)
    if other is not None and _differs(other, value):
        changed.add(name)
        value = other
    settle(name, value)


def _printed(circuit: Circuit, used: dict, local: dict) -> Circuit:
    """The circuit with a sweep's numbers in place of the exact ones (its steps print these numbers)."""
    values = {w: used[w] for w in circuit.wires if w in used}
    gradients = {w: used[circuit.gradient_name(w)] for w in circuit.gradients}
    contributions = {}
    for wire, parts in circuit.contributions.items():
        contributions[wire] = tuple(
            Contribution(c.gate, c.slot, c.wire, local[(c.gate, c.slot)], gradients[_output_of(circuit, c.gate)],
                         used[sent_name(circuit, c.wire, c.gate, c.slot)]) for c in parts)
    return replace(circuit, values=values, gradients=gradients, contributions=contributions, local=dict(local))


def _output_of(circuit: Circuit, gate: int) -> str:
    return next(g.output for g in circuit.gates if g.index == gate)
