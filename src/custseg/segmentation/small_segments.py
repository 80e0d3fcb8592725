"""No segment below a minimum share of the customers, and the outliers' summary.

A segment of a few customers is not something a marketer can act on, and its
statistics (stability included) mean little. Outliers are left out of fitting
(:mod:`custseg.features.outliers`), which removes the usual cause; what is left
is guarded here: after the final fit, a segment holding fewer than
``min_segment_share`` of the customers (1% by default; outliers, assigned to
their nearest segment, count) is **dissolved**: its centre is dropped and its
customers go to their nearest remaining segment, by the model's own scoring
rule. The other centres are kept as fitted (the dissolved segment's customers
took no part in them), so nothing is refitted and the result does not depend on
a second random start. ``summary.json`` says what was dissolved
(``min_segment_share``). Engines that choose their own number of segments
(HDBSCAN) keep theirs: they have their own minimum cluster size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from custseg.features.outliers import beyond_counts

__all__ = [
    "dissolve_small",
    "outlier_record",
    "outlier_summary",
]


def dissolve_small(
    sizes: dict[int, int], *, n_customers: int, min_share: float
) -> tuple[list[int], dict[str, Any]]:
    """The segments to keep, largest first, and the ``min_segment_share`` record.

    Parameters
    ----------
    sizes : dict of int to int
        Customers per segment id (outliers included), in the engine's id order.
    n_customers : int
        Customers the shares are taken over.
    min_share : float
        0 keeps every segment. The largest segment is always kept.

    Returns
    -------
    keep : list of int
        Segment ids, largest first (ties in id order).
    record : dict
        ``share`` (the minimum) and, when segments were dissolved, ``dissolved``
        (their sizes) and ``reason`` in words.
    """
    order = sorted(sizes, key=lambda s: (-sizes[s], s))
    keep = [s for s in order if sizes[s] >= min_share * n_customers] or order[:1]
    record: dict[str, Any] = {"share": min_share}
    gone = [sizes[s] for s in order if s not in keep]
    if gone:
        record["dissolved"] = gone
        listed = ", ".join(str(n) for n in gone)
        record["reason"] = (
            f"{len(gone)} segment(s) of {listed} customer(s), under {min_share:.0%} of "
            f"{n_customers}, dissolved into their nearest segments: {len(keep)} segment(s) kept"
        )
    return keep, record


def outlier_summary(
    flags: np.ndarray,
    beyond: np.ndarray,
    labels: np.ndarray,
    features: list[str],
    rule: str,
) -> dict[str, Any]:
    """The ``outliers`` block of ``summary.json``.

    Parameters
    ----------
    flags : ndarray of bool, shape (n_rows,)
    beyond : ndarray of bool, shape (n_rows, n_features)
        Which fence each customer crosses.
    labels : ndarray of shape (n_rows,)
        The segment each customer was assigned to.
    features : list of str
    rule : str
        The rule in words.

    Returns
    -------
    dict
        ``rule``, ``count``, ``share``, ``by_feature`` (feature -> customers beyond
        its fence, only features with some) and ``by_segment`` (id -> outliers
        assigned to it).
    """
    segs, per = np.unique(labels[flags], return_counts=True)
    return outlier_record(
        rows=len(flags),
        count=int(np.count_nonzero(flags)),
        by_feature=beyond_counts(beyond),
        by_segment=dict(zip(segs, per, strict=True)),
        features=features,
        rule=rule,
    )


def outlier_record(
    *,
    rows: int,
    count: int,
    by_feature: np.ndarray,
    by_segment: dict[Any, Any],
    features: list[str],
    rule: str,
) -> dict[str, Any]:
    """The ``outliers`` block of ``summary.json`` from counts (a backend that streams).

    Parameters
    ----------
    rows : int
        Customers the share is taken over.
    count : int
        Outliers among them.
    by_feature : ndarray of shape (n_features,)
        Customers beyond each feature's fence.
    by_segment : dict
        Segment id -> outliers assigned to it (zeros left out).
    features : list of str
    rule : str

    Returns
    -------
    dict
        As :func:`outlier_summary`.
    """
    return {
        "rule": rule,
        "count": int(count),
        "share": float(count / rows) if rows else 0.0,
        "by_feature": {f: int(n) for f, n in zip(features, by_feature, strict=True) if n},
        "by_segment": {int(s): int(n) for s, n in sorted(by_segment.items()) if n},
    }
