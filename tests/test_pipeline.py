import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import custseg
from custseg.errors import DataWarning, EmptyInputError, InputError, SchemaError

# Three tight groups of different sizes: 5, 3 and 2 customers.
TOY = pd.DataFrame(
    {
        "id": [f"c{i:02d}" for i in range(10)],
        "x": [0, 1, 0, 1, 0, 10, 11, 10, 30, 31],
        "y": [0, 0, 1, 1, 0, 10, 10, 11, 0, 1],
    }
)
TRUTH = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]


def test_toy_segments_and_centres_by_hand():
    # No scaling and no log transform: the centres are the groups' plain means.
    result = custseg.segment(TOY, k=3, scaling="none", transform="none")
    # numbered by size, largest first: the hand labels are already in that order
    assert result.labels.tolist() == TRUTH
    centres = result.model.scaler.inverse_transform(result.model.centers)
    np.testing.assert_allclose(centres, [[0.4, 0.4], [31 / 3, 31 / 3], [30.5, 0.5]])
    assert [s["size"] for s in result.summary["segments"]] == [5, 3, 2]
    assert result.summary["id_column"] == "id"
    assert result.summary["features"] == ["x", "y"]


def test_standard_scaling_recovers_the_toy_groups():
    result = custseg.segment(TOY, k=3)
    assert adjusted_rand_score(result.labels.astype(int), TRUTH) == 1.0
    assert result.summary["scaling"] == "standard"


@pytest.mark.parametrize("scaling", ["standard", "robust", "minmax", "none"])
def test_every_scaling_gives_a_valid_run(sample_frame, scaling):
    result = custseg.segment(sample_frame, k=4, scaling=scaling)
    assert sorted(result.labels.unique()) == [0, 1, 2, 3]
    sizes = [s["size"] for s in result.summary["segments"]]
    assert sizes == sorted(sizes, reverse=True)


def test_auto_k_finds_the_five_groups_in_income_and_spending(sample_frame):
    result = custseg.segment(
        sample_frame, features=["Annual Income (k$)", "Spending Score (1-100)"]
    )
    assert result.summary["k"] == 5
    table = result.k_selection
    assert table["k"].tolist() == list(range(2, 11))
    assert {"inertia", "silhouette"} <= set(table.columns)
    assert result.summary["k_selection"]["chosen"] == 5


def test_output_keeps_every_row_and_column(sample_frame):
    result = custseg.segment(sample_frame, k=5)
    table = result.table
    assert list(table.columns[:5]) == list(sample_frame.columns)
    assert list(table.columns[5:8]) == ["segment", "segment_name", "distance_to_center"]
    assert len(table) == len(sample_frame)
    assert table["segment_name"].nunique() == 5
    assert (table["distance_to_center"] >= 0).all()


def test_same_seed_same_labels_and_model(sample_frame):
    a = custseg.segment(sample_frame, random_state=7)
    b = custseg.segment(sample_frame, random_state=7)
    assert a.labels.tolist() == b.labels.tolist()
    assert a.model.to_dict() == b.model.to_dict()


def test_predict_on_training_rows_reproduces_labels(sample_frame):
    seg = custseg.Segmenter(k=5).fit(sample_frame)
    assert seg.predict(sample_frame)["segment"].tolist() == seg.labels_.tolist()
    assert seg.k_ == 5


def test_summary_profiles_in_original_units(sample_frame):
    result = custseg.segment(sample_frame, k=3)
    income = "Annual Income (k$)"
    for seg in result.summary["segments"]:
        members = sample_frame.loc[result.labels == seg["id"], income]
        assert seg["mean"][income] == pytest.approx(members.mean())
        assert seg["median"][income] == pytest.approx(members.median())
        assert seg["share"] == pytest.approx(len(members) / 200)
    assert set(result.summary["metrics"]) >= {
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
    }


def test_missing_impute_warns_with_counts():
    frame = TOY.astype(str)
    frame.loc[2, "x"] = ""
    frame.loc[3, "x"] = "NA"
    with pytest.warns(DataWarning, match=r"missing values imputed .*'x': 2"):
        result = custseg.segment(frame, k=3, scaling="none")
    assert result.labels.notna().all()
    assert result.summary["missing"]["counts"] == {"x": 2, "y": 0}


