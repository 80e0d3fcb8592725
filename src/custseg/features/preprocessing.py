"""Scaling, as plain parameters that a model file can carry.

scikit-learn's scalers fit the parameters; custseg stores them as numbers
(``center`` and ``scale`` per feature) and applies ``(x - center) / scale``
itself, so that a saved model scores new rows with exactly the arithmetic used
in training, without pickling a scikit-learn object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from custseg.errors import InputError
from custseg.features.columns import column_mean_std
from custseg.features.transform import log_transform, log_untransform

__all__ = [
    "SCALINGS",
    "ColumnStatistics",
    "Scaler",
    "check_choice",
    "fit_scaler",
    "scaler_from_statistics",
]

SCALINGS = ("standard", "robust", "minmax", "none")


@dataclass(frozen=True)
class Scaler:
    """Per-feature scaling ``(t(x) - center) / scale``, ``t`` the log transform of skewed columns.

    ``t`` is :func:`custseg.features.transform.log_transform` with ``log_units``
    (the identity where a unit is 0, or everywhere when ``log_units`` is None).
    Every path that scales customers (scoring, serving, drift, continuity, the
    chunked and Spark engines) goes through :meth:`transform`, so the log
    transform is applied wherever the scaling is.

    Attributes
    ----------
    method : str
        One of :data:`SCALINGS`.
    center : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
        Never zero: a constant feature keeps scale 1.
    log_units : ndarray of shape (n_features,), optional
        The unit ``u`` of ``sign(x) log(1 + |x| / u)`` per feature; 0 = not transformed.
    """

    method: str
    center: np.ndarray
    scale: np.ndarray
    log_units: np.ndarray | None = None

    @property
    def has_log(self) -> bool:
        return self.log_units is not None and bool((self.log_units > 0).any())

    def with_log(self, log_units: np.ndarray | None) -> Scaler:
        """This scaling after the log transform with ``log_units`` (None or all 0: none)."""
        keep = log_units is not None and bool((np.asarray(log_units) > 0).any())
        return dataclasses.replace(self, log_units=np.asarray(log_units) if keep else None)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Transform and scale ``X`` of shape (n_rows, n_features)."""
        if self.log_units is not None and self.has_log:
            out = log_transform(X, self.log_units)
            out -= self.center
        else:
            out = X - self.center
        out /= self.scale  # in place: one full-size array instead of two
        return out

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Map scaled values back to original units."""
        T = Z * self.scale + self.center
        if self.log_units is not None and self.has_log:
            return log_untransform(T, self.log_units)
        return T

    def to_dict(self) -> dict:
        """The affine part; the model file keeps ``log_units`` in its own block."""
        return {
            "method": self.method,
            "center": [float(v) for v in self.center],
            "scale": [float(v) for v in self.scale],
        }

    @classmethod
    def from_dict(cls, data: dict, log_units: np.ndarray | None = None) -> Scaler:
        return cls(
            method=str(data["method"]),
            center=np.asarray(data["center"], dtype="float64"),
            scale=np.asarray(data["scale"], dtype="float64"),
        ).with_log(log_units)


def check_choice(value: str, choices: Sequence[str], parameter: str) -> str:
    """Validate an option against its allowed values, naming the parameter."""
    if value not in choices:
        raise InputError(
            f"{parameter} must be one of {', '.join(choices)}; got {value!r}",
            parameters=(parameter,),
        )
    return value


@dataclass(frozen=True)
class ColumnStatistics:
    """Per-feature statistics of the fitting rows, from which a scaler is built.

    A backend fills in what its scaling needs, computed however it can (all rows
    in memory, streamed batches, Spark aggregates); :func:`scaler_from_statistics`
    builds the scaler from them in one way.

    Attributes
    ----------
    n_features : int
    mean, std : ndarray of shape (n_features,), optional
        ``std`` is the population standard deviation (scikit-learn's StandardScaler).
    minimum, maximum : ndarray of shape (n_features,), optional
    median, iqr : ndarray of shape (n_features,), optional
        The robust scaler's centre and interquartile range (scikit-learn's RobustScaler).
    """

    n_features: int
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    minimum: np.ndarray | None = None
    maximum: np.ndarray | None = None
    median: np.ndarray | None = None
    iqr: np.ndarray | None = None

    @classmethod
    def of(cls, X: np.ndarray, method: str) -> ColumnStatistics:
        """What scaling ``method`` needs, computed on complete rows ``X`` in memory."""
        n_features = X.shape[1]
        if method == "standard":
            # StandardScaler's definition (population standard deviation): NumPy's
            # mean and std, without its per-batch bookkeeping.
            mean, std = column_mean_std(X)
            return cls(n_features, mean=mean, std=std)
        if method == "minmax":
            return cls(n_features, minimum=np.nanmin(X, axis=0), maximum=np.nanmax(X, axis=0))
        if method == "robust":
            from sklearn.preprocessing import RobustScaler  # scikit-learn only where it is used

            fitted = RobustScaler().fit(X)
            return cls(n_features, median=fitted.center_, iqr=fitted.scale_)
        return cls(n_features)


def scaler_from_statistics(method: str, stats: ColumnStatistics) -> Scaler:
    """Build the scaler of ``method`` from per-feature statistics.

    Parameters
    ----------
    method : {"standard", "robust", "minmax", "none"}
        ``standard`` centres on the mean and divides by the population standard
        deviation; ``robust`` uses the median and the interquartile range;
        ``minmax`` maps each feature onto [0, 1]; ``none`` leaves values as they are.
    stats : ColumnStatistics
        With the fields ``method`` needs.

    Returns
    -------
    Scaler
        A zero scale (a constant feature) becomes 1.
    """
    d = stats.n_features
    if method == "none":
        return Scaler(method, np.zeros(d), np.ones(d))
    if method == "standard":
        center, scale = stats.mean, stats.std
    elif method == "minmax":
        center, scale = stats.minimum, _difference(stats.maximum, stats.minimum)
    else:
        center, scale = stats.median, stats.iqr
    if center is None or scale is None:
        raise ValueError(f"the statistics lack what {method!r} scaling needs")
    scale = np.where(np.asarray(scale) == 0, 1.0, scale)
    return Scaler(method, np.asarray(center, dtype="float64"), np.asarray(scale, dtype="float64"))


def _difference(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return None if a is None or b is None else a - b


def fit_scaler(
    X: np.ndarray, method: str = "standard", *, log_units: np.ndarray | None = None
) -> Scaler:
    """Fit a scaler on complete rows in memory.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Feature values in original units, without NaN.
    method : {"standard", "robust", "minmax", "none"}, default="standard"
        See :func:`scaler_from_statistics`.
    log_units : ndarray of shape (n_features,), optional
        Log-transform the columns with a unit above 0 first
        (:func:`custseg.features.transform.log_transform`); the scaler keeps the units.

    Returns
    -------
    Scaler
    """
    check_choice(method, SCALINGS, "scaling")
    if log_units is not None and (np.asarray(log_units) > 0).any():
        X = log_transform(X, log_units)
    return scaler_from_statistics(method, ColumnStatistics.of(X, method)).with_log(log_units)
