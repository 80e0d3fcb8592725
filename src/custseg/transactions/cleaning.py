"""Clean a raw transaction log into typed purchase and return lines, counting every rule.

The rules run in a fixed order and each line is counted by the first rule that
removes or re-labels it, so the counts add up::

    lines in = removed (duplicate_row + missing_customer + unparseable_date
               + missing_value + non_positive_price + zero_quantity + after_as_of
               + return_without_purchase)
             + returns (cancelled_invoice + negative_quantity - return_without_purchase)
             + purchases

Two further entries only inform: ``mixed_date_formats`` (the date formats found
and how many lines used each) and ``amount_text`` (numbers written as text such
as ``"$1,234.50"`` or ``"1.234,50 €"``, which are parsed). A value that cannot be
read as a number at all stops the run with a :class:`~custseg.errors.SchemaError`
naming the column, the row and the value.

Returns (cancelled invoices, whose number starts with ``C``, and lines with a
negative quantity or amount) are kept apart from purchases: they lower a
customer's net spend and count towards the return rate, but are not orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.errors import EmptyInputError, SchemaError
from custseg.transactions.detect import LogColumns
from custseg.transactions.text_order import content_order

__all__ = ["RULES", "CleanLog", "clean_log", "parse_amounts", "parse_dates"]

#: Each cleaning rule, in the order it is applied, with its action.
RULES: dict[str, str] = {
    "duplicate_row": "removed: an exact copy of an earlier line (every column equal)",
    "missing_customer": "removed: no customer ID",
    "unparseable_date": "removed: the date is empty or cannot be read",
    "missing_value": "removed: the quantity, price or amount is empty",
    "non_positive_price": "removed: unit price is zero or negative (free items, adjustments)",
    "zero_quantity": "removed: quantity (or amount) is zero",
    "after_as_of": "removed: dated on or after the as-of date",
    "cancelled_invoice": "kept as a return: the invoice number starts with 'C'",
    "negative_quantity": "kept as a return: negative quantity (or amount)",
    "return_without_purchase": "removed: a return by a customer with no purchase in the log",
}

_N_EXAMPLES = 5

# Date formats tried, ISO first, then day-first (most of the world) before month-first;
# the order only decides between formats that parse a sample equally well.
_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%m-%d-%Y %H:%M:%S",
    "%m-%d-%Y %H:%M",
    "%m-%d-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y",
)
_FORMAT_SAMPLE = 2000


@dataclass
class CleanLog:
    """Typed, cleaned lines of a log: one entry per purchase or return line.

    Attributes
    ----------
    customer : ndarray of int64, shape (n_lines,)
        Index into ``customers``.
    customers : ndarray of object, shape (n_customers,)
        Customer IDs as text, sorted (numerically when every ID is a number).
    day : ndarray of int64, shape (n_lines,)
        Calendar day of the line, in days since 1970-01-01.
    time : ndarray of int64, shape (n_lines,)
        Timestamp of the line in seconds since 1970-01-01.
    value : ndarray of float64, shape (n_lines,)
        Line value; negative for a return.
    is_return : ndarray of bool, shape (n_lines,)
    order : ndarray of int64, shape (n_lines,)
        Order code: the invoice, or the timestamp when the log has no invoice column.
    product : ndarray of int64 or None
        Product code, ``None`` without a product column.
    category : ndarray of int64 or None
        Index into ``categories`` (-1 when empty), ``None`` without a category column.
    categories : ndarray of object or None
        Category labels, sorted.
    as_of : Timestamp
        Midnight of the as-of day; every line is strictly before it.
    report : dict
        Counts and examples per rule; see :func:`clean_log`.
    """

    customer: np.ndarray
    customers: np.ndarray
    day: np.ndarray
    time: np.ndarray
    value: np.ndarray
    is_return: np.ndarray
    order: np.ndarray
    product: np.ndarray | None
    category: np.ndarray | None
    categories: np.ndarray | None
    as_of: pd.Timestamp
    report: dict[str, Any] = field(default_factory=dict)


def _encode(col: pd.Series, cache: dict | None = None) -> tuple[np.ndarray, pa.Array]:
    """Split a column into codes (int64, -1 = missing) and its distinct values as text.

    Dictionary-encoded Arrow columns (as read by ``read_transactions``) and pandas
    categoricals are used as they are, so each distinct value is handled once.
    ``cache`` (keyed by column name) spares encoding a column twice in one run.
    """
    if cache is not None:
        if col.name not in cache:
            cache[col.name] = _encode(col)
        return cache[col.name]
    dtype = col.dtype
    if isinstance(dtype, pd.ArrowDtype):
        arr = pa.array(col.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = (
                pa.concat_arrays(
                    [
                        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c
                        for c in arr.chunks
                    ]
                )
                if arr.num_chunks != 1
                else arr.chunk(0)
            )
        if not pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_encode()
        indices = arr.indices if arr.null_count == 0 else arr.indices.fill_null(-1)
        codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
        values = arr.dictionary
        if not pa.types.is_string(values.type):
            values = pa.array(_as_text(pd.Series(values.to_pylist(), dtype=object)))
        return codes, values
    if isinstance(dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int64)
        uniques = np.asarray(col.cat.categories, dtype=object)
    else:
        if pd.api.types.is_float_dtype(col) and col.dropna().mod(1).eq(0).all():
            col = col.astype("Int64")  # an ID stored as 12346.0 is the text 12346
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        uniques = np.asarray(uniques, dtype=object)
    return codes, pa.array(_as_text(pd.Series(uniques, dtype=object)), type=pa.string())


def _as_text(values: pd.Series) -> list[str]:
    """Render distinct values as text (whole floats without their ``.0``)."""

    def render(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return [render(v) for v in values]


def _text_codes(col: pd.Series, cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column's trimmed text (-1 for missing or empty) and the distinct texts."""
    codes, values = _encode(col, cache)
    trimmed = pc.utf8_trim_whitespace(values)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    merged = trimmed.dictionary_encode()  # values equal once trimmed share one code
    remap = np.append(merged.indices.fill_null(-1).to_numpy(zero_copy_only=False), -1)
    texts = merged.dictionary.to_numpy(zero_copy_only=False).astype(object)
    return remap.astype(np.int64)[codes], texts


