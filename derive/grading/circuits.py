"""Check a student's numbers on a circuit, wire by wire, and name the mistake behind a wrong one.

Answers are ``name = number`` pairs by the circuit's names: a wire's value (``q = 3``), the
gradient of the output on a wire (``"df/dx" = -4``; also ``dx``, ``grad_x``, ``x.grad``,
``∂f/∂x``) and where a wire fans out, one branch's (``"df/dx|gate2" = -2``). The verdicts
follow the network check's rule (:mod:`derive.grading.rounding`): right to the decimals
written, allowing the rounding of a careful hand calculation; consistent when computed
rightly from the student's own earlier wrong number (one slip counts once); otherwise wrong.

A wrong answer is explained by the mistakes students make on circuits, each a change of
the backward sweep (:func:`derive.core.circuit_sweep.sweep`) that recomputes every number
with it: the multiply gate's local gradient taken from its own input instead of the other,
a fan-out's gradient taken from one branch instead of the sum, a max gate's gradient sent to
both inputs, the local gradient of 1/x, exp or sigmoid wrong, the upstream gradient not
multiplied. A mistake is named when its sweep reproduces the number; the report shows
where it enters and the right step there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from derive.core import circuit as engine
from derive.core.circuit import _binary
from derive.core.circuit_sweep import (BRANCH, VALUE, Undefined, exact_values,
                                       parents, quantities, sweep)
from derive.core.circuit_versions import load as load_circuit
from derive.core.numeric import to_float
from derive.documents import circuit_steps
from derive.documents.printing import shown
from derive.errors import DeriveError
from derive.formats import escape
from derive.grading import report
from derive.grading.answers import (Answer, _add, _number, normal,
                                    read_document, read_text)
from derive.grading.check import Checked
from derive.grading.report import CONSISTENT, RIGHT, WRONG, Diagnosis, Result
from derive.grading.rounding import (agrees, hand_places, tolerance,
                                     written_places)
from derive.io.export import dumps

DIGITS = 9


def _num(x) -> str:
    return shown(x, DIGITS).text


def _short(x) -> str:
    return shown(x, 6).text


def _mul(a, b):
    return _binary(lambda x, y: x * y, a, b)


# ---------------------------------------------------------------- the mistakes

@dataclass(frozen=True)
class Mistake:
    """One mistake: its kind, the gate it is made at (None: every gate of its kind), and a detail.

    ``which`` says how a local gradient goes wrong (``sign``, ``square``, ``input``, ...) or,
    for a fan-out, the branch taken instead of the sum; ``wire`` is the wire that fans out.
    """

    kind: str
    gate: int | None = None
    which: str | None = None
    wire: str | None = None

    def _here(self, gate) -> bool:
        return gate.kind in KINDS[self.kind].gates and (self.gate is None or self.gate == gate.index)

    def local(self, gate, slot, args, right):
        """The local gradient this mistake uses, or None where it leaves the gate alone."""
        if not self._here(gate) or KINDS[self.kind].local is None:
            return None
        return KINDS[self.kind].local(self, gate, slot, args, right)

    def drops_upstream(self, gate, slot) -> bool:
        return self.kind == "upstream_not_multiplied" and (self.gate is None or self.gate == gate.index)

    def total(self, wire, names, parts):
        if self.kind != "fanout_not_summed" or wire != self.wire:
            return None
        return parts[names.index(self.which)]

    def title(self, circuit) -> str:
        text = KINDS[self.kind].title(self)
        if self.gate is not None:
            text = text[:-1] + f", gate {self.gate})" if text.endswith(")") else text + f" (gate {self.gate})"
        return text

    def explain(self, circuit, entry) -> str:
        """The sentence that tells the student what went wrong where it enters, with the right numbers."""
        return KINDS[self.kind].explain(self, circuit, entry)


@dataclass(frozen=True)
class Kind:
    id: str
    gates: tuple  # the gate kinds it is made at (empty: not about one kind of gate)
    title: Callable  # (mistake) -> str
    variants: Callable  # (circuit) -> list of Mistake
    explain: Callable  # (mistake, circuit, entry quantity) -> str
    local: Callable | None = None  # (mistake, gate, slot, (a, b, c, out), right locals) -> the wrong local gradient


def _per_gate(kind: str, kinds: tuple, details=(None,)) -> Callable:
    """Variants: the mistake at every gate of these kinds at once, then at each alone, for each detail."""

    def variants(circuit):
        at = [g.index for g in circuit.gates if g.kind in kinds and g.output in circuit.gradients]
        found = []
        for which in details:
            if len(at) > 1:
                found.append(Mistake(kind, None, which))
            found += [Mistake(kind, g, which) for g in at]
        return found

    return variants


def _gate(circuit, index):
    return next(g for g in circuit.gates if g.index == index)


def _gates_of(m: Mistake, circuit, entry) -> object:
    return _gate(circuit, entry.gate if entry.gate is not None else m.gate)


def _mul_explain(m, circuit, entry) -> str:
    gate = _gates_of(m, circuit, entry)
    own, other = gate.inputs[entry.slot], gate.inputs[1 - entry.slot]
    return (f"Gate {gate.index} multiplies {gate.inputs[0]} by {gate.inputs[1]}, so its local gradient for {own} is the "
            f"other input, {other} = {_short(circuit.values[other])}, not {own} itself "
            f"({_short(circuit.values[own])}): the multiply gate swaps its inputs.")


def _fanout_variants(circuit) -> list:
    found = []
    for wire, parts in circuit.contributions.items():
        if len(parts) > 1:
            found += [Mistake("fanout_not_summed", None, f"{circuit.gradient_name(wire)}|gate{c.gate}"
                              + ("" if sum(1 for x in _gate(circuit, c.gate).inputs if x == wire) < 2 else f":{c.slot + 1}"),
                              wire) for c in parts]
    return found


def _fanout_explain(m, circuit, entry) -> str:
    parts = circuit.contributions[m.wire]
    numbers = " + ".join(f"({_short(c.value)})" if c.value < 0 else _short(c.value) for c in parts)
    gates = " and ".join(str(c.gate) for c in parts)
    return (f"{m.wire} goes into gates {gates}, so its gradient is the sum of the gradients coming back along every "
            f"branch: {numbers} = {_short(circuit.gradients[m.wire])}; taking the branch from gate "
            f"{m.which.split('gate')[1].split(':')[0]} alone leaves the others out.")


def _max_local(m, gate, slot, args, right):
    return Fraction(1)


def _max_explain(m, circuit, entry) -> str:
    gate = _gates_of(m, circuit, entry)
    ins = [circuit.values[w] for w in gate.inputs]
    word = "larger" if gate.kind.startswith("max") else "smaller"
    routed = [w for k, w in enumerate(gate.inputs) if circuit.local[(gate.index, k)] != 0]
    return (f"The {gate.kind[:3]} gate (gate {gate.index}) routes the gradient to the {word} input only"
            + (f" ({routed[0]} = {_short(ins[gate.inputs.index(routed[0])])})" if len(routed) == 1 else "")
            + "; the other input receives 0. It does not send the upstream gradient to both inputs.")


_RECIP_WRONG = {"sign": "c/x^2 (the minus sign dropped)", "square": "-c/x (the square dropped)",
                "output": "c/x, the gate's own output"}


def _recip_local(m, gate, slot, args, right):
    a, _, c, out = args
    if m.which == "sign":
        return -right[0]
    if m.which == "square":
        return _mul(right[0], a)  # -c/a^2 * a = -c/a
    return out


def _recip_explain(m, circuit, entry) -> str:
    gate = _gates_of(m, circuit, entry)
    a = circuit.values[gate.inputs[0]]
    c = shown(gate.constant, 6).text
    return (f"The local gradient of the gate {c}/x is -{c}/x^2: at x = {gate.inputs[0]} = {_short(a)} it is "
            f"{_short(circuit.local[(gate.index, 0)])}, not {_RECIP_WRONG[m.which].replace('c/', c + '/')}.")


_EXP_WRONG = {"input": "its input", "one": "1"}


def _exp_local(m, gate, slot, args, right):
    return args[0] if m.which == "input" else Fraction(1)


def _exp_explain(m, circuit, entry) -> str:
    gate = _gates_of(m, circuit, entry)
    u = gate.inputs[0]
    return (f"The local gradient of e^x is e^x itself, the exp gate's own output {gate.output} = "
            f"{_short(circuit.values[gate.output])}, not {_EXP_WRONG[m.which]}"
            + (f" ({u} = {_short(circuit.values[u])})" if m.which == "input" else "") + ".")


_SIGMOID_WRONG = {"output": "sigma itself", "one_minus": "1 - sigma"}


def _sigmoid_local(m, gate, slot, args, right):
    out = args[3]
    return out if m.which == "output" else _binary(lambda x, y: x - y, Fraction(1), out)


def _sigmoid_explain(m, circuit, entry) -> str:
    gate = _gates_of(m, circuit, entry)
    s = circuit.values[gate.output]
    return (f"The local gradient of the sigmoid gate is sigma (1 - sigma) = {_short(s)} (1 - {_short(s)}) = "
            f"{_short(circuit.local[(gate.index, 0)])}, not {_SIGMOID_WRONG[m.which]}.")


def _upstream_explain(m, circuit, entry) -> str:
    gate = _gates_of(m, circuit, entry)
    local = circuit.local[(gate.index, entry.slot)]
    up = circuit.gradients[gate.output]
    sent = _mul(local, up)
    return (f"Gate {gate.index} sends back its local gradient times the upstream gradient: "
            f"d{gate.output}/d{entry.wire} * {circuit.gradient_name(gate.output)} = {_short(local)} * ({_short(up)}) = "
            f"{_short(sent)}; the local gradient alone ({_short(local)}) leaves out the upstream gradient.")


def _upstream_variants(circuit) -> list:
    at = [g.index for g in circuit.gates if g.output in circuit.gradients and g.output != circuit.output]
    return ([Mistake("upstream_not_multiplied")] if len(at) > 1 else []) + [
        Mistake("upstream_not_multiplied", g) for g in at]


def _mul_local(m, gate, slot, args, right):
    return args[slot]


#: every named mistake, one entry each
KINDS = {k.id: k for k in (
    Kind("mul_own_input", ("mul",), lambda m: "multiply gate's gradient taken from its own input",
         _per_gate("mul_own_input", ("mul",)), _mul_explain, _mul_local),
    Kind("fanout_not_summed", (), lambda m: f"fan-out gradients not summed ({m.wire})", _fanout_variants,
         _fanout_explain),
    Kind("max_both", ("max", "min", "maxc", "minc"), lambda m: "max gate's gradient sent to both inputs",
         _per_gate("max_both", ("max", "min", "maxc", "minc")), _max_explain, _max_local),
    Kind("recip_local", ("recip",), lambda m: f"local gradient of 1/x wrong ({_RECIP_WRONG[m.which].split(' (')[0]})",
         _per_gate("recip_local", ("recip",), tuple(_RECIP_WRONG)), _recip_explain, _recip_local),
    Kind("exp_local", ("exp",), lambda m: f"local gradient of exp wrong ({_EXP_WRONG[m.which]})",
         _per_gate("exp_local", ("exp",), tuple(_EXP_WRONG)), _exp_explain, _exp_local),
    Kind("sigmoid_local", ("sigmoid",), lambda m: f"local gradient of the sigmoid wrong ({_SIGMOID_WRONG[m.which]})",
         _per_gate("sigmoid_local", ("sigmoid",), tuple(_SIGMOID_WRONG)), _sigmoid_explain, _sigmoid_local),
    Kind("upstream_not_multiplied", (), lambda m: "upstream gradient not multiplied", _upstream_variants,
         _upstream_explain),
)}


def variants(circuit) -> list[Mistake]:
    """Every mistake that can be made on this circuit, in the registry's order."""
    return [m for kind in KINDS.values() for m in kind.variants(circuit)]


