"""Personas: each segment in plain words, with a suggested marketing action.

Distinctions
------------
A feature distinguishes a segment when its z-score is at least 0.5 in size (the
threshold segment names use). The three strongest are described, strongest
first. For a quantity that is never negative the segment mean is compared with
the population mean as a ratio: "income 52% above average (87 vs 57)",
"spending twice the average", "spending 64% below average". Where a ratio means
nothing (the feature takes negative values, or averages zero) the distance is
given in standard deviations: "balance 1.2 SD above average". A category stands
out when its share in the segment differs from its overall share by at least
15 percentage points: "72% Female (56% overall)".

Suggested action: the rule
--------------------------
Each numeric feature is given a *kind* from words in its name (checked in this
order): recency ("recency", "days since", "since last", "inactive"), value
("spend", "spending", "monetary", "revenue", "sales", "amount", "value", "clv",
"basket", "profit"), frequency ("frequency", "orders", "visits",
"transactions", "purchases", "count"), income ("income", "salary", "wealth",
"earnings") and age ("age"). A kind is *high* in a segment when its most
extreme feature has z >= 0.5 and *low* when z <= -0.5. The first rule that
matches gives the action:

1. noise (segment -1): review individually;
2. recency high: win back;
3. value high and (income or frequency high): reward and retain;
4. value high: keep loyal affordably;
5. income high and value low: unlock potential;
6. frequency high: cross-sell and upsell;
7. value low or frequency low: low-cost activation;
8. income low: value-led offers;
9. age low: mobile and social channels;
10. age high: service-led communication;
11. otherwise: maintain and test.

The rule is a starting point for a marketer, not a verdict; each card says
which rule fired and why, so it can be argued with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custseg.features.profiles import DESCRIBE_Z, feature_label

__all__ = ["ACTIONS", "Persona", "describe_feature", "feature_kind", "make_personas"]

MAX_DISTINCTIONS = 3
CATEGORY_GAP = 0.15

_KIND_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("recency", ("recency", "days since", "since last", "inactive")),
    (
        "value",
        (
            "spend",
            "spending",
            "monetary",
            "revenue",
            "sales",
            "amount",
            "value",
            "clv",
            "basket",
            "profit",
        ),
    ),
    ("frequency", ("frequency", "orders", "visits", "transactions", "purchases", "count")),
    ("income", ("income", "salary", "wealth", "earnings")),
    ("age", ("age",)),
]

#: Rule number → (short title, suggested action).
ACTIONS: dict[int, tuple[str, str]] = {
    1: (
        "Review individually",
        "These customers fit no segment; look at them one by one before any campaign.",
    ),
    2: (
        "Win back",
        "Send a time-limited reactivation offer and a 'we miss you' message before they lapse.",
    ),
    3: (
        "Reward and retain",
        "Offer a VIP or loyalty tier, early access and personal service; protect this revenue.",
    ),
    4: (
        "Keep loyal affordably",
        "Use points, bundles and member prices that keep them buying within their budget.",
    ),
    5: (
        "Unlock potential",
        "Show premium products and personalised offers; ask what keeps them from buying more.",
    ),
    6: (
        "Cross-sell and upsell",
        "Recommend complementary products at the moments they already buy.",
    ),
    7: (
        "Low-cost activation",
        "Reach them with value promotions in cheap digital channels; measure the response "
        "before investing more.",
    ),
    8: ("Value-led offers", "Lead with good-value bundles and price promotions."),
    9: (
        "Mobile and social",
        "Reach them in mobile and social channels with trend-led offers; build the "
        "relationship early.",
    ),
    10: (
        "Service-led communication",
        "Communicate clearly through the channels they already use and reward their loyalty.",
    ),
    11: (
        "Maintain and test",
        "Keep regular communication; test a targeted offer against a control group.",
    ),
}


def feature_kind(name: str) -> str | None:
    """The marketing kind of a feature from its name, or None (see the module docstring)."""
    text = " ".join(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower().replace("_", " ").split())
    for kind, words in _KIND_WORDS:
        for word in words:
            # Words match at a word start: "spend" finds "spending", "count" not "account".
            if re.search(rf"\b{word}" + (r"\b" if word == "age" else ""), text):
                return kind
    return None


def _times(ratio: float) -> str:
    if round(ratio, 1) == 2.0:
        return "twice"
    if round(ratio, 1) == 3.0:
        return "three times"
    return f"{ratio:.1f} times"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def describe_feature(name: str, seg_mean: float, mean: float, z: float, minimum: float) -> str:
    """One distinction in plain words, e.g. ``"income 52% above average (87 vs 57)"``.

    Parameters
    ----------
    name : str
        The feature's column name.
    seg_mean, mean : float
        The segment's mean and the population mean, in original units.
    z : float
        The segment mean's z-score.
    minimum : float
        The smallest value of the feature in the data: a ratio is used only for
        features that are never negative and average above zero.
    """
    label = feature_label(name)
    if minimum >= 0 and mean > 0 and seg_mean >= 0:
        ratio = seg_mean / mean
        numbers = f"({_num(seg_mean)} vs {_num(mean)})"
        if ratio >= 1.95:
            return f"{label} {_times(ratio)} the average {numbers}"
        pct = round(abs(ratio - 1) * 100)
        side = "above" if ratio >= 1 else "below"
        return f"{label} {pct}% {side} average {numbers}"
    side = "above" if z >= 0 else "below"
    return f"{label} {abs(z):.1f} SD {side} average"


@dataclass(frozen=True)
class Persona:
    """One segment described for a marketer."""

    id: int
    name: str
    label: str
    size: int
    share: float
    distinctions: list[str]
    rule: int
    action_title: str
    action: str
    because: str


def _levels(seg: dict[str, Any], features: list[str]) -> dict[str, float]:
    """Per kind, the z of its most extreme feature."""
    levels: dict[str, float] = {}
    for f in features:
        kind = feature_kind(f)
        z = (seg.get("z") or {}).get(f)
        if kind is None or z is None:
            continue
        if kind not in levels or abs(z) > abs(levels[kind]):
            levels[kind] = float(z)
    return levels


def choose_action(seg_id: int, levels: dict[str, float]) -> tuple[int, str]:
    """The rule number that fires and the reason in words."""
    high = {k for k, z in levels.items() if z >= DESCRIBE_Z}
    low = {k for k, z in levels.items() if z <= -DESCRIBE_Z}
    if seg_id < 0:
        return 1, "these customers were left as noise by the algorithm"
    if "recency" in high:
        return 2, "a long time since the last purchase"
    if "value" in high and high & {"income", "frequency"}:
        other = "income" if "income" in high else "frequency"
        return 3, f"high value and high {other}"
    if "value" in high:
        return 4, "high value" + (" on a low income" if "income" in low else "")
    if "income" in high and "value" in low:
        return 5, "high income but low value"
    if "frequency" in high:
        return 6, "high frequency"
    if low & {"value", "frequency"}:
        return 7, "low " + " and ".join(k for k in ("value", "frequency") if k in low)
    if "income" in low:
        return 8, "low income"
    if "age" in low:
        return 9, "younger than average"
    if "age" in high:
        return 10, "older than average"
    return 11, "no value, frequency, recency or income signal stands out"


def make_personas(
    summary: dict[str, Any],
    feature_stats: dict[str, dict[str, float]],
    shares: pd.DataFrame | None = None,
) -> list[Persona]:
    """One persona per segment from ``summary.json``.

    Parameters
    ----------
    summary : dict
        ``summary.json`` of the run.
    feature_stats : dict
        Per numeric feature, ``mean`` and ``min`` over the fitted customers.
    shares : DataFrame, optional
        :func:`custseg.report.data.category_shares`; adds category distinctions.
    """
    features = [f for f in summary["features"] if f in feature_stats]
    personas = []
    segs = sorted(summary["segments"], key=lambda s: (int(s["id"]) < 0, int(s["id"])))
    for seg in segs:
        sid = int(seg["id"])
        z = seg.get("z") or {}
        strong = [f for f in features if z.get(f) is not None and abs(z[f]) >= DESCRIBE_Z]
        strong.sort(key=lambda f: -abs(z[f]))
        words = [
            describe_feature(
                f,
                float(seg["mean"][f]),
                feature_stats[f]["mean"],
                float(z[f]),
                feature_stats[f]["min"],
            )
            for f in strong[:MAX_DISTINCTIONS]
        ]
        words += _category_words(shares, sid, seg["name"])
        if not words:
            words = ["close to the average on every feature"]
        rule, because = choose_action(sid, _levels(seg, features))
        title, action = ACTIONS[rule]
        label = seg["name"] if sid < 0 else f"{sid} · {seg['name']}"
        personas.append(
            Persona(
                sid,
                str(seg["name"]),
                label,
                int(seg["size"]),
                float(seg["share"]),
                words,
                rule,
                title,
                action,
                because,
            )
        )
    return personas


def _category_words(shares: pd.DataFrame | None, sid: int, name: str) -> list[str]:
    if shares is None or shares.empty:
        return []
    label = name if sid < 0 else f"{sid} · {name}"
    out = []
    for col, part in shares.groupby("column", sort=False):
        overall = part[part["segment"] == "All customers"].set_index("category")["share"]
        mine = part[part["segment"] == label].set_index("category")["share"]
        gaps = [
            (cat, float(mine.get(cat, 0.0)), float(overall[cat]))
            for cat in overall.index
            if cat not in ("Other", "(missing)")
        ]
        gaps = [g for g in gaps if abs(g[1] - g[2]) >= CATEGORY_GAP]
        if gaps:
            cat, s, o = max(gaps, key=lambda g: (g[1] - g[2], g[0]))
            if s - o < CATEGORY_GAP:  # only under-representation: name the biggest drop
                cat, s, o = min(gaps, key=lambda g: (g[1] - g[2], g[0]))
            out.append(f"{np.round(s * 100):.0f}% {cat} ({np.round(o * 100):.0f}% overall; {col})")
    return out
