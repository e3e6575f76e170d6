"""The worked solution as a document: what a lecturer writes, step by step, with every number.

Small networks get every scalar written out, the way the blog does it: the general
formula, the numbers put in, the value. Large ones (more than 6 units in a layer
or more than 60 parameters) get the vectorised form the first source document uses,
every entry in tables, and full scalar derivations for a chosen subset
(``detail``). The matrix notation writes any network in that form, with the
matrices and their numbers typeset where they fit (derive.vectorised).
"""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.core.expressions import latex as written_latex
from derive.core.graph import product, total
from derive.core.solve import Solution
from derive.documents import optimizer
from derive.documents.diagram import build as diagram
from derive.documents.matrix import VectorWriter, width
from derive.documents.model import Chain, Document, Figure, M, P, Paragraph, Plot, Section, Table
from derive.documents.printing import DEFAULT_DIGITS, latex, shown, with_numbers

#: terms per displayed line in a long weighted sum, so that no line runs off the page
TERMS_PER_LINE = 3
#: how much wider a frame's full width is than the column beside a diagram
FULL_WIDTH = 1.6
#: matrix columns per table, so that tables fit a printed page
COLUMNS_PER_TABLE = 6


def is_large(solution: Solution) -> bool:
    """True when the scalar form would be unreadable: written in matrix form instead."""
    spec = solution.spec
    return max(spec.sizes) > 6 or spec.parameter_count > 60


def in_matrix_form(solution: Solution) -> bool:
    """True when the document is written with vectors and matrices: the matrix notation, or a large network."""
    return solution.matrix_form or is_large(solution)


