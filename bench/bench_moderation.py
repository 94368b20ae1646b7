"""Moderation benchmark (issue 12): images/s, the receiver's intake beside it, a 50 images/s burst.

    .venv/bin/python bench/bench_moderation.py                       # all three parts, ~5.5 min
    .venv/bin/python bench/bench_moderation.py --quick               # a smoke run, ~2 min
    .venv/bin/python bench/bench_moderation.py --only throughput     # or interference, burst
    .venv/bin/python bench/bench_moderation.py --only burst --burst-detectors nudity --json out.json

The frames: ``--frames`` (100) 640x360 JPEGs from `bench/eval_moderation.py`'s generator (seeded;
half with a forbidden phrase, the rest benign text or none; fonts, sizes, contrast, backgrounds and
JPEG quality varied), moderated round-robin.

Parts
* throughput: a `ModerationPool` (spawned processes, one ONNX thread per model, the defaults) with
  1 and 2 workers, for the nudity detector alone, the text detector alone and both; after
  `warm_up` and a few untimed images, every frame once through ``2 x workers`` caller threads
  (the pool's own queue keeps each process busy). Images/s is frames / wall time; CPU ms per image
  is the worker processes' user+system time (psutil) over the frames.
* interference: ``rtcsnap callbacks serve`` (SQLite, the setup of `bench/bench_callbacks.py`,
  whose wrk driver and pre-signed bodies this reuses: wrk -t2 -c100, closed loop, every request a
  new event) measured alone, then while another process keeps a `ModerationPool` busy (both
  detectors, ``--interference-workers``), alternating, a fresh receiver and database per run. The
  receiver runs with the moderation hook disabled (``RTCSNAP_DISABLE_PLUGINS=moderate``): here it
  has no storage to fetch images from, so the hook would only record failures; the moderation load
  is the separate process. Also once with that process at ``nice 19``.
* burst: what core's hook lane does with 50 images/s: a bounded queue (``--queue-size``, core's
  1000), ``--lane-threads`` (8, the plugin's) taking images off it into a 2-worker pool. A
  producer paced by `time.monotonic` deadlines offers ``--rate`` images/s for ``--burst-seconds``;
  an image offered to a full queue is counted as deferred (core leaves it 'pending' in the index
  for ``rtcsnap moderate --backlog``). The depth is sampled every second until the queue drains
  (or ``--drain-timeout``; then the rest is estimated at the measured rate).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import eval_moderation  # noqa: E402  (bench/, next to this file)

DETECTOR_SETS = {"nudity": ["nudity"], "text": ["text"], "both": ["nudity", "text"]}


def rules_for(detectors: str) -> Any:
    from rtcsnap_moderation import parse_rules

    rules = dict(eval_moderation.RULES)
    rules["detectors"] = DETECTOR_SETS[detectors]
    return parse_rules(rules)


def make_frames(n: int, seed: int) -> list[bytes]:
    samples = eval_moderation.generate(n, seed, sizes=[((640, 360), 1.0)])
    return [s.data for s in samples]


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return eval_moderation.table(headers, rows)


def worker_cpu_seconds() -> float:
    """User + system CPU of this process's children (the pool's workers), alive ones."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


