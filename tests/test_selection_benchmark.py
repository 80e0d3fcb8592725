"""A smoke run of benchmarks/k_selection.py --quick (the full run is not part of the suite)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "k_selection.py"


def test_quick_benchmark_reports_every_criterion_the_rule_and_cross_validation(capsys):
    spec = importlib.util.spec_from_file_location("k_selection_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--suite", "synthetic"]) == 0
    out = capsys.readouterr().out
    for row in (*bench.SINGLE, "rank vote CH+DB", "always 2", "custseg (the rule)"):
        assert f"\n{row} " in out
    assert "Cross-validation over data-set groups" in out
    assert "'No structure' said on uniform noise: 100% of 3" in out
    assert "OMP_NUM_THREADS=" in out
