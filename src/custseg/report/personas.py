"""Personas: each segment in plain words, with a suggested marketing action.

A persona lists the facts that set a segment apart
(:mod:`custseg.features.facts`: at most three numeric facts, strongest first,
then at most two categories that pass the tests of independence) and suggests
one action. A column that is a feature is told by its indicators only, not again
as a category, and a category holding the same customers as an indicator fact is
not told twice.

Suggested action: the rule
--------------------------
Actions follow the *signals* of the facts (:mod:`custseg.features.kinds`: risk,
recency, response, means, value, frequency, tenure, age), never the bare words
of a column name. A signal is *high* in a segment when one of its facts says
the segment has more of it, *low* when one says less. The first rule that
matches gives the action, and the action names the columns it rests on:

1. noise (segment -1): review individually;
2. risk high (cash advances, returns, complaints, utilisation) and *prominent* —
   a risk fact among the segment's three strongest numeric facts, or a risk
   category: check the risk first;
3. churn high (churned or attrited customers, cancellations): prevent churn;
4. recency high (a long time since the last purchase): win back;
5. value high and frequency, means or tenure high: retain and reward;
6. value high on some columns and low on others, when there are three or more spend
   columns (product lines): cross-sell what they buy little of;
7. value high: keep them buying;
8. means high (value not high): unlock potential;
9. frequency high: grow the basket;
10. response high (accepted campaigns): target in campaigns;
11. tenure low: onboard;
12. tenure high and value or frequency low: offer an upgrade;
13. value or frequency low: low-cost activation;
14. recency low (bought recently): follow up while they are engaged;
15. means low: value-led offers;
16. tenure high: thank and ask for referrals;
17. age alone: fit channel and message to the age group (the text gives the age);
18. otherwise: no rule applies — the persona says so instead of inventing an action.

A risk that is high but not prominent (top spenders who return a fifth of what
they buy, when returns are 11% overall) does not turn the action into a risk
check; the action that fits the rest of the profile ends with "Watch their
return rate: ...".

The rule is a starting point for a marketer, not a verdict; each card says
which rule fired and the facts behind it, so it can be argued with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from custseg.features.facts import Fact, category_facts, numeric_facts
from custseg.features.kinds import ColumnKind, column_kind, column_kinds
from custseg.features.profiles import LEAN_Z, MAX_TERMS
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
#: A risk decides the action when one of its facts is among this many strongest.
PROMINENT_FACTS = MAX_DISTINCTIONS
#: Cross-selling needs at least this many spend columns: product lines to move between.
CROSS_SELL_LINES = 3

#: Rule number → (short title, what the rule suggests in general).
ACTIONS: dict[int, tuple[str, str]] = {
    1: ("Review individually", "These customers fit no segment; look at them one by one."),
    2: (
        "Check the risk first",
        "A risk signal (cash advances, returns, complaints, utilisation) stands out: find "
        "out why before promoting to them.",
    ),
    3: (
        "Prevent churn",
        "More of them have left: find out why, and give the rest a reason to stay.",
    ),
    4: ("Win back", "A long time since the last purchase: a time-limited reactivation offer."),
    5: ("Retain and reward", "High value and often or for long: priority service, early access."),
    6: ("Cross-sell", "High spend on some lines, low on others: offer the lines they skip."),
    7: ("Keep them buying", "High value: personal recommendations and member prices."),
    8: ("Unlock potential", "High means, value not high: premium products and a question why."),
    9: ("Grow the basket", "Frequent but small purchases: bundles and complementary products."),
    10: ("Target in campaigns", "Answered past campaigns more than others: include them first."),
    11: ("Onboard", "Newer customers: a welcome series and a second-purchase offer."),
    12: ("Offer an upgrade", "They stay but spend or buy little: an upgrade worth their while."),
    13: ("Low-cost activation", "Low value or frequency: cheap channels, measured first."),
    14: ("Follow up", "Bought recently: a thank-you and a relevant next offer."),
    15: ("Value-led offers", "Lower means: good-value bundles and price promotions."),
    16: ("Thank and ask for referrals", "Long-standing customers: recognition and referrals."),
    17: ("Fit channel and message", "Differs by age alone: choose channels that suit the age."),
    18: (
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


#: A kind whose label takes a word in an action's subject: "their return rate".
_SUFFIX = {"flag": "rate", "amount": "amount"}
#: A column read the other way round is named by its signal: many days between
#: purchases is a low "purchase frequency", not low "days between purchases".
_INVERTED = {"frequency": "purchase frequency", "recency": "recent activity"}
#: Words of a value column that is a total, not a product line ("spend", "monthly charges").
_NOT_A_LINE = re.compile(
    r"\b(spend|spending|monetary|revenue|sales|value|clv|amount|charges?|orders?|predicted|"
    r"lifetime|total|average|basket|profit|transactions?|purchases?|score)\b"
)


def _label_of(fact: Fact, kinds: Mapping[str, ColumnKind], *, plain: bool = False) -> str:
    """The column of a fact as the subject of a sentence ("their fresh amount is ...").

    ``plain`` gives the bare label, for a product line ("offer milk").
    """
    if fact.feature in kinds:
        label = kinds[fact.feature].label
        if fact.effect and fact.direction != fact.effect and fact.signal in _INVERTED:
            return _INVERTED[fact.signal]
        suffix = _SUFFIX.get(fact.kind)
        return label if plain or not suffix else f"{label} {suffix}"
    column, _, category = fact.feature.partition("=")
    return f"share of {column_kind(column).label} '{category}'" if category else column


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _subject(
    facts: Sequence[Fact], kinds: Mapping[str, ColumnKind], *, plain: bool = False
) -> tuple[str, bool]:
    """The columns of facts as one subject, and whether it is plural.

    A shared last word is said once: "detergents paper, grocery and milk amounts".
    """
    names = list(dict.fromkeys(_label_of(f, kinds, plain=plain) for f in facts))[:3]
    heads = {n.rpartition(" ")[0] for n in names}
    tails = {n.rpartition(" ")[2] for n in names}
    if len(names) > 1 and len(tails) == 1 and "" not in heads and tails <= set(_SUFFIX.values()):
        return f"{_join([n.rpartition(' ')[0] for n in names])} {tails.pop()}s", True
    last = names[0].rpartition(" ")[2]
    quoted = names[0].endswith("'")  # a category: "share of churn 'Yes'"
    return _join(names), len(names) > 1 or (not quoted and bool(re.search(r"[^su]s$", last)))


def _labels(facts: Sequence[Fact], kinds: Mapping[str, ColumnKind], *, plain: bool = False) -> str:
    return _subject(facts, kinds, plain=plain)[0]


def _their(facts: Sequence[Fact], kinds: Mapping[str, ColumnKind], *, plain: bool = False) -> str:
    """'Their income is', 'Their total charges are', 'Their income and credit limit are'."""
    subject, plural = _subject(facts, kinds, plain=plain)
    return f"Their {subject} {'are' if plural else 'is'}"


def _by_signal(facts: Sequence[Fact], effect: int) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = {}
    for f in facts:
        if f.signal and f.effect == effect:
            out.setdefault(f.signal, []).append(f)
    return out


def _because(facts: Sequence[Fact]) -> str:
    return "; ".join(f.text for f in facts[:2])


def _is_line(kind: ColumnKind | None) -> bool:
    """Whether a column is the spend on one product line ("wine spend", "fresh").

    Totals, averages, predictions and scores of spend are not lines to cross-sell.
    """
    if kind is None or kind.signal != "value" or kind.kind not in ("money", "amount"):
        return False
    return not _NOT_A_LINE.search(re.sub(r" spend$", "", kind.label))


def _lines(facts: Sequence[Fact], kinds: Mapping[str, ColumnKind]) -> list[Fact]:
    """The facts on product lines, when the table has enough lines to cross-sell."""
    if sum(_is_line(k) for k in kinds.values()) < CROSS_SELL_LINES:
        return []
    return [f for f in facts if _is_line(kinds.get(f.feature))]


def _phrase(fact: Fact) -> str:
    """A fact inside a sentence: "churn: 60% Yes against 27% overall" for a category."""
    column, _, category = fact.feature.partition("=")
    if fact.kind != "category":
        return fact.text
    label = column_kind(column).label
    return f"{label}: {fact.value:.0%} {category} against {fact.overall:.0%} overall"


def _prominent_risks(facts: Sequence[Fact]) -> list[Fact]:
    """Risk facts that stand out: among the strongest numeric facts, or a risk category."""
    strongest = [f for f in facts if f.kind != "category"][:PROMINENT_FACTS]
    return [
        f
        for f in facts
        if f.signal == "risk" and f.effect > 0 and (f.kind == "category" or f in strongest)
    ]


def _risk_rules(
    facts: Sequence[Fact], high: dict[str, list[Fact]], kinds: Mapping[str, ColumnKind]
) -> Action | None:
    """Rules 2-4: a prominent risk, churn, a long time since the last purchase."""
    risks = _prominent_risks(facts)
    if risks:
        return Action(
            2,
            ACTIONS[2][0],
            f"{_their(risks, kinds)} above average: find out why before promoting to them, "
            "and keep offers that add to it out of their campaigns.",
            _because(risks),
        )
    if "churn" in high:
        churn = high["churn"]
        return Action(
            3,
            ACTIONS[3][0],
            f"Churn stands out ({_phrase(churn[0])}): find out why customers like these leave, "
            "and give those still here a reason to stay before they go.",
            _because(churn),
        )
    if "recency" in high:
        return Action(
            4,
            ACTIONS[4][0],
            "They have not bought for longer than most: send a time-limited reactivation "
            "offer and stop costly contact with those who do not respond.",
            _because(high["recency"]),
        )
    return None


def _value_rules(
    high: dict[str, list[Fact]], low: dict[str, list[Fact]], kinds: Mapping[str, ColumnKind]
) -> Action | None:
    """Rules 5-7: high value, with frequency, means or tenure; on some lines; alone."""
    value_h, value_l = high.get("value", []), low.get("value", [])
    if not value_h:
        return None
    partner = high.get("frequency") or high.get("means") or high.get("tenure")
    if partner:
        both = value_h[:1] + partner[:1]
        return Action(
            5,
            ACTIONS[5][0],
            f"{_their(both, kinds)} above average: give them priority service, early access "
            "or a higher tier, and watch for the first sign of a drop.",
            _because(both),
        )
    lines_h, lines_l = _lines(value_h, kinds), _lines(value_l, kinds)
    if lines_h and lines_l:
        high_lines = _their(lines_h, kinds, plain=True).removeprefix("Their ")
        low_lines = _their(lines_l, kinds, plain=True).removeprefix("Their ")
        offer = re.sub(r" spend\b", "", _labels(lines_l, kinds, plain=True))
        return Action(
            6,
            ACTIONS[6][0],
            f"{high_lines[:1].upper()}{high_lines[1:]} well above average but {low_lines} "
            f"below average: offer {offer} alongside what they already buy.",
            _because(lines_h[:1] + lines_l[:1]),
        )
    budget = (
        f" {_their(low['means'], kinds)} below average: favour points and bundles that "
        "fit a tighter budget."
        if "means" in low
        else ""
    )
    return Action(
        7,
        ACTIONS[7][0],
        f"{_their(value_h, kinds)} above average: keep them engaged with personal "
        f"recommendations and recognition.{budget}",
        _because(value_h + low.get("means", [])),
    )


def _growth_rules(
    high: dict[str, list[Fact]], low: dict[str, list[Fact]], kinds: Mapping[str, ColumnKind]
) -> Action | None:
    """Rules 8-12: means, frequency, response, new customers, long-standing but small."""
    value_l = low.get("value", [])
    if "means" in high:
        gap = f" but their {_labels(value_l, kinds)} is not" if value_l else ""
        return Action(
            8,
            ACTIONS[8][0],
            f"{_their(high['means'], kinds)} above average{gap}: show premium products and "
            "ask what keeps them from buying more.",
            _because(high["means"][:1] + value_l[:1]),
        )
    if "frequency" in high:
        return Action(
            9,
            ACTIONS[9][0],
            f"{_their(high['frequency'], kinds)} above average: recommend bundles and "
            "complementary products at the moments they already buy.",
            _because(high["frequency"]),
        )
    if "response" in high:
        return Action(
            10,
            ACTIONS[10][0],
            f"They responded more often than others ({_labels(high['response'], kinds)}): "
            "include them first in the next campaign of that kind.",
            _because(high["response"]),
        )
    if "tenure" in low:
        return Action(
            11,
            ACTIONS[11][0],
            "Newer customers than most: a welcome series and an offer for the next purchase.",
            _because(low["tenure"]),
        )
    small = value_l + low.get("frequency", [])
    if "tenure" in high and small:
        return Action(
            12,
            ACTIONS[12][0],
            f"They have stayed longer than most, but {_their(small, kinds).lower()} below "
            "average: offer an upgrade or a bundle worth their while, and thank them for "
            "staying.",
            _because(high["tenure"][:1] + small[:1]),
        )
    return None


def _later_rules(
    high: dict[str, list[Fact]], low: dict[str, list[Fact]], kinds: Mapping[str, ColumnKind]
) -> Action | None:
    """Rules 13-17: low value or frequency, recent, means, tenure, age."""
    activation = low.get("value", []) + low.get("frequency", [])
    if activation:
        return Action(
            13,
            ACTIONS[13][0],
            f"{_their(activation, kinds)} below average: reach them with low-cost digital "
            "offers and measure the response before investing more.",
            _because(activation),
        )
    if "recency" in low:
        return Action(
            14,
            ACTIONS[14][0],
            "They bought recently: follow up while they are engaged, with a thank-you and "
            "an offer that fits what they bought.",
            _because(low["recency"]),
        )
    if "means" in low:
        return Action(
            15,
            ACTIONS[15][0],
            f"{_their(low['means'], kinds)} below average: lead with good-value bundles and "
            "price promotions.",
            _because(low["means"]),
        )
    if "tenure" in high:
        return Action(
            16,
            ACTIONS[16][0],
            "They have stayed longer than most: thank them, and ask for referrals or reviews.",
            _because(high["tenure"]),
        )
    age = high.get("age", []) + low.get("age", [])
    if age:
        fact = age[0]
        around = f" aged around {fact.value:.0f}" if fact.kind == "age" else ""
        group = "older" if fact.effect > 0 else "younger"
        return Action(
            17,
            ACTIONS[17][0],
            f"The segment differs mainly by age: choose channels and creative that suit "
            f"{group} customers{around}. No spend, frequency or risk signal sets it apart.",
            _because(age),
        )
    return None


def _watch(action: Action, risks: Sequence[Fact]) -> Action:
    """The action, ending with a risk that is high but did not decide it."""
    if not risks or action.rule == 2:
        return action
    return replace(action, text=f"{action.text} Watch one risk: {risks[0].text}.")


def choose_action(
    seg_id: int, facts: Sequence[Fact], kinds: Mapping[str, ColumnKind] | None = None
) -> Action:
    """The action for a segment from its facts, by the rule in the module docstring.

    Parameters
    ----------
    seg_id : int
        The segment id; -1 is noise.
    facts : sequence of Fact
        The facts that set the segment apart: numeric facts strongest first, then
        categories.
    kinds : mapping, optional
        Feature → ColumnKind, for the column labels in the action text.
    """
    kinds = kinds or {}
    if seg_id < 0:
        return Action(1, ACTIONS[1][0], ACTIONS[1][1], "the algorithm left them unassigned")
    high, low = _by_signal(facts, 1), _by_signal(facts, -1)
    action = (
        _risk_rules(facts, high, kinds)
        or _value_rules(high, low, kinds)
        or _growth_rules(high, low, kinds)
        or _later_rules(high, low, kinds)
    )
    if action is not None:
        return _watch(action, high.get("risk", []))
    return Action(
        18,
        ACTIONS[18][0],
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
    return column_kinds(records, roles)


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
    cats = category_facts(
        _not_features(shares, features), {labels[int(s["id"])]: int(s["size"]) for s in segs}
    )
    jaccards = {
        int(s["id"]): s.get("jaccard") for s in (summary.get("stability") or {}).get("segments", [])
    }
    by_segment = (summary.get("borderline") or {}).get("by_segment") or {}
    borderline = {int(k): float(v) for k, v in by_segment.items() if v is not None}
    personas = []
    for seg in segs:
        sid = int(seg["id"])
        facts = numeric_facts(seg, kinds, overall, size=int(seg["size"]), maxima=maxima)
        # A segment nothing describes is told by what it leans on, as its name is;
        # no action rests on a lean.
        leaning = [] if facts else numeric_facts(
            seg, kinds, overall, size=int(seg["size"]), maxima=maxima, min_strength=LEAN_Z
        )[:MAX_TERMS]  # fmt: skip
        seg_cats = _not_told(cats.get(labels[sid], []), facts)
        told = (facts or leaning)[:MAX_DISTINCTIONS] + seg_cats
        # The action weighs every fact, not only those on the card: a line they skip
        # matters for cross-selling even when three others differ more.
        action = choose_action(sid, facts + seg_cats, by_name)
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


def _not_features(shares: pd.DataFrame | None, features: Sequence[str]) -> pd.DataFrame | None:
    """Category shares of the columns that are not features: a feature's categories are
    told as its indicators ("81% month-to-month contract"), not twice."""
    if shares is None:
        return None
    sources = {f.partition("=")[0] for f in features}
    return shares[~shares["column"].isin(sources)]


def _not_told(categories: Sequence[Fact], facts: Sequence[Fact]) -> list[Fact]:
    """Categories that are not the customers of an indicator fact seen through another
    column: "100% without internet service" is not told again as device protection
    "No internet service"."""
    told = {(round(f.value, 2), round(f.overall, 2)) for f in facts if f.kind == "flag"}
    return [c for c in categories if (round(c.value, 2), round(c.overall, 2)) not in told]


def _label(sid: int, name: str) -> str:
    return name if sid < 0 else f"{sid} · {name}"
