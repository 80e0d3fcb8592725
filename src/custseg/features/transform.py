"""The log transform of strongly right-skewed columns: money, counts, frequencies.

Spend, balances, order counts and cash advances are piled up near zero with a
long right tail: a few customers spend a hundred times the median. Standardised
as they are, the tail decides everything — K-Means spends its segments on a
handful of big customers and lumps everyone else together. On a log scale a
doubling is the same step wherever it happens (100 → 200 as 1,000 → 2,000),
which is how a marketer compares customers, and the tail comes back in reach.

The rule (``transform="auto"``)
-------------------------------
A numeric feature is transformed when all three hold, over the fitted rows:

1. **(almost) no negative value**: at most :data:`NEGATIVE_SHARE` (1%) of the
   values are below 0 — money with a few refunds, never a balance that swings
   both ways;
2. **strong right skew**: the *quantile skewness*
   ``((q90 - q50) - (q50 - q10)) / (q90 - q10)`` is at least
   :data:`SKEW_THRESHOLD` (0.3). It is 0 for a symmetric column, 1 when the
   whole spread lies above the median; an exponential distribution gives 0.46,
   a log-normal with sigma = 1 gives 0.57, a uniform one 0. Quantiles, not the
   moment skewness, so that one customer with an income of 666,666 does not
   make an otherwise symmetric income column "skewed" (the outlier rule,
   :mod:`custseg.features.outliers`, deals with that customer). When q90 equals
   q10 (most customers share one value, e.g. 0) the 5th/95th, then the
   1st/99th percentiles are used; a column still flat there is not transformed;
3. **a long tail**: the 99th percentile is at least :data:`TAIL_RATIO` (3)
   times the median. A log only changes the picture when values span
   multiples of each other; a count from 0 to 5 is left as it is.

``transform="log"`` transforms every numeric feature that meets rule 1;
``"none"`` transforms nothing. Categories, codes and flags are never transformed.

The transform
-------------
``t = sign(x) log(1 + |x| / u)``, where ``u`` is the median of the column's
positive values: log1p with the column's own unit (and a refund mirrored below
zero). Chosen over Yeo-Johnson because it has no parameter to fit by maximum
likelihood (which one extreme customer can bend, and which chunked and Spark
runs would fit on a sample), because its result reads in words ("each
doubling counts the same"), and because zero stays zero. The unit ``u`` makes
it independent of the unit of the column: income in dollars or in thousands of
dollars, and a frequency between 0 and 1, get the same shape (plain log1p
would leave a 0-1 frequency almost untouched). The transform runs before
scaling, with ``u`` stored in ``model.json``; every scoring path applies it
through :class:`custseg.features.preprocessing.Scaler`. Profiles, names,
personas, the report and drift use the column's own values, never the
transformed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "LOG_TRANSFORM",
    "NEGATIVE_SHARE",
    "QUANTILE_PAIRS",
    "SKEW_THRESHOLD",
    "TAIL_RATIO",
    "TRANSFORMS",
    "TransformChoice",
    "choose_transform",
    "log_transform",
    "log_untransform",
    "quantile_skewness",
]

TRANSFORMS = ("auto", "log", "none")
#: The method name written for the log transform in ``model.json``.
LOG_TRANSFORM = "sign(x) log1p(|x| / unit)"
#: Quantile skewness from which a non-negative column is log-transformed by ``auto``.
SKEW_THRESHOLD = 0.3
#: Largest share of negative values (refunds) in a column the transform may take.
NEGATIVE_SHARE = 0.01
#: The 99th percentile must be at least this many times the median (rule 3).
TAIL_RATIO = 3.0
#: Quantile pairs tried in turn for the skewness: the first with q_high > q_low is used.
QUANTILE_PAIRS = ((0.10, 0.90), (0.05, 0.95), (0.01, 0.99))


def quantile_skewness(values: np.ndarray) -> float | None:
    """``((q_hi - q50) - (q50 - q_lo)) / (q_hi - q_lo)`` for the first pair of
    :data:`QUANTILE_PAIRS` that is not flat; None when every pair is flat.

    Parameters
    ----------
    values : ndarray of shape (n_rows,)
        Without NaN.
    """
    if not len(values):
        return None
    levels = sorted({0.5, *(q for pair in QUANTILE_PAIRS for q in pair)})
    qs = dict(zip(levels, np.quantile(values, levels), strict=True))
    for lo, hi in QUANTILE_PAIRS:
        spread = qs[hi] - qs[lo]
        if spread > 0:
            return float(((qs[hi] - qs[0.5]) - (qs[0.5] - qs[lo])) / spread)
    return None


@dataclass(frozen=True)
class TransformChoice:
    """Which features are log-transformed, with their units and the reasons.

    Attributes
    ----------
    units : ndarray of shape (n_features,)
        ``u`` of ``log(1 + x / u)`` per feature; 0 where the feature is not transformed.
    decisions : list of dict
        Per feature: ``feature``, ``transform`` ("log" or "none"), ``skewness``
        (None when not measured), ``unit`` and ``reason`` in words.
    """

    units: np.ndarray
    decisions: list[dict[str, Any]]

    @property
    def any(self) -> bool:
        return bool((self.units > 0).any())

    @property
    def transformed(self) -> list[str]:
        return [d["feature"] for d in self.decisions if d["transform"] == "log"]


def _decide(values: np.ndarray, mode: str) -> tuple[bool, float | None, str]:
    skew = quantile_skewness(values)
    if mode == "none":
        return False, skew, "no transform asked"
    if not len(values) or not (values > 0).any():
        return False, skew, "no positive value"
    negative = float((values < 0).mean())
    if negative > NEGATIVE_SHARE:
        return False, skew, f"{negative:.0%} of the values are negative"
    if mode == "log":
        return True, skew, "log transform asked for every column without negative values"
    if skew is None:
        return False, skew, "almost every customer has the same value"
    if skew < SKEW_THRESHOLD:
        return False, skew, f"not strongly skewed (quantile skewness {skew:.2f} < {SKEW_THRESHOLD})"
    q50, q99 = np.quantile(values, [0.5, 0.99])
    if q99 < TAIL_RATIO * q50:
        reason = f"skewed ({skew:.2f}) but the top 1% is under {TAIL_RATIO:g} times the median"
        return False, skew, reason
    tail = (
        f"the top 1% at {q99 / q50:.3g} times the median"
        if q50 > 0
        else f"half the customers at {q50:g}, the top 1% from {q99:.3g}"
    )
    return True, skew, f"right-skewed (quantile skewness {skew:.2f} >= {SKEW_THRESHOLD}; {tail})"


def choose_transform(
    X: np.ndarray, features: list[str], *, mode: str = "auto", eligible: list[bool] | None = None
) -> TransformChoice:
    """Decide the log transform of each feature by the rule of the module docstring.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The fitted rows in original units, without NaN.
    features : list of str
    mode : {"auto", "log", "none"}, default="auto"
    eligible : list of bool, optional
        False for features that are never transformed (indicators of categories,
        codes and flags). Default: every feature is eligible.

    Returns
    -------
    TransformChoice
    """
    eligible = eligible if eligible is not None else [True] * len(features)
    units = np.zeros(len(features))
    decisions: list[dict[str, Any]] = []
    for j, name in enumerate(features):
        if not eligible[j]:
            decisions.append(
                {
                    "feature": name,
                    "transform": "none",
                    "skewness": None,
                    "unit": None,
                    "reason": "an indicator (category, code or flag)",
                }
            )
            continue
        values = np.ascontiguousarray(X[:, j])
        log, skew, reason = _decide(values, mode)
        if log:
            units[j] = float(np.median(values[values > 0]))
        decisions.append(
            {
                "feature": name,
                "transform": "log" if log else "none",
                "skewness": skew,
                "unit": float(units[j]) if log else None,
                "reason": reason,
            }
        )
    return TransformChoice(units, decisions)


def log_transform(X: np.ndarray, units: np.ndarray) -> np.ndarray:
    """``sign(x) log(1 + |x| / u)`` in the columns with ``u > 0``; a new array.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    units : ndarray of shape (n_features,)
        0 for a column that is copied unchanged.
    """
    out = np.array(X, dtype="float64", copy=True)
    for j in np.flatnonzero(units > 0):
        col = out[:, j]
        out[:, j] = np.sign(col) * np.log1p(np.abs(col) / units[j])
    return out


def log_untransform(T: np.ndarray, units: np.ndarray) -> np.ndarray:
    """The inverse of :func:`log_transform`: ``sign(t) u expm1(|t|)``."""
    out = np.array(T, dtype="float64", copy=True)
    for j in np.flatnonzero(units > 0):
        col = out[:, j]
        out[:, j] = np.sign(col) * np.expm1(np.abs(col)) * units[j]
    return out