def _examples(col: pd.Series, mask: np.ndarray, n: int = _N_EXAMPLES) -> list[dict[str, Any]]:
    rows = np.flatnonzero(mask)[:n]
    values = col.iloc[rows].tolist()
    return [
        {"row": int(r) + 1, "value": "" if v is None or v is pd.NA or v != v else str(v)}
        for r, v in zip(rows, values, strict=True)
    ]


# --- dates -------------------------------------------------------------------------------

_NO_DATE = np.iinfo(np.int64).min


def parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Parse date texts that may mix several formats.

    Each format of the table is tried in turn on a sample of the values not yet
    parsed; the one that reads most of the sample is applied to all of them, and
    so on until every value is read or no format reads any. The sample is drawn
    in :func:`~custseg.transactions.text_order.content_order`, so it does not
    depend on the order of the values.

    Parameters
    ----------
    values : Series of str, shape (n,)
        Distinct date texts (missing values are never passed).

    Returns
    -------
    seconds : ndarray of int64, shape (n,)
        Seconds since 1970-01-01; ``np.iinfo(np.int64).min`` where unparseable.
    fmt : ndarray of int64, shape (n,)
        Index into ``formats`` of the format that read each value, -1 if none.
    formats : list of str
        The formats used, in ``strftime`` notation.
    """
    text = values.astype(str).str.strip().reset_index(drop=True)
    out = np.full(len(text), _NO_DATE, dtype=np.int64)
    which = np.full(len(text), -1, dtype=np.int64)
    formats: list[str] = []
    todo = content_order(text.to_numpy(dtype=object))
    while todo.size:
        remaining = text.iloc[todo]
        sample = remaining.iloc[:_FORMAT_SAMPLE]
        best, best_hits = None, 0
        for fmt in _DATE_FORMATS:
            # pandas, not Arrow: Arrow's strptime rolls 2024-02-30 over to March 1.
            hits = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
            if hits > best_hits:
                best, best_hits = fmt, hits
                if hits == len(sample):
                    break
        if best is None:
            break
        parsed = pd.to_datetime(remaining, format=best, errors="coerce")
        ok = parsed.notna().to_numpy()
        out[todo[ok]] = parsed[ok].to_numpy(dtype="datetime64[s]").astype(np.int64)
        which[todo[ok]] = len(formats)
        formats.append(best)
        todo = todo[~ok]
    return out, which, formats


def _row_dates(col: pd.Series, cache: dict | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """Seconds since 1970 per line (``_NO_DATE`` if unreadable) and lines per format."""
    if pd.api.types.is_datetime64_any_dtype(col):
        stamps = pd.to_datetime(col)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)  # keep the wall-clock time
        secs = stamps.astype("datetime64[s]").to_numpy(dtype="int64", na_value=_NO_DATE)
        return secs, {"stored as dates": int((secs != _NO_DATE).sum())}
    codes, values = _text_codes(col, cache)
    secs_u, which_u, formats = parse_dates(pd.Series(values, dtype=object))
    secs = np.append(secs_u, _NO_DATE)[codes]
    counts = np.bincount(np.append(which_u, -1)[codes] + 1, minlength=len(formats) + 1)
    return secs, {fmt: int(counts[i + 1]) for i, fmt in enumerate(formats)}


# --- amounts -----------------------------------------------------------------------------

_CURRENCY = re.compile(r"[^\d,.\-+()]")


def _decimal_mark(values: pd.Series) -> str:
    """Decide, for a whole column, whether ``,`` or ``.`` is the decimal mark."""
    both = values[values.str.contains(",") & values.str.contains(".", regex=False)]
    comma_last = int((both.str.rfind(",") > both.str.rfind(".")).sum())
    dot_last = len(both) - comma_last
    only_comma = values[values.str.contains(",") & ~values.str.contains(".", regex=False)]
    # "12,5" or "1234,50" is a decimal comma; "1,234" alone is a thousands separator.
    comma_decimal = int(only_comma.str.contains(r",\d{1,2}$|,\d{4,}$").sum())
    only_dot = values[values.str.contains(".", regex=False) & ~values.str.contains(",")]
    dot_thousands = int(only_dot.str.contains(r"^-?\d{1,3}(?:\.\d{3}){2,}$").sum())
    return "," if comma_last + comma_decimal + dot_thousands > dot_last else "."


def parse_amounts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers that may be written as text such as ``"$1,234.50"`` or ``"1.234,50 €"``.

    Plain numbers are parsed directly. If any value is not a plain number, all
    are read as formatted text: currency signs, letters and spaces are dropped,
    ``(12.50)`` and ``12.50-`` are negative, and the decimal mark (``.`` or
    ``,``) is decided once for the column from the values that show it.

    Parameters
    ----------
    values : Series of str, shape (n,)
        Distinct, non-empty texts of one column.

    Returns
    -------
    numbers : ndarray of float64, shape (n,)
        NaN where a value is not a number in any of these forms.
    as_text : ndarray of bool, shape (n,)
        Values that were not plain numbers.
    """
    text = values.astype(str).str.strip()
    plain = pd.to_numeric(text, errors="coerce")
    as_text = plain.isna().to_numpy()
    if not as_text.any():
        return plain.to_numpy(dtype="float64"), as_text
    cleaned = text.str.replace("\u00a0", "", regex=False).str.replace("'", "", regex=False)
    cleaned = cleaned.str.replace(_CURRENCY, "", regex=True)
    negative = cleaned.str.match(r"^\(.*\)$") | cleaned.str.endswith("-")
    cleaned = cleaned.str.strip("()").str.rstrip("-")
    if _decimal_mark(cleaned) == ",":
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(cleaned, errors="coerce")
    numbers = numbers.where(~negative, -numbers.abs())
    return numbers.to_numpy(dtype="float64"), as_text


