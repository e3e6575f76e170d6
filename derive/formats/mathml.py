"""LaTeX as MathML that a browser sets as TeX sets it.

latex2mathml translates the LaTeX faithfully, but a browser's MathML layout then
differs from TeX's in a few places a reader notices. :func:`mathml` mends them:

* a minus or plus sign in front of a term (``= -0.038``, ``(-1)``) is a prefix operator,
  set close to its number, not a binary operator with a space on each side;
* ``\\left(`` ``\\right)`` around a row no taller than a line (``(1 - 0.75)``, ``(-3.3)``)
  are ordinary parentheses: a browser's stretched parenthesis stands apart from its
  content, TeX's chooses the normal size; around a fraction they still stretch;
* a prime (``\\tanh'``, ``\\sigma'``, ``\\operatorname{ReLU}'``) follows its function at
  the height the prime glyph already has, instead of being raised again as a superscript;
* a function name (``\\ln``, ``\\tanh``, ``\\operatorname{ReLU}``) is an upright identifier
  with TeX's thin space to a factor before or after it, and ``\\mathrm{net}`` one word;
* in display style (the rows of a derivation, as in LaTeX's ``align*``) fractions are set
  at the size of the numbers beside them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

NS = "http://www.w3.org/1998/Math/MathML"
_Q = "{" + NS + "}"
ET.register_namespace("", NS)

#: elements whose children are a row (the others take a fixed number of arguments)
_ROWS = {"math", "mrow", "mstyle", "mtd", "msqrt", "mpadded", "mphantom", "menclose", "merror"}
#: elements that make a row taller than a line of text: parentheses around them stretch
_TALL = {"mfrac", "munder", "mover", "munderover", "mtable", "msqrt", "mroot"}
_PRIMES = set("′″‴")
_SIGNS = {"−", "+", "±", "∓"}
#: operators after which a sign closes a term rather than opening one
_CLOSING = set(")]}|‖⟩") | _PRIMES
_THIN = "0.1667em"


def tree(latex: str, display: bool = False) -> ET.Element:
    """latex2mathml's MathML for a piece of LaTeX, as an element tree."""
    import latex2mathml.converter  # only the HTML slides and Canvas need it (see tests/test_layers.py)

    text = latex2mathml.converter.convert(latex, display="block" if display else "inline")
    return ET.fromstring(_MTEXT.sub(_escape_mtext, text))


def mathml(latex: str, display: bool = False, displaystyle: bool = False) -> str:
    """LaTeX as MathML, set as TeX sets it; ``displaystyle`` sets fractions at full size (a derivation's rows)."""
    root = tree(latex, display)
    if displaystyle:
        root.set("displaystyle", "true")
    _mend(root)
    return ET.tostring(root, encoding="unicode")


#: latex2mathml copies \text{...} into <mtext> without escaping < > & (every other character it writes as a reference)
_MTEXT = re.compile(r"(<mtext[^>]*>)(.*?)(</mtext>)")
_BARE = re.compile(r"&(?!#x?[0-9A-Fa-f]+;)|<|>")


def _escape_mtext(match) -> str:
    text = _BARE.sub(lambda m: {"&": "&amp;", "<": "&lt;", ">": "&gt;"}[m.group()], match.group(2))
    return match.group(1) + text + match.group(3)


def _tag(node) -> str:
    return node.tag[len(_Q):] if node.tag.startswith(_Q) else node.tag


def _element(tag: str, text: str | None = None, **attributes) -> ET.Element:
    node = ET.Element(_Q + tag, attributes)
    node.text = text
    return node


def _mend(node) -> None:
    """Mend a node's children first, then the node's own row."""
    for child in list(node):
        _mend(child)
    for index, child in enumerate(list(node)):
        primed = _unprimed(child)
        if primed is not None:
            if _tag(node) in _ROWS:
                node[index:index + 1] = primed
            else:
                row = _element("mrow")
                row.extend(primed)
                node[index] = row
    if _tag(node) in _ROWS:
        _functions(node)  # before the words: a function name has no mathvariant, \mathrm's letters have one
        _words(node)
        _signs(node)
        _fences(node)


