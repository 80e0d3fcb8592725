"""The big-table final fit, progress reporting and engine option checks."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from tests.conftest import invoke_cli
from threadpoolctl import threadpool_limits

import custseg
from custseg.datasets import make_blobs_customers
from custseg.engines import get_engine
from custseg.engines.kmeans import LARGE_FIT_ROWS
from custseg.progress import ProgressBars, progress_for


def _quick() -> dict:
    """Options that skip the bootstrap stability (when this custseg has it): speed only."""
    import inspect

    import custseg

    return (
        {"stability": 0} if "stability" in inspect.signature(custseg.Segmenter).parameters else {}
    )


@pytest.fixture(scope="module")
def big_z():
    frame = make_blobs_customers(LARGE_FIT_ROWS + 50_000, 3, 5, random_state=4)
    X = frame.drop(columns="CustomerID").to_numpy()
    return (X - X.mean(axis=0)) / X.std(axis=0)


def test_big_table_fit_matches_full_data_kmeans_and_is_seeded(big_z):
    engine = get_engine("kmeans")
    with threadpool_limits(1):
        ours = engine.fit(big_z, 5, random_state=7)
        again = engine.fit(big_z, 5, random_state=7)
        ref = KMeans(n_clusters=5, n_init=10, random_state=7).fit(big_z)
    assert ours.info["rows"] == len(big_z) and ours.info["init_sample_rows"] < len(big_z)
    np.testing.assert_array_equal(ours.centers, again.centers)
    assert adjusted_rand_score(ref.labels_, ours.labels) >= 0.99
    inertia = float(((big_z - ours.centers[ours.labels]) ** 2).sum())
    assert inertia <= 1.01 * ref.inertia_


def test_small_tables_take_the_ordinary_fit():
    Z = np.random.default_rng(0).standard_normal((300, 2))
    fitted = get_engine("kmeans").fit(Z, 3, random_state=0)
    assert fitted.info == {}
    ref = KMeans(n_clusters=3, n_init=10, random_state=0).fit(Z)
    np.testing.assert_array_equal(fitted.centers, ref.cluster_centers_)


def test_progress_callback_sees_every_phase_in_order():
    seen: list[tuple[str, int, int | None]] = []
    frame = custseg.make_customers(300, random_state=0)
    custseg.segment(frame, k=3, **_quick(), progress=lambda *a: seen.append(a))
    phases = list(dict.fromkeys(p for p, _, _ in seen))
    assert phases == ["fitting", "labelling"]
    assert ("labelling", 300, 300) in seen


def test_bars_draw_row_counts_and_hide_when_quiet_or_piped():
    assert progress_for(quiet=True) is None
    assert progress_for(quiet=False, stream=io.StringIO()) is None  # not a terminal
    buffer = io.StringIO()
    with ProgressBars(Console(file=buffer, force_terminal=True, width=100)) as bars:
        bars("reading", 500, 1000)
        bars("reading", 1000, 1000)
    assert "reading" in buffer.getvalue() and "1000/1000" in buffer.getvalue()


def test_unknown_engine_is_one_clean_line(sample_csv, tmp_path):
    proc = invoke_cli("segment", sample_csv, "--engine", "hadoop", "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "custseg: error: --engine must be one of local, chunked, spark; got 'hadoop'"
    )