# ---------------------------------------------------------------- reading answers

class Names:
    """Every name a student may use for each quantity of one circuit."""

    def __init__(self, circuit):
        self.quantities = quantities(circuit)
        top = circuit.output
        candidates: dict[str, set[str]] = {}
        for q in self.quantities:
            for alias in self._aliases(q, top):
                candidates.setdefault(normal(alias), set()).add(q.name)
        self.lookup = {normal(q.name): q.name for q in self.quantities}
        for alias, names in candidates.items():
            if alias not in self.lookup and len(names) == 1:
                self.lookup[alias] = next(iter(names))

    @staticmethod
    def _aliases(q, top: str) -> list[str]:
        if q.kind == VALUE:
            return [q.wire]
        w = q.wire
        bases = [f"d{top}/d{w}", f"∂{top}/∂{w}", f"d{top}_d{w}"]
        if q.kind == BRANCH:
            gate = q.name.split("|gate", 1)[1]
            forms = [f"{b}{sep}{gate}" for b in bases for sep in ("|gate", "|", "@gate", "@", "(gate", "[gate")]
            return [f + (")" if "(" in f else "]" if "[" in f else "") for f in forms]
        return bases + [f"d{w}", f"grad_{w}", f"{w}_grad", f"{w}.grad", f"grad({w})", f"gradient_{w}"]

    def resolve(self, written: str, where: str) -> str:
        found = self.lookup.get(normal(written))
        if found is not None:
            return found
        names = [q.name for q in self.quantities if not q.given]
        raise DeriveError(f"{where}: {written[:60]}", "unknown quantity of this circuit; its quantities are "
                          + ", ".join(names))


