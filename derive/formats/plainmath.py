"""Mathematics as plain HTML: letters, Unicode symbols and ``<sub>``/``<sup>``, no MathML, no MathJax.

For places that show HTML but cannot be relied on to typeset LaTeX or MathML, such as
a Canvas quiz question. The LaTeX derive prints is parsed by latex2mathml (the same
parser the HTML slides use) and the MathML tree is written back as text:

* ``\\mathrm{out}_{o_{1}}`` -> ``out<sub>o1</sub>`` (an index of an index is written inline);
* ``\\frac{a}{b}`` -> ``a/b``, with parentheses around a numerator or denominator of more than one term;
* Greek letters, ``\\partial``, ``\\to``, ``\\cdot``, ``\\approx`` and the minus sign as Unicode characters.

Every piece of text is escaped for HTML; nothing of the input becomes markup.
"""

from __future__ import annotations

import re

from derive.formats.mathml import tree
from derive.formats.render import escape_xml

_NS = "{http://www.w3.org/1998/Math/MathML}"
#: operators written with a space on each side (when not a sign in front of a term)
_BINARY = set("=+−→⋅·×≈<>≤≥±∓÷≠↦")
_OPENERS = set("([{|‖⟨")
_TOKENS = {"mi", "mn", "mtext", "ms"}
_SCRIPTS = {"msub", "msup", "msubsup"}


def html_math(latex: str) -> str:
    """LaTeX as HTML text with subscripts and superscripts."""
    text = _row(list(tree(latex)), flat=False)
    return re.sub(r" {2,}", " ", text).strip()


def _tag(node) -> str:
    return node.tag[len(_NS):] if node.tag.startswith(_NS) else node.tag


def _text(node) -> str:
    return escape_xml((node.text or "").replace("\u00a0", " "))


def _row(children: list, flat: bool) -> str:
    """A row of MathML nodes: operators spaced, terms written side by side with a space between."""
    out, previous = [], None
    for child in children:
        tag, text = _tag(child), _node(child, flat)
        if tag == "mo" and (child.text or "") in _BINARY:
            sign = previous is None or (_tag(previous) == "mo" and (previous.text or "") not in ")]}|‖⟩")
            out.append(text if sign else f" {text} ")
        else:
            if previous is not None and tag != "mo" and _tag(previous) != "mo" \
                    and not (tag in _TOKENS and _tag(previous) in _TOKENS) \
                    and not (_tag(_leaf(child)) == "mo" and (_leaf(child).text or "") in _OPENERS):
                out.append(" ")  # a product of terms: w1 i1, δ ∂net/∂w
            out.append(text)
        previous = child
    return "".join(out)


def _part(node, flat: bool) -> str:
    """A numerator or denominator: in parentheses when it is more than one term (∂E alone needs none)."""
    while _tag(node) in ("mrow", "mstyle") and len(node) == 1:
        node = node[0]
    children = list(node) if _tag(node) in ("mrow", "mstyle") else [node]
    text = _row(children, flat)
    single = len(children) == 1 or (len(children) == 2 and _tag(children[0]) == "mo"
                                    and (children[0].text or "") in ("∂", "−"))
    return text if single else f"({text})"


def _leaf(node):
    """The first token of a node (an opening parenthesis tells a function's argument)."""
    while _tag(node) not in _TOKENS | {"mo"} and len(node):
        node = node[0]
    return node


def _node(node, flat: bool) -> str:
    tag, kids = _tag(node), list(node)
    if tag == "mo" and node.text == "," and not flat:
        return ", "
    if tag in ("mi", "mn", "mo", "mtext", "ms"):
        return _text(node)
    if tag == "mspace":
        return " "
    if tag in ("mphantom", "annotation", "annotation-xml"):
        return ""
    if tag == "semantics":
        return _node(kids[0], flat) if kids else ""
    if tag in ("msub", "msup", "msubsup"):
        base = _node(kids[0], flat)
        sub = _node(kids[1], True) if tag != "msup" else ""  # an index of an index is written inline: o1
        sup = _node(kids[-1], flat) if tag != "msub" else ""
        if flat:
            return base + sub + (f"^{sup}" if sup else "")
        if sup and not sub and base.endswith("</sup>"):  # {z^{[1]}_{1}}^{(2)}: one superscript, [1](2)
            return base[: -len("</sup>")] + sup + "</sup>"
        return base + (f"<sub>{sub}</sub>" if sub else "") + (f"<sup>{sup}</sup>" if sup else "")
    if tag == "mfrac":
        return f"{_part(kids[0], flat)}/{_part(kids[1], flat)}"
    if tag == "msqrt":
        return f"√({_row(kids, flat)})"
    if tag == "mroot":
        return f"{_node(kids[1], True)}√({_node(kids[0], flat)})"
    if tag in ("mover", "munder", "munderover"):
        return "".join(_node(k, flat) for k in kids)
    if tag == "mfenced":
        inner = escape_xml(node.get("separators", ",")[:1] or ",").join(_node(k, flat) for k in kids)
        return escape_xml(node.get("open", "(")) + inner + escape_xml(node.get("close", ")"))
    if tag == "mtable":
        return "; ".join(" ".join(_row(list(cell), flat) for cell in row) for row in kids)
    return _row(kids, flat)  # math, mrow, mstyle, mpadded, menclose, ...
