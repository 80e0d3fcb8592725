"""Numbers written as text: thousands separators, currency symbols, percentages.

Customer tables exported from spreadsheets and CRMs write amounts for people to
read: ``12,669.5``, ``1 234,5``, ``12'669.50``, ``$1,234``, ``€ 12,50``,
``(1,234.00)``, ``12%``. custseg reads them as numbers by one rule, applied
alike by the in-memory parser (pandas) and the big-table parser (Arrow); the
regular expressions below are written for both engines.

The rule
--------
1. A value that is a plain number (``12.5``, ``-3``, ``1e-05``) is that number.
2. Any other value is *undressed*: a currency symbol or code before or after the
   number (``$``, ``€``, ``£``, ``USD``, ``CHF``, ...), a trailing ``%`` and
   accounting brackets (``(12.50)`` is -12.50) are removed. A percentage keeps
   the number as written: ``12%`` is 12, in the column's own unit (percent).
3. The **decimal mark** is decided once per column, by votes of the values that
   show it: a comma is the decimal mark in ``12,5``, ``1234,50`` (not three
   digits after it), ``1.234,5`` (after a dot) and ``1.234.567`` (dots grouping
   thousands); a dot is in ``12.5``, ``1,234.5`` and ``1,234,567``. The mark
   with more votes wins; without votes (``1,234`` alone) the dot is the decimal
   mark, so ``1,234`` is one thousand two hundred and thirty-four.
4. The other marks — the other of ``.`` / ``,``, a space, a no-break or thin
   space, an apostrophe (``12'669.50``, Swiss) — group **thousands** and are
   accepted only between groups of exactly three digits: ``1 234 567,5`` is a
   number, a phone number such as ``20 7946 0958`` is not.

A value that fits none of this is not a number: the caller reports it with its
column, row and value. Votes are counts over all values, so the decision does
not depend on row order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CURRENCY_CODES",
    "CURRENCY_SYMBOLS",
    "DECIMAL_VOTES",
    "NUMBER_LIKE",
    "PLAIN_NUMBER",
    "UNDRESS",
    "decide_decimal",
    "number_pattern",
    "parse_number_text",
    "plain_pattern",
]

#: Currency symbols removed before or after a number.
CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪฿₫₴₦₱₲₵₡₭₮₸¢"
#: Currency codes removed before or after a number (upper case, as banks write them).
CURRENCY_CODES = (
    "AUD",
    "BRL",
    "CAD",
    "CHF",
    "CNY",
    "CZK",
    "DKK",
    "EUR",
    "GBP",
    "HKD",
    "HUF",
    "INR",
    "JPY",
    "KRW",
    "MXN",
    "NOK",
    "NZD",
    "PLN",
    "RUB",
    "SEK",
    "SGD",
    "TRY",
    "USD",
    "ZAR",
)
# Spaces that may separate a currency from its number or group thousands: space,
# no-break space, thin space, narrow no-break space. Written out, not as \s: RE2
# (Arrow) and Python disagree on what \s covers.
_SPACE = " \u00a0\u2009\u202f"
_CURRENCY = "(?:[" + CURRENCY_SYMBOLS + "]|" + "|".join(CURRENCY_CODES) + ")"

#: A plain number, as ``float()`` reads it (no separators, no symbols).
PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"

#: (pattern, replacement) pairs applied in order to undress a value (rule 2).
UNDRESS: tuple[tuple[str, str], ...] = (
    (r"^\((.*)\)$", r"-\1"),
    (r"^([+-]?)[" + _SPACE + "]*" + _CURRENCY + "[" + _SPACE + "]*", r"\1"),
    (r"[" + _SPACE + "]*" + _CURRENCY + "$", ""),
    (r"[" + _SPACE + "]*%$", ""),
)

#: Votes for the decimal mark (rule 3): pattern -> the mark its matches vote for.
DECIMAL_VOTES: tuple[tuple[str, str], ...] = (
    (r",(?:\d{1,2}|\d{4,})$", ","),
    (r"\.\d*,", ","),
    (r"\d\.\d{3}\.", ","),
    (r"\.(?:\d{1,2}|\d{4,})$", "."),
    (r",\d*\.", "."),
    (r"\d,\d{3},", "."),
)

#: Text that looks like a number to a reader: digits, signs, marks and spaces only,
#: once undressed. A column of such text that still fails to parse is reported.
NUMBER_LIKE = r"^[+-]?[\d.,'’" + _SPACE + r"]*\d[\d.,'’" + _SPACE + r"]*$"


def plain_pattern(decimal: str) -> str:
    """The separators-free form: what remains once thousands marks are removed."""
    return PLAIN_NUMBER if decimal == "." else PLAIN_NUMBER.replace(r"\.", ",")


def _group_marks(decimal: str) -> str:
    other = "," if decimal == "." else r"\."
    return other + "'’" + _SPACE


def number_pattern(decimal: str) -> str:
    """A formatted number (rule 4) with ``decimal`` as its decimal mark.

    Either no thousands marks at all, or groups of exactly three digits after
    a first group of one to three digits.
    """
    d = re.escape(decimal)
    group = "[" + _group_marks(decimal) + "]"
    return rf"^[+-]?(?:\d{{1,3}}(?:{group}\d{{3}})+|\d*)(?:{d}\d*)?$"


def decide_decimal(votes: dict[str, int]) -> str:
    """The decimal mark from the vote counts: the mark with more votes, ``.`` on a tie."""
    return "," if votes.get(",", 0) > votes.get(".", 0) else "."


def _count_votes(text: pd.Series) -> dict[str, int]:
    votes = {",": 0, ".": 0}
    for pattern, mark in DECIMAL_VOTES:
        votes[mark] += int(text.str.contains(pattern, regex=True).sum())
    return votes


def undress(text: pd.Series) -> pd.Series:
    """Rule 2 on trimmed text: currency, percent sign and accounting brackets removed."""
    for pattern, replacement in UNDRESS:
        text = text.str.replace(pattern, replacement, regex=True)
    return text


def normalise(text: pd.Series, decimal: str) -> pd.Series:
    """Undressed text in the column's format → plain number text; other values → ``""``."""
    valid = text.str.match(number_pattern(decimal)) & text.str.contains(r"\d", regex=True)
    plain = text.str.replace("[" + _group_marks(decimal) + "]", "", regex=True)
    if decimal == ",":
        plain = plain.str.replace(",", ".", regex=False)
    return plain.where(valid, "")


