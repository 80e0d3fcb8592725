"""Independent work in threads gives what one loop gives: same results, same first error."""

import numpy as np
import pytest

from custseg.features.parallel import map_in_order
from custseg.segmentation.fit import segment_sizes


def test_results_come_in_the_items_order():
    def square(x):
        return x * x

    assert map_in_order(square, range(40)) == [x * x for x in range(40)]
    assert map_in_order(square, [3]) == [9]
    assert map_in_order(square, []) == []


def test_the_first_items_error_is_raised_as_a_loop_would():
    def check(x):
        if x in (2, 5):
            raise ValueError(f"bad item {x}")
        return x

    with pytest.raises(ValueError, match="bad item 2"):
        map_in_order(check, range(8))


def test_segment_sizes_count_ids_ascending_without_noise():
    labels = np.array([3, 0, 3, -1, 3, 0, 5, -1])
    assert segment_sizes(labels) == {0: 2, 3: 3, 5: 1}
    assert list(segment_sizes(labels)) == [0, 3, 5]
    assert segment_sizes(np.array([-1, -1])) == {}
