"""Names of every quantity: the JSON name a student types and the LaTeX a document prints.

Two schemes:

* ``units`` -- the blog's per-unit names, for networks with one hidden layer:
  inputs ``i1``, hidden units ``h1``, outputs ``o1``; ``net_h1``, ``out_o1``,
  ``E_o1``, ``E_total``, weights ``w1``, ``w2``, ... numbered unit by unit
  (w1: i1 -> h1, w2: i2 -> h1, w3: i1 -> h2, ...), biases ``b_h1``, ``b_o1``.
* ``layered`` -- any depth: inputs ``x1``, net inputs ``z1_3`` (layer 1, unit 3),
  outputs ``a1_3``, weights ``W1_r_c`` indexed exactly as row r, column c of the
  spec's matrix ``W1`` (so the meaning follows ``weight_layout``), biases ``b1_3``,
  targets ``t1``, loss ``E``, output terms ``E_1``.

The documents can be written in a third form, ``matrix``: vectors and matrices with
the numbers put in, their entries named as in ``layered``. The names of the data
(JSON, answers) always follow the spec's own scheme; ``--notation`` only chooses how
the documents write the solution (see :func:`document_notation`).

Derived names in both: ``delta_o1`` / ``delta2_1`` for dE/dnet, ``dE/dw5`` for a
gradient, ``dout_o1/dnet_o1`` for a local factor, ``w5_new`` for an updated
parameter. With more than one sample, per-sample quantities end in ``[n]``
(``net_h1[2]``), 1-based. Layers and units are counted from 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.core.conventions import CONVENTIONS, Convention
from derive.core.spec import NetworkSpec
from derive.errors import DeriveError, suggestion

LETTERS = {0: "i", 1: "h", 2: "o"}
#: how a document can write the solution: the two naming schemes, or vectors and matrices
DOCUMENT_NOTATIONS = ("units", "layered", "matrix")


@dataclass(frozen=True)
class Name:
    """A quantity's JSON name and its LaTeX symbol."""

    text: str
    latex: str


