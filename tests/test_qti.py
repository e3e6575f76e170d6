"""Canvas quizzes (`derive worksheet --format qti`): a deterministic, complete QTI 1.2 package whose questions
accept exactly the values the sheet's rounding rule allows and give each version's own numbers."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import mpmath
import pytest
from randomnet import spec_text

from derive import solve
from derive.cli import main
from derive.core.notation import Notation
from derive.core.steps import Steps
from derive.core.versions import load
from derive.documents.options import Options
from derive.exercises.qti import MAX_QUESTION_TEXT
from derive.exercises.worksheet import STAGES, choose, exercise
from derive.formats.plainmath import html_math
from derive.grading.rounding import accepted_answers, answer_key

QTI = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
CP = {"cp": "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1", "imsmd": "http://www.imsglobal.org/xsd/imsmd_v1p2"}
MAZUR = Path(__file__).resolve().parent.parent / "derive" / "presets" / "mazur.toml"
SEED, VERSIONS, PLACES = 5, 3, 4
UNIT = Decimal(1).scaleb(-PLACES)  # one unit of the last decimal asked for
TOLERANCE = UNIT / 2


def run(folder, *args) -> bytes:
    assert main(["worksheet", *args, "--format", "qti", "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["canvas-qti.zip"]  # --format qti alone: the zip only
    return (folder / "canvas-qti.zip").read_bytes()


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> bytes:
    return run(tmp_path_factory.mktemp("qti"), "mazur", "--variants", str(VERSIONS), "--seed", str(SEED))


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def quizzes(data: bytes) -> dict[str, ET.Element]:
    """version id -> its parsed assessment."""
    found = {}
    for name, content in entries(data).items():
        if name != "imsmanifest.xml":
            found[re.fullmatch(r"quiz-(.+)\.xml", name).group(1)] = ET.fromstring(content)
    return found


def items(assessment) -> list:
    return assessment.findall("q:assessment/q:section/q:item", QTI)


def accepted(item) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(exact, low, high) of every condition that gives full marks."""
    found = []
    for condition in item.findall("q:resprocessing/q:respcondition", QTI):
        if condition.findtext("q:setvar", namespaces=QTI) != "100":
            continue
        number = lambda tag: Decimal(condition.findtext(f"q:conditionvar/q:or//q:{tag}", namespaces=QTI))
        found.append((number("varequal"), number("vargte"), number("varlte")))
    return found


def question_html(item) -> str:
    return item.findtext("q:presentation/q:material/q:mattext", namespaces=QTI)


