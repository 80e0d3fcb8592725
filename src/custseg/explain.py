"""Why a customer is in their segment: the features that decide it.

A nearest-centre model puts a customer in the segment whose centre is nearest in
the scaled space. What decides it is how much nearer that centre is than the
next nearest one, the *runner-up*. With ``z`` the customer's scaled values, ``a``
the own centre and ``b`` the runner-up's:

    d_b² - d_a² = Σ_j [(z_j - b_j)² - (z_j - a_j)²]

so each feature ``j`` contributes its own term ``c_j`` to the lead of the own
centre over the runner-up. A feature with a positive term pulls the customer
towards their segment; a negative one towards the runner-up. ``share`` is each
term as a part of the whole lead (the shares add up to 1). The values are shown
in the features' original units: the customer's, the own centre's and the
runner-up centre's.

Engines that assign by their own rule (mixture probabilities, density reach) may
put a customer in a segment whose centre is not the nearest; the lead is then
negative and the explanation says so. A customer left unassigned (noise) or
unscored, and a model with one segment, get no explanation.

:func:`explain_customers` is pure: the scoring service (``"explain": true``) and
the dashboard's score view both call it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from custseg.engines.base import squared_distances
from custseg.model import SegmentModel

__all__ = ["MIN_SHARE", "explain_customers"]

#: A feature is named in the sentence when it carries at least this part of the lead.
MIN_SHARE = 0.1


def _feature_terms(z: np.ndarray, own: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, float]:
    terms = (z - other) ** 2 - (z - own) ** 2
    return terms, float(terms.sum())


def _number(value: float) -> str:
    """Three significant digits, thousands in full: 83.5, 0.125, 137,500."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _sentence(name: str, items: list[dict[str, Any]], runner_up: str, lead: float) -> str:
    if lead <= 0:
        return (
            f"The model assigns this customer to '{name}' by its own rule although the centre "
            f"of '{runner_up}' is nearer."
        )
    # The features that carry the lead: at least a tenth of it each, three at most.
    pulls = [i for i in items if i["share"] >= MIN_SHARE][:3] or items[:1]
    parts = [
        f"{i['field']} {_number(i['value'])} (this segment {_number(i['segment_center'])}, "
        f"'{runner_up}' {_number(i['runner_up_center'])})"
        for i in pulls
    ]
    return f"Nearer '{name}' than '{runner_up}' because of " + "; ".join(parts) + "."


def explain_customers(
    model: SegmentModel, X: np.ndarray, segments: np.ndarray
) -> list[dict[str, Any] | None]:
    """Why each customer sits in their segment rather than the next nearest one.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        The customers in original units, columns in ``model.feature_names``
        order; a missing value is filled as scoring fills it.
    segments : ndarray of shape (n_rows,)
        Each customer's segment id as scoring gave it; -1 (noise) or a value
        that is not a segment of the model gets no explanation.

    Returns
    -------
    list of dict or None, length n_rows
        None where there is nothing to explain (noise, unscored, one segment).
        Otherwise ``segment`` and ``segment_name``; ``runner_up`` (``segment``,
        ``segment_name``); ``margin`` (``(d_b - d_a) / d_b``, 0 on the border,
        1 on the own centre); ``features``: every feature, the strongest pull
        first, with ``field``, ``value``, ``segment_center``,
        ``runner_up_center`` (original units) and ``share`` of the lead; and
        ``sentence``, the top pulls in words.

    Examples
    --------
    >>> import custseg, numpy as np
    >>> model = custseg.segment(custseg.make_customers(200, random_state=0), k=4).model
    >>> x = np.array([[30.0, 90.0, 85.0]])
    >>> segment = model.predict_matrix(x)["segment"].to_numpy()
    >>> explain_customers(model, x, segment)[0]["features"][0]["field"]  # doctest: +SKIP
    'Spending Score (1-100)'
    """
    X = np.asarray(X, dtype="float64")
    X = np.where(np.isnan(X), model.impute_values, X)
    Z = model.scaler.transform(X)
    ids = model.center_ids
    row_of = {int(sid): r for r, sid in enumerate(ids)}
    centers = model.original_centers()
    names = model.segment_names
    d2 = squared_distances(Z, model.centers) if len(ids) > 1 else None
    out: list[dict[str, Any] | None] = []
    for i, segment in enumerate(np.asarray(segments, dtype="float64")):
        own = row_of.get(int(segment)) if np.isfinite(segment) else None
        if own is None or d2 is None:
            out.append(None)
            continue
        column = d2[:, i].copy()
        column[own] = np.inf
        other = int(column.argmin())
        terms, lead = _feature_terms(Z[i], model.centers[own], model.centers[other])
        shares = terms / lead if lead != 0 else np.zeros_like(terms)
        items: list[dict[str, Any]] = [
            {
                "field": name,
                "value": float(X[i, j]),
                "segment_center": float(centers[own, j]),
                "runner_up_center": float(centers[other, j]),
                "share": float(shares[j]),
            }
            for j, name in enumerate(model.feature_names)
        ]
        items.sort(key=lambda item: -item["share"])
        d_own, d_other = np.sqrt(d2[own, i]), np.sqrt(d2[other, i])
        own_name, other_name = names.get(int(ids[own]), ""), names.get(int(ids[other]), "")
        out.append(
            {
                "segment": int(ids[own]),
                "segment_name": own_name,
                "runner_up": {"segment": int(ids[other]), "segment_name": other_name},
                "margin": float((d_other - d_own) / d_other) if d_other > 0 else 0.0,
                "features": items,
                "sentence": _sentence(own_name, items, other_name, lead),
            }
        )
    return out