@dataclass(frozen=True)
class ParsedNumbers:
    """The numbers of one text column and how they were written.

    Attributes
    ----------
    values : ndarray of shape (n_rows,)
        float64; NaN where the text is not a number (missing cells included).
    decimal : str
        The decimal mark decided for the column.
    example : str or None
        The first (in sort order) value that was not a plain number but was read,
        for the column table; None when every number was plain.
    """

    values: np.ndarray
    decimal: str
    example: str | None


def parse_number_text(text: pd.Series) -> ParsedNumbers:
    """Read a column of trimmed text as numbers by the module's rule.

    Parameters
    ----------
    text : Series of str, shape (n_rows,)
        Trimmed text; missing-value tokens are the caller's business (they come
        back as NaN, like any text that is not a number).

    Returns
    -------
    ParsedNumbers
    """
    text = text.astype(str)
    parsed = pd.to_numeric(text, errors="coerce")
    failed = parsed.isna().to_numpy() & (text != "").to_numpy()
    if not failed.any():
        return ParsedNumbers(parsed.to_numpy(dtype="float64"), ".", None)
    bare = undress(text)
    decimal = decide_decimal(_count_votes(bare))
    numbers = pd.to_numeric(normalise(bare[failed], decimal), errors="coerce")
    values = parsed.to_numpy(dtype="float64").copy()
    values[failed] = numbers.to_numpy(dtype="float64")
    if decimal == ",":
        # A plain-looking "1.234" in a decimal-comma column is one thousand two hundred ...
        dotted = ~failed & text.str.contains(".", regex=False).to_numpy()
        if dotted.any():
            redo = normalise(bare[dotted], decimal)
            values[dotted] = pd.to_numeric(redo, errors="coerce").to_numpy(dtype="float64")
    read = failed & ~np.isnan(values)
    example = str(text[read].min()) if read.any() else None
    return ParsedNumbers(values, decimal, example)
