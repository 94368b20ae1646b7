"""Callback receiver benchmark (issue 10): verified-and-stored callbacks per second, 100 senders.

    .venv/bin/python bench/bench_callbacks.py                 # SQLite, PostgreSQL (if reachable), bare ceiling
    .venv/bin/python bench/bench_callbacks.py --seconds 5     # shorter

What runs
* The load: `wrk` (Debian package ``wrk``) with 2 threads and 100 connections, each request the
  next of N pre-signed, unique `SnapshotRealTimeData` envelopes (real §7.3 signatures, fresh
  EventTimes) read from a file by a Lua script, so every request is a new event the receiver must
  verify, parse and store. wrk is C: on this 2-core machine it costs far less than any Python
  client would, and it reports p50/p99 latency (``--latency``).
* The receiver: ``rtcsnap callbacks serve --quiet`` in its own process (uvicorn, one event loop),
  on a fresh SQLite file (WAL, ``synchronous=FULL``: one fsync per group commit) or a fresh
  PostgreSQL database (``synchronous_commit=on``).
* The ceiling, same run: the same uvicorn setup (`serve_app`, same protocol class) serving a bare
  ASGI app that reads the body and answers 200.
* Checked after each receiver run: every 200 wrk counted is in the index (the index may hold up
  to one more per connection: requests in flight when wrk stopped counting), wrk saw no other
  status and no `"duplicate": true` (a run that wrapped around the pre-signed bodies would).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXE = str(Path(sys.executable).with_name("rtcsnap"))

LUA = r"""
local bodies = {}
local n, nthreads = 0, 1
ok, other, dup = 0, 0, 0
function setup(thread)
  thread:set("id", setup_count or 0)
  setup_count = (setup_count or 0) + 1
  threads = threads or {}
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  nthreads = tonumber(args[2])
end
function request()
  n = n + 1
  local i = ((n - 1) * nthreads + id) % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
  if body and string.find(body, '"duplicate":true', 1, true) then dup = dup + 1 end
end
function done(summary, latency, requests)
  local o, x, d = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other"); d = d + t:get("dup") end
  io.write(string.format("STATUS ok=%d other=%d dup=%d\n", o, x, d))
