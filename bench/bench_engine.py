"""Snapshot engine benchmark (issue 9): one emulator process, T tasks x S streams at Interval 1 s.

    .venv/bin/python bench/bench_engine.py                       # 10 x 17, 20 s measured, null sink + SeaweedFS
    .venv/bin/python bench/bench_engine.py --seconds 5 --quick   # smoke run
    .venv/bin/python bench/bench_engine.py --sink null           # one sink

What runs
* T rooms of S publishers each (camera streams, synthetic 1280x720 sources), one task per room
  started over HTTP with the signed client, ImageConfig 800x800 JPEG, Interval 1: the schedule
  asks for T*S images per second (170 by default).
* Sinks: ``null`` (the engine's `NullSink`: render, scale, encode, no storage) and ``seaweed``
  (the s3 provider writing each image with boto3 to SeaweedFS, a native S3 server in its own
  process — the fastest honest local S3 server; its CPU is reported, it shares the two cores).
* After a warm-up (``--warmup`` s), a window of ``--seconds`` is measured: images produced per
  second, the process's CPU per image, the engine's thread-CPU per image split into render,
  scale, encode and upload, lag behind schedule (grab time minus due time: mean / p95 / max over
  the images grabbed in the window) skipped due times and late-skipped captures (in the window). "Keeps schedule" = at least 98 % of the asked rate, no skipped due time, max lag < 1 s.
* Baseline, same run, same frame: a bare Pillow ``resize((800, 450), BOX)`` +
  ``save(JPEG, quality=85)`` loop (the engine's filter and quality: the same work) against the engine's own `imaging.snapshot` on one thread
  (ratio = ours / bare), and the engine's in-run scale+encode per image against two bare
  figures: that one, and bare Pillow on fresh frames of 170 streams on one thread per core (the
  engine's conditions: cold frames, two busy cores sharing caches and memory bandwidth).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rooms_toml(tasks: int, streams: int) -> str:
    out = []
    for r in range(tasks):
        out.append(f'[[room]]\napp_id = "bench"\nroom_id = "room{r}"\n')
        for u in range(streams):
            out.append(
                f'[[room.user]]\nuser_id = "u{u}"\nstreams = [{{ type = 0, width = 1280, height = 720 }}]\n'
            )
    return "\n".join(out)


def baseline(repeat: int) -> dict[str, float]:
    """Bare Pillow vs `imaging.snapshot` on one synthetic 1280x720 frame, interleaved."""
    import io

    from rtcsnap.emulator import imaging
    from rtcsnap.emulator.sources import SyntheticSource
    from rtcsnap.models import ImageConfig

    frame = SyntheticSource("u0", 0, 1280, 720).frame(time.time())
    config = ImageConfig(format=0, width=800, height=800, interval=1)
    size = imaging.output_size(frame.size, (800, 800))
    filt = imaging.resample_for(frame.size, size)  # the same filter and quality: the same work

    def bare() -> None:
        buf = io.BytesIO()
        frame.resize(size, filt).save(buf, "JPEG", quality=imaging.JPEG_QUALITY)

    def ours() -> None:
        imaging.snapshot(frame, config)

    times: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(repeat):
        for name, fn in (("bare", bare), ("ours", ours)):
            t = time.thread_time()
            for _ in range(20):
                fn()
            times[name].append((time.thread_time() - t) / 20)
    b, o = statistics.median(times["bare"]), statistics.median(times["ours"])
    loaded = _bare_loaded(size, filt)
    render = []
    src = SyntheticSource("u1", 0, 1280, 720)
    t0 = time.time()
    for i in range(200):
        c = time.thread_time()
        src.frame(t0 + i * 0.04)
        render.append(time.thread_time() - c)
    return {
        "bare_ms": 1000 * b,
        "ours_ms": 1000 * o,
        "ratio": o / b,
        "render_ms": 1000 * statistics.median(render),
        "bare_loaded_ms": 1000 * loaded,
    }


def _bare_loaded(size: tuple[int, int], filt: Any) -> float:
    """Bare Pillow resize+save as the engine runs it: fresh frames of 170 streams, on as many
    threads as there are cores (two cores share caches and memory bandwidth: per-image CPU rises
    ~1.5x over one thread on one hot frame). Thread-CPU seconds per image, median of 3 rounds."""
    import io
    import os
    import threading

    from rtcsnap.emulator import imaging
    from rtcsnap.emulator.sources import SyntheticSource

    sources = [SyntheticSource(f"u{i}", 0, 1280, 720) for i in range(170)]
    t0 = time.time() + 1000
    threads = os.cpu_count() or 2
    rounds = []
    for r in range(3):
        per: list[float] = []

        def work(part: list[SyntheticSource], r: int = r, per: list[float] = per) -> None:
            spent = 0.0
            for i, src in enumerate(part):
                frame = src.frame(t0 + r + i * 1e-3)
                c = time.thread_time()
                frame.resize(size, filt).save(io.BytesIO(), "JPEG", quality=imaging.JPEG_QUALITY)
                spent += time.thread_time() - c
            per.append(spent / len(part))

        workers = [threading.Thread(target=work, args=(sources[k::threads],)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        rounds.append(statistics.mean(per))
    return statistics.median(rounds)


def _missed(engine: Any) -> tuple[int, int]:
    """(skipped due times, late-skipped captures) so far, over every task."""
    status = engine.task_status()
    return sum(s["skipped_ticks"] for s in status), sum(s["late_skips"] for s in status)


def _cpu(procs: list[Any]) -> float:
    return float(sum(p.cpu_times().user + p.cpu_times().system for p in procs))


def run(
    sink_name: str, tasks: int, streams: int, seconds: float, warmup: float, workers: int
) -> dict[str, Any]:
    import contextlib

    from rtcsnap.emulator import Emulator, EmulatorConfig, EmulatorServer, EngineConfig, NullSink
    from rtcsnap.emulator.rooms import load_rooms
    from rtcsnap.emulator.uploads import StorageRouting, Uploader
    from rtcsnap.openapi.client import SnapshotClient
    from rtcsnap.target import StorageTarget

    with contextlib.ExitStack() as stack:
        rooms_path = ROOT / ".bench-rooms.toml"
        rooms_path.write_text(rooms_toml(tasks, streams))
        stack.callback(rooms_path.unlink)
        weed_procs: list[Any] = []
        if sink_name == "seaweed":
            import psutil  # type: ignore[import-untyped]
            from rtcsnap.testing.storage_servers import open_server

            running = stack.enter_context(open_server("s3"))
            ak, sk = running.write_only
            target = StorageTarget.parse(running.target(), access_key=ak, secret_key=sk)
            sink: Any = Uploader(StorageRouting(endpoints={"s3": running.endpoint}))
            launcher = psutil.Process(running.server._proc.pid)  # bench-only peek at the weed process
            weed_procs = [launcher, *launcher.children(recursive=True)]
        else:
            target = StorageTarget.parse(
                "s3://bench-null?region=us-east-1", access_key="AKNULL", secret_key="null-secret"
            )
            sink = NullSink()
        key = "AKLTbench"
        emulator = Emulator(
            EmulatorConfig(keys={key: secrets.token_urlsafe(16)}), rooms=load_rooms(rooms_path)
        )
        engine = emulator.attach_engine(sink, config=EngineConfig(workers=workers))
        stack.callback(emulator.close)
        server = stack.enter_context(EmulatorServer(emulator))
        with SnapshotClient(
            key, emulator.config.keys[key], endpoint=server.url, api_version="2023-11-01"
        ) as client:
            for r in range(tasks):
                client.start(
                    app_id="bench",
                    room_id=f"room{r}",
                    task_id="t",
                    storage=target,
                    image_config={"format": 0, "width": 800, "height": 800, "interval": 1},
                )
            time.sleep(warmup)  # a benchmark's warm-up: not synchronisation
            c0, n0, p0 = dict(vars(engine.cpu)), engine.cpu.images, time.process_time()
            s0 = _cpu(weed_procs)
            m0 = _missed(engine)
            w0, w_start = time.monotonic(), time.time()
            time.sleep(seconds)
            w1, w_end = time.monotonic(), time.time()
            c1, n1, p1 = dict(vars(engine.cpu)), engine.cpu.images, time.process_time()
            s1 = _cpu(weed_procs)
            m1 = _missed(engine)
            for r in range(tasks):
                client.stop(app_id="bench", room_id=f"room{r}", task_id="t")
        engine.settle(60)
        status = engine.task_status()
    n = max(n1 - n0, 1)
    stages = {k: 1000 * (c1[k] - c0[k]) / n for k in ("render", "scale", "encode", "upload")}
    window = sorted(1000 * lag for at, lag in engine.lags if w_start <= at <= w_end)
    lag_max = window[-1] if window else 0.0
    lag_mean = statistics.mean(window) if window else 0.0
    lag_p95 = window[int(0.95 * (len(window) - 1))] if window else 0.0
    skipped, late = m1[0] - m0[0], m1[1] - m0[1]
    rate = (n1 - n0) / (w1 - w0)
    asked = tasks * streams
    result = {
        "sink": sink_name,
        "asked_per_s": asked,
        "images_per_s": round(rate, 1),
        "process_cpu_ms_per_image": round(1000 * (p1 - p0) / n, 2),
        "stage_cpu_ms_per_image": {k: round(v, 2) for k, v in stages.items()},
        "lag_ms_mean": round(lag_mean, 1),
        "lag_ms_p95": round(lag_p95, 1),
        "lag_ms_max": round(lag_max, 1),
        "skipped": skipped,
        "late_skips": late,
        "failures": sum(s["dropped"] + s["backed_up"] for s in status),
        "keeps_schedule": rate >= 0.98 * asked and skipped == 0 and lag_max < 1000 and late == 0,
    }
    if weed_procs:
        result["server_cpu_ms_per_image"] = round(1000 * (s1 - s0) / n, 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--streams", type=int, default=17)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--sink", choices=("null", "seaweed", "all"), default="all")
    parser.add_argument("--quick", action="store_true", help="a 5 s window, 1 s warm-up")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup = 5.0, 1.0
    base = baseline(repeat=5 if args.quick else 15)
    results = [
        run(s, args.tasks, args.streams, args.seconds, args.warmup, args.workers)
        for s in (("null", "seaweed") if args.sink == "all" else (args.sink,))
    ]
    for r in results:
        ours = r["stage_cpu_ms_per_image"]["scale"] + r["stage_cpu_ms_per_image"]["encode"]
        r["scale_encode_vs_bare"] = round(ours / base["bare_ms"], 2)
        r["scale_encode_vs_bare_loaded"] = round(ours / base["bare_loaded_ms"], 2)
    if args.json:
        print(json.dumps({"baseline": base, "runs": results}, indent=2))
        return 0
    print(
        f"baseline (one thread, same frame): bare Pillow resize+save {base['bare_ms']:.2f} ms, "
        f"imaging.snapshot {base['ours_ms']:.2f} ms -> ratio {base['ratio']:.2f}; render {base['render_ms']:.2f} ms;\n"
        f"          bare Pillow on fresh frames, one thread per core: {base['bare_loaded_ms']:.2f} ms"
    )
    for r in results:
        st = r["stage_cpu_ms_per_image"]
        print(
            f"{r['sink']:>8}: {r['images_per_s']:.1f} images/s of {r['asked_per_s']} asked "
            f"({'keeps' if r['keeps_schedule'] else 'MISSES'} schedule; lag mean {r['lag_ms_mean']} ms, "
            f"p95 {r['lag_ms_p95']} ms, max {r['lag_ms_max']} ms, skipped {r['skipped']}, late {r['late_skips']}, failures {r['failures']})\n"
            f"          CPU/image: process {r['process_cpu_ms_per_image']} ms = render {st['render']} + scale "
            f"{st['scale']} + encode {st['encode']} + upload {st['upload']} (+ the rest)"
            + (f"; server {r['server_cpu_ms_per_image']} ms" if "server_cpu_ms_per_image" in r else "")
            + f"\n          in-run scale+encode vs bare Pillow: {r['scale_encode_vs_bare']}x one hot frame, "
            f"{r['scale_encode_vs_bare_loaded']}x fresh frames on every core"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
