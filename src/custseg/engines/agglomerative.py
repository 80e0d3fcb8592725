"""Agglomerative clustering with Ward linkage.

Ward has no native way to place a new customer, so custseg uses the **nearest
centroid** rule: each segment's centre is the mean of the rows Ward put in it,
and every customer — training rows included — belongs to the segment of the
nearest centre. Rows Ward placed differently from their nearest centroid
(usually a few on the borders) are reassigned, so that scoring the training data
reproduces the labels exactly. Ward needs memory quadratic in the rows, so it is
fitted on a seeded sample of at most 5,000 rows; the other rows are assigned by
the same rule.
"""

from __future__ import annotations

import numpy as np

from custseg.engines.base import Engine, Fitted, fit_sample, register

__all__ = ["WardEngine"]


@register
class WardEngine(Engine):
    """Ward agglomerative clustering; scores by the nearest Ward centroid."""

    name = "agglomerative"
    predict_rule = "nearest Ward centroid (mean of the rows Ward grouped together)"
    max_fit_rows = 5000

    def fit(self, X: np.ndarray, n_clusters: int, *, random_state: int) -> Fitted:
        from sklearn.cluster import AgglomerativeClustering  # only where a model is fitted

        rows = fit_sample(len(X), self.max_fit_rows, random_state)
        Xs = X if rows is None else X[rows]
        labels = AgglomerativeClustering(n_clusters=n_clusters, linkage="ward").fit_predict(Xs)
        centers = np.vstack([Xs[labels == c].mean(axis=0) for c in range(n_clusters)])
        return self.finish(X, centers)
