"""Find the roles of a transaction log's columns: who bought, when, how much.

A role given by the caller is matched to a column exactly, then ignoring case,
spaces and punctuation. A role not given is detected from column names (a
table of name patterns per role, first match wins) and, for the date only, from
content. Each role records how it was found so the CLI can print it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import pandas as pd

from custseg.errors import SchemaError
from custseg.transactions.text_order import content_order

__all__ = ["ROLES", "LogColumns", "detect_log_columns"]

#: Roles in the order they are detected and printed, with what each means.
ROLES: dict[str, str] = {
    "customer": "who bought (one ID per customer)",
    "date": "when the line was bought or returned",
    "invoice": "the order (invoice) the line belongs to; a leading 'C' marks a cancellation",
    "quantity": "units on the line; negative for a return",
    "price": "price of one unit",
    "amount": "value of the line, when there is no quantity and price",
    "product": "the product (stock code, SKU) on the line",
    "category": "a categorical column such as country, reported per customer as its most "
    "frequent value",
}

# Normalised name patterns (lowercase, letters and digits only), most specific first.
_NAME_PATTERNS: dict[str, tuple[str, ...]] = {
    "customer": (
        r"^(customer|cust|client|user|member|buyer|account|shopper)(id|no|number|code|key)?$",
        r"^(customer|cust|client|user|member|buyer|account|shopper)",
    ),
    "date": (
        r"^(invoice|order|transaction|purchase|sale|sales|txn)?(date|datetime|timestamp|time)$",
        r"(date|timestamp|datetime)",
    ),
    "invoice": (
        r"^(invoice|order|transaction|receipt|basket|ticket|txn)(id|no|number|code|key)?$",
        r"^(invoice|order|transaction|receipt|basket|ticket)(?!.*(date|time|value|total|amount))",
    ),
    "quantity": (r"^(quantity|qty|units|unitssold|itemcount|count)$", r"(quantity|qty)"),
    "price": (r"^(unit)?(price|cost)(each|perunit)?$", r"price(?!.*total)"),
    "amount": (
        r"^(amount|total|revenue|sales|spend|value|sum|net|gross|linetotal|totalprice|"
        r"totalamount|ordervalue|salesamount|netamount|grossamount|transactionamount)$",
        r"(amount|revenue|total|spend|value)",
    ),
    "product": (
        r"^(stockcode|stock|sku|productid|product|productcode|itemid|item|itemcode|article|"
        r"articleid|ean|upc)$",
        r"(stockcode|sku|product|article)",
    ),
    "category": (r"^(country|region|state|province|city|market|channel|store|shop)(name|code)?$",),
}

_MAX_CATEGORY_VALUES = 200  # a "categorical" column with more distinct values is not one
#: Distinct values of a column looked at to tell whether it holds dates.
_DATE_SAMPLE = 200


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True)
class LogColumns:
    """The columns of a transaction log, by role.

    Attributes
    ----------
    customer, date : str
        The customer ID column and the date column.
    invoice, quantity, price, amount, product, category : str or None
        The other roles, ``None`` when the log has no such column. Either
        ``amount`` or both ``quantity`` and ``price`` are set.
    how : dict of str to str
        For each role found, ``"given"``, ``"name"`` or ``"content"``.
    """

    customer: str
    date: str
    invoice: str | None = None
    quantity: str | None = None
    price: str | None = None
    amount: str | None = None
    product: str | None = None
    category: str | None = None
    how: dict[str, str] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, str | None]:
        """Return ``{role: column or None}`` in :data:`ROLES` order."""
        return {role: getattr(self, role) for role in ROLES}


def _resolve(name: str, columns: list[str], role: str) -> str:
    if name in columns:
        return name
    matches = [c for c in columns if _norm(c) == _norm(name)]
    if len(matches) == 1:
        return matches[0]
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise SchemaError(
        f"{role} column '{name}' not found; available columns: "
        f"{', '.join(map(repr, columns))}.{hint}"
    )


def _by_name(role: str, columns: list[str], taken: set[str]) -> str | None:
    for pattern in _NAME_PATTERNS[role]:
        for column in columns:
            if column not in taken and re.search(pattern, _norm(column)):
                return column
    return None


def _looks_like_dates(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    texts = pd.Series(values.dropna().unique(), dtype=object).astype(str)
    # Distinct values drawn by content: the same verdict for the lines in any order.
    sample = texts.iloc[content_order(texts.to_numpy())[:_DATE_SAMPLE]]
    # A date has digits and separators ("2024-01-31", "31/01/2024 10:00"); a bare
    # number such as 12.5 or 20240131 is more likely an amount or an ID.
    # Three in four sampled values must look like dates and read as dates, so a few
    # bad entries (counted later by the cleaning) do not hide the column.
    if sample.empty or sample.str.contains(r"\d+[-/. :]\d+[-/. :]\d+").mean() < 0.75:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.75)


def _few_distinct_strings(values: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return False
    return 1 < values.nunique(dropna=True) <= _MAX_CATEGORY_VALUES


def _given_roles(
    given: dict[str, str | None], columns: list[str]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """The columns the caller named, resolved, each for one role only."""
    found: dict[str, str | None] = {}
    how: dict[str, str] = {}
    for role, name in given.items():
        if name is not None:
            found[role] = _resolve(name, columns, role)
            how[role] = "given"
    chosen = [c for c in found.values() if c is not None]
    if len(chosen) != len(set(chosen)):
        dup = next(c for c in chosen if chosen.count(c) > 1)
        raise SchemaError(f"column '{dup}' is given for two roles; give each role its own column")
    return found, how


def _detect_roles(
    frame: pd.DataFrame,
    columns: list[str],
    found: dict[str, str | None],
    how: dict[str, str],
    *,
    value_given: bool,
) -> None:
    """Fill ``found`` and ``how`` for each role not given, by name, then dates by content."""
    taken = {c for c in found.values() if c is not None}
    for role in ROLES:
        if role in found:
            continue
        if value_given and role in ("quantity", "price", "amount"):
            found[role] = None
            continue
        column = _by_name(role, columns, taken)
        if column is None and role == "date":
            column = next(
                (c for c in columns if c not in taken and _looks_like_dates(frame[c])), None
            )
            how_found = "content"
        else:
            how_found = "name"
        if column is not None and role == "category" and not _few_distinct_strings(frame[column]):
            column = None
        found[role] = column
        if column is not None:
            how[role] = how_found
            taken.add(column)


def detect_log_columns(
    frame: pd.DataFrame,
    *,
    customer: str | None = None,
    date: str | None = None,
    invoice: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    amount: str | None = None,
    product: str | None = None,
    category: str | None = None,
) -> LogColumns:
    """Assign a column of ``frame`` to each role of a transaction log.

    Parameters
    ----------
    frame : DataFrame of shape (n_lines, n_columns)
        The raw log.
    customer, date, invoice, quantity, price, amount, product, category : str, optional
        Column names chosen by the caller; the others are detected. Passing
        ``amount`` means the line value is that column (quantity and price are
        then only used if also given).

    Returns
    -------
    LogColumns

    Raises
    ------
    SchemaError
        A given column does not exist, a role is given twice, or no customer,
        date or amount (nor quantity and price) column can be found.
    """
    columns = [str(c) for c in frame.columns]
    given = {
        "customer": customer,
        "date": date,
        "invoice": invoice,
        "quantity": quantity,
        "price": price,
        "amount": amount,
        "product": product,
        "category": category,
    }
    if (quantity is None) != (price is None) and amount is None:
        missing = "--price-col" if price is None else "--quantity-col"
        flag = "--quantity-col" if price is None else "--price-col"
        raise SchemaError(
            f"{flag} needs {missing} too (line value = quantity × price); "
            "or pass --amount-col for a column that already holds the line value"
        )
    found, how = _given_roles(given, columns)
    value_given = amount is not None or quantity is not None
    _detect_roles(frame, columns, found, how, value_given=value_given)
    if not value_given:
        # Quantity x price keeps the sign of a return on each line, so it wins over a
        # detected total column; a lone quantity or price without the other is unused.
        keep = ("quantity", "price") if found["quantity"] and found["price"] else ("amount",)
        for role in ("quantity", "price", "amount"):
            if role not in keep and found[role] is not None:
                found[role] = None
                how.pop(role, None)

    listing = ", ".join(map(repr, columns))
    customer, date = found.pop("customer"), found.pop("date")
    if customer is None:
        raise SchemaError(f"no customer ID column found among {listing}; pass --customer-col NAME")
    if date is None:
        raise SchemaError(f"no date column found among {listing}; pass --date-col NAME")
    if found["amount"] is None and not (found["quantity"] and found["price"]):
        raise SchemaError(
            f"no amount column (nor quantity and price) found among {listing}; "
            "pass --amount-col NAME, or --quantity-col Q --price-col P"
        )
    return LogColumns(customer=customer, date=date, **found, how=how)
