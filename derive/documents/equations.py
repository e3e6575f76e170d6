"""The four equations of backpropagation as a document section: derived step by step, specialised, with shapes.

For any depth and width: each equation starts from the chain rule on one entry, takes
the entry derivatives of the layer's definitions (derive.core.equations, where SymPy
computes them with symbolic indices), and ends in matrix form; then it is written for
this network's activations and loss, with the reductions SymPy proves, and the shape of
every matrix is stated.
"""

from __future__ import annotations

from derive.core import equations as eq
from derive.core import functions as fn
from derive.core import rules
from derive.documents.matrix.context import ElementwisePrinter
from derive.documents.model import Chain, M, P, Section, Table
from derive.documents.printing import DerivePrinter


class IndexPrinter(DerivePrinter):
    """Entries with symbolic indices: W_{kj} with the layer as a superscript, [j = k] for Kronecker's delta."""

    def __init__(self, layers: dict):
        super().__init__({eq.n: "n_{l-1}", eq.K: "K"})
        self.layers = layers  # IndexedBase -> its LaTeX with the layer, e.g. W -> W^{[l+1]}

    def _print_Indexed(self, expr):
        base = self.layers.get(expr.base, self._print(expr.base.label))
        return f"{base}_{{{''.join(self._print(i) for i in expr.indices)}}}"

    def _print_KroneckerDelta(self, expr, exp=None):
        return rf"[{self._print(expr.args[0])} = {self._print(expr.args[1])}]"


def _vector(expr, l: int, batch: bool = False) -> str:
    """A placeholder formula (a, t, z) for the whole vectors of layer l, entry by entry."""
    names = {fn.a: rf"\mathbf{{a}}^{{[{l}]}}", fn.t: r"\mathbf{t}", fn.z: rf"\mathbf{{z}}^{{[{l}]}}", fn.K: "K"}
    return ElementwisePrinter(names, mul_symbol=r" \odot ").doprint(expr)


def _top_level(tex: str) -> str:
    """The LaTeX with every parenthesised group and fraction argument removed: what a sum sign binds at the top."""
    depth, out = 0, []
    for c in tex.replace(r"\left(", "(").replace(r"\right)", ")"):
        depth += c in "({"
        depth -= c in ")}"
        if depth == 0 and c not in ")}":
            out.append(c)
    return "".join(out)


def _times(*parts: str) -> str:
    """Vectors multiplied entry by entry, each in parentheses when it is a sum (a product needs none)."""
    shown = []
    for p in parts:
        top = _top_level(p)
        summed = " + " in top or " - " in top
        shown.append(rf"\left({p}\right)" if summed else p)
    return r" \odot ".join(shown)


