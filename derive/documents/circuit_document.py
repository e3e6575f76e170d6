"""The worked solution of a circuit: the gates, the forward sweep gate by gate, the backward sweep gate by gate
(local gradient x upstream gradient, sums where a wire fans out), the patterns of each gate kind in words, and a
summary; plus the circuit's JSON.

It is built from the same document model as a network's worked solution
(:mod:`derive.document`), so the same templates write Markdown, LaTeX and PDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.core.circuit import gate_expression
from derive.documents import circuit_diagram
from derive.documents.model import CHECKED_TITLE, Chain, Document, Figure, M, P, Section, Table
from derive.documents.printing import DEFAULT_DIGITS, DerivePrinter, column, shown

# placeholders of a gate's local gradient: its inputs a, b, its output o, its constant c
A, B, O, C = sp.symbols("a b o c", real=True)

#: the local gradient of each kind, d o / d input, in the form it is taught (sigmoid: o (1 - o))
LOCAL = {
    "add": (1, 1), "sub": (1, -1), "mul": (B, A), "div": (1 / B, -A / B**2), "pow": (B * A ** (B - 1), O * sp.log(A)),
    "neg": (-1,), "addc": (1,), "rsub": (-1,), "mulc": (C,), "divc": (1 / C,), "recip": (-C / A**2,),
    "powc": (C * A ** (C - 1),), "cpow": (O * sp.log(C),), "exp": (O,), "ln": (1 / A,), "sqrt": (1 / (2 * O),),
    "sin": (sp.cos(A),), "cos": (-sp.sin(A),), "tanh": (1 - O**2,), "sigmoid": (O * (1 - O),),
    "relu": (sp.Piecewise((1, A > 0), (0, True)),), "abs": (sp.sign(A),),
    "max": (sp.Piecewise((1, A > B), (0, True)), sp.Piecewise((1, B > A), (0, True))),
    "min": (sp.Piecewise((1, A < B), (0, True)), sp.Piecewise((1, B < A), (0, True))),
    "maxc": (sp.Piecewise((1, A > C), (0, True)),), "minc": (sp.Piecewise((1, A < C), (0, True)),),
}

#: the name of each kind of gate in a sentence
KIND_NAMES = {
    "add": "add gate", "sub": "subtract gate", "mul": "multiply gate", "div": "divide gate", "pow": "power gate",
    "neg": "gate ×(-1)", "addc": "gate that adds a constant", "rsub": "gate that subtracts from a constant",
    "mulc": "gate that multiplies by a constant", "divc": "gate that divides by a constant", "recip": "gate c/x",
    "powc": "power gate x^n", "cpow": "gate c^x", "exp": "exp gate", "ln": "ln gate", "sqrt": "square-root gate",
    "sin": "sin gate", "cos": "cos gate", "tanh": "tanh gate", "sigmoid": "sigmoid gate", "relu": "ReLU gate",
    "abs": "abs gate", "max": "max gate", "min": "min gate", "maxc": "max gate", "minc": "min gate",
}


def display_expression(gate, a: sp.Expr, b: sp.Expr | None = None) -> sp.Expr:
    """The gate's operation as written, in the order of its inputs (SymPy would reorder and simplify)."""
    c = gate.constant
    k = gate.kind
    if k == "add":
        return sp.Add(a, b, evaluate=False)
    if k == "sub":
        return sp.Add(a, sp.Mul(-1, b, evaluate=False), evaluate=False)
    if k == "mul":
        return sp.Mul(a, b, evaluate=False)
    if k == "div":
        return sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False)
    if k == "pow":
        return sp.Pow(a, b, evaluate=False)
    if k == "neg":
        return sp.Mul(-1, a, evaluate=False)
    if k == "addc":
        return sp.Add(a, c, evaluate=False)
    if k == "rsub":
        return sp.Add(c, sp.Mul(-1, a, evaluate=False), evaluate=False)
    if k == "mulc":
        return sp.Mul(c, a, evaluate=False)
    if k == "divc":
        return sp.Mul(a, sp.Pow(c, -1, evaluate=False), evaluate=False)
    if k == "recip":
        return sp.Pow(a, -1, evaluate=False) if c == 1 else sp.Mul(c, sp.Pow(a, -1, evaluate=False), evaluate=False)
    if k == "powc":
        return sp.Pow(a, c, evaluate=False)
    if k == "cpow":
        return sp.Pow(c, a, evaluate=False)
    return gate_expression(gate, a, b)


