"""Network diagrams: no two labels share space, wide layers are elided, both formats draw them."""

from __future__ import annotations

import pytest
from randomnet import spec_text

from derive import solve
from derive.core.spec import parse, preset_names
from derive.documents.diagram import MAX_SHOWN, build, overlaps
from derive.formats.pictures import diagram_svg

ANNOTATIONS = ["weights", "forward", "gradients", "updated", "deltas"]


@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("annotate", ANNOTATIONS)
def test_presets_have_no_overlapping_labels(name, annotate):
    assert overlaps(build(solve(name), annotate)) == []


@pytest.mark.parametrize("seed", range(6))
def test_layers_up_to_six_units_have_no_overlapping_labels(seed):
    sizes = [seed % 6 + 1, 6, 5 - seed % 5, (seed * 7) % 6 + 1]
    solution = solve(parse(spec_text(seed, sizes=sizes, activations=["sigmoid"] * 3, batch=1), "r.toml"))
    for annotate in ANNOTATIONS:
        assert overlaps(build(solution, annotate)) == [], annotate


def test_overlap_check_can_fail():
    """Two labels put on top of each other are reported."""
    from dataclasses import replace

    d = build(solve("mazur"), "weights")
    first, second = d.edges[0], d.edges[1]
    moved = replace(second, lx=first.lx, ly=first.ly)
    assert overlaps(replace(d, edges=(first, moved) + d.edges[2:]))


def test_wide_layers_are_elided():
    d = build(solve("mlp-relu"), "weights")
    hidden = [n for n in d.nodes if n.key.startswith("1:")]
    assert len(hidden) == MAX_SHOWN - 1 and len(d.dots) == 2  # the 10 inputs and the 20 hidden units
    assert not any(e.label for e in d.edges)  # no weight labels in a compact drawing
    assert "left out" in d.caption


def test_highlight_marks_the_unit_and_edge():
    d = build(solve("mazur"), "weights", highlight={"2:0", "2:0:0"})
    assert [n.key for n in d.nodes if n.highlight] == ["2:0"]
    assert [e.key for e in d.edges if e.highlight] == ["2:0:0"]
    assert 'stroke="#b22222"' in diagram_svg(d)


@pytest.mark.parametrize("name, digits", [("mazur", 4), ("softmax-ce", 3)])
def test_the_updated_weights_show_that_they_changed(name, digits):
    """mazur's hidden weights move by about 2e-4: at 3 digits 0.149781 would print as the 0.15 it started from."""
    solution = solve(name)
    before = [e.label for e in build(solution, "weights").edges]
    after = [e.label for e in build(solution, "updated").edges]
    assert all(a != b for a, b in zip(after, before))
    assert max(len(a.lstrip("-").replace(".", "").lstrip("0")) for a in after) == digits  # significant digits
