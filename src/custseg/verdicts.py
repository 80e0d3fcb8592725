"""How far to trust a segmentation: every verdict word and its threshold, defined once.

custseg judges a run on three scales, each customer on a fourth, and new
customers against a model on a fifth. The
terminal, ``summary.json``, the report, the dashboard and ``docs/verdicts.md``
all take their words and thresholds from here; :func:`vocabulary_markdown`
writes the table that ``docs/verdicts.md`` shows, and a test keeps the two equal.

=============  ==============  ===================================================
scale          verdicts        measured by
=============  ==============  ===================================================
structure      clear, weak,    the silhouette of the chosen K, the criteria that
               none            agree on K and the gap statistic (whole run)
silhouette     clear, weak,    the mean silhouette alone (whole run)
               none
stability      stable, weak,   mean best-match Jaccard of a segment over bootstrap
               unstable        refits (per segment)
borderline     borderline      a customer's margin: how much nearer its own centre
                               is than the next one (per customer)
drift          stable, watch,  new customers against training: feature PSI, segment
               retrain         share PSI, fit decay and borderline share (a run)
=============  ==============  ===================================================

Sources: the silhouette bands are Kaufman & Rousseeuw's (1990), who call 0.26-0.50
"weak, could be artificial" and at most 0.25 "no substantial structure"; above 0.50
they distinguish "reasonable" and "strong", which custseg reads together as
*clear*. The stability bands are Hennig's (2007) reading of clusterboot's Jaccard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "BORDERLINE_MARGIN",
    "BORDERLINE_RETRAIN",
    "BORDERLINE_WATCH",
    "CLEAR_SILHOUETTE",
    "FIT_RETRAIN",
    "FIT_WATCH",
    "HIGH_BORDERLINE_SHARE",
    "MIN_ASSESSABLE_SIZE",
    "MIN_PRESENT_SHARE",
    "NOT_ASSESSABLE",
    "NO_STRUCTURE_SILHOUETTE",
    "PSI_RETRAIN",
    "PSI_WATCH",
    "STABILITY_MARKS",
    "STABLE_JACCARD",
    "STRUCTURE_HEADLINES",
    "VOCABULARY",
    "WEAK_JACCARD",
    "Trust",
    "Verdict",
    "segment_trust",
    "silhouette_reading",
    "silhouette_verdict",
    "stability_verdict",
    "structure_words",
    "vocabulary_markdown",
]

#: A silhouette at or below this is no substantial structure (Kaufman & Rousseeuw).
NO_STRUCTURE_SILHOUETTE = 0.25
#: A silhouette above this is clear structure.
CLEAR_SILHOUETTE = 0.50
#: Hennig's reading of a segment's mean best-match Jaccard over bootstrap refits.
STABLE_JACCARD = 0.75
WEAK_JACCARD = 0.60
#: A segment with fewer customers than this cannot be assessed by resampling: each
#: resample draws a handful of them or none, and one customer alone is "stable".
MIN_ASSESSABLE_SIZE = 10
#: ... nor one drawn in fewer than this share of the resamples.
MIN_PRESENT_SHARE = 0.5
#: The stability verdict of such a segment.
NOT_ASSESSABLE = "not assessable"
#: A customer is *borderline* when its margin is below this: its own centre is
#: less than 10% closer than the next one.
BORDERLINE_MARGIN = 0.10
#: A segment with at least this share of borderline customers says so in its trust text.
HIGH_BORDERLINE_SHARE = 0.20
#: Drift of new customers against training: watch / retrain thresholds of each signal.
#: PSI after the credit-scoring convention (below 0.1 no significant change, above 0.25
#: a major shift); fit is the mean distance to the centre, new over training; borderline
#: is the rise of the borderline share.
PSI_WATCH = 0.10
PSI_RETRAIN = 0.25
FIT_WATCH = 1.15
FIT_RETRAIN = 1.30
BORDERLINE_WATCH = 0.10
BORDERLINE_RETRAIN = 0.20


@dataclass(frozen=True)
class Verdict:
    """One word of the vocabulary.

    Attributes
    ----------
    scale : str
        What is judged: ``structure``, ``silhouette``, ``stability``, ``borderline`` or
        ``drift``.
    word : str
        The verdict as written in ``summary.json`` and the terminal.
    rule : str
        When it applies, in numbers.
    meaning : str
        What it tells a marketer, in one sentence.
    """

    scale: str
    word: str
    rule: str
    meaning: str


VOCABULARY: tuple[Verdict, ...] = (
    Verdict(
        "structure",
        "clear",
        f"not none, the silhouette is above {CLEAR_SILHOUETTE:.2f} and, when K was chosen, at "
        "least half the K criteria agree on it",
        "the segments are distinct groups: act on them with confidence",
    ),
    Verdict(
        "structure",
        "weak",
        "anything between clear and none",
        "the segments are usable but their borders are soft: customers near a border "
        "could belong to either side",
    ),
    Verdict(
        "structure",
        "none",
        f"the gap statistic prefers a single group, the best silhouette is "
        f"{NO_STRUCTURE_SILHOUETTE:.2f} or below, or a single segment was found",
        "there are no real groups: the segments are convenient slices of a continuum",
    ),
    Verdict(
        "silhouette",
        "clear",
        f"above {CLEAR_SILHOUETTE:.2f}",
        "customers sit much nearer their own segment than the next",
    ),
    Verdict(
        "silhouette",
        "weak",
        f"above {NO_STRUCTURE_SILHOUETTE:.2f}, up to {CLEAR_SILHOUETTE:.2f}",
        "customers sit only somewhat nearer their own segment than the next; "
        "the structure could be artificial",
    ),
    Verdict(
        "silhouette",
        "none",
        f"{NO_STRUCTURE_SILHOUETTE:.2f} or below",
        "no substantial structure: customers are about as near the next segment as their own",
    ),
    Verdict(
        "stability",
        "stable",
        f"Jaccard {STABLE_JACCARD:.2f} or more",
        "the segment comes back largely the same when the data is resampled",
    ),
    Verdict(
        "stability",
        "weak",
        f"Jaccard {WEAK_JACCARD:.2f} or more, below {STABLE_JACCARD:.2f} (marked ?)",
        "the segment comes back only partly when the data is resampled: check it before "
        "acting on it",
    ),
    Verdict(
        "stability",
        "unstable",
        f"Jaccard below {WEAK_JACCARD:.2f} (marked !)",
        "the segment changes when the data is resampled: not to be trusted on its own",
    ),
    Verdict(
        "stability",
        "unknown",
        "no Jaccard (stability was not computed, or the segment never came back to be measured)",
        "not assessed: nothing is known about how stable the segment is",
    ),
    Verdict(
        "stability",
        NOT_ASSESSABLE,
        f"fewer than {MIN_ASSESSABLE_SIZE} customers, or drawn in fewer than "
        f"{MIN_PRESENT_SHARE:.0%} of the resamples",
        "too small to judge by resampling: a customer alone comes back alone every time, "
        "which says nothing",
    ),
    Verdict(
        "drift",
        "stable",
        f"every signal below its watch level: feature and segment-share PSI below "
        f"{PSI_WATCH:.2f}, fit below {FIT_WATCH:.2f}×, borderline share up by less than "
        f"{BORDERLINE_WATCH:.2f}",
        "the segments still fit the new customers",
    ),
    Verdict(
        "drift",
        "watch",
        f"a signal at its watch level but none at retrain: PSI {PSI_WATCH:.2f}, fit "
        f"{FIT_WATCH:.2f}×, borderline share up {BORDERLINE_WATCH:.2f}",
        "something has moved: look at the moved features and segments before the next campaign",
    ),
    Verdict(
        "drift",
        "retrain",
        f"a signal at its retrain level: PSI {PSI_RETRAIN:.2f}, fit {FIT_RETRAIN:.2f}×, "
        f"borderline share up {BORDERLINE_RETRAIN:.2f}",
        "the customers have changed: retrain the segments before using them again",
    ),
    Verdict(
        "borderline",
        "borderline",
        f"margin below {BORDERLINE_MARGIN:.2f}",
        "the customer's own centre is less than 10% nearer than the next: the customer "
        "could as well be in the neighbouring segment",
    ),
)

#: The terminal's mark after a segment's stability figure.
STABILITY_MARKS: dict[str, str] = {
    "stable": "",
    "weak": "?",
    "unstable": "!",
    "unknown": "",
    NOT_ASSESSABLE: "",
}

#: One sentence per structure verdict, for the page and the terminal.
STRUCTURE_HEADLINES: dict[str, str] = {
    "clear": "The data shows clear segment structure.",
    "weak": "The segment structure is weak: treat the borders between segments as soft.",
    "none": "The data shows no real segment structure: the segments are a partition for "
    "convenience, not natural groups.",
}


def _meaning(scale: str, word: str) -> str:
    return next(v.meaning for v in VOCABULARY if v.scale == scale and v.word == word)


def silhouette_verdict(value: float | None) -> str:
    """``clear`` (> 0.50), ``weak`` (> 0.25) or ``none``; ``unknown`` when not computed."""
    if value is None or not math.isfinite(value):
        return "unknown"
    if value > CLEAR_SILHOUETTE:
        return "clear"
    return "weak" if value > NO_STRUCTURE_SILHOUETTE else "none"


def structure_words(verdict: str) -> str:
    """A structure or silhouette verdict in words: ``"weak structure"``, ``"no structure"``."""
    if verdict == "unknown":
        return "not computed"
    return f"{'no' if verdict == 'none' else verdict} structure"


def silhouette_reading(value: float | None) -> str:
    """The silhouette with its verdict, e.g. ``"0.42: weak structure"``."""
    verdict = silhouette_verdict(value)
    if value is None or verdict == "unknown":
        return "not computed"
    return f"{value:.2f}: {structure_words(verdict)}"


def stability_verdict(value: float | None) -> str:
    """``stable`` (>= 0.75), ``weak`` (0.60-0.75), ``unstable`` (< 0.60) or ``unknown``."""
    if value is None or not math.isfinite(value):
        return "unknown"
    if value >= STABLE_JACCARD:
        return "stable"
    return "weak" if value >= WEAK_JACCARD else "unstable"


@dataclass(frozen=True)
class Trust:
    """How far to trust one segment, for an at-a-glance table.

    Attributes
    ----------
    verdict : str
        The stability verdict: ``stable``, ``weak``, ``unstable`` or ``unknown``.
    mark : str
        ``""``, ``"?"`` or ``"!"``, as in the terminal.
    text : str
        A short phrase, e.g. ``"stable (0.94)"`` or ``"weak (0.67); 17% borderline"``.
    sentence : str
        The verdict's meaning, in one sentence.
    """

    verdict: str
    mark: str
    text: str
    sentence: str


def segment_trust(jaccard: float | None, borderline_share: float | None = None) -> Trust:
    """How far to trust a segment from its stability and its share of borderline customers.

    Parameters
    ----------
    jaccard : float or None
        The segment's mean best-match Jaccard over bootstrap refits.
    borderline_share : float, optional
        Share of its customers that are borderline; mentioned from
        :data:`HIGH_BORDERLINE_SHARE` up.
    """
    verdict = stability_verdict(jaccard)
    if verdict == "unknown" or jaccard is None:
        text = "not assessed"
    else:
        # Rounded down, so 0.599 (unstable) never prints as 0.60.
        text = f"{verdict} ({math.floor(jaccard * 100) / 100:.2f})"
    sentence = _meaning("stability", verdict)
    sentence = sentence[0].upper() + sentence[1:] + "."
    if borderline_share is not None and borderline_share >= HIGH_BORDERLINE_SHARE:
        text += f"; {borderline_share:.0%} borderline"
        sentence += f" {borderline_share:.0%} of its customers are borderline."
    return Trust(verdict, STABILITY_MARKS[verdict], text, sentence)


def vocabulary_markdown() -> str:
    """The vocabulary as a Markdown table (the one in ``docs/verdicts.md``)."""
    lines = ["| scale | verdict | when | what it means |", "|---|---|---|---|"]
    for v in VOCABULARY:
        lines.append(f"| {v.scale} | `{v.word}` | {v.rule} | {v.meaning} |")
    return "\n".join(lines) + "\n"
