import json

import numpy as np
import pandas as pd
import pytest

import custseg
from custseg.errors import InputError, ModelError, SchemaError


@pytest.fixture(scope="module")
def fitted():
    return custseg.segment(custseg.make_customers(200, random_state=0), k=4)


def test_save_load_round_trip_scores_identically(tmp_path, fitted):
    path = fitted.model.save(tmp_path / "model.json")
    loaded = custseg.load_model(path)
    data = custseg.make_customers(50, random_state=3)
    pd.testing.assert_frame_equal(loaded.predict(data), fitted.model.predict(data))
    assert loaded.to_dict() == fitted.model.to_dict()
    assert custseg.load_model(tmp_path).feature_names == fitted.model.feature_names


def test_model_file_is_plain_versioned_json(tmp_path, fitted):
    data = json.loads(fitted.model.save(tmp_path / "m.json").read_text())
    assert data["format"] == "custseg-model"
    assert data["schema_version"] == 2
    assert data["custseg_version"] == custseg.__version__
    assert data["training"]["fingerprint"].startswith("sha256:")
    assert [f["name"] for f in data["features"]] == [
        "Age",
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    assert len(data["centers"]) == 4 and len(data["segments"]) == 4


def test_a_version_1_model_without_transform_or_fences_still_scores(tmp_path, fitted):
    data = fitted.model.to_dict()
    data["schema_version"] = 1
    del data["preprocessing"]["outliers"]
    assert "transform" not in data["preprocessing"]  # the sample has no skewed column
    (tmp_path / "v1.json").write_text(json.dumps(data))
    old = custseg.load_model(tmp_path / "v1.json")
    frame = custseg.make_customers(50, random_state=3)
    scored = old.predict(frame)
    assert "outlier" not in scored.columns
    assert scored["segment"].tolist() == fitted.model.predict(frame)["segment"].tolist()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a custseg model"),
        ('{"hello": 1}', "is not a custseg model"),
        ('{"format": "custseg-model", "schema_version": 99}', "schema version 99"),
        ('{"format": "custseg-model", "schema_version": 1}', "damaged custseg model"),
    ],
)
def test_bad_model_files(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ModelError, match=message):
        custseg.load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        custseg.load_model(tmp_path / "nope.json")


def test_scoring_input_missing_a_feature_names_it(fitted):
    frame = custseg.make_customers(5).drop(columns=["Age"])
    with pytest.raises(SchemaError, match="lacks the model's feature column\\(s\\) 'Age'"):
        fitted.model.predict(frame)


def test_scoring_matches_columns_loosely_and_ignores_extras(fitted):
    frame = custseg.make_customers(20, random_state=1)
    renamed = frame.rename(columns={"Annual Income (k$)": "annual income (k$)"}).assign(extra=1)
    assert fitted.model.predict(renamed)["segment"].tolist() == (
        fitted.model.predict(frame)["segment"].tolist()
    )


def test_scoring_imputes_missing_values_with_training_medians(fitted):
    frame = custseg.make_customers(3, random_state=1).astype(str)
    frame.loc[0, "Age"] = ""
    scored = fitted.model.predict(frame)
    filled = frame.copy()
    filled.loc[0, "Age"] = str(fitted.model.impute_values[0])
    assert scored["segment"].tolist() == fitted.model.predict(filled)["segment"].tolist()


def test_predict_never_leaves_the_model(fitted):
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1000, size=(500, 3))
    labels = fitted.model.predict_matrix(X)["segment"]
    assert set(labels.unique()) <= {s["id"] for s in fitted.model.segments}


def test_scores_taken_in_a_new_order_are_those_of_the_rows_in_that_order():
    model = custseg.segment(custseg.make_customers(200, random_state=0), k=3, missing="drop").model
    rng = np.random.default_rng(1)
    X = rng.normal(50, 25, size=(300, 3))
    X[::7, 1] = np.nan  # unscored under missing="drop": their reason goes with them
    order = rng.permutation(300)
    taken = model.scores_frame(model.score_arrays(X).take(order))
    pd.testing.assert_frame_equal(taken, model.predict_matrix(X[order]))
    assert (taken["reason"] != "").sum() == 43
    assert taken["segment"].isna().tolist() == np.isnan(X[order, 1]).tolist()
