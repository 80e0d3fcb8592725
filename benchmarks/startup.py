"""Start-up and scoring: ``custseg --help``, a refused input, ``custseg score``, against baselines.

Usage::

    python benchmarks/startup.py [--repeat 5] [--rows 1000000] [--threads 2]

Whole processes, imports included, run in turns (``--repeat`` rounds, each one's
fastest kept; see ``timing.py``):

=====================================  =======================================  =========
run                                    baseline                                 target
=====================================  =======================================  =========
``custseg --help``                     —                                        < 0.5 s
``custseg segment absent.csv`` (2)     —                                        < 0.5 s
``custseg score`` on 200 rows          ``python -c "import pandas"``            <= 1.5x
``custseg score`` on 1,000,000 rows    ``pandas.read_csv`` of the same file     <= 2x
=====================================  =======================================  =========

The model is trained once (untimed) on the bundled 200-customer sample; the
1,000,000-row table comes from :func:`custseg.datasets.make_blobs_customers`
(the same columns), written as CSV.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from timing import BIN, fix_threads, header, run_in_turns

READ = "import sys, pandas; pandas.read_csv(sys.argv[1])"


def make_inputs(workdir: Path, rows: int) -> dict[str, Path]:
    """The 200-row sample, its model, and a ``rows``-row table with the same columns."""
    import custseg
    from custseg.datasets import make_blobs_customers
    from custseg.io.arrow import write_csv_fast

    small = workdir / "customers_200.csv"
    custseg.make_customers(200, random_state=0).to_csv(small, index=False)
    run = workdir / "run_200"
    custseg.segment(small, random_state=42, stability=0).save(run)
    big = workdir / f"customers_{rows}.csv"
    if not big.exists():
        write_csv_fast(make_blobs_customers(rows, 3, 5, random_state=0), big)
    return {"small": small, "model": run / "model.json", "big": big}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "custseg-bench"
    )
    args = parser.parse_args()
    env = fix_threads(args.threads)
    args.workdir.mkdir(parents=True, exist_ok=True)
    paths = make_inputs(args.workdir, args.rows)
    out = args.workdir / "scored.csv"
    cs = str(BIN / "custseg")
    print(header("start-up and scoring"))
    small = run_in_turns(
        {
            "import pandas": [sys.executable, "-c", "import pandas"],
            "help": [cs, "--help"],
            "refused": [cs, "segment", args.workdir / "absent.csv", "--out", args.workdir],
            "score 200": [cs, "score", paths["model"], paths["small"], "--out", out],
        },
        args.repeat,
        env,
    )
    big = run_in_turns(
        {
            "read": [sys.executable, "-c", READ, paths["big"]],
            "score big": [cs, "score", paths["model"], paths["big"], "--out", out],
        },
        max(1, args.repeat // 2),
        env,
    )
    runs = {**small, **big}
    assert runs["refused"]["code"] == 2, runs["refused"]["stderr"]
    for name in ("help", "score 200", "score big", "import pandas", "read"):
        assert runs[name]["code"] == 0, runs[name]["stderr"]
    rows = [
        ("custseg --help", "help", None, 0.5),
        ("custseg segment absent.csv (refused)", "refused", None, 0.5),
        ("custseg score, 200 rows", "score 200", "import pandas", 1.5),
        (f"custseg score, {args.rows:,} rows", "score big", "read", 2.0),
    ]
    # CPU seconds move less than wall time when other work holds the cores.
    print("| run | wall s | CPU s | peak MB | baseline | baseline s | ratio (CPU ratio) | target |")
    print("|---|---:|---:|---:|---|---:|---:|---|")
    missed = 0
    for label, key, base, target in rows:
        r = runs[key]
        if base is None:
            ok = r["wall_s"] < target
            cells = ("-", "-", "-", f"< {target} s {'met' if ok else 'NOT met'}")
        else:
            ratio = r["wall_s"] / runs[base]["wall_s"]
            ok = ratio <= target
            what = "python -c 'import pandas'" if base == "import pandas" else "pandas.read_csv"
            cpu_ratio = r["cpu_s"] / runs[base]["cpu_s"]
            cells = (
                what,
                f"{runs[base]['wall_s']:.2f}",
                f"{ratio:.2f}x ({cpu_ratio:.2f}x)",
                f"<= {target}x {'met' if ok else 'NOT met'}",
            )
        missed += not ok
        first = f"| {label} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['peak_rss_mb']:.0f} | "
        print(first + " | ".join(cells) + " |")
    print("runs (s): " + "; ".join(f"{k} {v['runs_s']}" for k, v in runs.items()))
    print(header("end"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