def test_missing_drop_keeps_the_row_with_a_reason():
    frame = TOY.astype(str)
    frame.loc[9, "y"] = ""
    with pytest.warns(DataWarning, match="left out of fitting"):
        result = custseg.segment(frame, k=3, missing="drop")
    table = result.table
    assert len(table) == 10
    assert table.loc[9, "segment"] is pd.NA
    assert table.loc[9, "reason"] == "missing value in 'y'"
    assert (table.loc[:8, "reason"] == "").all()
    assert result.summary["input"]["rows_fitted"] == 9


def test_missing_error_names_column_and_row():
    frame = TOY.astype(str)
    frame.loc[4, "y"] = ""
    with pytest.raises(SchemaError, match="column 'y' in input has a missing value at row 5"):
        custseg.segment(frame, k=3, missing="error")


def test_constant_feature_is_dropped_with_a_warning():
    frame = TOY.assign(flat=7)
    with pytest.warns(DataWarning, match="feature 'flat' has a single value"):
        result = custseg.segment(frame, k=3, features=["x", "y", "flat"])
    assert result.summary["features"] == ["x", "y"]
    assert {
        "column": "flat",
        "role": "constant",
        "reason": "a single value in every row",
    } in result.summary["skipped"]


def test_duplicate_ids_warn_and_every_row_is_kept():
    frame = TOY.copy()
    frame.loc[1, "id"] = "c00"
    with pytest.warns(DataWarning, match="ID column 'id' has 1 duplicate"):
        result = custseg.segment(frame, k=3)
    assert len(result.table) == 10


def test_skipped_columns_have_reasons(sample_frame):
    result = custseg.segment(sample_frame, k=3)
    skipped = {s["column"]: s["reason"] for s in result.summary["skipped"]}
    assert skipped["CustomerID"] == "customer ID"
    assert skipped["Gender"].startswith("categorical")


@pytest.mark.parametrize(
    ("frame", "options", "error", "message"),
    [
        (TOY, {"features": ["z"]}, SchemaError, "column 'z' not found"),
        (TOY[["id"]], {}, SchemaError, "no usable numeric feature"),
        (TOY.assign(e=""), {"features": ["x", "e"]}, SchemaError, "column 'e' is entirely empty"),
        (TOY.head(2), {"k": 2}, EmptyInputError, "only 2 usable row"),
        (TOY, {"k": 11}, EmptyInputError, "k=11 is larger than the 9 distinct"),
        (TOY, {"algorithm": "kmean"}, InputError, "unknown algorithm 'kmean'; choose from: "),
        (TOY, {"missing": "ignore"}, InputError, "^missing must be one of impute, drop, error"),
        (TOY, {"k_min": 5, "k_max": 3}, InputError, "^k_min and k_max must satisfy"),
        (TOY, {"k": 0}, InputError, "^k must be at least 1; got 0"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(frame, options, error, message):
    with pytest.raises(error, match=message):
        custseg.segment(frame, **options)


def test_empty_column_not_requested_is_skipped_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = custseg.segment(TOY.assign(blank=""), k=3)
    assert any("entirely empty" in str(w.message) for w in caught)
    assert {"column": "blank", "role": "empty", "reason": "every value is missing"} in (
        result.summary["skipped"]
    )


def test_feature_records_made_ahead_are_those_of_the_model():
    from custseg.options import SegmentOptions
    from custseg.segmentation.fit import feature_records, feature_records_ahead
    from custseg.segmentation.prepare import in_canonical_order, prepare

    frame = custseg.make_customers(300, random_state=4)
    prep, _ = in_canonical_order(prepare(frame, SegmentOptions(k=3), source="customers"))
    ahead = feature_records_ahead(prep).result(timeout=60)
    assert ahead == feature_records(prep)
    assert [r["name"] for r in ahead] == prep.features
    assert custseg.segment(frame, k=3).model.features == ahead  # what the model keeps
