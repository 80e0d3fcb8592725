"""custseg: named, explainable customer segments from a customer table.

>>> import custseg
>>> result = custseg.segment("customers.csv")          # doctest: +SKIP
>>> result.profiles                                    # doctest: +SKIP
>>> model = custseg.load_model("custseg-out/model.json")  # doctest: +SKIP
>>> model.predict(new_customers)                       # doctest: +SKIP

``import custseg`` is cheap: each name below, and each subpackage, is imported on
first use (see :mod:`custseg._lazy`).
"""

import typing

from custseg._lazy import attach as _attach
from custseg._version import __version__

if typing.TYPE_CHECKING:
    from custseg.datasets import make_customers
    from custseg.engines import available_engines
    from custseg.errors import (
        CustsegError,
        CustsegWarning,
        DataFormatError,
        DataWarning,
        EmptyInputError,
        EngineError,
        InputError,
        ModelError,
        SchemaError,
    )
    from custseg.features.roles import detect_roles
    from custseg.io import read_table
    from custseg.lifecycle.drift import DriftReport, drift
    from custseg.model import SegmentModel, load_model
    from custseg.segmentation.result import SegmentationResult
    from custseg.segmentation.segmenter import Segmenter, segment

__getattr__, __dir__ = _attach(__name__)

__all__ = [
    "CustsegError",
    "CustsegWarning",
    "DataFormatError",
    "DataWarning",
    "DriftReport",
    "EmptyInputError",
    "EngineError",
    "InputError",
    "ModelError",
    "SchemaError",
    "SegmentModel",
    "SegmentationResult",
    "Segmenter",
    "__version__",
    "available_engines",
    "detect_roles",
    "drift",
    "load_model",
    "make_customers",
    "read_table",
    "segment",
]
