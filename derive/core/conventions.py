"""Textbook conventions as data: the names, numbering and signs each book writes backpropagation in.

A :class:`Convention` says how a book names a unit's net input and output, how it numbers
units and weights, what it calls biases, the error term (and its SIGN: Han, Kamber & Pei's
``Err_j`` and Mitchell's ``δ_j`` are ``-∂E/∂net_j``, derive's ``δ`` is ``+∂E/∂net_j``), the
loss and the learning rate, and how it writes the update. :mod:`derive.core.notation`
turns a convention into the names of every quantity (``Notation.for_spec(spec,
convention=...)``); ``derive check --convention han`` reads those names and signs, and the
documents print them.

Numbering of units and weights:

* ``blog`` -- inputs i1, i2, hidden h1, h2, outputs o1, o2; weights w1, w2, ... unit by unit;
* ``global_from_to`` -- every unit numbered once, inputs first (1, 2, 3 | 4, 5 | 6);
  ``w_ij`` is the weight from unit i to unit j (Han, Kamber & Pei: ``w46``);
* ``global_to_from`` -- the same numbers, ``w_ji`` into unit j from unit i (Mitchell: ``w64``);
* ``layered`` -- per layer, ``W^l_jk`` into unit j of layer l from unit k of layer l - 1,
  layers counted from the first layer after the input (Hagan, deeplearning.ai, PyTorch) or
  from the input layer as layer 1 (Nielsen: ``layer_offset`` 1).

Public API::

    CONVENTIONS           name -> Convention (the registry; one entry per book)
    get(name, where)      -> Convention      an unknown name is an error listing the known ones
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import DeriveError, suggestion


@dataclass(frozen=True)
class Symbol:
    """A symbol as a name a student types (``text``) and as LaTeX."""

    text: str
    latex: str


@dataclass(frozen=True)
class Convention:
    """How one book writes a network's quantities."""

    key: str
    title: str  # the book or course, for tables and messages
    source: str  # edition and place, as cited in the README
    numbering: str  # blog | global_from_to | global_to_from | layered
    net: Symbol  # a unit's net input (pre-activation)
    out: Symbol  # a unit's output (activation)
    input: Symbol  # an input unit's value
    target: Symbol
    weight: Symbol
    bias: Symbol
    error: Symbol  # the error term's symbol
    error_sign: int  # +1: the error term is dE/dnet; -1: it is -dE/dnet (Err = O(1 - O)(T - O))
    loss: Symbol
    loss_words: str  # how the book writes the loss
    rate: Symbol
    update: str  # how the book writes the update, LaTeX
    layer_offset: int = 0  # added to derive's layer number (Nielsen counts the input layer as layer 1)
    superscript: str = "[]"  # layered: "[]" for z^{[1]}, "" for n^{1}
    short_derivatives: bool = False  # dW1_1_1 for dE/dW1_1_1 (deeplearning.ai's dW, dZ, dA)
    #: names the book uses for something else than derive's quantity of that name: name -> what it is there
    refused: tuple[tuple[str, str], ...] = ()

    @property
    def sign_word(self) -> str:
        """The error term in words: 'dE/dnet' or '-dE/dnet'."""
        return "∂E/∂net" if self.error_sign > 0 else "−∂E/∂net"


def _s(text: str, latex: str | None = None) -> Symbol:
    return Symbol(text, text if latex is None else latex)


