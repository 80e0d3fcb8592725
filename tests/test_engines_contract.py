"""One contract test over every registered engine (see custseg.engines.base)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import custseg
from custseg.engines import available_engines, get_engine
from custseg.errors import InputError

K = 3


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=240, centers=K, n_features=2, cluster_std=0.6, random_state=7)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@pytest.fixture(scope="module")
def blob_frame(blobs):
    X, _ = blobs
    return pd.DataFrame({"id": [f"c{i:03d}" for i in range(len(X))], "a": X[:, 0], "b": X[:, 1]})


def test_every_issue_engine_is_registered():
    expected = {"kmeans", "minibatch-kmeans", "bisecting-kmeans", "gmm", "agglomerative", "hdbscan"}
    assert expected <= set(available_engines())


def test_unknown_engine_lists_the_valid_ones():
    with pytest.raises(InputError, match=r"unknown algorithm 'kmean'; choose from: .*kmeans"):
        get_engine("kmean")


@pytest.mark.parametrize("name", available_engines())
def test_engine_contract(name, blobs, blob_frame, tmp_path):
    X, y = blobs
    engine = get_engine(name)
    fitted = engine.fit(X, K, random_state=3)
    labels = np.asarray(fitted.labels)
    n_segments = len(fitted.centers)
    # labels in range (-1 only for engines that do not take K: noise)
    assert labels.shape == (len(X),)
    low = 0 if engine.needs_k else -1
    assert labels.min() >= low and labels.max() < n_segments
    if engine.needs_k:
        assert n_segments == K
    # the segments are the blobs (noise rows left out)
    kept = labels >= 0
    assert kept.mean() > 0.8
    assert adjusted_rand_score(y[kept], labels[kept]) > 0.95
    # deterministic with a seed
    again = engine.fit(X, K, random_state=3)
    np.testing.assert_array_equal(again.labels, fitted.labels)
    np.testing.assert_array_equal(again.centers, fitted.centers)
    # predict on the training rows gives the fit labels
    predicted, _ = engine.predict(X, fitted.centers, fitted.state)
    np.testing.assert_array_equal(predicted, fitted.labels)

    # save -> load -> score round-trips through the JSON model
    result = custseg.segment(
        blob_frame, algorithm=name, k=K if engine.needs_k else None, stability=0
    )
    path = result.model.save(tmp_path / "model.json")
    assert b"pickle" not in path.read_bytes()
    scored = custseg.load_model(path).predict(blob_frame)
    pd.testing.assert_series_equal(scored["segment"], result.table["segment"], check_names=False)
    extra = [c for c in scored.columns if c.startswith("probability_") or c == "confidence"]
    for col in ["distance_to_center", "margin", *extra]:
        np.testing.assert_array_equal(scored[col].to_numpy(), result.table[col].to_numpy())
    if name == "gmm":
        assert extra and "confidence" in extra
        probs = scored[[c for c in extra if c != "confidence"]].to_numpy()
        np.testing.assert_allclose(probs.sum(axis=1), 1.0)
        np.testing.assert_array_equal(probs.argmax(axis=1), scored["segment"].to_numpy(int))
    if name == "hdbscan" and (result.table["segment"] == -1).any():
        assert set(result.table.loc[result.table["segment"] == -1, "segment_name"]) == {
            "Unassigned"
        }


@pytest.mark.parametrize("name", available_engines())
def test_fit_each_equals_one_fit_per_k(name):
    # Uneven blobs with duplicated rows: Ward's tree has ties, and every K is cut from it.
    X, _ = make_blobs(n_samples=300, centers=4, n_features=3, random_state=11)
    X = np.vstack([X, X[:40]])
    engine = get_engine(name)
    ks = [2, 3, 5, 8]
    for each, k in zip(engine.fit_each(X, ks, random_state=5), ks, strict=True):
        one = engine.fit(X, k, random_state=5)
        np.testing.assert_array_equal(each.labels, one.labels)
        np.testing.assert_array_equal(each.centers, one.centers)


@pytest.mark.parametrize("name", available_engines())
def test_k_is_required_only_by_engines_that_need_it(name, blobs):
    X, _ = blobs
    engine = get_engine(name)
    if engine.needs_k:
        with pytest.raises(ValueError, match=f"the {name} engine needs a number of segments"):
            engine.fit(X, None, random_state=0)
    else:
        assert engine.fit(X, None, random_state=0).labels.shape == (len(X),)


def test_hdbscan_keeps_noise_customers_as_unassigned():
    rng = np.random.default_rng(0)
    X, _ = make_blobs(n_samples=300, centers=3, cluster_std=0.4, random_state=1)
    far = rng.uniform(-30, 30, size=(6, 2))  # isolated customers
    frame = pd.DataFrame(np.vstack([X, far]), columns=["a", "b"])
    result = custseg.segment(frame, algorithm="hdbscan", stability=0)
    assert len(result.table) == len(frame)  # nobody dropped
    noise = result.table["segment"] == -1
    assert noise.iloc[-6:].all()
    assert (result.table.loc[noise, "segment_name"] == "Unassigned").all()
    assert result.summary["k_selection"]["method"] == "density"
    assert result.summary["k"] == 3 == result.summary["k_selection"]["chosen"]
    given = custseg.segment(frame, algorithm="hdbscan", k=5, stability=0)
    assert given.summary["k_selection"]["method"] == "density"
    assert "--k 5 does not apply" in given.summary["k_selection"]["reason"]