@dataclass(frozen=True)
class Notation:
    """The naming scheme of one network."""

    scheme: str  # "units" or "layered"
    sizes: tuple[int, ...]
    batch: int
    weight_layout: str
    #: the output layer is a softmax: an output's error term then depends on every output unit's net input
    coupled_output: bool = False
    #: a book's names (derive.core.conventions); None: the scheme's own (the blog's or the layered names)
    convention: Convention | None = None

    @staticmethod
    def for_spec(spec: NetworkSpec, scheme: str | None = None, convention: str | None = None) -> "Notation":
        """The scheme the spec asks for; 'auto' picks the blog's names for one hidden layer.

        ``convention`` (a key of derive.core.conventions.CONVENTIONS) names every quantity as
        that book does; 'blog' is the units scheme itself.
        """
        scheme = scheme or spec.notation
        if scheme in ("auto", "matrix"):  # a matrix document names its entries as 'auto' would
            scheme = "units" if len(spec.sizes) == 3 and max(spec.sizes) <= 9 else "layered"
        if scheme == "units" and len(spec.sizes) != 3:
            scheme = "layered"  # the blog's names only exist for one hidden layer
        book = CONVENTIONS[convention] if convention and convention != "blog" else None
        if convention == "blog" and len(spec.sizes) == 3:
            scheme = "units"
        if book is not None:  # a book numbering units once over the network reads them unit by unit
            scheme = "units" if book.numbering.startswith("global") and len(spec.sizes) == 3 else "layered"
        return Notation(scheme, spec.sizes, spec.batch, spec.weight_layout, spec.coupled_output, book)

    @staticmethod
    def for_document(spec: NetworkSpec, notation: str, convention: str | None = None) -> "Notation":
        """The scalar names a document in ``notation`` prints (a matrix document names entries as layered)."""
        return Notation.for_spec(spec, "layered" if notation == "matrix" else notation, convention)

    @property
    def units(self) -> bool:
        return self.scheme == "units"

    @property
    def output_layer(self) -> int:
        return len(self.sizes) - 1

    # -- pieces ----------------------------------------------------------------------
    def _sample(self, name: Name, s: int | None) -> Name:
        if s is None or self.batch == 1:
            return name
        return Name(f"{name.text}[{s + 1}]", sample_latex(name.latex, s))

    def _sep(self) -> str:
        """Index separator in LaTeX subscripts: none while every index is a single digit."""
        return "," if max(self.sizes) > 9 else ""

    def unit(self, l: int, j: int) -> Name:
        """A unit's label: h1 / its layered index."""
        if self.convention is not None:
            return self._book_unit(l, j)
        if self.units:
            return Name(f"{LETTERS[l]}{j + 1}", f"{LETTERS[l]}_{{{j + 1}}}")
        return Name(f"{l}_{j + 1}", f"{j + 1}")

    def layer_name(self, l: int) -> str:
        """Words for a layer: 'the input layer', 'hidden layer 1', 'the output layer'."""
        if l == 0:
            return "the input layer"
        if l == self.output_layer:
            return "the output layer"
        return "the hidden layer" if self.output_layer == 2 else f"hidden layer {l}"

    # -- quantities ------------------------------------------------------------------
    def input(self, s: int | None, i: int) -> Name:
        if self.convention is not None:
            return self._book_input(s, i)
        if self.units:
            return self._sample(Name(f"i{i + 1}", f"i_{{{i + 1}}}"), s)
        return self._sample(Name(f"x{i + 1}", f"x_{{{i + 1}}}"), s)

    def target(self, s: int | None, k: int) -> Name:
        if self.convention is not None:
            return self._book_target(s, k)
        if self.units:
            return self._sample(Name(f"t_o{k + 1}", f"t_{{o_{{{k + 1}}}}}"), s)
        return self._sample(Name(f"t{k + 1}", f"t_{{{k + 1}}}"), s)

    def net(self, l: int, s: int | None, j: int) -> Name:
        if self.convention is not None:
            return self._book_net(l, s, j)
        if self.units:
            u = self.unit(l, j)
            return self._sample(Name(f"net_{u.text}", rf"\mathrm{{net}}_{{{u.latex}}}"), s)
        return self._sample(Name(f"z{l}_{j + 1}", f"z^{{[{l}]}}_{{{j + 1}}}"), s)

    def out(self, l: int, s: int | None, j: int) -> Name:
        if self.convention is not None:
            return self._book_out(l, s, j)
        if l == 0:
            return self.input(s, j)
        if self.units:
            u = self.unit(l, j)
            return self._sample(Name(f"out_{u.text}", rf"\mathrm{{out}}_{{{u.latex}}}"), s)
        return self._sample(Name(f"a{l}_{j + 1}", f"a^{{[{l}]}}_{{{j + 1}}}"), s)

    def error(self, s: int | None, k: int) -> Name:
        """One output's contribution to the loss of a sample."""
        if self.convention is not None:
            return self._book_error(s, k)
        if self.units:
            return self._sample(Name(f"E_o{k + 1}", f"E_{{o_{{{k + 1}}}}}"), s)
        return self._sample(Name(f"E_{k + 1}", f"E_{{{k + 1}}}"), s)

    def sample_loss(self, s: int | None) -> Name:
        """The loss of one sample (the whole loss when there is one sample)."""
        return self._sample(self.loss(), s)

    def loss(self) -> Name:
        if self.convention is not None:
            return self._book_loss()
        if self.units:
            return Name("E_total", r"E_{\mathrm{total}}")
        return Name("E", "E")

    def delta(self, l: int, s: int | None, j: int) -> Name:
        if self.convention is not None:
            return self._book_delta(l, s, j)
        if self.units:
            u = self.unit(l, j)
            return self._sample(Name(f"delta_{u.text}", rf"\delta_{{{u.latex}}}"), s)
        return self._sample(Name(f"delta{l}_{j + 1}", rf"\delta^{{[{l}]}}_{{{j + 1}}}"), s)

    def weight(self, l: int, j: int, i: int) -> Name:
        """The weight into unit j of layer l from unit i of layer l - 1."""
        if self.convention is not None:
            return self._book_weight(l, j, i)
        if self.units:
            n = sum(a * b for a, b in zip(self.sizes[: l - 1], self.sizes[1:l])) + j * self.sizes[l - 1] + i + 1
            return Name(f"w{n}", f"w_{{{n}}}")
        r, c = (j, i) if self.weight_layout == "out_in" else (i, j)
        return Name(f"W{l}_{r + 1}_{c + 1}", f"W^{{[{l}]}}_{{{r + 1}{self._sep()}{c + 1}}}")

    def bias(self, l: int, j: int) -> Name:
        if self.convention is not None:
            return self._book_bias(l, j)
        if self.units:
            u = self.unit(l, j)
            return Name(f"b_{u.text}", f"b_{{{u.latex}}}")
        return Name(f"b{l}_{j + 1}", f"b^{{[{l}]}}_{{{j + 1}}}")

    def parameter(self, kind: str, l: int, j: int, i: int | None = None) -> Name:
        return self.weight(l, j, i) if kind == "W" else self.bias(l, j)

    def path(self, l: int, s: int | None, j: int, k: int) -> Name:
        """The path from unit j of layer l through unit k of layer l + 1: delta_k times the weight.

        The blog's name dE_o1/dout_h1 in the units scheme; the product itself, delta2_1*W2_1_3,
        in the layered one (and below a softmax output: delta_o1*w5).
        """
        if self.units and not (self.coupled_output and l + 1 == self.output_layer):
            return self.derivative(self.error(s, k), self.out(l, s, j))
        # under a softmax, delta_o1 * w5 is the path through net_o1, not the derivative of E_o1 (which
        # depends on every output's net input): the product names it
        d, w = self.delta(l + 1, s, k), self.weight(l + 1, k, j)
        return Name(f"{d.text}*{w.text}", f"{d.latex} {w.latex}")

    def derivative(self, top: Name, bottom: Name) -> Name:
        """The partial derivative of one quantity with respect to another."""
        prefix = self.derivative_prefix(top)
        if prefix == "d":
            return Name(f"d{bottom.text}", rf"d{bottom.latex}")  # deeplearning.ai: dW for dJ/dW
        return Name(prefix + bottom.text, rf"\frac{{\partial {top.latex}}}{{\partial {bottom.latex}}}")

    def derivative_prefix(self, top: Name) -> str:
        """The JSON name of a derivative of ``top`` up to the other quantity's name ('dE/d', or 'd' in a book's
        short names): made once for the many parameters of a large network."""
        if self.convention is not None and self.convention.short_derivatives and top == self.loss():
            return "d"
        return f"d{top.text}/d"

    def updated(self, name: Name) -> Name:
        base = f"{{{name.latex}}}" if "^" in name.latex else name.latex  # no double superscript
        return Name(self.updated_text(name.text), f"{base}^{{+}}")

    @staticmethod
    def updated_text(text: str) -> str:
        """The JSON name of an updated parameter."""
        return f"{text}_new"


    # -- a book's names (self.convention) ---------------------------------------------------
    def _global(self, l: int, j: int) -> int:
        """A unit's number when every unit is numbered once, inputs first (Han: 1, 2, 3 | 4, 5 | 6)."""
        return sum(self.sizes[:l]) + j + 1

    def _book_sep(self) -> tuple[str, str]:
        """Separators between two indices (text, LaTeX): none while every index is a single digit."""
        if self.convention.numbering.startswith("global"):
            return ("_", ",") if sum(self.sizes) > 9 else ("", "")
        return "_", self._sep()

    def _indexed(self, symbol, l: int, j: int, s: int | None = None) -> Name:
        """symbol with a unit's index: global (O6) or layer and unit (a1_2, a^{[1]}_{2})."""
        c = self.convention
        if c.numbering.startswith("global"):
            g = self._global(l, j)
            return self._sample(Name(f"{symbol.text}{g}", f"{symbol.latex}_{{{g}}}"), s)
        L = l + c.layer_offset
        top = f"[{L}]" if c.superscript == "[]" else f"{L}"
        return self._sample(Name(f"{symbol.text}{L}_{j + 1}", f"{symbol.latex}^{{{top}}}_{{{j + 1}}}"), s)

    def _book_unit(self, l, j):
        c = self.convention
        if c.numbering.startswith("global"):
            g = self._global(l, j)
            return Name(str(g), str(g))
        return Name(f"{l + c.layer_offset}_{j + 1}", f"{j + 1}")

    def _book_input(self, s, i):
        c = self.convention
        if c.numbering.startswith("global"):
            return self._indexed(c.input, 0, i, s)
        return self._sample(Name(f"{c.input.text}{i + 1}", f"{c.input.latex}_{{{i + 1}}}"), s)

    def _book_target(self, s, k):
        c = self.convention
        if c.numbering.startswith("global"):
            return self._indexed(c.target, self.output_layer, k, s)
        return self._sample(Name(f"{c.target.text}{k + 1}", f"{c.target.latex}_{{{k + 1}}}"), s)

    def _book_net(self, l, s, j):
        return self._indexed(self.convention.net, l, j, s)

    def _book_out(self, l, s, j):
        return self._book_input(s, j) if l == 0 else self._indexed(self.convention.out, l, j, s)

    def _book_error(self, s, k):
        c = self.convention
        if c.numbering.startswith("global"):
            g = self._global(self.output_layer, k)
            return self._sample(Name(f"{c.loss.text}_{g}", f"{c.loss.latex}_{{{g}}}"), s)
        return self._sample(Name(f"{c.loss.text}_{k + 1}", f"{c.loss.latex}_{{{k + 1}}}"), s)

    def _book_loss(self):
        return Name(self.convention.loss.text, self.convention.loss.latex)

    def _book_delta(self, l, s, j):
        """The error term; a book's whose sign is -dE/dnet is printed with its minus: (-Err_6) is dE/dnet."""
        name = self._indexed(self.convention.error, l, j, s)
        if self.convention.error_sign < 0:
            return Name(name.text, rf"\left(-{name.latex}\right)")
        return name

    def _book_weight(self, l, j, i):
        c = self.convention
        text_sep, latex_sep = self._book_sep()
        if c.numbering.startswith("global"):
            a, b = self._global(l - 1, i), self._global(l, j)
            if c.numbering == "global_to_from":
                a, b = b, a
            return Name(f"{c.weight.text}{a}{text_sep}{b}", f"{c.weight.latex}_{{{a}{latex_sep}{b}}}")
        L = l + c.layer_offset
        top = f"[{L}]" if c.superscript == "[]" else f"{L}"
        return Name(f"{c.weight.text}{L}_{j + 1}_{i + 1}", f"{c.weight.latex}^{{{top}}}_{{{j + 1}{latex_sep}{i + 1}}}")

    def _book_bias(self, l, j):
        c = self.convention
        if c.bias.text == "w0":  # Mitchell: the weight from a constant input x0 = 1
            g = self._global(l, j)
            text_sep, latex_sep = self._book_sep()
            return Name(f"w{g}{text_sep}0", f"w_{{{g}{latex_sep}0}}")
        return self._indexed(c.bias, l, j)


