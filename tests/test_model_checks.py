"""A damaged model file is refused, naming the field: the model mutation corpus.

Real models (K-Means with a categorical feature, a Gaussian mixture, HDBSCAN, and a
model whose segment ids have gaps) are changed field by field in every way that
breaks custseg's format; each changed model must be refused with a ModelError that
names the field. A Hypothesis property then puts arbitrary JSON anywhere: the model
is refused, or it loads and scores sanely — never an internal error, never a NaN.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import invoke_cli

import custseg
from custseg.errors import ModelError
from custseg.io import write_csv
from custseg.model import SegmentModel
from custseg.serving import model_card

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]

# Fields a version-1 model may lack (older files, other engines) and fields whose
# value may be null, by path with list positions written as [].
OPTIONAL = {
    "custseg_version",
    "engine_state",
    "baseline",
    "baseline.rows",
    "baseline.bins",
    "baseline.mean_distance",
    "baseline.segment_mean_distance",
    "baseline.borderline_share",
    "baseline.borderline_margin",
    "center_ids",
    "lineage",
    "preprocessing.transform",
    "preprocessing.outliers",
    "preprocessing.outliers.rule",
    "features[].kind",
    "features[].dtype",
    "features[].mean",
    "features[].std",
    "features[].quantiles",
    "segments[].size",
    "segments[].share",
    "training.rows",
    "training.fingerprint",
    "training.random_state",
    "lineage.generation",
    "lineage.next_id",
    "lineage.previous_fingerprint",
    "engine_state.min_cluster_size",
    "engine_state.min_samples",
    "engine_state.agreement",
}
NULLABLE = {
    "training.random_state",
    "baseline.mean_distance",
    "baseline.borderline_share",
    "lineage.previous_fingerprint",
    "preprocessing.transform.unit[]",
    "preprocessing.outliers.low[]",
    "preprocessing.outliers.high[]",
}
# Lists whose length is free: one item more or fewer keeps the model whole.
FREE_LENGTH = {"features[].quantiles"}
# Bins and per-segment distances are keyed by feature or segment; drift does without
# a missing key, so only their values are changed, never deleted.
KEYED = ("baseline.bins", "baseline.segment_mean_distance")
# A size broken by an extra or a missing item is named by what it counts.
SIZE_WORDS = {"features": "feature", "centers": "centre"}


def _train(**options: Any) -> dict[str, Any]:
    frame = custseg.make_customers(240, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = custseg.segment(frame, random_state=0, stability=0, **options)
    return result.model.to_dict()


def _train_flagged() -> dict[str, Any]:
    """A model with a log-transformed money column and a 0/1 flag named as a feature."""
    frame = custseg.make_customers(240, random_state=0)
    rng = np.random.default_rng(0)
    frame["Spend"] = np.round(rng.lognormal(6, 1.2, len(frame)), 2)
    frame["Newsletter"] = rng.integers(0, 2, len(frame))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = custseg.segment(
            frame, random_state=0, stability=0, k=3, features=["Age", "Spend", "Newsletter"]
        )
    data = result.model.to_dict()
    assert data["features"][2]["kind"] == "flag"
    assert data["preprocessing"]["transform"]["unit"][1] is not None
    return data


@pytest.fixture(scope="module")
def models() -> dict[str, dict[str, Any]]:
    kmeans = _train(k=4, features=[*FEATURES, "Gender"])
    gapped = copy.deepcopy(_train(k=3))
    # Segment ids kept across retraining can have gaps (custseg.lifecycle.continuity).
    gapped["center_ids"] = [0, 2, 5]
    for segment, sid in zip(gapped["segments"], [0, 2, 5], strict=True):
        segment["id"] = sid
    gapped["lineage"] = {"generation": 2, "next_id": 6, "previous_fingerprint": "sha256:0"}
    return {
        "kmeans": kmeans,
        "gmm": _train(k=3, algorithm="gmm"),
        "hdbscan": _train(algorithm="hdbscan"),
        "gapped": gapped,
        "flagged": _train_flagged(),
    }


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    frame = custseg.make_customers(60, random_state=5)
    return frame[FEATURES].to_numpy(dtype="float64")


# -- walking and changing a model -----------------------------------------------------
Path_ = tuple[str | int, ...]


def _leaves(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every node below the root, parents first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        # The first and last item stand for all: a model has thousands of numbers.
        for i in sorted({0, len(node) - 1}) if node else ():
            yield (*path, i), node[i]
            yield from _leaves(node[i], (*path, i))


def _written(path: Path_) -> str:
    """``("features", 2, "min")`` → ``features[2].min``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _generic(path: Path_) -> str:
    """``("features", 2, "min")`` → ``features[].min`` (the notation of OPTIONAL)."""
    return _written(tuple(-1 if isinstance(p, int) else p for p in path)).replace("[-1]", "[]")


