"""Per-segment profiles and the names derived from them.

The naming rule
---------------
Each feature gets a z-score per segment: the segment mean minus the population
mean, divided by the population standard deviation. A feature *describes* a
segment when ``|z| >= 0.5`` (half a standard deviation); its word is "High X" /
"Low X" ("Very high" / "Very low" from ``|z| >= 1.5``), or a vocabulary word where
one exists (``Age`` → "Young" / "Older"). A name joins the words of the two
strongest describing features, in the table's column order, with " · ", e.g.
"High income · Low spending". A segment no feature describes is "Average".

Names must be distinct within a model. When two segments share a name, the
colliding segments take their third, fourth, ... strongest feature until the
names differ; if they still collide, the smaller segments get " 2", " 3", ...
in size order. The rule uses only the profile, so it is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_VOCABULARY",
    "feature_label",
    "name_segments",
    "profile_segments",
    "summary_segments",
]

DESCRIBE_Z = 0.5
STRONG_Z = 1.5
MAX_TERMS = 2

#: Words for the low and high side of well-known features, keyed by lower-case label.
DEFAULT_VOCABULARY: dict[str, tuple[str, str]] = {
    "age": ("Young", "Older"),
}

_FILLER = {"annual", "score", "total", "amount", "value", "the", "of"}


def feature_label(name: str) -> str:
    """Short lower-case label of a column name: units and filler words dropped.

    ``"Annual Income (k$)"`` → ``"income"``; ``"Spending Score (1-100)"`` → ``"spending"``.
    """
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", name)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    words = [w for w in re.split(r"[^0-9A-Za-z]+", text.lower()) if w]
    kept = [w for w in words if w not in _FILLER] or words or [name.lower()]
    return " ".join(kept)


def profile_segments(X: np.ndarray, labels: np.ndarray, features: list[str]) -> pd.DataFrame:
    """Size, share, mean, median and z-score of each feature per segment.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Feature values in original units, rows used for fitting only.
    labels : ndarray of shape (n_rows,)
        Segment ids; negative ids (noise) get their own row too.
    features : list of str

    Returns
    -------
    DataFrame
        Indexed by segment id (ascending); columns ``size``, ``share`` and, per
        feature, ``mean:<f>``, ``median:<f>``, ``z:<f>``.
    """
    overall_mean = X.mean(axis=0)
    overall_std = X.std(axis=0)
    overall_std = np.where(overall_std == 0, 1.0, overall_std)
    rows = {}
    for seg in np.unique(labels):
        part = X[labels == seg]
        row: dict[str, float] = {"size": len(part), "share": len(part) / len(X)}
        means = part.mean(axis=0)
        medians = np.median(part, axis=0)
        z = (means - overall_mean) / overall_std
        for j, f in enumerate(features):
            row[f"mean:{f}"] = float(means[j])
            row[f"median:{f}"] = float(medians[j])
            row[f"z:{f}"] = float(z[j])
        rows[int(seg)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "segment"
    return frame


def _word(feature: str, z: float, vocabulary: Mapping[str, tuple[str, str]]) -> str:
    label = feature_label(feature)
    words = vocabulary.get(label) or vocabulary.get(feature)
    if words is not None:
        return words[1] if z > 0 else words[0]
    level = (
        ("Very high" if z >= STRONG_Z else "High")
        if z > 0
        else ("Very low" if z <= -STRONG_Z else "Low")
    )
    return f"{level} {label}"


def _name(z_row: np.ndarray, features: list[str], n_terms: int, vocab) -> str:
    strongest = [
        j for j in np.argsort(-np.abs(z_row), kind="stable") if abs(z_row[j]) >= DESCRIBE_Z
    ]
    chosen = sorted(strongest[:n_terms])
    if not chosen:
        return "Average"
    return " · ".join(_word(features[j], float(z_row[j]), vocab) for j in chosen)


def name_segments(
    z: np.ndarray,
    features: list[str],
    *,
    vocabulary: Mapping[str, tuple[str, str]] | None = None,
) -> list[str]:
    """Distinct, human-readable names for segments from their z-scores.

    Parameters
    ----------
    z : ndarray of shape (n_segments, n_features)
        z-score of each feature's segment mean; rows in segment-id order, which is
        also size order (largest first).
    features : list of str
    vocabulary : mapping, optional
        Extra words for the low and high side of features, keyed by column name or
        by :func:`feature_label`; merged over :data:`DEFAULT_VOCABULARY`.

    Returns
    -------
    list of str
        One name per segment, all distinct.
    """
    vocab = {**DEFAULT_VOCABULARY, **(vocabulary or {})}
    n_terms = [MAX_TERMS] * len(z)
    names = [_name(z[i], features, n_terms[i], vocab) for i in range(len(z))]
    for _ in range(len(features)):
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            break
        for i, n in enumerate(names):
            if n in clashes:
                n_terms[i] += 1
                names[i] = _name(z[i], features, n_terms[i], vocab)
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[i] = f"{n} {seen[n]}"
    return names


def summary_segments(
    features: list[str],
    names: list[str],
    sizes: np.ndarray,
    means: np.ndarray,
    z: np.ndarray,
    X_sample: np.ndarray,
    sample_labels: np.ndarray,
    n_fit: int,
) -> list[dict]:
    """The ``segments`` entries of ``summary.json`` for engines that see the data in parts.

    Sizes, means and z-scores are exact (accumulated over every row); medians come
    from a sample, because an exact median needs every row at once.

    Parameters
    ----------
    features : list of str
    names : list of str
        One name per segment, in id order.
    sizes : ndarray of shape (n_segments,)
    means, z : ndarray of shape (n_segments, n_features)
    X_sample : ndarray of shape (n_sample, n_features)
        Sampled rows in original units.
    sample_labels : ndarray of shape (n_sample,)
    n_fit : int
        Rows fitted; shares are ``sizes / n_fit``.
    """
    entries = []
    for s in range(len(names)):
        part = X_sample[sample_labels == s]
        medians = np.median(part, axis=0) if len(part) else np.full(len(features), np.nan)
        entries.append(
            {
                "id": s,
                "name": names[s],
                "size": int(sizes[s]),
                "share": float(sizes[s] / n_fit),
                "mean": {f: float(means[s, j]) for j, f in enumerate(features)},
                "median": {f: float(medians[j]) for j, f in enumerate(features)},
                "z": {f: float(z[s, j]) for j, f in enumerate(features)},
            }
        )
    return entries