def _row_amounts(
    col: pd.Series, name: str, cache: dict | None = None
) -> tuple[np.ndarray, dict[str, Any] | None]:
    """Numbers per line (NaN when empty) and, if some were text, their count and examples.

    Raises
    ------
    SchemaError
        A non-empty value is not a number.
    """
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        raise SchemaError(f"column '{name}' must hold numbers; it holds {col.dtype} values")
    if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
        return col.to_numpy(dtype="float64", na_value=np.nan), None
    codes, values = _text_codes(col, cache)
    numbers_u, text_u = parse_amounts(pd.Series(values, dtype=object))
    bad_u = np.isnan(numbers_u)
    if bad_u.any():
        bad_rows = np.append(bad_u, False)[codes]
        row = int(np.flatnonzero(bad_rows)[0])
        raise SchemaError(
            f"column '{name}' must hold numbers; found {values[bad_u][0]!r} at row {row + 1}. "
            "Fix the value, or write amounts like 1234.50, $1,234.50 or 1.234,50 €"
        )
    numbers = np.append(numbers_u, np.nan)[codes]
    text_rows = np.append(text_u, False)[codes]
    if not text_rows.any():
        return numbers, None
    return numbers, {"values": int(text_rows.sum()), "examples": _examples(col, text_rows)}