@dataclass
class _Printer:
    """LaTeX of wires, expressions and numbers of one circuit."""

    circuit: object
    digits: int

    def __post_init__(self):
        self.names = {s: circuit_diagram._latex_name(w) for w, s in self.circuit.symbols.items()}

    def num(self, value) -> str:
        return shown(value, self.digits).latex

    def text(self, value) -> str:
        return shown(value, self.digits).text

    def rel(self, value) -> str:
        return shown(value, self.digits).relation

    def general(self, expr) -> str:
        return DerivePrinter(self.names).doprint(expr)

    def numbers(self, expr, values) -> str:
        numbers = {s: self.num(values[s]) for s in expr.free_symbols if s in values}
        return DerivePrinter(self.names, numbers).doprint(expr)

    def d(self, top: str, wire: str) -> str:
        return rf"\frac{{\partial {self.names[self.circuit.symbols[top]]}}}{{\partial {self.names[self.circuit.symbols[wire]]}}}"

    def wire(self, wire: str) -> str:
        return self.names[self.circuit.symbols[wire]]


def _local_expr(circuit, gate, slot: int) -> sp.Expr:
    """The local gradient of one input as an expression of the gate's own wires."""
    sym = circuit.symbols
    mapping = {O: sym[gate.output], C: gate.constant if gate.constant is not None else C}
    mapping[A] = sym[gate.inputs[0]]
    if len(gate.inputs) > 1:
        mapping[B] = sym[gate.inputs[1]]
    return sp.sympify(LOCAL[gate.kind][slot]).xreplace(mapping)


def forward_rows(circuit, p: _Printer, gate) -> tuple:
    """wire = operation = with the numbers = value."""
    sym = circuit.symbols
    args = [sym[w] for w in gate.inputs]
    expr = display_expression(gate, *args)
    value = circuit.values[gate.output]
    env = {sym[w]: circuit.values[w] for w in circuit.wires}
    rhs = p.general(expr)
    filled = p.numbers(expr, env)
    if filled.replace(" ", "") == p.num(value).replace(" ", ""):
        return ((p.wire(gate.output), "=", f"{rhs} = {p.num(value)}"),)
    return ((p.wire(gate.output), "=", f"{rhs} = {filled} {p.rel(value)} {p.num(value)}"),)


def backward_rows(circuit, p: _Printer, gate) -> list[tuple]:
    """For each input: its local gradient, then local x upstream = the gradient sent back."""
    return [row for slot in range(len(gate.inputs)) for row in input_rows(circuit, p, gate, slot)]


def input_rows(circuit, p: _Printer, gate, slot: int) -> list[tuple]:
    """One input of a gate: its local gradient, then local x upstream = the gradient sent back (none at the output)."""
    sym = circuit.symbols
    env = {sym[w]: circuit.values[w] for w in circuit.wires}
    out, top = gate.output, circuit.output
    upstream = circuit.gradients[out]
    wire = gate.inputs[slot]
    local_value = circuit.local[(gate.index, slot)]
    expr = _local_expr(circuit, gate, slot)
    general = p.general(expr)
    filled = p.numbers(expr, env)
    value_text = p.num(local_value)
    local_rhs = general
    if filled.replace(" ", "") not in (general.replace(" ", ""), value_text.replace(" ", "")):
        local_rhs += f" = {filled}"
    if value_text != general:
        local_rhs += f" {p.rel(local_value)} {value_text}"
    rows = [(p.d(out, wire), "=", local_rhs)]
    if out == top:
        return rows
    part = next(c for c in circuit.contributions[wire] if c.gate == gate.index and c.slot == slot)
    lhs = p.d(top, wire) + (rf"\big|_{{\text{{gate {gate.index}}}}}" if len(circuit.contributions[wire]) > 1 else "")
    rhs = (rf"{p.d(out, wire)} \cdot {p.d(top, out)} = {_paren(value_text)} \cdot {_paren(p.num(upstream))} "
           f"{p.rel(part.value)} {p.num(part.value)}")
    rows.append((lhs, "=", rhs))
    return rows


def _paren(text: str) -> str:
    return rf"\left({text}\right)" if text.startswith("-") else text


def sum_rows(circuit, p: _Printer, wire: str) -> tuple:
    """Where a wire fans out: the gradients coming back along its branches add up."""
    parts = circuit.contributions[wire]
    total = circuit.gradients[wire]
    terms = " + ".join(p.d(circuit.output, wire) + rf"\big|_{{\text{{gate {c.gate}}}}}" for c in parts)
    numbers = " + ".join(_paren(p.num(c.value)) for c in parts)
    return ((p.d(circuit.output, wire), "=", f"{terms} = {numbers} {p.rel(total)} {p.num(total)}"),)


