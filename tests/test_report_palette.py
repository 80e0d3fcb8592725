"""Segment colours for every reader: contrast on white, and distinct under colour blindness.

Colour differences are CIEDE2000 (ColorAide's ``delta_e(method="2000")``) between
colours as seen with normal vision and as simulated for deuteranopia and
protanopia by Machado, Oliveira & Fernandes (2009) at full severity.
"""

from __future__ import annotations

import itertools

import pytest

from custseg.report.palette import (
    MIN_DELTA_E,
    RETRAIN,
    SEGMENT_COLORS,
    SHAPES,
    STABLE,
    UNASSIGNED,
    WATCH,
    segment_color,
    segment_shape,
)

coloraide = pytest.importorskip("coloraide", reason="the dev extra is not installed")

VISIONS = ("normal", "deutan", "protan")


def _seen(hex_colour: str, vision: str):
    colour = coloraide.Color(hex_colour)
    return colour if vision == "normal" else colour.filter(vision, method="machado")


def _difference(a: str, b: str, vision: str) -> float:
    return _seen(a, vision).delta_e(_seen(b, vision), method="2000")


@pytest.mark.parametrize("vision", VISIONS)
def test_the_first_eight_segment_colours_stay_apart(vision):
    worst = min(
        (_difference(a, b, vision), a, b) for a, b in itertools.combinations(SEGMENT_COLORS, 2)
    )
    assert worst[0] >= MIN_DELTA_E, worst


@pytest.mark.parametrize("vision", VISIONS)
def test_retrain_is_no_segment_colour(vision):
    colours = [segment_color(i) for i in range(13)]
    assert RETRAIN not in colours
    assert min(_difference(RETRAIN, c, vision) for c in SEGMENT_COLORS) >= MIN_DELTA_E


@pytest.mark.parametrize("colour", [*SEGMENT_COLORS, UNASSIGNED, RETRAIN, WATCH, STABLE])
def test_every_mark_colour_has_3_to_1_contrast_on_white(colour):
    assert coloraide.Color(colour).contrast("white") >= 3.0


def test_every_segment_also_has_a_shape():
    assert [segment_shape(i) for i in range(len(SHAPES))] == SHAPES
    assert len(set(SHAPES)) == len(SHAPES)
    assert segment_shape(-1) not in SHAPES
