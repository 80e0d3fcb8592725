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
means 62% women). Names read the share as a flag's ("Mostly month-to-month
contract", "More two-year contracts"; :mod:`custseg.features.profiles`) when it
stands out by half a standard deviation or more.

Scoring new customers recomputes the indicators from the original column: a
category unseen in training gets 0 in every indicator.

Codes and flags
---------------
A *code* column (a few whole numbers that label: Channel 1/2, Region 1/2/3; see
:mod:`custseg.features.roles`) named in ``--features`` is encoded exactly like a
categorical column, one indicator per code ("Region=3"). A *flag* (0/1, yes/no)
becomes one indicator under its own name, 1 for yes: its segment mean is the
share of customers with the flag set, and it carries the same half weight as a
categorical column (a lone indicator divided by ``sqrt(2 p (1 - p))``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from custseg.features.preprocessing import Scaler
from custseg.features.roles import NA_TOKENS, YES_NO, TableSchema, refuse_first_bad

__all__ = [
    "CATEGORICAL_VARIANCE",
    "SEPARATOR",
    "annotate_categoricals",
    "expand_categoricals",
    "flag_column",
    "indicator_column",
    "weight_categoricals",
]

SEPARATOR = "="
CATEGORICAL_VARIANCE = 0.5
#: Roles encoded as one indicator per value.
CATEGORY_ROLES = ("categorical", "code")
_YES = frozenset({"1", *(pair[0] for pair in YES_NO)})
_NO = frozenset({"0", *(pair[1] for pair in YES_NO)})


def _clean(col: pd.Series) -> pd.Series:
    text = col.astype("string").str.strip()
    return text.where(~text.isin(NA_TOKENS) & text.notna(), None)


def indicator_column(frame: pd.DataFrame, source: str, category: str) -> np.ndarray:
    """1.0 where ``frame[source]`` is ``category``, 0.0 elsewhere, NaN where missing."""
    text = _clean(frame[source])
    out = (text == category).astype("float64").to_numpy(na_value=np.nan)
    return np.where(text.isna().to_numpy(), np.nan, out)


def flag_column(frame: pd.DataFrame, source: str, *, where: str = "input") -> np.ndarray:
    """1.0 where ``frame[source]`` says yes (1, yes, y, true, t), 0.0 for no, NaN if missing.

    Raises
    ------
    SchemaError
        A value is neither yes nor no; the message names the column, row and value.
    """
    text = _clean(frame[source])
    lower = text.str.lower()
    number = pd.to_numeric(lower, errors="coerce")
    yes = (lower.isin(_YES) | (number == 1)).to_numpy(dtype=bool, na_value=False)
    no = (lower.isin(_NO) | (number == 0)).to_numpy(dtype=bool, na_value=False)
    missing = text.isna().to_numpy()
    refuse_first_bad(
        ~(yes | no | missing),
        frame[source],
        lambda value, row: (
            f"column '{source}' in {where} is a flag (0/1 or yes/no); found {value!r} at row "
            f"{row}. Write 0/1 or yes/no, or leave the column out of --features"
        ),
    )
    return np.where(missing, np.nan, yes.astype("float64"))


def _as_text(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), "", np.where(values == 1, "1", "0"))


def expand_categoricals(
    frame: pd.DataFrame, features: list[str], schema: TableSchema
) -> tuple[pd.DataFrame, list[str], dict[str, dict[str, str]]]:
    """Replace each categorical or code feature by its indicators, and read flags as 0/1.

    Parameters
    ----------
    frame : DataFrame
        The input table (text columns).
    features : list of str
        Chosen feature columns.
    schema : TableSchema
        Column roles; features whose role is ``categorical`` or ``code`` are
        expanded, ``flag`` features become one indicator each.

    Returns
    -------
    frame : DataFrame
        ``frame`` itself when nothing is categorical or a flag, else a copy with
        the indicator columns added (or, for a flag, replaced) as text ("1" / "0" / "").
    features : list of str
        Categorical names replaced, in place, by ``"<column>=<category>"`` names;
        flags keep their name.
    specs : dict
        Indicator name → ``{"source": column, "category": value, "role": role}``
        (no ``category`` for a flag).
    """
    encoded = [f for f in features if schema[f].role in (*CATEGORY_ROLES, "flag")]
    if not encoded:
        return frame, features, {}
    frame = frame.copy()
    specs: dict[str, dict[str, str]] = {}
    expanded: list[str] = []
    for f in features:
        role = schema[f].role
        if f not in encoded:
            expanded.append(f)
        elif role == "flag":
            frame[f] = _as_text(flag_column(frame, f))
            specs[f] = {"source": f, "role": role}
            expanded.append(f)
        else:
            for cat in sorted(_clean(frame[f]).dropna().unique().tolist()):
                name = f"{f}{SEPARATOR}{cat}"
                frame[name] = _as_text(indicator_column(frame, f, cat))
                specs[name] = {"source": f, "category": str(cat), "role": role}
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
    return dataclasses.replace(scaler, center=center, scale=scale)


def annotate_categoricals(
    feature_meta: list[dict[str, Any]], specs: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Mark indicator features in the model's feature list.

    Kind ``category`` (with ``source`` and ``category``) for a categorical or code
    indicator, kind ``flag`` (with ``source``) for a flag.
    """
    for meta in feature_meta:
        spec = specs.get(meta["name"])
        if spec is None:
            continue
        meta["source"] = spec["source"]
        if spec.get("role") == "flag":
            meta["kind"] = "flag"
        else:
            meta["kind"] = "category"
            meta["category"] = spec["category"]
    return feature_meta
