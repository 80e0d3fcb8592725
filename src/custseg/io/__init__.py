"""Reading and writing files: the only place custseg touches the disk."""

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