def pattern(circuit, p: _Printer, gate) -> str:
    """The lesson of a kind of gate in words, with this gate's numbers."""
    top = circuit.output
    G = p.text(circuit.gradients[gate.output]) if gate.output != top else "1"
    ins = gate.inputs
    local = [p.text(circuit.local[(gate.index, k)]) for k in range(len(ins))]
    sent = [p.text(next(c.value for c in circuit.contributions[w] if c.gate == gate.index and c.slot == k))
            for k, w in enumerate(ins)]
    k = gate.kind
    if k == "add":
        return f"The add gate passes the upstream gradient {G} unchanged to both inputs: its local gradients are 1."
    if k == "addc":
        return f"Adding a constant does not change the gradient: the gate passes the upstream gradient {G} through."
    if k == "sub":
        return (f"The subtract gate passes the upstream gradient {G} unchanged to its first input ({ins[0]}) and "
                f"with its sign changed to the second ({ins[1]}): {sent[1]}.")
    if k == "mul":
        return (f"The multiply gate swaps its inputs: {ins[0]} receives the upstream gradient {G} times the value "
                f"of {ins[1]}, {local[0]}, and {ins[1]} receives it times the value of {ins[0]}, {local[1]}.")
    if k in ("max", "min", "maxc", "minc", "relu"):
        word = "larger" if k in ("max", "maxc", "relu") else "smaller"
        received = [w for w, lg in zip(ins, local) if lg != "0"]
        if k in ("max", "min"):
            if len(received) == 2:
                return (f"The {k} gate routes the gradient to the {word} input; here its inputs are equal, so each "
                        f"receives half of the upstream gradient {G}.")
            return (f"The {k} gate routes the gradient: the {word} input, {received[0] if received else '-'}, receives "
                    f"the upstream gradient {G} unchanged, the other one receives 0.")
        return (f"The {KIND_NAMES[k]} routes the gradient: its input receives the upstream gradient {G} when it is the "
                f"{word} value and 0 otherwise; here it receives {sent[0]}.")
    if k in ("neg", "mulc", "divc"):
        return f"The {KIND_NAMES[k]} scales the upstream gradient {G} by its constant factor {local[0]}: it sends {sent[0]}."
    if k == "exp":
        return P(f"The exp gate multiplies the upstream gradient {G} by its own output, ", M("e^{u}"),
                 f" = {local[0]}, and sends {sent[0]}.")
    if k == "recip":
        return (f"The gate {gate.label} multiplies the upstream gradient {G} by minus the constant over its input squared, "
                f"{local[0]}, and sends {sent[0]}.")
    if k == "sigmoid":
        return P("The sigmoid gate needs only its own output ", M(r"\sigma"), f": it multiplies the upstream gradient "
                 f"{G} by ", M(r"\sigma(1 - \sigma)"), f" = {local[0]} and sends {sent[0]}.")
    if k == "tanh":
        return P(f"The tanh gate needs only its own output: it multiplies the upstream gradient {G} by ",
                 M(r"1 - \tanh^{2}"), f" = {local[0]} and sends {sent[0]}.")
    return (f"The {KIND_NAMES[k]} multiplies the upstream gradient {G} by its local gradient {local[0]}"
            + (f" and {local[1]}" if len(local) > 1 else "") + ".")


