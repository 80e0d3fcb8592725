"""Reading and writing files: the only place custseg touches the disk."""

import typing

from custseg._lazy import attach as _attach

if typing.TYPE_CHECKING:
    from custseg.io.outputs import check_output_file, check_output_folder
    from custseg.io.paths import SUPPORTED_FORMATS
    from custseg.io.readers import read_json
    from custseg.io.runs import MANIFEST_NAME, RunWriter, check_run, listed_files
    from custseg.io.tables import LARGE_ROWS, read_table
    from custseg.io.writers import (
        atomic_path,
        remove_file,
        table_format,
        write_bytes,
        write_csv,
        write_json,
        write_table,
        write_text,
    )

__getattr__, __dir__ = _attach(__name__)

__all__ = [
    "LARGE_ROWS",
    "MANIFEST_NAME",
    "SUPPORTED_FORMATS",
    "RunWriter",
    "atomic_path",
    "check_output_file",
    "check_output_folder",
    "check_run",
    "listed_files",
    "read_json",
    "read_table",
    "remove_file",
    "table_format",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_table",
    "write_text",
]
