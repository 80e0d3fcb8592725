"""The prepare stage in memory: read → roles → features → parse → missing → transform
→ scale → outlier fences.

:func:`prepare` turns a table into the scaled matrix a model is fitted on, and
keeps every intermediate the later stages and ``summary.json`` need
(:class:`Prepared`). Each step is a call to a function that the chunked and
Spark backends share (feature choice, missing-value policy, scaler
construction, the transform and outlier rules); only the in-memory arithmetic
is here. The transform and the outlier fences are decided on the fitting rows,
after the missing-value policy: both are quantile rules that need every value.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.errors import DataWarning, EmptyInputError
from custseg.features.encoding import expand_categoricals, weight_categoricals
from custseg.features.large import count_distinct_rows, detect_roles_fast, feature_matrix, is_large
from custseg.features.missing import (
    MissingCounts,
    apply_missing_policy,
    fitting_rows,
    impute_values,
)
from custseg.features.outliers import OutlierFences, any_beyond, fit_fences
from custseg.features.preprocessing import Scaler, fit_scaler
from custseg.features.roles import TableSchema, detect_roles
from custseg.features.selection import choose_features, drop_constant_features, require_features
from custseg.features.transform import TransformChoice, choose_transform
from custseg.io import read_table
from custseg.options import SegmentOptions
from custseg.progress import ProgressFn, emit
from custseg.segmentation.sampling import canonical_order, take_rows

__all__ = ["MIN_ROWS", "Prepared", "in_canonical_order", "prepare", "read_input"]

#: Fewest usable rows a segmentation accepts.
MIN_ROWS = 3


@dataclass
class Prepared:
    """The table, ready to fit, and what was decided on the way.

    Attributes
    ----------
    frame : DataFrame
        The input table as read (original columns, unchanged).
    source : str
        The input's name, for messages and ``summary.json``.
    schema : TableSchema
        Column roles.
    features : list of str
        Feature names after categorical expansion and constant features left out.
    skipped : list of dict
        Columns not used as features, with the reason.
    categories : dict
        Indicator feature → its source column and category
        (:func:`custseg.features.encoding.expand_categoricals`).
    X_all : ndarray of shape (n_rows, n_features)
        Every row's features in original units, NaN where missing.
    missing : MissingCounts
    fit_rows : ndarray of bool, shape (n_rows,)
        The rows the model is fitted on.
    fill : ndarray of shape (n_features,)
        Imputation values (medians).
    X_fit : ndarray of shape (n_fit, n_features)
        The fitting rows, missing values filled.
    n_distinct : int
        Distinct fitting rows; exact up to ``max(k, k_max)``, a lower bound above.
    scaler : Scaler
        With the log transform of skewed columns (:mod:`custseg.features.transform`).
    Z : ndarray of shape (n_fit, n_features)
        ``X_fit`` transformed and scaled.
    transform : TransformChoice
        Which features are on a log scale, and why.
    fences : OutlierFences
        The outlier fences (:mod:`custseg.features.outliers`), in the scaled space.
    beyond : ndarray of bool, shape (n_fit, n_features)
        Which fence each fitting row crosses; see :attr:`outlier` and :attr:`Z_core`.
    fit_order : ndarray of int, shape (n_fit,)
        :func:`~custseg.segmentation.sampling.canonical_order` of ``X_fit``.
    X_fit_ordered : ndarray of shape (n_fit, n_features), optional
        ``X_fit``'s rows in ``fit_order``, when already gathered (the scaler is
        fitted on them): :func:`in_canonical_order` need not gather them again.
    """

    frame: pd.DataFrame
    source: str
    schema: TableSchema
    features: list[str]
    skipped: list[dict[str, Any]]
    categories: dict[str, dict[str, str]]
    X_all: np.ndarray = field(repr=False)
    missing: MissingCounts
    fit_rows: np.ndarray = field(repr=False)
    fill: np.ndarray
    X_fit: np.ndarray = field(repr=False)
    n_distinct: int
    scaler: Scaler
    Z: np.ndarray = field(repr=False)
    transform: TransformChoice
    fences: OutlierFences
    beyond: np.ndarray = field(repr=False)
    fit_order: np.ndarray = field(repr=False)
    X_fit_ordered: np.ndarray | None = field(default=None, repr=False)

    # Cached: the stages ask for them several times, each a pass over every row.
    # The matrices are never changed in place (a reordering makes a new Prepared).
    @functools.cached_property
    def outlier(self) -> np.ndarray:
        """Boolean array of shape (n_fit,): the fitting row is an outlier."""
        return any_beyond(self.beyond)

    @functools.cached_property
    def Z_core(self) -> np.ndarray:
        """The rows segments are fitted on: ``Z`` without the outliers (``Z`` itself if none)."""
        outlier = self.outlier
        return self.Z[~outlier] if outlier.any() else self.Z


def read_input(
    data: pd.DataFrame | str | Path, progress: ProgressFn | None = None
) -> tuple[pd.DataFrame, str]:
    """The table and its name: a path is read, a DataFrame taken with text column names.

    Raises
    ------
    InputError
        An unreadable file (see :func:`custseg.io.read_table`), or no rows.
    """
    if isinstance(data, str | Path):
        emit(progress, "reading", 0)
        frame = read_table(data)
        emit(progress, "reading", len(frame), len(frame))
        return frame, str(data)
    frame = data.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0:
        raise EmptyInputError("the input table has no rows; add customer rows")
    return frame, str(frame.attrs.get("source", "input"))


def prepare(
    frame: pd.DataFrame,
    options: SegmentOptions,
    *,
    source: str,
    default_features: Sequence[str] | None = None,
) -> Prepared:
    """Roles, features, parsing, missing values and scaling of a table in memory.

    Parameters
    ----------
    frame : DataFrame
        The table as read.
    options : SegmentOptions
    source : str
        The input's name.
    default_features : sequence of str, optional
        Features to use when ``options.features`` is None (a previous run's).

    Returns
    -------
    Prepared

    Raises
    ------
    InputError
        No usable feature, a value that is not a number, a missing value with
        ``missing="error"``, fewer than :data:`MIN_ROWS` usable rows.
    """
    detect = detect_roles_fast if is_large(frame) else detect_roles
    schema = detect(frame, id_column=options.id_column)
    features, skipped = choose_features(frame, schema, options.features or default_features)
    require_features(features, schema, source)
    frame_x, features, categories = expand_categoricals(frame, features, schema)
    # Arrow-parsed when large, column-major as drop_constant_features returns it.
    X_all = feature_matrix(frame_x, features, source=source, order="F")
    X_all, features = drop_constant_features(X_all, features, skipped, source)

    is_missing = np.isnan(X_all)
    missing = MissingCounts.of(is_missing, features)
    apply_missing_policy(options.missing, missing, source)
    # Statistics summed in an order fixed by the values: the same customers in any
    # order get the same scaler to the last bit, and so the same scaled rows. The
    # rows are put in that order in a thread while the fill values, the distinct
    # rows and the transform are found here, none of which depends on the rows'
    # order; with nothing missing the fitting rows are every row, known already.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="custseg-order") as pool:
        complete = missing.rows_with_missing == 0
        ordering = pool.submit(_canonical_rows, X_all) if complete else None
        fill = impute_values(X_all)
        X_fit, fit_rows = fitting_rows(X_all, options.missing, fill, is_missing)
        require_rows(len(X_fit), source)
        n_distinct = count_distinct_rows(X_fit, at_least=max(options.k or 0, options.k_max))
        warn_duplicate_ids(frame, schema)
        ordering = ordering or pool.submit(_canonical_rows, X_fit)
        # Skewed columns on a log scale; indicators (categories, codes, flags) as they are.
        eligible = [f not in categories for f in features]
        transform = choose_transform(X_fit, features, mode=options.transform, eligible=eligible)
        fit_order, X_canonical = ordering.result()
    scaler = fit_scaler(X_canonical, options.scaling, log_units=transform.units)
    scaler = weight_categoricals(scaler, X_canonical, features, categories)
    Z = scaler.transform(X_fit)
    fences = fit_fences(Z, eligible)
    beyond = fences.beyond(Z)
    return Prepared(
        frame=frame,
        source=source,
        schema=schema,
        features=features,
        skipped=skipped,
        categories=categories,
        X_all=X_all,
        missing=missing,
        fit_rows=fit_rows,
        fill=fill,
        X_fit=X_fit,
        n_distinct=n_distinct,
        scaler=scaler,
        Z=Z,
        transform=transform,
        fences=fences,
        beyond=beyond,
        fit_order=fit_order,
        X_fit_ordered=X_canonical,
    )


def _canonical_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~custseg.segmentation.sampling.canonical_order` of ``X``, and its rows in it."""
    order = canonical_order(X)
    return order, take_rows(X, order)


def in_canonical_order(prep: Prepared) -> tuple[Prepared, np.ndarray]:
    """The prepared table with its rows in an order fixed by their feature values.

    Every stage after this one fits, resamples and sums in this order, so the
    same customers in any order give the same segments, ids and figures to the
    bit. Rows with the same feature values are interchangeable: their relative
    order changes nothing.

    Returns
    -------
    Prepared
        ``X_all``, ``fit_rows``, ``X_fit``, ``Z`` and ``beyond`` reordered;
        ``frame`` stays as read (the output table keeps the input's order).
    order : ndarray of int
        ``order[i]`` is the input row now at position ``i``; ``argsort(order)``
        puts a result back in the input's order.
    """
    if prep.X_fit is prep.X_all:  # nothing missing: the fitting rows' order is it
        order = fit_order = prep.fit_order
    else:  # values are the parsed numbers of the file, NaN where missing
        order = canonical_order(prep.X_all)
        fit_index = np.cumsum(prep.fit_rows) - 1  # input row -> its row of X_fit
        fit_order = fit_index[order][prep.fit_rows[order]]
    if fit_order is prep.fit_order and prep.X_fit_ordered is not None:
        X_fit = prep.X_fit_ordered  # gathered once already, to fit the scaler
    else:
        X_fit = take_rows(prep.X_fit, fit_order)
    # Scaling and the fences are element-wise: scaling the reordered rows gives the
    # reordered Z to the bit, and comparing it the reordered flags, faster than
    # gathering their rows.
    Z = prep.scaler.transform(X_fit)
    reordered = dataclasses.replace(
        prep,
        X_all=X_fit if prep.X_fit is prep.X_all else take_rows(prep.X_all, order),
        fit_rows=prep.fit_rows[order],
        X_fit=X_fit,
        Z=Z,
        beyond=prep.fences.beyond(Z),
        fit_order=np.arange(len(fit_order)),
        X_fit_ordered=X_fit,
    )
    return reordered, order


def require_rows(n_rows: int, source: str) -> None:
    """Refuse fewer than :data:`MIN_ROWS` usable rows."""
    if n_rows < MIN_ROWS:
        raise EmptyInputError(
            f"only {n_rows} usable row(s) in {source}; segmentation needs at least {MIN_ROWS} "
            "(check the missing values, or pass missing='impute')"
        )


def warn_duplicate_ids(frame: pd.DataFrame, schema: TableSchema) -> None:
    """Warn when the ID column repeats a value; every row is still segmented."""
    id_col = schema.id_column
    if id_col is None:
        return
    # From the role counts (trimmed, missing left out): no second pass over IDs.
    dupes = len(frame) - schema[id_col].missing - schema[id_col].distinct
    if dupes:
        warnings.warn(
            f"ID column '{id_col}' has {dupes} duplicate value(s); every row is still segmented",
            DataWarning,
            stacklevel=3,
        )