class EquationWriter:
    """The four equations for one spec."""

    def __init__(self, spec, outputs_named: str = ""):
        self.spec = spec
        self.L = spec.layers
        self.sizes = spec.sizes
        self.outputs_named = outputs_named  # how the per-unit sections name the output layer, if they do

    # -- pieces ---------------------------------------------------------------------
    def entry_chain(self, derivative: eq.EntryDerivative, lhs: str, layers: dict) -> Chain:
        """d quantity/d variable = d/d variable (definition) = SymPy's derivative = the entry."""
        p = IndexPrinter(layers)
        rows = [(lhs, "=", rf"\frac{{\partial}}{{\partial {p.doprint(derivative.variable)}}} "
                 rf"\left({p.doprint(derivative.definition)}\right)")]
        raw = p.doprint(derivative.derivative)
        result = p.doprint(derivative.result)
        if raw != result:
            rows.append(("", "=", raw))
        rows.append(("", "=", result))
        return Chain(tuple(rows))

    def shapes(self) -> Table:
        rows = [(r"\mathbf{a}^{[0]} = \mathbf{x}", "n_0 \\times 1", f"{self.sizes[0]} \\times 1")]
        for l in range(1, self.L + 1):
            n_l, n_p = self.sizes[l], self.sizes[l - 1]
            rows.append((rf"W^{{[{l}]}},\ \partial E/\partial W^{{[{l}]}}", rf"n_{{{l}}} \times n_{{{l - 1}}}",
                         rf"{n_l} \times {n_p}"))
            rows.append((rf"\mathbf{{b}}^{{[{l}]}},\ \mathbf{{z}}^{{[{l}]}},\ \mathbf{{a}}^{{[{l}]}},\ "
                         rf"\boldsymbol{{\delta}}^{{[{l}]}},\ \partial E/\partial \mathbf{{b}}^{{[{l}]}}",
                         rf"n_{{{l}}} \times 1", rf"{n_l} \times 1"))
        rows.append((r"\mathbf{t}", rf"n_{{{self.L}}} \times 1", rf"{self.sizes[-1]} \times 1"))
        return Table(("", "shape", "in this network"), tuple(rows), ("math", "math", "math"), "lll",
                     "The shape of every vector and matrix (vectors are columns)")

    def loss_gradient(self, a: str, t: str) -> str:
        """dE/da of one output (or of the vector of outputs, entry by entry) as the loss's derivation ends, 1/K in front
        for a mean over the outputs."""
        text = rules.fill(rules.loss(self.spec.loss).result_latex, a=a, t=t)
        if fn.LOSSES[self.spec.loss].output_reduction != "mean":
            return text
        if text.startswith("2 "):
            return r"\frac{2}{K} " + text[2:]
        return r"\frac{1}{K} " + text

    def derivative(self, l: int) -> str:
        """f'(z^[l]) of layer l in the taught form, for whole vectors."""
        act = fn.ACTIVATIONS[self.spec.activations[l - 1]]
        return _vector(act.identity, l)

    # -- the section ------------------------------------------------------------------
    def section(self, number_title: str = "The four equations of backpropagation") -> Section:
        L, spec = self.L, self.spec
        blocks = [P(
            "For a network of any depth, layer ", M("l"), " computes ",
            M(r"\mathbf{z}^{[l]} = W^{[l]} \mathbf{a}^{[l-1]} + \mathbf{b}^{[l]}"), " and ",
            M(r"\mathbf{a}^{[l]} = f(\mathbf{z}^{[l]})"), ", entry by entry ",
            M(r"z^{[l]}_k = \sum_{i=1}^{n_{l-1}} W^{[l]}_{ki} a^{[l-1]}_i + b^{[l]}_k"), ". The delta of a layer is ",
            M(r"\boldsymbol{\delta}^{[l]} = \partial E/\partial \mathbf{z}^{[l]}"),
            ". Four equations give every gradient; each is derived below from the definitions, entry by entry, "
            "and then written with whole vectors and matrices (",
            M(r"\odot"), " multiplies entry by entry).",
        )]
        if spec.weight_layout == "in_out":
            blocks.append(P("The network's weight matrices are stored transposed, one row per input (",
                            M(r"\mathbf{z} = \mathbf{a} W + \mathbf{b}"), " with row vectors): below, ", M("W^{[l]}"),
                            " is the stored matrix transposed, and the stored matrix's gradient is the transpose of ",
                            M(r"\partial E/\partial W^{[l]}"), "."))
        blocks.append(self.shapes())
        blocks += self.entries()
        blocks += self.bp1()
        if L > 1:
            blocks += self.bp2()
        blocks += self.bp34()
        blocks += self.summary()
        return Section(number_title, 1, tuple(blocks), "equations")

    def entries(self) -> list:
        """The entry derivatives every equation uses, each SymPy's derivative of a definition."""
        up = {eq.W: r"W^{[l]}", eq.A: r"a^{[l-1]}", eq.B: r"b^{[l]}", eq.Z: r"z^{[l]}"}
        blocks = [P("The derivatives of one layer's definitions, entry by entry (", M("[j = k]"),
                    " is 1 when ", M("j = k"), " and 0 otherwise; only the term of the sum with ", M("i = j"),
                    " depends on the variable):")]
        blocks.append(self.entry_chain(eq.net_by_input(), r"\frac{\partial z^{[l]}_k}{\partial a^{[l-1]}_j}", up))
        blocks.append(self.entry_chain(eq.net_by_weight(), r"\frac{\partial z^{[l]}_k}{\partial W^{[l]}_{jm}}", up))
        blocks.append(self.entry_chain(eq.net_by_bias(), r"\frac{\partial z^{[l]}_k}{\partial b^{[l]}_j}", up))
        blocks.append(P("An elementwise activation: each output depends on its own net input only, so ",
                        M(r"\partial a^{[l]}_j / \partial z^{[l]}_k = [j = k]\, f'(z^{[l]}_j)"), "."))
        return blocks

    def bp1(self) -> list:
        L, spec = self.L, self.spec
        act = fn.ACTIVATIONS[spec.activations[-1]]
        out = eq.output_delta(spec)
        blocks = [P(M("(1)"), " The output layer. The net input ", M(rf"z^{{[{L}]}}_j"),
                    " reaches the loss through the outputs; by the chain rule:")]
        if act.coupled:
            rows = (
                (rf"\delta^{{[{L}]}}_j", "=", rf"\sum_k \frac{{\partial E}}{{\partial a^{{[{L}]}}_k}} "
                 rf"\frac{{\partial a^{{[{L}]}}_k}}{{\partial z^{{[{L}]}}_j}}"),
                ("", "=", rf"\sum_k \frac{{\partial E}}{{\partial a^{{[{L}]}}_k}}\, a^{{[{L}]}}_k "
                 rf"\left([k = j] - a^{{[{L}]}}_j\right)"),
            )
            blocks.append(Chain(rows))
            blocks.append(P("since every softmax output depends on every net input of its layer (the softmax's "
                            "derivative, derived above). As matrices, with the Jacobian ",
                            M(rf"J = \operatorname{{diag}}(\mathbf{{a}}^{{[{L}]}}) - \mathbf{{a}}^{{[{L}]}} "
                              rf"(\mathbf{{a}}^{{[{L}]}})^{{\top}}"), " (symmetric):"))
            blocks.append(Chain(((rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=", r"J^{\top} \nabla_{\mathbf{a}} E"),)))
            if out.reduced is not None:
                summed, done, reduced = eq.softmax_cross_entropy()
                p = IndexPrinter({eq.A: f"a^{{[{L}]}}", eq.T: "t"})
                blocks.append(P("With the cross-entropy, ", M(r"\partial E/\partial a_k = -t_k/a_k"),
                                ", and the sum collapses: the output cancels, and the targets of a sample sum to 1:"))
                blocks.append(Chain(((rf"\delta^{{[{L}]}}_j", "=", p.doprint(summed)), ("", "=", p.doprint(done)),
                                     ("", "=", p.doprint(reduced)))))
                blocks.append(Chain(((rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=", _vector(out.reduced, L)),)))
            return blocks
        blocks.append(Chain((
            (rf"\delta^{{[{L}]}}_j", "=", rf"\sum_k \frac{{\partial E}}{{\partial a^{{[{L}]}}_k}} "
             rf"\frac{{\partial a^{{[{L}]}}_k}}{{\partial z^{{[{L}]}}_j}}"
             rf" = \sum_k \frac{{\partial E}}{{\partial a^{{[{L}]}}_k}} [k = j]\, f'(z^{{[{L}]}}_j)"),
            ("", "=", rf"\frac{{\partial E}}{{\partial a^{{[{L}]}}_j}}\, f'(z^{{[{L}]}}_j)"),
        )))
        blocks.append(P("With whole vectors:"))
        blocks.append(Chain(((rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=",
                              rf"\nabla_{{\mathbf{{a}}}} E \odot f'(\mathbf{{z}}^{{[{L}]}})"),)))
        term = rules.fill(rules.loss(spec.loss).steps[0].latex, a=f"a^{{[{L}]}}_k", t="t_k")
        mean = r"\frac{1}{K} " if fn.LOSSES[spec.loss].output_reduction == "mean" else ""
        blocks.append(P("For this loss, the derivative of the loss's sum with respect to one output (only the term "
                        "with ", M("k = j"), " depends on it; the derivative of that term is derived above):"))
        gradient_rows = [(rf"\frac{{\partial E}}{{\partial a^{{[{L}]}}_j}}", "=",
                          rf"\frac{{\partial}}{{\partial a^{{[{L}]}}_j}} {mean}\sum_{{k=1}}^{{K}} {term}")]
        gradient_rows.append(("", "=", self.loss_gradient(f"a^{{[{L}]}}_j", "t_j")))
        blocks.append(Chain(tuple(gradient_rows)))
        grad = self.loss_gradient(rf"\mathbf{{a}}^{{[{L}]}}", r"\mathbf{t}")
        rows = [(rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=", _times(grad, self.derivative(L)))]
        if out.reduced is not None:
            rows.append(("", "=", _vector(out.reduced, L)))
        blocks.append(P(f"and the {act.name} derivative in the taught form" + (
            "; their product cancels:" if out.reduced is not None else ":")))
        blocks.append(Chain(tuple(rows)))
        return blocks

    def bp2(self) -> list:
        blocks = [P(M("(2)"), " A hidden layer ", M("l"), ". The net input ", M(r"z^{[l]}_j"),
                    " reaches the loss through its output ", M(r"a^{[l]}_j"), ", which feeds every net input ",
                    M(r"z^{[l+1]}_k"), " of the layer above; by the chain rule and the entry derivatives:")]
        blocks.append(Chain((
            (r"\delta^{[l]}_j", "=", r"\sum_k \frac{\partial E}{\partial z^{[l+1]}_k} "
             r"\frac{\partial z^{[l+1]}_k}{\partial a^{[l]}_j} \frac{\partial a^{[l]}_j}{\partial z^{[l]}_j}"),
            ("", "=", r"\sum_k \delta^{[l+1]}_k\, W^{[l+1]}_{kj}\, f'(z^{[l]}_j)"),
            ("", "=", r"\left((W^{[l+1]})^{\top} \boldsymbol{\delta}^{[l+1]}\right)_j f'(z^{[l]}_j)"),
        )))
        blocks.append(P("With whole vectors (", M(r"(n_{l+1} \times n_l)^{\top}"), " times ",
                        M(r"n_{l+1} \times 1"), " is ", M(r"n_l \times 1"), "):"))
        blocks.append(Chain(((r"\boldsymbol{\delta}^{[l]}", "=",
                              r"\left((W^{[l+1]})^{\top} \boldsymbol{\delta}^{[l+1]}\right) \odot f'(\mathbf{z}^{[l]})"),)))
        blocks.append(P("For this network's hidden layers:"))
        rows = []
        for l in range(self.L - 1, 0, -1):
            back = rf"\left((W^{{[{l + 1}]}})^{{\top}} \boldsymbol{{\delta}}^{{[{l + 1}]}}\right)"
            derivative = self.derivative(l)
            rhs = back if derivative == "1" else _times(back, derivative)
            rows.append((rf"\boldsymbol{{\delta}}^{{[{l}]}}", "=", rhs))
        blocks.append(Chain(tuple(rows)))
        return blocks

    def bp34(self) -> list:
        spec = self.spec
        N = spec.batch
        blocks = [P(M("(3)"), " and ", M("(4)"), " The parameters of layer ", M("l"),
                    " enter the loss only through the net inputs of that layer:")]
        blocks.append(Chain((
            (r"\frac{\partial E}{\partial b^{[l]}_j}", "=",
             r"\sum_k \delta^{[l]}_k \frac{\partial z^{[l]}_k}{\partial b^{[l]}_j} = \sum_k \delta^{[l]}_k [k = j] = \delta^{[l]}_j"),
            (r"\frac{\partial E}{\partial W^{[l]}_{jm}}", "=",
             r"\sum_k \delta^{[l]}_k \frac{\partial z^{[l]}_k}{\partial W^{[l]}_{jm}} = \sum_k \delta^{[l]}_k [j = k]\, a^{[l-1]}_m"
             r" = \delta^{[l]}_j\, a^{[l-1]}_m"),
        )))
        blocks.append(P("With whole vectors, the weight gradient is an outer product (",
                        M(r"(n_l \times 1)(1 \times n_{l-1}) = n_l \times n_{l-1}"), ", the shape of ", M("W^{[l]}"), "):"))
        blocks.append(Chain(((r"\frac{\partial E}{\partial \mathbf{b}^{[l]}}", "=", r"\boldsymbol{\delta}^{[l]}"),
                             (r"\frac{\partial E}{\partial W^{[l]}}", "=",
                              r"\boldsymbol{\delta}^{[l]} \left(\mathbf{a}^{[l-1]}\right)^{\top}"))))
        if N > 1:
            loss = fn.LOSSES[spec.loss]
            mean = loss.batch_reduction == "mean"
            factor = r"\frac{1}{N} " if mean else ""
            blocks.append(P(f"With N = {N} samples the loss is the {'mean' if mean else 'sum'} of the samples' losses, "
                            "so each gradient is the " + ("mean" if mean else "sum") +
                            " of the samples' gradients (sample n as a superscript):"))
            blocks.append(Chain((
                (r"\frac{\partial E}{\partial \mathbf{b}^{[l]}}", "=", factor + r"\sum_{n=1}^{N} \boldsymbol{\delta}^{[l](n)}"),
                (r"\frac{\partial E}{\partial W^{[l]}}", "=",
                 factor + r"\sum_{n=1}^{N} \boldsymbol{\delta}^{[l](n)} \left(\mathbf{a}^{[l-1](n)}\right)^{\top}"),
            )))
        return blocks

    def summary(self) -> list:
        L = self.L
        blocks = [P("The four equations for this network, from the output back:")]
        rows = []
        out = eq.output_delta(self.spec)
        act = fn.ACTIVATIONS[self.spec.activations[-1]]
        if out.reduced is not None:
            rows.append((rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=", _vector(out.reduced, L)))
        elif act.coupled:
            rows.append((rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=", r"J^{\top} \nabla_{\mathbf{a}} E"))
        else:
            grad = self.loss_gradient(rf"\mathbf{{a}}^{{[{L}]}}", r"\mathbf{t}")
            rows.append((rf"\boldsymbol{{\delta}}^{{[{L}]}}", "=", _times(grad, self.derivative(L))))
        for l in range(L - 1, 0, -1):
            back = rf"\left((W^{{[{l + 1}]}})^{{\top}} \boldsymbol{{\delta}}^{{[{l + 1}]}}\right)"
            derivative = self.derivative(l)
            rows.append((rf"\boldsymbol{{\delta}}^{{[{l}]}}", "=", back if derivative == "1" else _times(back, derivative)))
        layers = "l = 1" if L == 1 else rf"l = 1, \dots, {L}"
        rows.append((r"\frac{\partial E}{\partial \mathbf{b}^{[l]}}", "=", rf"\boldsymbol{{\delta}}^{{[l]}}, \quad "
                     rf"\frac{{\partial E}}{{\partial W^{{[l]}}}} = \boldsymbol{{\delta}}^{{[l]}} "
                     rf"\left(\mathbf{{a}}^{{[l-1]}}\right)^{{\top}} \quad ({layers})"))
        blocks.append(Chain(tuple(rows)))
        return blocks


def section(spec) -> Section:
    """The four equations of backpropagation for a spec, derived and specialised."""
    return EquationWriter(spec).section()

