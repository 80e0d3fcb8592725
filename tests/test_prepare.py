"""The prepare stage's shared pieces: one missing-value policy, one scaler construction."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from custseg import DataWarning, SchemaError
from custseg.features.missing import (
    MissingCounts,
    apply_missing_policy,
    fitting_rows,
    impute_values,
)
from custseg.features.preprocessing import ColumnStatistics, fit_scaler, scaler_from_statistics

X = np.array([[1.0, np.nan], [2.0, 5.0], [np.nan, np.nan], [4.0, 7.0], [5.0, 9.0]])
FEATURES = ["a", "b"]


def test_counts_of_batches_add_up_to_the_counts_of_the_table():
    whole = MissingCounts.of(np.isnan(X), FEATURES)
    first = MissingCounts.of(np.isnan(X[:2]), FEATURES)
    second = MissingCounts.of(np.isnan(X[2:]), FEATURES, row_offset=2)
    assert first + second == whole
    assert whole.per_feature == (1, 2)
    assert whole.rows_with_missing == 2
    assert (whole.first_row, whole.first_feature) == (0, 1)
    # A first part without a missing value: the later part's first one is kept.
    later = MissingCounts.of(np.isnan(X[1:2]), FEATURES) + MissingCounts.of(
        np.isnan(X[2:]), FEATURES, row_offset=2
    )
    assert (later.first_row, later.first_feature) == (2, 0)


def test_error_policy_names_column_row_and_count_in_parameter_words():
    counts = MissingCounts.of(np.isnan(X[1:]), FEATURES, row_offset=1)
    with pytest.raises(SchemaError) as caught:
        apply_missing_policy("error", counts, "t.csv")
    assert str(caught.value) == (
        "column 'a' in t.csv has a missing value at row 3 (1 row(s) affected); fill it, or "
        "pass missing='impute' or missing='drop'"
    )


@pytest.mark.parametrize(
    ("policy", "kwargs", "expected"),
    [
        ("impute", {}, "missing values imputed with the column median ('a': 1, 'b': 2)"),
        (
            "impute",
            {"median_rows": 1000},
            "missing values imputed with the column median of a sample of 1000 rows "
            "('a': 1, 'b': 2)",
        ),
        (
            "drop",
            {"output": "segments.parquet"},
            "2 row(s) with missing values left out of fitting; they appear in segments.parquet "
            "with an empty segment and a reason",
        ),
    ],
)
def test_impute_and_drop_say_what_was_done(policy, kwargs, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_missing_policy(policy, MissingCounts.of(np.isnan(X), FEATURES), "t.csv", **kwargs)
    assert [str(w.message) for w in caught if w.category is DataWarning] == [expected]


def test_nothing_missing_is_silent_and_fits_every_row_without_a_copy():
    complete = X[[1, 3, 4]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_missing_policy("error", MissingCounts.of(np.isnan(complete), FEATURES), "t")
    fitted, rows = fitting_rows(complete, "drop", impute_values(complete))
    assert fitted is complete and rows.all()


def test_fitting_rows_fill_with_medians_or_leave_rows_out():
    fill = impute_values(X)
    np.testing.assert_array_equal(fill, [3.0, 7.0])
    imputed, rows = fitting_rows(X, "impute", fill)
    assert rows.all() and not np.isnan(imputed).any()
    np.testing.assert_array_equal(imputed[2], [3.0, 7.0])
    dropped, rows = fitting_rows(X, "drop", fill)
    np.testing.assert_array_equal(rows, [False, True, False, True, True])
    np.testing.assert_array_equal(dropped, X[rows])
    # A feature without any value gets 0, not NaN.
    np.testing.assert_array_equal(impute_values(np.full((3, 1), np.nan)), [0.0])


@pytest.mark.parametrize(
    ("method", "reference"),
    [("standard", StandardScaler), ("minmax", MinMaxScaler), ("robust", RobustScaler)],
)
def test_one_scaler_construction_matches_scikit_learn(method, reference):
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.normal(size=300), rng.exponential(size=300), np.ones(300)])
    scaler = fit_scaler(data, method)
    expected = reference().fit_transform(data)
    np.testing.assert_allclose(scaler.transform(data), expected, atol=1e-12)
    # The same construction from statistics a streaming backend computed its own way.
    streamed = ColumnStatistics(
        3,
        mean=data.mean(axis=0),
        std=data.std(axis=0),
        minimum=data.min(axis=0),
        maximum=data.max(axis=0),
        median=np.median(data, axis=0),
        iqr=np.subtract(*np.percentile(data, [75, 25], axis=0)),
    )
    again = scaler_from_statistics(method, streamed)
    np.testing.assert_allclose(again.center, scaler.center, rtol=1e-12)
    np.testing.assert_allclose(again.scale, scaler.scale, rtol=1e-12)
    assert again.scale[2] == 1.0  # a constant feature keeps scale 1


def test_statistics_without_what_the_scaling_needs_are_refused():
    with pytest.raises(ValueError, match="lack what 'robust' scaling needs"):
        scaler_from_statistics("robust", ColumnStatistics(2, mean=np.zeros(2), std=np.ones(2)))
