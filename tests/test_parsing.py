"""Numbers written as text: separators, currency, percentages (custseg.features.parsing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from custseg.errors import SchemaError
from custseg.features.large import feature_matrix
from custseg.features.parsing import parse_number_text
from custseg.features.roles import parse_numeric


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["12,669.5", "669", "1,234,567.25"], [12669.5, 669.0, 1234567.25]),
        (["1 234,5", "12,5", "7"], [1234.5, 12.5, 7.0]),
        (["1\u00a0234,5", "1\u202f234\u202f567,25"], [1234.5, 1234567.25]),
        (["12'669.50", "3.5"], [12669.5, 3.5]),
        (["$1,234", "$12.00", "7"], [1234.0, 12.0, 7.0]),
        (["€ 12,50", "€ 1.234,50", "12,50 €"], [12.5, 1234.5, 12.5]),
        (["1,234.56 USD", "CHF 12'000.00"], [1234.56, 12000.0]),
        (["12%", "3.5 %", "100%"], [12.0, 3.5, 100.0]),
        (["(1,234.00)", "-$5", "$-5", "+3"], [-1234.0, -5.0, -5.0, 3.0]),
        (["1,234", "669"], [1234.0, 669.0]),
        (["1.234.567", "12,5"], [1234567.0, 12.5]),
        (["1.234", "12,5"], [1234.0, 12.5]),
        (["9.3448e-05", "0.99991"], [9.3448e-05, 0.99991]),
    ],
)
def test_formatted_numbers_are_read(texts, expected):
    np.testing.assert_allclose(parse_number_text(pd.Series(texts)).values, expected)


@pytest.mark.parametrize(
    "text",
    ["20 7946 0958", "12,34,567", "1,2,3.5", "$", "12 kg", "1.234.56", "abc", "Q3", "%"],
)
def test_text_that_is_not_one_number_is_not_read(text):
    values = parse_number_text(pd.Series([text, "1,234.5"])).values
    assert np.isnan(values[0])


def test_the_decimal_mark_is_voted_by_the_whole_column_in_any_order():
    texts = ["1.234,5", "12,25", "7", "1.000"] * 5 + ["3.5"]
    expected = parse_number_text(pd.Series(texts)).values
    assert parse_number_text(pd.Series(texts)).decimal == ","
    np.testing.assert_array_equal(expected[:4], [1234.5, 12.25, 7.0, 1000.0])
    assert np.isnan(expected[-1])  # "3.5" is out of step with the column: reported, not guessed
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = rng.permutation(len(texts))
        shuffled = parse_number_text(pd.Series(texts).iloc[order].reset_index(drop=True))
        np.testing.assert_array_equal(shuffled.values, expected[order])


def test_parse_numeric_names_the_value_that_breaks_the_column_format():
    frame = pd.DataFrame({"Fresh": ["12,669.5", "7,057", "12,5"]})
    with pytest.raises(
        SchemaError, match=r"column 'Fresh' in w.csv must be numeric; found '12,5' at row 3"
    ):
        parse_numeric(frame, "Fresh", source="w.csv")


def test_the_big_table_parser_reads_formats_as_the_core_parser():
    texts = ["$12,669.50", "7,057", "", "NA", "(1,000)", "12%", "€ 3"] * 40_000
    core = parse_numeric(pd.DataFrame({"x": texts}), "x")
    arrow = pd.DataFrame({"x": pd.array(texts, dtype=pd.ArrowDtype(pa.string()))})
    fast = feature_matrix(arrow, ["x"])[:, 0]
    np.testing.assert_array_equal(fast, core)
    assert core[:7].tolist()[:2] == [12669.5, 7057.0]
