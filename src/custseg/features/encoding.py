"""Categorical features (e.g. Gender) named in ``--features``.

The encoding
------------
A categorical column with categories c1..cm becomes m indicator features named
``"<column>=<category>"`` (1 when the customer is in the category, 0 otherwise,
missing when the value is missing). They are scaled so that **together they
carry half the variance of one standardised numeric feature**: each indicator
is centred on its share ``p`` and divided by ``sqrt(2 * sum_c p_c (1 - p_c))``.
Left unweighted, a clean two-value split like Gender is exactly the kind of
gap K-Means loves to cut along, so it would dominate the segments; at half
weight it shapes them without taking over. (Two customers of different
genders, 50/50, are then sqrt(2) ≈ 1.4 scaled units apart on that column —
about what 1.4 standard deviations of age would add.) The weight does not
depend on ``--scaling``.

Profiles report, per segment, the mean of each indicator — that is the
*share* of the category in the segment (``mean`` of ``Gender=Female`` = 0.62
means 62% women). Names use "More <category>" / "Fewer <category>" when a
segment's share stands out by half a standard deviation or more.

Scoring new customers recomputes the indicators from the original column: a
category unseen in training gets 0 in every indicator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custseg.features.preprocessing import Scaler
from custseg.features.roles import NA_TOKENS, TableSchema

__all__ = [
    "CATEGORICAL_VARIANCE",
    "SEPARATOR",
    "annotate_categoricals",
    "category_words",
    "expand_categoricals",
    "indicator_column",
    "weight_categoricals",
]

SEPARATOR = "="
CATEGORICAL_VARIANCE = 0.5


def _clean(col: pd.Series) -> pd.Series:
    text = col.astype("string").str.strip()
    return text.where(~text.isin(NA_TOKENS) & text.notna(), None)


def indicator_column(frame: pd.DataFrame, source: str, category: str) -> np.ndarray:
    """1.0 where ``frame[source]`` is ``category``, 0.0 elsewhere, NaN where missing."""
    text = _clean(frame[source])
    out = (text == category).astype("float64").to_numpy(na_value=np.nan)
    return np.where(text.isna().to_numpy(), np.nan, out)


def expand_categoricals(
    frame: pd.DataFrame, features: list[str], schema: TableSchema
) -> tuple[pd.DataFrame, list[str], dict[str, dict[str, str]]]:
    """Replace each categorical feature by its indicator features.

    Parameters
    ----------
    frame : DataFrame
        The input table (text columns).
    features : list of str
        Chosen feature columns.
    schema : TableSchema
        Column roles; features whose role is ``categorical`` are expanded.

    Returns
    -------
    frame : DataFrame
        ``frame`` itself when nothing is categorical, else a copy with the
        indicator columns added as text ("1" / "0" / "").
    features : list of str
        Categorical names replaced, in place, by ``"<column>=<category>"`` names.
    specs : dict
        Indicator name → ``{"source": column, "category": value}``.
    """
    categorical = [f for f in features if schema[f].role == "categorical"]
    if not categorical:
        return frame, features, {}
    frame = frame.copy()
    specs: dict[str, dict[str, str]] = {}
    expanded: list[str] = []
    for f in features:
        if f not in categorical:
            expanded.append(f)
            continue
        categories = sorted(_clean(frame[f]).dropna().unique().tolist())
        for cat in categories:
            name = f"{f}{SEPARATOR}{cat}"
            values = indicator_column(frame, f, cat)
            frame[name] = np.where(np.isnan(values), "", np.where(values == 1, "1", "0"))
            specs[name] = {"source": f, "category": str(cat)}
            expanded.append(name)
    return frame, expanded, specs


def weight_categoricals(
    scaler: Scaler, X: np.ndarray, features: list[str], specs: dict[str, dict[str, str]]
) -> Scaler:
    """Rescale the indicator columns by the rule in the module docstring.

    Parameters
    ----------
    scaler : Scaler
        As fitted on every feature.
    X : ndarray of shape (n_rows, n_features)
        Fitted rows, original units (indicators 0/1, missing values imputed).
    features : list of str
    specs : dict
        From :func:`expand_categoricals`.
    """
    if not specs:
        return scaler
    center = scaler.center.copy()
    scale = scaler.scale.copy()
    by_source: dict[str, list[int]] = {}
    for j, f in enumerate(features):
        if f in specs:
            by_source.setdefault(specs[f]["source"], []).append(j)
    for cols in by_source.values():
        p = X[:, cols].mean(axis=0)
        total = float((p * (1 - p)).sum())
        divisor = np.sqrt(total / CATEGORICAL_VARIANCE) if total > 0 else 1.0
        center[cols] = p
        scale[cols] = divisor
    return Scaler(scaler.method, center, scale)


def annotate_categoricals(
    feature_meta: list[dict[str, Any]], specs: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Mark indicator features in the model's feature list (kind ``category``)."""
    for meta in feature_meta:
        spec = specs.get(meta["name"])
        if spec is not None:
            meta["kind"] = "category"
            meta["source"] = spec["source"]
            meta["category"] = spec["category"]
    return feature_meta


def category_words(specs: dict[str, dict[str, str]]) -> dict[str, tuple[str, str]]:
    """Naming words for indicator features: ("Fewer <category>", "More <category>")."""
    return {name: (f"Fewer {s['category']}", f"More {s['category']}") for name, s in specs.items()}
