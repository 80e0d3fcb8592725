"""Throughput and latency of the scoring service (``custseg serve``).

Starts the real server on a free 127.0.0.1 port with a model trained on the
seeded sample, then measures:

* single-customer ``POST /v1/score`` requests per second and p50/p90/p99 latency
  with ``--clients`` concurrent clients (threads, one keep-alive connection each);
* the time to score one request of ``--batch`` customers (10,000 by default),
  client serialisation included, best and median of ``--repeats``.

The clients run on the same machine as the server and compete with it for CPU,
so the figures are a floor for a dedicated server. Every loop is bounded.

    .venv/bin/python benchmarks/serve.py [--clients 8] [--requests 2000] [--workers 1]
"""

from __future__ import annotations

import os

# Pin BLAS/OpenMP threads before NumPy is imported (here and in the server process).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

import custseg

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def customers(n: int, seed: int) -> list[dict]:
    frame = custseg.make_customers(n, random_state=seed)
    return [
        {"id": row["CustomerID"], **{f: float(row[f]) for f in FEATURES}}
        for row in frame.to_dict(orient="records")
    ]


def start_server(model: Path, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "custseg", "serve", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


def single_customer_load(url: str, clients: int, total: int) -> tuple[float, list[float]]:
    """Send ``total`` one-customer requests over ``clients`` threads; (wall s, latencies s)."""
    pool = customers(500, seed=3)
    per_client = total // clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []

    def worker(i: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for n in range(per_client):
                body = {"customers": [pool[(i * per_client + n) % len(pool)]]}
                start = time.perf_counter()
                response = client.post("/v1/score", json=body)
                latencies[i].append(time.perf_counter() - start)
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} request(s) failed, e.g. {failures[0]}")
    return wall, [x for part in latencies for x in part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="single-customer requests")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--batch", type=int, default=10_000, help="customers in the big request")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}  cpus={os.cpu_count()}  "
          f"custseg {custseg.__version__}  python {sys.version.split()[0]}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="custseg-bench-") as tmp:
        tmp_path = Path(tmp)
        custseg.segment(custseg.make_customers(2000, random_state=0), k=5).save(tmp_path)
        proc, url = start_server(tmp_path / "model.json", args.workers, tmp_path / "serve.log")
        try:
            print(f"server: {url}, {args.workers} worker(s); model: 3 features, 5 segments")
            single_customer_load(url, min(args.clients, 4), 100)  # warm-up
            wall, lat = single_customer_load(url, args.clients, args.requests)
            ms = np.array(lat) * 1000
            print(
                f"single customer: {len(lat)} requests, {args.clients} concurrent clients: "
                f"{len(lat) / wall:,.0f} requests/s; latency p50 {np.percentile(ms, 50):.1f} ms, "
                f"p90 {np.percentile(ms, 90):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"
            )
            batch = {"customers": customers(args.batch, seed=4)}
            size_mb = len(json.dumps(batch)) / 1e6
            times = []
            with httpx.Client(base_url=url, timeout=120) as client:
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    response = client.post("/v1/score", json=batch)
                    times.append(time.perf_counter() - start)
                    if response.status_code != 200:
                        raise SystemExit(f"batch failed: {response.status_code}")
                    assert response.json()["n_customers"] == args.batch
            print(
                f"one request of {args.batch:,} customers ({size_mb:.2f} MB JSON): best "
                f"{min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms "
                f"over {args.repeats} runs ({args.batch / min(times):,.0f} customers/s)"
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