def parse_answers(text: str, where: str, circuit, kind: str = "toml") -> list[Answer]:
    """Answers to a circuit from TOML or JSON text."""
    document = read_document(text, where, kind)
    names = Names(circuit)
    answers: dict = {}
    items = list(document.items())
    for key, value in items:
        if isinstance(value, dict) and key in ("quantities", "answers"):
            items += list(value.items())
            continue
        if isinstance(value, dict):
            raise DeriveError(f"{where}: {key}", "unknown section; answers are `name = number` pairs")
        name = names.resolve(key, where)
        _add(answers, Answer(name, key, _number(value, f"{where}: {key}")), where)
    if not answers:
        raise DeriveError(where, 'holds no answers; write one `name = number` per line, e.g. "df/dx" = -4')
    order = {q.name: k for k, q in enumerate(names.quantities)}
    return sorted(answers.values(), key=lambda a: order[a.name])


# ---------------------------------------------------------------- the verdicts

@dataclass
class CircuitReport:
    """Every verdict of one answers file on one circuit."""

    circuit: object
    source: str
    results: list = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if all(r.verdict == RIGHT for r in self.results) else 1

    def summary(self) -> str:
        return report.summary(self.results)

    def _repr_markdown_(self) -> str:
        return to_markdown(self)


class Checker:
    """Verdicts for a set of answers on one circuit, with the sweeps they need, made on demand."""

    def __init__(self, circuit, answers: list[Answer]):
        self.circuit = circuit
        self.quantities = {q.name: q for q in quantities(circuit)}
        self.order = {name: k for k, name in enumerate(self.quantities)}
        self.exact = exact_values(circuit)
        self.answers = {a.name: a for a in answers}
        self.written = {a.name: a.value for a in answers if not self.quantities[a.name].given}
        self.variants = variants(circuit)
        self._worlds: dict = {}
        self._results: dict = {}
        self._cache: dict = {}

    def world(self, mistake=None, yours: bool = False, places=None, written=None):
        """A sweep (None when the student's numbers leave a gate undefined)."""
        key = (mistake, yours, places) if written is None else None
        if key is not None and key in self._worlds:
            return self._worlds[key]
        try:
            made = sweep(self.circuit, places, written if written is not None else (self.written if yours else None),
                         mistake)
        except Undefined:
            made = None
        if key is not None:
            self._worlds[key] = made
        return made

    def computed(self, name, mistake=None, yours=False, places=None):
        w = self.world(mistake, yours, places)
        return None if w is None else w.computed[name]

    def region(self, name: str, yours: bool) -> set:
        """The quantity and everything it is computed from (not past the student's numbers when ``yours``)."""
        seen, stack = {name}, [name]
        while stack:
            for parent in parents(self.circuit, self.quantities[stack.pop()]):
                if parent not in seen and not (yours and parent in self.written):
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def frontier(self, name: str) -> tuple:
        """The written answers a quantity is computed from, through the quantities the student did not write."""
        key = ("frontier", name)
        if key not in self._cache:
            found, seen, stack = set(), set(), [name]
            while stack:
                for parent in parents(self.circuit, self.quantities[stack.pop()]):
                    if parent in seen:
                        continue
                    seen.add(parent)
                    if parent in self.written:
                        found.add(parent)
                    elif not self.quantities[parent].given:
                        stack.append(parent)
            self._cache[key] = tuple(sorted(found, key=self.order.get))
        return self._cache[key]

    def slack(self, name: str, mistake=None):
        """How much the rounding of the written numbers a quantity uses can move it (first order)."""
        key = ("slack", name, mistake)
        if key not in self._cache:
            base = self.computed(name, mistake, True)
            total = Fraction(0)
            for p in self.frontier(name):
                moved = dict(self.written)
                moved[p] = moved[p] + tolerance(written_places(self.answers[p].number))
                w = self.world(mistake, True, None, moved)
                if w is not None and base is not None:
                    total = _binary(lambda x, y: x + y, total, abs(_binary(lambda x, y: x - y, w.computed[name], base)))
            self._cache[key] = total
        return self._cache[key]

    def _agrees_in(self, a: Answer, d: int, mistake, yours: bool, family):
        for K in family:
            value = self.computed(a.name, mistake, yours, K)
            if value is None:
                continue
            slack = self.slack(a.name, mistake) if yours and K is None else 0
            if agrees(a.value, value, d, slack):
                return "exact" if K is None else K
        return False

    def fine(self, name: str) -> bool:
        a = self.answers[name]
        d = written_places(a.number)
        if self.quantities[name].given:
            return agrees(a.value, self.exact[name], d)
        if self._agrees_in(a, d, None, False, hand_places(d)) is not False:
            return True
        return bool(self.frontier(name)) and self._agrees_in(a, d, None, True, hand_places(d)) is not False

    def roots(self, name: str) -> tuple:
        found = []
        for parent in self.frontier(name):
            r = self.result(parent)
            if r.verdict == WRONG:
                found.append(parent)
            elif r.verdict == CONSISTENT:
                found.extend(r.follows)
        return tuple(sorted(set(found), key=self.order.get))

    def result(self, name: str) -> Result:
        if name not in self._results:
            self._results[name] = self._judge(self.answers[name])
        return self._results[name]

    def _judge(self, a: Answer) -> Result:
        exact = self.exact[a.name]
        d = written_places(a.number)
        family = hand_places(d)
        if self.quantities[a.name].given:
            if agrees(a.value, exact, d):
                return Result(a, exact, d, RIGHT, "exact")
            return Result(a, exact, d, WRONG, "", note=f"{a.name} is given: {a.name} = {_num(exact)}.")
        how = self._agrees_in(a, d, None, False, family)
        if how is not False:
            return Result(a, exact, d, RIGHT, "exact" if how == "exact" else f"rounded to {how} decimals")
        front = self.frontier(a.name)
        yours = self.computed(a.name, None, True) if front else None
        if front:
            how = self._agrees_in(a, d, None, True, family)
            if how is not False:
                roots = self.roots(a.name)
                matched = "your numbers" if how == "exact" else f"your numbers, rounded to {how} decimals"
                if not roots:
                    return Result(a, exact, d, RIGHT, matched)
                return Result(a, exact, d, CONSISTENT, matched, follows=roots, yours=yours)
        diagnoses = self._diagnose(a, d, bool(front))
        note = "" if diagnoses else self._slip_note(a, d, exact, yours)
        return Result(a, exact, d, WRONG, "", yours=yours, diagnoses=diagnoses, note=note)

    def _slip_note(self, a: Answer, d: int, exact, yours) -> str:
        for reference, whose in ((exact, "the right value"), (yours, "the value your own numbers give")):
            if reference is not None and reference != 0 and agrees(-a.value, reference, d):
                return (f"Your number has the size of {whose}, {_num(reference)}, but the opposite sign: check the "
                        "signs in this step.")
        note = "No known mistake reproduces this value: look for a slip in this step's arithmetic."
        if d >= 1:
            for name, value in self.exact.items():
                if name != a.name and value != 0 and agrees(a.value, value, d):
                    note += f" Your number is the value of {name}: was it written in the wrong place?"
                    break
        if yours is not None and not agrees(yours, exact, d + 2):
            note += f" From your own numbers the step gives {_num(yours)}."
        return note

    def _changes(self, m, name: str, yours: bool) -> bool:
        w = self.world(m, yours)
        return w is not None and bool(w.changed & self.region(name, yours))

    def _reproduces(self, a: Answer, d: int, m, yours: bool) -> bool:
        return self._changes(m, a.name, yours) and self._agrees_in(a, d, m, yours, (None, max(d, 0))) is not False

    def _diagnose(self, a: Answer, d: int, has_yours: bool) -> tuple:
        matched = []
        for index, m in enumerate(self.variants):
            for yours in ((True, False) if has_yours else (False,)):
                if self._reproduces(a, d, m, yours):
                    # on a tie, the mistake at one gate before the same mistake everywhere (the smaller story)
                    broad = m.gate is None and m.kind != "fanout_not_summed"
                    matched.append(((self._against(m), -self._support(m), broad, index), m, yours))
                    break
        matched.sort(key=lambda item: item[0])
        found, titles = [], set()
        for _, m, yours in matched:
            title = m.title(self.circuit)
            if title in titles:
                continue
            titles.add(title)
            entry = self.entry(a.name, m, yours)
            found.append(Diagnosis(m, title, m.explain(self.circuit, self.quantities[entry]), entry))
        return tuple(found)

    def _support(self, m) -> int:
        key = ("support", m)
        if key not in self._cache:
            count = 0
            for name, a in self.answers.items():
                if self.quantities[name].given or self.fine(name):
                    continue
                d = written_places(a.number)
                if any(self._reproduces(a, d, m, y) for y in ((True, False) if self.frontier(name) else (False,))):
                    count += 1
            self._cache[key] = count
        return self._cache[key]

    def _against(self, m) -> int:
        """How many of the student's right (or consistent) answers the mistake would have changed."""
        key = ("against", m)
        if key not in self._cache:
            count = 0
            mistaken, correct = self.world(m, True), self.world(None, True)
            for name, a in self.answers.items():
                if self.quantities[name].given or mistaken is None or correct is None:
                    continue
                d = written_places(a.number)
                if not agrees(mistaken.computed[name], correct.computed[name], d) and self.fine(name):
                    count += 1
            self._cache[key] = count
        return self._cache[key]

    def entry(self, name: str, m, yours: bool) -> str:
        """The earliest quantity (in reading order) on the way to ``name`` whose step the mistake changes."""
        w = self.world(m, yours)
        found = [n for n in self.region(name, yours) if n in w.changed]
        return min(found, key=self.order.get) if found else name


