"""One colour and one shape per segment, the same in every chart, for every reader.

Segments 0-7 take eight colours chosen for this report: each has at least 3:1
contrast on white (WCAG 2.1's minimum for graphics), and any two stay at least
:data:`MIN_DELTA_E` apart (CIEDE2000) for normal colour vision and under
simulated deuteranopia and protanopia (Machado, Oliveira & Fernandes, 2009, full
severity) — the red-green deficiencies that one man in twelve has. Okabe & Ito's
palette, the usual choice, fails both rules: its yellow and sky blue are 1.3:1
and 2.1:1 on white, and its blue and reddish purple merge for a deuteranope.
They are ordered so that the usual 3-7 segments get the most distinct colours.

Segments 8-16 continue with Paul Tol's "muted" colours that pass the contrast
rule; past eight segments no palette keeps every pair apart for every reader, so
every segment also has a :func:`segment_shape`, and charts label segments
directly. Noise customers (segment -1, "Unassigned") are a mid grey; marks that
are not segments (histograms, reference lines) use a neutral dark grey.
:data:`RETRAIN` (the drift verdict that says "refit") is a red that is no
segment's colour.
"""

from __future__ import annotations

__all__ = [
    "MIN_DELTA_E",
    "NEUTRAL",
    "RETRAIN",
    "SEGMENT_COLORS",
    "SHAPES",
    "STABLE",
    "UNASSIGNED",
    "WATCH",
    "segment_color",
    "segment_colors",
    "segment_shape",
    "segment_shapes",
]

SEGMENT_COLORS = [
    "#B8860B",  # dark goldenrod
    "#332288",  # indigo
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#0F7B6C",  # dark teal
    "#1A85FF",  # bright blue
    "#009E73",  # bluish green
    "#2166AC",  # steel blue
]
TOL_MUTED = ["#882255", "#117733", "#999933", "#AA4499", "#CC6677"]
#: The smallest CIEDE2000 difference between two of the first eight segment colours,
#: for normal vision and under simulated deuteranopia and protanopia.
MIN_DELTA_E = 14.0
UNASSIGNED = "#8C8C8C"
NEUTRAL = "#4D4D4D"
#: Drift verdict colours; RETRAIN is no segment's colour.
RETRAIN = "#B2182B"
WATCH = "#8A6100"
STABLE = "#1B7837"
#: Vega-Lite point shapes, one per segment (cycling), so segments differ without colour.
SHAPES = [
    "circle",
    "square",
    "triangle-up",
    "diamond",
    "cross",
    "triangle-down",
    "triangle-right",
    "triangle-left",
]
_CYCLE = SEGMENT_COLORS + TOL_MUTED


def segment_color(segment_id: int) -> str:
    """The hex colour of a segment id; -1 (noise) is grey, ids past 12 cycle."""
    if segment_id < 0:
        return UNASSIGNED
    return _CYCLE[segment_id % len(_CYCLE)]


def segment_colors(segment_ids: list[int]) -> list[str]:
    """Colours for ``segment_ids``, in the same order."""
    return [segment_color(int(s)) for s in segment_ids]


def segment_shape(segment_id: int) -> str:
    """The point shape of a segment id; -1 (noise) is a thin stroke."""
    if segment_id < 0:
        return "stroke"
    return SHAPES[segment_id % len(SHAPES)]


def segment_shapes(segment_ids: list[int]) -> list[str]:
    """Shapes for ``segment_ids``, in the same order."""
    return [segment_shape(int(s)) for s in segment_ids]
