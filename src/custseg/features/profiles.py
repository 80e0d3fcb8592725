"""Per-segment profiles and the names derived from them.

The naming rule
---------------
Each feature gets a z-score per segment: the segment mean minus the population
mean, divided by the population standard deviation. A feature *describes* a
segment when ``|z| >= 0.5`` (half a standard deviation) or, for money, counts
and other amounts (:data:`custseg.features.kinds.RATIO_KINDS`), when the
segment mean is at most half or at least twice the overall mean: such columns
are skewed, a few large customers inflate their standard deviation, and a
segment spending half the average is not "Average".

A describing feature's word depends on what the column is
(:func:`custseg.features.kinds.column_kind`):

* most columns: "High X" / "Low X", "Very high" / "Very low" from ``|z| >= 1.5``,
  with X the column in words (:func:`feature_label`: "spending score", "wine spend");
* age: "Young" / "Older", "Very young" / "Much older" from ``|z| >= 1.5``; a year of
  birth the other way round; recency: "Recent" / "Lapsed"; tenure: "New" /
  "Long-standing"; days between purchases: "Frequent buyers" / "Infrequent buyers"
  ("Very infrequent buyers" from ``|z| >= 1.5``);
* a 0/1 flag, by the segment's share of customers with it: "All X" (100% when
  rounded), "Nearly all X" (90% or more), "Mostly X" (half or more), else "More X";
  "Fewer X" below the average ("No X" when the share rounds to 0%). A flag that says
  who a customer is reads in the plural: "All senior citizens";
* a category named in ``--features`` (one indicator per value), the same way, with the
  value in words (:func:`custseg.features.kinds.category_phrase`): "Mostly
  month-to-month contract", and in the plural after "More", "Fewer" and "No": "More
  two-year contracts";
* a code (region 1/2/3) never names a segment: its mean is not a quantity;
* a vocabulary word where one is given (keyed by column name or label).

A name joins the words of the two strongest describing features, in the
table's column order, with " · ", e.g. "High income · Low spending score". A
segment no feature describes is named by the (up to two) features it leans on
(``|z| >= 0.2``: "Above-average grocery", or "Closer to recent" where a vocabulary word
is given); one that leans on nothing is "Average".

Names are distinct and never differ only by a number. When two segments share
a name, each takes its next strongest describing feature (up to three words);
then features that lean one way without describing (``|z| >= 0.2``: "Above-average
X", "Below-average X"); if the names still collide, the colliding segments are
told apart by the feature on which they differ most ("higher X" / "lower X").
Only identical profiles are left with "(2)", "(3)", ... Names that differ only by
a level ("High X" and "Very high X", "Lapsed" and "Long lapsed") take their next
describing feature, where they have one; so do "More X" and "Mostly X". The rule uses
only the profile, so it is deterministic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.features.columns import column_mean, column_mean_std
from custseg.features.kinds import ColumnKind, category_phrase, column_kind, humanise, people
from custseg.features.parallel import map_in_order

__all__ = [
    "DEFAULT_VOCABULARY",
    "DESCRIBE_RATIO",
    "DESCRIBE_Z",
    "LEAN_Z",
    "MAX_TERMS",
    "NONE_SHARE",
    "SHARE_WORDS",
    "STRONG_Z",
    "describe_strength",
    "distinct_labels",
    "feature_label",
    "name_segments",
    "profile_segments",
    "term_claims",
    "term_word",
]

DESCRIBE_Z = 0.5
STRONG_Z = 1.5
#: Below DESCRIBE_Z, a feature still *leans* one way from here; used only to break ties.
LEAN_Z = 0.2
#: A ratio kind describes a segment at or beyond this factor from the overall mean.
DESCRIBE_RATIO = 2.0
MAX_TERMS = 2
#: Words a name may take before colliding names are told apart by comparison.
MAX_NAME_TERMS = 3

#: Words for the low and high side of well-known features, keyed by lower-case label.
DEFAULT_VOCABULARY: dict[str, tuple[str, str]] = {
    "age": ("Young", "Older"),
}
#: A flag's word by the segment's share of customers with it, highest first. "All" and
#: "No" only where the share reads 100% and 0% when rounded to a whole percent.
SHARE_WORDS: tuple[tuple[float, str], ...] = (
    (0.995, "All"),
    (0.9, "Nearly all"),
    (0.5, "Mostly"),
)
NONE_SHARE = 0.005
#: Words per column kind: (low, high, very low, very high).
_KIND_WORDS: dict[str, tuple[str, str, str, str]] = {
    "age": ("Young", "Older", "Very young", "Much older"),
    "birth year": ("Older", "Young", "Much older", "Very young"),
    "recency": ("Recent", "Lapsed", "Very recent", "Long lapsed"),
    "tenure": ("New", "Long-standing", "Very new", "Very long-standing"),
}


def feature_label(name: str) -> str:
    """Short lower-case label of a column name (see :func:`custseg.features.kinds.humanise`).

    ``"Annual Income (k$)"`` → ``"income"``; ``"Spending Score (1-100)"`` → ``"spending score"``.
    """
    return humanise(name)


def profile_segments(
    X: np.ndarray,
    labels: np.ndarray,
    features: list[str],
    *,
    z_values: np.ndarray | None = None,
) -> pd.DataFrame:
    """Size, share, mean, median and z-score of each feature per segment.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Feature values in original units, rows used for fitting only.
    labels : ndarray of shape (n_rows,)
        Segment ids; negative ids (noise) get their own row too.
    features : list of str
    z_values : ndarray of shape (n_rows, n_features), optional
        The values the z-scores are taken on, when not ``X`` itself: the
        log-transformed values of skewed columns (means and medians stay in ``X``'s
        units).

    Returns
    -------
    DataFrame
        Indexed by segment id (ascending); columns ``size``, ``share`` and, per
        feature, ``mean:<f>``, ``median:<f>``, ``z:<f>``.
    """
    V = X if z_values is None else z_values
    overall_mean, overall_std = column_mean_std(V)
    overall_std = np.where(overall_std == 0, 1.0, overall_std)

    def profile(seg: int) -> dict[str, float]:
        members = labels == seg
        # compress gives X[members] (same rows, order and layout) without the fancy-index path.
        part = X.compress(members, axis=0)
        row: dict[str, float] = {"size": len(part), "share": len(part) / len(X)}
        means = column_mean(part)
        # Column by column: the same middle values as along axis 0, without its strided sort.
        medians = [np.median(part[:, j]) for j in range(part.shape[1])]
        v_means = means if V is X else column_mean(V.compress(members, axis=0))
        z = (v_means - overall_mean) / overall_std
        for j, f in enumerate(features):
            row[f"mean:{f}"] = float(means[j])
            row[f"median:{f}"] = float(medians[j])
            row[f"z:{f}"] = float(z[j])
        return row

    segments = [int(seg) for seg in distinct_labels(labels)]
    # Segment by segment, two at a time: each sum is the one a loop would take.
    rows = dict(zip(segments, map_in_order(profile, segments), strict=True))
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "segment"
    return frame


def distinct_labels(labels: np.ndarray) -> np.ndarray:
    """The distinct labels, ascending (noise's -1 included): ``np.unique(labels)``, usually
    without a sort.

    Integer labels spanning a range no longer than the rows are counted (a pass over
    the rows) instead of sorted.

    Parameters
    ----------
    labels : ndarray of shape (n_rows,)

    Returns
    -------
    ndarray of the labels' dtype
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or not len(labels):
        return np.unique(labels)
    low, high = int(labels.min()), int(labels.max())
    if high - low > len(labels):
        return np.unique(labels)
    present = np.bincount(labels - low, minlength=high - low + 1) > 0
    return (np.flatnonzero(present) + low).astype(labels.dtype)


def _interval_noun(label: str) -> str:
    """Who a gap between events describes: "buyers" for purchases, "visitors" for visits."""
    if re.search(r"\b(purchases?|orders?|transactions?)\b", label):
        return "buyers"
    return "visitors" if re.search(r"\bvisits?\b", label) else ""


def _interval_word(label: str, z: float) -> str:
    """Many days between purchases: "Infrequent buyers"; leaning only: "Less frequent"."""
    if abs(z) < DESCRIBE_Z:
        word = "Less frequent" if z > 0 else "More frequent"
    else:
        word = "infrequent" if z > 0 else "frequent"
        word = f"Very {word}" if abs(z) >= STRONG_Z else word.capitalize()
    return f"{word} {_interval_noun(label)}".strip()


def _share_word(kind: ColumnKind, high: bool, share: float | None) -> str:
    """ "All X" / "Nearly all X" / "Mostly X" / "More X"; "Fewer X" / "No X" (by the share).

    A category takes its plural after "More", "Fewer" and "No": "Mostly month-to-month
    contract", "More two-year contracts".
    """
    label = people(kind.label)
    column, sep, category = kind.name.partition("=")
    many = category_phrase(column, category, plural=True) if sep else label
    if high:
        for least, word in SHARE_WORDS:
            if share is not None and share >= least:
                return f"{word} {label}"
        return f"More {many}"
    return f"No {many}" if share is not None and share < NONE_SHARE else f"Fewer {many}"


def term_word(
    feature: str,
    z: float,
    vocabulary: Mapping[str, tuple[str, str]] | None = None,
    *,
    kind: ColumnKind | None = None,
    share: float | None = None,
) -> str:
    """The word a feature gives a name at z-score ``z`` (see the module docstring).

    Parameters
    ----------
    feature : str
    z : float
        Its size picks the level: from :data:`STRONG_Z` "Very", from
        :data:`DESCRIBE_Z` plain, below that "Above-average" / "Below-average".
    vocabulary : mapping, optional
        (low, high) words keyed by column name or label; they win over the kind's
        words and :data:`DEFAULT_VOCABULARY`.
    kind : ColumnKind, optional
        Default: read from the name alone.
    share : float, optional
        For a flag: the segment's share of customers with the flag set.
    """
    kind = kind or column_kind(feature)
    label = kind.label
    high = z > 0
    given = vocabulary or {}
    if kind.kind == "flag" and not given.get(feature):
        return _share_word(kind, high, share)
    if kind.kind == "interval" and not (given.get(feature) or given.get(label)):
        return _interval_word(label, z)
    words = given.get(feature) or given.get(label)
    if abs(z) < DESCRIBE_Z:
        # A given word names what the column means ("Recent" for few days since the
        # last purchase); "below-average recency days" would say the opposite.
        if words is not None:
            word = words[1] if high else words[0]
            return f"Closer to {word[0].lower()}{word[1:]}"
        return f"{'Above' if high else 'Below'}-average {label}"
    strong = abs(z) >= STRONG_Z
    if words is not None:
        return words[1] if high else words[0]
    if kind.kind in _KIND_WORDS:
        low_w, high_w, very_low, very_high = _KIND_WORDS[kind.kind]
        return (very_high if strong else high_w) if high else (very_low if strong else low_w)
    words = DEFAULT_VOCABULARY.get(label)
    if words is not None:
        return words[1] if high else words[0]
    level = ("Very high" if strong else "High") if high else ("Very low" if strong else "Low")
    return f"{level} {label}"


def term_claims(
    feature: str,
    vocabulary: Mapping[str, tuple[str, str]] | None = None,
    *,
    kind: ColumnKind | None = None,
) -> dict[str, float]:
    """Every word :func:`term_word` can write for a feature → the z it claims.

    Weakest level first, so a word shared by two levels claims the weaker one.
    Used to check whether an old name still fits a new profile.
    """
    kind = kind or column_kind(feature)
    claims: dict[str, float] = {}
    for z in (-LEAN_Z, LEAN_Z, -DESCRIBE_Z, DESCRIBE_Z, -STRONG_Z, STRONG_Z):
        claims.setdefault(term_word(feature, z, vocabulary, kind=kind), z)
    if kind.kind == "flag":
        shares = [(least, DESCRIBE_Z) for least, _ in SHARE_WORDS] + [(0.0, -DESCRIBE_Z)]
        for share, z in shares:
            claims.setdefault(term_word(feature, z, vocabulary, kind=kind, share=share), z)
    return claims


def describe_strength(kind: ColumnKind, z: float, value: float, overall: float) -> float:
    """How strongly a feature describes a segment, on the z scale (see the module docstring).

    ``|z|``, raised to :data:`DESCRIBE_Z` when an amount (a ratio kind) is at most half
    or at least twice its overall mean; 0 for a code. A feature describes the segment
    when this is at least :data:`DESCRIBE_Z`.
    """
    if kind.kind == "code" or not math.isfinite(z):
        return 0.0
    strength = abs(z)
    if kind.is_ratio and overall > 0 and value >= 0:
        ratio = value / overall
        if ratio >= DESCRIBE_RATIO or ratio <= 1 / DESCRIBE_RATIO:
            strength = max(strength, DESCRIBE_Z)
    return strength


def _strengths(
    z: np.ndarray,
    kinds: Sequence[ColumnKind],
    means: np.ndarray | None,
    overall: np.ndarray | None,
) -> np.ndarray:
    """Per segment and feature, :func:`describe_strength`."""
    strength = np.zeros_like(z)
    for i, j in np.ndindex(*z.shape):
        value = float(means[i, j]) if means is not None else math.nan
        mean = float(overall[j]) if overall is not None else math.nan
        strength[i, j] = describe_strength(kinds[j], float(z[i, j]), value, mean)
    return strength


@dataclass
class _Namer:
    """The state of naming one model's segments (see the module docstring)."""

    z: np.ndarray
    features: list[str]
    kinds: list[ColumnKind]
    vocabulary: dict[str, tuple[str, str]]
    means: np.ndarray | None
    strength: np.ndarray

    def order(self, i: int) -> list[int]:
        """Features by how well they describe segment ``i``: describing, then leaning."""
        s = self.strength[i]
        ranked = [int(j) for j in np.argsort(-s, kind="stable") if s[j] >= LEAN_Z]
        ranked = self.one_per_column(i, ranked)
        return [j for j in ranked if s[j] >= DESCRIBE_Z] + [
            j for j in ranked if LEAN_Z <= s[j] < DESCRIBE_Z
        ]

    def one_per_column(self, i: int, ranked: list[int]) -> list[int]:
        """One indicator per column, its most over-represented value.

        "Mostly channel 1 · No channel 2" says one thing twice: "Mostly channel 1".
        """
        best: dict[str, int] = {}
        for j in ranked:
            column, sep, _ = self.features[j].partition("=")
            if sep and (column not in best or self.z[i, j] > self.z[i, best[column]]):
                best[column] = j
        return [j for j in ranked if best.get(self.features[j].partition("=")[0], j) == j]

    def word(self, i: int, j: int) -> str:
        z = float(np.nan_to_num(self.z[i, j]))
        if self.strength[i, j] >= DESCRIBE_Z and abs(z) < DESCRIBE_Z:
            z = float(np.copysign(DESCRIBE_Z, z))  # described by its ratio to the mean
        share = None if self.means is None else float(self.means[i, j])
        return term_word(self.features[j], z, self.vocabulary, kind=self.kinds[j], share=share)

    def describing(self, i: int) -> int:
        return int((self.strength[i] >= DESCRIBE_Z).sum())

    def base_terms(self, i: int) -> int:
        """Words a name takes before any clash: the describing features, else the leaning."""
        return min(MAX_TERMS, self.describing(i) or len(self.order(i)))

    def name(self, i: int, n_terms: int) -> str:
        """The name from the ``n_terms`` strongest features, in column order."""
        chosen = sorted(self.order(i)[:n_terms])
        return " · ".join(self.word(i, j) for j in chosen) or "Average"

    def stem(self, name: str) -> str:
        """A name without its levels: "Very high X" and "High X" read as one name."""
        words = []
        for word in name.lower().split(" · "):
            for pattern, plain in _LEVELS:
                word = pattern.sub(plain, word)
            words.append(word)
        return " · ".join(words)


def _clashes(names: list[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(n, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


_ORDINALS = ("", "second-", "third-", "fourth-", "fifth-")
#: Levels of a word (and plurals), dropped when names are compared for near-duplicates.
_LEVELS = (
    (re.compile(r"^(very|much) "), ""),
    (re.compile(r"^(all|nearly all|more) "), "mostly "),
    (re.compile(r"s\b"), ""),  # "more two-year contracts" is "mostly two-year contract"
    (re.compile(r"^long (?=lapsed)"), ""),
    (re.compile(r"^above-average "), "high "),
    (re.compile(r"^below-average "), "low "),
)


def _rank_word(rank: int, n: int) -> str:
    """'lower'/'higher' for two; 'lowest', 'second-lowest', ..., 'highest' for more."""
    if n == 2:
        return "higher" if rank else "lower"
    if rank == n - 1:
        return "highest"
    return (_ORDINALS[rank] if rank < len(_ORDINALS) else f"{rank + 1}th-") + "lowest"


def _compare(namer: _Namer, group: list[int], names: list[str]) -> None:
    """Tell colliding segments apart by the feature on which they differ most."""
    spread = np.nan_to_num(namer.z[group].max(axis=0) - namer.z[group].min(axis=0))
    spread[[k.kind == "code" for k in namer.kinds]] = -1.0
    j = int(np.argmax(spread))
    if spread[j] <= 0:
        for rank, i in enumerate(group[1:], start=2):
            names[i] += f" ({rank})"  # identical profiles: nothing else tells them apart
        return
    ordered = sorted(group, key=lambda i: (float(namer.z[i, j]), i))
    for rank, i in enumerate(ordered):
        names[i] += f" ({_rank_word(rank, len(ordered))} {namer.kinds[j].label})"


def name_segments(
    z: np.ndarray,
    features: list[str],
    *,
    vocabulary: Mapping[str, tuple[str, str]] | None = None,
    kinds: Sequence[ColumnKind] | None = None,
    means: np.ndarray | None = None,
    overall: np.ndarray | None = None,
) -> list[str]:
    """Distinct, human-readable names for segments from their profiles.

    Parameters
    ----------
    z : ndarray of shape (n_segments, n_features)
        z-score of each feature's segment mean; rows in segment-id order, which is
        also size order (largest first).
    features : list of str
    vocabulary : mapping, optional
        Words for the low and high side of features, keyed by column name or by
        :func:`feature_label`; they win over the words of the rule.
    kinds : sequence of ColumnKind, optional
        What each feature measures (:func:`custseg.features.kinds.column_kinds`);
        default: read from the names alone.
    means : ndarray of shape (n_segments, n_features), optional
        Segment means in original units: flag shares and ratios to the mean.
    overall : ndarray of shape (n_features,), optional
        Overall means in original units; with ``means``, enables the ratio rule.

    Returns
    -------
    list of str
        One name per segment, all distinct.
    """
    z = np.asarray(z, dtype="float64").reshape(len(z), len(features))
    kinds = list(kinds) if kinds is not None else [column_kind(f) for f in features]
    namer = _Namer(
        z,
        features,
        kinds,
        dict(vocabulary or {}),
        means,
        _strengths(z, kinds, means, overall),
    )
    n_terms = [namer.base_terms(i) for i in range(len(z))]
    names = [namer.name(i, n_terms[i]) for i in range(len(z))]
    for _ in range(MAX_NAME_TERMS):
        grown = False
        for group in _clashes(names):
            for i in group:
                if n_terms[i] < min(MAX_NAME_TERMS, len(namer.order(i))):
                    n_terms[i] += 1
                    names[i] = namer.name(i, n_terms[i])
                    grown = True
        if not grown:
            break
    for i in range(len(names)):
        # A name grown for a clash that the other names' growth resolved shrinks back,
        # unless the shorter name would fit another segment as well.
        while n_terms[i] > namer.base_terms(i):
            n = n_terms[i] - 1
            shorter = namer.name(i, n)
            if shorter in names or any(
                namer.name(k, n) == shorter for k in range(len(names)) if k != i
            ):
                break
            n_terms[i] = n
            names[i] = shorter
    _near_duplicates(namer, names, n_terms)
    for group in _clashes(names):
        _compare(namer, group, names)
    return names


def _near_duplicates(namer: _Namer, names: list[str], n_terms: list[int]) -> None:
    """Names that differ only by a level ("High X" / "Very high X") take one more word.

    Only a describing feature is added: the levels already tell the segments apart on
    their own features, and "Older" and "Much older" stay as they are.
    """
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(namer.stem(n), []).append(i)
    for group in groups.values():
        if len(group) < 2:
            continue
        for i in group:
            if n_terms[i] < min(MAX_NAME_TERMS, namer.describing(i)):
                n_terms[i] += 1
                names[i] = namer.name(i, n_terms[i])
