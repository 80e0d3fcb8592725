"""The engine contract and the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from custseg.errors import InputError

__all__ = ["Engine", "Fitted", "available_engines", "get_engine", "nearest_center", "register"]

_REGISTRY: dict[str, type[Engine]] = {}


@dataclass
class Fitted:
    """What an engine learnt.

    Attributes
    ----------
    labels : ndarray of shape (n_rows,)
        Segment of each training row, 0..n_segments-1; -1 for noise (density engines).
    centers : ndarray of shape (n_segments, n_features)
        One centre per segment, in the scaled feature space.
    state : dict
        JSON-serialisable extra state the engine needs to predict (empty for
        centroid engines).
    """

    labels: np.ndarray
    centers: np.ndarray
    state: dict[str, Any] = field(default_factory=dict)


def nearest_center(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and Euclidean distance to the nearest centre for each row.

    Ties go to the lowest index, so the result is deterministic.
    """
    # Computed directly (not through the expanded dot-product form) so that training
    # and scoring give bit-identical distances whatever the batch size.
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1)
    return labels, np.sqrt(d2[np.arange(len(X)), labels])


class Engine:
    """Base class: fit on scaled data, predict by the nearest centre.

    Subclasses set ``name`` and implement :meth:`fit`; engines whose model has a
    native rule (mixture probabilities, say) override :meth:`predict`.
    """

    name: ClassVar[str] = ""
    #: Whether the number of segments is an input (False for density engines).
    needs_k: ClassVar[bool] = True

    def fit(self, X: np.ndarray, n_clusters: int, *, random_state: int) -> Fitted:
        raise NotImplementedError

    def predict(
        self, X: np.ndarray, centers: np.ndarray, state: dict[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return labels and any extra per-row columns (e.g. probabilities)."""
        labels, _ = nearest_center(X, centers)
        return labels, {}

    def reorder(self, state: dict[str, Any], order: list[int]) -> dict[str, Any]:
        """Renumber segment-indexed state: new segment ``i`` is old segment ``order[i]``."""
        return state


def register(cls: type[Engine]) -> type[Engine]:
    """Class decorator adding an engine to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_engines() -> list[str]:
    """Names of the registered engines, sorted."""
    return sorted(_REGISTRY)


def get_engine(name: str) -> Engine:
    """Instantiate the engine registered under ``name``.

    Raises
    ------
    InputError
        Unknown name; the message lists the valid ones.
    """
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise InputError(
            f"unknown algorithm {name!r}; choose from: {', '.join(available_engines())}"
        ) from None
