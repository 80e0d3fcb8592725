"""Columns computed from other columns of the same table: a model's output, a score's bands.

Both carry another column's information into the segments a second time, so
neither is a feature by default (docs/real-tables.md):

``prediction``
    A model's output. The name says a model made it ("classifier",
    "regressor"), or says it predicts ("predicted", "probability", "propensity",
    ...) and embeds the name of another column of the table, the column it
    predicts. Bank churners' ``Naive_Bayes_Classifier_Attrition_Flag_...``
    columns are a classifier's probabilities of ``Attrition_Flag``: used as
    features, they split churners from the rest and hide everything else.
``derived``
    A score of another column: the name says score, rating, rank or a quantile
    band, and its order follows another numeric column of the table (Spearman
    rank correlation of at least :data:`SAME_ORDER` in size). An RFM table's
    ``r_score`` beside its ``recency_days``: the same order in five bands. A
    score named after another column whose order it does not follow
    (``Churn_Score`` beside the label ``Churn``) is a ``prediction`` of it.

The rules read names and values only, never the row order. They are pure: the
caller (:func:`custseg.features.roles.detect_roles`) gives each column's name
words and numeric values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "MODEL_WORDS",
    "PREDICTION_WORDS",
    "SAME_ORDER",
    "SCORE_WORDS",
    "derived_roles",
]

#: Name words that say a machine-learning model made the column.
MODEL_WORDS = frozenset({"classifier", "classification", "regressor"})
#: Name words that say the column predicts; with another column's name embedded, a prediction.
PREDICTION_WORDS = frozenset(
    {
        "forecast",
        "likelihood",
        "pred",
        "predicted",
        "prediction",
        "prob",
        "proba",
        "probability",
        "propensity",
    }
)
#: Name words that say the column is a score, a rank or a band of something.
SCORE_WORDS = frozenset({"decile", "quartile", "quintile", "rank", "rating", "score"})
#: A score whose rank correlation with another column is at least this (in size) is its bands.
SAME_ORDER = 0.9
# Names shorter than this are too common to say which column is embedded ("id", "r").
_MIN_EMBEDDED = 3


def _embeds(words: Sequence[str], other: Sequence[str]) -> int | None:
    """Where the words of ``other`` occur, in a row, among ``words``; None when they do not."""
    n = len(other)
    if not n or n >= len(words) or len("".join(other)) < _MIN_EMBEDDED:
        return None
    for start in range(len(words) - n + 1):
        if tuple(words[start : start + n]) == tuple(other):
            return start
    return None


def _prediction(
    name: str, words: Mapping[str, Sequence[str]], predicting: frozenset[str]
) -> str | None:
    """Why ``name`` is a model's output, or None.

    ``predicting``: the name words that, with another column's name embedded, make a
    prediction of it.
    """
    own = words[name]
    model = sorted(MODEL_WORDS.intersection(own))
    predicts = sorted(predicting.intersection(own))
    if not model and not predicts:
        return None
    found = sorted(
        (at, other)
        for other, other_words in words.items()
        if other != name and (at := _embeds(own, other_words)) is not None
    )
    embedded = [other for _, other in found]
    if not model and not (predicts and embedded):
        return None
    said = f"'{(model or predicts)[0]}' in the name"
    if embedded:
        more = f" (and {len(embedded) - 1} more)" if len(embedded) > 1 else ""
        said += f", which names the column '{embedded[0]}'{more}"
    return f"a model's output: {said}; a prediction is not a customer attribute"


def _rank_correlation(a: pd.Series, b: pd.Series) -> float:
    both = a.notna() & b.notna()
    if both.sum() < 3:
        return 0.0
    ra, rb = a[both].rank().to_numpy(), b[both].rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _score_of(
    name: str, others: Sequence[str], values: Callable[[str], pd.Series]
) -> tuple[str, float] | None:
    """The column whose order the score ``name`` follows, with the correlation; or None."""
    best: tuple[str, float] | None = None
    for other in others:
        rho = _rank_correlation(values(name), values(other))
        if abs(rho) >= SAME_ORDER and (best is None or abs(rho) > abs(best[1])):
            best = (other, rho)
    return best


def derived_roles(
    words: Mapping[str, Sequence[str]],
    numeric: Sequence[str],
    values: Callable[[str], pd.Series],
) -> dict[str, tuple[str, str]]:
    """The columns that are a prediction or a score of another column, with the reason.

    Parameters
    ----------
    words : mapping of str to sequence of str
        Every column of the table (in the table's order) with its name in lower-case
        words (``"Total_Trans_Ct"`` → ``("total", "trans", "ct")``).
    numeric : sequence of str
        The numeric columns (role ``numeric``): only these can be a prediction or a score.
    values : callable
        A numeric column's values as a float Series, NaN where missing; called only
        when a column is named like a score.

    Returns
    -------
    dict of str to (role, reason)
        ``("prediction" | "derived", reason)`` for each such column.
    """
    found: dict[str, tuple[str, str]] = {}
    for name in numeric:
        why = _prediction(name, words, PREDICTION_WORDS)
        if why is not None:
            found[name] = ("prediction", why)
    scores = [n for n in numeric if n not in found and SCORE_WORDS.intersection(words[n])]
    # A score is compared with the plain columns only: two scores of one another are kept.
    plain = [n for n in numeric if n not in found and n not in scores]
    for name in scores:
        source = _score_of(name, plain, values)
        if source is not None:
            other, rho = source
            found[name] = (
                "derived",
                f"a score of '{other}' (rank correlation {rho:.2f}): the same order, in bands",
            )
            continue
        # A score named after a column it does not band: a model's score of it
        # ('Churn_Score' beside the label 'Churn').
        why = _prediction(name, words, SCORE_WORDS)
        if why is not None:
            found[name] = ("prediction", why)
    return found
