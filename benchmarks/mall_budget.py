"""Where the time of ``custseg segment mall_customers.csv`` goes, phase by phase.

``benchmarks/mall.py`` times the whole command against the seed notebook's code
path; this script says what the difference is made of. Each round runs, in turns:

* the notebook's code path, timing its imports and its computation apart;
* ``custseg segment`` with its defaults, in a process that wraps the command's
  own steps with clocks: the command-line start, the imports of pandas,
  scikit-learn and the library, the fit (read to names, with the K vote and the
  stability bootstrap), the report's imports, the report (chart specs, layout
  by the helper process, PNG rasterising, HTML), the files written, the exit.

Wall and CPU seconds of the main process per phase, the helper process's CPU,
and the notebook's; the round with the fastest total wall is kept. The wrapping
changes no output. ``--html-only`` also times an experiment: the same run with
``report.html`` but no PNG files (the page draws its charts in the browser), to
show what the PNG files cost.

Usage::

    python benchmarks/mall_budget.py [--repeat 3] [--threads 2] [--html-only]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from mall import MALL
from timing import fix_threads, header

NOTEBOOK_PHASES = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter(), time.process_time()
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    imported = time.perf_counter(), time.process_time()
    df = pd.read_csv(sys.argv[1])
    X = StandardScaler().fit_transform(df[["Age", "Annual Income (k$)", "Spending Score (1-100)"]])
    inertia = [KMeans(n_clusters=k, n_init=10, random_state=42).fit(X).inertia_
               for k in range(1, 11)]
    df["Cluster"] = KMeans(n_clusters=5, n_init=10, random_state=42).fit_predict(X)
    silhouette_score(X, df["Cluster"])
    df.to_csv(sys.argv[2], index=False)
    done = time.perf_counter(), time.process_time()
    print("BUDGET " + json.dumps({"phases": [
        ["imports: pandas, scikit-learn", *(b - a for a, b in zip(start, imported))],
        ["read, scale, elbow K=1..10, fit, silhouette, write",
         *(b - a for a, b in zip(imported, done))]]}), file=sys.stderr)
    """
)

SEGMENT_PHASES = textwrap.dedent(
    """
    import atexit, json, resource, sys, time
    marks = [("start", time.perf_counter(), time.process_time())]
    parts = {}

    def mark(name):
        marks.append((name, time.perf_counter(), time.process_time()))

    def timed(owner, attr, name):
        wrapped = getattr(owner, attr)
        def call(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return wrapped(*args, **kwargs)
            finally:
                total = parts.setdefault(name, [0.0, 0.0])
                total[0] += time.perf_counter() - wall
                total[1] += time.thread_time() - cpu
        setattr(owner, attr, call)

    import custseg
    import custseg.cli._common as common
    import custseg.cli.segment as command
    mark("interpreter, command-line modules")

    def fit(*args, **kwargs):
        mark("options, output folder checks (first pandas imports), helper start")
        import custseg.segmentation.result as result
        from custseg.segmentation.segmenter import segment
        timed(result.SegmentationResult, "write", "files written (a thread, beside the report)")
        mark("imports: pandas, scikit-learn, SciPy, the library")
        out = segment(*args, **kwargs)
        mark("fit: read, roles, K vote, final fit, stability, names")
        return out

    report = command.write_run_report
    def write_report(*args, **kwargs):
        mark("run folder opened")
        import vl_convert
        import custseg.report.build as build
        mark("report imports: Altair, Jinja2, vl-convert")
        timed(build, "build_charts", "chart specs (Altair)")
        timed(vl_convert, "svg_to_png", "PNG rasterising (here; layout in the helper)")
        out = report(*args, **kwargs)
        mark("report: specs, waits for layouts, PNGs, HTML")
        return out

    custseg.segment, command.write_run_report = fit, write_report
    if sys.argv[1] == "--html-only":  # report.html without its PNG files: no layout helper
        import contextlib
        from custseg.report import report_from_result
        sys.argv.pop(1)
        command.chart_layout = lambda wanted: contextlib.nullcontext()
        report = lambda run_dir, *, result, layout: {
            "report": report_from_result(result, run_dir, png=False).html}

    def done():
        mark("exit: files renamed into place, summary printed")
        helper = resource.getrusage(resource.RUSAGE_CHILDREN)
        phases = [[b[0], b[1] - a[1], b[2] - a[2]] for a, b in zip(marks, marks[1:])]
        print("BUDGET " + json.dumps({"phases": phases, "parts": parts,
              "helper_cpu": helper.ru_utime + helper.ru_stime}), file=sys.stderr)

    atexit.register(done)
    sys.argv = ["custseg", *sys.argv[1:]]
    common.main()
    """
)


def _run(argv: list[str], env: dict[str, str]) -> tuple[dict, float, float]:
    """One whole process: the phases it printed, its wall and its CPU seconds (children too)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    line = next(line for line in proc.stderr.splitlines() if line.startswith("BUDGET "))
    return json.loads(line.removeprefix("BUDGET ")), wall, cpu


def _rows(name: str, found: dict, wall: float, cpu: float) -> list[str]:
    rows = [f"| **{name}**, whole process | **{wall:.2f}** | **{cpu:.2f}** |"]
    rows += [f"| {phase} | {w:.3f} | {c:.3f} |" for phase, w, c in found["phases"]]
    for part, (w, c) in found.get("parts", {}).items():
        rows.append(f"| &nbsp;&nbsp;of which {part} | {w:.3f} | {c:.3f} |")
    if "helper_cpu" in found:
        rows.append(f"| layout helper process, beside the main one | | {found['helper_cpu']:.3f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mall", type=Path, default=MALL)
    parser.add_argument(
        "--html-only",
        action="store_true",
        help="Also time the run with report.html but without its PNG files (an experiment).",
    )
    args = parser.parse_args()
    env = fix_threads(args.threads)
    notebook: list[tuple[dict, float, float]] = []
    segment: list[tuple[dict, float, float]] = []
    html_only: list[tuple[dict, float, float]] = []
    print(header("Mall budget"))
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            out = Path(tmp) / f"run{round_}"
            nb = [sys.executable, "-c", NOTEBOOK_PHASES, str(args.mall), f"{out}.csv"]
            notebook.append(_run(nb, env))
            cs = [
                sys.executable,
                "-c",
                SEGMENT_PHASES,
                "segment",
                str(args.mall),
                "--out",
                str(out),
            ]
            segment.append(_run([*cs, "--quiet"], env))
            if args.html_only:
                html_only.append(_run([*cs[:3], "--html-only", *cs[3:], "--quiet"], env))
    nb_best = min(notebook, key=lambda run: run[1])
    cs_best = min(segment, key=lambda run: run[1])
    print("| phase | wall s | CPU s |")
    print("|---|---:|---:|")
    for line in _rows("seed notebook's code path", *nb_best) + _rows("custseg segment", *cs_best):
        print(line)
    if html_only:
        html_best = min(html_only, key=lambda run: run[1])
        for line in _rows("custseg segment, report.html without PNG files", *html_best):
            print(line)
    for name, run in (
        ("custseg", cs_best),
        ("without PNG files", html_best if html_only else None),
    ):
        if run is not None:
            print(
                f"{name} / notebook: wall {run[1] / nb_best[1]:.2f}x, "
                f"CPU {run[2] / nb_best[2]:.2f}x (fastest of {args.repeat} rounds each)"
            )
    print(header("end"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
