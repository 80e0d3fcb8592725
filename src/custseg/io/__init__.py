"""Reading and writing files: the only place custseg touches the disk."""

import typing

from custseg._lazy import attach as _attach

if typing.TYPE_CHECKING:
    from custseg.io.readers import SUPPORTED_FORMATS, read_json, read_table
    from custseg.io.writers import (
        atomic_path,
        remove_file,
        write_bytes,
        write_csv,
        write_json,
        write_table,
        write_text,
    )

__getattr__, __dir__ = _attach(__name__)

__all__ = [
    "SUPPORTED_FORMATS",
    "atomic_path",
    "read_json",
    "read_table",
    "remove_file",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_table",
    "write_text",
]