end
"""


def make_bodies(path: Path, n: int, secret: str) -> None:
    from rtcsnap.protocol import callback_signature as cbsig

    now = time.time()
    with path.open("w") as out:
        for i in range(n):
            image = cbsig.ImageRecord(
                user_id=f"u{i % 17}",
                stream_type=0,
                index=None,
                object_key=f"bench/room{i % 10}/t/u{i % 17}_0_{1_700_000_000_000 + i}.jpg",
                veimagex_uri=None,
                format=0,
                width=800,
                height=450,
                size=40_000,
                timestamp_ms=1_700_000_000_000 + i,
            )
            data = cbsig.snapshot_event_data(
                app_id="bench",
                business_id="",
                room_id=f"room{i % 10}",
                task_id="t",
                bucket="snaps",
                images=[image],
            )
            env = cbsig.envelope(
                cbsig.EVENT_SNAPSHOT,
                data,
                app_id="bench",
                version="2023-11-01",
                secret=secret,
                event_id=uuid.uuid4().hex,
                event_time=now,
            )
            out.write(json.dumps(env, separators=(",", ":")) + "\n")


def start_server(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{args[:3]} exited before it was ready")
    return proc, json.loads(line)["endpoint"]


def run_wrk(url: str, bodies: Path, seconds: float, connections: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA)
        script = f.name
    try:
        r = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--latency",
                "-s",
                script,
                url,
                "--",
                str(bodies),
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(script)
    out = r.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out) for p in ("50", "99")}

    def ms(m: re.Match[str] | None) -> float:
        if m is None:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    status = re.search(r"STATUS ok=(\d+) other=(\d+) dup=(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rate": rate,
        "p50_ms": ms(lat["50"]),
        "p99_ms": ms(lat["99"]),
        "ok": int(status.group(1)) if status else -1,
        "other": int(status.group(2)) if status else -1,
        "duplicates": int(status.group(3)) if status else -1,
        "socket_errors": errors.group(1) if errors else "",
    }


def bare_app_server() -> tuple[subprocess.Popen[str], str]:
    code = (
        "import json, os\n"
        "from rtcsnap.asgi.server import bind, serve_app\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http': return\n"
        "    more = True\n"
        "    while more:\n"
        "        msg = await receive(); more = msg.get('more_body', False)\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': [(b'content-type', b'application/json')]})\n"
        "    await send({'type': 'http.response.body', 'body': b'{\"ok\":true}'})\n"
        "sock = bind('127.0.0.1', 0)\n"
        "url = f'http://127.0.0.1:{sock.getsockname()[1]}/'\n"
        "serve_app(app, sock=sock, access_log=False, log_level='warning', on_ready=lambda: print(json.dumps({'endpoint': url}), flush=True))\n"
    )
    return start_server([sys.executable, "-c", code], dict(os.environ))


def count_events(db: str) -> int:
    from rtcsnap.callbacks.index import SnapshotIndex

    index = SnapshotIndex(db)
    try:
        return index.count()[0]
    finally:
        index.close()


def postgres_url() -> str | None:
    import sqlalchemy

    url = os.environ.get("RTCSNAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        engine = sqlalchemy.create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2}
        )
        name = f"rtcsnap_bench_{uuid.uuid4().hex[:8]}"
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        return url.rsplit("/", 1)[0] + "/" + name
    except Exception:
        return None


def drop_postgres(url: str) -> None:
    import sqlalchemy

    base, name = url.rsplit("/", 1)
    engine = sqlalchemy.create_engine(base + "/test", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--bodies", type=int, default=120_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one index backend only")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_callbacks: needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="rtcsnap-bench-cb-"))
    secret = secrets.token_urlsafe(18)
    results: dict[str, Any] = {}
    try:
        bare, url = bare_app_server()
        try:
            make_bodies(work / "warm.jsonl", 2000, secret)
            run_wrk(url, work / "warm.jsonl", 2, args.connections)
            results["bare"] = run_wrk(url, work / "warm.jsonl", args.seconds, args.connections)
        finally:
            bare.terminate()
            bare.wait(30)
        dbs = {"sqlite": f"sqlite:///{work / 'index.db'}"}
        pg = postgres_url() if args.only in (None, "postgresql") else None
        if args.only == "postgresql":
            del dbs["sqlite"]
        if pg is not None:
            dbs["postgresql"] = pg
        for name, db in dbs.items():
            bodies = work / f"{name}.jsonl"
            make_bodies(bodies, args.bodies, secret)  # EventTimes fresh for this run
            env = {**os.environ, "RTCSNAP_CALLBACK_SECRET": secret}
            proc, url = start_server(
                [EXE, "callbacks", "serve", "--db", db, "--port", "0", "--json", "--quiet"], env
            )
            try:
                r = run_wrk(url, bodies, args.seconds, args.connections)
            finally:
                proc.terminate()
                proc.wait(60)
            r["stored"] = count_events(db)
            # wrk stops counting at the deadline: up to one request per connection was in flight,
            # stored (and answered 200) after wrk stopped listening. Every counted 200 is stored.
            r["exact"] = (
                r["ok"] <= r["stored"] <= r["ok"] + args.connections
                and r["other"] == 0
                and r["duplicates"] == 0
            )
            r["vs_bare"] = r["rate"] / results["bare"]["rate"]
            results[name] = r
            if name == "postgresql":
                drop_postgres(db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name, r in results.items():
        extra = (
            f"; stored {r['stored']} for {r['ok']} counted 200s (+ <= {args.connections} in flight at the stop): "
            f"{'exact' if r['exact'] else 'MISMATCH'}; "
            f"{r['vs_bare']:.2f}x the bare endpoint"
            if name != "bare"
            else ""
        )
        print(
            f"{name:>10}: {r['rate']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            f"non-200 {r['other']}{extra}"
            + (f"; socket errors {r['socket_errors']}" if r["socket_errors"] else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
