"""The segmentation stages: prepare, choose K, fit, label, describe."""

from custseg._lazy import attach as _attach

__getattr__, __dir__ = _attach(__name__)
