"""Benchmark: ``custseg features`` on a transaction log, against a whole-process pandas read.

Usage::

    .venv/bin/python benchmarks/features.py [LOG] [--repeat 3] [--threads 2] [--check]

LOG defaults to ``../shared/data/online_retail.csv.gz`` (541,909 lines). Whole
processes, imports included, run in turns (``--repeat`` rounds, each one's fastest
kept; see ``timing.py``):

* ``pandas read``: ``python -c "import pandas; pandas.read_csv(LOG)"``, the baseline;
* ``features --no-clv``: reading, cleaning, features and RFM scores, written out;
* ``features`` with lifetime value (needs ``custseg[clv]``): the same plus the
  BG/NBD and Gamma-Gamma fits and predictions.

Targets: ``--no-clv`` within 2.5x of the read; lifetime value adds at most 2 s.
``--check`` exits with 1 when one is missed. OMP_NUM_THREADS and the load average
are printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from timing import BIN, fix_threads, header, run_in_turns

DEFAULT_LOG = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail.csv.gz"
)
READ_RATIO = 2.5
CLV_EXTRA_S = 2.0
READ = "import sys, pandas; pandas.read_csv(sys.argv[1])"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", default=str(DEFAULT_LOG))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if not Path(args.log).exists():
        print(f"log not found: {args.log}", file=sys.stderr)
        return 2
    env = fix_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cs = str(BIN / "custseg")
        commands = {
            "read": [sys.executable, "-c", READ, args.log],
            "no clv": [cs, "features", args.log, "--no-clv", "--quiet", "-o", out / "a.csv"],
            "clv": [cs, "features", args.log, "--clv", "--quiet", "-o", out / "b" / "c.csv"],
        }
        print(header(f"custseg features on {args.log}"))
        runs = run_in_turns(commands, args.repeat, env)
        summary_path = out / "b" / "features_summary.json"
        clv = json.loads(summary_path.read_text())["clv"] if summary_path.exists() else {}
    print("| run | wall s | CPU s | peak MB | against | ratio / extra | target |")
    print("|---|---:|---:|---:|---|---:|---|")
    read, plain = runs["read"], runs["no clv"]
    ratio = plain["wall_s"] / read["wall_s"]
    print(
        f"| pandas read | {read['wall_s']:.2f} | {read['cpu_s']:.2f} | "
        f"{read['peak_rss_mb']:.0f} | - | - | - |"
    )
    met = ratio <= READ_RATIO
    print(
        f"| features --no-clv | {plain['wall_s']:.2f} | {plain['cpu_s']:.2f} | "
        f"{plain['peak_rss_mb']:.0f} | pandas read | {ratio:.2f}x | "
        f"<= {READ_RATIO}x {'met' if met else 'NOT met'} |"
    )
    if runs["clv"]["code"] == 0:
        full = runs["clv"]
        extra = full["wall_s"] - plain["wall_s"]
        met_clv = extra <= CLV_EXTRA_S
        met &= met_clv
        print(
            f"| features with lifetime value | {full['wall_s']:.2f} | {full['cpu_s']:.2f} | "
            f"{full['peak_rss_mb']:.0f} | --no-clv | +{extra:.2f} s | "
            f"<= +{CLV_EXTRA_S} s {'met' if met_clv else 'NOT met'} |"
        )
        print(f"lifetime value: {clv.get('library')}; {clv.get('params')}")
    else:
        print(f"lifetime value: not run ({runs['clv']['stderr'].strip()[-200:]})")
    print("runs (s): " + "; ".join(f"{k} {v['runs_s']}" for k, v in runs.items()))
    print(header("end"))
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
