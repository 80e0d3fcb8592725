"""Look at a CSV file once before reading it: size, encoding, line ends, delimiter, header.

Every reader (the core reader, the Arrow reader, the batch reader of the chunked
engine, the transaction-log reader) starts here, so that a file is decoded the
same way whichever reads it:

- **Encoding, decided once for the whole file.** A byte-order mark says UTF-8,
  UTF-16 or UTF-32. Otherwise every byte is checked: a file that is valid UTF-8
  throughout is UTF-8; one with no valid multi-byte UTF-8 sequence anywhere is
  Latin-1; one that mixes both is refused, naming the line and the byte.
- **Carriage returns.** In a file whose lines end in ``\\n`` (or ``\\r\\n``), a
  carriage return elsewhere is part of a value, never the end of a customer.
- **Header.** Read whole however long it is; duplicate column names are refused.
- **Size.** The text's size after decompression, so that a small ``.csv.gz`` that
  inflates to gigabytes is refused before it is read whole
  (:func:`custseg.io.memory.check_fits_in_memory`).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from custseg.errors import DataFormatError
from custseg.io.paths import SUPPORTED_FORMATS

__all__ = [
    "MAX_COLUMNS",
    "CsvLayout",
    "check_names",
    "empty_message",
    "open_bytes",
    "sniff_csv",
    "sniff_delimiter",
]

#: The most columns a customer table may have.
MAX_COLUMNS = 10_000
_SNIFF_BYTES = 64 * 1024
_MAX_HEADER_BYTES = 16 << 20
_BLOCK = 16 << 20
_DELIMITERS = (",", ";", "\t", "|")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A well-formed multi-byte UTF-8 character: in a file that is not UTF-8 throughout,
# one of these means two encodings were mixed.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass(frozen=True)
class CsvLayout:
    """How to read a CSV file, decided by :func:`sniff_csv`.

    Attributes
    ----------
    encoding : str
        A Python codec: ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"utf-32"`` or
        ``"latin-1"``.
    delimiter : str
    names : tuple of str
        The header's column names, stripped of surrounding spaces.
    text_bytes : int
        Bytes of text after decompression (a lower bound when ``complete`` is False).
    complete : bool
        False when the scan stopped at its limit.
    lone_cr : bool
        Some carriage return is not part of a line end: it belongs to a value.
    """

    encoding: str
    delimiter: str
    names: tuple[str, ...]
    text_bytes: int
    complete: bool = True
    lone_cr: bool = False


def empty_message(path: Path, what: str = "customer table") -> str:
    """The error line for a file with no header row; ``what`` names the expected table."""
    return f"input file '{path}' is empty; export the {what} with a header row"


@contextlib.contextmanager
def open_bytes(path: Path) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed when it is a ``.gz`` (through ISA-L when installed)."""
    try:
        if path.suffix.lower() != ".gz":
            with open(path, "rb") as fh:
                yield fh
            return
        try:
            from isal.igzip import open as opener
        except ImportError:
            opener = gzip.open
        with opener(path, "rb") as fh:
            yield fh
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataFormatError(f"could not read '{path}': {exc}; check the file") from None


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter among ``, ; TAB |`` that splits the first lines most consistently.

    Parameters
    ----------
    text : str
        The first kilobytes of the file.

    Returns
    -------
    str
        The delimiter; ``","`` when no candidate splits the header.
    """
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = ",", (0, 0.0)
    for delim in _DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delim) if row]
        except csv.Error:  # a "field" beyond the csv module's limit: not this delimiter
            continue
        if not counts or counts[0] < 2:
            continue
        agree = sum(c == counts[0] for c in counts) / len(counts)
        score = (agree >= 0.9, agree * counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


@dataclass
class _Scan:
    """What one pass over a file's bytes found."""

    text_bytes: int = 0
    complete: bool = True
    multibyte: bool = False  # a well-formed multi-byte UTF-8 character
    bad_offset: int | None = None  # the first byte that is not UTF-8
    bad_line: int = 0
    bad_byte: int = 0
    lf: bool = False
    lone_cr: bool = False


def _scan(path: Path, limit: int | None) -> _Scan:
    """Check every byte of ``path`` once: UTF-8 validity, line ends, size."""
    found = _Scan()
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    cr_pending = False  # the previous block ended in "\r"
    with open_bytes(path) as fh:
        while block := fh.read(_BLOCK):
            if cr_pending and not block.startswith(b"\n"):
                found.lone_cr = True
            cr_pending = block.endswith(b"\r")
            body = block[:-1] if cr_pending else block
            found.lf = found.lf or b"\n" in block
            # The membership test first: counting "\r\n" is slow, and most files have no "\r".
            if not found.lone_cr and b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
                found.lone_cr = True
            if found.bad_offset is None:
                if not block.isascii():
                    _check_utf8(found, decoder, block, lines)
                lines += block.count(b"\n")
            elif not found.multibyte:
                found.multibyte = _UTF8_MULTIBYTE.search(block) is not None
            found.text_bytes += len(block)
            if limit is not None and found.text_bytes > limit:
                found.complete = False
                break
    return found


