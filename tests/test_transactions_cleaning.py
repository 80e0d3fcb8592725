"""Each cleaning rule alone: amounts as text, date formats, returns, column roles, reading."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from custseg.errors import DataFormatError, EmptyInputError, SchemaError
from custseg.io.transactions import read_transactions
from custseg.transactions import build_customer_features, detect_log_columns
from custseg.transactions.cleaning import parse_amounts, parse_dates


def _rules(report: dict) -> dict[str, int]:
    return {r["rule"]: r["lines"] for r in report["cleaning"]["rules"]}


# --- amounts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["12.50", "3"], [12.5, 3.0]),
        (["$1,234.50", "$12.00", "7"], [1234.5, 12.0, 7.0]),
        (["1.234,50 €", "12,00 €"], [1234.5, 12.0]),
        (["£ 40.00", "(12.50)", "3.20-"], [40.0, -12.5, -3.2]),
        (["1'234.50 CHF", "2,000"], [1234.5, 2000.0]),
        (["1.234.567", "12,5"], [1234567.0, 12.5]),
    ],
)
def test_parse_amounts_reads_numbers_written_as_text(texts, expected):
    numbers, _ = parse_amounts(pd.Series(texts, dtype=object))
    np.testing.assert_allclose(numbers, expected)


def test_amounts_as_text_are_parsed_and_reported():
    log = pd.DataFrame(
        {
            "Customer": ["1", "1", "2"],
            "Date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "Amount": ["1.234,50 €", "10,00 €", "5,25 €"],
        }
    )
    features, report = build_customer_features(log, clv=False)
    assert features.set_index("Customer")["monetary"].to_dict() == {"1": 1244.5, "2": 5.25}
    text = report["cleaning"]["amount_text"]["Amount"]
    assert text["values"] == 3
    assert text["examples"][0] == {"row": 1, "value": "1.234,50 €"}


def test_an_amount_that_is_not_a_number_names_column_row_and_value():
    log = pd.DataFrame(
        {
            "Customer": ["1", "2", "3"],
            "Date": ["2024-01-01"] * 3,
            "Amount": ["$10.00", "n/a", "$3.00"],
        }
    )
    with pytest.raises(
        SchemaError, match=r"column 'Amount' must hold numbers; found 'n/a' at row 2"
    ):
        build_customer_features(log, clv=False)


def test_empty_amounts_are_removed_and_counted():
    log = pd.DataFrame({"Customer": ["1", "2"], "Date": ["2024-01-01"] * 2, "Amount": ["10", ""]})
    features, report = build_customer_features(log, clv=False)
    assert _rules(report)["missing_value"] == 1
    assert features["Customer"].tolist() == ["1"]


# --- dates -----------------------------------------------------------------------------


def test_parse_dates_mixes_formats_and_prefers_day_first_when_ambiguous():
    values = pd.Series(
        ["2024-01-31 10:00:00", "31/01/2024", "05/02/2024", "13.02.2024", "Feb 30 2024", "x"]
    )
    seconds, which, formats = parse_dates(values)
    days = [str(np.datetime64(int(s), "s").astype("datetime64[D]")) for s in seconds[:4]]
    assert days == ["2024-01-31", "2024-01-31", "2024-02-05", "2024-02-13"]
    assert formats[which[0]] == "%Y-%m-%d %H:%M:%S"
    assert formats[which[1]] == "%d/%m/%Y"
    assert which[4] == which[5] == -1  # Feb 30 does not exist


def test_month_first_dates_are_read_when_the_day_cannot_be_first():
    seconds, _, formats = parse_dates(pd.Series(["01/31/2024", "12/25/2023"]))
    assert formats == ["%m/%d/%Y"]
    assert str(np.datetime64(int(seconds[0]), "s")) == "2024-01-31T00:00:00"


def test_unparseable_dates_are_counted_with_first_examples():
    log = pd.DataFrame(
        {
            "Customer": ["1", "1", "2", "3"],
            "Date": ["2024-01-01", "yesterday", "", "2024-01-05"],
            "Amount": ["10", "10", "10", "10"],
        }
    )
    features, report = build_customer_features(log, clv=False)
    rule = next(r for r in report["cleaning"]["rules"] if r["rule"] == "unparseable_date")
    assert rule["lines"] == 2
    assert rule["examples"] == [{"row": 2, "value": "yesterday"}, {"row": 3, "value": ""}]
    assert features["Customer"].tolist() == ["1", "3"]


def test_typed_datetimes_with_a_time_zone_keep_their_wall_clock():
    log = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "order_date": pd.to_datetime(["2024-01-01 23:30", "2024-01-03 10:00"]).tz_localize(
                "Europe/Paris"
            ),
            "sales": [5.0, 7.0],
        }
    )
    features, report = build_customer_features(log, clv=False)
    assert features["first_purchase"].tolist() == ["2024-01-01", "2024-01-03"]
    assert features["customer_id"].tolist() == ["1", "2"]
    assert report["cleaning"]["date_formats"] == {"stored as dates": 2}


# --- returns and purchases -------------------------------------------------------------


def test_negative_quantity_without_cancelled_invoice_is_a_return():
    log = pd.DataFrame(
        {
            "InvoiceNo": ["1", "2"],
            "CustomerID": ["7", "7"],
            "InvoiceDate": ["2024-01-01", "2024-01-02"],
            "Quantity": ["3", "-1"],
            "UnitPrice": ["2.00", "2.00"],
        }
    )
    features, report = build_customer_features(log, clv=False)
    assert _rules(report)["negative_quantity"] == 1
    assert features.loc[0, "monetary"] == 4.0
    assert features.loc[0, "return_rate"] == 0.5


def test_a_log_with_no_valid_purchase_is_refused():
    log = pd.DataFrame({"Customer": ["1"], "Date": ["2024-01-01"], "Amount": ["-5"]})
    with pytest.raises(EmptyInputError, match="no valid purchase left"):
        build_customer_features(log, clv=False)


def test_customer_ids_stored_as_floats_read_as_whole_numbers():
    log = pd.DataFrame(
        {
            "CustomerID": [12346.0, np.nan, 12347.0],
            "InvoiceDate": ["2024-01-01"] * 3,
            "Quantity": [1, 1, 2],
            "UnitPrice": [1.5, 2.0, 3.0],
        }
    )
    features, report = build_customer_features(log, clv=False)
    assert features["CustomerID"].tolist() == ["12346", "12347"]
    assert _rules(report)["missing_customer"] == 1


# --- column roles ----------------------------------------------------------------------


def test_roles_are_detected_from_common_names():
    frame = pd.DataFrame(
        columns=["order_id", "cust_id", "sku", "qty", "unit_price", "created_date", "region"]
    )
    frame.loc[0] = ["1", "a", "x", "1", "2", "2024-01-01", "North"]
    frame.loc[1] = ["2", "b", "y", "1", "2", "2024-01-01", "South"]
    roles = detect_log_columns(frame).as_dict()
    assert roles == {
        "customer": "cust_id",
        "date": "created_date",
        "invoice": "order_id",
        "quantity": "qty",
        "price": "unit_price",
        "amount": None,
        "product": "sku",
        "category": "region",
    }


def test_a_date_column_is_found_by_content_when_its_name_says_nothing():
    frame = pd.DataFrame(
        {
            "client": ["a", "b", "c", "d"],
            "when": ["2024-01-01", "02/01/2024", "yesterday", "2024-02-01"],
            "revenue": ["1", "2", "3", "20240101"],
        }
    )
    cols = detect_log_columns(frame)
    assert (cols.date, cols.how["date"]) == ("when", "content")
    assert cols.amount == "revenue"


def test_a_given_column_that_does_not_exist_suggests_the_closest():
    frame = pd.DataFrame({"CustomerID": ["1"], "InvoiceDate": ["2024-01-01"], "Amount": ["1"]})
    with pytest.raises(SchemaError, match=r"customer column 'CustomerIDs' not found.*Did you mean"):
        detect_log_columns(frame, customer="CustomerIDs")
    assert detect_log_columns(frame, customer="customer id").customer == "CustomerID"


def test_missing_roles_name_the_flag_to_pass():
    frame = pd.DataFrame({"who": ["1"], "InvoiceDate": ["2024-01-01"], "Amount": ["1"]})
    with pytest.raises(SchemaError, match=r"no customer ID column found.*--customer-col"):
        detect_log_columns(frame)
    frame = pd.DataFrame({"CustomerID": ["1"], "InvoiceDate": ["2024-01-01"], "Note": ["x"]})
    with pytest.raises(SchemaError, match="--amount-col NAME, or --quantity-col Q --price-col P"):
        detect_log_columns(frame)
    with pytest.raises(SchemaError, match="--quantity-col needs --price-col"):
        detect_log_columns(frame, quantity="Note")


# --- reading ---------------------------------------------------------------------------


def test_reader_keeps_text_exactly_and_sniffs_delimiter_and_encoding(tmp_path):
    path = tmp_path / "log.csv"
    text = (
        "\ufeffKunde;Datum;Betrag;Land\n"
        "0007;01.02.2024;1.234,50 €;Österreich\n"
        "0008;02.02.2024;3,00 €;\n"
    )
    path.write_bytes(text.encode("utf-8"))
    frame = read_transactions(path)
    assert list(frame.columns) == ["Kunde", "Datum", "Betrag", "Land"]
    assert frame["Kunde"].tolist() == ["0007", "0008"]
    assert pd.isna(frame["Land"].iloc[1])
    features, _ = build_customer_features(
        frame,
        customer_col="Kunde",
        date_col="Datum",
        amount_col="Betrag",
        category_col="Land",
        clv=False,
    )
    assert features["monetary"].tolist() == [1234.5, 3.0]
    assert features["Land"].tolist() == ["Österreich", ""]

    latin = tmp_path / "latin.csv.gz"
    with gzip.open(latin, "wb") as fh:
        fh.write("id,date,amount,country\n1,2024-01-01,2.5,España\n".encode("latin-1"))
    assert read_transactions(latin)["country"].tolist() == ["España"]


def test_reader_reads_parquet_with_its_types(tmp_path):
    path = tmp_path / "log.parquet"
    pd.DataFrame(
        {
            "CustomerID": [1, 2],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "Amount": [1.5, 2.5],
        }
    ).to_parquet(path)
    features, _ = build_customer_features(read_transactions(path), clv=False)
    assert features["CustomerID"].tolist() == ["1", "2"]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, DataFormatError, "does not exist"),
        (b"", DataFormatError, "is empty"),
        (b"CustomerID,InvoiceDate,Amount\n", EmptyInputError, "header but no data rows"),
        (b"a,b\n1,2,3,4\n", DataFormatError, "could not parse"),
    ],
)
def test_reader_errors_are_one_clear_line(tmp_path, content, error, message):
    path = tmp_path / "log.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message):
        read_transactions(path)


def test_excel_and_parquet_logs_give_the_same_features_as_csv(tmp_path):
    from custseg.datasets import make_transactions

    log = make_transactions(25, random_state=4)
    log["InvoiceDate"] = pd.to_datetime(log["InvoiceDate"])  # typed, as a workbook stores it
    csv_path, xlsx_path, pq_path = (tmp_path / f"log.{ext}" for ext in ("csv", "xlsx", "parquet"))
    log.to_csv(csv_path, index=False)
    log.to_excel(xlsx_path, index=False)
    log.to_parquet(pq_path)
    expected, _ = build_customer_features(read_transactions(csv_path), clv=False)
    for path in (xlsx_path, pq_path):
        got, _ = build_customer_features(read_transactions(path), clv=False)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_truncated_gzip_log_is_a_clear_format_error(tmp_path):
    from custseg.datasets import make_transactions

    whole = tmp_path / "log.csv.gz"
    make_transactions(200, random_state=0).to_csv(whole, index=False)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(DataFormatError, match=r"could not .* '.*cut\.csv\.gz'"):
        read_transactions(cut)
