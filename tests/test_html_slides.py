"""The HTML deck at parity with Beamer: its MathML set as TeX sets it, and what a browser shows of each frame."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from decks import DECKS
from randomnet import spec_text

from derive import solve
from derive.core.spec import parse
from derive.documents.slides import deck
from derive.formats.html import slides_html
from derive.formats.mathml import mathml

_Q = "{http://www.w3.org/1998/Math/MathML}"
_OPERATORS = {"=", "≈", "+", "−", "⋅", "·", "×"}


def _read(node) -> str:
    """MathML as a reader sees it: a binary operator spaced, a sign, fence or prime close, a tall fence as ⟦ ⟧."""
    tag = node.tag[len(_Q):]
    kids = list(node)
    if tag in ("mi", "mn", "mtext"):
        return node.text or ""
    if tag == "mo":
        text = node.text or ""
        if node.get("stretchy") == "true":
            return {"(": "⟦", ")": "⟧"}.get(text, text)
        if text in _OPERATORS and node.get("form") != "prefix":
            return f" {text} "
        return text
    if tag == "mspace":
        return " "
    if tag == "mfrac":
        return f"{_read(kids[0])}/{_read(kids[1])}"
    if tag in ("msub", "msup"):
        return _read(kids[0]) + ("_" if tag == "msub" else "^") + _read(kids[1])
    if tag == "msubsup":
        return f"{_read(kids[0])}_{_read(kids[1])}^{_read(kids[2])}"
    return "".join(_read(k) for k in kids)


def read(latex: str) -> str:
    return _read(ET.fromstring(mathml(latex))).strip()


@pytest.mark.parametrize("latex, reading", [
    # the rows the issue quotes: a true minus attached to its number, parentheses close to what they enclose
    (r"= \left(-0.0380982\right) \cdot 0.5", "= (−0.0380982) · 0.5"),
    (r"= 2 \cdot \left(\left(-3.33897\right) - \left(-5.7345\right)\right)", "= 2 · ((−3.33897) − (−5.7345))"),
    (r"= -0.0380982 \cdot 0.59327", "= −0.0380982 · 0.59327"),
    (r"= - 0 \cdot \ln{\left(0.139388 \right)}", "= −0 · ln(0.139388)"),
    (r"-1", "−1"),
    (r"a - b", "a − b"),
    (r"\left(a\right) - 1", "(a) − 1"),
    # around a fraction the parentheses still grow
    (r"\left(\frac{1}{2} - x\right)", "⟦1/2 − x⟧"),
    # a prime beside its function, not raised again as a superscript
    (r"\tanh'(z)", "tanh′(z)"),
    (r"\sigma'(\mathrm{net}_{o_{1}})", "σ′(net_o_1)"),
    (r"\operatorname{ReLU}'(z^{[1]}_j)", "ReLU′(z_j^[1])"),
    (r"f_1'(x)", "f′_1(x)"),
    (r"x^{2}", "x^2"),
    # function names: one upright word with TeX's thin space to a factor beside it
    (r"- t_{o_{1}} \ln{\left(\mathrm{out}_{o_{1}}\right)}", "−t_o_1 ln(out_o_1)"),
    (r"\tanh x", "tanh x"),
    (r"2 \cdot \tanh(x)", "2 · tanh(x)"),
    (r"\partial E / \partial w", "∂E/∂w"),
])
def test_mathml_reads_as_tex_sets_it(latex, reading):
    assert read(latex) == reading


@pytest.mark.parametrize("latex, primes", [(r"\tanh'(x)", 1), (r"\sigma'(x)", 1), (r"\operatorname{ReLU}'(x)", 1),
                                           (r"f''(x)", 1), (r"x'", 1)])
def test_no_prime_is_a_superscript(latex, primes):
    markup = mathml(latex)
    assert "<msup" not in markup
    assert len(re.findall(r'<mo lspace="0" rspace="0">[′″‴]+</mo>', markup)) == primes


def test_derivation_rows_in_display_style_paragraphs_in_text_style():
    """Fractions in a derivation's rows at the size of the numbers beside them (as align*); inline text keeps text style."""
    row = ET.fromstring(mathml(r"= 2 \cdot \frac{1}{2}", displaystyle=True))
    assert row.get("displaystyle") == "true"
    assert ET.fromstring(mathml(r"\frac{1}{2}")).get("displaystyle") is None
    html = slides_html(MAZUR)
    rows = re.findall(r'<tr class="fragment">(.*?)</tr>', html)
    assert rows and all(cell.count('displaystyle="true"') == cell.count("<math") for cell in rows)
    paragraphs = re.findall(r"<p>.*?</p>", html, re.S)
    assert paragraphs and not any('displaystyle="true"' in p for p in paragraphs)


MAZUR = deck(solve("mazur"))
THREE = spec_text(61, sizes=[3, 3, 2, 1], activations=["tanh", "tanh", "sigmoid"], loss="mse", batch=1)