def document_notation(spec: NetworkSpec, requested: str | None = None) -> str:
    """How the documents write a spec's solution: ``requested`` (units, layered, matrix) or the spec's naming scheme.

    ``units`` falls back to ``layered`` where the blog's names do not exist (more than one hidden layer).
    """
    if requested is not None and requested not in DOCUMENT_NOTATIONS:

        raise DeriveError("notation", f"unknown notation '{requested}'{suggestion(requested, DOCUMENT_NOTATIONS)}; "
                          f"choose from {', '.join(DOCUMENT_NOTATIONS)}")
    if requested == "matrix" or (requested is None and spec.notation == "matrix"):
        return "matrix"
    return Notation.for_spec(spec, requested).scheme


def _top_level(latex: str, char: str) -> int:
    """Where ``char`` first occurs outside braces in ``latex``, or -1."""
    depth = 0
    for k, c in enumerate(latex):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if c == char and depth == 0:
            return k
    return -1


def sample_latex(latex: str, s) -> str:
    """A quantity of sample s (0-based) in LaTeX: the sample's index beside the layer's in one superscript,
    z^{[1](2)}_{1}, or a superscript of its own, x_{1}^{(2)}, never one stacked above another; a letter s
    (the sample index of a sum, "n") is written as it is."""
    mark = f"({s})" if isinstance(s, str) else f"({s + 1})"
    sup, sub = _top_level(latex, "^"), _top_level(latex, "_")
    if sup >= 0 and latex.startswith("^{", sup):
        close = _closing(latex, sup + 1)
        if close > 0 and _top_level(latex[close + 1:], "^") < 0:
            return latex[:close] + mark + latex[close:]
    if sup < 0 and sub >= 0:
        return f"{latex}^{{{mark}}}"
    return f"{{{latex}}}^{{{mark}}}"


def _closing(latex: str, start: int) -> int:
    """The index of the brace that closes the group opening at latex[start], or -1."""
    depth = 0
    for k in range(start, len(latex)):
        depth += {"{": 1, "}": -1}.get(latex[k], 0)
        if depth == 0:
            return k
    return -1
