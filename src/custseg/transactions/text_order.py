"""An order of texts set by the texts themselves, for samples that ignore the line order.

Where a log's column is judged on a sample of its values (which date format,
whether a column holds dates), the first values in the file would make the
verdict depend on how the lines are sorted: the first 2,000 dates of a
month-first log sorted by date are all in early January, where a day-first
reading fits as well. Ordering the distinct texts by a hash of their content
gives a sample that is the same for the same lines in any order, and spread
over the whole log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["content_order"]


def content_order(texts: np.ndarray) -> np.ndarray:
    """Indices that put ``texts`` in an order set by their content alone.

    Parameters
    ----------
    texts : ndarray of str, shape (n,)

    Returns
    -------
    ndarray of int64, shape (n,)
        A permutation: by a fixed 64-bit hash of each text, equal hashes by the
        text itself, equal texts as given (they are interchangeable).
    """
    keys = np.asarray(texts, dtype=object)
    # Each distinct text hashed once: a log repeats its dates on many lines.
    codes, distinct = pd.factorize(keys, use_na_sentinel=False)
    distinct_hashes = pd.util.hash_array(np.asarray(distinct, dtype=object), categorize=False)
    hashes = distinct_hashes[codes]
    order = np.argsort(hashes, kind="stable")
    by_hash = np.sort(distinct_hashes)
    if np.any(by_hash[1:] == by_hash[:-1]):  # two different texts share a hash (rare)
        order = np.lexsort((keys.astype(str), hashes))
    return order.astype(np.int64)
