"""Extreme customers: Tukey's far-out fences in the transformed, scaled space.

A wholesale client buying ten times more fresh food than anyone else, or an
income typed as 666,666, is not a segment. Left in, K-Means gives such a
customer a centre of its own (a "segment" of one, perfectly stable since it is
alone again in every resample) and the other customers share what is left.

The rule
--------
After the log transform of skewed columns (:mod:`custseg.features.transform`)
and scaling, for each numeric feature with quartiles q1 and q3 and spread
``s = q3 - q1``, a customer is an **outlier** when on some feature it lies
beyond Tukey's *far-out* fences::

    value < q1 - 3 s    or    value > q3 + 3 s

(Tukey 1977; the inner fences at 1.5 s mark "outside" values, the outer fences
at 3 s "far out" ones). On a log scale 3 s above q3 is a factor of about 110
above the median for a log-normal column with sigma = 1, and a normal column
passes it once in a million customers, so only customers out of reach of
everyone else are flagged. When more than half the customers share one value
(q1 = q3: no cash advance at all), that value says nothing about the others:
the upper fence comes from the quartiles of the customers above it, the lower
fence from those below it, each as a group of its own. Indicators of
categories, codes and flags have no fence.

A fence only marks *a few* customers: when more than :data:`MAX_OUTLIER_SHARE`
(1%) of the customers lie beyond it, they are a group — a tail mode, such as the
big spenders of a two-humped column, which may well make a segment — and the
rule is applied again within that group, with its own quartiles (at most
:data:`MAX_TAIL_ROUNDS` times; then that side has no fence). So an untransformed
money column, where 5% of the customers lie beyond the first fence, still has
its truly extreme few flagged, and a compact second hump has none. 1% is also
the smallest segment shown (``min_segment_share``).

What happens to them
--------------------
Outliers are left out when K is chosen and the segments are fitted, then
assigned to their **nearest segment** like every other customer, and flagged
``outlier = True`` in ``segments.csv``. Every customer keeps a segment a CRM
can act on, and no segment is built around a few extreme customers. The
fences are stored in ``model.json``, so ``custseg score`` and the API flag new
customers by the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from custseg.features.parallel import map_in_order

__all__ = [
    "FENCE_SPREADS",
    "MAX_OUTLIER_SHARE",
    "MAX_TAIL_ROUNDS",
    "OUTLIER_RULE",
    "OutlierFences",
    "any_beyond",
    "beyond_counts",
    "fit_fences",
]

#: Tukey's far-out fence: this many spreads beyond the quartiles.
FENCE_SPREADS = 3.0
#: Beyond a fence, at most this share of the customers: more are a group, fenced again.
MAX_OUTLIER_SHARE = 0.01
#: Times the fence is applied again within a tail group before that side goes unfenced.
MAX_TAIL_ROUNDS = 3
OUTLIER_RULE = (
    "beyond Tukey's far-out fence (3 interquartile ranges outside the quartiles) on some "
    "feature, after the log transform and scaling, with at most 1% of the customers beyond "
    "it (more are a group, fenced again within it); assigned to the nearest segment"
)


@dataclass(frozen=True)
class OutlierFences:
    """Per-feature fences in the scaled space; infinite where a feature has none.

    Attributes
    ----------
    low, high : ndarray of shape (n_features,)
    """

    low: np.ndarray
    high: np.ndarray

    def beyond(self, Z: np.ndarray) -> np.ndarray:
        """Boolean array of shape (n_rows, n_features): the value is beyond a fence."""
        return np.less(Z, self.low) | np.greater(Z, self.high)  # NaN compares False

    def flag(self, Z: np.ndarray) -> np.ndarray:
        """Boolean array of shape (n_rows,): the customer is an outlier."""
        return any_beyond(self.beyond(Z))

    @property
    def any(self) -> bool:
        return bool(np.isfinite(self.low).any() or np.isfinite(self.high).any())

    def to_dict(self) -> dict[str, Any]:
        def side(values: np.ndarray) -> list[float | None]:
            return [float(v) if np.isfinite(v) else None for v in values]

        return {"rule": OUTLIER_RULE, "low": side(self.low), "high": side(self.high)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutlierFences:
        def side(values: list, fill: float) -> np.ndarray:
            return np.array([fill if v is None else float(v) for v in values], dtype="float64")

        return cls(side(data["low"], -np.inf), side(data["high"], np.inf))

    @classmethod
    def none(cls, n_features: int) -> OutlierFences:
        """No fence on any feature."""
        return cls(np.full(n_features, -np.inf), np.full(n_features, np.inf))


def any_beyond(beyond: np.ndarray) -> np.ndarray:
    """``beyond.any(axis=1)``: the row crosses some fence (see :meth:`OutlierFences.beyond`)."""
    # Feature by feature: numpy's any() along each short row is several times
    # slower on many rows than or-ing a few columns.
    flags = np.zeros(len(beyond), dtype=bool)
    for column in beyond.T:
        flags |= column
    return flags


def beyond_counts(beyond: np.ndarray) -> np.ndarray:
    """``beyond.sum(axis=0)``: customers beyond a fence, per feature, counted column by column."""
    return np.array([np.count_nonzero(column) for column in beyond.T], dtype=np.int64)


def _tukey(values: np.ndarray) -> tuple[float, float]:
    """Far-out fences from the quartiles of ``values``; infinite when they coincide."""
    if len(values) < 4:
        return -np.inf, np.inf
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = q3 - q1
    if not spread > 0:
        return -np.inf, np.inf
    # A hair wider than 3 spreads: a whole-number column often has values exactly on the
    # fence, which rounding in the scaled space must not push beyond it.
    reach = FENCE_SPREADS * spread * (1 + 1e-9)
    return q1 - reach, q3 + reach


def _settle(values: np.ndarray, fence: float, side: int, limit: float) -> float:
    """Move a fence out while more than ``limit`` customers lie beyond it (see the rule)."""
    for _ in range(MAX_TAIL_ROUNDS + 1):
        if not np.isfinite(fence):
            return fence
        tail = values[values > fence] if side > 0 else values[values < fence]
        if len(tail) <= limit:
            return fence
        fence = _tukey(tail)[1 if side > 0 else 0]
    return side * np.inf


def _fence(values: np.ndarray) -> tuple[float, float]:
    low, high = _tukey(values)
    if not np.isfinite(low):  # most customers share one value: each side on its own
        mode = np.median(values)
        low = _tukey(values[values < mode])[0]
        high = _tukey(values[values > mode])[1]
    limit = MAX_OUTLIER_SHARE * len(values)
    return _settle(values, low, -1, limit), _settle(values, high, 1, limit)


def fit_fences(Z: np.ndarray, eligible: list[bool] | None = None) -> OutlierFences:
    """Tukey's far-out fences of every eligible feature (the rule of the module docstring).

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Transformed, scaled features of the customers, without NaN.
    eligible : list of bool, optional
        False for features without a fence (indicators). Default: every feature.

    Returns
    -------
    OutlierFences
    """
    n_features = Z.shape[1]
    fences = OutlierFences.none(n_features)
    if not len(Z):
        return fences
    fenced = [j for j in range(n_features) if eligible is None or eligible[j]]
    # Column by column, two at a time: each fence is the one a loop would find.
    sides = map_in_order(lambda j: _fence(np.ascontiguousarray(Z[:, j])), fenced)
    for j, (low, high) in zip(fenced, sides, strict=True):
        fences.low[j], fences.high[j] = low, high
    return fences