class Tables(HTMLParser):
    """The text of every table cell, table by table, and the text outside tables."""

    def __init__(self, html: str):
        super().__init__()
        self.tables, self.text, self._cell = [], [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        (self._cell if self._cell is not None else self.text).append(data)


def rounded(x) -> Decimal:
    """An exact value rounded half away from zero to PLACES decimals (from 40 digits, independently of derive)."""
    return Decimal(mpmath.nstr(x, 40, strip_zeros=False)).quantize(UNIT, rounding=ROUND_HALF_UP)


# -- the package ---------------------------------------------------------------------------------

def test_the_zip_is_the_same_bytes_every_run(package, tmp_path):
    assert run(tmp_path / "again", "mazur", "--variants", str(VERSIONS), "--seed", str(SEED)) == package
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["imsmanifest.xml"] + [f"quiz-{SEED}-{k:02d}.xml"
                                                                 for k in range(1, VERSIONS + 1)]
    assert {(i.date_time, i.external_attr >> 16, i.create_system) for i in infos} == {((1980, 1, 1, 0, 0, 0), 0o644, 3)}


def test_every_file_parses_and_the_manifest_lists_exactly_the_quizzes(package):
    files = entries(package)
    parsed = {name: ET.fromstring(content) for name, content in files.items()}  # every file is XML
    resources = parsed["imsmanifest.xml"].findall("cp:resources/cp:resource", CP)
    listed = [r.find("cp:file", CP).get("href") for r in resources]
    assert sorted(listed) == sorted(set(files) - {"imsmanifest.xml"})  # each file referenced, each reference a file
    assert [r.get("href") for r in resources] == listed
    assert {r.get("type") for r in resources} == {"imsqti_xmlv1p2"}
    assert len({r.get("identifier") for r in resources}) == len(resources)


# the structure Canvas's importer reads, for every question: (path under <item>, attribute or None, expected)
ITEM_STRUCTURE = [
    ("q:itemmetadata/q:qtimetadata/q:qtimetadatafield[q:fieldlabel='question_type']/q:fieldentry", None,
     "numerical_question"),
    ("q:itemmetadata/q:qtimetadata/q:qtimetadatafield[q:fieldlabel='points_possible']/q:fieldentry", None, "1"),
    ("q:presentation/q:material/q:mattext", "texttype", "text/html"),
    ("q:presentation/q:response_str", "ident", "response1"),
    ("q:presentation/q:response_str", "rcardinality", "Single"),
    ("q:presentation/q:response_str/q:render_fib", "fibtype", "Decimal"),
    ("q:presentation/q:response_str/q:render_fib/q:response_label", "ident", "answer1"),
    ("q:resprocessing/q:outcomes/q:decvar", "varname", "SCORE"),
    ("q:resprocessing/q:outcomes/q:decvar", "maxvalue", "100"),
    ("q:resprocessing/q:respcondition/q:displayfeedback", "linkrefid", "general_fb"),
    ("q:itemfeedback", "ident", "general_fb"),
]


@pytest.mark.parametrize("path, attribute, expected", ITEM_STRUCTURE)
def test_every_question_is_a_canvas_numerical_question(package, path, attribute, expected):
    for assessment in quizzes(package).values():
        for item in items(assessment):
            node = item.find(path, QTI)
            assert node is not None, path
            assert (node.get(attribute) if attribute else node.text) == expected


def test_identifiers_are_unique_ascii_and_stable(package):
    idents = [a.find("q:assessment", QTI).get("ident") for a in quizzes(package).values()]
    idents += [i.get("ident") for a in quizzes(package).values() for i in items(a)]
    assert len(set(idents)) == len(idents)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", i) for i in idents)  # what Canvas keeps unchanged


# -- each version: its blanks, its keys, its numbers ---------------------------------------------

@pytest.mark.parametrize("k", range(1, VERSIONS + 1))
def test_a_quiz_is_one_version_with_a_question_per_blank(package, k):
    ident = f"{SEED}-{k:02d}"
    assessment = quizzes(package)[ident].find("q:assessment", QTI)
    spec = load(f"mazur@{ident}")
    assert assessment.get("title") == f"{load('mazur').title} (version {ident})"
    blanks = choose(Steps(solve(spec)), "full")  # in the order of the calculation
    stage = {kind: k for k, kinds in enumerate(STAGES.values()) for kind in kinds}
    in_sheet_order = exercise(solve(spec), Options(blanks="full", places=PLACES), ident).blanks  # the sheet's: one unit at a time
    assert sorted(b.name for b in in_sheet_order) == sorted(b.name for b in blanks)
    assert [stage[b.kind] for b in sorted(blanks, key=lambda b: stage[b.kind])] == \
        [list(STAGES).index(b.stage) for b in in_sheet_order]
    assert [i.get("title") for i in items(quizzes(package)[ident])] == [b.name for b in in_sheet_order]


@pytest.mark.parametrize("k", range(1, VERSIONS + 1))
def test_each_question_accepts_the_key_and_the_exact_value_rounded_and_nothing_a_unit_further(package, k):
    ident = f"{SEED}-{k:02d}"
    solution = solve(f"mazur@{ident}")
    steps = Steps(solution)
    key = {name: value for name, (value, _) in answer_key(steps, PLACES).items()}  # the sheet's calculation
    questions = items(quizzes(package)[ident])
    assert any(len(accepted(item)) == 2 for item in questions)  # the seed has keys that differ from the exact value
    for item in questions:
        name, answers = item.get("title"), accepted(item)
        inside = lambda v: any(low <= v <= high for _, low, high in answers)
        for exact, low, high in answers:  # Canvas reads each back as an exact answer with margin high - exact
            assert (low, high) == (exact - TOLERANCE, exact + TOLERANCE), name
        assert inside(key[name]), name
        assert inside(rounded(solution.quantities[name])), name
        values = [exact for exact, _, _ in answers]
        assert not inside(min(values) - UNIT) and not inside(max(values) + UNIT), name
        # exactly the values the verdict rule of derive check accepts at the sheet's decimals
        assert set(values) == {a.value for a in accepted_answers(steps, PLACES, [name])[name]}, name


@pytest.mark.parametrize("k", range(1, VERSIONS + 1))
def test_the_question_text_gives_the_versions_own_numbers(package, k):
    ident = f"{SEED}-{k:02d}"
    spec = load(f"mazur@{ident}")
    n = Notation.for_spec(spec)
    plain = lambda name: name.replace("_", "")  # the HTML writes w_{1} as w<sub>1</sub>: text w1
    parameters = {plain(n.weight(l, j, i).text): spec.weights[l - 1][j][i]
                  for l in range(1, spec.layers + 1) for j in range(spec.sizes[l]) for i in range(spec.sizes[l - 1])}
    parameters |= {plain(n.bias(l, j).text): spec.biases[l - 1][j]
                   for l in range(1, spec.layers + 1) for j in range(spec.sizes[l])}
    data = {plain(n.input(None, i).text): spec.inputs[0][i] for i in range(spec.sizes[0])}
    data |= {plain(n.target(None, k).text): spec.targets[0][k] for k in range(spec.sizes[-1])}
    for item in items(quizzes(package)[ident]):
        page = Tables(question_html(item))
        (_, *rows), (header, values) = page.tables
        assert {row[0]: Decimal(row[2]) for row in rows} == parameters
        assert dict(zip(header[1:], map(Decimal, values[1:]))) == data
        text = "".join(page.text)
        assert f"Version {ident}." in text and f"Give every answer to {PLACES} decimal places" in text
        assert Decimal(re.search(r"learning rate η = ([\d.]+)", text).group(1)) == spec.learning_rate
        assert len(question_html(item)) <= MAX_QUESTION_TEXT


def test_canvas_and_moodle_accept_the_same_values(package):
    """One source of truth: the QTI answers are the Moodle cloze answers, blank by blank."""
    from derive.exercises.batch import exercises
    from derive.exercises.moodle import moodle_xml

    made = exercises(load("mazur"), Options(blanks="full", places=PLACES), VERSIONS, SEED)
    moodle = ET.fromstring(moodle_xml(made, "x"))
    for question, ex in zip(moodle.findall("question[@type='cloze']"), made):
        fields = re.findall(r"\{\d+:NUMERICAL:(.*?)(?<!\\)\}", question.find("questiontext/text").text)
        cloze = [[Decimal(a.split(":")[0].lstrip("=").removeprefix("%100%")) for a in f.split("~")
                  if a.startswith(("=", "%100%"))] for f in fields]
        canvas = [[exact for exact, _, _ in accepted(i)] for i in items(quizzes(package)[ex.ident])]
        assert cloze == canvas


def test_hostile_titles_are_escaped(tmp_path):
    title = '50% & <b> "x" ]]> <![CDATA['
    text = MAZUR.read_text().replace('title = "A step-by-step backpropagation example"', "title = '" + title + "'")
    (tmp_path / "hostile.toml").write_text(text)
    data = run(tmp_path / "out", str(tmp_path / "hostile.toml"))
    files = entries(data)
    manifest = ET.fromstring(files["imsmanifest.xml"])
    assert manifest.findtext("cp:metadata/imsmd:lom/imsmd:general/imsmd:title/imsmd:string", namespaces=CP) == title
    (assessment,) = quizzes(data).values()
    assert assessment.find("q:assessment", QTI).get("title") == f"{title} (version hostile)"
    assert all(b"<b>" not in content for content in files.values())  # HTML inside XML is escaped, titles twice


@pytest.mark.parametrize("sizes, fits", [([4, 12, 4], True), ([4, 30, 4], False)])
def test_a_question_longer_than_canvas_keeps_is_refused(tmp_path, capsys, sizes, fits):
    """Canvas replaces a question text over 16,384 characters with a notice: derive says so instead."""
    (tmp_path / "net.toml").write_text(spec_text(1, sizes=sizes, activations=["sigmoid", "sigmoid"], loss="mse",
                                                 batch=3, steps=1))
    code = main(["worksheet", str(tmp_path / "net.toml"), "--blanks", "E", "--format", "qti",
                 "--max-parameters", "1000", "--out", str(tmp_path / "out")])
    assert code == (0 if fits else 2)
    assert (tmp_path / "out").exists() == fits
    if not fits:
        assert f"Canvas replaces one longer than {MAX_QUESTION_TEXT}" in capsys.readouterr().err


# -- mathematics as plain HTML -------------------------------------------------------------------

@pytest.mark.parametrize("latex, html", [
    (r"\mathrm{out}_{o_{1}}", "out<sub>o1</sub>"),
    (r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}}", "∂E<sub>total</sub>/∂w<sub>5</sub>"),
    (r"w_{5}^{+}", "w<sub>5</sub><sup>+</sup>"),
    (r"{z^{[1]}_{1}}^{(2)}", "z<sub>1</sub><sup>[1](2)</sup>"),
    (r"\text{bias of } h_{1}", "bias of h<sub>1</sub>"),
    (r"i_{1} \to h_{1}", "i<sub>1</sub> → h<sub>1</sub>"),
    (r"\eta = 0.5", "η = 0.5"),
    (r"\frac{1}{1 + e^{- \mathrm{net}_{h_{1}}}}", "1/(1 + e<sup>−net<sub>h1</sub></sup>)"),
    (r"0.7514 \cdot \left(1 - 0.7514\right) \approx 0.1868", "0.7514 · (1 − 0.7514) ≈ 0.1868"),
    (r"\frac{\left(t_{o_{1}} - \mathrm{out}_{o_{1}}\right)^{2}}{2}", "(t<sub>o1</sub> − out<sub>o1</sub>)<sup>2</sup>/2"),
    (r"\delta_{o_{1}} \frac{\partial \mathrm{net}_{o_{1}}}{\partial w_{5}}", "δ<sub>o1</sub> ∂net<sub>o1</sub>/∂w<sub>5</sub>"),
    (r"\text{a < b, c > d}", "a &lt; b, c &gt; d"),  # text is escaped, never markup
])
def test_mathematics_is_written_as_plain_html(latex, html):
    assert html_math(latex) == html
