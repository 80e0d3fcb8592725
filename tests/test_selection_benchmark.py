"""A smoke run of benchmarks/k_selection.py --quick (the full run is not part of the suite)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "k_selection.py"


def test_quick_benchmark_reports_every_criterion_and_the_noise_claims(capsys):
    spec = importlib.util.spec_from_file_location("k_selection_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for crit in ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap", "combined"):
        assert f"\n{crit} " in out
    assert "wine           true K=3   combined K=3" in out
    assert "uniform    100.0% of   3" in out  # noise is always called structureless
    assert "OMP_NUM_THREADS=" in out
