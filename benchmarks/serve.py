"""Latency and throughput of the scoring service (``custseg serve``), against /healthz.

Starts the real server on a free 127.0.0.1 port with a model trained on the seeded
sample (3 features, 5 segments) and measures, each beside ``GET /healthz`` on the
same server so that the ratio says what scoring adds to the HTTP stack:

1. latency: the median of one-customer ``POST /v1/score`` over ``GET /healthz``, one
   client sending one request after another, the two in turns for ``--rounds`` rounds
   (target: at most 2x; the 8-client runs below print their medians too);
2. throughput: one-customer requests per second with ``--clients`` concurrent clients
   (target: at least 1,000 per second with 8 clients on one worker);
3. batches: customers per second in requests of ``--batch`` customers (target: at
   least 200,000 per second in batches of 1,000).

The load comes from Debian's ``wrk`` (``apt-get install wrk``): a C client that takes
little of the CPU the server needs. Without it, an asyncio httpx client stands in and
the figures are a floor (it competes with the server for the same cores). The server
and its clients share this machine: the thread count and the load average before and
after are printed; quote ratios measured in one run.

    .venv/bin/python benchmarks/serve.py [--clients 8] [--seconds 10] [--rounds 3] [--workers 1]
"""

from __future__ import annotations

import os

# Pin BLAS/OpenMP threads before NumPy is imported (here and in the server process).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import asyncio
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import custseg

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
LATENCY_TARGET = 2.0
RATE_TARGET = 1_000
CUSTOMERS_TARGET = 200_000


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
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start within 180 s")


# -- wrk --------------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(url: str, path: str, body: bytes | None, clients: int, seconds: float,
            folder: Path) -> dict[str, float]:  # fmt: skip
    """Requests per second and median latency (ms) of ``wrk`` on ``url + path``."""
    script = folder / "request.lua"
    if body is None:
        script.write_text("")
    else:
        (folder / "body.json").write_bytes(body)
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{folder / "body.json"}", "rb")\n'
            "wrk.body = f:read('*a')\nf:close()\n"
        )
    threads = min(clients, 2)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "60s",
         "--latency", "-s", str(script),
         url + path],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failed requests on {path}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The percentile line itself: "+/- Stdev" columns such as "78.50%" also end in "50%".
    median = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    return {"rate": rate, "median_ms": median, "threads": threads}


# -- the stand-in: asyncio httpx --------------------------------------------------------
async def _httpx_load(url: str, path: str, body: bytes | None, clients: int,
                      seconds: float) -> dict[str, float]:  # fmt: skip
    latencies: list[float] = []
    headers = {"content-type": "application/json"}
    end = time.perf_counter() + seconds

    async def client(session: httpx.AsyncClient) -> None:
        while time.perf_counter() < end:
            start = time.perf_counter()
            if body is None:
                response = await session.get(path)
            else:
                response = await session.post(path, content=body, headers=headers)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - start
    return {
        "rate": len(latencies) / wall,
        "median_ms": statistics.median(latencies) * 1000,
        "threads": 1,
    }


def load(url: str, path: str, body: bytes | None, clients: int, seconds: float,
         folder: Path) -> dict[str, float]:  # fmt: skip
    if shutil.which("wrk"):
        return run_wrk(url, path, body, clients, seconds, folder)
    return asyncio.run(_httpx_load(url, path, body, clients, seconds))


def _verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"


def latency(url: str, one: bytes, args: argparse.Namespace, folder: Path) -> None:
    """Median latency, one client: ``/healthz`` and ``/v1/score`` in turns, ``--rounds``
    times, so that both see the same moments of a shared machine; the verdict is the
    median of the rounds' ratios."""
    seconds = max(1, round(args.seconds / args.rounds))
    ratios = []
    for turn in range(1, args.rounds + 1):
        health = load(url, "/healthz", None, 1, seconds, folder)
        single = load(url, "/v1/score", one, 1, seconds, folder)
        ratios.append(single["median_ms"] / health["median_ms"])
        print(f"latency, 1 client, round {turn}: GET /healthz median "
              f"{health['median_ms']:.3f} ms, one-customer POST /v1/score median "
              f"{single['median_ms']:.3f} ms: {ratios[-1]:.2f}x")  # fmt: skip
    ratio = statistics.median(ratios)
    print(f"latency, 1 client: median of {args.rounds} rounds {ratio:.2f}x "
          f"(target <= {LATENCY_TARGET:g}x: {_verdict(ratio <= LATENCY_TARGET)})")  # fmt: skip


def measure(url: str, args: argparse.Namespace, folder: Path) -> None:
    one = json.dumps({"customers": customers(1, seed=3)}).encode()
    batch = json.dumps({"customers": customers(args.batch, seed=4)}).encode()
    for body in (one, batch):  # warm-up, and a check that the bodies are answered
        response = httpx.post(url + "/v1/score", content=body,
                              headers={"content-type": "application/json"}, timeout=60)  # fmt: skip
        if response.status_code != 200:
            raise SystemExit(f"score failed: {response.status_code} {response.text[:300]}")
    seconds = args.seconds
    latency(url, one, args, folder)

    health = load(url, "/healthz", None, args.clients, seconds, folder)
    single = load(url, "/v1/score", one, args.clients, seconds, folder)
    ratio = single["median_ms"] / health["median_ms"]
    print(f"throughput, {args.clients} clients ({single['threads']:g} client thread(s)): "
          f"GET /healthz {health['rate']:,.0f}/s, one-customer POST /v1/score "
          f"{single['rate']:,.0f}/s ({single['rate'] / health['rate']:.2f}x of /healthz; "
          f"target >= {RATE_TARGET:,}/s: {_verdict(single['rate'] >= RATE_TARGET)}); "
          f"median latency {health['median_ms']:.3f} ms vs {single['median_ms']:.3f} ms: "
          f"{ratio:.2f}x")  # fmt: skip

    batches = load(url, "/v1/score", batch, args.clients, seconds, folder)
    per_second = batches["rate"] * args.batch
    print(f"batches of {args.batch:,} ({len(batch) / 1e3:,.0f} kB), {args.clients} clients: "
          f"{batches['rate']:,.1f} requests/s = {per_second:,.0f} customers/s, median "
          f"{batches['median_ms']:.1f} ms per request (target >= {CUSTOMERS_TARGET:,}/s: "
          f"{_verdict(per_second >= CUSTOMERS_TARGET)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--batch", type=int, default=1_000, help="customers per batch request")
    parser.add_argument("--rounds", type=int, default=3,
                        help="latency rounds, /healthz and /v1/score in turns")  # fmt: skip
    args = parser.parse_args()

    tool = "wrk" if shutil.which("wrk") else "httpx (asyncio; install Debian's wrk for figures)"
    print(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}  cpus={os.cpu_count()}  "
          f"server workers={args.workers}  load tool: {tool}  custseg {custseg.__version__}  "
          f"python {sys.version.split()[0]}")  # fmt: skip
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="custseg-bench-") as tmp:
        folder = Path(tmp)
        custseg.segment(custseg.make_customers(2000, random_state=0), k=5).save(folder)
        proc, url = start_server(folder / "model.json", args.workers, folder / "serve.log")
        try:
            print(f"server: {url}; model: 3 features, 5 segments")
            measure(url, args, folder)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