def check(circuit, answers: list[Answer], source: str = "answers") -> CircuitReport:
    """Judge every answer; the results come in the circuit's reading order."""
    checker = Checker(circuit, answers)
    return CircuitReport(circuit, source, [checker.result(a.name) for a in answers])


def check_file(spec_source, answers_path) -> CircuitReport:
    """Load a formula spec (file, preset or version) and an answers file, and check."""
    circuit = engine.solve(load_circuit(spec_source))
    text, kind = read_text(answers_path)
    return check(circuit, parse_answers(text, str(answers_path), circuit, kind), Path(answers_path).name)


def check_text(spec_source, text: str, kind: str = "toml", source: str = "") -> CircuitReport:
    """Check answers given as TOML (or JSON) text."""
    circuit = engine.solve(load_circuit(spec_source))
    return check(circuit, parse_answers(text, source or "answers", circuit, kind), source)


# ---------------------------------------------------------------- the reports

def _quantity(checked: CircuitReport, name: str):
    return next(q for q in quantities(checked.circuit) if q.name == name)


def _step(checked: CircuitReport, name: str) -> report.Step | None:
    """The right step of a wire (None for a given value: the table shows it)."""
    q = _quantity(checked, name)
    if q.given:
        return None
    c = checked.circuit
    return report.Step(tuple(circuit_steps.text(c, q, DIGITS)), circuit_steps.latex(c, q, DIGITS))