# --- the whole log -----------------------------------------------------------------------


def _sort_ids(labels: np.ndarray) -> np.ndarray:
    """Order customer IDs numerically when all are whole numbers, else as text."""
    if all(t.isascii() and t.isdigit() and len(t) <= 18 for t in labels):
        return np.argsort(labels.astype(np.int64), kind="stable")
    return np.argsort(labels.astype(str), kind="stable")


def _duplicated(frame: pd.DataFrame, cache: dict | None = None) -> np.ndarray:
    """Mark lines equal in every column to an earlier line.

    Column codes are packed into one int64 key, column after column. When the
    next column would overflow the key, only lines whose key so far is shared
    with another line can still be duplicates; the rest are dropped and the key
    is renumbered, which keeps the test exact and cheap.
    """
    n = len(frame)
    rows: np.ndarray | None = None  # None: every line is still a candidate
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for name in frame.columns:
        codes, values = _encode(frame[name], cache)
        width = len(values) + 1  # code -1 (missing) becomes 0
        codes = codes + 1 if rows is None else codes[rows] + 1
        if span * width >= 2**62:
            if rows is None:
                rows = np.arange(n)
            shared = pd.Series(key).duplicated(keep=False).to_numpy()
            rows, key, codes = rows[shared], key[shared], codes[shared]
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max()) + 1 if key.size else 1
        key = key * width + codes
        span *= width
    if rows is None:
        return pd.Series(key).duplicated(keep="first").to_numpy()
    out = np.zeros(n, dtype=bool)
    out[rows] = pd.Series(key).duplicated(keep="first").to_numpy()
    return out


