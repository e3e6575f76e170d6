"""The derivation itself: every quantity of the worked solution as its general formula, no numbers.

The same structure as the worked solution (the network, the forward pass, the loss,
the backward pass, the update), but each quantity is written in the network's
symbols: the chain rule factor by factor, each local derivative as SymPy takes it from
the definition (the rules section derives each activation's and the loss's derivative
once, step by step), and each gradient multiplied out. Then the four equations of
backpropagation for any depth, specialised to this network.

The options' ``symbolic='then-numbers'`` (as the blog writes it) ends each formula
with the numbers put in and the value. In the matrix notation, and for a network too
large to write unit by unit, the document is the vector form: the definitions, the
derivatives and the four equations.
"""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.core import rules
from derive.core.general import General
from derive.core.graph import product, total
from derive.core.numeric import evaluate
from derive.core.optimizers import OPTIMIZERS
from derive.core.solve import Solution
from derive.documents import network, optimizer
from derive.documents.context import Context, in_matrix_form
from derive.documents.diagram import build as diagram
from derive.documents.equations import EquationWriter
from derive.documents.metadata import document_metadata
from derive.documents.model import Chain, Document, Figure, M, P, Section
from derive.documents.options import Options
from derive.documents.printing import latex, shown, with_numbers
from derive.documents.scalar.forward import layer_vector
#: a written-out gradient with more terms than this is left in terms of the deltas of the layer above
MAX_TERMS = 12


