"""OpenAPI client benchmark: per-call overhead vs a raw httpx POST, and rate-limiter accuracy.

    uv run python bench/bench_openapi.py [--calls 2000] [--burst-seconds 10]

The emulator runs in a separate process (`rtcsnap.emulator.serve`) with its quotas lifted, so both
sides pay the same server cost and only the client side differs:
* rtcsnap: `SnapshotClient.start(**fields)` — build + validate + sign + send + parse (limiter off);
* baseline: `httpx.Client.post` of a body signed beforehand (signing not timed) with the same headers.
Then a 10 s burst through a client at the default 150 QPS StartSnapshot limit (emulator quota 150),
reporting the achieved rate and any QPSOverLimit answers.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
from rtcsnap.errors import OpenAPIError
from rtcsnap.openapi.client import SnapshotClient
from rtcsnap.retry import RetryPolicy

AK, SK = "AKLTbench", "bench-secret-0123456789"
STORAGE = {"type": 0, "tos_config": {"account_id": "2000000000", "bucket": "b", "region": "cn-beijing"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(port: int, qps: int) -> subprocess.Popen[bytes]:
    code = (
        "from rtcsnap.emulator import EmulatorConfig, serve;"
        f"serve(EmulatorConfig(keys={{{AK!r}: {SK!r}}}, qps={{'StartSnapshot': {qps}}}), '127.0.0.1', {port}, access_log=False, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(500):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.2)
            return proc
        except httpx.TransportError:
            time.sleep(0.01)
    proc.kill()
    raise SystemExit("emulator did not start")


def fields(i: int, run: str) -> dict[str, Any]:
    return {"app_id": "bench_app", "room_id": "room", "task_id": f"{run}-{i}", "storage_config": STORAGE}


def bench_client(url: str, n: int, run: str) -> float:
    with SnapshotClient(
        AK, SK, endpoint=url, api_version="2023-11-01", share_rate_limit=False, qps={"StartSnapshot": 1e9}
    ) as c:
        c.start(**fields(-1, run))  # connection warm-up
        t0 = time.perf_counter()
        for i in range(n):
            c.start(**fields(i, run))
        return time.perf_counter() - t0


def bench_raw(url: str, n: int, run: str) -> float:
    host = httpx.URL(url).netloc.decode()
    prepared = []
    with SnapshotClient(AK, SK, endpoint=url, api_version="2023-11-01") as c:
        for i in range(-1, n):
            prepared.append(c.prepare("StartSnapshot", **fields(i, run)))
    assert all(p.headers["Host"] == host for p in prepared)
    with httpx.Client(headers={"Accept": "application/json"}) as http:
        first = prepared.pop(0)
        http.post(first.url, content=first.body, headers=first.headers)
        t0 = time.perf_counter()
        for p in prepared:
            r = http.post(p.url, content=p.body, headers=p.headers)
            if r.status_code != 200:
                raise SystemExit(f"raw POST failed: {r.status_code} {r.text[:200]}")
        return time.perf_counter() - t0


def bench_burst(url: str, seconds: float) -> tuple[float, int, int]:
    """Calls through clients at the default 150 QPS limit for `seconds`; returns (rate, ok, throttled)."""
    stop_at = time.monotonic() + seconds
    counts = {"ok": 0, "throttled": 0}
    lock = threading.Lock()
    # no retries: a QPSOverLimit answer must surface as an error, not be retried away
    clients = [
        SnapshotClient(AK, SK, endpoint=url, api_version="2023-11-01", retry=RetryPolicy(attempts=1))
        for _ in range(2)
    ]

    def worker(k: int) -> None:
        i = 0
        c = clients[k % 2]
        while time.monotonic() < stop_at:
            try:
                c.start(**fields(i * 8 + k, "burst"))
                with lock:
                    counts["ok"] += 1
            except OpenAPIError:
                with lock:
                    counts["throttled"] += 1
            i += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for c in clients:
        c.close()
    return counts["ok"] / elapsed, counts["ok"], counts["throttled"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--burst-seconds", type=float, default=10.0)
    a = ap.parse_args()

    port = free_port()
    emu = start_emulator(port, qps=10**9)
    url = f"http://127.0.0.1:{port}"
    try:
        ours, raw = [], []
        for r in range(a.repeat):  # interleaved, so drift hits both sides
            raw.append(bench_raw(url, a.calls, f"raw{r}"))
            ours.append(bench_client(url, a.calls, f"cli{r}"))
    finally:
        emu.terminate()
        emu.wait()
    o, b = statistics.median(ours), statistics.median(raw)
    print(f"client overhead, {a.calls} StartSnapshot calls, median of {a.repeat}:")
    print(f"  rtcsnap SnapshotClient.start : {o:7.3f} s  {o / a.calls * 1e6:8.1f} us/call")
    print(f"  raw httpx POST (pre-signed)  : {b:7.3f} s  {b / a.calls * 1e6:8.1f} us/call")
    print(f"  ratio rtcsnap/raw            : {o / b:7.3f}   (target <= 1.2)")

    port = free_port()
    emu = start_emulator(port, qps=150)
    try:
        rate, ok, throttled = bench_burst(f"http://127.0.0.1:{port}", a.burst_seconds)
    finally:
        emu.terminate()
        emu.wait()
    print(
        f"rate limiter, {a.burst_seconds:.0f} s burst, 8 threads / 2 clients sharing one key, limit 150 QPS:"
    )
    print(f"  achieved {rate:.1f} QPS ({ok} calls), errors {throttled}   (target 145-150, 0 errors)")
    print(f"  python {sys.version.split()[0]}, {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