class CpuWindow:
    """Who used the CPU over a stretch of time: the machine's busy time (psutil, all cores) and this
    process tree's (`os.times`, including every child reaped meanwhile: pool workers, the receiver,
    wrk), so what other processes took shows. Averages in cores."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self.t = time.monotonic()
        self.busy = self._busy()
        self.ours = self._ours()

    def _busy(self) -> float:
        c = self._psutil.cpu_times()
        return float(c.user + c.nice + c.system + getattr(c, "irq", 0.0) + getattr(c, "softirq", 0.0))

    @staticmethod
    def _ours() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t
        busy = (self._busy() - self.busy) / wall
        ours = (self._ours() - self.ours) / wall
        return {"wall_s": wall, "busy_cores": busy, "ours_cores": ours, "others_cores": max(0.0, busy - ours)}


def cpu_line(c: dict[str, float]) -> str:
    return (
        f"CPU over the part ({c['wall_s']:.0f} s): machine busy {c['busy_cores']:.2f} of "
        f"{os.cpu_count()} cores, this benchmark's processes {c['ours_cores']:.2f}, "
        f"other processes {c['others_cores']:.2f}."
    )


# ------------------------------------------------------------------------------------ throughput


def throughput_one(detectors: str, workers: int, frames: Sequence[bytes]) -> dict[str, Any]:
    from rtcsnap_moderation.pool import ModerationPool

    window = CpuWindow()
    pool = ModerationPool(rules_for(detectors), workers=workers)
    try:
        start = time.perf_counter()
        pool.warm_up()
        startup = time.perf_counter() - start
        with ThreadPoolExecutor(2 * workers) as callers:
            list(callers.map(lambda d: pool.moderate(d, "bench"), frames[: 2 * workers]))  # untimed
            cpu = worker_cpu_seconds()
            start = time.perf_counter()
            verdicts = list(callers.map(lambda d: pool.moderate(d, "bench"), frames))
            wall = time.perf_counter() - start
            cpu = worker_cpu_seconds() - cpu
    finally:
        pool.close()
    return {
        "cpu": window.stop(),
        "detectors": detectors,
        "workers": workers,
        "images": len(frames),
        "wall_s": wall,
        "images_per_s": len(frames) / wall,
        "cpu_ms_per_image": cpu / len(frames) * 1000,
        "startup_s": startup,
        "not_ok": sum(v.status != "ok" for v in verdicts),
        "flagged": sum(v.flagged for v in verdicts),
    }


def part_throughput(args: argparse.Namespace, frames: Sequence[bytes]) -> dict[str, Any]:
    runs = []
    for detectors in ("nudity", "text", "both"):
        for workers in (1, 2):
            r = throughput_one(detectors, workers, frames)
            print(
                f"  throughput {detectors:>6} x{workers}: {r['images_per_s']:.1f} images/s",
                file=sys.stderr,
            )
            runs.append(r)
    by = {(r["detectors"], r["workers"]): r for r in runs}
    rows = []
    for r in runs:
        one = by[(r["detectors"], 1)]["images_per_s"]
        rows.append(
            [
                r["detectors"],
                r["workers"],
                f"**{r['images_per_s']:.1f}**",
                f"{r['images_per_s'] / one:.2f}x",
                f"{r['cpu_ms_per_image']:.0f}",
                f"{r['startup_s']:.1f}",
                f"{r['cpu']['others_cores']:.2f}",
                r["not_ok"],
            ]
        )
    text = table(
        [
            "detectors",
            "workers",
            "images/s",
            "vs 1 worker",
            "CPU ms/image",
            "pool start s",
            "other processes' CPU, cores",
            "not ok",
        ],
        rows,
    )
    both2, nud2 = by[("both", 2)]["images_per_s"], by[("nudity", 2)]["images_per_s"]
    text += (
        f"\n\nBoth detectors / nudity alone at 2 workers: {both2 / nud2:.2f}x the rate "
        f"({both2:.1f} vs {nud2:.1f} images/s); {len(frames)} frames each."
    )
    return {"runs": runs, "table": text}


# ------------------------------------------------------------------------------------ interference

LOOP_READY = "READY"


def loop_worker(detectors: str, workers: int, nice: int, n_frames: int, seed: int) -> int:
    """The background load (a child process): moderate frames round-robin on a pool until a line
    arrives on stdin, then print each completion's `time.monotonic()` (system-wide on Linux)."""
    from rtcsnap_moderation.pool import ModerationPool

    if nice:
        os.nice(nice)  # before the pool spawns: its workers inherit it
    frames = make_frames(n_frames, seed)
    stop = threading.Event()
    done: list[float] = []
    lock = threading.Lock()
    with ModerationPool(rules_for(detectors), workers=workers) as pool:
        pool.warm_up()

        def caller(k: int) -> None:
            i = k
            while not stop.is_set():
                pool.moderate(frames[i % len(frames)], "bench")
                with lock:
                    done.append(time.monotonic())
                i += 2 * workers

        threads = [threading.Thread(target=caller, args=(k,)) for k in range(2 * workers)]
        for t in threads:
            t.start()
        print(LOOP_READY, flush=True)
        sys.stdin.readline()
        stop.set()
        for t in threads:
            t.join()
    print(json.dumps({"done": done}), flush=True)
    return 0


