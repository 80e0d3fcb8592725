"""HDBSCAN: density-based segments, with customers in no dense region as noise.

HDBSCAN chooses the number of segments itself (``--k`` is ignored) and leaves
customers in sparse regions unassigned: segment ``-1``, named "Unassigned",
which stays in the output.

The scoring rule (HDBSCAN has no native predict)
------------------------------------------------
The model keeps up to 50 *exemplars* per segment: a seeded sample of its
members, in scaled units. A customer takes the segment of the nearest exemplar
when that distance is within the segment's *reach* — the largest distance from
any member to its own segment's nearest exemplar — and is noise (-1) otherwise.
Training rows are labelled by this same rule, so scoring reproduces the labels;
it can move a few of HDBSCAN's border rows into or out of the noise. The share
of rows on which the rule agrees with HDBSCAN is stored as ``agreement``.

``min_cluster_size`` is 2% of the rows, at least 10; ``min_samples`` is
``min(min_cluster_size, 10)``. HDBSCAN is fitted on a seeded sample of at most
20,000 rows. When it finds no dense group at all, every customer is put in one
segment (and the summary's structure check will say so).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from custseg.engines.base import Engine, Fitted, fit_sample, register, squared_distances

__all__ = ["HDBSCANEngine"]

EXEMPLARS = 50


@register
class HDBSCANEngine(Engine):
    """scikit-learn HDBSCAN with a nearest-exemplar scoring rule."""

    name = "hdbscan"
    needs_k = False
    predict_rule = (
        "nearest exemplar, within the segment's reach; beyond every reach: -1 (Unassigned)"
    )
    max_fit_rows = 20_000

    def fit(self, X: np.ndarray, n_clusters: int | None = None, *, random_state: int) -> Fitted:
        from sklearn.cluster import HDBSCAN  # scikit-learn only where a model is fitted

        rows = fit_sample(len(X), self.max_fit_rows, random_state)
        Xs = X if rows is None else X[rows]
        min_cluster_size = max(10, round(0.02 * len(Xs)))
        min_samples = min(min_cluster_size, 10)
        if len(Xs) <= min_cluster_size:
            raw = np.full(len(Xs), -1)
        else:
            raw = HDBSCAN(
                min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True
            ).fit_predict(Xs)
        clusters = [c for c in np.unique(raw) if c >= 0]
        if not clusters:  # no dense group: one segment holding everyone
            raw = np.zeros(len(Xs), dtype="int64")
            clusters = [0]
        rng = np.random.default_rng(random_state)
        centers, exemplars, ex_labels, reach = [], [], [], []
        for new_id, c in enumerate(clusters):
            members = Xs[raw == c]
            centers.append(members.mean(axis=0))
            pick = (
                members
                if len(members) <= EXEMPLARS
                else members[np.sort(rng.choice(len(members), EXEMPLARS, replace=False))]
            )
            exemplars.append(pick)
            ex_labels.extend([new_id] * len(pick))
            d = np.sqrt(((members[:, None, :] - pick[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
            reach.append(float(d.max()))
        state: dict[str, Any] = {
            "exemplars": np.vstack(exemplars).tolist(),
            "exemplar_segments": ex_labels,
            "reach": reach,
            "min_cluster_size": int(min_cluster_size),
            "min_samples": int(min_samples),
        }
        fitted = self.finish(X, np.vstack(centers), state)
        own = fitted.labels if rows is None else fitted.labels[rows]
        mapped = np.full(len(raw), -1)
        for new_id, c in enumerate(clusters):
            mapped[raw == c] = new_id
        fitted.state["agreement"] = float((own == mapped).mean())
        return fitted

    def predict(
        self, X: np.ndarray, centers: np.ndarray, state: dict[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        ex = np.asarray(state["exemplars"], dtype="float64")
        ex_seg = np.asarray(state["exemplar_segments"], dtype="int64")
        reach = np.asarray(state["reach"], dtype="float64")
        labels = np.empty(len(X), dtype="int64")
        for start in range(0, len(X), 20_000):
            part = X[start : start + 20_000]
            d = np.sqrt(squared_distances(part, ex))
            nearest = d.argmin(axis=0)
            seg = ex_seg[nearest]
            within = d[nearest, np.arange(len(part))] <= reach[seg]
            labels[start : start + len(part)] = np.where(within, seg, -1)
        return labels, {}

    def reorder(self, state: dict[str, Any], order: list[int]) -> dict[str, Any]:
        old_to_new = {old: new for new, old in enumerate(order)}
        keep = [i for i, s in enumerate(state["exemplar_segments"]) if s in old_to_new]
        return {
            **state,
            "exemplars": [state["exemplars"][i] for i in keep],
            "exemplar_segments": [old_to_new[state["exemplar_segments"][i]] for i in keep],
            "reach": [state["reach"][i] for i in order],
        }
