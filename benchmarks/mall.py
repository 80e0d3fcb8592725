"""The Mall table with defaults against the seed notebook's own code path; compare on 10,000 rows.

Usage::

    python benchmarks/mall.py [--repeat 5] [--threads 2] [--compare-rows 10000]

Whole processes, imports included, run in turns (``--repeat`` rounds, each one's
fastest kept; see ``timing.py``):

* ``notebook``: what the seed notebook does, without its plots — pandas
  ``read_csv``, StandardScaler on the numeric columns, an elbow sweep of
  scikit-learn K-Means for K = 1..10 with ``n_init=10``, the final fit at K = 5,
  its silhouette, and the labelled table written as CSV;
* ``custseg segment mall_customers.csv`` with its defaults: roles, the K vote,
  bootstrap stability, names, the model, the report with its charts;
* ``custseg compare`` with its defaults on a ``--compare-rows`` sample table.

Targets: the Mall run within 1.5x of the notebook; compare under 10 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
from pathlib import Path

from timing import BIN, fix_threads, header, run_in_turns

MALL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mall_customers.csv"

NOTEBOOK = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    df = pd.read_csv(sys.argv[1])
    X = StandardScaler().fit_transform(df[["Age", "Annual Income (k$)", "Spending Score (1-100)"]])
    inertia = [KMeans(n_clusters=k, n_init=10, random_state=42).fit(X).inertia_
               for k in range(1, 11)]
    df["Cluster"] = KMeans(n_clusters=5, n_init=10, random_state=42).fit_predict(X)
    silhouette_score(X, df["Cluster"])
    df.to_csv(sys.argv[2], index=False)
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--compare-rows", type=int, default=10_000)
    parser.add_argument("--mall", type=Path, default=MALL)
    args = parser.parse_args()
    env = fix_threads(args.threads)
    import custseg

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "notebook.py"
        script.write_text(NOTEBOOK)
        table = work / f"customers_{args.compare_rows}.csv"
        custseg.make_customers(args.compare_rows, random_state=0).to_csv(table, index=False)
        cs = str(BIN / "custseg")
        print(header("Mall with defaults, and compare"))
        runs = run_in_turns(
            {
                "notebook": [sys.executable, script, args.mall, work / "notebook_out.csv"],
                "mall": [cs, "segment", args.mall, "--out", work / "mall", "--quiet"],
            },
            args.repeat,
            env,
        )
        runs.update(
            run_in_turns(
                {"compare": [cs, "compare", table, "--out", work / "compare"]},
                max(1, args.repeat // 2),
                env,
            )
        )
        rows_line = next(
            (line for line in runs["compare"]["stdout"].splitlines() if "Stability:" in line), ""
        )
    for name, r in runs.items():
        assert r["code"] == 0, f"{name}: {r['stderr'][-300:]}"
    mall, nb, cmp = runs["mall"], runs["notebook"], runs["compare"]
    ratio = mall["wall_s"] / nb["wall_s"]
    print("| run | wall s | CPU s | peak MB | against | ratio | target |")
    print("|---|---:|---:|---:|---|---:|---|")
    print(
        f"| seed notebook's code path (Mall) | {nb['wall_s']:.2f} | {nb['cpu_s']:.2f} | "
        f"{nb['peak_rss_mb']:.0f} | - | - | - |"
    )
    print(
        f"| custseg segment mall_customers.csv (defaults) | {mall['wall_s']:.2f} | "
        f"{mall['cpu_s']:.2f} | {mall['peak_rss_mb']:.0f} | notebook | {ratio:.2f}x | "
        f"<= 1.5x {'met' if ratio <= 1.5 else 'NOT met'} |"
    )
    print(
        f"| custseg compare, {args.compare_rows:,} rows (defaults) | {cmp['wall_s']:.2f} | "
        f"{cmp['cpu_s']:.2f} | {cmp['peak_rss_mb']:.0f} | - | - | "
        f"< 10 s {'met' if cmp['wall_s'] < 10 else 'NOT met'} |"
    )
    print(f"compare: {rows_line.strip()}")
    print("runs (s): " + "; ".join(f"{k} {v['runs_s']}" for k, v in runs.items()))
    print(header("end"))
    return 0 if ratio <= 1.5 and cmp["wall_s"] < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