class Background:
    """A `loop_worker` child: started and warmed (`start` returns once it is moderating)."""

    def __init__(self, detectors: str, workers: int, nice: int, n_frames: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--_loop",
                json.dumps([detectors, workers, nice, n_frames, seed]),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != LOOP_READY:
            self.proc.kill()
            raise RuntimeError(f"moderation loop did not start: {line!r}")

    def stop(self) -> list[float]:
        out, _ = self.proc.communicate("stop\n", timeout=120)
        result: list[float] = json.loads(out.strip().splitlines()[-1])["done"]
        return result


def receiver_run(work: Path, name: str, seconds: float, bodies_n: int) -> dict[str, Any]:
    import bench_callbacks as cb

    secret = secrets.token_urlsafe(18)
    bodies = work / f"{name}.jsonl"
    cb.make_bodies(bodies, bodies_n, secret)
    db = f"sqlite:///{work / (name + '.db')}"
    env = {**os.environ, "RTCSNAP_CALLBACK_SECRET": secret, "RTCSNAP_DISABLE_PLUGINS": "moderate"}
    proc, url = cb.start_server(
        [cb.EXE, "callbacks", "serve", "--db", db, "--port", "0", "--json", "--quiet"], env
    )
    try:
        t0 = time.monotonic()
        r = cb.run_wrk(url, bodies, seconds, 100)
        t1 = time.monotonic()
    finally:
        proc.terminate()
        proc.wait(60)
    r["stored"] = cb.count_events(db)
    r["exact"] = r["ok"] <= r["stored"] <= r["ok"] + 100 and r["other"] == 0 and r["duplicates"] == 0
    r["window"] = (t0, t1)
    bodies.unlink()
    return r


def part_interference(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return {"table": "skipped: needs wrk (apt-get install wrk)", "runs": []}
    seconds = args.wrk_seconds
    bodies_n = max(20_000, int(seconds * 7_000))
    plan: list[tuple[str, int | None, int]] = [("alone", None, 0)]
    for workers in args.interference_workers:
        plan += [(f"moderating x{workers}", workers, 0), ("alone", None, 0)]
    plan += [(f"moderating x{args.interference_workers[0]}, nice 19", args.interference_workers[0], 19)]
    plan += [("alone", None, 0)]
    work = Path(tempfile.mkdtemp(prefix="rtcsnap-bench-mod-"))
    runs = []
    try:
        for k, (label, workers, nice) in enumerate(plan):
            window = CpuWindow()
            bg = Background("both", workers, nice, 40, args.seed) if workers else None
            try:
                r = receiver_run(work, f"run{k}", seconds, bodies_n)
            finally:
                done = bg.stop() if bg else []
            r["cpu"] = window.stop()
            t0, t1 = r["window"]
            in_window = [t for t in done if t0 <= t <= t1]
            r["moderated_per_s"] = len(in_window) / (t1 - t0) if workers else 0.0
            r["label"] = label
            runs.append(r)
            print(f"  interference {label}: {r['rate']:.0f} req/s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for k, r in enumerate(runs):
        if r["label"] == "alone":
            ratio = ""
        else:
            base = [runs[k - 1]["rate"], runs[k + 1]["rate"]]
            r["vs_alone"] = r["rate"] / (sum(base) / 2)
            ratio = f"**{r['vs_alone']:.2f}**"
        rows.append(
            [
                r["label"],
                f"{r['rate']:.0f}",
                ratio,
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['moderated_per_s']:.1f}" if r["moderated_per_s"] else "—",
                f"{r['cpu']['others_cores']:.2f}",
                "exact" if r["exact"] else f"MISMATCH (ok {r['ok']}, stored {r['stored']})",
            ]
        )
    text = table(
        [
            "receiver (SQLite) while",
            "req/s",
            "vs alone (mean of the runs either side)",
            "p50 ms",
            "p99 ms",
            "images/s moderated meanwhile",
            "other processes' CPU, cores",
            "stored = 200s",
        ],
        rows,
    )
    return {"runs": runs, "table": text, "wrk_seconds": seconds}


# ------------------------------------------------------------------------------------ burst


def part_burst(args: argparse.Namespace, frames: Sequence[bytes]) -> dict[str, Any]:
    from rtcsnap_moderation.pool import ModerationPool

    lane: queue.Queue[bytes | None] = queue.Queue(args.queue_size)
    lock = threading.Lock()
    finished = threading.Condition(lock)
    counts = {"offered": 0, "accepted": 0, "deferred": 0, "done": 0, "in_flight": 0, "not_ok": 0}
    samples: list[dict[str, float]] = []
    window = CpuWindow()
    pool = ModerationPool(rules_for(args.burst_detectors), workers=args.burst_workers)
    pool.warm_up()
    for d in frames[: 2 * args.burst_workers]:
        pool.moderate(d, "bench")

    def consumer() -> None:
        while True:
            data = lane.get()
            if data is None:
                return
            with lock:
                counts["in_flight"] += 1
            verdict = pool.moderate(data, "bench")
            with finished:
                counts["in_flight"] -= 1
                counts["done"] += 1
                counts["not_ok"] += verdict.status != "ok"
                finished.notify_all()

    consumers = [threading.Thread(target=consumer, daemon=True) for _ in range(args.lane_threads)]
    for t in consumers:
        t.start()
    sampling = threading.Event()
    t_start = time.monotonic()

    def sampler() -> None:
        deadline = t_start
        while not sampling.is_set():
            with lock:
                samples.append(
                    {
                        "t": round(time.monotonic() - t_start, 2),
                        "depth": lane.qsize(),
                        "in_flight": counts["in_flight"],
                        "done": counts["done"],
                        "deferred": counts["deferred"],
                    }
                )
            deadline += 1.0
            sampling.wait(max(0.0, deadline - time.monotonic()))

    sample_thread = threading.Thread(target=sampler, daemon=True)
    sample_thread.start()
    period = 1.0 / args.rate
    total = int(args.rate * args.burst_seconds)
    for i in range(total):
        wait = t_start + i * period - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # pacing the producer, not synchronisation
        with lock:
            counts["offered"] += 1
        try:
            lane.put_nowait(frames[i % len(frames)])
            with lock:
                counts["accepted"] += 1
        except queue.Full:
            with lock:
                counts["deferred"] += 1
    t_end = time.monotonic()
    with lock:
        backlog = lane.qsize() + counts["in_flight"]
        done_at_end = counts["done"]
    with finished:
        drained = finished.wait_for(lambda: counts["done"] == counts["accepted"], timeout=args.drain_timeout)
        t_drained = time.monotonic()
        left = counts["accepted"] - counts["done"]
    sampling.set()
    sample_thread.join()
    while True:  # an undrained lane: drop what is left so the consumers can stop
        try:
            lane.get_nowait()
        except queue.Empty:
            break
    for _ in consumers:
        lane.put(None)
    for t in consumers:
        t.join(timeout=120)
    pool.close()
    cpu = window.stop()
    elapsed = t_drained - t_start
    service_rate = counts["done"] / elapsed
    result = {
        "detectors": args.burst_detectors,
        "workers": args.burst_workers,
        "lane_threads": args.lane_threads,
        "queue_size": args.queue_size,
        "rate": args.rate,
        "burst_seconds": args.burst_seconds,
        "offered": total,
        "offered_per_s": total / (t_end - t_start),
        "accepted": counts["accepted"],
        "deferred": counts["deferred"],
        "done_during_burst": done_at_end,
        "processed_per_s_during_burst": done_at_end / (t_end - t_start),
        "max_depth": max(s["depth"] for s in samples),
        "backlog_at_end": backlog,
        "drained": drained,
        "drain_s": (t_drained - t_end) if drained else None,
        "left_undrained": left,
        "drain_estimate_s": (t_drained - t_end) + left / service_rate if not drained else None,
        "deferred_drain_estimate_s": counts["deferred"] / service_rate,
        "service_rate": service_rate,
        "not_ok": counts["not_ok"],
        "samples": samples,
        "cpu": cpu,
    }
    result["table"] = burst_table(result) + "\n\n" + cpu_line(cpu)
    return result


def burst_table(r: dict[str, Any]) -> str:
    drain = (
        f"{r['drain_s']:.1f} s"
        if r["drained"]
        else f"not within the timeout: {r['left_undrained']} left, ~{r['drain_estimate_s']:.0f} s in all at the measured rate"
    )
    first_full = next((s["t"] for s in r["samples"] if s["deferred"] > 0), None)
    rows = [
        ["offered", f"{r['offered']} images over {r['burst_seconds']:g} s ({r['offered_per_s']:.1f}/s)"],
        [
            "moderated during the burst",
            f"{r['done_during_burst']} ({r['processed_per_s_during_burst']:.1f}/s)",
        ],
        ["max queue depth (sampled each second)", f"**{r['max_depth']}** of {r['queue_size']}"],
        ["queue full from", f"t = {first_full:.0f} s" if first_full is not None else "never"],
        ["deferred (queue full: left 'pending' for the backlog)", f"**{r['deferred']}**"],
        ["backlog at the end of the burst (queued + in flight)", f"**{r['backlog_at_end']}**"],
        ["drain time of the accepted backlog", f"**{drain}**"],
        ["then the deferred, at the same rate", f"~{r['deferred_drain_estimate_s']:.0f} s"],
        ["verdicts not ok", str(r["not_ok"])],
    ]
    text = table(
        [
            f"burst: {r['rate']:g}/s into a {r['detectors']} pool x{r['workers']} ({r['lane_threads']} lane threads)",
            "result",
        ],
        rows,
    )
    step = max(1, len(r["samples"]) // 16)
    timeline = [s for k, s in enumerate(r["samples"]) if k % step == 0] + r["samples"][-1:]
    text += "\n\n" + table(
        ["t s", "queue depth", "in flight", "moderated", "deferred"],
        [[f"{s['t']:.0f}", s["depth"], s["in_flight"], s["done"], s["deferred"]] for s in timeline],
    )
    return text


# ------------------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("throughput", "interference", "burst"))
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--wrk-seconds", type=float, default=10.0)
    parser.add_argument("--interference-workers", type=lambda s: [int(x) for x in s.split(",")], default=[1])
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst-detectors", choices=tuple(DETECTOR_SETS), default="both")
    parser.add_argument("--burst-workers", type=int, default=2)
    parser.add_argument("--queue-size", type=int, default=1000, help="core's DEFAULT_QUEUE_SIZE")
    parser.add_argument("--lane-threads", type=int, default=8, help="the plugin's LANE_THREADS")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--_loop", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._loop:
        detectors, workers, nice, n_frames, seed = json.loads(args._loop)
        return loop_worker(detectors, workers, nice, n_frames, seed)
    if args.quick:
        args.frames = min(args.frames, 30)
        args.wrk_seconds = min(args.wrk_seconds, 3.0)
        args.burst_seconds = min(args.burst_seconds, 10.0)
        args.drain_timeout = min(args.drain_timeout, 30.0)

    command = " ".join(
        [".venv/bin/python", "bench/bench_moderation.py", *(argv if argv is not None else sys.argv[1:])]
    )
    results: dict[str, Any] = {
        "command": command,
        "cores": os.cpu_count(),
        "load_before": load_avg(),
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    start = time.perf_counter()
    frames = make_frames(args.frames, args.seed)
    if args.only in (None, "throughput"):
        results["throughput"] = part_throughput(args, frames)
    if args.only in (None, "interference"):
        results["interference"] = part_interference(args)
    if args.only in (None, "burst"):
        results["burst"] = part_burst(args, frames)
    results["load_after"] = load_avg()
    results["wall_s"] = time.perf_counter() - start

    print(f"    {command}\n")
    print(
        f"{results['cores']} cores; started {results['started_utc']} UTC; load average (1/5/15 min) "
        f"before {results['load_before']}, after {results['load_after']}; wall {results['wall_s']:.0f} s; "
        f"{args.frames} frames 640x360."
    )
    for part in ("throughput", "interference", "burst"):
        if part in results:
            print(f"\n{part}:\n\n{results[part]['table']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
