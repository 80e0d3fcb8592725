"""One colour per segment, the same in every chart, safe for colour-blind readers.

Segments 0-7 take the Okabe-Ito palette (Okabe & Ito, 2008), designed to stay
distinguishable under the common forms of colour-vision deficiency. Yellow,
the weakest on a white page, comes seventh, and black eighth, so the usual
3-7 segments use the strongest colours. Segments 8-16 continue with Paul Tol's
"muted" scheme; beyond 8 segments no palette keeps every pair distinct for
every reader, so the report also labels segments in legends and tooltips.
Noise customers (segment -1, "Unassigned") are light grey; marks that are not
segments (histograms, reference lines) use a neutral dark grey.
"""

from __future__ import annotations

__all__ = ["NEUTRAL", "OKABE_ITO", "UNASSIGNED", "segment_color", "segment_colors"]

OKABE_ITO = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]
TOL_MUTED = [
    "#882255",
    "#117733",
    "#332288",
    "#999933",
    "#44AA99",
    "#AA4499",
    "#88CCEE",
    "#DDCC77",
    "#CC6677",
]
UNASSIGNED = "#BBBBBB"
NEUTRAL = "#4D4D4D"
_CYCLE = OKABE_ITO + TOL_MUTED


def segment_color(segment_id: int) -> str:
    """The hex colour of a segment id; -1 (noise) is grey, ids past 16 cycle."""
    if segment_id < 0:
        return UNASSIGNED
    return _CYCLE[segment_id % len(_CYCLE)]


def segment_colors(segment_ids: list[int]) -> list[str]:
    """Colours for ``segment_ids``, in the same order."""
    return [segment_color(int(s)) for s in segment_ids]
