"""Every option of a segmentation run, validated once, in parameter names.

:class:`SegmentOptions` is the one place where an option's allowed values are
stated. It is frozen and checks itself when built, so every stage downstream
(the in-memory pipeline, the chunked and Spark backends, ``compare``) trusts
it. Errors name the parameter (``k must be at least 1; got 0``) and list the
parameters they name in :attr:`custseg.errors.InputError.parameters`; the CLI
spells those as its flags, nothing else here knows about flags.

Adding an option
----------------
1. Add a field with its default (and a line in the class docstring).
2. If it has a rule, write a small ``_check_<name>`` function below that raises
   :class:`~custseg.errors.InputError` (``parameters=("<name>",)``) and add it to
   :data:`_CHECKS`.
3. Map its CLI flag where the command builds the options.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from custseg.engines import get_engine
from custseg.errors import InputError
from custseg.features.missing import MISSING_POLICIES
from custseg.features.preprocessing import SCALINGS, check_choice
from custseg.features.transform import TRANSFORMS

__all__ = [
    "DEFAULT_MIN_SEGMENT_SHARE",
    "DEFAULT_RANDOM_STATE",
    "SegmentOptions",
    "resolve_options",
]

DEFAULT_RANDOM_STATE = 42
#: Smallest share of the customers a segment may hold, by default.
DEFAULT_MIN_SEGMENT_SHARE = 0.01


@dataclass(frozen=True, kw_only=True)
class SegmentOptions:
    """The options of a segmentation run, checked when built.

    Parameters
    ----------
    features : sequence of str, optional
        Feature columns; names matched exactly, then ignoring case and spaces.
        Default: every numeric column that is not the ID. Stored as a tuple.
    id_column : str, optional
        The customer ID column; detected when not given.
    k : int, optional
        Number of segments; None chooses it over ``k_min..k_max``.
    k_min, k_max : int, default=2, 10
        The range K is chosen from (checked only when ``k`` is None).
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
    missing : {"impute", "drop", "error"}, default="impute"
    algorithm : str, default="kmeans"
        A registered engine (see :func:`custseg.engines.available_engines`).
    random_state : int, default=42
    stability : int, optional
        Bootstrap resamples for segment stability; 0 turns it off; None decides by
        table size.
    vocabulary : mapping, optional
        Extra naming words; see :func:`custseg.features.profiles.name_segments`.
    transform : {"auto", "log", "none"}, default="auto"
        The log transform of strongly right-skewed columns before scaling; see
        :mod:`custseg.features.transform`.
    min_segment_share : float, default=0.01
        A segment with fewer customers than this share is dissolved into its
        nearest segments; 0 turns it off. See
        :mod:`custseg.segmentation.small_segments`.

    Raises
    ------
    InputError
        On the first option that breaks its rule, naming the parameter.
    """

    # Any sequence of names is accepted; __post_init__ stores it as a tuple.
    features: Sequence[str] | None = None
    id_column: str | None = None
    k: int | None = None
    k_min: int = 2
    k_max: int = 10
    scaling: str = "standard"
    missing: str = "impute"
    algorithm: str = "kmeans"
    random_state: int = DEFAULT_RANDOM_STATE
    stability: int | None = None
    vocabulary: Mapping[str, tuple[str, str]] | None = None
    transform: str = "auto"
    min_segment_share: float = DEFAULT_MIN_SEGMENT_SHARE

    def __post_init__(self) -> None:
        if self.features is not None:
            object.__setattr__(self, "features", _as_names(self.features))
        for check in _CHECKS:
            check(self)

    def replace(self, **changes: Any) -> SegmentOptions:
        """A copy with ``changes`` applied, checked again."""
        return dataclasses.replace(self, **changes)

    def require_kmeans(self, backend: str) -> None:
        """Refuse an algorithm other than K-Means for a backend that runs only K-Means."""
        if self.algorithm != "kmeans":
            raise InputError(
                f"the {backend} backend runs K-Means only; got algorithm={self.algorithm!r}. "
                "Use algorithm='kmeans', or segment in memory"
            )


def resolve_options(options: SegmentOptions | None, params: Mapping[str, Any]) -> SegmentOptions:
    """``options`` with keyword ``params`` applied; either may be absent.

    Lets a function take a ready :class:`SegmentOptions` or the same options as
    keyword arguments, and build (and so validate) them once.
    """
    if options is None:
        return SegmentOptions(**params)
    return options.replace(**params) if params else options


def _as_names(features: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(features, str):
        raise InputError(
            f"features must be a list of column names; got the string {features!r}",
            parameters=("features",),
        )
    return tuple(str(name) for name in features)


def _whole(value: Any, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(
            f"{parameter} must be a whole number; got {value!r}", parameters=(parameter,)
        )
    return int(value)


def _check_numbers(options: SegmentOptions) -> None:
    for name in ("k_min", "k_max", "random_state"):
        object.__setattr__(options, name, _whole(getattr(options, name), name))
    for name in ("k", "stability"):
        if getattr(options, name) is not None:
            object.__setattr__(options, name, _whole(getattr(options, name), name))


def _check_missing(options: SegmentOptions) -> None:
    check_choice(options.missing, MISSING_POLICIES, "missing")


def _check_scaling(options: SegmentOptions) -> None:
    check_choice(options.scaling, SCALINGS, "scaling")


def _check_algorithm(options: SegmentOptions) -> None:
    get_engine(options.algorithm)  # an unknown name fails with the list of valid ones


def _check_k(options: SegmentOptions) -> None:
    if options.k is not None and options.k < 1:
        raise InputError(f"k must be at least 1; got {options.k}", parameters=("k",))


def _check_stability(options: SegmentOptions) -> None:
    if options.stability is not None and options.stability < 0:
        raise InputError(
            f"stability must be 0 (off) or a number of resamples; got {options.stability}",
            parameters=("stability",),
        )


def _check_transform(options: SegmentOptions) -> None:
    check_choice(options.transform, TRANSFORMS, "transform")


def _check_min_segment_share(options: SegmentOptions) -> None:
    share = options.min_segment_share
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 <= share < 0.5:
        raise InputError(
            f"min_segment_share must be a share from 0 (off) to below 0.5; got {share!r}",
            parameters=("min_segment_share",),
        )
    object.__setattr__(options, "min_segment_share", float(share))


def _check_k_range(options: SegmentOptions) -> None:
    if options.k is None and not 2 <= options.k_min <= options.k_max:
        raise InputError(
            "k_min and k_max must satisfy 2 <= k_min <= k_max; got "
            f"{options.k_min} and {options.k_max}",
            parameters=("k_min", "k_max"),
        )


#: The checks, in the order their errors take precedence.
_CHECKS: tuple[Callable[[SegmentOptions], None], ...] = (
    _check_numbers,
    _check_missing,
    _check_scaling,
    _check_algorithm,
    _check_k,
    _check_stability,
    _check_transform,
    _check_min_segment_share,
    _check_k_range,
)