CONVENTIONS: dict[str, Convention] = {c.key: c for c in (
    Convention(
        "blog", "Mazur's step-by-step example (derive's own names)",
        "Matt Mazur, 'A Step by Step Backpropagation Example' (2015)", "blog",
        net=_s("net", r"\mathrm{net}"), out=_s("out", r"\mathrm{out}"), input=_s("i"), target=_s("t"),
        weight=_s("w"), bias=_s("b"), error=_s("delta", r"\delta"), error_sign=1,
        loss=_s("E_total", r"E_{\mathrm{total}}"), loss_words=r"E_{\mathrm{total}} = \sum_k \tfrac12 (t_k - \mathrm{out}_k)^2",
        rate=_s("eta", r"\eta"), update=r"w \leftarrow w - \eta \, \frac{\partial E_{\mathrm{total}}}{\partial w}"),
    Convention(
        "han", "Han, Kamber & Pei, Data Mining: Concepts and Techniques",
        "3rd edition (2012), section 9.2.3, Figure 9.5 and Example 9.1", "global_from_to",
        net=_s("I"), out=_s("O"), input=_s("O"), target=_s("T"), weight=_s("w"), bias=_s("theta", r"\theta"),
        error=_s("Err", r"\mathrm{Err}"), error_sign=-1, loss=_s("E"), loss_words=r"E = \tfrac12 \sum_j (T_j - O_j)^2",
        rate=_s("l"), update=r"w_{ij} \leftarrow w_{ij} + (l)\, \mathrm{Err}_j \, O_i, \quad \theta_j \leftarrow \theta_j + (l)\, \mathrm{Err}_j"),
    Convention(
        "mitchell", "Mitchell, Machine Learning",
        "McGraw-Hill (1997), section 4.5, Table 4.2 (the Backpropagation algorithm)", "global_to_from",
        net=_s("net", r"\mathrm{net}"), out=_s("o"), input=_s("x"), target=_s("t"), weight=_s("w"), bias=_s("w0", "w_0"),
        error=_s("delta", r"\delta"), error_sign=-1, loss=_s("E"), loss_words=r"E = \tfrac12 \sum_k (t_k - o_k)^2",
        rate=_s("eta", r"\eta"), update=r"w_{ji} \leftarrow w_{ji} + \eta \, \delta_j \, x_{ji}"),
    Convention(
        "hagan", "Hagan, Demuth, Beale & De Jesús, Neural Network Design",
        "2nd edition (2014), chapter 11, the 1-2-1 example approximating 1 + sin(pi/4 p)", "layered",
        net=_s("n"), out=_s("a"), input=_s("p"), target=_s("t"), weight=_s("W"), bias=_s("b"),
        error=_s("s"), error_sign=1, loss=_s("F"), loss_words=r"F = e^{T} e, \quad e = t - a",
        rate=_s("alpha", r"\alpha"), update=r"W^m \leftarrow W^m - \alpha \, s^m (a^{m-1})^T, \quad b^m \leftarrow b^m - \alpha \, s^m",
        superscript="", refused=(("e", "e = t - a, the output error (its square sum is F); give F, a or s"),)),
    Convention(
        "nielsen", "Nielsen, Neural Networks and Deep Learning",
        "online book (2015), chapter 2, equations BP1-BP4", "layered",
        net=_s("z"), out=_s("a"), input=_s("x"), target=_s("y"), weight=_s("w"), bias=_s("b"),
        error=_s("delta", r"\delta"), error_sign=1, loss=_s("C"), loss_words=r"C = \tfrac12 \lVert y - a^L \rVert^2",
        rate=_s("eta", r"\eta"), update=r"w^l_{jk} \leftarrow w^l_{jk} - \eta \, \frac{\partial C}{\partial w^l_{jk}}",
        layer_offset=1, superscript=""),
    Convention(
        "deeplearning-ai", "Ng, deeplearning.ai, Neural Networks and Deep Learning (Coursera)",
        "course 1, week 3-4: forward and backward propagation", "layered",
        net=_s("Z"), out=_s("A"), input=_s("X"), target=_s("Y"), weight=_s("W"), bias=_s("b"),
        error=_s("dZ", r"dZ"), error_sign=1, loss=_s("J"), loss_words=r"J = \frac{1}{m} \sum_i \mathcal{L}(a^{(i)}, y^{(i)})",
        rate=_s("alpha", r"\alpha"), update=r"W^{[l]} \leftarrow W^{[l]} - \alpha \, dW^{[l]}, \quad dW^{[l]} = \tfrac1m dZ^{[l]} A^{[l-1]T}",
        short_derivatives=True),
    Convention(
        "pytorch", "PyTorch (matrix form)",
        "torch.nn.Linear, loss.backward(), torch.optim.SGD", "layered",
        net=_s("z"), out=_s("a"), input=_s("x"), target=_s("y"), weight=_s("W"), bias=_s("b"),
        error=_s("delta", r"\delta"), error_sign=1, loss=_s("loss", r"\mathcal{L}"),
        loss_words=r"\mathcal{L} = \mathrm{loss\_fn}(\mathrm{model}(x), y)",
        rate=_s("lr", r"\mathrm{lr}"), update=r"W \leftarrow W - \mathrm{lr} \cdot W.\mathrm{grad}"),
)}


def get(name: str, where: str = "convention") -> Convention:
    """The convention of that name; an unknown one is an error naming the known ones."""
    if name in CONVENTIONS:
        return CONVENTIONS[name]
    raise DeriveError(where, f"unknown convention {name!r}{suggestion(name, CONVENTIONS)}; "
                             f"known: {', '.join(CONVENTIONS)}")
