"""Escaping, one function per output language: text from a spec or a file name printed as itself, never as markup.

Every renderer takes its escaping from here: LaTeX (:func:`latex`, with Greek letters and
mathematical symbols typeset and other scripts refused by :func:`check_latex`, naming the
character), Markdown (:func:`markdown`, :func:`code` for a code span), HTML and XML
(:func:`xml`), Moodle's cloze question text (:func:`cloze`), TeX job names
(:func:`jobname`), file names (:func:`filename`) and quiz identifiers (:func:`identifier`).
Mathematics the program writes itself is never escaped.
"""

from __future__ import annotations

import re
import unicodedata

from derive.errors import DeriveError, printable


def _visible(text) -> str:
    """The text without control characters (line breaks and tabs kept)."""
    return "".join(ch for ch in str(text) if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))


# -- LaTeX -------------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "%": r"\%",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}

_GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ζ": r"\zeta",
    "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu",
    "ξ": r"\xi", "ο": r"o", "π": r"\pi", "ρ": r"\rho", "ς": r"\varsigma", "σ": r"\sigma", "τ": r"\tau",
    "υ": r"\upsilon", "φ": r"\varphi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "ϑ": r"\vartheta",
    "ϕ": r"\phi", "ϵ": r"\epsilon", "ϱ": r"\varrho", "ϖ": r"\varpi",
    "Α": r"\mathrm{A}", "Β": r"\mathrm{B}", "Γ": r"\Gamma", "Δ": r"\Delta", "Ε": r"\mathrm{E}",
    "Ζ": r"\mathrm{Z}", "Η": r"\mathrm{H}", "Θ": r"\Theta", "Ι": r"\mathrm{I}", "Κ": r"\mathrm{K}",
    "Λ": r"\Lambda", "Μ": r"\mathrm{M}", "Ν": r"\mathrm{N}", "Ξ": r"\Xi", "Ο": r"\mathrm{O}", "Π": r"\Pi",
    "Ρ": r"\mathrm{P}", "Σ": r"\Sigma", "Τ": r"\mathrm{T}", "Υ": r"\Upsilon", "Φ": r"\Phi", "Χ": r"\mathrm{X}",
    "Ψ": r"\Psi", "Ω": r"\Omega",
}
_MATH = {
    "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\surd",
    "∞": r"\infty", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv", "∼": r"\sim",
    "≃": r"\simeq", "∝": r"\propto", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow", "⇔": r"\Leftrightarrow",
    "↦": r"\mapsto", "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊃": r"\supset",
    "⊆": r"\subseteq", "⊇": r"\supseteq", "∪": r"\cup", "∩": r"\cap", "∅": r"\emptyset", "∀": r"\forall",
    "∃": r"\exists", "∧": r"\wedge", "∨": r"\vee", "⊕": r"\oplus", "⊗": r"\otimes", "⊙": r"\odot",
    "∘": r"\circ", "∙": r"\bullet", "⋅": r"\cdot", "−": r"-", "∓": r"\mp", "′": r"\prime", "″": r"\prime\prime",
    "‖": r"\|", "∥": r"\parallel", "⊥": r"\perp", "⊤": r"\top", "≪": r"\ll", "≫": r"\gg", "⌈": r"\lceil",
    "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor", "∆": r"\Delta", "∗": r"\ast", "ℓ": r"\ell",
    "ℏ": r"\hbar", "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}",
    "ℂ": r"\mathbb{C}", "⁰": r"^{0}", "⁴": r"^{4}", "⁵": r"^{5}", "⁶": r"^{6}", "⁷": r"^{7}", "⁸": r"^{8}",
    "⁹": r"^{9}", "⁺": r"^{+}", "⁻": r"^{-}", "ⁿ": r"^{n}", "₀": r"_{0}", "₁": r"_{1}", "₂": r"_{2}",
    "₃": r"_{3}", "₄": r"_{4}", "₅": r"_{5}", "₆": r"_{6}", "₇": r"_{7}", "₈": r"_{8}", "₉": r"_{9}",
}
#: characters pdflatex typesets with the documents' preamble (T1 fonts, utf8 input), found by compiling
#: each character the LaTeX kernel's .dfu files declare (Cyrillic is declared but needs T2A fonts)
_TEXT_RANGES = (
    (160, 293), (296, 311), (313, 318), (321, 328), (330, 357), (360, 382), (402, 402), (452, 468), (482, 483),
    (486, 491), (496, 496), (500, 501), (536, 539), (562, 563), (567, 567), (710, 711), (728, 729), (731, 733),
    (3647, 3647), (7682, 7683), (7693, 7693), (7710, 7713), (7717, 7717), (7728, 7729), (7735, 7735),
    (7747, 7747), (7749, 7749), (7751, 7751), (7771, 7771), (7779, 7779), (7789, 7789), (7822, 7825),
    (7838, 7838), (7922, 7923), (8204, 8204), (8208, 8214), (8216, 8218), (8220, 8222), (8224, 8226),
    (8230, 8230), (8240, 8241), (8249, 8251), (8253, 8253), (8260, 8260), (8270, 8270), (8274, 8274),
    (8353, 8353), (8356, 8356), (8358, 8358), (8361, 8361), (8363, 8364), (8369, 8369), (8451, 8451),
    (8470, 8471), (8478, 8478), (8480, 8480), (8482, 8482), (8486, 8487), (8494, 8494), (8592, 8595),
    (9001, 9002), (9250, 9251), (9702, 9702), (9711, 9711), (9834, 9834), (10216, 10217), (12296, 12297),
    (64256, 64262), (65279, 65279),
)
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))


