"""How long retraining with --previous and checking drift take, and what they find.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/continuity_drift.py [--rows 200000]

Prints, for a table of ``--rows`` customers (custseg.make_customers, seeded):
the time of a plain fit, of a refit on a resample with ``previous=`` (warm
start + matching), the share of returning customers who changed segment, and
the time of ``custseg.drift`` on the same and on an income-shifted table.
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

import custseg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, rows={args.rows:,}")

    first = custseg.make_customers(args.rows, random_state=0)
    t = time.perf_counter()
    old = custseg.segment(first, k=args.k, stability=0)
    plain = time.perf_counter() - t
    print(f"plain fit:                       {plain:7.2f} s")

    newcomers = custseg.make_customers(args.rows // 2, random_state=1)
    newcomers["CustomerID"] = [f"N{i}" for i in range(len(newcomers))]
    second = pd.concat([first.sample(frac=0.5, random_state=2), newcomers])
    second = second.sample(frac=1, random_state=3).reset_index(drop=True)
    t = time.perf_counter()
    new = custseg.segment(second, k=args.k, stability=0, previous=old.model)
    linked = time.perf_counter() - t
    block = new.summary["continuity"]
    print(f"refit with previous= (linking):  {linked:7.2f} s  ({linked / plain:.2f}x plain)")
    print(
        f"  warm start used: {block['warm_start']['used']}; kept ids: {len(block['matches'])}, "
        f"new: {len(block['new'])}, vanished: {len(block['vanished'])}"
    )
    both = old.table[["CustomerID", "segment"]].merge(
        new.table[["CustomerID", "segment"]], on="CustomerID"
    )
    changed = (both["segment_x"] != both["segment_y"]).mean()
    print(f"  returning customers: {len(both):,}, changed segment: {changed:.2%}")

    for label, data in (
        ("same distribution", second),
        (
            "income +30%",
            second.assign(**{"Annual Income (k$)": second["Annual Income (k$)"] * 1.3}),
        ),
    ):
        t = time.perf_counter()
        report = custseg.drift(old.model, data)
        took = time.perf_counter() - t
        worst = max(report.features, key=lambda f: f["psi"])
        print(
            f"drift, {label:<18} {took:7.2f} s  verdict {report.verdict}; "
            f"max PSI {worst['psi']:.3f} ({worst['name']})"
        )


if __name__ == "__main__":
    main()