def _line_values(
    frame: pd.DataFrame, columns: LogColumns, encoded: dict
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Each line's value (its amount, or quantity × price), its price when the log
    has one, and the count and examples of amounts written as text, per column."""
    amount_text: dict[str, Any] = {}
    if columns.amount is not None:
        value, text = _row_amounts(frame[columns.amount], columns.amount, encoded)
        if text:
            amount_text[columns.amount] = text
        return value, None, amount_text
    if columns.quantity is None or columns.price is None:
        raise SchemaError("the log's column roles name no amount column, nor quantity and price")
    quantity, q_text = _row_amounts(frame[columns.quantity], columns.quantity, encoded)
    price, p_text = _row_amounts(frame[columns.price], columns.price, encoded)
    for col, text in ((columns.quantity, q_text), (columns.price, p_text)):
        if text:
            amount_text[col] = text
    return quantity * price, price, amount_text


@dataclass
class _Tally:
    """The lines still alive and, per rule in order, how many lines it hit."""

    alive: np.ndarray
    rules: list[dict[str, Any]] = field(default_factory=list)

    def count(self, rule: str, hit: np.ndarray, raw: pd.Series | None = None) -> np.ndarray:
        """Count ``hit`` among lines still alive, keep examples, and return that mask."""
        hit = hit & self.alive
        lines = int(hit.sum())
        if not lines:
            examples = []
        elif raw is not None:
            examples = _examples(raw, hit)
        else:
            examples = [{"row": int(r) + 1} for r in np.flatnonzero(hit)[:_N_EXAMPLES]]
        self.rules.append(
            {"rule": rule, "action": RULES[rule], "lines": lines, "examples": examples}
        )
        return hit

    def remove(self, rule: str, hit: np.ndarray, raw: pd.Series | None = None) -> None:
        """Count ``hit`` among lines still alive, then drop those lines."""
        self.alive &= ~self.count(rule, hit, raw)


def _as_of_day(
    valid_seconds: np.ndarray, as_of: pd.Timestamp | None, columns: LogColumns
) -> pd.Timestamp:
    """Midnight of ``as_of``; by default the day after the last readable date."""
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    if valid_seconds.size == 0:
        raise EmptyInputError(
            f"no date in column '{columns.date}' could be read; check the column or pass --date-col"
        )
    return pd.Timestamp((int(valid_seconds.max()) // 86400 + 1) * 86400, unit="s")


def _returns(
    frame: pd.DataFrame, columns: LogColumns, encoded: dict, value: np.ndarray, tally: _Tally
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mark return lines (cancelled invoices, then negative quantities) and the invoice codes."""
    n = len(frame)
    is_return = np.zeros(n, dtype=bool)
    inv_codes = None
    if columns.invoice is not None:
        inv_codes, inv_values = _text_codes(frame[columns.invoice], encoded)
        starts_c = pc.match_substring_regex(pa.array(inv_values, pa.string()), "^[Cc]")
        cancelled = np.append(np.asarray(starts_c, dtype=bool), False)[inv_codes]
        is_return |= tally.count("cancelled_invoice", cancelled, frame[columns.invoice])
    else:
        tally.count("cancelled_invoice", np.zeros(n, dtype=bool))
    with np.errstate(invalid="ignore"):
        is_return |= tally.count("negative_quantity", (value < 0) & ~is_return)
    return is_return, inv_codes


def _customer_ranks(
    cust_codes: np.ndarray, cust_values: np.ndarray, buys: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Each kept line's customer as a rank in ID order, the IDs, who appears, who never bought."""
    kept = np.flatnonzero(buys)
    labels = cust_values[kept]
    labels = labels[_sort_ids(labels)]
    rank = np.full(len(cust_values), -1, dtype=np.int64)
    rank[pd.Index(cust_values).get_indexer(labels)] = np.arange(len(labels))
    seen = np.zeros(len(cust_values), dtype=bool)
    seen[cust_codes[cust_codes >= 0]] = True
    without = sorted(cust_values[seen & ~buys].tolist())
    return rank[cust_codes[rows]], labels, seen, without


def _orders(inv_codes: np.ndarray | None, seconds: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each kept line's order: its invoice, or its timestamp where there is none."""
    if inv_codes is None:
        return pd.factorize(seconds[rows])[0].astype(np.int64)
    order = inv_codes[rows]
    blank = order < 0
    if blank.any():
        # A line without an invoice number is an order of its own timestamp.
        stamps = pd.factorize(seconds[rows][blank])[0]
        order[blank] = int(inv_codes.max()) + 1 + stamps
    return order


def _category_codes(
    frame: pd.DataFrame, columns: LogColumns, encoded: dict, rows: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each kept line's category as a code into the sorted category names."""
    if columns.category is None:
        return None, None
    cat_codes, cat_values = _text_codes(frame[columns.category], encoded)
    order_cat = np.argsort(cat_values.astype(str), kind="stable")
    sorted_code = np.empty(len(cat_values) + 1, dtype=np.int64)
    sorted_code[order_cat] = np.arange(len(cat_values))
    sorted_code[-1] = -1
    return sorted_code[cat_codes[rows]], cat_values[order_cat]


@dataclass
class _RuledLines:
    """Every line of a log after the rules: which survive, which are returns, their values."""

    tally: _Tally
    cust_codes: np.ndarray
    cust_values: np.ndarray
    seconds: np.ndarray
    date_formats: dict[str, int]
    value: np.ndarray
    amount_text: dict[str, Any]
    as_of: pd.Timestamp
    is_return: np.ndarray
    inv_codes: np.ndarray | None
    buys: np.ndarray


def _apply_rules(
    frame: pd.DataFrame, columns: LogColumns, as_of: pd.Timestamp | None, encoded: dict
) -> _RuledLines:
    """Run the rules of :data:`RULES` in order, each counting the lines it removes or re-labels."""
    n = len(frame)
    tally = _Tally(np.ones(n, dtype=bool))
    tally.remove("duplicate_row", _duplicated(frame, encoded))

    cust_codes, cust_values = _text_codes(frame[columns.customer], encoded)
    tally.remove("missing_customer", cust_codes < 0, frame[columns.customer])

    seconds, date_formats = _row_dates(frame[columns.date], encoded)
    bad_date = seconds == _NO_DATE
    tally.remove("unparseable_date", bad_date, frame[columns.date])

    value, price, amount_text = _line_values(frame, columns, encoded)
    tally.remove("missing_value", np.isnan(value))
    with np.errstate(invalid="ignore"):
        if price is not None:
            tally.remove("non_positive_price", price <= 0, frame[columns.price])
        else:
            tally.count("non_positive_price", np.zeros(n, dtype=bool))
        tally.remove("zero_quantity", value == 0)

    as_of = _as_of_day(seconds[~bad_date], as_of, columns)
    tally.remove("after_as_of", seconds >= as_of.value // 1_000_000_000, frame[columns.date])

    is_return, inv_codes = _returns(frame, columns, encoded, value, tally)
    # Customers with only returns (or whose every line was removed) have no behaviour
    # to describe; they are counted, not output.
    buys = np.zeros(len(cust_values), dtype=bool)
    buys[cust_codes[tally.alive & ~is_return]] = True
    orphan = tally.alive & is_return & ~np.append(buys, False)[cust_codes]
    tally.remove("return_without_purchase", orphan, frame[columns.customer])
    return _RuledLines(
        tally=tally,
        cust_codes=cust_codes,
        cust_values=cust_values,
        seconds=seconds,
        date_formats=date_formats,
        value=value,
        amount_text=amount_text,
        as_of=as_of,
        is_return=is_return,
        inv_codes=inv_codes,
        buys=buys,
    )


def clean_log(
    frame: pd.DataFrame,
    columns: LogColumns,
    *,
    as_of: pd.Timestamp | None = None,
) -> CleanLog:
    """Apply the cleaning rules of :data:`RULES` to a raw log.

    Parameters
    ----------
    frame : DataFrame of shape (n_lines, n_columns)
        The raw log, as read by :func:`custseg.io.transactions.read_transactions`
        or built in memory (text or typed columns).
    columns : LogColumns
        The column roles (see :func:`~custseg.transactions.detect.detect_log_columns`).
    as_of : Timestamp, optional
        Only lines strictly before midnight of this day are used. Default: the day
        after the last parseable date in the log, so every line is used.

    Returns
    -------
    CleanLog
        Purchase and return lines. ``report`` holds ``lines_in``, ``as_of``,
        ``rules`` (one entry per rule: ``rule``, ``action``, ``lines``, ``examples``),
        ``date_formats``, ``amount_text``, ``purchases``, ``returns``,
        ``customers_in_log`` and ``customers_without_purchase``.

    Raises
    ------
    SchemaError
        An amount, price or quantity value is not a number.
    EmptyInputError
        No purchase line is left.
    """
    n = len(frame)
    encoded: dict = {}  # column name -> (codes, distinct values), shared by the rules
    lines = _apply_rules(frame, columns, as_of, encoded)
    alive, is_return, seconds = lines.tally.alive, lines.is_return, lines.seconds
    purchases = int((alive & ~is_return).sum())
    if purchases == 0:
        raise EmptyInputError(
            f"no valid purchase left in the log after cleaning ({n} lines in); "
            "see the cleaning counts, or check --as-of and the column roles"
        )
    rows = np.flatnonzero(alive)
    customer, labels, seen, without = _customer_ranks(
        lines.cust_codes, lines.cust_values, lines.buys, rows
    )
    order = _orders(lines.inv_codes, seconds, rows)
    product = _text_codes(frame[columns.product], encoded)[0][rows] if columns.product else None
    category, categories = _category_codes(frame, columns, encoded, rows)

    report: dict[str, Any] = {
        "lines_in": n,
        "as_of": lines.as_of.date().isoformat(),
        "rules": lines.tally.rules,
        "date_formats": lines.date_formats,
        "mixed_date_formats": len(lines.date_formats) > 1,
        "amount_text": lines.amount_text,
        "purchases": purchases,
        "returns": int(is_return[rows].sum()),
        "customers_in_log": int(seen.sum()),
        "customers_without_purchase": {
            "customers": len(without),
            "examples": without[:_N_EXAMPLES],
        },
    }
    secs = seconds[rows]
    return CleanLog(
        customer=customer,
        customers=labels,
        day=secs // 86400,
        time=secs,
        value=lines.value[rows],
        is_return=is_return[rows],
        order=order,
        product=product,
        category=category,
        categories=categories,
        as_of=lines.as_of,
        report=report,
    )
