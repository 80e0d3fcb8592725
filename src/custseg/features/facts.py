"""What sets a segment apart, as structured facts and plain sentences.

A *fact* compares a segment with all customers on one feature (or one category
of a column) and says so in words that match what the column is
(:mod:`custseg.features.kinds`):

===========================  ========================================================
kind                         sentence
===========================  ========================================================
money, count, amount         "income 44% above average (86.5 vs 60.6 k$)",
                             "wine spend 2.6 times the average (812 vs 305)"
score                        "spending score 82 of 100, well above the average 50"
share                        "return rate 45% (11% overall)"
flag                         "62% accepted campaign 5 (15% overall)"
age                          "average age 64.8 (38.9 overall)"
birth year                   "born in 1958 on average (1969 overall)"
everything else              "tenure 64 on average (32.4 overall)"
category                     "Gender: 73% Female (54% overall)"
===========================  ========================================================

An indicator of a code names the column: "62% channel 2 (40% overall)", never "62% 2".
Of a column's indicators only the most over-represented is told, as in the name:
"channel 1 97%", never also "channel 2 3%".
Two categories of different columns with the same shares (internet service "No" and
device protection "No internet service": the same customers) are told once.

A share resting on fewer than :data:`FEW_CUSTOMERS` customers gives the count:
"60% Male (12 of 20; 44% overall)". A score is "above" the average below one
standard deviation, "well above" from one and "far above" from 1.5. A code
(region 1/2/3) gives no fact: the mean of codes is not a quantity.

Which facts are told
--------------------
A numeric fact is told when the feature *describes* the segment by the naming
rule (:func:`custseg.features.profiles.describe_strength`: half a standard
deviation, or half or double the mean for amounts), strongest first.

A category is told only when it is both well supported and really different:

1. the column is linked to the segments at all — a chi-square test of
   independence over the segment × category counts gives ``p <`` :data:`ALPHA`;
2. the segment's share differs from the overall share by at least
   :data:`CATEGORY_GAP` (15 percentage points); and
3. the difference is unlikely by chance in a segment of that size — a two-sided
   binomial test of the segment's count against the overall share, ``p <``
   :data:`ALPHA` divided by the number of segments.

So "60% Male" from 12 of 20 customers, where 44% of all customers are male, is
not told (binomial p = 0.18). At most :data:`MAX_CATEGORY_FACTS` categories per
segment are told, one per column: categories that carry a signal first (churn
"Yes"), then over-represented ones, then the least likely by chance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from custseg.features.kinds import ColumnKind, column_kind, people
from custseg.features.profiles import DESCRIBE_Z, describe_strength

__all__ = [
    "ALPHA",
    "CATEGORY_GAP",
    "FEW_CUSTOMERS",
    "MAX_CATEGORY_FACTS",
    "Fact",
    "category_facts",
    "describe_value",
    "numeric_facts",
]

#: Below this many customers in a segment, a share also gives the count ("12 of 20").
FEW_CUSTOMERS = 100
#: Significance level of the category tests.
ALPHA = 0.01
#: A category share must differ from the overall share by at least this.
CATEGORY_GAP = 0.15
MAX_CATEGORY_FACTS = 2
_SKIPPED_CATEGORIES = ("Other", "(missing)")
#: Values of a 0/1 flag column, as category text.
_NO_VALUES = frozenset({"0", "0.0"})
_FLAG_VALUES = _NO_VALUES | {"1", "1.0"}
_PREFIXES = ("$", "€", "£")
#: A category that *is* the column's signal (churn "Yes", "Attrited Customer"); the
#: other categories of a risk column carry no signal.
_SIGNAL_CATEGORY = re.compile(
    r"^(yes|y|true|t|1)$|attrit|churn|closed|cancel|lost|left|complain", re.IGNORECASE
)


@dataclass(frozen=True)
class Fact:
    """One way a segment differs from all customers.

    Attributes
    ----------
    feature : str
        The feature (column name), or ``"column=category"`` for a category.
    kind : str
        The column kind (:data:`custseg.features.kinds.KINDS`) or ``"category"``.
    signal : str or None
        The marketing signal of the column (:data:`custseg.features.kinds.SIGNALS`).
    direction : int
        +1 when the segment is above the overall value, -1 below.
    effect : int
        +1 when the segment has *more* of the signal, -1 less: the direction times
        the column's (``p_alive`` above average is *less* recency), 0 without a signal.
    strength : float
        How strongly it sets the segment apart, on the z scale (facts are told
        from :data:`custseg.features.profiles.DESCRIBE_Z`).
    value, overall : float
        The segment's mean (or share) and the overall one, in original units.
    text : str
        The fact as a sentence fragment: "income 44% above average (86.5 vs 60.6 k$)".
    short : str
        The compact form for a table cell: "income 86.5 k$ (avg 60.6)".
    """

    feature: str
    kind: str
    signal: str | None
    direction: int
    effect: int
    strength: float
    value: float
    overall: float
    text: str
    short: str


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    if unit in _PREFIXES:
        return f"{unit}{text}"
    return f"{text} {unit}"


def _pct(share: float) -> str:
    pct = share * 100
    if 0 < abs(pct) < 1:
        return f"{pct:.1f}%"
    return f"{pct:.0f}%"


def _times(ratio: float) -> str:
    if round(ratio, 1) == 2.0:
        return "twice"
    if round(ratio, 1) == 3.0:
        return "three times"
    return f"{ratio:.1f} times"


def _count_note(share: float, size: int | None) -> str:
    if size is None or size >= FEW_CUSTOMERS:
        return ""
    return f"{round(share * size)} of {size}; "


def _score_words(z: float) -> str:
    side = "above" if z >= 0 else "below"
    if abs(z) >= 1.5:
        return f"far {side}"
    return f"well {side}" if abs(z) >= 1.0 else side


def _pair(kind: ColumnKind, value: float, overall: float) -> str:
    """ "86.5 vs 60.6 k$", "€2,600 vs €1,000": a suffix unit once, a currency sign on both."""
    first = _with_unit(_num(value), kind.unit) if kind.unit in _PREFIXES else _num(value)
    return f"{first} vs {_with_unit(_num(overall), kind.unit)}"


def _ratio_text(kind: ColumnKind, value: float, overall: float) -> str:
    numbers = f"({_pair(kind, value, overall)})"
    ratio = value / overall
    if ratio >= 1.95:
        return f"{kind.label} {_times(ratio)} the average {numbers}"
    pct = round(abs(ratio - 1) * 100)
    if pct >= 99:
        return f"almost no {kind.label} {numbers}"
    return f"{kind.label} {pct}% {'above' if ratio >= 1 else 'below'} average {numbers}"


def describe_value(
    kind: ColumnKind,
    value: float,
    overall: float,
    z: float,
    *,
    size: int | None = None,
    percent_scale: bool = False,
) -> tuple[str, str]:
    """A segment's value of one feature in words: (sentence fragment, short form).

    Parameters
    ----------
    kind : ColumnKind
    value, overall : float
        The segment's mean and the overall mean, in original units.
    z : float
        The segment mean's z-score.
    size : int, optional
        Customers in the segment: a flag's share then gives the count when few.
    percent_scale : bool, default=False
        A share column written in percent (0..100) rather than 0..1.
    """
    label, unit = kind.label, kind.unit
    short = f"{label} {_with_unit(_num(value), unit)} (avg {_num(overall)})"
    if unit in _PREFIXES:
        short = f"{label} {_with_unit(_num(value), unit)} (avg {_with_unit(_num(overall), unit)})"
    if kind.kind in ("flag", "share"):
        scale = 100.0 if percent_scale else 1.0
        seg, avg = value / scale, overall / scale
        short = f"{label} {_pct(seg)} (avg {_pct(avg)})"
        if kind.kind == "share":
            return f"{label} {_pct(seg)} ({_pct(avg)} overall)", short
        # An indicator reads as the segment's name says it: "81% month-to-month
        # contract", "62% channel 2" (custseg.features.kinds.category_phrase).
        return (
            f"{_pct(seg)} {people(label)} ({_count_note(seg, size)}{_pct(avg)} overall)",
            short,
        )
    if kind.kind == "score":
        top = f" of {_num(kind.bounds[1])}" if kind.bounds else ""
        short = f"{label} {_num(value)}{'/' + _num(kind.bounds[1]) if kind.bounds else ''}"
        return (
            f"{label} {_num(value)}{top}, {_score_words(z)} the average {_num(overall)}",
            f"{short} (avg {_num(overall)})",
        )
    if kind.is_ratio and overall > 0 and value >= 0:
        return _ratio_text(kind, value, overall), short
    if kind.kind == "age":
        return f"average {label} {_num(value)} ({_num(overall)} overall)", short
    if kind.kind == "birth year":
        return (
            f"born in {value:.0f} on average ({overall:.0f} overall)",
            f"{label} {value:.0f} (avg {overall:.0f})",
        )
    return (
        f"{label} {_with_unit(_num(value), unit)} on average ({_num(overall)} overall)",
        short,
    )


def _told_features(
    segment: Mapping[str, Mapping[str, float]],
    kinds: Sequence[ColumnKind],
    overall: Mapping[str, float],
    min_strength: float,
) -> dict[str, float]:
    """Feature → strength of the features strong enough to tell, one value per column.

    Of a column's indicators ("Channel=1", "Channel=2") only the most over-represented
    is told, as in the segment's name: "channel 1 97%" already says "channel 2 3%".
    """
    z_of = segment.get("z") or {}
    mean_of = segment.get("mean") or {}
    strong: dict[str, float] = {}
    best: dict[str, str] = {}
    for kind in kinds:
        f = kind.name
        z, value = z_of.get(f), mean_of.get(f)
        if z is None or value is None or f not in overall or kind.kind == "code":
            continue
        strength = describe_strength(kind, float(z), float(value), float(overall[f]))
        if strength < min_strength:
            continue
        strong[f] = strength
        column, sep, _ = f.partition("=")
        if sep and (column not in best or float(z) > float(z_of[best[column]])):
            best[column] = f
    return {f: s for f, s in strong.items() if best.get(f.partition("=")[0], f) == f}


def numeric_facts(
    segment: Mapping[str, Mapping[str, float]],
    kinds: Sequence[ColumnKind],
    overall: Mapping[str, float],
    *,
    size: int | None = None,
    maxima: Mapping[str, float] | None = None,
    min_strength: float = DESCRIBE_Z,
) -> list[Fact]:
    """The numeric facts that set a segment apart, strongest first.

    Parameters
    ----------
    segment : mapping
        A ``segments`` entry of ``summary.json``: ``mean`` and ``z`` per feature.
    kinds : sequence of ColumnKind
        One per numeric feature to consider.
    overall : mapping
        Feature → overall mean over the fitted customers.
    size : int, optional
        Customers in the segment.
    maxima : mapping, optional
        Feature → largest value; a share above 1 is read as percent.
    min_strength : float, default=DESCRIBE_Z
        Facts weaker than this are left out; :data:`custseg.features.profiles.LEAN_Z`
        gives the features a segment only leans on, for one that nothing describes.
    """
    facts = []
    told = _told_features(segment, kinds, overall, min_strength)
    for kind in kinds:
        f = kind.name
        if f not in told:
            continue
        z, value = segment["z"][f], segment["mean"][f]
        strength = told[f]
        text, short = describe_value(
            kind,
            float(value),
            float(overall[f]),
            float(z),
            size=size,
            percent_scale=bool(maxima and maxima.get(f, 0) > 1),
        )
        direction = 1 if float(value) >= float(overall[f]) else -1
        effect = direction * kind.direction if kind.signal else 0
        facts.append(
            Fact(
                f,
                kind.kind,
                kind.signal,
                direction,
                effect,
                strength,
                float(value),
                float(overall[f]),
                text,
                short,
            )
        )
    facts.sort(key=lambda fact: -fact.strength)
    return facts


def _counts(shares: pd.DataFrame, column: str, sizes: Mapping[str, int]) -> pd.DataFrame:
    """Segment × category counts of one column, from shares and segment sizes."""
    part = shares[(shares["column"] == column) & (shares["segment"] != "All customers")]
    table = part.pivot_table(index="segment", columns="category", values="share", aggfunc="sum")
    table = table.reindex([s for s in sizes if s in table.index]).fillna(0.0)
    return (table.mul(pd.Series(sizes), axis=0)).round().astype(int)


def _category_text(
    label: str, category: str, share: float, overall: float, note: str, *, flag: bool
) -> str:
    """ "Gender: 73% Female (54% overall)"; a flag "62% accepted campaign 5"; a code
    "100% channel 2" — never "62% 1"."""
    numbers = f"({note}{_pct(overall)} overall)"
    if flag:
        return f"{_pct(share)} {label} {numbers}"
    if re.fullmatch(r"[\d.\-]+", category):
        return f"{_pct(share)} {label} {category} {numbers}"
    return f"{label[:1].upper()}{label[1:]}: {_pct(share)} {category} {numbers}"


def category_facts(shares: pd.DataFrame | None, sizes: Mapping[str, int]) -> dict[str, list[Fact]]:
    """The category facts of every segment, by the tests in the module docstring.

    Parameters
    ----------
    shares : DataFrame or None
        :func:`custseg.report.data.category_shares`: ``column``, ``category``,
        ``segment`` (a segment label or ``"All customers"``) and ``share``.
    sizes : mapping
        Segment label → customers in it, for the segments to describe.

    Returns
    -------
    dict
        Segment label → its category facts, least likely by chance first.
    """
    out: dict[str, list[Fact]] = {label: [] for label in sizes}
    if shares is None or shares.empty or len(sizes) < 2:
        return out
    from scipy.stats import binomtest, chi2_contingency  # only here: SciPy is slow to import

    found: dict[str, list[tuple[float, Fact]]] = {label: [] for label in sizes}
    for column in dict.fromkeys(shares["column"]):
        counts = _counts(shares, column, sizes)
        counts = counts.loc[:, counts.sum(axis=0) > 0]
        if counts.shape[1] < 2 or counts.shape[0] < 2:
            continue
        if chi2_contingency(counts.to_numpy()).pvalue >= ALPHA:
            continue  # the column shows no link to the segments
        total = counts.to_numpy().sum()
        kind = column_kind(column)
        title = kind.label[:1].upper() + kind.label[1:]
        flag = {str(c) for c in counts.columns} <= _FLAG_VALUES
        for category in counts.columns:
            if category in _SKIPPED_CATEGORIES or (flag and str(category) in _NO_VALUES):
                continue  # a flag's "0" only restates its "1"
            p0 = counts[category].sum() / total
            for label, n in counts.sum(axis=1).items():
                k = int(counts.loc[label, category])
                share = k / n if n else 0.0
                if abs(share - p0) < CATEGORY_GAP or not 0 < p0 < 1:
                    continue
                p = binomtest(k, int(n), p0).pvalue
                if p >= ALPHA / len(sizes):
                    continue
                note = f"{k} of {n}; " if n < FEW_CUSTOMERS else ""
                text = _category_text(kind.label, str(category), share, p0, note, flag=flag)
                strength = abs(share - p0) / math.sqrt(p0 * (1 - p0))
                signal = kind.signal if _SIGNAL_CATEGORY.search(str(category)) else None
                direction = 1 if share > p0 else -1
                fact = Fact(
                    f"{column}={category}", "category", signal, direction,
                    direction if signal else 0, strength, share, p0, text,
                    f"{title} {category} {_pct(share)} (avg {_pct(p0)})",
                )  # fmt: skip
                found[str(label)].append((p, fact))
    for label, items in found.items():
        out[label] = _one_fact_per_column(items)
    return out


def _one_fact_per_column(items: list[tuple[float, Fact]]) -> list[Fact]:
    """The category facts to tell of one segment, from (p-value, fact) pairs."""
    # Signals first (churn "Yes"), then over-represented categories: "78% Champions"
    # says more than "0% Hibernating".
    items = sorted(
        items,
        key=lambda it: (
            it[1].signal is None,
            it[1].direction < 0,
            it[0],
            -it[1].strength,
            len(it[1].feature.partition("=")[2]),  # of two alike, "No" before "No internet"
            it[1].feature,
        ),
    )
    chosen: list[Fact] = []
    columns: set[str] = set()
    told: set[tuple[float, float]] = set()
    for _, fact in items:  # one fact per column: "18% Female" only repeats "82% Male"
        column = fact.feature.partition("=")[0]
        # The same customers seen through two columns (internet service "No" and
        # device protection "No internet service"): said once. The second column says
        # nothing else: its "0% No" only follows from them.
        same = (round(fact.value, 2), round(fact.overall, 2))
        if same in told:
            columns.add(column)
        if column in columns or len(chosen) >= MAX_CATEGORY_FACTS:
            continue
        columns.add(column)
        told.add(same)
        chosen.append(fact)
    return chosen