def link_section(circuit, p: _Printer, link) -> Section:
    """How a neuron's circuit is the same calculation as its network's (``link``: a neuron_circuit.Link)."""
    unit = link.unit
    blocks = [P(f"This circuit is unit {unit} of the network (layer {link.layer})"
                + (", for the first sample" if link.batch > 1 else "") + ". Its forward pass is the network's: the net "
                "input ", M(f"{p.wire(link.net)} = {p.num(circuit.values[link.net])}"), " and the output ",
                M(f"{p.wire(link.out)} = {p.num(circuit.values[link.out])}"), " are the network's values of the same names.")]
    if link.dE_dout is None:
        return Section("The unit in the network", 1, tuple(blocks))
    loss = sp.latex(sp.Symbol(link.dE_dout.split("/")[0][1:]))
    d_loss = lambda wire: rf"\frac{{\partial {loss}}}{{\partial {p.wire(wire)}}}"
    top = link.out
    blocks.append(P("The circuit differentiates ", M(p.wire(top)), "; the network differentiates the loss ", M(loss),
                    ". The chain rule joins the two: the gradient the circuit sends to a weight is the network's ",
                    M(rf"{p.d(top, link.net)} \cdot \frac{{\partial {p.wire(link.net)}}}{{\partial w}}"),
                    ", and times the gradient arriving at the unit's output in the network, ",
                    M(f"{d_loss(top)} = {p.num(link.dE_dout_value)}"), ", it is the network's gradient of the loss"
                    + (" (this sample's share of it)" if link.batch > 1 else "") + ":"))
    rows = []
    for parameter, name, value in link.parameters:
        if name is None:
            continue
        gate = next(g for g in circuit.gates if parameter in g.inputs and g.kind == "mul") if any(
            parameter in g.inputs and g.kind == "mul" for g in circuit.gates) else None
        factor = (circuit.values[gate.inputs[1 - gate.inputs.index(parameter)]] if gate else 1)
        mine = circuit.gradients.get(parameter, 0)
        rows.append((p.d(top, parameter), "=", rf"{p.d(top, link.net)} \cdot {p.d(link.net, parameter)} = "
                     rf"{p.num(circuit.gradients[link.net])} \cdot {_paren(p.num(factor))} {p.rel(mine)} {p.num(mine)}"))
        rows.append((d_loss(parameter), "=", rf"{d_loss(top)} \cdot {p.d(top, parameter)} = "
                     rf"{_paren(p.num(link.dE_dout_value))} \cdot {_paren(p.num(mine))} {p.rel(value)} {p.num(value)}"))
    blocks.append(Chain(tuple(rows)))
    blocks.append(P("These are the network's values of ", *_listing([M(d_loss(parameter)) for parameter, name, _ in
                                                                     link.parameters if name]),
                    " in its worked solution: the network's backward pass through this unit is this circuit's, "
                    "multiplied by what arrives from the layers above."))
    return Section("The unit in the network", 1, tuple(blocks))


def build(circuit, digits: int = DEFAULT_DIGITS, svg_name: str = "circuit.svg", link=None,
          verification: bool = True) -> Document:
    """The worked solution of a solved circuit as a document (``link``: the network a neuron's circuit comes from)."""
    p = _Printer(circuit, digits)
    spec = circuit.spec
    sym = circuit.symbols
    # the circuit
    blocks = [P("The formula, as given:")]
    latex_names = {w: p.wire(w) for w in circuit.wires}
    blocks.append(Chain(tuple((p.wire(name), "=", node_latex(node, latex_names)) for name, _, node in spec.formulas)))
    blocks.append(P("The numbers put in: ", *_listing([M(f"{p.wire(w)} = {p.num(circuit.values[w])}")
                                                     for w in circuit.inputs]), "."))
    diagram = circuit_diagram.build(circuit, digits=min(digits, 3))
    blocks.append(Figure(diagram, svg_name))
    others = [o for o in spec.outputs if o != circuit.output]
    blocks.append(P("Each operation is a gate; the gates are taken in the order below, every gate after the gates "
                    "that compute its inputs. Wires without a name in the formula are called u1, u2, … in that "
                    "order. The backward pass computes the gradient of ", M(p.wire(circuit.output)),
                    " with respect to every wire." + (f" The other output{'s' if len(others) > 1 else ''} "
                                                      f"({', '.join(others)}) only take part in the forward pass."
                                                      if others else "")))
    blocks.append(Table(("gate", "operation", "inputs", "output"),
                        tuple((str(g.index), g.label.replace("*", "×"), ", ".join(g.inputs), g.output)
                              for g in circuit.gates), ("text", "text", "text", "text"), "rlll"))
    sections = [Section("The circuit", 1, tuple(blocks))]
    # forward
    forward = [P("Each gate computes its output from its inputs' values, from the inputs to the output.")]
    for gate in circuit.gates:
        forward.append(Chain(forward_rows(circuit, p, gate)))
    sections.append(Section("Forward pass", 1, tuple(forward)))
    # backward
    backward = [P("The gradient of ", M(p.wire(circuit.output)), " with respect to itself is ",
                  M(f"{p.d(circuit.output, circuit.output)} = 1"), ". Then, from the output back, each gate multiplies "
                  "the gradient arriving at its output (the upstream gradient) by its local gradient, the derivative of "
                  "its output with respect to each input, and sends the product to that input. A wire that goes into "
                  "several gates adds up the gradients coming back from each.")]
    told, fan_told = set(), False
    for gate in reversed(circuit.gates):
        if gate.output not in circuit.gradients:
            continue
        inner = []
        if len(circuit.contributions.get(gate.output, ())) > 1:
            inner.append(P("The wire ", M(p.wire(gate.output)), " goes into several gates; their gradients add up:"))
            inner.append(Chain(sum_rows(circuit, p, gate.output)))
            if not fan_told:
                inner.append(P("Where a wire fans out, the gradients coming back along its branches are summed."))
                fan_told = True
        operation = display_expression(gate, *[sym[w] for w in gate.inputs])
        inner.append(P(f"Gate {gate.index} ({gate.label.replace('*', '×')}) computes ",
                       M(f"{p.wire(gate.output)} = {p.general(operation)}"), "; its upstream gradient is ",
                       M(f"{p.d(circuit.output, gate.output)} = {p.num(circuit.gradients[gate.output])}"), ":"))
        inner.append(Chain(tuple(backward_rows(circuit, p, gate))))
        if (gate.kind, gate.constant if gate.kind in ("mulc", "divc") else None) not in told:
            told.add((gate.kind, gate.constant if gate.kind in ("mulc", "divc") else None))
            said = pattern(circuit, p, gate)
            inner.append(said if isinstance(said, type(P())) else P(said))
        heading = P(f"Gate {gate.index}: ", M(p.wire(gate.output)))
        backward.append(Section(f"Gate {gate.index}: {gate.output}", 2, tuple(inner), heading=heading))
    fanned = [w for w in circuit.inputs if len(circuit.contributions.get(w, ())) > 1]
    if fanned:
        inner = [P("These inputs go into several gates; their gradients add up:")]
        inner += [Chain(sum_rows(circuit, p, w)) for w in fanned]
        if not fan_told:
            inner.append(P("Where a wire fans out, the gradients coming back along its branches are summed."))
        backward.append(Section("Inputs that fan out", 2, tuple(inner)))
    sections.append(Section("Backward pass", 1, tuple(backward)))
    # summary
    # one number format per column, so that the decimal points line up (a wire without a gradient: 0)
    values = column([circuit.values[w] for w in circuit.wires], digits)
    gradients = column([circuit.gradients.get(w, 0) for w in circuit.wires], digits)
    rows = tuple((p.wire(w), v.latex, g.latex) for w, v, g in zip(circuit.wires, values, gradients))
    summary = [Table(("wire", "value", M(rf"\partial {p.wire(circuit.output)} / \partial\,\text{{wire}}")), rows,
                     ("math", "math", "math"), "lrr")]
    sections.append(Section("Summary", 1, tuple(summary)))
    if link is not None:
        sections.append(link_section(circuit, p, link))
    if verification:
        method = circuit.verification.method
        sections.append(Section(CHECKED_TITLE, 1, (P(method[0].upper() + method[1:] + "."),), "checked",
                                appendix=True))
    subtitle = f"{len(circuit.gates)} gates, {len(circuit.inputs)} inputs"
    return Document(spec.title, subtitle, tuple(sections))


