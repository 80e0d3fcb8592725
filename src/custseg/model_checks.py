"""Every field of a model file checked before the model is trusted.

A ``model.json`` may have been edited by hand, truncated, or written by someone
else; scoring with a damaged one gives wrong segments without a word (a NaN
centre puts every customer in segment 0) or an internal error. :func:`check_model`
refuses such a file with one :class:`~custseg.errors.ModelError` that names the
field, the rule it broke and the value found.

The rules are data: :data:`MODEL_FIELDS` has one row per field (its path in the
file and the check it must pass), :data:`ENGINE_FIELDS` the extra state of each
engine, and :data:`CONSISTENCY_RULES` the rules that relate fields to each other
(unique names, ``min <= max``, segment ids matching the centres). A new field is
one more row.

Paths read like the file: ``preprocessing.scaling.scale`` is a key inside a key,
``features[].name`` the ``name`` of every item of ``features`` and
``baseline.bins{}.edges`` the ``edges`` of every value of the ``bins`` object.
Sizes are named by letter: ``F`` is the number of features, ``K`` the number of
centres (segments that have a centre; a density model's noise has none).

Every number in a model must be finite and within :data:`VALUE_BOUND` of zero,
so that scaled squared distances cannot overflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from custseg.engines import available_engines
from custseg.errors import ModelError
from custseg.features.missing import MISSING_POLICIES
from custseg.features.preprocessing import SCALINGS
from custseg.features.transform import LOG_TRANSFORM

__all__ = [
    "CONSISTENCY_RULES",
    "ENGINE_FIELDS",
    "FEATURE_KINDS",
    "MIN_SCALE",
    "MODEL_FIELDS",
    "PRECISION_BOUND",
    "VALUE_BOUND",
    "FieldRule",
    "Shape",
    "check_model",
]

#: The largest magnitude of any number in a model (and of a value sent for scoring).
VALUE_BOUND = 1e100

#: The smallest scale of a feature. Values within :data:`VALUE_BOUND` then scale to
#: below 1e151, whose squares still add up without overflow.
MIN_SCALE = 1e-50

#: The largest magnitude of a mixture's precision factor. custseg's mixtures add 1e-6
#: to every variance of the scaled features, which keeps these factors below 1e3.
PRECISION_BOUND = 1e6

#: What a feature can be: a number, the 0/1 indicator of one category (or code), or a
#: 0/1 flag column.
FEATURE_KINDS = ("numeric", "category", "flag")


@dataclass(frozen=True)
class Shape:
    """The sizes that other fields must agree with.

    Attributes
    ----------
    features : int
        ``F``: the number of features.
    centers : int
        ``K``: the number of centres.
    """

    features: int
    centers: int

    def size(self, spec: int | str | None) -> int | None:
        """``"F"`` or ``"K"`` as a number; an int as itself; None (any size) as None."""
        if spec == "F":
            return self.features
        if spec == "K":
            return self.centers
        return spec if isinstance(spec, int) else None


#: A check returns None when the value is fine, else what is wrong ("must be ...").
#: A problem that starts with "[" refines the path (``[2] must be ...``).
Check = Callable[[Any, Shape], str | None]


@dataclass(frozen=True)
class FieldRule:
    """One field of the model file and the rule it must follow.

    Attributes
    ----------
    path : str
        Where the field is (see the module docstring for the notation).
    check : Check
        The rule.
    required : bool, default=True
        Whether the field must be present (in every parent that is present).
    when : callable or None
        Given the parent object, whether the rule applies to it (e.g. only to
        category features).
    """

    path: str
    check: Check
    required: bool = True
    when: Callable[[Mapping[str, Any]], bool] | None = None


# -- checks ---------------------------------------------------------------------------
def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(
    *, low: float = -VALUE_BOUND, high: float = VALUE_BOUND, positive: bool = False
) -> Check:
    """A finite JSON number in ``[low, high]`` (above 0 when ``positive``)."""
    if positive:
        rule = f"a finite number above 0 and at most {high:g}"
    elif (low, high) == (-VALUE_BOUND, VALUE_BOUND):
        rule = f"a finite number between {low:g} and {high:g}"
    else:
        rule = f"a number from {low:g} to {high:g}"

    def check(value: Any, shape: Shape) -> str | None:
        # Comparisons also refuse NaN and infinities, and work on integers too big
        # for a float.
        ok = _is_number(value) and low <= value <= high
        if ok and positive:
            ok = value > 0
        return None if ok else f"must be {rule}; found {_shown(value)}"

    return check


def integer(*, low: int = 0, high: int | str | None = None, nullable: bool = False) -> Check:
    """A JSON integer from ``low`` to ``high`` (a size letter means below that size)."""

    def check(value: Any, shape: Shape) -> str | None:
        if value is None and nullable:
            return None
        top = shape.size(high)
        limit = None if top is None else (top - 1 if isinstance(high, str) else top)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if ok and limit is not None:
            ok = value <= limit
        if ok:
            return None
        rule = f"an integer of at least {low}" if limit is None else f"an integer {low}..{limit}"
        if isinstance(high, str):
            rule += {"F": " (a feature's index)", "K": " (a centre's index)"}[high]
        return f"must be {rule}{' or null' if nullable else ''}; found {_shown(value)}"

    return check


def text(*, empty: bool = False) -> Check:
    """A JSON string (non-empty unless ``empty``)."""

    def check(value: Any, shape: Shape) -> str | None:
        if isinstance(value, str) and (empty or value.strip()):
            return None
        return f"must be a {'' if empty else 'non-empty '}string; found {_shown(value)}"

    return check


def one_of(choices: Sequence[str] | Callable[[], Sequence[str]]) -> Check:
    """One of the given strings (or of those a function returns when checked)."""

    def check(value: Any, shape: Shape) -> str | None:
        allowed = list(choices() if callable(choices) else choices)
        if isinstance(value, str) and value in allowed:
            return None
        return f"must be one of {', '.join(allowed)}; found {_shown(value)}"

    return check


def mapping() -> Check:
    """A JSON object."""

    def check(value: Any, shape: Shape) -> str | None:
        return None if isinstance(value, dict) else f"must be an object; found {_shown(value)}"

    return check


def nullable(inner: Check) -> Check:
    """``inner``, or null."""

    def check(value: Any, shape: Shape) -> str | None:
        return None if value is None else inner(value, shape)

    return check


def _order_problem(values: list[Any], strict: bool) -> str | None:
    for i in range(1, len(values)):
        if values[i] < values[i - 1] or (strict and values[i] == values[i - 1]):
            order = "increasing" if strict else "non-decreasing"
            return f"[{i}] must keep the list {order}; found {values[i]!r} after {values[i - 1]!r}"
    return None


def vector(
    length: int | str | None = None,
    item: Check | None = None,
    *,
    min_length: int = 0,
    order: str | None = None,
) -> Check:
    """A JSON list of ``length`` items (any when None), each passing ``item``.

    ``order`` is ``"increasing"`` or ``"non-decreasing"`` for sorted numbers.
    """

    def check(value: Any, shape: Shape) -> str | None:
        if not isinstance(value, list):
            return f"must be a list; found {_shown(value)}"
        want = shape.size(length)
        if want is not None and len(value) != want:
            per = {"F": ", one per feature", "K": ", one per centre"}.get(str(length), "")
            return f"must have {want} item(s){per}; found {len(value)}"
        if len(value) < min_length:
            return f"must have at least {min_length} item(s); found {len(value)}"
        for i, element in enumerate(value):
            problem = None if item is None else item(element, shape)
            if problem is not None:
                return f"[{i}]{'' if problem.startswith('[') else ' '}{problem}"
        if order is not None:
            return _order_problem(value, strict=order == "increasing")
        return None

    return check


def matrix(rows: int | str | None, columns: int | str | None, item: Check) -> Check:
    """A list of ``rows`` lists of ``columns`` items each."""
    return vector(rows, vector(columns, item), min_length=1)


# -- the tables -----------------------------------------------------------------------
def _is_category(feature: Mapping[str, Any]) -> bool:
    return feature.get("kind") == "category"


def _is_indicator(feature: Mapping[str, Any]) -> bool:
    return feature.get("kind") in ("category", "flag")


_FINITE = number()

#: Every field of ``model.json`` (schema version 1) that custseg reads, parents first.
MODEL_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("custseg_version", text(empty=True), required=False),
    FieldRule("features", vector(item=mapping(), min_length=1)),
    FieldRule("features[].name", text()),
    FieldRule("features[].kind", one_of(FEATURE_KINDS), required=False),
    FieldRule("features[].dtype", text(), required=False),
    FieldRule("features[].min", _FINITE),
    FieldRule("features[].max", _FINITE),
    FieldRule("features[].mean", _FINITE, required=False),
    FieldRule("features[].std", number(low=0), required=False),
    FieldRule(
        "features[].quantiles",
        vector(item=_FINITE, min_length=2, order="non-decreasing"),
        required=False,
    ),
    FieldRule("features[].source", text(), when=_is_indicator),
    FieldRule("features[].category", text(empty=True), when=_is_category),
    FieldRule("preprocessing", mapping()),
    FieldRule("preprocessing.missing", one_of(MISSING_POLICIES)),
    FieldRule("preprocessing.impute_values", vector("F", _FINITE)),
    FieldRule("preprocessing.scaling", mapping()),
    FieldRule("preprocessing.scaling.method", one_of(SCALINGS)),
    FieldRule("preprocessing.scaling.center", vector("F", _FINITE)),
    FieldRule("preprocessing.scaling.scale", vector("F", number(low=MIN_SCALE))),
    FieldRule("preprocessing.transform", mapping(), required=False),
    FieldRule("preprocessing.transform.method", one_of((LOG_TRANSFORM,))),
    FieldRule("preprocessing.transform.unit", vector("F", nullable(number(low=MIN_SCALE)))),
    FieldRule("preprocessing.outliers", mapping(), required=False),
    FieldRule("preprocessing.outliers.rule", text(), required=False),
    FieldRule("preprocessing.outliers.low", vector("F", nullable(_FINITE))),
    FieldRule("preprocessing.outliers.high", vector("F", nullable(_FINITE))),
    FieldRule("algorithm", one_of(available_engines)),
    FieldRule("centers", matrix(None, "F", _FINITE)),
    FieldRule("engine_state", mapping(), required=False),
    FieldRule("segments", vector(item=mapping(), min_length=1)),
    FieldRule("segments[].id", integer(low=-1)),
    FieldRule("segments[].name", text()),
    FieldRule("segments[].size", integer(), required=False),
    FieldRule("segments[].share", number(low=0, high=1), required=False),
    FieldRule("training", mapping()),
    FieldRule("training.rows", integer(), required=False),
    FieldRule("training.fingerprint", text(), required=False),
    FieldRule("training.random_state", integer(nullable=True), required=False),
    FieldRule("center_ids", vector("K", integer()), required=False),
    FieldRule("baseline", mapping(), required=False),
    FieldRule("baseline.rows", integer(), required=False),
    FieldRule("baseline.bins", mapping(), required=False),
    FieldRule("baseline.bins{}", mapping()),
    FieldRule("baseline.bins{}.edges", vector(item=_FINITE, order="increasing")),
    FieldRule("baseline.bins{}.shares", vector(item=number(low=0, high=1), min_length=1)),
    FieldRule("baseline.mean_distance", nullable(number(low=0)), required=False),
    FieldRule("baseline.segment_mean_distance", mapping(), required=False),
    FieldRule("baseline.segment_mean_distance{}", number(low=0)),
    FieldRule("baseline.borderline_share", nullable(number(low=0, high=1)), required=False),
    FieldRule("baseline.borderline_margin", number(low=0, high=1), required=False),
    FieldRule("lineage", mapping(), required=False),
    FieldRule("lineage.generation", integer(low=1), required=False),
    FieldRule("lineage.next_id", integer(), required=False),
    FieldRule("lineage.previous_fingerprint", nullable(text()), required=False),
)

#: The state each engine predicts with, under ``engine_state``.
ENGINE_FIELDS: dict[str, tuple[FieldRule, ...]] = {
    "gmm": (
        FieldRule("engine_state", mapping()),
        FieldRule("engine_state.covariance_type", one_of(("full",))),
        FieldRule("engine_state.weights", vector("K", number(positive=True, high=1))),
        FieldRule(
            "engine_state.precisions_cholesky",
            vector("K", matrix("F", "F", number(low=-PRECISION_BOUND, high=PRECISION_BOUND))),
        ),
    ),
    "hdbscan": (
        FieldRule("engine_state", mapping()),
        FieldRule("engine_state.exemplars", matrix(None, "F", _FINITE)),
        FieldRule("engine_state.exemplar_segments", vector(None, integer(high="K"))),
        FieldRule("engine_state.reach", vector("K", number(low=0))),
        FieldRule("engine_state.min_cluster_size", integer(low=1), required=False),
        FieldRule("engine_state.min_samples", integer(low=1), required=False),
        FieldRule("engine_state.agreement", number(low=0, high=1), required=False),
    ),
}


# -- rules across fields --------------------------------------------------------------
Problem = tuple[str, str]  # (path, what is wrong)


def _duplicate(values: list[Any]) -> int | None:
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            return i
        seen.add(value)
    return None


def _unique_feature_names(data: dict[str, Any], shape: Shape) -> Problem | None:
    names = [f["name"] for f in data["features"]]
    i = _duplicate(names)
    if i is None:
        return None
    return f"features[{i}].name", f"repeats the feature name {names[i]!r}; names must be unique"


def _min_not_above_max(data: dict[str, Any], shape: Shape) -> Problem | None:
    for i, f in enumerate(data["features"]):
        if f["min"] > f["max"]:
            return f"features[{i}].min", f"must not exceed max ({f['max']!r}); found {f['min']!r}"
    return None


def _fences_in_order(data: dict[str, Any], shape: Shape) -> Problem | None:
    fences = data["preprocessing"].get("outliers")
    if fences is None:
        return None
    for i, (low, high) in enumerate(zip(fences["low"], fences["high"], strict=True)):
        if low is not None and high is not None and low > high:
            return f"preprocessing.outliers.low[{i}]", (
                f"must not exceed the high fence ({high!r}); found {low!r}"
            )
    return None


def _segments_match_centres(data: dict[str, Any], shape: Shape) -> Problem | None:
    ids = [s["id"] for s in data["segments"]]
    i = _duplicate(ids)
    if i is not None:
        return f"segments[{i}].id", f"repeats the segment id {ids[i]}; ids must be unique"
    centre_ids = data.get("center_ids", list(range(shape.centers)))
    j = _duplicate(centre_ids)
    if j is not None:
        return f"center_ids[{j}]", f"repeats the segment id {centre_ids[j]}"
    named = sorted(s for s in ids if s >= 0)
    if named != sorted(centre_ids):
        origin = "center_ids" if "center_ids" in data else "their order: no center_ids"
        return "segments", (
            f"must list one segment per centre ({shape.centers} centre(s) with ids "
            f"{sorted(centre_ids)}, from {origin}); found segment ids {named}"
        )
    return None


def _bins_match_features(data: dict[str, Any], shape: Shape) -> Problem | None:
    bins = (data.get("baseline") or {}).get("bins") or {}
    names = {f["name"] for f in data["features"]}
    for name, block in bins.items():
        if name not in names:
            return f"baseline.bins.{name}", "names no feature of the model"
        if len(block["shares"]) != len(block["edges"]) + 1:
            return f"baseline.bins.{name}.shares", (
                f"must have one share more than there are edges ({len(block['edges']) + 1}); "
                f"found {len(block['shares'])}"
            )
    return None


def _exemplars_match_segments(data: dict[str, Any], shape: Shape) -> Problem | None:
    state = data.get("engine_state") or {}
    if data["algorithm"] != "hdbscan":
        return None
    if len(state["exemplar_segments"]) != len(state["exemplars"]):
        return "engine_state.exemplar_segments", (
            f"must give a segment for each of the {len(state['exemplars'])} exemplars; "
            f"found {len(state['exemplar_segments'])}"
        )
    return None


#: Rules that relate fields to each other; each runs once every field passed its own.
def _first_non_finite(value: Any, where: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, dict):
        items: Any = ((f"{where}.{key}" if where else str(key), v) for key, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, item in items:
        found = _first_non_finite(item, path)
        if found is not None:
            return found
    return None


def _all_numbers_finite(data: dict[str, Any], shape: Shape) -> Problem | None:
    # JSON has no NaN or infinity; one in a field no rule names (an added key)
    # would still break every later use of the model.
    where = _first_non_finite(data, "")
    if where is None:
        return None
    return where, "must be a finite number; found a NaN or an infinity"


CONSISTENCY_RULES: tuple[Callable[[dict[str, Any], Shape], Problem | None], ...] = (
    _unique_feature_names,
    _min_not_above_max,
    _fences_in_order,
    _segments_match_centres,
    _bins_match_features,
    _exemplars_match_segments,
    _all_numbers_finite,
)


# -- walking the file -----------------------------------------------------------------
def _steps(path: str) -> list[tuple[str, str]]:
    """``"a.b[].c{}"`` → ``[("a", ""), ("b", "[]"), ("c", "{}")]``."""
    out = []
    for part in path.split("."):
        mark = part[-2:] if part.endswith(("[]", "{}")) else ""
        out.append((part[: len(part) - len(mark)], mark))
    return out


def _fields(
    node: Any, steps: list[tuple[str, str]], where: str, parent: Any
) -> Iterator[tuple[str, Any, Any, bool]]:
    """Yield ``(path, value, parent object, present)`` for every field a path names.

    Parents that are absent or of the wrong kind yield nothing: their own row
    (earlier in the table) reports them.
    """
    if not steps:
        yield where, node, parent, True
        return
    (key, mark), rest = steps[0], steps[1:]
    if not isinstance(node, dict):
        return
    here = f"{where}.{key}" if where else key
    if key not in node:
        if not rest and not mark:  # an absent parent is its own row's business
            yield here, None, node, False
        return
    value = node[key]
    if mark == "[]" and isinstance(value, list):
        for i, element in enumerate(value):
            yield from _fields(element, rest, f"{here}[{i}]", value)
    elif mark == "{}" and isinstance(value, dict):
        for name, element in value.items():
            yield from _fields(element, rest, f"{here}.{name}", value)
    elif not mark:
        yield from _fields(value, rest, here, node)


def _rule_problem(data: dict[str, Any], rule: FieldRule, shape: Shape) -> Problem | None:
    steps = _steps(rule.path)
    for where, value, parent, present in _fields(data, steps, "", None):
        if rule.when is not None and not (isinstance(parent, dict) and rule.when(parent)):
            continue
        if not present:
            if rule.required:
                return where, "is missing"
            continue
        problem = rule.check(value, shape)
        if problem is not None:
            return where, problem
    return None


def _shape(data: dict[str, Any]) -> Shape:
    # Sizes of fields not yet checked: their own rows come first in the table and
    # stop the check before any rule relies on these numbers.
    features, centers = data.get("features"), data.get("centers")
    return Shape(
        features=len(features) if isinstance(features, list) else 0,
        centers=len(centers) if isinstance(centers, list) else 0,
    )


def check_model(data: Any, *, source: str = "model") -> None:
    """Refuse a model file's content unless every field follows its rule.

    Parameters
    ----------
    data : object
        The parsed JSON of a model file whose ``format`` and ``schema_version``
        were already recognised.
    source : str, default="model"
        The file's name in the message.

    Raises
    ------
    ModelError
        Naming the first field that breaks a rule, the rule and the value found.
    """
    shape = _shape(data)
    rules = (*MODEL_FIELDS, *ENGINE_FIELDS.get(str(data.get("algorithm")), ()))
    problem = None
    for rule in rules:
        problem = _rule_problem(data, rule, shape)
        if problem is not None:
            break
    else:
        for consistency in CONSISTENCY_RULES:
            problem = consistency(data, shape)
            if problem is not None:
                break
    if problem is not None:
        where, what = problem
        where += "" if what.startswith("[") else " "
        raise ModelError(
            f"'{source}' is a damaged custseg model: {where}{what}; restore the file "
            "custseg wrote or retrain with custseg segment"
        )