def _set(data: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def _delete(data: dict[str, Any], path: Path_) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node = changed
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return changed


_NOT_NUMBERS = [None, True, "1", [], {}]
_NON_FINITE = [math.nan, math.inf, -math.inf, 1e300, -1e300]


def _breaking_values(path: Path_, value: Any) -> Iterator[tuple[str, Any]]:
    """Values that custseg's format never allows at ``path`` (given its current value)."""
    generic = _generic(path)
    nullable = generic in NULLABLE
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        for other in _NOT_NUMBERS + _NON_FINITE:
            if not (other is None and nullable):
                yield f"{other!r}", other
        if isinstance(value, int) and not isinstance(value, bool):
            yield "a fraction", value + 0.5
    elif isinstance(value, str):
        for other in [None, 1, True, [], {}]:
            if not (other is None and nullable):
                yield f"{other!r}", other
    elif isinstance(value, list):
        for other in [None, "x", 1, {}]:
            yield f"{other!r}", other
        if generic not in FREE_LENGTH and value:
            yield "one item fewer", value[:-1]
            yield "one item more", [*value, copy.deepcopy(value[-1])]
    elif isinstance(value, dict):
        for other in [None, "x", 1, []]:
            yield f"{other!r}", other


def _optional(data: dict[str, Any]) -> set[str]:
    """OPTIONAL, less the state of engines that predict by their own rule and the centre
    ids of a model whose segment ids have gaps."""
    required = set()
    if data["algorithm"] in ("gmm", "hdbscan"):
        required.add("engine_state")
    if data.get("center_ids", []) != list(range(len(data["centers"]))):
        required.add("center_ids")
    return OPTIONAL - required


def corpus(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(what changed, changed model, field the refusal must name)."""
    optional = _optional(data)
    for path, value in _leaves(data):
        written = _written(path)
        if path[0] in ("format", "schema_version"):
            continue
        for what, other in _breaking_values(path, value):
            yield f"{written} = {what}", _set(data, path, other), written
        keyed = _written(path[:-1]) in KEYED
        if isinstance(path[-1], str) and _generic(path) not in optional and not keyed:
            yield f"{written} deleted", _delete(data, path), written


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(ModelError) as info:
        SegmentModel.from_dict(json.loads(json.dumps(data)), source="model.json")
    return str(info.value)


# -- the corpus -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["kmeans", "gmm", "hdbscan", "gapped", "flagged"])
def test_real_models_load(models, kind, sample):
    model = SegmentModel.from_dict(models[kind])
    _assert_scores_soundly(model, sample)


@pytest.mark.parametrize("kind", ["kmeans", "gmm", "hdbscan", "gapped", "flagged"])
def test_every_field_changed_in_every_breaking_way_is_refused(models, kind):
    cases = list(corpus(models[kind]))
    assert len(cases) > 150  # every field of the file, not a sample
    unnamed = []
    for what, changed, field in cases:
        message = _refused(changed)
        # The message names the changed field, or the field whose size it broke
        # ("features" gained an item: impute_values no longer match).
        head = field.split("[")[0].split(".")[0]
        if head not in message and SIZE_WORDS.get(head, head) not in message:
            unnamed.append(f"{what}: {message}")
        assert "model.json" in message and "\n" not in message
    assert not unnamed, "\n".join(unnamed[:10])


@pytest.mark.parametrize("kind", ["kmeans", "hdbscan", "gapped", "flagged"])
def test_fields_a_model_may_lack_can_be_absent(models, kind, sample):
    data = models[kind]
    optional = [
        p for p, _ in _leaves(data) if isinstance(p[-1], str) and _generic(p) in _optional(data)
    ]
    assert len(optional) >= 10
    for path in optional:
        _assert_scores_soundly(SegmentModel.from_dict(_delete(data, path)), sample)


SEMANTIC = [
    ("zero scale", ("preprocessing", "scaling", "scale", 1), 0.0, "scaling.scale[1]"),
    ("negative scale", ("preprocessing", "scaling", "scale", 0), -2.0, "scaling.scale[0]"),
    ("tiny scale", ("preprocessing", "scaling", "scale", 0), 1e-300, "scaling.scale[0]"),
    ("min above max", ("features", 0, "min"), 500.0, "features[0].min"),
    ("negative std", ("features", 1, "std"), -1.0, "features[1].std"),
    ("unsorted deciles", ("features", 0, "quantiles", 3), 1e9, "features[0].quantiles[4]"),
    ("repeated feature", ("features", 1, "name"), "Age", "features[1].name"),
    ("empty feature name", ("features", 1, "name"), " ", "features[1].name"),
    ("unknown feature kind", ("features", 0, "kind"), "money", "features[0].kind"),
    ("repeated segment id", ("segments", 1, "id"), 0, "segments[1].id"),
    ("segment id without centre", ("segments", 1, "id"), 7, "segments"),
    ("share above 1", ("segments", 0, "share"), 1.5, "segments[0].share"),
    ("negative size", ("segments", 0, "size"), -3, "segments[0].size"),
    ("empty segment name", ("segments", 0, "name"), "", "segments[0].name"),
    ("unknown algorithm", ("algorithm",), "kmean", "algorithm"),
    ("unknown missing policy", ("preprocessing", "missing"), "guess", "missing"),
    ("unknown scaling", ("preprocessing", "scaling", "method"), "log", "scaling.method"),
    ("no features", ("features",), [], "features"),
    ("no segments", ("segments",), [], "segments"),
    ("no centres", ("centers",), [], "centers"),
    ("ragged centre", ("centers", 1), [0.0, 1.0], "centers[1]"),
    ("boolean centre value", ("centers", 0, 0), True, "centers[0][0]"),
    ("huge integer", ("centers", 0, 0), 10**400, "centers[0][0]"),
    ("bins of no feature", ("baseline", "bins", "Height"), {"edges": [1.0], "shares": [0.5, 0.5]},
     "baseline.bins.Height"),
    ("bins shares off by one", ("baseline", "bins", "Age", "shares"), [1.0], "bins.Age.shares"),
    ("unsorted bin edges", ("baseline", "bins", "Age", "edges"), [30.0, 20.0], "bins.Age.edges"),
    ("negative distance", ("baseline", "mean_distance"), -1.0, "baseline.mean_distance"),
    ("random_state text", ("training", "random_state"), "42", "training.random_state"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "path", "value", "field"), SEMANTIC, ids=[s[0] for s in SEMANTIC])
def test_values_of_the_right_type_that_break_a_rule_are_refused(models, what, path, value, field):
    message = _refused(_set(models["kmeans"], path, value))
    assert field in message, message


ENGINE_CASES = [
    ("gmm", ("engine_state", "weights", 0), 0.0, "engine_state.weights[0]"),
    ("gmm", ("engine_state", "weights"), [0.5, 0.5], "engine_state.weights"),
    ("gmm", ("engine_state", "precisions_cholesky", 0, 0, 0), 1e9, "precisions_cholesky[0]"),
    ("gmm", ("engine_state", "covariance_type"), "diag", "covariance_type"),
    ("hdbscan", ("engine_state", "exemplar_segments", 0), 99, "exemplar_segments[0]"),
    ("hdbscan", ("engine_state", "exemplar_segments", 0), -1, "exemplar_segments[0]"),
    ("hdbscan", ("engine_state", "reach", 0), -0.5, "engine_state.reach[0]"),
    ("hdbscan", ("engine_state", "exemplars", 0), [1.0], "engine_state.exemplars[0]"),
    ("gapped", ("center_ids", 1), 0, "center_ids[1]"),
    ("gapped", ("center_ids", 1), -2, "center_ids[1]"),
    ("gapped", ("center_ids",), [0, 2], "center_ids"),
    ("flagged", ("features", 2, "kind"), "code", "features[2].kind"),
    ("flagged", ("preprocessing", "transform", "method"), "log10", "transform.method"),
    ("flagged", ("preprocessing", "transform", "unit", 1), 0.0, "transform.unit[1]"),
    ("flagged", ("preprocessing", "transform", "unit", 1), -3.0, "transform.unit[1]"),
    ("flagged", ("preprocessing", "outliers", "low", 0), 99.0, "outliers.low[0]"),
    ("flagged", ("preprocessing", "outliers", "high"), [1.0], "outliers.high"),
]


@pytest.mark.parametrize(("kind", "path", "value", "field"), ENGINE_CASES)
def test_engine_state_and_segment_ids_are_checked(models, kind, path, value, field):
    assert field in _refused(_set(models[kind], path, value))


def test_hdbscan_exemplars_and_their_segments_must_pair_up(models):
    data = copy.deepcopy(models["hdbscan"])
    data["engine_state"]["exemplar_segments"].pop()
    assert "exemplar_segments" in _refused(data)


def test_flag_feature_needs_its_source_column(models):
    data = copy.deepcopy(models["flagged"])
    del data["features"][2]["source"]
    assert "features[2].source is missing" in _refused(data)


def test_category_feature_needs_its_source_column(models):
    data = copy.deepcopy(models["kmeans"])
    category = next(f for f in data["features"] if f.get("kind") == "category")
    del category["source"]
    assert ".source is missing" in _refused(data)


def test_the_message_is_one_line_with_the_rule_and_the_value(models):
    message = _refused(_set(models["kmeans"], ("preprocessing", "scaling", "scale", 1), 0))
    assert message == (
        "'model.json' is a damaged custseg model: preprocessing.scaling.scale[1] must be a "
        "number from 1e-50 to 1e+100; found 0; restore the file custseg wrote or retrain "
        "with custseg segment"
    )


# -- arbitrary JSON anywhere: refused or sound ----------------------------------------
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def _assert_scores_soundly(model: SegmentModel, sample: np.ndarray) -> None:
    X = np.column_stack([sample, np.ones((len(sample), len(model.features) - 3))])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow, no NaN arithmetic
        scored = model.predict_matrix(X[:, : len(model.features)])
    ids = {int(s["id"]) for s in model.segments}
    labels = scored["segment"].dropna().astype(int)
    assert set(labels) <= ids
    distance = scored["distance_to_center"].to_numpy()[scored["segment"].notna().to_numpy()]
    assert np.isfinite(distance[labels.to_numpy() >= 0]).all()
    probabilities = [c for c in scored.columns if c.startswith("probability")]
    assert np.isfinite(scored[probabilities].to_numpy()).all()
    card = model_card(model)
    assert len(card["segments"]) == len(model.segments)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_anywhere_is_refused_or_scores_soundly(models, sample, data):
    kind = data.draw(st.sampled_from(sorted(models)))
    paths = [p for p, _ in _leaves(models[kind])]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(json_values)
    changed = _set(models[kind], path, value)
    try:
        model = SegmentModel.from_dict(json.loads(json.dumps(changed)), source="m.json")
    except ModelError as exc:
        assert str(exc).startswith("'m.json' ")
        return
    _assert_scores_soundly(model, sample)


# -- the command line -----------------------------------------------------------------
def test_score_refuses_a_damaged_model_with_exit_2(models, tmp_path):
    data = write_csv(custseg.make_customers(20, random_state=1), tmp_path / "new.csv")
    for name, (path, value) in {
        "nan_centre": (("centers", 0, 1), math.nan),
        "three_names_four_centres": (("segments",), models["kmeans"]["segments"][:3]),
    }.items():
        model = tmp_path / f"{name}.json"
        # json writes NaN as the bare token NaN, as a careless editor would.
        model.write_text(json.dumps(_set(models["kmeans"], path, value)))
        proc = invoke_cli("score", model, data, "--out", tmp_path / f"{name}.csv")
        assert proc.returncode == 2, (name, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "damaged custseg model" in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr
        assert not (tmp_path / f"{name}.csv").exists()


def test_a_non_finite_number_in_an_added_key_is_refused(models):
    changed = _set(models["kmeans"], ("baseline",), {"": math.inf})
    with pytest.raises(ModelError, match=r"'m.json' .*baseline\. must be a finite number"):
        SegmentModel.from_dict(json.loads(json.dumps(changed)), source="m.json")