_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_FUNCTION_LATEX = {"exp": r"\exp", "ln": r"\ln", "sqrt": "", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                   "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}", "abs": "", "max": r"\max", "min": r"\min"}


def node_latex(node, names: dict) -> str:
    """A formula as written (not as SymPy would reorder it), in LaTeX; ``names`` maps names to LaTeX."""
    op, args = node.op, node.args
    if op in ("num", "const"):
        return sp.latex(node.value)
    if op == "name":
        return names[node.name]

    def inner(arg, least):
        text = node_latex(arg, names)
        return rf"\left({text}\right)" if _PRECEDENCE.get(arg.op, 9) < least or (
            arg.op == "num" and arg.value < 0) else text

    if op == "add":
        return f"{inner(args[0], 1)} + {inner(args[1], 2 if args[1].op == 'neg' else 1)}"
    if op == "sub":
        return f"{inner(args[0], 1)} - {inner(args[1], 2)}"
    if op == "mul":
        right = inner(args[1], 3)
        joint = r" \cdot " if right[:1].isdigit() or right.startswith(("-", r"\left(-", r"\frac")) else " "
        return f"{inner(args[0], 2)}{joint}{right}"
    if op == "div":
        return rf"\frac{{{node_latex(args[0], names)}}}{{{node_latex(args[1], names)}}}"
    if op == "pow":
        return f"{{{inner(args[0], 5)}}}^{{{node_latex(args[1], names)}}}"
    if op == "neg":
        return f"-{inner(args[0], 3)}"
    if op == "exp":
        return f"e^{{{node_latex(args[0], names)}}}"
    if op == "sqrt":
        return rf"\sqrt{{{node_latex(args[0], names)}}}"
    if op == "abs":
        return rf"\left|{node_latex(args[0], names)}\right|"
    return rf"{_FUNCTION_LATEX[op]}\left({', '.join(node_latex(a, names) for a in args)}\right)"


def _listing(parts) -> list:
    """Math parts separated by commas."""
    out = []
    for k, part in enumerate(parts):
        if k:
            out.append(", ")
        out.append(part)
    return out
