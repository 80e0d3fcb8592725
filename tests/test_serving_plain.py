"""Scoring a few customers in plain floats: the records of ``score_records``, bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import orjson
import pandas as pd
import pytest

import custseg
from custseg.input_checks import range_limits
from custseg.serving import PLAIN_MAX_ROWS, RowScorer, numpy_sum, score_records


@pytest.mark.parametrize("n", [*range(1, 40), 64, 127, 128, 129, 136, 200, 257, 300])
def test_numpy_sum_adds_as_numpy_does(n):
    rng = np.random.default_rng(n)
    for _ in range(50):
        terms = rng.normal(size=n) * 10.0 ** rng.integers(-8, 9, size=n)
        assert numpy_sum(terms.tolist()) == np.add.reduce(terms)


def _model(columns: int = 3, *, k: int = 5, rows: int = 300, seed: int = 0, **options):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.gamma(2.0, 10.0, size=(rows, columns)) * rng.uniform(1, 100, size=columns),
        columns=[f"f{j}" for j in range(columns)],
    )
    return custseg.segment(frame, k=k, stability=0, **options).model


def _customers(model, n: int, seed: int) -> np.ndarray:
    """Customers across the training range, a few just inside the range rule's limits."""
    rng = np.random.default_rng(seed)
    low = np.array([f["min"] for f in model.features])
    high = np.array([f["max"] for f in model.features])
    X = rng.uniform(low, high, size=(n, len(low)))
    lo, hi, _ = range_limits(model)
    X[0], X[1] = lo, hi  # on the limits: not far outside
    return X


def _with_warnings(model, X: np.ndarray, seed: int) -> list[list[float | None]]:
    """``X`` as rows with some nulls, values just past the range rule's limits and
    far beyond them, positive values too small for the unit, and the limits themselves."""
    rng = np.random.default_rng(seed)
    lo, hi, tiny = range_limits(model)
    rows: list[list[float | None]] = X.tolist()
    for row in rows[2:]:
        for j in range(len(row)):
            pick = rng.integers(12)
            if pick == 0:
                row[j] = None
            elif pick == 1:
                row[j] = float(np.nextafter(lo[j], -np.inf))
            elif pick == 2:
                row[j] = float(np.nextafter(hi[j], np.inf)) * rng.choice([1.0, 1e6])
            elif pick == 3 and tiny[j] > 0:
                row[j] = float(tiny[j]) * rng.uniform(0.0, 1.0)
            elif pick == 4:
                row[j] = float(rng.choice([lo[j], hi[j], tiny[j], 0.0, -0.0]))
    return rows


def _same(model, rows, **scorer):
    plain = RowScorer(model, **scorer).plain_records(rows, list(range(len(rows))))
    assert plain is not None
    for i, row in enumerate(rows):
        X = np.array([row], dtype="float64")
        (expected,) = score_records(model, X, ids=[i], **scorer)
        expected["index"] = i
        assert orjson.dumps(plain[i]) == orjson.dumps(expected)
    return plain


@pytest.mark.parametrize(
    ("columns", "options"),
    [
        (3, {"transform": "none"}),
        (3, {"transform": "log"}),
        (1, {}),
        (9, {"scaling": "robust"}),
        (4, {"scaling": "minmax", "algorithm": "agglomerative"}),
    ],
)
def test_plain_records_equal_score_records(columns, options):
    model = _model(columns, **options)
    rows = _with_warnings(model, _customers(model, 400, seed=columns), seed=columns)
    records = _same(model, rows)
    kinds = {w["kind"] for r in records for w in r["warnings"]}
    assert kinds == {"filled", "far_outside"}
    _same(model, rows, tolerance=2.0)


def test_plain_records_of_a_batch_equal_score_records():
    model = _model(3, transform="log")
    X = _customers(model, 6, seed=1)
    plain = RowScorer(model).plain_records(X.tolist(), ["a", 2, None, "d", "e", "f"])
    expected = score_records(model, X, ids=["a", 2, None, "d", "e", "f"])
    assert orjson.dumps(plain) == orjson.dumps(expected)


def test_ties_go_to_the_lowest_centre_and_ids_are_mapped():
    model = _model(3, transform="none")
    # Two copies of one centre: every customer nearest to it ties, and NumPy's argmin
    # takes the first. Centre rows carry segment ids other than their positions.
    centers = np.vstack([model.centers[:1], model.centers])
    segments = [*model.segments, {**model.segments[0], "id": 5, "name": "Copy"}]
    model = dataclasses.replace(
        model,
        centers=centers,
        segments=segments,
        extra={**model.extra, "center_ids": [5, 0, 1, 2, 3, 4]},
    )
    records = _same(model, _customers(model, 300, seed=7).tolist())
    assert "Copy" in {r["segment_name"] for r in records}


def test_plain_floats_step_aside_for_what_they_do_not_cover():
    inside = _customers(_model(3, transform="none"), 2, seed=3).tolist()
    with_null = [[None, *inside[0][1:]]]
    for missing in ("drop", "error"):  # the customer is left unscored, or refused
        scorer = RowScorer(_model(3, transform="none", missing=missing))
        assert scorer.plain_records(inside, [0, 1]) is not None
        assert scorer.plain_records(with_null, [0]) is None
    # A model that assigns by its own rule (probabilities, noise).
    gmm = _model(3, algorithm="gmm", transform="none")
    assert RowScorer(gmm).plain_records(inside, [0, 1]) is None


def test_integers_score_as_their_floats():
    model = _model(3, transform="none")
    row = [int(v) for v in _customers(model, 3, seed=5)[2]]
    (plain,) = RowScorer(model).plain_records([row], ["x"])  # type: ignore[misc]
    (expected,) = score_records(model, np.array([row], dtype="float64"), ids=["x"])
    assert orjson.dumps(plain) == orjson.dumps(expected)


def test_a_model_without_outlier_fences_flags_none():
    model = dataclasses.replace(_model(3, transform="none"), outliers=None)
    records = _same(model, _customers(model, 50, seed=9).tolist())
    assert {r["outlier"] for r in records} == {None}


def test_records_score_what_plain_floats_do_not_cover_with_numpy():
    model = _model(3, transform="log", missing="drop")
    scorer = RowScorer(model)
    X = _customers(model, PLAIN_MAX_ROWS + 1, seed=4)
    rows: list[list[float | None]] = X.tolist()
    rows[2][1] = None  # this model leaves the customer unscored, with a reason
    rows[3][0] = 1e9  # far outside
    ids = list(range(len(rows)))
    expected = score_records(model, np.array(rows, dtype="float64"), ids=ids)
    assert expected[2]["reason"] and expected[3]["warnings"]
    assert orjson.dumps(scorer.records(rows, ids)) == orjson.dumps(expected)
    for i, row in enumerate(rows[:PLAIN_MAX_ROWS]):  # one by one, as one-customer requests
        (record,) = scorer.records([row], [i])
        assert orjson.dumps({**record, "index": i}) == orjson.dumps(expected[i])
    explained = score_records(model, X[:1], ids=["x"], explain=True)
    assert scorer.records(X[:1].tolist(), ["x"], explain=True) == explained
    assert explained[0]["explanation"] is not None
    many = scorer.records(X.tolist(), ids)  # more rows than plain floats take
    assert orjson.dumps(many) == orjson.dumps(score_records(model, X, ids=ids))
