"""Segments over time: stable ids across runs (continuity) and drift of new customers."""
