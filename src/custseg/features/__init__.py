"""What custseg knows about a table's columns: roles, parsing, encoding, scaling, profiles."""

from custseg._lazy import attach as _attach

__getattr__, __dir__ = _attach(__name__)
