"""Cells a spreadsheet would run as formulas (CSV injection), found and optionally neutralised.

A CSV cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage
return) is read by Excel, LibreOffice and Google Sheets as a formula, which can
fetch URLs or run commands when a CRM user opens ``segments.csv``. custseg repeats
the user's values byte for byte by default, and warns when it writes such cells.
Within :func:`spreadsheet_safe` it neutralises them as OWASP's guidance on CSV
injection advises: a single quote is put in front of each such cell (and column
name), so that a spreadsheet shows it as text. A number such as ``-3.5`` or
``+12`` is not a formula and is never changed.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.errors import CustsegWarning
from custseg.io.spreadsheet import neutralising, spreadsheet_safe

__all__ = [
    "FEW_DISTINCT",
    "FORMULA_STARTS",
    "FormulaWatch",
    "factorized_if_few",
    "formula_mask",
    "spreadsheet_safe",
]

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Which of the 256 byte values opens a formula (a lookup table, one index per cell).
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[list("".join(FORMULA_STARTS).encode("ascii"))] = True
_PREFIX = "'"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
#: An object column with at most this many distinct values in its first
#: :data:`_FIRST_ROWS` rows (segment names) is handled per distinct value.
FEW_DISTINCT = 64
_FIRST_ROWS = 1000


def _is_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and re.match(_NUMBER, text) is None


def _text(col: pd.Series) -> pa.Array | None:
    """The column as an Arrow string array; None when it holds no text."""
    dtype = col.dtype
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return None
        arr = pa.array(col)
    elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        try:
            arr = pa.array(col, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: their text
            arr = pa.array(col.astype(str), type=pa.string())
    else:
        return None
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _starts_like_formula(text: pa.Array) -> np.ndarray:
    """True for the values whose first character is one of :data:`FORMULA_STARTS`.

    Read from the raw buffers: each start is one ASCII byte, and UTF-8 never uses
    an ASCII byte inside a longer character, so a value's first byte decides.
    """
    n = len(text)
    data = text.buffers()[2]
    if n == 0 or data is None:
        return np.zeros(n, dtype=bool)
    wide = pa.types.is_large_string(text.type)
    every = np.frombuffer(text.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets: np.ndarray = every[text.offset : text.offset + n + 1].astype(np.int64, copy=False)
    raw = np.frombuffer(data, dtype=np.uint8)
    if len(raw) == 0:
        return np.zeros(n, dtype=bool)
    starts = offsets[:-1]
    mask = _FORMULA_BYTE[raw[np.minimum(starts, len(raw) - 1)]] & (offsets[1:] > starts)
    if text.null_count:
        mask &= np.asarray(text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return mask


def factorized_if_few(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize(values)`` when its first rows hold at most :data:`FEW_DISTINCT` values.

    Such a column (segment names, a category kept as text) is cheaper to handle
    once per distinct value, repeated by position, than cell by cell. Missing
    values get code -1.

    Returns
    -------
    (codes, uniques) or None
        None for a column of many values, or of unhashable objects.
    """
    try:
        if len(pd.unique(values[:_FIRST_ROWS])) > FEW_DISTINCT:
            return None
        return pd.factorize(values)
    except TypeError:
        return None


def _per_value(mask_of: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each row's entry of ``mask_of`` (one per distinct value); False where missing (-1)."""
    return np.append(mask_of, False)[codes]


def formula_mask(col: pd.Series) -> np.ndarray:
    """True for the text cells of ``col`` a spreadsheet would run as formulas."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # each category looked at once
        per_category = _cell_mask(pd.Series(col.cat.categories))
        return _per_value(per_category, col.cat.codes.to_numpy())
    if pd.api.types.is_object_dtype(col.dtype):
        factorized = factorized_if_few(col.to_numpy())
        if factorized is not None:
            codes, uniques = factorized
            return _per_value(_cell_mask(pd.Series(uniques, dtype=object)), codes)
    return _cell_mask(col)


def _cell_mask(col: pd.Series) -> np.ndarray:
    """:func:`formula_mask`, cell by cell."""
    text = _text(col)
    if text is None:
        return np.zeros(len(col), dtype=bool)
    mask = _starts_like_formula(text)
    if mask.any():
        # A signed number (-3.5, +12) is no formula.
        numbers = pc.match_substring_regex(text.filter(pa.array(mask)), _NUMBER)
        mask[np.flatnonzero(mask)] = ~np.asarray(numbers.to_numpy(zero_copy_only=False), bool)
    return mask


@dataclass
class FormulaWatch:
    """Find formula cells in the pieces of one CSV file as they are written.

    Use :meth:`header` on the column names, :meth:`check` on each piece of rows,
    then :meth:`finish` once the file is written: it warns, naming the first cell,
    unless the cells were neutralised.
    """

    path: Path
    safe: bool = field(default_factory=neutralising)
    cells: int = 0
    first: tuple[str, int, str] | None = None
    headers: list[str] = field(default_factory=list)
    _rows: int = 0
    _first_start: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def header(self, names: Iterable[object]) -> list[str]:
        """The column names to write: neutralised when safe."""
        text = [str(n) for n in names]
        self.headers = [n for n in text if _is_formula(n)]
        if not self.safe:
            return text
        return [_PREFIX + n if n in self.headers else n for n in text]

    def check(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame``, its formula cells neutralised when safe (pieces in file order)."""
        checked = self.check_at(frame, self._rows)
        self._rows += len(frame)
        return checked

    def check_at(self, frame: pd.DataFrame, start: int) -> pd.DataFrame:
        """:meth:`check` of the piece that starts at row ``start`` (0-based), in any order.

        Pieces may be checked by several threads at once: the first cell named is
        still the one of the earliest piece.
        """
        changed: dict[str, pd.Series] = {}
        for name in frame.columns:
            mask = formula_mask(frame[name])
            if not mask.any():
                continue
            row = int(np.flatnonzero(mask)[0])
            with self._lock:
                self.cells += int(mask.sum())
                if self.first is None or start < self._first_start:
                    self.first = (str(name), start + row + 1, str(frame[name].iloc[row]))
                    self._first_start = start
            if self.safe:
                col = frame[name].astype(object)
                changed[name] = col.where(~mask, _PREFIX + col.astype(str))
        if not changed:
            return frame
        frame = frame.copy(deep=False)
        for name, col in changed.items():
            frame[name] = col
        return frame

    def finish(self) -> None:
        """Warn about the formula cells written as they were."""
        if self.safe or not (self.cells or self.headers):
            return
        found = []
        if self.first is not None:
            column, row, value = self.first
            found.append(
                f"{self.cells:,} cell(s) (first: column '{column}', row {row}, {value[:40]!r})"
            )
        if self.headers:
            found.append("column name(s) " + ", ".join(repr(h) for h in self.headers))
        warnings.warn(
            f"{self.path.name} holds {' and '.join(found)} starting with =, +, -, @, a tab "
            "or a carriage return, which a spreadsheet may run as formulas; open it as text, "
            "or write it with --spreadsheet-safe to neutralise them",
            CustsegWarning,
            stacklevel=3,
        )
