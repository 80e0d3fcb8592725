"""Where a segmentation runs: in memory, on a large table, in chunks, or on Apache Spark."""

from custseg._lazy import attach as _attach

__getattr__, __dir__ = _attach(__name__)
