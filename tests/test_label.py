"""The label stage's scores, moved from the canonical order back to the input's."""

from __future__ import annotations

import numpy as np

from custseg.model import ScoreArrays
from custseg.segmentation.label import Labels


def test_put_back_moves_each_row_to_its_place_in_the_input():
    rng = np.random.default_rng(0)
    n = 1000
    order = rng.permutation(n)  # order[i]: the input row at canonical position i
    scored = rng.random(n) > 0.1
    arrays = ScoreArrays(
        scored,
        rng.integers(0, 4, n),
        rng.random(n),
        {"margin": rng.random(n), "outlier": (rng.random(n) > 0.9).astype("float64")},
        np.where(scored, "", "missing 'Age'").astype(object),
    )
    labels = Labels(arrays, scored, arrays.segment[scored], arrays.columns["margin"][scored])
    back = labels.put_back(order)
    inverse = np.argsort(order)  # what gathering by the inverse permutation gives
    np.testing.assert_array_equal(back.fit_rows, scored[inverse])
    for got, want in [
        (back.arrays.scored, scored),
        (back.arrays.segment, arrays.segment),
        (back.arrays.distance, arrays.distance),
        (back.arrays.columns["margin"], arrays.columns["margin"]),
        (back.arrays.columns["outlier"], arrays.columns["outlier"]),
        (back.arrays.reasons, arrays.reasons),
    ]:
        np.testing.assert_array_equal(got, want[inverse])
        assert got.dtype == want.dtype
    assert back.fit_labels is labels.fit_labels  # the fitting rows' order is kept


def test_the_table_for_writing_has_coded_names_and_writes_the_same_csv(tmp_path):
    import pandas as pd

    import custseg
    from custseg.io.arrow import write_csv_fast
    from custseg.options import SegmentOptions
    from custseg.segmentation import pipeline

    frame = custseg.make_customers(400, random_state=2)
    frame.loc[[3, 50], "Age"] = np.nan  # left out under missing="drop": no segment, no name
    handed: list[pd.DataFrame] = []
    result = pipeline.run(frame, SegmentOptions(k=3, missing="drop"), on_table=handed.append)
    (written,) = handed
    assert isinstance(written["segment_name"].dtype, pd.CategoricalDtype)
    assert result.table["segment_name"].dtype == object  # the result keeps text
    assert written["segment_name"].astype(object).tolist() == result.table["segment_name"].tolist()
    assert list(written.columns) == list(result.table.columns)
    write_csv_fast(written, tmp_path / "coded.csv")
    result.table.to_csv(tmp_path / "pandas.csv", index=False, lineterminator="\n")
    assert (tmp_path / "coded.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
