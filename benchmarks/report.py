"""How long the report takes, and how big it gets, as the input grows.

Usage::

    python benchmarks/report.py                 # 200 and 1,000,000 rows
    python benchmarks/report.py --rows 200 10000000

For each size: segments the bundled sample (K = 5, stability off) in this process,
then times the report's steps as ``custseg segment`` runs them — the report's view
of the run in memory (a bounded sample of rows, no file read back), the chart specs,
serialising them, drawing the PNGs with vl-convert in this process, bundling the Vega JavaScript
(cold: ``vl_convert.javascript_bundle``; warm: the cache) — and the whole report
end to end, then its ratio to the 200-row report: the report must not grow with the
rows beyond its sample. Wall and CPU seconds are both printed: on a busy machine
the difference is time spent waiting.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> str:
    wall, cpu = _clock()
    return f"{wall - start[0]:6.2f} s wall {cpu - start[1]:6.2f} s cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200, 1_000_000])
    args = parser.parse_args()
    print(
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}  cpus={os.cpu_count()}  "
        f"python {sys.version.split()[0]}"
    )

    start = _clock()
    import vl_convert

    import custseg
    from custseg.report import data as rd
    from custseg.report import report_from_result
    from custseg.report.build import PNG_SCALE, _vl_version
    from custseg.report.charts import build_charts
    from custseg.report.html import vega_bundle
    from custseg.report.rendering import render_png

    print(f"imports                      {_since(start)}")
    vl = _vl_version()
    start = _clock()
    vl_convert.javascript_bundle(vl_version=vl)
    print(f"JavaScript bundle (uncached) {_since(start)}")

    first = None
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            frame = custseg.make_customers(rows, random_state=0)
            result = custseg.segment(frame, k=5, random_state=42, stability=0)
            print(f"\n{rows:,} rows")
            start = _clock()
            run = rd.run_from_result(result)
            print(f"  the run in memory          {_since(start)}  ({len(run.table):,} rows kept)")
            start = _clock()
            charts = build_charts(run, {}, {})
            print(f"  build {len(charts)} chart specs      {_since(start)}")
            start = _clock()
            specs = [c.to_dict() for c in charts]
            print(f"  serialise specs            {_since(start)}")
            start = _clock()
            for spec in specs:
                render_png(spec, vl, PNG_SCALE)
            print(f"  render {len(specs)} PNGs            {_since(start)}")
            start = _clock()
            vega_bundle(vl)
            print(f"  JavaScript bundle (cache)  {_since(start)}")
            start = time.perf_counter()
            files = report_from_result(result, Path(tmp))
            took = time.perf_counter() - start
            first = first or took
            ratio = took / first
            print(f"  report, end to end         {took:6.2f} s wall  ({ratio:.2f}x the first size)")
            points = len(rd.point_sample(run))
            print(
                f"  report.html {files.html.stat().st_size / 1e6:.2f} MB; "
                f"{points:,} points drawn per scatter; "
                f"PNGs {sum(p.stat().st_size for p in files.charts) / 1e6:.2f} MB"
            )


if __name__ == "__main__":
    main()