@pytest.mark.parametrize("source", ["mazur", "mlp-relu", "softmax-ce", THREE])
def test_no_spaced_sign_or_raised_prime_in_a_deck(source):
    """No minus after an opening parenthesis left a binary operator, no stretched parenthesis around a line's height."""
    spec = source if "\n" not in source else parse(source, "r.toml")
    html = slides_html(deck(solve(spec)))
    assert not re.search(r'<mo[^>]*>\(</mo><mo>−</mo>', html)
    assert not re.search(r'<msup>(?:(?!</msup>).)*<m[io]>′</m[io]></msup>', html)
    for m in re.finditer(r"<math .*?</math>", html):
        tree = ET.fromstring(m.group())
        for row in tree.iter():
            fences = [c for c in row if c.get("stretchy") == "true"]
            if fences:
                assert any(x.tag == _Q + "mfrac" for c in row for x in c.iter()), m.group()


# --- in a real browser -------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="a headless Chromium shows the deck")

#: after the deck's own script: what the opened slide shows, and for every frame fully revealed what runs off it
PROBE = """<script>
const probe = {hash: location.hash, present: slides.indexOf(document.querySelector("section.present")) + 1,
  rows: Array.from(document.querySelectorAll("section.present .fragment")).map(f => f.classList.contains("visible")),
  values: Array.from(document.querySelectorAll("section.present svg [data-step]")).map(
    e => [+e.dataset.step, e.classList.contains("visible")]), overflow: [], labels: []};
slides.forEach((s, i) => {
  slides.forEach(t => t.classList.toggle("present", t === s));
  s.querySelectorAll(".fragment").forEach(f => f.classList.add("visible"));
  const box = s.getBoundingClientRect();
  for (const e of s.querySelectorAll("h1, h2, p, table, math, svg")) {
    const r = e.getBoundingClientRect();
    if (r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5) probe.overflow.push([i + 1, e.tagName]);
  }
  // the smallest text of each picture as the frame shows it, CSS px (its font size times the drawing's scale)
  for (const svg of s.querySelectorAll("svg")) {
    const sizes = Array.from(svg.querySelectorAll("text")).map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
    if (sizes.length) probe.labels.push([i + 1, Math.min(...sizes), box.width]);
  }
  for (const e of s.querySelectorAll(".text"))
    if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1) probe.overflow.push([i + 1, "text"]);
});
const pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(probe);
document.body.appendChild(pre);
</script>
</body>"""


def browse(html: str, fragment: str, size: str, tmp_path) -> dict:
    """Open the deck at ``#fragment`` in headless Chromium at ``size`` and read the probe's findings."""
    page = tmp_path / "deck.html"
    page.write_text(html.replace("</body>", PROBE), encoding="utf-8")
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={size}",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri() + "#" + fragment],
                         capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@needs_browser
@pytest.mark.parametrize("fragment, shown", [("4", "first"), ("4*", "all"), ("10", "first"), ("11*", "all")])
def test_a_slide_opens_with_its_first_row_as_beamer(fragment, shown, tmp_path):
    """``#N`` shows the first row of the derivation (Beamer's first overlay) and the diagram's values up to it."""
    probe = browse(slides_html(MAZUR), fragment, "1280,720", tmp_path)
    assert probe["present"] == int(fragment.rstrip("*"))
    rows = probe["rows"]
    assert len(rows) > 1
    assert rows == ([True] + [False] * (len(rows) - 1) if shown == "first" else [True] * len(rows))
    visible_rows = sum(rows)
    assert all(visible == (step <= visible_rows) for step, visible in probe["values"])


@needs_browser
@pytest.mark.parametrize("name", list(DECKS))
def test_nothing_runs_off_a_projected_frame(name, tmp_path):
    """At 1280x720 every frame, every step shown, fits its slide: no text or picture past its edge, nothing to
    scroll."""
    probe = browse(slides_html(DECKS[name]()), "1", "1280,720", tmp_path)
    assert probe["overflow"] == []


@needs_browser
def test_a_phone_shows_one_column_that_fits_its_width(tmp_path):
    """Upright on a phone (390x844) the mazur deck's derivations fit the screen's width."""
    probe = browse(slides_html(MAZUR), "10", "390,844", tmp_path)
    assert [o for o in probe["overflow"] if o[1] != "svg"] == []


CIRCUITS = [name for name in DECKS if name.startswith("circuit")]
#: Beamer's circuit label on the 16:9 frame: 8 pt of its 453.54 pt width
BEAMER_LABEL = 8 / 453.54


@needs_browser
@pytest.mark.parametrize("name", CIRCUITS)
def test_a_circuit_is_as_readable_as_on_the_beamer_frame(name, tmp_path):
    """At 1280x720 every label of a circuit's picture is at least 13 px, and as large beside the frame as Beamer's
    8 pt on its 16 cm frame (within 5%); upright on a phone (390x844) at least 12 px (the picture scrolled sideways)."""
    html = slides_html(DECKS[name]())
    labels = browse(html, "1", "1280,720", tmp_path)["labels"]
    assert len(labels) >= 3
    assert [(frame, px) for frame, px, _ in labels if px < 13] == []
    assert [(frame, px) for frame, px, frame_width in labels if px < 0.95 * BEAMER_LABEL * frame_width] == []
    phone = browse(html, "4", "390,844", tmp_path)
    assert [(frame, px) for frame, px, _ in phone["labels"] if px < 12] == []
