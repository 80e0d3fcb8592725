"""Whole-process timing shared by the benchmarks: wall time, peak memory, the machine's load.

Each timed process is started by a small launcher, not by the benchmark itself:
Linux charges a child with its parent's peak RSS at exec time, and a benchmark may
hold a generated table. The launcher is small, so its child's peak is its own
(``wait4``'s ``ru_maxrss``).

The machine these figures come from is shared, so a benchmark runs each process
and its baseline in turns (``repeat`` times), keeps each one's fastest run (the
least disturbed), and prints the load average with every table: compare ratios
from one run, never times from different runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

__all__ = ["BIN", "best_run", "fix_threads", "header", "run_in_turns", "run_process"]

BIN = Path(sys.executable).parent

LAUNCHER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    report, argv = sys.argv[1], sys.argv[2:]
    with open(report + ".out", "wb") as out, open(report + ".err", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    with open(report, "w") as fh:
        json.dump({"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
                   "cpu_s": usage.ru_utime + usage.ru_stime,
                   "code": os.waitstatus_to_exitcode(status)}, fh)
    """
)


def fix_threads(threads: int) -> dict[str, str]:
    """Set the BLAS/OpenMP thread counts for every child; the environment to pass on.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: with it, a checkout without
    ``__pycache__`` compiles every custseg module on every timed run (a few tenths
    of a second on a default run), which an installed package never does. The
    first round writes the bytecode; the fastest round is kept.
    """
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return dict(os.environ)


def header(title: str) -> str:
    """One line: what runs, the thread count, the CPUs and the load average."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{title}: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}  "
        f"cpus={os.cpu_count()}  load average {load} (1, 5, 15 min)"
    )


def run_process(argv: Sequence[str], env: dict[str, str] | None = None) -> dict:
    """Run one whole process: wall and CPU seconds, peak RSS (MB), exit code, output.

    The caller checks ``code``: a refused input is expected to exit with 2.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *map(str, argv)],
            env=env,
            check=True,
        )
        result = json.loads(report.read_text())
        out = Path(f"{report}.out").read_text(errors="replace")
        err = Path(f"{report}.err").read_text(errors="replace")
    return {**result, "stdout": out, "stderr": err}


def best_run(runs: list[dict]) -> dict:
    """The fastest run, with every run's wall time and the highest peak RSS."""
    best = dict(min(runs, key=lambda r: r["wall_s"]))
    best["runs_s"] = [round(r["wall_s"], 2) for r in runs]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def run_in_turns(
    commands: dict[str, Sequence[str]], repeat: int, env: dict[str, str] | None = None
) -> dict[str, dict]:
    """Run every command once per round, ``repeat`` rounds; each one's :func:`best_run`.

    Alternating exposes a command and its baseline to the same background load.
    """
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            runs[name].append(run_process(argv, env))
    return {name: best_run(found) for name, found in runs.items()}
