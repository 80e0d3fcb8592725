"""Independent NumPy and Arrow work on the machine's cores, results as one loop gives them.

NumPy's sorts, partitions, gathers and reductions, and Arrow's kernels, leave the
interpreter while they run, so two threads working on different columns (or
segments) use two cores. Each item is computed exactly as one loop would compute
it, so the results are the same to the last bit whatever the timing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["WORKER_THREADS", "map_in_order"]

#: Threads for independent items: two use the two cores of a small machine; more
#: would hold more columns in memory for little gain.
WORKER_THREADS = max(1, min(2, os.cpu_count() or 1))

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def map_in_order(fn: Callable[[_Item], _Result], items: Iterable[_Item]) -> list[_Result]:
    """``[fn(item) for item in items]``, :data:`WORKER_THREADS` items at a time.

    Results are collected in order, so when several items fail the first one's
    error is raised, as the one-by-one loop would. ``fn`` must not warn: a warning
    raised in a worker thread may reach the caller's filters out of order.
    """
    items = list(items)
    if len(items) < 2 or WORKER_THREADS < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as pool:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]