class SymbolicWriter:
    """Builds the general derivation of one solution from its context (the numbers only when the options'
    ``symbolic`` is 'then-numbers').

    ``reason`` stands between a step and its rule: a column of its own in a document, a space on a slide
    (one overlay per row).
    """

    def __init__(self, ctx: Context, reason: str = " && "):
        self.ctx = ctx
        self.s, self.spec, self.n, self.g = ctx.s, ctx.spec, ctx.n, ctx.g
        self.general = General(self.g)
        self.numbers = ctx.options.symbolic == "then-numbers"
        self.digits = ctx.digits
        self.values = ctx.d.values if self.numbers else None
        self.reason = reason

    # -- printing --------------------------------------------------------------------
    def tex(self, expr) -> str:
        return latex(expr, self.g.latex)

    def factors(self, *exprs) -> str:
        """Factors joined by a centred dot, each in parentheses when it is a sum."""
        parts = []
        for e in exprs:
            text = self.tex(e)
            parts.append(rf"\left({text}\right)" if isinstance(e, sp.Add) and len(exprs) > 1 else text)
        return r" \cdot ".join(parts)

    def sum_of(self, terms) -> str:
        """A sum of products, each product printed as written (a product that starts with a minus subtracts)."""
        text = " + ".join(self.tex(t) for t in terms)
        return text.replace("+ - ", "- ")

    def chain(self, lhs: str, *steps: str, expr=None, value=None, numbers=None) -> Chain:
        """lhs = step = step ...; with numbers, then the numbers put in and the value of ``expr``.

        ``numbers`` is the form the numbers are put into when it is not ``expr`` itself: for a hidden unit the
        deltas of the layer above by their values, as a hand calculation reuses them.
        """
        rows, previous = [], lhs
        for step in steps:
            if step and step != previous:
                rows.append(("" if rows else lhs, "=", step))
                previous = step
        if self.numbers and expr is not None:
            filled = with_numbers(numbers if numbers is not None else expr, self.g.latex, self.values, self.digits)
            if filled != previous:
                rows.append(("" if rows else lhs, "=", filled))
            if value is None:
                value = _value(expr, self.values)
            s = shown(value, self.digits)
            rows.append(("", s.relation, s.latex))
        return Chain(tuple(rows))

    def sample(self, s: int) -> str:
        return f" (sample {s + 1})" if self.spec.batch > 1 else ""

    # -- the document ----------------------------------------------------------------
    def document(self) -> Document:
        sections = [self.network_section(), self.rules_section()]
        if not in_matrix_form(self.s):
            sections += [self.forward_section(), self.loss_section(), self.backward_section(), self.update_section()]
        sections.append(EquationWriter(self.spec).section())
        kind = "with the numbers put in" if self.numbers else "in general form"
        subtitle = (f"{'-'.join(map(str, self.spec.sizes))} network, {' / '.join(self.spec.activations)} activations, "
                    f"{fn.LOSSES[self.spec.loss].title}: the derivation {kind}")
        return Document(self.spec.title, subtitle, tuple(sections),
                        document_metadata(self.spec, self.ctx.options.metadata))

    # -- 1. the network --------------------------------------------------------------
    def network_section(self) -> Section:
        spec, n = self.spec, self.n
        L = spec.layers
        end = " until each formula is complete." if self.numbers else "."
        blocks = [network.layers_paragraph(self.ctx, ". Every quantity below is written in these symbols; no number "
                                                     "is put in" + end)]
        if not in_matrix_form(self.s):
            blocks.append(Figure(diagram(self.s, "names"), "network.svg"))
        same = len(set(spec.activations)) == 1
        for l in range(1, L + 1):
            act = fn.ACTIVATIONS[spec.activations[l - 1]]
            if same and l > 1:
                break
            net = r"\mathrm{net}" if n.units else f"z^{{[{l}]}}"
            where = "every unit" if same else f"each unit of {n.layer_name(l)}"
            blocks.append(P(f"The net input of {where} is the weighted sum of its inputs plus its bias; its output "
                            f"is the {act.name} of the net input: ", M(network.activation_formula(act, net, l)), "."))
        blocks += network.definition(self.ctx)
        if spec.loss == "cross_entropy":
            blocks.append(P("The softmax of the output layer turns its net inputs into probabilities; the targets of "
                            "a sample are probabilities too and sum to 1."))
        if optimizer.active(self.s):
            entry = OPTIMIZERS[self.s.trajectory.training.settings.optimizer]
            blocks.append(P(f"Training uses {entry.title}; its update rule is the last step of the derivation."))
        else:
            blocks.append(P("One step of gradient descent with learning rate ", M(r"\eta"), " moves each parameter ",
                            M("p"), " to ", M(r"p^{+} = p - \eta\, \partial E/\partial p"),
                            "" if spec.update_biases else " (the biases keep their values)", "."))
        return Section("The network", 1, tuple(blocks), "network")

    # -- 2. the derivatives used ------------------------------------------------------
    def rules_section(self) -> Section:
        blocks = [P("Each derivative the chain rule needs is derived once here, from the definition, with the rule "
                    "each step uses; afterwards only the results are used.")]
        for name in dict.fromkeys(self.spec.activations):
            d = rules.activation(name)
            blocks += self.derived(d, name)
        d = rules.loss(self.spec.loss)
        term = fn.LOSSES[self.spec.loss]
        blocks.append(P("One output's term of the loss, ", M("e = " + rules.fill(d.steps[0].latex, a="a", t="t")),
                        " for an output ", M("a"), " and its target ", M("t"), ", differentiated with respect to ",
                        M("a"), " (" + ", ".join(d.rules) + "):"))
        blocks.append(self.steps_chain(d, r"\frac{\partial e}{\partial a}", dict(a="a", t="t"), lhs_is_name=True))
        if term.output_reduction == "mean":
            blocks.append(P("The loss is the mean over the ", M("K"), " outputs, so each output's derivative is ",
                            M(r"\tfrac{1}{K}"), " times this."))
        return Section("The derivatives used", 1, tuple(blocks), "derivatives")

    def derived(self, d: rules.Derivative, name: str) -> list:
        if name == "softmax":
            intro = P("The softmax: output ", M("k"), " of a layer with net inputs ", M(r"x_1, \dots, x_K"),
                      ", differentiated with respect to ", M("x_j"), " (quotient rule):")
            return [intro, self.steps_chain(d, r"\frac{\partial}{\partial x_j}", {}), P(
                "On the diagonal that is ", M(r"\mathrm{out}_k (1 - \mathrm{out}_k)"), ", off it ",
                M(r"-\mathrm{out}_k\, \mathrm{out}_j"), ".")]
        act = fn.ACTIVATIONS[name]
        definition = act.equation_latex("x", "a") if name != "tanh" else r"\tanh x = \frac{\sinh x}{\cosh x}"
        intro = P(f"The {name} function, ", M(definition),
                  ", differentiated with respect to ", M("x"), " (" + ", ".join(d.rules) + "):")
        blocks = [intro, self.steps_chain(d, d.derivative_latex.replace("{x}", "x"), dict(x="x"), lhs_is_name=True)]
        out, net = (r"\mathrm{out}", r"\mathrm{net}") if self.n.units else ("a", "z")
        result = rules.fill(d.result_latex, out=out, net=net)
        blocks.append(P("So for a unit with ", M(rf"{out} = {d.symbol_latex.replace('{x}', net)}"), ": ",
                        M(rf"\partial {out}/\partial {net} = {result}"), "."))
        return blocks

    def steps_chain(self, d: rules.Derivative, operator: str, names: dict, lhs_is_name: bool = False) -> Chain:
        """The derivation's lines, each with the rule that leads to it."""
        first, *rest = d.steps
        lhs = operator if lhs_is_name else rf"{operator} \left({rules.fill(first.latex, **names)}\right)"
        rows = []
        for step in rest:
            rows.append(("" if rows else lhs, "=", rf"{rules.fill(step.latex, **names)}{self.reason}{_words(step.rule)}"))
        return Chain(tuple(rows))

    # -- 3. forward pass -------------------------------------------------------------
    def forward_section(self) -> Section:
        g, spec = self.g, self.spec
        blocks = [P("Each unit's net input is the weighted sum of the outputs of the layer below plus its bias; its "
                    "output is the activation of the net input:")]
        for s in range(spec.batch):
            for l in range(1, spec.layers + 1):
                rows = []
                for j in range(spec.sizes[l]):
                    net = g.net(l, s, j)
                    definition = total(*(product(g.W(l, j, i), g.out(l - 1, s, i)) for i in range(spec.sizes[l - 1])),
                                       g.b(l, j))
                    rows += self.chain(g.latex[net], self.tex(definition), expr=definition).rows
                    act = g.activation(l)
                    named = act.latex.format(g.latex[net]) if not act.coupled else \
                        rf"\operatorname{{softmax}}({layer_vector(self.ctx, l, s)})_{{{j + 1}}}"
                    out_def = g.out_definition(l, s, j)
                    rows += self.chain(g.latex[g.out(l, s, j)], named, self.tex(out_def) if self.numbers else "",
                                       expr=out_def).rows
                blocks.append(Section(f"{self.ctx.layer_title(l)}{self.sample(s)}", 2, (Chain(tuple(rows)),)))
        return Section("Forward pass", 1, tuple(blocks), "forward")

    # -- 4. loss ---------------------------------------------------------------------
    def loss_section(self) -> Section:
        g, spec = self.g, self.spec
        blocks = [P("Each output contributes its error term; the loss is their total:")]
        rows = []
        for s in range(spec.batch):
            for k in range(spec.sizes[-1]):
                definition = g.error_definition(s, k)
                rows += self.chain(g.latex[g.error(s, k)], self.tex(definition), expr=definition).rows
            terms = total(*(g.error(s, k) for k in range(spec.sizes[-1])))
            rows += self.chain(g.latex[g.sample_loss(s)], self.tex(terms), expr=terms).rows
        if spec.batch > 1:
            parts = total(*(g.sample_loss(s) for s in range(spec.batch)))
            whole = parts if g.batch_weight == 1 else product(g.batch_weight, parts)
            rows += self.chain(self.n.loss().latex, self.tex(whole), expr=whole).rows
        blocks.append(Chain(tuple(rows)))
        return Section("Loss", 1, tuple(blocks), "loss")

    # -- 5. backward pass ------------------------------------------------------------
    def backward_section(self) -> Section:
        spec, n = self.spec, self.n
        blocks = [P("The chain rule, from the loss back to every weight and bias. Each unit's delta, the derivative "
                    "of the loss with respect to its net input, is derived as a formula; each gradient is its unit's "
                    "delta times the input the weight multiplies (for a bias, times 1), and is then written out in "
                    "the network's symbols.")]
        for l in range(spec.layers, 0, -1):
            units = []
            for j in range(spec.sizes[l]):
                unit = []
                for s in range(spec.batch):
                    if spec.batch > 1:
                        unit.append(P(f"Sample {s + 1}."))
                    unit += self.unit_blocks(l, s, j)
                unit.append(P("The weights and the bias into this unit:"))
                for i in range(spec.sizes[l - 1]):
                    unit.append(self.gradient_chain("W", l, j, i))
                unit.append(self.gradient_chain("b", l, j, None))
                title = f"Unit {n.unit(l, j).text}" if n.units else f"Unit {j + 1} of layer {l}"
                heading = P("Unit ", M(n.unit(l, j).latex)) if n.units else None
                units.append(Section(title, 3, tuple(unit), heading=heading))
            blocks.append(Section(self.ctx.layer_title(l), 2, tuple(units)))
        return Section("Backward pass", 1, tuple(blocks), "backward")

    def unit_blocks(self, l: int, s: int, j: int) -> list:
        g, n, G = self.g, self.n, self.general
        net = g.net(l, s, j)
        out_name, net_name = n.out(l, s, j), n.net(l, s, j)
        dE = n.derivative(n.sample_loss(s), out_name).latex
        dout = n.derivative(out_name, net_name).latex
        blocks = []
        act = g.activation(l)
        if act.coupled:
            return self.coupled_blocks(l, s, j)
        if l == self.spec.layers:
            blocks.append(P("How the loss changes with this output (only this output's term depends on it):"))
            formula = G.dE_dout(l, s, j)
            blocks.append(self.chain(dE, self.tex(formula), expr=formula))
        else:
            paths = [product(g.delta(l + 1, s, k), g.W(l + 1, k, j)) for k in range(self.spec.sizes[l + 1])]
            if len(paths) == 1:
                blocks.append(P(M(out_name.latex), f" feeds the single unit of {n.layer_name(l + 1)}: its derivative "
                                "is that unit's delta times the weight of the connection (the derivative of the net "
                                "input above with respect to this output):"))
            else:
                blocks.append(P(M(out_name.latex), f" feeds every unit of {n.layer_name(l + 1)}, so its derivative is "
                                "the sum over those paths: each path's delta times the weight of the connection "
                                "(the derivative of the net input above with respect to this output):"))
            named = self.tex(total(*paths))
            written = G.dE_dout(l, s, j)
            steps = [named]
            if _terms(written) <= MAX_TERMS:
                steps.append(self.tex(written))
            blocks.append(self.chain(dE, *steps, expr=written, numbers=total(*paths)))
        blocks.append(P("The derivative of the activation (derived above):"))
        local = G.dout_dnet(l, s, j)
        blocks.append(self.chain(dout, act.derivative_latex.format(g.latex[net]), self.tex(local), expr=local))
        delta = n.delta(l, s, j).latex
        reduced = G.simplification(l, s, j)
        if reduced is not None:
            blocks.append(P("Their product is the unit's delta; the factors cancel:"))
            blocks.append(self.chain(delta, rf"{dE} \cdot {dout}", self.factors(G.dE_dout(l, s, j), local),
                                     *(self.tex(step) for step in reduced.steps), self.tex(reduced.reduced),
                                     expr=reduced.reduced))
            return blocks
        blocks.append(P("Their product is the unit's delta:"))
        first = G.dE_dout(l, s, j) if l == self.spec.layers else total(*(
            product(g.delta(l + 1, s, k), g.W(l + 1, k, j)) for k in range(self.spec.sizes[l + 1])))
        steps = [rf"{dE} \cdot {dout}", self.factors(first, local)]
        expanded = G.delta(l, s, j)
        if l < self.spec.layers and _terms(expanded) <= MAX_TERMS:
            steps.append(self.tex(expanded))
        blocks.append(self.chain(delta, *steps, expr=expanded, numbers=product(first, local)))
        return blocks

    def coupled_blocks(self, l: int, s: int, j: int) -> list:
        n, G = self.n, self.general
        delta = n.delta(l, s, j).latex
        names = " + ".join(rf"{n.derivative(n.sample_loss(s), n.out(l, s, k)).latex} "
                           rf"{n.derivative(n.out(l, s, k), n.net(l, s, j)).latex}" for k in range(self.spec.sizes[l]))
        summed = G.coupled_sum(l, s, j)
        terms = sp.Add.make_args(summed)
        blocks = [P("Every output depends on ", M(n.net(l, s, j).latex), ", so the delta sums the paths through all of "
                    "them: each output's derivative times its entry of the softmax's derivative:")]
        steps = [names, self.sum_of(terms)]
        reduced = G.simplification(l, s, j)
        if reduced is not None:
            steps += [self.tex(step) for step in reduced.steps] + [self.tex(reduced.reduced)]
            blocks.append(self.chain(delta, *steps, expr=reduced.reduced))
            blocks.append(P("(collected in ", M(n.out(l, s, j).latex), "; the targets of a sample sum to 1).",))
            return blocks
        blocks.append(self.chain(delta, *steps, expr=summed))
        return blocks

    def gradient_chain(self, kind: str, l: int, j: int, i) -> Chain:
        g, n, G = self.g, self.n, self.general
        pname = n.parameter(kind, l, j, i)
        lhs = n.derivative(n.loss(), pname).latex
        steps = []
        formula = G.gradient(kind, l, j, i)
        if self.spec.batch == 1:
            out_name, net_name = n.out(l, 0, j), n.net(l, 0, j)
            dnet = n.derivative(net_name, pname).latex
            if g.activation(l).coupled:
                steps.append(rf"{n.delta(l, 0, j).latex} \cdot {dnet}")
            else:
                steps.append(rf"{n.derivative(n.sample_loss(0), out_name).latex} \cdot "
                             rf"{n.derivative(out_name, net_name).latex} \cdot {dnet}")
            factors = tuple(f for f in G.factors(kind, l, 0, j, i) if f != 1) or (sp.Integer(1),)
            steps.append(self.factors(*factors))
            # the numbers: the unit's delta by its value, as the hand calculation reuses it (below the output layer)
            local = G.dnet_dparam(kind, l, 0, j, i)
            reused = product(g.delta(l, 0, j), local) if local != 1 else g.delta(l, 0, j)
            by_value = reused if l < self.spec.layers else None
            if self.tex(formula) != self.tex(product(*factors)) and _terms(formula) <= MAX_TERMS:
                steps.append(self.tex(formula))
            if self.numbers and by_value is not None:
                steps.append(self.tex(reused))  # the unit's delta named again: its value is put in next
            return self.chain(lhs, *steps, expr=formula, numbers=by_value)
        else:
            parts = [n.derivative(n.sample_loss(s), pname).latex for s in range(self.spec.batch)]
            joined = " + ".join(parts)
            steps.append(joined if g.batch_weight == 1 else rf"{self.tex(g.batch_weight)} \left({joined}\right)")
            named = [product(g.delta(l, s, j), G.dnet_dparam(kind, l, s, j, i)) for s in range(self.spec.batch)]
            summed = total(*named)
            named_form = summed if g.batch_weight == 1 else product(g.batch_weight, summed)
            steps.append(self.tex(named_form))
            if _terms(formula) <= MAX_TERMS and not self.numbers:
                steps.append(self.tex(formula))
            return self.chain(lhs, *steps, expr=formula, numbers=named_form)
        if _terms(formula) <= MAX_TERMS:
            steps.append(self.tex(formula))
        return self.chain(lhs, *steps, expr=formula)

    # -- 6. update -------------------------------------------------------------------
    def update_section(self) -> Section:
        spec, n, g = self.spec, self.n, self.g
        if optimizer.active(self.s):  # the optimizer's rule, each line in general (its numbers: the worked solution)
            blocks = [P("Each parameter ", M("p"), " is updated by the optimizer's rule, from its gradient ",
                        M(r"\partial E/\partial p"), ":"), *optimizer._rule(self.ctx)]
            return Section("Update", 1, tuple(blocks), "update")
        blocks = [P("Each parameter moves against its gradient:")]
        eta = sp.Symbol("eta", positive=True)
        names = dict(g.latex)
        names[eta] = r"\eta"
        for l in range(spec.layers, 0, -1):
            for j in range(spec.sizes[l]):
                for i in list(range(spec.sizes[l - 1])) + ([None] if spec.update_biases else []):
                    kind = "W" if i is not None else "b"
                    pname = n.parameter(kind, l, j, i)
                    rows = [(n.updated(pname).latex, "=",
                             rf"{pname.latex} - \eta\, {n.derivative(n.loss(), pname).latex}")]
                    if self.numbers:
                        grad = self.s.document_derivation.gradient(kind, l, j, i)
                        value = grad.updated.value
                        filled = (rf"{shown(grad.parameter.value, self.digits).latex} - "
                                  rf"{shown(spec.learning_rate, self.digits).latex} \cdot "
                                  rf"{_paren(shown(grad.gradient.value, self.digits).latex)}")
                        rows.append(("", "=", filled))
                        s = shown(value, self.digits)
                        rows.append(("", s.relation, s.latex))
                    blocks.append(Chain(tuple(rows)))
        return Section("Update", 1, tuple(blocks), "update")


def _terms(expr) -> int:
    """How many products a formula has once multiplied out (how long it is to read)."""
    return len(sp.Add.make_args(sp.expand(expr)))


def _value(expr, values):
    """The value of a formula with the pass's numbers put in (exact where they are)."""
    return evaluate(expr, {s: values[s] for s in expr.free_symbols})


def _paren(text: str) -> str:
    return rf"\left({text}\right)" if text.startswith("-") else text


def _words(rule: str) -> str:
    """A rule's words as LaTeX: the text in \\text{...}, the parts between $ signs as mathematics."""
    parts = rule.split("$")
    return " ".join(rf"\text{{{part}}}" if k % 2 == 0 else part for k, part in enumerate(parts) if part)


def build(solution: Solution, options: Options = Options(symbolic="general")) -> Document:
    """The general derivation of a solved network as a document model (the options' ``symbolic``: 'general' or
    'then-numbers')."""
    return SymbolicWriter(Context(solution, options)).document()
