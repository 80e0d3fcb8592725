"""Hypothesis properties: odd tables never crash, scoring stays inside the model."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes
from sklearn.exceptions import ConvergenceWarning

import custseg
from custseg.errors import CustsegError, CustsegWarning

cells = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.3f}"),
    st.sampled_from(["", "NA", "nan", "n/a", "abc", "1,5", " 7 ", "inf", "-", "1e400"]),
    # Finite values whose squares or sums overflow float64.
    st.sampled_from(["1e160", "-3e200", "1.7e308", "1e50", "-1e51"]),
    st.text(max_size=6),
)
headers = st.lists(
    st.text(min_size=0, max_size=8), min_size=1, max_size=5, unique_by=lambda s: s.strip()
)


@st.composite
def text_tables(draw):
    names = draw(headers)
    names = [n if n.strip() else f"col{i}" for i, n in enumerate(names)]
    frame = draw(
        data_frames(
            columns=[column(n, elements=cells, dtype=object) for n in names],
            index=range_indexes(min_size=1, max_size=25),
        )
    )
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=text_tables(), k=st.one_of(st.none(), st.integers(1, 4)))
def test_any_table_segments_or_fails_cleanly(frame, k):
    with warnings.catch_warnings():
        # Warnings stay on: a library's warning (NumPy overflow, pandas, scikit-learn)
        # means custseg computed with values it should have refused or handled.
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", CustsegWarning)
        # A K above the number of distinct customers: scikit-learn says so, and the
        # CLI passes its warning on as one line; it is not a computation gone wrong.
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            result = custseg.segment(frame, k=k, k_max=4)
        except CustsegError as exc:
            # A column name may hold a line break; the CLI folds messages to one line.
            assert str(exc).strip()
            return
    assert len(result.table) == len(frame)
    assert list(result.table.columns[: frame.shape[1]]) == list(frame.columns)
    ids = {s["id"] for s in result.model.segments}
    assert set(result.labels.dropna().astype(int)) <= ids


@settings(max_examples=40, deadline=None)
@given(
    X=st.lists(
        st.tuples(*[st.one_of(st.floats(-1e9, 1e9), st.just(float("nan")))] * 3),
        min_size=1,
        max_size=30,
    )
)
def test_scoring_never_returns_a_segment_outside_the_model(X):
    model = _model()
    scored = model.predict_matrix(np.array(X, dtype=float))
    assert len(scored) == len(X)
    assert set(scored["segment"].dropna().astype(int)) <= {s["id"] for s in model.segments}


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_shuffling_rows_leaves_profiles_unchanged(seed):
    base = _sample()
    shuffled = base.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    # Stability is not compared here: no bootstrap refits.
    a = custseg.segment(base, k=4, scaling="none", stability=0)
    b = custseg.segment(shuffled, k=4, scaling="none", stability=0)
    cols = ["size"] + [c for c in a.profiles.columns if c.startswith("mean:")]
    pd.testing.assert_frame_equal(
        a.profiles[cols].sort_values("size").reset_index(drop=True),
        b.profiles[cols].sort_values("size").reset_index(drop=True),
        rtol=1e-9,
    )


_CACHE: dict = {}


def _sample():
    if "sample" not in _CACHE:
        # Well-separated groups, so the optimum does not depend on the row order.
        rng = np.random.default_rng(0)
        centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])
        X = np.vstack([c + rng.normal(0, 0.5, size=(25 + 5 * i, 2)) for i, c in enumerate(centres)])
        _CACHE["sample"] = pd.DataFrame(X, columns=["a", "b"])
    return _CACHE["sample"]


def _model():
    if "model" not in _CACHE:
        _CACHE["model"] = custseg.segment(custseg.make_customers(100), k=3, stability=0).model
    return _CACHE["model"]
