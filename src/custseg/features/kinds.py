"""What a numeric column measures: its kind, its marketing signal and its label in words.

Segment names, persona sentences and suggested actions depend on what a number
*is*: a spending score of 81 is not "64% more spending", a 0/1 flag is a share of
customers, and a mean of region codes means nothing. :func:`column_kind` reads
that from the column name and the model's summary of its values (min, max,
mean, deciles), so it gives the same answer wherever the model goes.

Kinds (the first rule that matches)
-----------------------------------
==========  ==============================================================
kind        detected when
==========  ==============================================================
flag        role ``flag``, an indicator (``Gender=Female``), or values
            only 0 and 1
code        role ``code``
log         the name starts with ``log_``
number      the name says it is a change ("chng", "change")
score       "score", "rating" or "index" in the name, or a range such as
            "(1-100)"
birth year  "year birth", "birth year", "year of birth"
age         the word "age"
recency     "recency", "days since", "since last", "last purchase"
tenure      "tenure", "months on book", "customer since"
interval    "days between", "time between", "interpurchase": the gap between
            purchases (a long gap is a low frequency)
share       values within 0..1 with a fraction, or "rate", "ratio",
            "share", "percent", "probability", "utilisation"
money       "spend" (a ``Mnt`` prefix reads as spend)
count       whole numbers and a counting word ("count", "num", "orders",
            "visits", "transactions", "purchases", ...), or a predicted
            or average count
money       a money word ("amount", "revenue", "sales", "income",
            "balance", "charges", "payments", a currency sign, ...)
amount      never negative and right-skewed (mean above the median by a
            fifth of a standard deviation or more, or Kelly's decile skewness
            of a fifth or more), and not a few whole numbers: an amount with
            no word that says more
number      anything else
==========  ==============================================================

How each kind is described is in :mod:`custseg.features.facts`.

Money, counts and amounts are *ratio* kinds: a segment mean at half or double
the overall mean describes the segment even when its z-score is small, because
these columns are skewed and their standard deviation is inflated by a few
large customers.

Signals (what an action can follow)
-----------------------------------
==========  ====================================================================
signal      words in the name (checked in this order)
==========  ====================================================================
risk        cash advance, return(s), refund, complain, default, overdue,
            late, debt, chargeback, utilisation
churn       churn, attrition, cancel(led): customers who leave
recency     the recency kind, "inactive"; "p alive" and "active" count the
            other way (high is recent)
response    accepted, response, responded, redeemed, converted, clicked
means       income, salary, wealth, earnings, credit limit
value       spend, spending, monetary, revenue, sales, amount, value, clv,
            basket, profit, charges, a "Mnt" prefix, and purchases in money;
            also any ``amount`` column (no name, but never negative and skewed)
frequency   frequency, orders, visits, transactions, trx, and purchases as a
            count or a share; the interval kind counts the other way (a long
            gap between purchases is a low frequency)
tenure      the tenure kind
age         the age and birth-year kinds, "senior"
==========  ====================================================================

Names that describe a change ("chng", "change") get no signal: a ratio of two
quarters is neither spend nor frequency.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "KINDS",
    "PERSON_NOUNS",
    "RATIO_KINDS",
    "SIGNALS",
    "ColumnKind",
    "category_phrase",
    "column_kind",
    "column_kinds",
    "humanise",
    "people",
]

KINDS = (
    "flag",
    "code",
    "log",
    "score",
    "birth year",
    "age",
    "recency",
    "tenure",
    "interval",
    "share",
    "count",
    "money",
    "amount",
    "number",
)
#: Kinds whose ratio to the overall mean means something ("twice the average").
RATIO_KINDS = frozenset({"count", "money", "amount", "interval"})
SIGNALS = (
    "risk",
    "churn",
    "recency",
    "response",
    "means",
    "value",
    "frequency",
    "tenure",
    "age",
)

#: A right-skewed column: (mean - median) / std at least this.
SKEW = 0.2
#: Whole numbers up to this are never read as a skewed amount.
MAX_SMALL_COUNT = 20
#: Longer labels are shortened (the words at both ends are kept).
MAX_LABEL = 36

_ABBREVIATIONS = {
    "amt": "amount",
    "avg": "average",
    "bal": "balance",
    "chng": "change",
    "clv": "lifetime value",
    "cmp": "campaign",
    "cnt": "count",
    "ct": "count",
    "cust": "customer",
    "dt": "date",
    "freq": "frequency",
    "kidhome": "children at home",
    "mon": "months",
    "mo": "months",
    "mths": "months",
    "nb": "number",
    "oneoff": "one-off",
    "pct": "percent",
    "perc": "percent",
    "prc": "percent",
    "prods": "products",
    "qty": "quantity",
    "rfm": "RFM",
    "teenhome": "teenagers at home",
    "trans": "transaction",
    "trx": "transactions",
    "util": "utilisation",
    "yr": "years",
    "yrs": "years",
}
_FILLER = frozenset({"annual", "the"})
#: Leading words a label goes without, unless two columns then read the same.
_PREFIX_WORDS = frozenset({"total", "average", "mean"})
#: "Average order value": here the word says what the number is.
_AVERAGE_NOUNS = frozenset({"order", "basket", "purchase", "ticket"})
#: Whole labels that read better in other words (the letters of an RFM table).
_LABELS = {
    "r score": "recency score",
    "f score": "frequency score",
    "m score": "monetary score",
    "rfm score": "RFM score",
    "p alive": "chance still active",
    "total relationship count": "products held",
    "monetary": "spend",
    "year birth": "birth year",
}
_UNIT_WORDS = {"days": "days", "months": "months", "weeks": "weeks", "years": "years"}

#: Last words of a label that says who a customer is; such a flag reads in the plural.
PERSON_NOUNS = frozenset(
    {
        "citizen",
        "customer",
        "employee",
        "homeowner",
        "member",
        "parent",
        "pensioner",
        "retiree",
        "senior",
        "student",
        "subscriber",
        "veteran",
    }
)
#: Words of a column whose values say who the customer is ("female", "married").
_ABOUT_PERSON = frozenset({"gender", "sex", "genre", "marital", "education", "occupation", "job"})
#: Last words of a column that add nothing after a value: "blue card", not "blue card category".
_GENERIC_NOUNS = frozenset({"category", "type", "method", "kind", "class", "group"})
_YES_WORDS = frozenset({"yes", "y", "true"})
_NO_WORDS = frozenset({"no", "n", "false"})
_UNKNOWN_WORDS = frozenset({"unknown", "other", "none", "not stated", "missing", "(missing)"})
_DURATION = re.compile(
    r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[ -]"
    r"(year|month|week|day)s?"
)
_SCORE = re.compile(r"\b(score|rating|index)\b")
_RANGE = re.compile(r"[(\[]\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(-?\d+(?:\.\d+)?)\s*[)\]]")
_BIRTH = re.compile(r"\b(year (of )?birth|birth ?year|yob)\b")
_AGE = re.compile(r"\bage\b")
_RECENCY = re.compile(r"\b(recency|days since|since last|last purchase|last order)\b")
_INTERVAL = re.compile(r"\b(days between|time between|gap between|interpurchase)\b")
_TENURE = re.compile(r"\b(tenure|months on book|customer since|days as customer|seniority)\b")
_SHARE = re.compile(r"\b(rate|ratio|share|percent|probability|proportion|utili[sz]ation)\b")
_COUNT = re.compile(
    r"\b(count|number|num|frequency|orders|visits|transactions|purchases|items|quantity|times|"
    r"children|kids|teenagers|dependents?|members|products)\b"
)
#: A count that may hold fractions: a prediction or an average of counts.
_EXPECTED = re.compile(r"\b(predicted|expected|average|mean)\b")
_MONEY = re.compile(
    r"\b(spend|spending|amount|revenue|sales|monetary|value|clv|basket|profit|price|cost|"
    r"income|salary|wealth|earnings|balance|limit|charges?|payments?|advance|"
    r"fee|fees|k\$|\$|€|£|usd|eur|gbp)\b|[$€£]"
)
_CHANGE = re.compile(r"\b(change|chng)\b")
#: Kinds whose signal follows from the kind alone: (signal, direction).
_KIND_SIGNALS: dict[str, tuple[str | None, int]] = {
    "age": ("age", 1),
    "birth year": ("age", -1),
    "tenure": ("tenure", 1),
    "recency": ("recency", 1),
    "interval": ("frequency", -1),  # a long gap between purchases is a low frequency
}

_SIGNAL_WORDS: tuple[tuple[str | None, int, re.Pattern[str]], ...] = (
    (None, 1, re.compile(r"\bbalance frequency\b")),  # how often a balance changes
    ("risk", -1, re.compile(r"\b(full payments?|paid in full)\b")),
    (
        "risk",
        1,
        re.compile(
            r"\b(cash advance|returns?|returned|refunds?|complain\w*|default\w*"
            r"|overdue|late|debt|chargebacks?|utili[sz]ation)\b"
        ),
    ),
    ("churn", 1, re.compile(r"\b(churn\w*|attrit\w*|cancel\w*)\b")),
    ("recency", -1, re.compile(r"\b(p alive|probability alive|active)\b")),
    ("recency", 1, re.compile(r"\binactive\b")),
    ("response", 1, re.compile(r"\b(accepted|response|responded|redeemed|converted|clicked)\b")),
    ("means", 1, re.compile(r"\b(income|salary|wealth|earnings|credit limit|open to buy)\b")),
    (
        "value",
        1,
        re.compile(
            r"\b(spend|spending|monetary|revenue|sales|amount|value|clv|basket|profit|charges?)\b"
        ),
    ),
    (
        "frequency",
        1,
        re.compile(r"\b(frequency|orders|visits|transactions|transaction count|purchase count)\b"),
    ),
    ("age", 1, re.compile(r"\bsenior\b")),
)


@dataclass(frozen=True)
class ColumnKind:
    """What a numeric feature measures.

    Attributes
    ----------
    name : str
        The column name as in the table.
    kind : str
        One of :data:`KINDS`.
    signal : str or None
        One of :data:`SIGNALS`, or None when the column says nothing an action can use.
    direction : int
        +1 when a high value means more of the signal, -1 when less (``p_alive``
        is recency read the other way).
    label : str
        The column in words, lower case: ``"income"``, ``"wine spend"``.
    unit : str
        ``"k$"``, ``"days"``, ... or ``""``.
    bounds : tuple of float or None
        The range a score is given on, e.g. ``(1.0, 100.0)``.
    reason : str
        Why it has this kind, in words.
    """

    name: str
    kind: str
    signal: str | None
    direction: int
    label: str
    unit: str
    bounds: tuple[float, float] | None
    reason: str

    @property
    def is_ratio(self) -> bool:
        """Whether "twice the average" means something for this column."""
        return self.kind in RATIO_KINDS


def _split(name: str) -> tuple[list[str], str, tuple[float, float] | None]:
    """Words of a column name, its unit and its range, e.g. ``"(1-100)"`` → (1, 100)."""
    bounds = None
    unit = ""
    for inner in re.findall(r"[(\[]([^)\]]*)[)\]]", name):
        found = _RANGE.search(f"({inner})")
        if found:
            bounds = (float(found.group(1)), float(found.group(2)))
        elif inner.strip():
            unit = inner.strip()
    text = re.sub(r"[(\[][^)\]]*[)\]]", " ", name)
    if text.isupper() or text.islower():
        text = text.lower()
    else:  # CamelCase: "MntWines", "NumWebVisitsMonth", "AcceptedCmp4", "CLVScore"
        text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    text = re.sub(r"(?<=[A-Za-z]{2})(?=\d)", " ", text)
    words = [w for w in re.split(r"[\s_\-./:]+", text) if w]
    # Short acronyms (CLV, Q4) stay upper case unless the whole name is.
    words = [w if w.isupper() and len(w) <= 3 and not name.isupper() else w.lower() for w in words]
    return words, unit, bounds


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def _words(name: str) -> tuple[list[str], str, tuple[float, float] | None]:
    """The column name as plain words (abbreviations expanded), its unit and range."""
    raw, unit, bounds = _split(name)
    spend = bool(raw) and raw[0].lower() == "mnt"
    if spend or (raw and raw[0].lower() in ("num", "no", "nb") and len(raw) > 1):
        raw = raw[1:]
    words: list[str] = []
    for w in raw:
        words += _ABBREVIATIONS.get(w.lower(), w).split()
    if spend:
        words = [_singular(words[0])] if len(words) == 1 else words
        words.append("spend")
    if len(words) >= 3 and words[-2].isdigit() and words[-1] in _UNIT_WORDS:
        words[-2:] = ["in", words[-2], words[-1]]  # "Months_Inactive_12_mon"
    elif len(words) >= 2 and words[-1] in ("month", "week") and _COUNT.search(words[-2]):
        words[-1:] = ["per", words[-1]]  # "NumWebVisitsMonth"
    elif len(words) >= 2 and words[-1] in _UNIT_WORDS and not unit:
        unit = _UNIT_WORDS[words[-1]]  # "recency_days": "recency", in days
        words = words[:-1]
    kept = [w for w in words if w.lower() not in _FILLER] or words
    for i in range(len(kept) - 1, 0, -1):  # "Q4 Q1" → "Q4/Q1": one quarter over another
        if re.fullmatch(r"Q\d", kept[i]) and re.fullmatch(r"Q\d", kept[i - 1]):
            kept[i - 1 : i + 1] = [f"{kept[i - 1]}/{kept[i]}"]
    renamed = _LABELS.get(" ".join(kept).lower())
    return (renamed.split() if renamed else kept), unit, bounds


def _drop_prefix(words: list[str]) -> list[str]:
    """Without a leading "total" or "average": "total transaction count" → "transaction count".

    "Average order value" keeps its word: an order's value is not the customer's average.
    """
    if len(words) < 2 or words[0].lower() not in _PREFIX_WORDS:
        return words
    if words[0].lower() != "total" and words[1].lower() in _AVERAGE_NOUNS:
        return words
    return words[1:]


def humanise(name: str, *, full: bool = False) -> str:
    """A column name as a short lower-case label, units and ranges left out.

    ``"Annual Income (k$)"`` → ``"income"``, ``"Spending Score (1-100)"`` →
    ``"spending score"``, ``"MntWines"`` → ``"wine spend"``, ``"AcceptedCmp4"`` →
    ``"accepted campaign 4"``, ``"Total_Trans_Ct"`` → ``"transaction count"``,
    ``"Avg_Utilization_Ratio"`` → ``"utilization ratio"``, ``"recency_days"`` →
    ``"recency"``; an indicator reads as :func:`category_phrase`:
    ``"Contract=Month-to-month"`` → ``"month-to-month contract"``.

    ``full=True`` keeps a leading "total" or "average", for a table that has both
    ``Total_Trans_Amt`` and ``Avg_Trans_Amt`` (see :func:`column_kinds`).
    """
    if "=" in name:
        column, _, category = name.partition("=")
        return category_phrase(column, category)
    words, _, _ = _words(name)
    words = words if full else _drop_prefix(words)
    label = " ".join(words) or name.strip().lower() or name
    if len(label) > MAX_LABEL and len(words) > 4:
        label = " ".join(words[:3]) + " … " + words[-1]
    return label


def _lower(text: str) -> str:
    """Lower case, but acronyms and amounts as written: "DSL", "$40K", "Q4"."""
    return " ".join(w if re.search(r"\d", w) or w.isupper() else w.lower() for w in text.split())


def _plural(noun: str) -> str:
    return noun + ("es" if re.search(r"(s|x|ch|sh)$", noun) else "s")


def category_phrase(column: str, category: str, *, plural: bool = False) -> str:
    """One category of a column in words, as a manager would say it.

    The value alone where it says what it is, else the value with the column's noun
    (the first rule that matches):

    * yes / no: "with online security", "without online security"; "No internet
      service": "without internet service";
    * a duration: "two-year contract" (``"Two year"``);
    * digits or a value of one or two letters, a band or a code: "channel 2",
      "income $60K - $80K", "gender M"; "unknown", "other": "education level unknown";
    * a value about a person: the column is gender, sex, marital status, education,
      occupation or job ("female", "married"), or the value names a person ("existing
      customer");
    * anything else: the value, then the column's noun without a last word such as
      "category", "type" or "method": "month-to-month contract", "blue card",
      "electronic check payment".

    ``plural=True`` gives the plural, for "More two-year contracts".
    """
    label = humanise(column)
    words = label.split()
    if len(words) > 1 and words[-1] in _GENERIC_NOUNS:
        words = words[:-1]
    value = " ".join(category.split())
    low = value.lower()
    if low in _YES_WORDS or low in _NO_WORDS:
        return f"{'with' if low in _YES_WORDS else 'without'} {label}"
    if low.startswith("no ") and len(low) > 3:
        return f"without {low[3:]}"
    duration = _DURATION.fullmatch(low)
    if duration:
        value = f"{duration.group(1)}-{duration.group(2)}"
    elif re.search(r"\d", value) or len(value) <= 2 or low in _UNKNOWN_WORDS:
        return f"{' '.join(words)} {_lower(value)}"
    value = _lower(value)
    if set(label.split()) & _ABOUT_PERSON or value.split()[-1] in PERSON_NOUNS:
        return people(value) if plural else value
    if plural:
        words[-1] = _plural(words[-1])
    return f"{value} {' '.join(words)}"


def people(label: str) -> str:
    """A label that says who a customer is, in the plural: "senior citizen" → "senior citizens".

    Other labels are returned as they are ("accepted campaign 5").
    """
    words = label.split()
    if words and words[-1] in PERSON_NOUNS:
        words[-1] += "s"
    return " ".join(words)


def _quantiles(stats: Mapping[str, Any]) -> list[float]:
    return [float(q) for q in stats.get("quantiles") or [] if q is not None and math.isfinite(q)]


def _is_flag(stats: Mapping[str, Any]) -> bool:
    qs = _quantiles(stats)
    if stats.get("min") != 0 or stats.get("max") != 1 or not qs:
        return False
    # Deciles of 0/1 values are 0 or 1, bar one that may fall between the two.
    return sum(q not in (0.0, 1.0) for q in qs) <= 1 and float(stats.get("std", 1)) > 0


def _is_whole(stats: Mapping[str, Any]) -> bool:
    qs = _quantiles(stats)
    # A decile may fall between two whole numbers (interpolated); continuous values
    # leave most deciles fractional.
    return len(qs) >= 3 and sum(not q.is_integer() for q in qs) <= 2


def _is_skewed(stats: Mapping[str, Any]) -> bool:
    qs = _quantiles(stats)
    std = float(stats.get("std") or 0.0)
    if len(qs) < 11 or std <= 0 or float(stats.get("min", -1)) < 0:
        return False
    if _is_whole(stats) and float(stats.get("max", 0)) <= MAX_SMALL_COUNT:
        return False  # a few whole numbers (children at home) are not an amount
    if (float(stats["mean"]) - qs[5]) / std >= SKEW:
        return True
    # Kelly's skewness, from the deciles: a few huge customers inflate the standard
    # deviation and hide the skew from the rule above, never from this one.
    spread = qs[9] - qs[1]
    return spread > 0 and (qs[9] + qs[1] - 2 * qs[5]) / spread >= SKEW


def _kind(text: str, stats: Mapping[str, Any], role: str | None) -> tuple[str, str]:
    """The kind and the reason, by the table in the module docstring."""
    low, high = float(stats.get("min", math.nan)), float(stats.get("max", math.nan))
    checks: list[tuple[bool, str, str]] = [
        (role == "flag", "flag", "the column is a flag"),
        ("=" in text, "flag", "an indicator of one category"),
        (_is_flag(stats), "flag", "its values are 0 and 1"),
        (role == "code", "code", "the column is a code"),
        (text.startswith("log "), "log", "the name says it is a logarithm"),
        (bool(_CHANGE.search(text)), "number", "the name says it is a change"),
        (bool(_SCORE.search(text)), "score", "the name says it is a score"),
        (bool(_BIRTH.search(text)), "birth year", "the name says it is a year of birth"),
        (bool(_AGE.search(text)), "age", "the name says it is an age"),
        (bool(_RECENCY.search(text)), "recency", "the name says it is a recency"),
        (bool(_TENURE.search(text)), "tenure", "the name says it is a tenure"),
        (
            bool(_INTERVAL.search(text)),
            "interval",
            "the name says it is the time between purchases",
        ),
        (
            low >= 0 and high <= 1 and (bool(_SHARE.search(text)) or not _is_whole(stats)),
            "share",
            "its values lie between 0 and 1",
        ),
        (
            bool(_SHARE.search(text)) and low >= 0 and high <= 100 and "percent" in text,
            "share",
            "the name says it is a percentage",
        ),
        (bool(re.search(r"\bspend\b", text)), "money", "the name says it is spend"),
        (
            bool(_COUNT.search(text)) and _is_whole(stats) and low >= 0,
            "count",
            "whole numbers and the name says it counts",
        ),
        (
            bool(_COUNT.search(text) and _EXPECTED.search(text)) and low >= 0,
            "count",
            "the name says it is a predicted or average count",
        ),
        (bool(_MONEY.search(text)), "money", "the name says it is money"),
        (_is_skewed(stats), "amount", "never negative, right-skewed, many values"),
    ]
    for hit, kind, reason in checks:
        if hit:
            return kind, reason
    return "number", "no rule matched"


def _signal(text: str, kind: str) -> tuple[str | None, int]:
    if kind in _KIND_SIGNALS:
        return _KIND_SIGNALS[kind]
    if kind == "score" and re.search(r"\brecency\b", text):
        return "recency", -1  # an RFM recency score is high for recent buyers
    if kind == "code" or _CHANGE.search(text):
        return None, 1
    for signal, direction, pattern in _SIGNAL_WORDS:
        if pattern.search(text):
            return signal, direction
    if re.search(r"\bpurchases\b", text):
        return ("value", 1) if kind in ("money", "amount") else ("frequency", 1)
    if re.search(r"\bspend\b", text) or kind == "amount":
        return "value", 1
    return None, 1


def column_kind(
    name: str, stats: Mapping[str, Any] | None = None, *, role: str | None = None
) -> ColumnKind:
    """The kind, signal, label and unit of a numeric feature (see the module docstring).

    Parameters
    ----------
    name : str
        The column name.
    stats : mapping, optional
        ``min``, ``max``, ``mean``, ``std`` and ``quantiles`` (the 0, 10, ..., 100th
        percentiles) over the fitted customers: the model's record of the feature.
        Without it only the name is read.
    role : str, optional
        The column's role (``flag``, ``code``, ...) when it is known.
    """
    stats = stats or {}
    words, unit, bounds = _words(name.partition("=")[0] if "=" in name else name)
    text = " ".join(w.lower() for w in words)
    if "=" in name:
        text = f"{text}={name.partition('=')[2].lower()}"
    money_unit = re.search(r"[$€£]|\b(usd|eur|gbp)\b", unit.lower())
    kind, reason = _kind(text, stats, role)
    if kind == "number" and money_unit:
        kind, reason = "money", "the unit is a currency"
    signal, direction = _signal(text, kind)
    return ColumnKind(name, kind, signal, direction, humanise(name), unit, bounds, reason)


def column_kinds(
    records: Sequence[Mapping[str, Any]], roles: Mapping[str, str] | None = None
) -> list[ColumnKind]:
    """:func:`column_kind` of each feature record (``name`` plus the statistics).

    Labels are distinct where the names allow it: a column whose short label is
    another's, or ends another's ("charges" beside "monthly charges"), keeps its
    leading "total" or "average" (see :func:`humanise`).
    """
    roles = roles or {}
    kinds = [column_kind(str(r["name"]), r, role=roles.get(str(r["name"]))) for r in records]
    labels = [k.label for k in kinds]
    out = []
    for i, k in enumerate(kinds):
        others = labels[:i] + labels[i + 1 :]
        # "charges" beside "monthly charges" needs its "total" as much as a twin does.
        if any(m == k.label or m.endswith(" " + k.label) for m in others):
            k = replace(k, label=humanise(k.name, full=True))
        out.append(k)
    return out
