"""SegmentOptions: validated once, errors in parameter names; the CLI spells them as flags."""

from __future__ import annotations

import dataclasses

import pytest

from custseg import InputError, Segmenter
from custseg.cli._options import as_flags
from custseg.options import SegmentOptions, resolve_options


@pytest.mark.parametrize(
    ("params", "message", "parameters"),
    [
        ({"k": 0}, "k must be at least 1; got 0", ("k",)),
        ({"k": 2.5}, "k must be a whole number; got 2.5", ("k",)),
        ({"k": True}, "k must be a whole number; got True", ("k",)),
        ({"missing": "zap"}, "missing must be one of impute, drop, error; got 'zap'", ("missing",)),
        (
            {"scaling": "zscore"},
            "scaling must be one of standard, robust, minmax, none; got 'zscore'",
            ("scaling",),
        ),
        (
            {"stability": -1},
            "stability must be 0 (off) or a number of resamples; got -1",
            ("stability",),
        ),
        (
            {"k_min": 5, "k_max": 3},
            "k_min and k_max must satisfy 2 <= k_min <= k_max; got 5 and 3",
            ("k_min", "k_max"),
        ),
        ({"k_min": 1}, "k_min and k_max must satisfy 2 <= k_min <= k_max; got 1 and 10", None),
        ({"features": "Age"}, "features must be a list of column names", ("features",)),
        ({"algorithm": "kmean"}, "unknown algorithm 'kmean'; choose from: ", None),
    ],
)
def test_each_rule_names_the_parameter_not_a_flag(params, message, parameters):
    with pytest.raises(InputError) as caught:
        SegmentOptions(**params)
    assert str(caught.value).startswith(message)
    assert "--" not in str(caught.value)
    if parameters is not None:
        assert caught.value.parameters == parameters


def test_a_k_range_is_only_checked_when_k_is_chosen():
    assert SegmentOptions(k=4, k_min=9, k_max=3).k == 4


def test_options_are_frozen_and_normalised():
    options = SegmentOptions(features=["Age", "Income"], k=3)
    assert options.features == ("Age", "Income")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.k = 4  # type: ignore[misc]
    # replace() validates again.
    with pytest.raises(InputError, match=r"^k must be at least 1"):
        options.replace(k=0)


def test_resolve_options_applies_keywords_on_top():
    base = SegmentOptions(k=3, scaling="robust")
    assert resolve_options(base, {}) is base
    assert resolve_options(base, {"k": 5}) == SegmentOptions(k=5, scaling="robust")
    assert resolve_options(None, {"missing": "drop"}) == SegmentOptions(missing="drop")


def test_segmenter_keeps_its_keyword_parameters_and_builds_the_same_options():
    segmenter = Segmenter(k=3, missing="drop", features=["Age"])
    assert segmenter.k == 3 and segmenter.missing == "drop"
    options = segmenter.get_options()
    assert options == SegmentOptions(k=3, missing="drop", features=("Age",))
    again = Segmenter.from_options(options)
    assert again.get_options() == options and again.features == ["Age"]


@pytest.mark.parametrize(
    ("message", "parameters", "expected"),
    [
        ("k must be at least 1; got 0", ("k",), "--k must be at least 1; got 0"),
        (
            "k_min and k_max must satisfy 2 <= k_min <= k_max; got 5 and 3",
            ("k_min", "k_max"),
            "--k-min and --k-max must satisfy 2 <= --k-min <= --k-max; got 5 and 3",
        ),
        (
            "k=50 is larger than the 20 distinct customer profile(s) in /data/k/k.csv; "
            "choose k=20 or fewer",
            (),
            "--k 50 is larger than the 20 distinct customer profile(s) in /data/k/k.csv; "
            "choose --k 20 or fewer",
        ),
        (
            "column 'Age' has a missing value at row 4 (2 row(s) affected); fill it, or pass "
            "missing='impute' or missing='drop'",
            (),
            "column 'Age' has a missing value at row 4 (2 row(s) affected); fill it, or pass "
            "--missing impute or --missing drop",
        ),
        (
            "leave it out of features (or name another id_column)",
            ("features", "id_column"),
            "leave it out of --features (or name another --id-column)",
        ),
        # A word used in its ordinary sense, or a name the error does not list, stays.
        ("missing values in 'k'", (), "missing values in 'k'"),
        ("random_state=7 and seed", (), "--seed 7 and seed"),
        ("colour=red", (), "colour=red"),
    ],
)
def test_the_cli_spells_parameters_as_flags(message, parameters, expected):
    assert as_flags(message, parameters) == expected