class Writer:
    """Builds the document of one solution; holds the printing settings."""

    def __init__(self, solution: Solution, digits: int = DEFAULT_DIGITS, detail=None):
        self.s = solution
        self.spec = solution.spec
        self.n = solution.document_names
        self.g = solution.document_graph
        self.d = solution.document_derivation
        self.run = solution.first
        self.values = self.d.values
        self.digits = digits
        self.detail = detail
        self.line_width = None  # a column of this many digit widths (the slides) packs sums by width instead
        self.book = self.n.convention  # a textbook's convention, or None
        self.eta = self.book.rate.latex if self.book else r"\eta"  # the learning rate's symbol

    # -- small helpers ---------------------------------------------------------------
    def num(self, x) -> str:
        return shown(x, self.digits).latex

    def given(self, x, place: str) -> str:
        """A given number as the spec writes it: a constant as written (1 + sin(pi/4)), else its digits."""
        text = self.spec.written_as(place)
        return written_latex(text) if text is not None else self.num(x)

    def rel(self, x) -> str:
        return shown(x, self.digits).relation

    def tex(self, expr) -> str:
        return latex(expr, self.g.latex)

    def nums(self, expr) -> str:
        return with_numbers(expr, self.g.latex, self.values, self.digits)

    def chain(self, lhs: str, value, *steps: str) -> Chain:
        """lhs = step = step ... (= or ~) value, dropping steps that repeat the previous one or the value."""
        final = self.num(value)
        bare = {final, rf"\left({final}\right)"}
        rows, previous = [], lhs
        for step in steps:
            if step and step != previous and step not in bare:
                rows.append(("" if rows else lhs, "=", step))
                previous = step
        rows.append(("" if rows else lhs, self.rel(value), final))
        return Chain(tuple(rows))

    @staticmethod
    def _packed(terms: list[str], room: float, per_line: int | None) -> list[list[str]]:
        """Terms in lines as wide as ``room`` digit widths (one term at least; at most ``per_line``)."""

        lines = [[]]
        for term in terms:
            line = lines[-1]
            if line and (width(" + ".join(line + [term])) + (2 if len(lines) > 1 else 0) > room
                         or len(line) == (per_line or len(terms))):
                lines.append([])
            lines[-1].append(term)
        return lines

    def sum_rows(self, lhs: str, relation: str, terms: list[str], first: bool, per_line: int | None = None) -> list[tuple]:
        """A long sum broken into lines of ``per_line`` terms (default: TERMS_PER_LINE).

        With a ``line_width`` the lines are filled by width instead, as many terms as fit
        beside the left-hand side (at most ``per_line`` when it is given).
        """
        if not terms:
            return []
        if self.line_width:

            lines = self._packed(terms, self.line_width - width(lhs) - 2, per_line)
            if len(lines) > 2:  # a sum this long is better on the frame's full width, without the diagram
                lines = self._packed(terms, self.line_width * FULL_WIDTH - width(lhs) - 2, per_line)
        else:
            per_line = per_line or TERMS_PER_LINE
            lines = [terms[start:start + per_line] for start in range(0, len(terms), per_line)]
        rows = []
        for k, line in enumerate(lines):
            piece = " + ".join(line)
            rows.append((lhs if first else "", relation, piece) if k == 0 else ("", "", r"\quad {} + " + piece))
        return rows

    def layer_title(self, l: int) -> str:
        words = self.n.layer_name(l)
        return words[0].upper() + words[1:]

    def sample_note(self, s: int) -> str:
        return f" (sample {s + 1})" if self.spec.batch > 1 else ""

    # -- the document ----------------------------------------------------------------
    def document(self) -> Document:
        sections = [self.network_section()]
        if in_matrix_form(self.s):

            vw = VectorWriter(self)
            sections += vw.sections()
        else:
            sections += [self.forward_section(), self.loss_section(), self.backward_section()]
            sections.append(self.update_section())
        sections.append(self.summary_section())
        if self.spec.steps > 1:
            sections.append(self.history_section())
        sections = optimizer.sections(self, sections)  # another optimizer's update and loss history
        subtitle = (
            f"{'-'.join(map(str, self.spec.sizes))} network, {' / '.join(self.spec.activations)} activations, "
            f"{fn.LOSSES[self.spec.loss].title}, learning rate {self.num(self.spec.learning_rate)}"
        )
        return Document(self.spec.title, subtitle, tuple(sections))

    # -- 1. the network --------------------------------------------------------------
    def network_section(self) -> Section:
        spec, n = self.spec, self.n
        L = spec.layers
        blocks = []
        if n.units:
            blocks.append(P(
                f"The network has {spec.sizes[0]} inputs ", M(", ".join(n.input(None, i).latex for i in range(spec.sizes[0]))),
                f", a hidden layer of {spec.sizes[1]} units ", M(", ".join(n.unit(1, j).latex for j in range(spec.sizes[1]))),
                f" and {spec.sizes[2]} output units ", M(", ".join(n.unit(2, j).latex for j in range(spec.sizes[2]))), ".",
            ))
        else:
            hidden = ", ".join(str(x) for x in spec.sizes[1:-1])
            blocks.append(P(
                f"The network has {spec.sizes[0]} input{'s' if spec.sizes[0] > 1 else ''} ",
                M(", ".join(f"x_{{{i + 1}}}" for i in range(spec.sizes[0])) if spec.sizes[0] <= 3
                  else r"x_1, \dots, x_{" + str(spec.sizes[0]) + "}"),
                f", {L - 1} hidden layer{'s' if L > 2 else ''} of {hidden} units and {spec.sizes[-1]} output unit"
                f"{'s' if spec.sizes[-1] > 1 else ''}. Layer ", M("l"), " is written as a superscript ",
                M("[l]"), "; the output layer is layer ", M(str(L)), ".",
            ))
        same = len(set(spec.activations)) == 1
        for l in range(1, L + 1):
            act = fn.ACTIVATIONS[spec.activations[l - 1]]
            if same and l > 1:
                break
            generic_net = r"\mathrm{net}" if n.units else f"z^{{[{l}]}}"
            where = "every unit" if same else f"each unit of {n.layer_name(l)}"
            output = ("the outputs are the softmax of the layer's net inputs, probabilities that sum to 1"
                      if act.coupled else f"its output is the {act.name} activation of the net input")
            blocks.append(P(
                f"The net input of {where} is the weighted sum of its inputs plus its bias; {output}: ",
                M(self._activation_formula(act, generic_net, l)), ".",
            ))
        blocks += self.loss_definition()
        if spec.loss == "cross_entropy":
            blocks.append(P(
                "PyTorch's CrossEntropyLoss takes the output layer's net inputs as logits and applies the softmax "
                "itself; here that softmax is written as the output layer's activation, so that its step and its "
                "derivative show. The targets are class probabilities (a one-hot row names the right class).",
            ))
        N, K = spec.batch, spec.sizes[-1]
        if spec.loss == "mse" and N * K == 2:
            blocks.append(P(
                f"Here N = {N} sample{'s' if N > 1 else ''} and K = {K} output{'s' if K > 1 else ''}, so the mean "
                "divides by 2: for this network the mean squared error equals one half of the sum of squared "
                "errors, and its numbers agree with the half-sum convention.",
            ))
        blocks.append(self.rate_sentence())
        note = self.convention_note()
        if note is not None:
            blocks.append(note)
        matrices = None
        if in_matrix_form(self.s):

            matrices = VectorWriter(self)
            blocks += matrices.layout_blocks()
        elif not n.units:
            l1 = r"W^{[l]}_{j,i}" if spec.weight_layout == "out_in" else r"W^{[l]}_{i,j}"
            blocks.append(P(
                "Weights are indexed as the spec writes its matrices: ", M(l1),
                " connects unit i of layer l - 1 to unit j of layer l",
                " (one row per unit of layer l, as torch.nn.Linear stores them)." if spec.weight_layout == "out_in"
                else " (one row per input, as in x @ W).",
            ))

        network = diagram(self.s, "weights")
        blocks.insert(1, Figure(network, "network.svg"))
        if matrices is None:
            blocks += [self.parameter_table(), self.data_table()]
        else:
            blocks += matrices.starting_blocks()
            blocks += matrices.data_blocks() or [self.data_table()]
        exact = ("every value is an exact rational number" if self.s.exact
                 else "every value is carried with 60 significant digits")
        blocks.append(P(
            f"How to read the numbers: {exact}, and only printing rounds, to at most {self.digits} significant "
            "digits. ", M("="), " before a result marks a printed number that is exact, ", M(r"\approx"),
            " one that was rounded. A line with the numbers put in shows them rounded; its result is computed "
            "from the unrounded values.",
        ))
        return Section("The network", 1, tuple(blocks), "network")

    def loss_definition(self) -> list:
        """The loss in words, then its formula."""
        lhs, rhs = self._loss_formula().split(" = ", 1)
        return [P(f"The loss is {fn.LOSSES[self.spec.loss].description}:"), Chain(((lhs, "=", rhs),))]

    def rate_sentence(self) -> Paragraph:
        """The learning rate, and whether the biases are updated."""
        if optimizer.active(self.s):
            return optimizer.rate_sentence(self)
        rule = "biases are updated too" if self.spec.update_biases else "biases are not updated"
        return P("One step of gradient descent with learning rate ", M(rf"{self.eta} = " + self.num(self.spec.learning_rate)),
                 f"; {rule}.")

    def convention_note(self) -> Paragraph | None:
        """The book's names, the sign of its error term and its update, when the document speaks a book's convention."""
        book = self.book
        if book is None:
            return None
        n, L = self.n, self.spec.layers
        net, out, delta = n.net(L, None, 0).latex, n.out(L, None, 0).latex, n.delta(L, None, 0).latex
        sign = ("the error term is the derivative of the loss with respect to the net input, "
                if book.error_sign > 0 else
                "the error term is the negative of the derivative of the loss with respect to the net input, so the "
                "derivative is written with its minus sign, ")
        return P(f"The names are those of {book.title}: net input ", M(net), ", output ", M(out), "; ", sign,
                 M(rf"{delta} = \partial {n.loss().latex} / \partial {net}"), ". The update in the book's form: ",
                 M(book.update), ".")

    def _activation_formula(self, act, net: str, l: int = 1) -> str:
        formulas = {
            "sigmoid": rf"\sigma({net}) = \frac{{1}}{{1 + e^{{-{net}}}}}",
            "tanh": rf"\tanh({net}) = \frac{{e^{{{net}}} - e^{{-{net}}}}}{{e^{{{net}}} + e^{{-{net}}}}}",
            "relu": rf"\operatorname{{ReLU}}({net}) = \max(0, {net})",
            "identity": rf"\mathrm{{out}} = {net}" if net == r"\mathrm{net}" else rf"a^{{[{l}]}} = {net}",
            "softmax": (r"\mathrm{out}_k = \frac{e^{\mathrm{net}_k}}{\sum_{m} e^{\mathrm{net}_m}}"
                        if net == r"\mathrm{net}" else
                        rf"a^{{[{l}]}}_k = \frac{{e^{{z^{{[{l}]}}_k}}}}{{\sum_{{m}} e^{{z^{{[{l}]}}_m}}}}"),
        }
        if act.name in formulas:
            return formulas[act.name]
        # leaky_relu(SLOPE): the slope as the spec writes it
        slope = act.name[len("leaky_relu("):-1] if "(" in act.name else fn.LEAKY_SLOPE
        return act.latex.format(net) + rf" = \max({slope}\,{net}, {net})"

    def _loss_formula(self) -> str:
        n, spec = self.n, self.spec
        E = n.loss().latex
        t, o = (r"t_{o_k}", r"\mathrm{out}_{o_k}") if n.units else ("t_k", rf"a^{{[{spec.layers}]}}_k")
        if self.book is not None:
            t, o = f"{self.book.target.latex}_k", f"{self.book.out.latex}_k"
        if spec.batch > 1:
            t, o = "{" + t + "}^{(n)}", "{" + o + "}^{(n)}"
        N, K = spec.batch, spec.sizes[-1]
        sums = (r"\sum_{n=1}^{" + str(N) + "}" if N > 1 else "") + r"\sum_{k=1}^{" + str(K) + "}"
        if N * K == 1:
            t, o = t.replace("_k", "_1").replace("o_k", "o_1"), o.replace("_k", "_1").replace("o_k", "o_1")
            sums = ""
        if spec.loss == "half_sse":
            return rf"{E} = {sums} \tfrac{{1}}{{2}} ({t} - {o})^2"
        if spec.loss == "sse":
            return rf"{E} = {sums} ({t} - {o})^2"
        if spec.loss == "cross_entropy":
            mean = "" if N == 1 else r"\frac{1}{N} "
            return rf"{E} = -{mean}{sums} {t} \ln {o}"
        factor = "" if N * K == 1 else r"\frac{1}{N K} "
        if spec.loss == "bce":
            return rf"{E} = -{factor}{sums} \left({t} \ln {o} + (1 - {t}) \ln(1 - {o})\right)"
        return rf"{E} = {factor}{sums} ({o} - {t})^2"

    def parameter_table(self) -> Table:
        spec, n = self.spec, self.n
        rows = []
        for l in range(1, spec.layers + 1):
            for j in range(spec.sizes[l]):
                for i in range(spec.sizes[l - 1]):
                    src = n.out(l - 1, None, i).latex if l > 1 else n.input(None, i).latex
                    src = n.unit(l - 1, i).latex if (n.units and l > 1) else src
                    rows.append((n.weight(l, j, i).latex, rf"{src} \to {n.unit(l, j).latex}" if n.units
                                 else rf"\text{{unit }} {i + 1} \to {j + 1}", self.given(self.run.weights[l][j][i], f"W{l}[{j}][{i}]")))
                rows.append((n.bias(l, j).latex, rf"\text{{bias of }} {n.unit(l, j).latex}" if n.units
                             else rf"\text{{bias of unit }} {j + 1}", self.given(self.run.biases[l][j], f"b{l}[{j}]")))
        return Table(("parameter", "connects", "value"), tuple(rows), ("math", "math", "math"), "llr",
                     "Starting parameters")

    def data_table(self) -> Table:
        spec, n = self.spec, self.n
        header = ["sample"] + [M(n.input(None, i).latex) for i in range(spec.sizes[0])] + \
                 [M(n.target(None, k).latex) for k in range(spec.sizes[-1])]
        x = [[self.given(v, f"inputs[{s}][{i}]") for i, v in enumerate(row)] for s, row in enumerate(spec.inputs)]
        t = [[self.given(v, f"targets[{s}][{k}]") for k, v in enumerate(row)] for s, row in enumerate(spec.targets)]
        rows = [tuple([str(s + 1)] + x[s] + t[s]) for s in range(spec.batch)]
        if len(header) > COLUMNS_PER_TABLE + 2:  # a wide input: one row per input instead
            header = ["", *(f"sample {s + 1}" for s in range(spec.batch))]
            rows = [(n.input(None, i).latex, *(x[s][i] for s in range(spec.batch))) for i in range(spec.sizes[0])]
            rows += [(n.target(None, k).latex, *(t[s][k] for s in range(spec.batch))) for k in range(spec.sizes[-1])]
            return Table(tuple(header), tuple(rows), ("math",) * len(header), "l" + "r" * spec.batch,
                         "Inputs and targets")
        kinds = ("text",) + ("math",) * (len(header) - 1)
        return Table(tuple(header), tuple(rows), kinds, "c" + "r" * (len(header) - 1), "Inputs and targets")

    # -- 2. forward pass --------------------------------------------------------------
    def net_chain(self, l: int, s: int, j: int) -> Chain:
        g = self.g
        lhs = g.latex[g.net(l, s, j)]
        general = [self.tex(product(g.W(l, j, i), g.out(l - 1, s, i))) for i in range(self.spec.sizes[l - 1])]
        general.append(self.tex(g.b(l, j)))
        numbers = [self.nums(product(g.W(l, j, i), g.out(l - 1, s, i))) for i in range(self.spec.sizes[l - 1])]
        numbers.append(self.nums(g.b(l, j)))
        value = self.run.net[l][s][j]
        rows = self.sum_rows(lhs, "=", general, True) + self.sum_rows(lhs, "=", numbers, False)
        final = self.num(value)
        rows.append(("", self.rel(value), final))
        return Chain(tuple(rows))

    def out_chain(self, l: int, s: int, j: int) -> Chain:
        g = self.g
        act = self.g.activation(l)
        net = g.net(l, s, j)
        lhs = g.latex[g.out(l, s, j)]
        definition = g.out_definition(l, s, j)
        named = act.latex.format(g.latex[net])
        if act.coupled:
            named = rf"\operatorname{{softmax}}({self.layer_vector(l, s)})_{{{j + 1}}}"
        return self.chain(lhs, self.run.out[l][s][j], named, self.tex(definition), self.nums(definition))

    def forward_section(self) -> Section:
        blocks = []
        spec = self.spec
        for s in range(spec.batch):
            for l in range(1, spec.layers + 1):
                inner = []
                if self.g.activation(l).coupled:
                    # each softmax output needs every net input of its layer
                    inner += [self.net_chain(l, s, j) for j in range(spec.sizes[l])]
                    inner.append(P("The softmax turns the net inputs into probabilities that sum to 1:"))
                    inner += [self.out_chain(l, s, j) for j in range(spec.sizes[l])]
                for j in range(spec.sizes[l] if not inner else 0):
                    inner.append(self.net_chain(l, s, j))
                    inner.append(self.out_chain(l, s, j))
                blocks.append(Section(f"{self.layer_title(l)}{self.sample_note(s)}", 2, tuple(inner)))
        intro = P("Each unit's net input is the weighted sum of the outputs of the layer below plus its bias; "
                  "its output is the activation of the net input. Layer by layer, from the inputs up:")
        return Section("Forward pass", 1, (intro, *blocks), "forward")

    # -- 3. loss ---------------------------------------------------------------------
    def loss_section(self) -> Section:
        spec, g, n, r = self.spec, self.g, self.n, self.run
        blocks = [P("Each output contributes its error term; the loss is their total.")]
        for s in range(spec.batch):
            for k in range(spec.sizes[-1]):
                definition = g.error_definition(s, k)
                blocks.append(self.chain(g.latex[g.error(s, k)], r.errors[s][k], self.tex(definition), self.nums(definition)))
            terms = [g.error(s, k) for k in range(spec.sizes[-1])]
            blocks.append(self.chain(
                g.latex[g.sample_loss(s)], r.sample_losses[s], self.tex(total(*terms)), self.nums(total(*terms)),
            ))
        if spec.batch > 1:
            weight = g.batch_weight
            parts = total(*(g.sample_loss(s) for s in range(spec.batch)))
            general = self.tex(product(weight, parts)) if weight != 1 else self.tex(parts)
            numbers = (rf"{self.tex(weight)} \left({self.nums(parts)}\right)" if weight != 1 else self.nums(parts))
            blocks.append(P("The loss of the batch is the " + ("mean" if weight != 1 else "sum") + " over the samples:"))
            blocks.append(self.chain(n.loss().latex, r.loss, general, numbers))
        return Section("Loss", 1, tuple(blocks), "loss")

    # -- 4. backward pass ------------------------------------------------------------
    def unit_blocks(self, l: int, s: int, j: int) -> list:
        """dE/dout, dout/dnet and delta of one unit."""
        n, g = self.n, self.g
        u = self.d.unit(l, s, j)
        if u.coupling:
            return self.coupled_blocks(u)
        out_name = n.out(l, s, j)
        blocks = []
        if l == self.spec.layers:
            blocks.append(P(
                "How the loss changes with this output: the derivative of ", M(n.sample_loss(s).latex),
                " with respect to ", M(out_name.latex), ", in which only this output's error term depends on it:",
            ))
            blocks.append(self.chain(u.dE_dout.name.latex, u.dE_dout.value, self.tex(u.dE_dout.general),
                                     self.nums(u.dE_dout.general)))
        elif len(u.paths) == 1:
            p = u.paths[0]
            blocks.append(P(M(out_name.latex), f" feeds the single unit of {n.layer_name(l + 1)}; along that path, ",
                            M(p.dnet_dout.name.latex), " is the weight of the connection:"))
            blocks.append(self.chain(
                u.dE_dout.name.latex, u.dE_dout.value,
                rf"{p.delta.name.latex} \cdot {p.dnet_dout.name.latex}",
                self.tex(u.dE_dout.general), self.nums(u.dE_dout.general),
            ))
        else:
            above = ", ".join(n.unit(l + 1, k).latex if n.units else f"{k + 1}" for k in range(self.spec.sizes[l + 1]))
            blocks.append(P(
                M(out_name.latex), f" feeds every unit of {n.layer_name(l + 1)} (", M(above),
                "), so its derivative is the sum over those paths; along each path, ",
                M(r"\partial \mathrm{net}/\partial \mathrm{out}") if n.units else M(r"\partial z/\partial a"),
                " is the weight of the connection:",
            ))
            for p in u.paths:
                factors = rf"{p.delta.name.latex} \cdot {p.dnet_dout.name.latex}"
                general = self.tex(product(p.delta.general, p.dnet_dout.general))
                numbers = self.nums(product(p.delta.general, p.dnet_dout.general))
                if p.name.latex == general:  # below a softmax a path is named by its product: not said twice
                    blocks.append(self.chain(factors, p.value, general, numbers))
                else:
                    blocks.append(self.chain(p.name.latex, p.value, factors, general, numbers))
            # the sum over paths, TERMS_PER_LINE terms to a line so that wide layers fit the page
            lhs = u.dE_dout.name.latex
            terms = [product(p.delta.general, p.dnet_dout.general) for p in u.paths]
            names, general = [p.name.latex for p in u.paths], [self.tex(t) for t in terms]
            # the blog's path names first (below a softmax the names are the products themselves)
            rows = self.sum_rows(lhs, "=", names, True) if n.units and names != general else []
            rows += self.sum_rows(lhs, "=", general, not rows)
            # the paths' values, as computed above (the blog adds them, it does not multiply again)
            values = self.sum_rows(lhs, "=", [self.num(p.value) for p in u.paths], False)
            rows += [(a, r, m.replace("+ -", "- ")) for a, r, m in values]
            rows.append(("", self.rel(u.dE_dout.value), self.num(u.dE_dout.value)))
            blocks.append(Chain(tuple(rows)))
        act = g.activation(l)
        net = g.latex[g.net(l, s, j)]
        blocks.append(P("The derivative of the activation:"))
        blocks.append(self.chain(
            u.dout_dnet.name.latex, u.dout_dnet.value, act.derivative_latex.format(net),
            self.tex(u.dout_dnet.general), self.nums(u.dout_dnet.general),
        ))
        if l == self.spec.layers and self.spec.loss == "bce" and act.name == "sigmoid":
            # the textbook simplification, derived here from the two factors rather than asserted

            simplified = sp.factor(sp.simplify(u.dE_dout.general * u.dout_dnet.general))
            K = self.spec.sizes[-1]
            blocks.append(P("Their product is the unit's delta. With a sigmoid output and the binary cross-entropy "
                            "the factors cancel, leaving the error " +
                            (f"divided by the number of outputs (the loss is their mean, K = {K}):" if K > 1
                             else "itself:")))
            blocks.append(self.chain(
                u.delta.name.latex, u.delta.value,
                rf"{u.dE_dout.name.latex} \cdot {u.dout_dnet.name.latex}",
                rf"\left({self.tex(u.dE_dout.general)}\right) {self.tex(u.dout_dnet.general)}",
                self.tex(simplified), self.nums(simplified),
            ))
            return blocks
        blocks.append(P("Their product is the unit's delta, used by every weight into it:"))
        blocks.append(self.chain(
            u.delta.name.latex, u.delta.value,
            rf"{u.dE_dout.name.latex} \cdot {u.dout_dnet.name.latex}",
            rf"{self.num(u.dE_dout.value)} \cdot {_paren(self.num(u.dout_dnet.value))}",
        ))
        return blocks

    def layer_vector(self, l: int, s: int) -> str:
        """The vector of a layer's net inputs, for softmax(net)_j."""
        vector = r"\mathbf{net}" if self.n.units else rf"\mathbf{{z}}^{{[{l}]}}"
        return vector + (f"^{{({s + 1})}}" if self.spec.batch > 1 and self.n.units else "")

    def softmax_blocks(self, l: int, s: int) -> list:
        """The factors every softmax unit's delta shares: dE/dout_k for each output, the Jacobian d out_k/d net_j."""
        n, spec = self.n, self.spec
        K = spec.sizes[l]
        units = [self.d.unit(l, s, j) for j in range(K)]
        blocks = [P(
            *((f"Sample {s + 1}. ",) if spec.batch > 1 else ()),
            "How the loss changes with each output: the derivative of ", M(n.sample_loss(s).latex),
            " with respect to each output, in which only that output's term depends on it:",
        )]
        for k in range(K):
            e = units[0].coupling[k].dE_dout
            blocks.append(self.chain(e.name.latex, e.value, self.tex(e.general), self.nums(e.general)))
        blocks.append(P(
            "The softmax couples the outputs: each output depends on every net input of the layer. The derivative "
            "of the softmax is the Jacobian ", M(r"\partial \mathrm{out}_k/\partial \mathrm{net}_j = "
                                                 r"\mathrm{out}_k ([k = j] - \mathrm{out}_j)" if n.units else
                                                 rf"\partial a^{{[{l}]}}_k/\partial z^{{[{l}]}}_j = "
                                                 rf"a^{{[{l}]}}_k ([k = j] - a^{{[{l}]}}_j)"),
            ", where ", M("[k = j]"), " is 1 when ", M("k = j"), " and 0 otherwise: ",
            M(r"\mathrm{out}_k (1 - \mathrm{out}_k)" if n.units else rf"a^{{[{l}]}}_k (1 - a^{{[{l}]}}_k)"),
            " on the diagonal and ", M(r"-\mathrm{out}_k\, \mathrm{out}_j" if n.units else rf"-a^{{[{l}]}}_k a^{{[{l}]}}_j"),
            " off it, so the matrix is symmetric.",
        ))
        for j in range(K):
            for k in range(j, K):
                d = units[j].coupling[k].dout_dnet
                lhs = d.name.latex
                if k != j:  # the Jacobian is symmetric: one chain for both entries
                    lhs = rf"{units[k].coupling[j].dout_dnet.name.latex} = {lhs}"
                blocks.append(self.chain(lhs, d.value, self.tex(d.general), self.nums(d.general)))
        rows = r" \\ ".join(" & ".join(self.num(self.run.jacobian[l][s][k][j]) for j in range(K)) for k in range(K))
        top = r"\mathbf{out}" if n.units else rf"\mathbf{{a}}^{{[{l}]}}"
        jac = rf"\frac{{\partial {top}}}{{\partial {self.layer_vector(l, s)}}}"
        blocks.append(P("As a matrix (row ", M("k"), ", column ", M("j"),
                        "); each column sums to 0, since the outputs always sum to 1:"))
        blocks.append(Chain(((jac, r"\approx" if not self.s.exact else "=", rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}"),)))
        return blocks

    def coupled_blocks(self, u) -> list:
        """delta of a softmax unit: the sum over every output, reduced where SymPy reduces it."""
        n = self.n
        l, s, j = u.layer, u.sample, u.unit
        blocks = [P(
            "Every output depends on ", M(n.net(l, s, j).latex), ", so its delta sums the paths through all "
            "of them, each the output's derivative times its entry of the Jacobian:",
        )]
        names = [rf"{c.dE_dout.name.latex} {c.dout_dnet.name.latex}" for c in u.coupling]
        general = [f"{_paren(self.tex(c.dE_dout.general))} {_paren(self.tex(c.dout_dnet.general))}" for c in u.coupling]
        numbers = [rf"{_paren(self.num(c.dE_dout.value))} \cdot {_paren(self.num(c.dout_dnet.value))}" for c in u.coupling]
        lhs = u.delta.name.latex
        # two products of fractions to a line, so that the sum fits the page
        rows = self.sum_rows(lhs, "=", names, True, 2) + self.sum_rows(lhs, "=", general, False, 2)
        if u.simplified:
            cancelled, collected, final = u.simplified
            blocks.append(Chain(tuple(rows)))
            blocks.append(P(
                "In each product the output in the denominator cancels against the same output in the "
                "Jacobian entry. Collected in ", M(n.out(l, s, j).latex), ", what multiplies it is the sum of the "
                "sample's targets, which is 1 (", M(" + ".join(n.target(s, k).latex for k in range(len(u.coupling))) + " = 1"),
                ", one-hot or class probabilities). The delta is the output minus its target, the textbook result "
                "for softmax with cross-entropy:",
            ))
            blocks.append(self.chain(lhs, u.delta.value, self.tex(cancelled), self.tex(collected), self.tex(final),
                                     self.nums(final)))
            blocks.append(P("The Jacobian's numbers give the same value:"))
            numbered = self.sum_rows(lhs, "=", numbers, True, 2)
            numbered.append(("", self.rel(u.delta.value), self.num(u.delta.value)))
            blocks.append(Chain(tuple(numbered)))
            return blocks
        rows += self.sum_rows(lhs, "=", numbers, False, 2)
        rows.append(("", self.rel(u.delta.value), self.num(u.delta.value)))
        blocks.append(Chain(tuple(rows)))
        return blocks

    def gradient_blocks(self, kind: str, l: int, j: int, i=None) -> list:
        """dE/d parameter as the product of the chain-rule factors, sample by sample."""
        n = self.n
        grad = self.d.gradient(kind, l, j, i)
        blocks = []
        pname = grad.parameter.name
        if len(grad.contributions) == 1:
            c = grad.contributions[0]
            u = self.d.unit(l, c.sample, j)
            factors = rf"{u.dE_dout.name.latex} \cdot {u.dout_dnet.name.latex} \cdot {c.dnet_dparam.name.latex}"
            if u.coupling:  # a softmax unit's delta is a sum over the outputs, not one product
                factors = rf"{c.delta.name.latex} \cdot {c.dnet_dparam.name.latex}"
            if kind == "b":
                blocks.append(self.chain(grad.gradient.name.latex, grad.gradient.value, factors,
                                         rf"{c.delta.name.latex} \cdot 1", c.delta.name.latex))
                return blocks
            blocks.append(self.chain(
                grad.gradient.name.latex, grad.gradient.value, factors,
                rf"{c.delta.name.latex} \cdot {self.tex(c.dnet_dparam.general)}",
                rf"{self.num(c.delta.value)} \cdot {_paren(self.num(c.dnet_dparam.value))}",
            ))
            return blocks
        for c in grad.contributions:
            top = n.derivative(n.sample_loss(c.sample), pname)
            blocks.append(self.chain(
                top.latex, c.value, rf"{c.delta.name.latex} \cdot {self.tex(c.dnet_dparam.general)}",
                rf"{self.num(c.delta.value)} \cdot {_paren(self.num(c.dnet_dparam.value))}",
            ))
        weight = self.g.batch_weight
        if len(grad.contributions) > TERMS_PER_LINE:  # many samples: the sum TERMS_PER_LINE terms to a line
            parts = [n.derivative(n.sample_loss(c.sample), pname).latex for c in grad.contributions]
            numbers = [_paren(self.num(c.value)) for c in grad.contributions]
            if weight != 1:
                for terms in (parts, numbers):
                    terms[0], terms[-1] = rf"{self.tex(weight)} \bigl({terms[0]}", rf"{terms[-1]} \bigr)"
            lhs, value = grad.gradient.name.latex, grad.gradient.value
            rows = self.sum_rows(lhs, "=", parts, True) + self.sum_rows(lhs, "=", numbers, False)
            blocks.append(Chain((*rows, ("", self.rel(value), self.num(value)))))
            return blocks
        parts = " + ".join(n.derivative(n.sample_loss(c.sample), pname).latex for c in grad.contributions)
        numbers = " + ".join(_paren(self.num(c.value)) for c in grad.contributions)
        if weight != 1:
            parts, numbers = rf"{self.tex(weight)} \left({parts}\right)", rf"{self.tex(weight)} \left({numbers}\right)"
        blocks.append(self.chain(grad.gradient.name.latex, grad.gradient.value, parts, numbers))
        return blocks

    def backward_section(self) -> Section:
        spec, n, g = self.spec, self.n, self.g
        intro = P(
            "The chain rule, from the loss back to every weight and bias. For each unit, ",
            M(r"\delta = \partial E/\partial \mathrm{net}") if n.units else M(r"\delta = \partial E/\partial z"),
            " is derived once and named; each weight's gradient is then its unit's delta times the input "
            "the weight multiplies (for a bias, times 1).",
        )
        blocks = [intro]
        for l in range(spec.layers, 0, -1):
            units = []
            if g.activation(l).coupled:
                units.append(Section("The outputs and the softmax Jacobian", 3, tuple(
                    block for s in range(spec.batch) for block in self.softmax_blocks(l, s))))
            for j in range(spec.sizes[l]):
                unit = []
                for s in range(spec.batch):
                    if spec.batch > 1:
                        unit.append(P(f"Sample {s + 1}."))
                    unit += self.unit_blocks(l, s, j)
                net0 = g.latex[g.net(l, 0, j)]
                unit.append(P(
                    "The weights into this unit. Its net input ", M(net0),
                    " is a weighted sum, so its derivative with respect to a weight is the input that weight "
                    "multiplies, and with respect to the bias it is 1:",
                ))
                for i in range(spec.sizes[l - 1]):
                    unit += self.gradient_blocks("W", l, j, i)
                unit += self.gradient_blocks("b", l, j)
                title = f"Unit {n.unit(l, j).text}" if n.units else f"Unit {j + 1} of layer {l}"
                heading = P("Unit ", M(n.unit(l, j).latex)) if n.units else None
                units.append(Section(title, 3, tuple(unit), heading=heading))
            blocks.append(Section(self.layer_title(l), 2, tuple(units)))
        return Section("Backward pass", 1, tuple(blocks), "backward")

    # -- 5. update -------------------------------------------------------------------
    def update_chain(self, kind, l, j, i=None) -> Chain:
        grad = self.d.gradient(kind, l, j, i)
        eta = self.num(self.spec.learning_rate)
        p = grad.parameter
        return self.chain(
            grad.updated.name.latex, grad.updated.value,
            rf"{p.name.latex} - {self.eta} \, {grad.gradient.name.latex}",
            rf"{self.num(p.value)} - {eta} \cdot {_paren(self.num(grad.gradient.value))}",
        )

    def update_chains(self) -> list[Chain]:
        """p+ = p - eta dE/dp for every parameter that is updated, from the output layer back."""
        if optimizer.active(self.s):
            return optimizer.update_chains(self)
        spec, chains = self.spec, []
        for l in range(spec.layers, 0, -1):
            for j in range(spec.sizes[l]):
                chains += [self.update_chain("W", l, j, i) for i in range(spec.sizes[l - 1])]
                if spec.update_biases:
                    chains.append(self.update_chain("b", l, j))
        return chains

    def update_section(self) -> Section:
        spec = self.spec
        blocks = [P("Each parameter moves against its gradient: ",
                    M(rf"p^{{+}} = p - {self.eta} \, \partial {self.n.loss().latex if self.book else 'E'}/\partial p"),
                    ", with ", M(rf"{self.eta} = " + self.num(spec.learning_rate)), ".")]
        blocks += self.update_chains()
        if not spec.update_biases:
            blocks.append(P("The biases keep their values: this convention does not update them."))
        blocks.append(self.after_step())
        return Section("Update", 1, tuple(blocks), "update")

    def after_step(self):
        h = self.s.history
        E = self.n.loss().latex
        if h[1] < h[0]:
            return P("With the updated parameters the loss is ", M(rf"{E} {self.rel(h[1])} {self.num(h[1])}"),
                     ", down from ", M(self.num(h[0])), ".")
        return P("With the updated parameters the loss is ", M(rf"{E} {self.rel(h[1])} {self.num(h[1])}"),
                 ", up from ", M(self.num(h[0])), ": the step overshoots, the learning rate is too large for this "
                 "network.")

    # -- 6. summary ------------------------------------------------------------------
    def summary_section(self) -> Section:
        spec, n, r = self.spec, self.n, self.run
        rows = []
        for l in range(spec.layers, 0, -1):
            for j in range(spec.sizes[l]):
                for i in list(range(spec.sizes[l - 1])) + [None]:
                    name = n.weight(l, j, i) if i is not None else n.bias(l, j)
                    value = r.weights[l][j][i] if i is not None else r.biases[l][j]
                    grad = r.grad_W[l][j][i] if i is not None else r.grad_b[l][j]
                    new = r.new_weights[l][j][i] if i is not None else r.new_biases[l][j]
                    kept = i is None and not spec.update_biases
                    rows.append((name.latex, self.num(value), self.num(grad),
                                 rf"{self.num(new)}\ \text{{(kept)}}" if kept else self.num(new)))
        blocks = []
        if len(rows) <= 60:
            blocks.append(Table(("parameter", "value", M(r"\partial E/\partial p"), "updated"), tuple(rows),
                                ("math",) * 4, "lrrr", "Every gradient and updated parameter"))
        blocks.append(P(f"Checked: {self.s.verification.method}; every chain-rule factor above was recomputed "
                        "from its formula and agrees with the backward sweep."))
        return Section("Summary" if len(rows) <= 60 else "Verification", 1, tuple(blocks), "summary")

    def history_section(self) -> Section:
        h = self.s.history
        rows = tuple((str(k), self.num(v)) for k, v in enumerate(h))
        if len(rows) > 25:  # a long run: the first and last steps and every tenth of the way
            keep = sorted({0, 1, 2, len(h) - 2, len(h) - 1} | {round(len(h) * f / 10) for f in range(1, 10)})
            rows = tuple((str(k), self.num(h[k])) for k in keep if k < len(h))
        table = Table(("step", "loss"), rows, ("text", "math"), "rr",
                      "The loss before the first step (step 0) and after each step")
        plot = Plot(tuple(range(len(h))), tuple(float(v) for v in h), "step", "loss",
                    "The loss over the training steps", "loss.svg")
        return Section("Loss over the steps", 1, (table, plot), "history")


def _paren(text: str) -> str:
    """Parenthesise a negative number inside a product."""
    return rf"\left({text}\right)" if text.startswith("-") else text


def build(solution: Solution, digits: int = DEFAULT_DIGITS, detail=None) -> Document:
    """The worked solution of a solved network as a document model."""
    return Writer(solution, digits, detail).document()
