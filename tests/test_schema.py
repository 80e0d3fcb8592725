import numpy as np
import pandas as pd
import pytest

from custseg.errors import SchemaError
from custseg.features.roles import detect_roles, looks_like_id_name, match_column, parse_numeric


def _text(**cols):
    return pd.DataFrame({k: [str(v) for v in vals] for k, vals in cols.items()})


@pytest.mark.parametrize("name", ["id", "ID", "CustomerID", "CUST_ID", "customer_id", "Client No"])
def test_id_like_names(name):
    assert looks_like_id_name(name)


@pytest.mark.parametrize("name", ["Age", "Paid", "Valid", "Income", "Spending Score (1-100)"])
def test_not_id_like_names(name):
    assert not looks_like_id_name(name)


def test_roles_of_a_typical_table():
    n = 30
    frame = _text(
        CustomerID=[f"{i:04d}" for i in range(n)],
        Gender=["Female", "Male"] * (n // 2),
        Age=range(20, 20 + n),
        Joined=[f"2024-01-{i % 28 + 1:02d}" for i in range(n)],
        Note=[f"free comment number {i % 17}" for i in range(n)],
        Region=["north"] * n,
        Blank=[""] * n,
    )
    roles = {c.name: c.role for c in detect_roles(frame).columns}
    assert roles == {
        "CustomerID": "id",
        "Gender": "categorical",
        "Age": "numeric",
        "Joined": "date",
        "Note": "text",
        "Region": "constant",
        "Blank": "empty",
    }


def test_running_row_number_is_an_id_and_explicit_id_wins():
    frame = _text(row=range(1, 21), code=[f"c{i}" for i in range(20)], x=[i % 7 for i in range(20)])
    assert detect_roles(frame).id_column == "row"
    schema = detect_roles(frame, id_column="CODE")
    assert schema.id_column == "code"
    assert schema["row"].role == "numeric"


def test_parse_numeric_names_column_row_and_value():
    frame = _text(**{"Annual Income (k$)": ["15", "16", "abc", "n/a", ""]})
    with pytest.raises(
        SchemaError,
        match=r"column 'Annual Income \(k\$\)' in t.csv must be "
        r"numeric; found 'abc' at row 3",
    ):
        parse_numeric(frame, "Annual Income (k$)", source="t.csv")


def test_parse_numeric_missing_tokens_and_decimal_comma():
    values = parse_numeric(_text(x=["1,5", "NA", "", "2,25"]), "x")
    np.testing.assert_array_equal(values, [1.5, np.nan, np.nan, 2.25])


def test_parse_numeric_rejects_infinity():
    with pytest.raises(SchemaError, match="infinite value 'inf' at row 2"):
        parse_numeric(_text(x=["1", "inf"]), "x")


def test_match_column_exact_then_loose_then_suggestion():
    cols = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    assert match_column("Age", cols) == "Age"
    assert match_column("annual income(k$)", cols) == "Annual Income (k$)"
    with pytest.raises(
        SchemaError,
        match=r"column 'Incom' not found; did you mean "
        r"'Annual Income \(k\$\)'\?.*available columns: 'Age'",
    ):
        match_column("Incom", cols)