def _unprimed(node) -> list | None:
    """``f'`` written as f followed by a prime (None when the node is not a primed function)."""
    tag = _tag(node)
    if tag not in ("msup", "msubsup") or len(node) < 2:
        return None
    sup = node[-1]
    primes = "".join(x.text or "" for x in (sup.iter() if _tag(sup) == "mrow" else [sup]) if _tag(x) != "mrow")
    if not primes or set(primes) - _PRIMES:
        return None
    prime = _element("mo", primes, lspace="0", rspace="0")
    if tag == "msup":
        return [node[0], prime]
    sub = _element("msub")  # f'_1: the prime with the function, the index after it
    base = _element("mrow")
    base.extend([node[0], prime])
    sub.extend([base, node[1]])
    return [sub]


def _words(row) -> None:
    """``\\mathrm{net}``'s letters, one identifier each, as one word."""
    children, merged = list(row), []
    for child in children:
        previous = merged[-1] if merged else None
        if _upright_letters(child) and previous is not None and _upright_letters(previous):
            previous.text += child.text
        else:
            merged.append(child)
    if len(merged) < len(children):
        for child in merged:
            if _tag(child) == "mi" and len(child.text or "") > 1 and child.get("mathvariant") == "normal":
                del child.attrib["mathvariant"]  # a name of several letters is upright anyway
        row[:] = merged


def _upright_letters(node) -> bool:
    return _tag(node) == "mi" and node.get("mathvariant") == "normal" and (node.text or "").isalpha()


def _is_function(node) -> bool:
    """``\\ln``, ``\\tanh`` (a name of several letters) or ``\\operatorname{ReLU}``, ``\\max`` (an operator of letters)."""
    text = node.text or ""
    return _tag(node) in ("mi", "mo") and len(text) > 1 and text.isalpha() and "mathvariant" not in node.attrib


def _functions(row) -> None:
    """A function name upright, a thin space between it and a factor beside it, as TeX's \\mathop."""
    out = []
    children = list(row)
    for index, child in enumerate(children):
        if _is_function(child):
            child.tag = _Q + "mi"
            if out and _tag(out[-1]) not in ("mo", "mspace"):
                out.append(_element("mspace", width=_THIN))
            out.append(child)
            following = children[index + 1] if index + 1 < len(children) else None
            if following is not None and _tag(_first_token(following)) not in ("mo", "mspace"):
                out.append(_element("mspace", width=_THIN))
        else:
            out.append(child)
    if len(out) != len(children):
        row[:] = out


def _first_token(node):
    while len(node) and _tag(node) not in ("mi", "mn", "mo", "mtext"):
        node = node[0]
    return node


def _signs(row) -> None:
    """A minus or plus at the start of a term is a sign, set close to what follows it."""
    previous = None
    for child in row:
        if _tag(child) == "mo" and (child.text or "") in _SIGNS and (
                previous is None or (_tag(previous) == "mo" and (previous.text or "") not in _CLOSING
                                     and previous.get("form") != "postfix")):
            child.set("form", "prefix")
        if _tag(child) == "mo" and child.text == "/":
            child.set("lspace", "0")  # ∂E/∂w as TeX sets a slash: no space around it
            child.set("rspace", "0")
        if _tag(child) != "mspace":
            previous = child


def _fences(row) -> None:
    """``\\left(``...``\\right)`` at the normal size unless what they enclose is taller than a line."""
    fences = [c for c in row if _tag(c) == "mo" and c.get("fence") == "true" and c.get("stretchy") == "true"]
    if fences and not any(_tag(x) in _TALL for c in row if c not in fences for x in c.iter()):
        for fence in fences:
            fence.set("stretchy", "false")
