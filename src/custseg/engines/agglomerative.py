"""Agglomerative clustering with Ward linkage.

Ward has no native way to place a new customer, so custseg uses the **nearest
centroid** rule: each segment's centre is the mean of the rows Ward put in it,
and every customer — training rows included — belongs to the segment of the
nearest centre. Rows Ward placed differently from their nearest centroid
(usually a few on the borders) are reassigned, so that scoring the training data
reproduces the labels exactly. Ward needs memory quadratic in the rows, so it is
fitted on a seeded sample of at most 5,000 rows; the other rows are assigned by
the same rule.

Fitting several K (:meth:`WardEngine.fit_each`) builds the Ward tree once and
cuts it at every K, as scikit-learn's ``AgglomerativeClustering`` cuts the full
tree it builds for each K on its own: the labels are the same, numbering included.
"""

from __future__ import annotations

import heapq

import numpy as np

from custseg.engines.base import Engine, Fitted, fit_sample, register

__all__ = ["WardEngine"]


def _spans(children: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tree's leaves in dendrogram order, and where each node's leaves start and end.

    Every node's leaves are one contiguous run of that order, so a cut labels its rows
    by slicing. ``children`` is in scikit-learn's ``children_`` form.
    """
    n_leaves = len(children) + 1
    size = np.ones(2 * n_leaves - 1, dtype=np.intp)
    for i, (left, right) in enumerate(children):
        size[n_leaves + i] = size[left] + size[right]
    start = np.zeros_like(size)
    order = np.empty(n_leaves, dtype=np.intp)
    for i in range(len(children) - 1, -1, -1):  # parents before their children
        left, right = children[i]
        start[left] = start[n_leaves + i]
        start[right] = start[left] + size[left]
    leaves = np.arange(n_leaves)
    order[start[leaves]] = leaves
    return order, start, start + size


def _cut(
    children: np.ndarray, spans: tuple[np.ndarray, np.ndarray, np.ndarray], n_clusters: int
) -> np.ndarray:
    """Labels of the full Ward tree cut into ``n_clusters``, numbered as scikit-learn does.

    The ``n_clusters - 1`` last merges are undone, latest first; segment ``i`` is the
    ``i``-th node of the resulting heap (scikit-learn's ``AgglomerativeClustering``).
    """
    n_leaves = len(children) + 1
    nodes = [-(int(max(children[-1])) + 1)]
    for _ in range(n_clusters - 1):
        left, right = children[-nodes[0] - n_leaves]
        heapq.heappush(nodes, -int(left))
        heapq.heappushpop(nodes, -int(right))
    order, start, end = spans
    labels = np.zeros(n_leaves, dtype=np.intp)
    for i, node in enumerate(nodes):
        labels[order[start[-node] : end[-node]]] = i
    return labels


@register
class WardEngine(Engine):
    """Ward agglomerative clustering; scores by the nearest Ward centroid."""

    name = "agglomerative"
    predict_rule = "nearest Ward centroid (mean of the rows Ward grouped together)"
    max_fit_rows = 5000

    def fit(self, X: np.ndarray, n_clusters: int | None, *, random_state: int) -> Fitted:
        n_clusters = self.require_k(n_clusters)
        from sklearn.cluster import AgglomerativeClustering  # only where a model is fitted

        rows = fit_sample(len(X), self.max_fit_rows, random_state)
        Xs = X if rows is None else X[rows]
        labels = AgglomerativeClustering(n_clusters=n_clusters, linkage="ward").fit_predict(Xs)
        return self._from_labels(X, Xs, labels, n_clusters)

    def fit_each(self, X: np.ndarray, ks: list[int], *, random_state: int) -> list[Fitted]:
        """One fit per K from one Ward tree; each equals :meth:`fit` at that K."""
        if len(ks) < 2 or len(X) < 2 or max(ks) > min(len(X), self.max_fit_rows or len(X)):
            return super().fit_each(X, ks, random_state=random_state)  # sklearn's own checks
        from sklearn.cluster import ward_tree  # only where a model is fitted

        rows = fit_sample(len(X), self.max_fit_rows, random_state)
        Xs = X if rows is None else X[rows]
        children = ward_tree(Xs)[0]
        spans = _spans(children)
        return [self._from_labels(X, Xs, _cut(children, spans, k), k) for k in ks]

    def _from_labels(
        self, X: np.ndarray, Xs: np.ndarray, labels: np.ndarray, n_clusters: int
    ) -> Fitted:
        centers = np.vstack([Xs[labels == c].mean(axis=0) for c in range(n_clusters)])
        return self.finish(X, centers)
