"""Gaussian mixture (full covariances), with per-segment probabilities.

The fitted mixture is stored as plain numbers: component weights (``state``),
means (the centres) and the Cholesky factors of the precision matrices
(``state``). Scoring evaluates the Gaussian log-densities from those numbers
itself, so no scikit-learn object is pickled, and assigns each customer to the
component of highest posterior probability. Extra columns: ``probability_<id>``
for each segment and ``confidence`` (the highest probability).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from custseg.engines.base import Engine, Fitted, register

__all__ = ["GaussianMixtureEngine"]


def _log_joint(X: np.ndarray, centers: np.ndarray, state: dict[str, Any]) -> np.ndarray:
    """log(weight_k) + log N(x | mean_k, cov_k), shape (n_rows, n_components)."""
    weights = np.asarray(state["weights"], dtype="float64")
    prec_chol = np.asarray(state["precisions_cholesky"], dtype="float64")
    n_features = X.shape[1]
    out = np.empty((len(X), len(weights)))
    for k in range(len(weights)):
        y = (X - centers[k]) @ prec_chol[k]
        log_det = np.log(np.diag(prec_chol[k])).sum()
        out[:, k] = -0.5 * (n_features * np.log(2 * np.pi) + (y**2).sum(axis=1)) + log_det
    return out + np.log(weights)


@register
class GaussianMixtureEngine(Engine):
    """scikit-learn GaussianMixture, full covariances, 5 k-means-initialised restarts."""

    name = "gmm"
    mixture = True
    predict_rule = "highest posterior probability under the stored Gaussian mixture"

    def fit(self, X: np.ndarray, n_clusters: int | None, *, random_state: int) -> Fitted:
        n_clusters = self.require_k(n_clusters)
        from sklearn.mixture import GaussianMixture  # scikit-learn only where a model is fitted

        model = GaussianMixture(
            n_components=n_clusters,
            covariance_type="full",
            n_init=5,
            reg_covar=1e-6,
            random_state=random_state,
        )
        model.fit(X)
        state = {
            "covariance_type": "full",
            "weights": [float(w) for w in model.weights_],
            "precisions_cholesky": model.precisions_cholesky_.tolist(),
        }
        return self.finish(X, model.means_, state)

    def predict(
        self, X: np.ndarray, centers: np.ndarray, state: dict[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        from scipy.special import logsumexp  # SciPy only where a mixture scores

        log_joint = _log_joint(X, centers, state)
        post = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
        labels = post.argmax(axis=1)
        columns = {f"probability_{k}": post[:, k] for k in range(post.shape[1])}
        columns["confidence"] = post.max(axis=1)
        return labels.astype("int64"), columns

    def reorder(self, state: dict[str, Any], order: list[int]) -> dict[str, Any]:
        return {
            **state,
            "weights": [state["weights"][i] for i in order],
            "precisions_cholesky": [state["precisions_cholesky"][i] for i in order],
        }

    def bic(self, X: np.ndarray, fitted: Fitted) -> float | None:
        from scipy.special import logsumexp

        n_rows, n_features = X.shape
        n_comp = len(fitted.state["weights"])
        log_lik = float(logsumexp(_log_joint(X, fitted.centers, fitted.state), axis=1).sum())
        n_params = n_comp * (n_features * (n_features + 1) / 2 + n_features) + n_comp - 1
        return -2.0 * log_lik + n_params * np.log(n_rows)