def _check_utf8(found: _Scan, decoder: codecs.IncrementalDecoder, block: bytes, lines: int) -> None:
    try:
        found.multibyte = found.multibyte or not decoder.decode(block).isascii()
    except UnicodeDecodeError as exc:
        found.bad_offset = found.text_bytes + exc.start
        found.bad_line = lines + block.count(b"\n", 0, exc.start) + 1
        found.bad_byte = block[exc.start]
        found.multibyte = found.multibyte or (
            _UTF8_MULTIBYTE.search(block, 0, exc.start) is not None
            or _UTF8_MULTIBYTE.search(block, exc.start + 1) is not None
        )


def _encoding(path: Path, head: bytes, found: _Scan | None) -> str:
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    if found is None or found.bad_offset is None:
        return "utf-8"
    if found.multibyte:
        raise DataFormatError(
            f"'{path}' mixes text encodings: line {found.bad_line:,} holds the byte "
            f"0x{found.bad_byte:02X}, which is not UTF-8, while other lines are UTF-8; "
            "save the file again as UTF-8"
        )
    return "latin-1"


def _head(path: Path) -> bytes:
    """The first kilobytes, and more up to the end of the header line however long."""
    with open_bytes(path) as fh:
        head = fh.read(_SNIFF_BYTES)
        while b"\n" not in head and b"\r" not in head and len(head) < _MAX_HEADER_BYTES:
            more = fh.read(_SNIFF_BYTES)
            if not more:
                break
            head += more
    if head and b"\n" not in head and b"\r" not in head and len(head) >= _MAX_HEADER_BYTES:
        raise DataFormatError(
            f"'{path}' has no line end in its first {_MAX_HEADER_BYTES >> 20} MB; "
            "check that it is a CSV file with one customer per line"
        )
    return head


def _decode_head(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    # The sample may end in the middle of a character: decode what is complete.
    return decoder.decode(head, final=False)


def _names(path: Path, text: str, delimiter: str, what: str) -> tuple[str, ...]:
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error as exc:
        raise DataFormatError(f"could not read the header row of '{path}': {exc}") from None
    names = tuple(name.lstrip("\ufeff").strip() or name for name in header)
    if not any(names):
        raise DataFormatError(empty_message(path, what))
    return check_names(path, names)


def check_names(path: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse a header with too many columns or a name given twice; the names.

    Raises
    ------
    DataFormatError
        More than :data:`MAX_COLUMNS` columns, or duplicate names (listed with
        their column numbers).
    """
    if len(names) > MAX_COLUMNS:
        raise DataFormatError(
            f"'{path}' has {len(names):,} columns, more than the {MAX_COLUMNS:,} custseg "
            "reads; keep the columns that describe customers and save it again"
        )
    seen: dict[str, int] = {}
    repeated = []
    for i, name in enumerate(names, start=1):
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.setdefault(name, i)
    if repeated:
        listed = ", ".join(
            f"'{n}' (columns {', '.join(str(i) for i, m in enumerate(names, 1) if m == n)})"
            for n in repeated
        )
        raise DataFormatError(
            f"'{path}' has duplicate column names: {listed}; rename them so each column "
            "has its own name"
        )
    return names


def sniff_csv(path: Path, what: str = "customer table", *, limit: int | None = None) -> CsvLayout:
    """Check a CSV file and tell how to read it.

    Parameters
    ----------
    path : Path
    what : str, default="customer table"
        Names the expected table in the error for an empty file.
    limit : int, optional
        Stop checking after this many bytes of text (the file will be refused as
        too big); None checks every byte.

    Returns
    -------
    CsvLayout

    Raises
    ------
    DataFormatError
        The file is unreadable, blank or binary, mixes text encodings, has no
        line end, too many columns, or duplicate column names.
    """
    head = _head(path)
    if not head.strip():
        raise DataFormatError(empty_message(path, what))
    has_bom = any(head.startswith(bom) for bom, _ in _BOMS)
    if b"\x00" in head and not has_bom:
        raise DataFormatError(
            f"'{path}' looks like a binary file, not CSV; use {SUPPORTED_FORMATS}"
        )
    found = None if has_bom and not head.startswith(codecs.BOM_UTF8) else _scan(path, limit)
    encoding = _encoding(path, head, found)
    try:
        text = _decode_head(head, encoding)
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"'{path}' is not valid {encoding}: {exc.reason}") from None
    delimiter = sniff_delimiter(text)
    size = found.text_bytes if found is not None else _text_bytes(path)
    return CsvLayout(
        encoding=encoding,
        delimiter=delimiter,
        names=_names(path, text, delimiter, what),
        text_bytes=size,
        complete=found is None or found.complete,
        lone_cr=found is not None and found.lf and found.lone_cr,
    )


def _text_bytes(path: Path) -> int:
    """The decompressed size of a UTF-16/32 file (its bytes are not scanned)."""
    total = 0
    with open_bytes(path) as fh:
        while block := fh.read(_BLOCK):
            total += len(block)
    return total
