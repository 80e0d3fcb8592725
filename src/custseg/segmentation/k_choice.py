"""The choose-K stage: which K to try, and the one rule that picks it.

Every backend (in memory, chunked, Spark) takes K from here: given K is checked
against the distinct customer profiles; otherwise the candidates
``k_min..k_max`` are clipped to what the rows can support and
:func:`custseg.segmentation.choose_k.select_k` — the only K rule — chooses on
the scaled rows the backend hands over (all rows in memory, or a seeded sample).
"""

from __future__ import annotations

import warnings

import numpy as np

from custseg.engines import get_engine
from custseg.errors import DataWarning, EmptyInputError
from custseg.options import SegmentOptions
from custseg.progress import ProgressFn, emit
from custseg.segmentation.choose_k import KSelection, select_k

__all__ = ["ROWS_PER_SEGMENT", "candidate_ks", "check_given_k", "choose_k", "k_limit"]

#: A table supports at most one segment per this many rows (see :func:`k_limit`).
ROWS_PER_SEGMENT = 10


def check_given_k(k: int | None, n_distinct: int, source: str) -> None:
    """Refuse a given K above the number of distinct customer profiles."""
    if k is not None and k > n_distinct:
        raise EmptyInputError(
            f"k={k} is larger than the {n_distinct} distinct customer profile(s) in "
            f"{source}; choose k={n_distinct} or fewer"
        )


def k_limit(k_min: int, n_distinct: int, n_rows: int) -> int:
    """The largest K a table supports: one segment per :data:`ROWS_PER_SEGMENT` rows.

    Never below ``k_min`` (a small table still gets its smallest K tried), and
    always below the distinct customer profiles and the rows.
    """
    return min(max(k_min, n_rows // ROWS_PER_SEGMENT), n_distinct - 1, n_rows - 1)


def candidate_ks(options: SegmentOptions, n_distinct: int, n_rows: int, source: str) -> list[int]:
    """``k_min..k_max``, clipped to :func:`k_limit` with a warning.

    Raises
    ------
    EmptyInputError
        Fewer distinct profiles than ``k_min`` needs.
    """
    limit = k_limit(options.k_min, n_distinct, n_rows)
    if limit < options.k_min:
        raise EmptyInputError(
            f"{source} has {n_distinct} distinct customer profile(s), too few to try K from "
            f"k_min={options.k_min}; give a smaller k",
            parameters=("k",),
        )
    if options.k_max > limit:
        why = (
            f"{n_distinct} distinct customer profiles allow at most {limit} segments"
            if limit == n_distinct - 1
            else f"{n_rows} rows support at most {limit} segments, one per {ROWS_PER_SEGMENT} rows"
        )
        warnings.warn(
            f"k_max={options.k_max} is larger than {source} supports: {why}; K was tried "
            f"from {options.k_min} to {limit}",
            DataWarning,
            stacklevel=2,
        )
    return list(range(options.k_min, min(options.k_max, limit) + 1))


def choose_k(
    Z: np.ndarray,
    options: SegmentOptions,
    *,
    n_distinct: int,
    source: str,
    progress: ProgressFn | None = None,
) -> KSelection | None:
    """Choose K by the one rule, or None when K is given or the engine finds it.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features the rule looks at (every fitted row, or a sample of them).
    options : SegmentOptions
    n_distinct : int
        Distinct customer profiles among the rows (at least up to ``k_max``).
    source : str
        The input, for messages.
    progress : callable, optional

    Returns
    -------
    KSelection or None
    """
    check_given_k(options.k, n_distinct, source)
    if options.k is not None or not get_engine(options.algorithm).needs_k:
        return None
    ks = candidate_ks(options, n_distinct, len(Z), source)
    emit(progress, "choosing K", 0, len(Z))
    choice = select_k(Z, ks, algorithm=options.algorithm, random_state=options.random_state)
    emit(progress, "choosing K", len(Z), len(Z))
    return choice
