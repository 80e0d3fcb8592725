"""Segments over time: stable ids across runs (continuity) and drift of new customers."""

from custseg._lazy import attach as _attach

__getattr__, __dir__ = _attach(__name__)
