"""One quantity of a circuit worked out: its formula, the numbers put in, its value (LaTeX rows and plain text).

The numbers are those of a sweep (:func:`derive.core.circuit_sweep.sweep`): the exact ones
for a check's right step, a hand calculation's rounded ones for a worksheet's key. A
value is ``q = x + y = -2 + 5 = 3``; a gradient sent back by a gate is its local gradient
and then local x upstream; a fan-out's gradient is the sum of its branches.
"""

from __future__ import annotations

from derive.core.circuit_sweep import BRANCH, VALUE, Quantity, branch_name
from derive.core.steps import formula_text
from derive.documents.circuit_document import _local_expr, _paren, _Printer, display_expression
from derive.documents.printing import shown


def _gate(circuit, index: int):
    return next(g for g in circuit.gates if g.index == index)


def _relation(p: _Printer, value, raw) -> str:
    """'=' when the printed value is the value computed, '\\approx' when it was rounded."""
    if raw is None:
        return p.rel(value)
    return "=" if raw == value else r"\approx"


def rows(circuit, q: Quantity, digits: int = 9, raw=None, local_raw=None, final: str | None = None) -> list:
    """The step of ``q`` as LaTeX rows (lhs, relation, rhs), with ``circuit``'s numbers.

    ``raw``: the value before the sheet's rounding (None: print the value as it is, rounded
    to ``digits`` when it must be); ``local_raw``: the same for the gate's local gradient;
    ``final``: the result as the sheet writes it (0.7310), in place of the printed value.
    """
    out = _rows(circuit, q, digits, raw, local_raw)
    if final is not None:
        out[-1] = (out[-1][0], out[-1][1], final)
    return out


def _rows(circuit, q: Quantity, digits: int, raw, local_raw) -> list:
    p = _Printer(circuit, digits)
    sym = circuit.symbols
    env = {sym[w]: circuit.values[w] for w in circuit.wires if w in circuit.values}
    top = circuit.output
    if q.kind == VALUE:
        gate = circuit.producer(q.wire)
        expr = display_expression(gate, *[sym[w] for w in gate.inputs])
        value = circuit.values[q.wire]
        out = [(p.wire(q.wire), "=", p.general(expr))]
        filled = p.numbers(expr, env)
        if filled.replace(" ", "") not in (out[0][2].replace(" ", ""), p.num(value).replace(" ", "")):
            out.append(("", "=", filled))
        out.append(("", _relation(p, value, raw), p.num(value)))
        return out
    if q.gate is None:  # the sum over the branches of a wire that fans out
        parts = circuit.contributions[q.wire]
        total = circuit.gradients[q.wire]
        terms = " + ".join(p.d(top, q.wire) + rf"\big|_{{\text{{gate {c.gate}}}}}" for c in parts)
        numbers = " + ".join(_paren(p.num(c.value)) for c in parts)
        return [(p.d(top, q.wire), "=", terms), ("", "=", numbers), ("", _relation(p, total, raw), p.num(total))]
    gate = _gate(circuit, q.gate)
    local = circuit.local[(gate.index, q.slot)]
    expr = _local_expr(circuit, gate, q.slot)
    general, filled, local_text = p.general(expr), p.numbers(expr, env), p.num(local)
    rhs = general
    if filled.replace(" ", "") not in (general.replace(" ", ""), local_text.replace(" ", "")):
        rhs += f" = {filled}"
    lhs = p.d(top, q.wire) + (rf"\big|_{{\text{{gate {gate.index}}}}}" if q.kind == BRANCH else "")
    value = next(c.value for c in circuit.contributions[q.wire] if c.gate == gate.index and c.slot == q.slot)
    if gate.output == top:  # the upstream gradient is 1: the local gradient is the gradient
        return [(lhs, "=", rhs), ("", _relation(p, value, raw), p.num(value))]
    if local_text.replace(" ", "") != general.replace(" ", ""):
        rhs += f" {_relation(p, local, local_raw)} {local_text}"
    upstream = circuit.gradients[gate.output]
    return [(p.d(gate.output, q.wire), "=", rhs),
            (lhs, "=", rf"{p.d(gate.output, q.wire)} \cdot {p.d(top, gate.output)}"),
            ("", "=", rf"{_paren(local_text)} \cdot {_paren(p.num(upstream))}"),
            ("", _relation(p, value, raw), p.num(value))]


def latex(circuit, q: Quantity, digits: int = 9) -> str:
    """The step on one line of LaTeX: ``lhs = ... = value`` (the local gradient first, then a semicolon)."""
    parts = rows(circuit, q, digits)
    lines, current = [], ""
    for lhs, rel, rhs in parts:
        if lhs and current:
            lines.append(current)
            current = ""
        current += (f"{lhs} {rel} {rhs}" if lhs else f" {rel} {rhs}")
    lines.append(current)
    return r", \quad ".join(lines)


def _text_number(value, digits: int) -> str:
    text = shown(value, digits).text
    return f"({text})" if text.startswith("-") else text


def text(circuit, q: Quantity, digits: int = 9) -> list[str]:
    """The step in plain text, one line per equation (the local gradient, then the gradient it sends)."""
    sym = circuit.symbols
    number = lambda v: shown(v, digits).text
    numbers = {sym[w]: _text_number(circuit.values[w], digits) for w in circuit.wires if w in circuit.values}
    top = circuit.output
    plain = lambda expr, nums=None: formula_text(expr, nums).replace("Max(", "max(").replace("Min(", "min(")
    if q.kind == VALUE:
        gate = circuit.producer(q.wire)
        expr = display_expression(gate, *[sym[w] for w in gate.inputs])
        line = f"{q.wire} = {plain(expr)}"
        for part in (plain(expr, numbers), number(circuit.values[q.wire])):
            if part.replace(" ", "") != line.rsplit(" = ", 1)[-1].replace(" ", ""):
                line += f" = {part}"
        return [line]
    if q.gate is None:
        parts = circuit.contributions[q.wire]
        names = " + ".join(branch_name(circuit, c.wire, c.gate, c.slot) for c in parts)
        values = " + ".join(_text_number(c.value, digits) for c in parts)
        return [f"{q.name} = {names} = {values} = {number(circuit.gradients[q.wire])}"]
    gate = _gate(circuit, q.gate)
    expr = _local_expr(circuit, gate, q.slot)
    local = circuit.local[(gate.index, q.slot)]
    local_name = f"d{gate.output}/d{q.wire}"
    line = f"{local_name} = {plain(expr)}"
    filled = plain(expr, numbers)
    if filled != plain(expr):
        line += f" = {filled}"
    if number(local) not in (plain(expr), filled):
        line += f" = {number(local)}"
    value = next(c.value for c in circuit.contributions[q.wire] if c.gate == gate.index and c.slot == q.slot)
    if gate.output == top:
        return [line] if q.kind != BRANCH else [line, f"{q.name} = {number(value)}"]
    upstream = circuit.gradients[gate.output]
    return [line, f"{q.name} = {local_name} * {circuit.gradient_name(gate.output)} = {_text_number(local, digits)} * "
            f"{_text_number(upstream, digits)} = {number(value)}"]


