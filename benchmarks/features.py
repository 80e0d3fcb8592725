"""Benchmark: transaction log -> customer features, against just reading the log.

Usage::

    .venv/bin/python benchmarks/features.py [LOG] [--repeat 5] [--no-clv] [--check]

LOG defaults to ``../shared/data/online_retail.csv.gz`` (541,909 lines). Stages:

* ``pandas read``: ``pd.read_csv(LOG)`` with default options, the baseline;
* ``features``: ``read_transactions`` + ``build_customer_features(clv=False)``, i.e.
  reading, cleaning, features and RFM scores;
* ``lifetime value``: the BG/NBD + Gamma-Gamma fit alone (needs ``custseg[clv]``),
  plus the one-off import of PyMC.

Times are the best of ``--repeat`` runs after one warm-up run (file cache, lazy
imports), with the two timed stages alternating in one process so that a change in
machine load hits both alike; ``ratio`` is features / pandas read, target at most 2.
Peak memory (max RSS) is measured in a fresh process per stage. ``--check`` exits
with 1 when the target is missed. OMP_NUM_THREADS is set to 2 unless already set,
and printed, because BLAS and Arrow thread counts move these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

DEFAULT_LOG = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail.csv.gz"
)
TARGET_RATIO = 2.0


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _stage(name: str, log: str, repeat: int) -> dict:
    """Run one stage in this process and return its figures."""
    import pandas as pd

    from custseg.io.transactions import read_transactions
    from custseg.transactions import build_customer_features

    def read() -> pd.DataFrame:
        return pd.read_csv(log)

    def features() -> tuple:
        return build_customer_features(read_transactions(log), clv=False)

    if name == "pandas":
        frame = read()
        return {"lines": len(frame), "peak_mb": _peak_mb()}
    if name == "features":
        table, _ = features()
        return {"customers": len(table), "peak_mb": _peak_mb()}
    if name == "timing":
        # Alternate the two so a change in machine load hits both alike.
        read(), features()
        best = {"pandas": float("inf"), "features": float("inf")}
        cpu = {"pandas": float("inf"), "features": float("inf")}
        for _ in range(repeat):
            for key, fn in (("pandas", read), ("features", features)):
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                best[key] = min(best[key], time.perf_counter() - start)
                cpu[key] = min(cpu[key], time.process_time() - start_cpu)
        return {**best, "cpu": cpu}

    from custseg.transactions.cleaning import clean_log
    from custseg.transactions.clv import clv_available, predict_clv
    from custseg.transactions.detect import detect_log_columns

    if not clv_available():
        return {"skipped": 'pymc-marketing is not installed: pip install "custseg[clv]"'}
    frame = read_transactions(log)
    cleaned = clean_log(frame, detect_log_columns(frame))
    start = time.perf_counter()
    import pymc_marketing.clv  # noqa: F401  the one-off import cost, reported apart

    imported = time.perf_counter() - start
    start = time.perf_counter()
    _, info = predict_clv(cleaned, horizon_months=12)
    first = time.perf_counter() - start
    start = time.perf_counter()
    predict_clv(cleaned, horizon_months=12)
    second = time.perf_counter() - start
    return {
        "import_seconds": imported,
        "first_fit_seconds": first,  # includes PyTensor compiling (cached on disk after)
        "fit_seconds": second,
        "params": info["params"],
        "peak_mb": _peak_mb(),
    }


def _run_child(name: str, log: str, repeat: int) -> dict:
    cmd = [sys.executable, __file__, log, "--stage", name, "--repeat", str(repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", default=str(DEFAULT_LOG))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-clv", action="store_true", help="skip the lifetime-value stage")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if ratio > {TARGET_RATIO}")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(_stage(args.stage, args.log, args.repeat)))
        return 0
    if not Path(args.log).exists():
        print(f"log not found: {args.log}", file=sys.stderr)
        return 2

    print(f"log: {args.log}")
    print(
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}  cpus={os.cpu_count()}  "
        f"best of {args.repeat}"
    )
    timing = _run_child("timing", args.log, args.repeat)
    base = _run_child("pandas", args.log, 1)
    feat = _run_child("features", args.log, 1)
    ratio = timing["features"] / timing["pandas"]
    cpu = timing["cpu"]
    print(f"{'stage':<22}{'seconds':>9}{'CPU s':>8}{'peak MB':>10}")
    print(
        f"{'pandas read':<22}{timing['pandas']:>9.3f}{cpu['pandas']:>8.3f}"
        f"{base['peak_mb']:>10.0f}   ({base['lines']:,} lines)"
    )
    print(
        f"{'features (no CLV)':<22}{timing['features']:>9.3f}{cpu['features']:>8.3f}"
        f"{feat['peak_mb']:>10.0f}   ({feat['customers']:,} customers)"
    )
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio features / read: {ratio:.2f}  (target <= {TARGET_RATIO}: {verdict})")
    # CPU time counts every thread (Arrow reads on several); it moves less than wall
    # time when other processes compete for the cores.
    print(
        f"CPU-time ratio: {cpu['features'] / cpu['pandas']:.2f};  load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus"
    )
    if not args.no_clv:
        clv = _run_child("clv", args.log, 1)
        if "skipped" in clv:
            print(f"lifetime value: skipped, {clv['skipped']}")
        else:
            print(
                f"lifetime value: import {clv['import_seconds']:.1f} s, first fit "
                f"{clv['first_fit_seconds']:.1f} s (compiles), fit {clv['fit_seconds']:.1f} s, "
                f"peak {clv['peak_mb']:.0f} MB"
            )
            print(f"  BG/NBD {clv['params']['bg_nbd']}")
            print(f"  Gamma-Gamma {clv['params']['gamma_gamma']}")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
