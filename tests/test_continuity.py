"""Stable segment identities across retraining (lifecycle.continuity, segment --previous)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import custseg
from custseg.errors import DataWarning, SchemaError
from custseg.lifecycle.continuity import PreviousRun, load_previous, match_centers, name_fits

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
COORD = st.floats(-10, 10, allow_nan=False).map(lambda v: round(v, 1))
FAST = {"stability": 0}  # bootstrap stability is issue 3's concern, not this file's


def _segment(data, **options):
    return custseg.segment(data, **FAST, **options)


@pytest.fixture(scope="module")
def base():
    return custseg.make_customers(600, random_state=0)


@pytest.fixture(scope="module")
def old_run(base, tmp_path_factory):
    result = _segment(base, k=5)
    folder = tmp_path_factory.mktemp("old")
    result.save(folder)
    return result, folder


def _newcomers(n: int, random_state: int, prefix: str) -> pd.DataFrame:
    extra = custseg.make_customers(n, random_state=random_state)
    extra["CustomerID"] = [f"{prefix}{i:04d}" for i in range(n)]
    return extra


@pytest.fixture(scope="module")
def resampled(base, old_run):
    """400 returning customers and 200 new ones from the same distribution, shuffled,
    refitted with another seed."""
    data = pd.concat([base.sample(400, random_state=3), _newcomers(200, 1, "N")])
    data = data.sample(frac=1, random_state=4).reset_index(drop=True)
    return _segment(data, k=5, previous=old_run[1], random_state=7)


def test_resampled_data_keeps_ids_and_names(old_run, resampled):
    block = resampled.summary["continuity"]
    assert resampled.model.segment_names == old_run[0].model.segment_names
    assert [m["id"] for m in block["matches"]] == [0, 1, 2, 3, 4]
    assert all(m["name"] == m["previous_name"] for m in block["matches"])
    assert block["new"] == [] and block["vanished"] == [] and block["renamed"] == []
    assert block["warm_start"]["possible"] and block["warm_start"]["used"]
    assert "center_ids" not in resampled.model.extra  # ids 0..4 without gaps: plain model
    assert resampled.model.extra["lineage"] == {
        "generation": 2,
        "next_id": 5,
        "previous_fingerprint": old_run[0].model.training["fingerprint"],
    }
    moves = block["transitions"]
    assert moves["customers_in_both"] == 400
    assert moves["only_new"] == 200 and moves["only_previous"] == 200
    assert moves["changed_share"] <= 0.05


def test_migration_matrix_is_nearly_diagonal_with_names(old_run, resampled):
    matrix = resampled.transitions
    names = old_run[0].model.segment_names
    assert list(matrix.columns) == ["old_segment", "old_name"] + [
        f"{i}: {names[i]}" for i in range(5)
    ] + ["customers"]
    assert matrix["old_name"].tolist() == [names[i] for i in range(5)]
    counts = matrix.iloc[:, 2:7].to_numpy()
    assert counts.sum() == 400 == matrix["customers"].sum()
    assert np.trace(counts) / counts.sum() >= 0.95


def test_returning_customers_are_labelled_consistently_with_the_matrix(old_run, resampled):
    old = old_run[0].table.set_index("CustomerID")["segment"]
    new = resampled.table.set_index("CustomerID")["segment"]
    both = old.index.intersection(new.index)
    same = (old[both].astype(int) == new[both].astype(int)).mean()
    assert same >= 0.95
    changed = resampled.summary["continuity"]["transitions"]["changed"]
    assert changed == int((old[both].astype(int) != new[both].astype(int)).sum())


# Controlled data for appearing and vanishing segments: well-separated groups of
# customers (age, income, spending), each of a distinct size so that ids are fixed.
GROUPS = {
    "a": ((25, 30, 80), 200),
    "b": ((45, 90, 20), 160),
    "c": ((35, 95, 85), 120),
    "d": ((58, 45, 40), 90),
    "seniors": ((68, 135, 55), 70),
}


def _groups(*names: str, random_state: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(random_state)
    parts = []
    for name in names:
        (age, income, spend), n = GROUPS[name]
        parts.append(
            pd.DataFrame(
                {
                    "CustomerID": [f"{name}{i:04d}" for i in range(n)],
                    "Age": np.rint(rng.normal(age, 3, n)).astype(int),
                    "Annual Income (k$)": np.rint(rng.normal(income, 5, n)).astype(int),
                    "Spending Score (1-100)": np.rint(rng.normal(spend, 5, n)).astype(int),
                }
            )
        )
    return pd.concat(parts).sample(frac=1, random_state=random_state).reset_index(drop=True)


@pytest.fixture(scope="module")
def groups_run(tmp_path_factory):
    result = _segment(_groups("a", "b", "c", "d"), k=4)
    folder = tmp_path_factory.mktemp("groups")
    result.save(folder)
    return result, folder


def test_a_new_cluster_gets_a_fresh_id_and_the_others_keep_theirs(groups_run):
    old, folder = groups_run
    assert [s["size"] for s in old.model.segments] == [200, 160, 120, 90]
    data = _groups("a", "b", "c", "d", "seniors", random_state=1)
    result = _segment(data, k=5, previous=folder)
    block = result.summary["continuity"]
    assert [m["id"] for m in block["matches"]] == [0, 1, 2, 3]
    # Names are kept while they hold; the seniors make group d only "Older" (z 1.1), no
    # longer "Much older" (z >= 1.5), so its name is refreshed and the summary says so.
    assert [m["name"] == m["previous_name"] for m in block["matches"]] == [True] * 3 + [False]
    assert block["renamed"] == [
        {"id": 3, "from": "Much older · Low spending score", "to": "Older · Low income"}
    ]
    assert [(n["id"], n["size"]) for n in block["new"]] == [(4, 70)]
    assert block["vanished"] == []
    assert not block["warm_start"]["possible"]  # K changed: a cold fit
    seniors = result.table["CustomerID"].str.startswith("seniors")
    assert (result.table.loc[seniors, "segment"] == 4).all()
    assert block["transitions"]["customers_in_both"] == 570
    assert block["transitions"]["changed"] == 0


@pytest.fixture(scope="module")
def without_a_segment(groups_run):
    data = _groups("a", "c", "d", random_state=2)  # group b (segment 1) is gone
    return _segment(data, k=3, previous=groups_run[1])


def test_a_vanished_segment_is_reported_and_ids_keep_their_gap(groups_run, without_a_segment):
    block = without_a_segment.summary["continuity"]
    gone = groups_run[0].model.segment_names[1]
    assert [(v["id"], v["name"]) for v in block["vanished"]] == [(1, gone)]
    assert [m["id"] for m in block["matches"]] == [0, 2, 3]
    assert block["new"] == []
    model = without_a_segment.model
    assert model.center_ids.tolist() == [0, 2, 3]
    assert [s["id"] for s in model.segments] == [0, 2, 3]
    assert set(without_a_segment.labels.astype(int)) == {0, 2, 3}
    matrix = without_a_segment.transitions
    assert matrix["old_segment"].tolist() == [0, 1, 2, 3]
    assert matrix["customers"].tolist() == [200, 0, 120, 90]


def test_a_model_with_id_gaps_scores_and_round_trips(tmp_path, without_a_segment):
    model = without_a_segment.model
    loaded = custseg.load_model(model.save(tmp_path / "model.json"))
    assert loaded.to_dict() == model.to_dict()
    train = without_a_segment.table
    again = loaded.predict(train)
    assert (again["segment"].astype(int).to_numpy() == train["segment"].astype(int)).all()
    names = loaded.segment_names
    assert (again["segment_name"] == again["segment"].astype(int).map(names)).all()
    assert without_a_segment.summary["metrics"]["silhouette"] > 0.5


def test_fresh_ids_never_reuse_a_vanished_id(tmp_path, without_a_segment):
    without_a_segment.save(tmp_path / "gen2")
    assert without_a_segment.model.extra["lineage"]["next_id"] == 4
    third = _segment(_groups("a", "b", "c", "d", random_state=3), k=4, previous=tmp_path / "gen2")
    block = third.summary["continuity"]
    assert [(n["id"], n["size"]) for n in block["new"]] == [(4, 160)]  # b is back: not id 1
    assert third.model.extra["lineage"]["generation"] == 3


def test_a_name_that_no_longer_fits_is_refreshed_and_reported(base, old_run):
    model = copy.deepcopy(old_run[0].model)
    wrong = {0: "Very low spending"}  # contradicts segment 0's profile
    model.segments = [{**s, "name": wrong.get(s["id"], s["name"])} for s in model.segments]
    result = _segment(base, k=5, previous=PreviousRun(model=model))
    renamed = result.summary["continuity"]["renamed"]
    assert renamed == [
        {"id": 0, "from": "Very low spending", "to": old_run[0].model.segment_names[0]}
    ]
    assert result.summary["continuity"]["transitions"]["available"] is False


@pytest.mark.parametrize(
    ("name", "z", "fits"),
    [
        ("High income · Low spending score", [0.0, 0.45, -0.6], True),
        ("High income · Low spending score", [0.0, 0.30, -0.6], False),
        ("High income · Low spending score", [0.0, 0.9, 0.6], False),
        ("Young", [-0.45, 0.0, 0.0], True),
        ("Young", [0.6, 0.0, 0.0], False),
        ("Much older", [1.45, 0.0, 0.0], True),
        ("Much older", [1.2, 0.0, 0.0], False),
        ("Very high income", [0.0, 1.45, 0.0], True),
        ("Very high income", [0.0, 1.3, 0.0], False),
        ("Average", [0.2, -0.55, 0.1], True),
        ("Average 2", [0.2, -0.65, 0.1], False),
        ("Average · Above-average income", [0.2, 0.25, 0.1], True),
        ("Older · Below-average income (higher age)", [0.7, -0.3, 0.0], True),
        ("Low spending score 2", [0.0, 0.0, -0.7], True),
        ("Low spending", [0.0, 0.0, -0.7], False),  # an older vocabulary: refreshed
        ("Loyal", [0.0, 0.0, -0.7], False),
    ],
)
def test_name_fits_with_a_tolerance_of_a_tenth_of_a_standard_deviation(name, z, fits):
    assert name_fits(name, np.array(z), FEATURES) is fits


def test_match_centers_pairs_optimally_within_half_the_neighbour_distance():
    old = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 10.0]])
    new = np.array([[4.1, 0.0], [0.0, 2.5], [0.2, 0.0]])
    pairs, distances, limits = match_centers(old, new)
    assert limits.tolist() == [2.0, 2.0, 5.0]
    # new 0 -> old 1, new 2 -> old 0; new 1 is 2.5 from old 0 (limit 2) and unmatched.
    assert pairs == {0: 1, 2: 0}
    assert distances.shape == (3, 3)


def test_features_default_to_the_previous_models(tmp_path, base, old_run):
    data = base.assign(Visits=np.arange(len(base)) % 7)  # a new numeric column
    result = _segment(data, k=5, previous=old_run[1])
    assert result.summary["features"] == FEATURES


def test_other_features_are_refused_with_the_fix(base, old_run):
    with pytest.raises(SchemaError, match=r"missing 'Spending Score \(1-100\)'.*pass --features"):
        _segment(base, k=5, features=["Age", "Annual Income (k$)"], previous=old_run[1])


def test_no_id_column_for_transitions_is_refused(base, old_run):
    data = base.drop(columns=["CustomerID"])
    with pytest.raises(SchemaError, match=r"no customer ID column.*'CustomerID'.*--id-column"):
        _segment(data, k=5, previous=old_run[1])


def test_a_model_alone_links_ids_but_warns_that_transitions_are_impossible(tmp_path, base, old_run):
    old_run[0].model.save(tmp_path / "model.json")
    with pytest.warns(DataWarning, match="no segments.csv beside"):
        previous = load_previous(tmp_path / "model.json")
    assert previous.assignments is None
    result = _segment(base.drop(columns=["CustomerID"]), k=5, previous=previous)
    assert result.transitions is None
    assert len(result.summary["continuity"]["matches"]) == 5


@settings(max_examples=60, deadline=None)
@given(
    old=arrays("float64", st.tuples(st.integers(1, 6), st.just(3)), elements=COORD),
    new=arrays("float64", st.tuples(st.integers(1, 6), st.just(3)), elements=COORD),
)
def test_matching_is_one_to_one_and_within_each_limit(old, new):
    pairs, distances, limits = match_centers(old, new)
    assert len(set(pairs.values())) == len(pairs)  # no old segment matched twice
    assert len(pairs) <= min(len(old), len(new))
    for row, col in pairs.items():
        assert distances[row, col] <= limits[col]


def test_real_mall_data_retrained_on_itself_keeps_everything(mall_csv, tmp_path):
    first = _segment(mall_csv, k=5)
    first.save(tmp_path / "first")
    again = _segment(mall_csv, k=5, previous=tmp_path / "first", random_state=1)
    block = again.summary["continuity"]
    assert again.model.segment_names == first.model.segment_names
    assert len(block["matches"]) == 5 and block["new"] == block["vanished"] == []
    assert block["transitions"]["customers_in_both"] == 200
    assert block["transitions"]["changed"] == 0
    # Zero-padded IDs are joined as written.
    assert again.transitions["customers"].sum() == 200