def typesets(char: str) -> bool:
    """True when the PDF can show the character (as text, or as a mathematical symbol)."""
    code = ord(char)
    if 32 <= code < 127 or char in _GREEK or char in _MATH:
        return True
    return any(low <= code <= high for low, high in _TEXT_RANGES)


def unsupported(text) -> str | None:
    """The first character of ``text`` the PDF cannot show, or None."""
    for char in _visible(text):
        if char not in "\n\t" and not typesets(char):
            return char
    return None


def describe(char: str) -> str:
    """'日' (U+65E5 CJK UNIFIED IDEOGRAPH-65E5): a character named so that it can be found and replaced."""
    name = unicodedata.name(char, "")
    return f"'{char}' (U+{ord(char):04X}{' ' + name if name else ''})"


def check_latex(text, where: str, what: str = "text") -> None:
    """Refuse, before any work, text the PDF cannot typeset: name the character and the way out."""
    char = unsupported(text)
    if char is not None:
        raise DeriveError(where, f"{what}: contains {describe(char)}, which the PDF cannot typeset (its fonts hold "
                          "Latin and Greek letters and mathematical symbols); write it without that character, "
                          "or leave out the PDF and LaTeX (for example --format md,json)")


def latex(text) -> str:
    """Plain text made safe for LaTeX: every special character printed as itself, no command can run.

    Greek letters and mathematical symbols are typeset as mathematics; a character no font of the documents holds raises :class:`DeriveError` (the command
    line refuses such text up front with :func:`check_latex`).
    """
    text = _visible(text)
    char = unsupported(text)
    if char is not None:
        check_latex(text, "LaTeX")
    out = _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)
    if any(ch in _GREEK or ch in _MATH for ch in out):
        out = "".join(r"\ensuremath{" + (_GREEK.get(ch) or _MATH[ch]) + "}" if ch in _GREEK or ch in _MATH else ch
                      for ch in out)
    return out


def latex_heading(text) -> str:
    """Text for a heading or a title line: as :func:`latex`, and an empty box when nothing is visible
    (a line of a title page ends with \\, which needs something before it)."""
    return latex(text) if str(text).strip() else r"\mbox{}"


# -- Markdown, HTML, XML -------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])", re.MULTILINE)


def markdown(text) -> str:
    """Plain text made safe for Markdown: emphasis, links, HTML and math markers printed as themselves."""
    text = _MD_SPECIAL.sub(r"\\\1", _visible(text).replace("&", "&amp;"))
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def code(text) -> str:
    """Text as a Markdown code span: fenced by more backticks than it holds, on one line."""
    text = printable(str(text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_XML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_XML_RE = re.compile("[&<>\"']")


def xml(text) -> str:
    """Plain text made safe for XML and HTML, in element content and in quoted attributes."""
    return _XML_RE.sub(lambda m: _XML[m.group()], _visible(text))


def cloze(html: str) -> str:
    """HTML made safe inside a Moodle cloze question: no brace can open an answer field.

    Moodle finds the fields, ``{1:NUMERICAL:...}`` (a brace, an optional weight, a colon), in
    the question text before the browser reads it. Such a brace is written as a character
    reference, which is only a brace to the browser; every other brace (the mathematics'
    ``w_{1}``) stays as it is, for the TeX filters that read the text as written.
    """
    return _CLOZE_OPENING.sub("&#123;", html)


_CLOZE_OPENING = re.compile(r"\{(?=[0-9]*:)")


# -- names -----------------------------------------------------------------------------------------

def jobname(name: str) -> str:
    """A TeX job name: ASCII letters, digits, '-' and '_' (TeX reads %, ~, ", \\ and ^^ in a file name)."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", str(name))
    return stem[:100] or "document"


_FILE_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def filename(text: str) -> str:
    """Text as part of a file name on every system: no separators, no characters Windows forbids."""
    name = _FILE_FORBIDDEN.sub("_", str(text)).strip(" .")
    return name[:120] or "network"


def identifier(text: str, length: int = 40) -> str:
    """Text as an identifier every quiz platform keeps as it is: ASCII letters, digits, '-' and '_'."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(text))[:length]
