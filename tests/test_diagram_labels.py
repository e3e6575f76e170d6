"""Diagram labels: every box clear of the other boxes, the units and the edges it does not belong to; the same
unit names in TikZ and SVG; the weights named on the solution's edges; layer-aware names in the parameter table."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from randomnet import spec_text

from derive import solve
from derive.core.spec import parse, preset_names
from derive.documents.context import Context
from derive.documents.diagram import build, label_boxes, overlaps, plain, unit_name
from derive.documents.network import parameter_table
from derive.formats.pictures import diagram_svg
from derive.formats.render import environment

ANNOTATIONS = ["weights", "forward", "gradients", "updated", "deltas", "names"]

#: (seed, sizes): seeded random networks, one to four hidden layers, up to 6 units a layer
RANDOM = [(1, [6, 6, 6]), (2, [2, 6, 1]), (3, [6, 5, 4, 3]), (4, [1, 6, 2, 6, 1]), (5, [3, 3, 2, 1]),
          (6, [5, 2, 6, 3, 4, 2])]


def _random(seed, sizes, notation="auto"):
    text = spec_text(seed, sizes=sizes, activations=["sigmoid"] * (len(sizes) - 1), batch=1)
    return solve(parse(text.replace("[network]", f'[network]\nnotation = "{notation}"', 1), "r.toml"))


@pytest.mark.parametrize("name", preset_names())
def test_preset_labels_touch_nothing_but_their_own_edge(name):
    solution = solve(name)
    for annotate in ANNOTATIONS:
        assert overlaps(build(solution, annotate)) == [], annotate


@pytest.mark.parametrize("seed, sizes", RANDOM)
def test_random_network_labels_touch_nothing_but_their_own_edge(seed, sizes):
    solution = _random(seed, sizes)
    for annotate in ANNOTATIONS:
        d = build(solution, annotate)
        assert overlaps(d) == [], annotate
        labelled = [e for e in d.edges if e.text]
        if annotate in ("weights", "names") and "in the tables" not in d.caption:
            assert len(labelled) == len(d.edges)  # every edge named where the caption does not say otherwise


def test_labels_keep_off_the_crossing_of_the_blogs_diagonals():
    """w2 (i2 -> h1) and w3 (i1 -> h2) cross in the middle: neither label's box may hold the crossing."""
    d = build(solve("mazur"), "weights")
    crossing = ((d.edges[0].x1 + d.edges[0].x2) / 2, 0.0)  # every edge of the first pair spans the same x
    for key, x0, y0, x1, y1 in label_boxes(d):
        assert not (x0 <= crossing[0] <= x1 and y0 <= crossing[1] <= y1), key


@pytest.mark.parametrize("what", ["label", "edge", "unit"])
def test_the_overlap_check_can_fail(what):
    d = build(solve("mazur"), "weights")
    first, second = d.edges[0], d.edges[1]  # into h1 from i1 and from i2
    target = {"label": (first.lx, first.ly), "edge": ((first.x1 + first.x2) / 2, first.y1),
              "unit": (d.nodes[0].x + 0.3, d.nodes[0].y)}[what]
    moved = replace(second, lx=target[0], ly=target[1])
    assert overlaps(replace(d, edges=(first, moved) + d.edges[2:]))


def test_the_solution_diagram_names_every_weight_with_its_value():
    d = build(solve("mazur"), "weights")
    assert [(e.name_text, e.label) for e in d.edges] == [
        ("w1", "0.15"), ("w2", "0.2"), ("w3", "0.25"), ("w4", "0.3"),
        ("w5", "0.4"), ("w6", "0.45"), ("w7", "0.5"), ("w8", "0.55")]
    assert r"{$w_{1}$${=}$0.15}" in _tikz(d)
    assert "w<tspan" in diagram_svg(d) and "=0.15</tspan>" in diagram_svg(d)


def _tikz(d) -> str:
    """The TikZ the LaTeX documents draw for the diagram (the template's macro)."""
    return environment("tex").get_template("tex/diagram.tex.j2").module.diagram(d)


@pytest.mark.parametrize("source", ["mazur", "softmax-ce", "mlp-relu", (3, [6, 5, 4, 3]), (5, [3, 3, 2, 1])])
def test_unit_labels_agree_between_tikz_and_svg(source):
    solution = solve(source) if isinstance(source, str) else _random(*source, notation="layered")
    d = build(solution, "weights")
    tikz = _tikz(d)
    svg = diagram_svg(d)
    in_tikz = re.findall(r"\\node\[(?:unit|hot)\] at \([^)]*\) \{\$(.*?)\$\};", tikz)
    in_svg = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'font-size="18" text-anchor="middle" '
                                                             r'font-style="italic">(.*?)</text>', svg)]
    n = solution.document_names
    expected = [unit_name(n, *map(int, node.key.split(":"))) for node in d.nodes]
    assert in_tikz == [name.latex for name in expected]
    assert in_svg == [plain(name.latex) for name in expected]
    for name in expected:  # an index is set lower in SVG as in TeX
        assert ("_" in name.latex) == (f">{plain(name.latex)}<" not in svg)


def test_layered_units_are_named_by_layer():
    d = build(_random(5, [3, 3, 2, 1], notation="layered"), "weights")
    assert [n.latex for n in d.nodes] == ["x_{1}", "x_{2}", "x_{3}", "a^{[1]}_{1}", "a^{[1]}_{2}", "a^{[1]}_{3}",
                                         "a^{[2]}_{1}", "a^{[2]}_{2}", "a^{[3]}_{1}"]


def test_the_parameter_table_names_the_units_by_layer():
    """W^[1] and W^[3] connect different units: x_1 -> a^[1]_1 and a^[2]_1 -> a^[3]_1, not 'unit 1 -> 1' twice."""
    solution = _random(5, [3, 3, 2, 1], notation="layered")
    table = parameter_table(Context(solution))
    connects = {row[0]: row[1] for row in table.rows}
    assert connects["W^{[1]}_{11}"] == r"x_{1} \to a^{[1]}_{1}"
    assert connects["W^{[3]}_{11}"] == r"a^{[2]}_{1} \to a^{[3]}_{1}"
    assert connects["b^{[3]}_{1}"] == r"\text{bias of } a^{[3]}_{1}"
    assert len(set(connects.values())) == len(connects)
    blog = {row[0]: row[1] for row in parameter_table(Context(solve("mazur"))).rows}
    assert blog["w_{1}"] == r"i_{1} \to h_{1}" and blog["w_{5}"] == r"h_{1} \to o_{1}"