def page(checked: CircuitReport) -> report.Page:
    """The report's page: every answer, then the wrong ones with their diagnoses and the right steps."""
    spec = checked.circuit.spec

    def line(r: Result) -> report.Line:
        return report.Line(r.name, r.name, r.answer.text, _num(r.exact), report.verdict_words(r))

    return report.numbers_page(spec, checked.source, f"the exact values of the circuit {escape.code(spec.name)}",
                               checked.results, line, lambda name: _step(checked, name))


def to_text(checked: CircuitReport) -> str:
    """The terminal report: a table of every answer, then each wrong answer with its diagnosis and the right step."""
    return report.to_text(page(checked))


def to_markdown(checked: CircuitReport) -> str:
    """The report in Markdown, the right steps in LaTeX."""
    return report.to_markdown(page(checked))


def to_document(checked: CircuitReport) -> dict:
    """The report as plain data (the JSON format)."""
    c = checked.circuit
    answers = []
    for r in checked.results:
        entry = {"name": r.name, "label": r.answer.label, "given": r.answer.text, "decimals": r.places,
                 "exact": to_float(r.exact), "exact_text": _num(r.exact), "verdict": r.verdict}
        if r.matched:
            entry["matched"] = r.matched
        if r.follows:
            entry["follows_from"] = list(r.follows)
        if r.yours is not None and r.verdict != RIGHT:
            entry["from_your_numbers"] = to_float(r.yours)
        if r.verdict == WRONG:
            if r.diagnoses:
                first = r.diagnoses[0]
                entry["diagnosis"] = {"mistake": first.mistake.kind, "gate": first.mistake.gate,
                                      "title": first.title, "sentence": first.sentence, "enters_at": first.entry}
                if len(r.diagnoses) > 1:
                    entry["also_fits"] = [d.title for d in r.diagnoses[1:]]
            else:
                entry["note"] = r.note
            q = _quantity(checked, r.name)
            if not q.given:
                entry["right_step"] = {"text": circuit_steps.text(c, q, DIGITS), "latex": circuit_steps.latex(c, q, DIGITS)}
        answers.append(entry)
    return {"spec": c.spec.name, "title": c.spec.title, "answers_file": checked.source or None,
            "summary": {"answers": len(checked.results), "right": checked.count(RIGHT), "wrong": checked.count(WRONG),
                        "consistent": checked.count(CONSISTENT)}, "answers": answers}


def to_json(checked: CircuitReport) -> str:
    return dumps(to_document(checked)) + "\n"


def checked(checked: CircuitReport) -> Checked:
    """The job of a circuit's check: its checked with the writers of this module (see derive.grading.check.CHECKS)."""
    return Checked(checked, to_text, to_markdown, to_json)
