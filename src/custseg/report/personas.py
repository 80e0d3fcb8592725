"""Personas: each segment in plain words, with a suggested marketing action.

A persona lists the facts that set a segment apart
(:mod:`custseg.features.facts`: at most three numeric facts, strongest first,
then at most two categories that pass the tests of independence) and suggests
one action.

Suggested action: the rule
--------------------------
Actions follow the *signals* of the facts (:mod:`custseg.features.kinds`: risk,
recency, response, means, value, frequency, tenure, age), never the bare words
of a column name. A signal is *high* in a segment when one of its facts says
the segment has more of it, *low* when one says less. The first rule that
matches gives the action, and the action names the columns it rests on:

1. noise (segment -1): review individually;
2. risk high (cash advances, returns, complaints, churn, utilisation): check the
   risk first;
3. recency high (a long time since the last purchase): win back;
4. value high and frequency or means high: retain and reward;
5. value high on some columns and low on others, when there are three or more spend
   columns (product lines): cross-sell what they buy little of;
6. value high: keep them buying;
7. means high (value not high): unlock potential;
8. frequency high: grow the basket;
9. response high (accepted campaigns): target in campaigns;
10. tenure low: onboard;
11. value or frequency low: low-cost activation;
12. recency low (bought recently): follow up while they are engaged;
13. means low: value-led offers;
14. tenure high: thank and ask for referrals;
15. age alone: fit channel and message to the age group (the text gives the age);
16. otherwise: no rule applies — the persona says so instead of inventing an action.

The rule is a starting point for a marketer, not a verdict; each card says
which rule fired and the facts behind it, so it can be argued with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from custseg.features.facts import Fact, category_facts, numeric_facts
from custseg.features.kinds import ColumnKind, column_kind
from custseg.verdicts import Trust, segment_trust

__all__ = [
    "ACTIONS",
    "MAX_DISTINCTIONS",
    "Action",
    "Persona",
    "choose_action",
    "feature_kinds",
    "make_personas",
]

MAX_DISTINCTIONS = 3
#: Cross-selling needs at least this many spend columns: product lines to move between.
CROSS_SELL_LINES = 3

#: Rule number → (short title, what the rule suggests in general).
ACTIONS: dict[int, tuple[str, str]] = {
    1: ("Review individually", "These customers fit no segment; look at them one by one."),
    2: (
        "Check the risk first",
        "A risk signal (cash advances, returns, complaints, churn) is above average: find "
        "out why before promoting to them.",
    ),
    3: ("Win back", "A long time since the last purchase: a time-limited reactivation offer."),
    4: ("Retain and reward", "High value and often: priority service and early access."),
    5: ("Cross-sell", "High spend on some lines, low on others: offer the lines they skip."),
    6: ("Keep them buying", "High value: personal recommendations and member prices."),
    7: ("Unlock potential", "High means, value not high: premium products and a question why."),
    8: ("Grow the basket", "Frequent but small purchases: bundles and complementary products."),
    9: ("Target in campaigns", "Answered past campaigns more than others: include them first."),
    10: ("Onboard", "Newer customers: a welcome series and a second-purchase offer."),
    11: ("Low-cost activation", "Low value or frequency: cheap channels, measured first."),
    12: ("Follow up", "Bought recently: a thank-you and a relevant next offer."),
    13: ("Value-led offers", "Lower means: good-value bundles and price promotions."),
    14: ("Thank and ask for referrals", "Long-standing customers: recognition and referrals."),
    15: ("Fit channel and message", "Differs by age alone: choose channels that suit the age."),
    16: (
        "No rule applies",
        "No spend, frequency, recency or risk signal sets the segment apart; no action is "
        "suggested.",
    ),
}


@dataclass(frozen=True)
class Action:
    """The suggested action for one segment.

    Attributes
    ----------
    rule : int
        The rule that fired (a key of :data:`ACTIONS`).
    title : str
    text : str
        The action for this segment, naming the columns it rests on.
    because : str
        The facts behind it, in words.
    """

    rule: int
    title: str
    text: str
    because: str


@dataclass(frozen=True)
class Persona:
    """One segment described for a marketer.

    ``facts`` are the structured facts (:class:`custseg.features.facts.Fact`);
    ``distinctions`` their sentences (numeric facts first, then categories);
    ``key_facts`` the two that most set the segment apart, for an at-a-glance row;
    ``trust`` how far to trust the segment (:func:`custseg.verdicts.segment_trust`),
    from the run's stability and borderline shares.
    """

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
    facts: list[Fact] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    trust: Trust | None = None


def _label_of(fact: Fact, kinds: Mapping[str, ColumnKind], *, plain: bool = False) -> str:
    """The column of a fact as the subject of a sentence ("their fresh amount is ...").

    ``plain`` gives the bare label, for a product line ("offer milk").
    """
    if fact.feature in kinds:
        label = kinds[fact.feature].label
        if plain:
            return label
        suffix = {"flag": " rate", "amount": " amount"}.get(fact.kind, "")
        return label + suffix
    column, _, category = fact.feature.partition("=")
    return f"share of {column_kind(column).label} '{category}'" if category else column


def _labels(facts: Sequence[Fact], kinds: Mapping[str, ColumnKind], *, plain: bool = False) -> str:
    names = list(dict.fromkeys(_label_of(f, kinds, plain=plain) for f in facts))[:3]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _their(facts: Sequence[Fact], kinds: Mapping[str, ColumnKind], *, plain: bool = False) -> str:
    """'Their income is', 'Their total charges are', 'Their income and credit limit are'."""
    labels = {_label_of(f, kinds, plain=plain) for f in facts}
    last = next(iter(labels)).rsplit(" ", 1)[-1].strip("'")
    plural = len(labels) > 1 or bool(re.search(r"[^su]s$", last))
    return f"Their {_labels(facts, kinds, plain=plain)} {'are' if plural else 'is'}"


def _by_signal(facts: Sequence[Fact], effect: int) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = {}
    for f in facts:
        if f.signal and f.effect == effect:
            out.setdefault(f.signal, []).append(f)
    return out


def _because(facts: Sequence[Fact]) -> str:
    return "; ".join(f.text for f in facts[:2])


def _lines(kinds: Mapping[str, ColumnKind]) -> bool:
    """Whether the value columns are product lines (three or more spends), for cross-selling."""
    return sum(k.signal == "value" for k in kinds.values()) >= CROSS_SELL_LINES


def _first_rules(
    high: dict[str, list[Fact]], low: dict[str, list[Fact]], kinds: Mapping[str, ColumnKind]
) -> Action | None:
    """Rules 2-9: risk, recency, value, means, frequency, response."""
    value_h, value_l = high.get("value", []), low.get("value", [])
    if "risk" in high:
        facts = high["risk"]
        return Action(
            2,
            ACTIONS[2][0],
            f"{_their(facts, kinds)} above average: find out why before promoting to them, "
            "and keep offers that add to it out of their campaigns.",
            _because(facts),
        )
    if "recency" in high:
        return Action(
            3,
            ACTIONS[3][0],
            "They have not bought for longer than most: send a time-limited reactivation "
            "offer and stop costly contact with those who do not respond.",
            _because(high["recency"]),
        )
    if value_h and ("frequency" in high or "means" in high):
        both = value_h[:1] + (high.get("frequency") or high["means"])[:1]
        return Action(
            4,
            ACTIONS[4][0],
            f"{_their(both, kinds)} above average: give them priority service, early access "
            "or a higher tier, and watch for the first sign of a drop.",
            _because(both),
        )
    if value_h and value_l and _lines(kinds):
        high_lines = _their(value_h, kinds, plain=True).removeprefix("Their ")
        low_lines = _their(value_l, kinds, plain=True).removeprefix("Their ")
        offer = re.sub(r" spend\b", "", _labels(value_l, kinds, plain=True))
        return Action(
            5,
            ACTIONS[5][0],
            f"{high_lines[:1].upper()}{high_lines[1:]} well above average but {low_lines} "
            f"below average: offer {offer} alongside what they already buy.",
            _because(value_h[:1] + value_l[:1]),
        )
    if value_h:
        budget = (
            f" {_their(low['means'], kinds)} below average: favour points and bundles that "
            "fit a tighter budget."
            if "means" in low
            else ""
        )
        return Action(
            6,
            ACTIONS[6][0],
            f"{_their(value_h, kinds)} above average: keep them engaged with personal "
            f"recommendations and recognition.{budget}",
            _because(value_h + low.get("means", [])),
        )
    if "means" in high:
        gap = f" but their {_labels(value_l, kinds)} is not" if value_l else ""
        return Action(
            7,
            ACTIONS[7][0],
            f"{_their(high['means'], kinds)} above average{gap}: show premium products and "
            "ask what keeps them from buying more.",
            _because(high["means"][:1] + value_l[:1]),
        )
    if "frequency" in high:
        return Action(
            8,
            ACTIONS[8][0],
            f"{_their(high['frequency'], kinds)} above average: recommend bundles and "
            "complementary products at the moments they already buy.",
            _because(high["frequency"]),
        )
    if "response" in high:
        return Action(
            9,
            ACTIONS[9][0],
            f"They responded more often than others ({_labels(high['response'], kinds)}): "
            "include them first in the next campaign of that kind.",
            _because(high["response"]),
        )
    return None


def _later_rules(
    high: dict[str, list[Fact]], low: dict[str, list[Fact]], kinds: Mapping[str, ColumnKind]
) -> Action | None:
    """Rules 10-15: tenure, low value or frequency, recent, means, age."""
    if "tenure" in low:
        return Action(
            10,
            ACTIONS[10][0],
            "Newer customers than most: a welcome series and an offer for the next purchase.",
            _because(low["tenure"]),
        )
    activation = low.get("value", []) + low.get("frequency", [])
    if activation:
        return Action(
            11,
            ACTIONS[11][0],
            f"{_their(activation, kinds)} below average: reach them with low-cost digital "
            "offers and measure the response before investing more.",
            _because(activation),
        )
    if "recency" in low:
        return Action(
            12,
            ACTIONS[12][0],
            "They bought recently: follow up while they are engaged, with a thank-you and "
            "an offer that fits what they bought.",
            _because(low["recency"]),
        )
    if "means" in low:
        return Action(
            13,
            ACTIONS[13][0],
            "Lead with good-value bundles and price promotions.",
            _because(low["means"]),
        )
    if "tenure" in high:
        return Action(
            14,
            ACTIONS[14][0],
            "They have stayed longer than most: thank them, and ask for referrals or reviews.",
            _because(high["tenure"]),
        )
    age = high.get("age", []) + low.get("age", [])
    if age:
        fact = age[0]
        around = f" aged around {fact.value:.0f}" if fact.kind == "age" else ""
        group = "older" if fact.effect > 0 else "younger"
        return Action(
            15,
            ACTIONS[15][0],
            f"The segment differs mainly by age: choose channels and creative that suit "
            f"{group} customers{around}. No spend, frequency or risk signal sets it apart.",
            _because(age),
        )
    return None


def choose_action(
    seg_id: int, facts: Sequence[Fact], kinds: Mapping[str, ColumnKind] | None = None
) -> Action:
    """The action for a segment from its facts, by the rule in the module docstring.

    Parameters
    ----------
    seg_id : int
        The segment id; -1 is noise.
    facts : sequence of Fact
        The facts that set the segment apart (numeric and category).
    kinds : mapping, optional
        Feature → ColumnKind, for the column labels in the action text.
    """
    kinds = kinds or {}
    if seg_id < 0:
        return Action(1, ACTIONS[1][0], ACTIONS[1][1], "the algorithm left them unassigned")
    high, low = _by_signal(facts, 1), _by_signal(facts, -1)
    action = _first_rules(high, low, kinds) or _later_rules(high, low, kinds)
    if action is not None:
        return action
    return Action(
        16,
        ACTIONS[16][0],
        "Nothing in this profile points to a specific action: no spend, frequency, recency "
        "or risk signal sets it apart. Use it as a comparison group, or test an offer "
        "against a control group before acting.",
        _because(facts) or "no fact sets the segment apart",
    )


def feature_kinds(summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> list:
    """The :class:`ColumnKind` of each numeric feature of a run.

    Parameters
    ----------
    summary : mapping
        ``summary.json``: its ``columns`` give the roles.
    records : sequence of mapping
        The model's feature records (``name``, ``min``, ``max``, ``mean``, ``std``,
        ``quantiles``), or at least ``name`` and ``mean``.
    """
    roles = {c.get("name"): c.get("role") for c in summary.get("columns") or []}
    return [column_kind(str(r["name"]), r, role=roles.get(r["name"])) for r in records]


def make_personas(
    summary: dict[str, Any],
    feature_stats: Mapping[str, Mapping[str, Any]],
    shares: pd.DataFrame | None = None,
) -> list[Persona]:
    """One persona per segment from ``summary.json``.

    Parameters
    ----------
    summary : dict
        ``summary.json`` of the run.
    feature_stats : mapping
        Per numeric feature its model record: at least ``mean`` over the fitted
        customers; ``min``, ``max``, ``std`` and ``quantiles`` make the column kinds
        (:mod:`custseg.features.kinds`) more exact.
    shares : DataFrame, optional
        :func:`custseg.report.data.category_shares`; adds category facts.
    """
    features = [f for f in summary["features"] if f in feature_stats]
    kinds = feature_kinds(summary, [{"name": f, **feature_stats[f]} for f in features])
    by_name = {k.name: k for k in kinds}
    overall = {f: float(feature_stats[f]["mean"]) for f in features}
    maxima = {f: float(feature_stats[f].get("max", 0.0)) for f in features}
    segs = sorted(summary["segments"], key=lambda s: (int(s["id"]) < 0, int(s["id"])))
    labels = {int(s["id"]): _label(int(s["id"]), str(s["name"])) for s in segs}
    cats = category_facts(shares, {labels[int(s["id"])]: int(s["size"]) for s in segs})
    jaccards = {
        int(s["id"]): s.get("jaccard") for s in (summary.get("stability") or {}).get("segments", [])
    }
    by_segment = (summary.get("borderline") or {}).get("by_segment") or {}
    borderline = {int(k): float(v) for k, v in by_segment.items() if v is not None}
    personas = []
    for seg in segs:
        sid = int(seg["id"])
        facts = numeric_facts(seg, kinds, overall, size=int(seg["size"]), maxima=maxima)
        told = facts[:MAX_DISTINCTIONS] + cats.get(labels[sid], [])
        # The action weighs every fact, not only those on the card: a line they skip
        # matters for cross-selling even when three others differ more.
        action = choose_action(sid, facts + cats.get(labels[sid], []), by_name)
        words = [f.text for f in told] or ["close to the average on every feature"]
        trust = segment_trust(jaccards.get(sid), borderline.get(sid)) if sid >= 0 else None
        personas.append(
            Persona(
                sid,
                str(seg["name"]),
                labels[sid],
                int(seg["size"]),
                float(seg["share"]),
                words,
                action.rule,
                action.title,
                action.text,
                action.because,
                told,
                [f.text for f in told[:2]],
                trust,
            )
        )
    return personas


def _label(sid: int, name: str) -> str:
    return name if sid < 0 else f"{sid} · {name}"
