"""The snapshot engine: what a started task does (spec §1.2, §3.2, §7).

Observes the task registry (`TaskObserver`). For every running task it keeps a schedule; at each
due time it asks the room book which target streams publish with their camera on, and hands one
job per stream to a worker pool: grab the stream's current frame (rendered or decoded only now),
scale and encode it (`imaging`), store it through the task's storage provider (`uploads`), and
announce it with a signed `SnapshotRealTimeData` callback. A task whose target streams have all
stopped publishing for longer than its MaxIdleTime is stopped with `IdleTimeOut`.

Two ways to drive it. `start()` runs a scheduler thread on the real clock (the CLI and the
benchmark). Without it, a test owns time: with the emulator on a `ManualClock`, `advance(s)`
moves the clock from event to event and runs every capture due on the way, and `settle()` waits
until their uploads and callbacks are done — no sleeps, and exactly the images the schedule says.

Schedule rule: the first image at the start, then one every Interval seconds at fixed times
(start + k·Interval, so lag never accumulates). UpdateSnapshot takes effect at once: the next
image is due one new interval after the last due time (now, if that has passed). When the engine
falls more than an interval behind, the missed due times are skipped and counted, not queued:
a real service drops frames rather than bursting. Likewise a capture job that starts a whole
interval after its due time (the worker pool is saturated) is skipped and counted (`late_skips`):
under overload the engine runs at its capacity with bounded lag instead of an ever longer queue.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtcsnap.emulator import imaging
from rtcsnap.emulator.config import Clock, ManualClock
from rtcsnap.emulator.object_keys import KeyTemplate
from rtcsnap.emulator.registry import StopReason, TaskKey, TaskNotActiveError, TaskRegistry, TaskState
from rtcsnap.emulator.uploads import Destination, Sink, describe_failure, write_backup
from rtcsnap.protocol import callback_signature as cbsig

if TYPE_CHECKING:
    from rtcsnap.emulator.callbacks import CallbackSender
    from rtcsnap.emulator.rooms import RoomBook, StreamView

log = logging.getLogger(__name__)

KEEP_FAILURES = 100
"""Per task run: how many failure lines and backup paths the status keeps (counts are exact)."""
KEEP_RUNS = 1000
"""Stopped task runs kept for the status report."""
LAG_SAMPLES = 100_000


@dataclass(frozen=True)
class EngineConfig:
    key_template: KeyTemplate = field(default_factory=KeyTemplate)
    backup_dir: Path | None = None
    """Images whose upload failed for good are written here; None: reported as dropped."""
    workers: int = 8
    """Capture jobs in parallel: Pillow releases the GIL while scaling and encoding, and uploads
    wait on the network, so threads use both cores."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("EngineConfig.workers must be >= 1")


@dataclass
class CpuTotals:
    """Thread CPU seconds spent per stage, summed over every image (for the benchmark)."""

    images: int = 0
    render: float = 0.0
    scale: float = 0.0
    encode: float = 0.0
    upload: float = 0.0

    def as_dict(self) -> dict[str, float]:
        n = max(self.images, 1)
        return {
            "images": self.images,
            **{
                f"{k}_ms_per_image": 1000 * getattr(self, k) / n
                for k in ("render", "scale", "encode", "upload")
            },
        }


class _Run:
    """The engine's side of one task run. Mutated under the engine's lock only."""

    def __init__(self, task: TaskState) -> None:
        self.task = task
        self.next_due = task.start_time / 1000
        self.last_due: float | None = None
        self.active = True
        self.destination: Destination | None = None
        self.destination_error: str | None = None
        self.resolve_lock = threading.Lock()
        self.resolved = False
        self.captures = 0
        self.images = 0
        self.uploaded = 0
        self.retries = 0
        self.backed_up = 0
        self.dropped = 0
        self.callbacks = 0
        self.skipped = 0
        self.late = 0
        self.lag_total = 0.0
        self.lag_max = 0.0
        self.failures: deque[dict[str, str]] = deque(maxlen=KEEP_FAILURES)
        self.backups: deque[str] = deque(maxlen=KEEP_FAILURES)

    @property
    def key(self) -> TaskKey:
        return self.task.key

    def status(self) -> dict[str, Any]:
        t = self.task
        return {
            "app_id": t.key.app_id,
            "room_id": t.key.room_id,
            "task_id": t.key.task_id,
            "run": t.run,
            "status": "running" if self.active else "stopped",
            "stop_reason": t.stop_reason,
            "interval": t.interval,
            "storage": self.destination.target.url if self.destination is not None else None,
            "storage_error": self.destination_error,
            "captures": self.captures,
            "images": self.images,
            "uploaded": self.uploaded,
            "upload_retries": self.retries,
            "backed_up": self.backed_up,
            "dropped": self.dropped,
            "callbacks": self.callbacks,
            "skipped_ticks": self.skipped,
            "late_skips": self.late,
            "lag_ms": {
                "mean": round(1000 * self.lag_total / self.images, 3) if self.images else 0.0,
                "max": round(1000 * self.lag_max, 3),
            },
            "failures": list(self.failures),
            "backups": list(self.backups),
        }


class SnapshotEngine:
    """Produces the images of every running task of `registry` (see the module docstring)."""

    def __init__(
        self,
        registry: TaskRegistry,
        rooms: RoomBook,
        sink: Sink,
        *,
        clock: Clock,
        callbacks: CallbackSender | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        self.registry = registry
        self.rooms = rooms
        self.sink = sink
        self.callbacks = callbacks
        self.clock = clock
        self.config = config or EngineConfig()
        self.cpu = CpuTotals()
        self.lags: deque[tuple[float, float]] = deque(maxlen=LAG_SAMPLES)
        """(grab time, seconds behind its due time) of the latest images, for benchmarks."""
        self._cond = threading.Condition(threading.RLock())  # re-entrant: `wait` predicates read status
        self._runs: dict[TaskKey, _Run] = {}
        self._stopped: deque[_Run] = deque(maxlen=KEEP_RUNS)
        self._pending = 0
        self._dirty = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(self.config.workers, thread_name_prefix="rtcsnap-capture")
        registry.add_observer(self)
        rooms.add_listener(self._room_changed)
        for task in registry.running():  # tasks started before the engine was attached
            self.task_started(task)

    # ------------------------------------------------------------------ TaskObserver

    def task_started(self, task: TaskState) -> None:
        with self._cond:
            self._runs[task.key] = _Run(task)
            self._wake()

    def task_updated(self, task: TaskState) -> None:
        with self._cond:
            run = self._runs.get(task.key)
            if run is None:
                return
            run.task = task
            if run.last_due is not None:
                run.next_due = max(run.last_due + task.interval, self.clock())
            self._wake()

    def task_stopped(self, task: TaskState) -> None:
        with self._cond:
            run = self._runs.pop(task.key, None)
            if run is None:
                return
            run.task = task
            run.active = False
            self._stopped.append(run)
            self._wake()

    def _room_changed(self, view: StreamView) -> None:
        with self._cond:
            self._wake()

    def _wake(self) -> None:
        self._dirty = True
        self._cond.notify_all()

    # ------------------------------------------------------------------ scheduling

    def _tick(self, now: float) -> float | None:
        """Start every capture due at `now`, stop idle tasks; the time of the next event."""
        with self._cond:
            runs = list(self._runs.values())
        jobs: list[tuple[_Run, StreamView, int | None, float, float]] = []
        idle: list[_Run] = []
        next_event: float | None = None
        for run in runs:
            views = self._targets(run)
            deadline = self._idle_deadline(run, views)
            if deadline is not None and now >= deadline:
                idle.append(run)
                continue
            with self._cond:
                if not run.active:
                    continue
                if run.next_due <= now:
                    due, interval = run.next_due, run.task.interval
                    missed = math.floor((now - due) / interval)
                    run.skipped += missed
                    run.last_due = due + missed * interval
                    run.next_due = run.last_due + interval
                    run.captures += 1
                    self._cond.notify_all()
                    for view, index in views:
                        if view is not None and view.publishing and view.camera:
                            jobs.append((run, view, index, run.last_due, now))
                candidates = [run.next_due] + ([deadline] if deadline is not None and deadline > now else [])
            soonest = min(candidates)
            next_event = soonest if next_event is None else min(next_event, soonest)
        for run in idle:
            with contextlib.suppress(TaskNotActiveError):  # stopped by the API meanwhile
                self.registry.stop(run.key, StopReason.IDLE_TIMEOUT)
        for job in jobs:
            self._submit(*job)
        return next_event

    def _targets(self, run: _Run) -> list[tuple[StreamView | None, int | None]]:
        """(view, Index) of each target stream; a named stream nobody publishes is (None, …)."""
        key = run.key
        if run.task.target_streams:
            return [
                (self.rooms.stream(key.app_id, key.room_id, s.user_id, int(s.stream_type)), s.index)
                for s in run.task.target_streams
            ]
        return [(v, None) for v in self.rooms.streams(key.app_id, key.room_id)]

    def _idle_deadline(
        self, run: _Run, views: Iterable[tuple[StreamView | None, int | None]]
    ) -> float | None:
        """When the task times out if nothing changes; None while a target stream publishes."""
        last = run.task.start_time / 1000
        for view, _ in views:
            if view is None:
                continue
            if view.publishing:
                return None
            last = max(last, view.since)
        return last + run.task.max_idle_time

    def _submit(self, run: _Run, view: StreamView, index: int | None, due: float, ticked: float) -> None:
        with self._cond:
            self._pending += 1
        try:
            self._pool.submit(self._job, run, view, index, due, ticked)
        except RuntimeError:  # pool shut down: the engine is closing
            self._done()

    def _done(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    # ------------------------------------------------------------------ one image

    def _job(self, run: _Run, view: StreamView, index: int | None, due: float, ticked: float) -> None:
        try:
            self._capture(run, view, index, due, ticked)
        except Exception:
            log.exception(
                "snapshot job failed for %s/%s/%s", run.key.app_id, run.key.room_id, run.key.task_id
            )
        finally:
            self._done()

    def _destination(self, run: _Run) -> Destination | None:
        with run.resolve_lock:
            if not run.resolved:
                try:
                    run.destination = self.sink.destination(run.task.storage_config)
                except Exception as exc:
                    run.destination_error = describe_failure(exc)
                    log.warning(
                        "task %s: cannot write its StorageConfig: %s", run.key.task_id, run.destination_error
                    )
                run.resolved = True
            return run.destination

    def _capture(self, run: _Run, view: StreamView, index: int | None, due: float, ticked: float) -> None:
        # The frame is grabbed now; on a ManualClock "now" is when the schedule was checked (the
        # test may have moved the clock on before this job ran).
        manual = isinstance(self.clock, ManualClock)
        at = ticked if manual else max(due, self.clock())
        task = run.task
        if not manual and at - due >= task.interval:
            # Overloaded: the next image of this stream is already due. Grabbing this one now
            # would only grow the queue (lag without bound); skip it, counted, like a missed tick.
            # (A ManualClock test moves time faster than jobs run; there, the pool keeps up.)
            with self._cond:
                run.late += 1
            return
        c0 = time.thread_time()
        frame = self.rooms.frame(view.app_id, view.room_id, view.user_id, view.stream_type, at)
        c1 = time.thread_time()
        snap = imaging.snapshot(frame, task.image_config)
        stamp = round(at * 1000)
        key = self.config.key_template.render(
            app_id=task.key.app_id,
            room_id=task.key.room_id,
            task_id=task.key.task_id,
            business_id=task.business_id,
            user_id=view.user_id,
            stream_type=view.stream_type,
            index=index,
            timestamp_ms=stamp,
            ext=snap.extension,
        )
        dest = self._destination(run)
        c2 = time.thread_time()
        info = None
        failure = run.destination_error
        retries: list[str] = []
        if dest is not None:
            try:
                info = self.sink.put(dest, key, snap.data, snap.content_type, on_retry=retries.append)
            except Exception as exc:
                failure = describe_failure(exc)
        c3 = time.thread_time()
        with self._cond:
            run.images += 1
            run.retries += len(retries)
            lag = max(0.0, at - due)
            run.lag_total += lag
            run.lag_max = max(run.lag_max, lag)
            self.cpu.images += 1
            self.cpu.render += c1 - c0
            self.cpu.scale += snap.scale_cpu
            self.cpu.encode += snap.encode_cpu
            self.cpu.upload += c3 - c2
            self.lags.append((at, lag))
        if info is None or dest is None:
            self._keep(run, key, snap.data, failure or "upload failed")
            return
        with self._cond:
            run.uploaded += 1
        if self.callbacks is not None:
            self._announce(run, dest, view, index, snap, stamp, info.uri or key)

    def _keep(self, run: _Run, key: str, data: bytes, reason: str) -> None:
        """An image that could not be stored: to the backup folder, and into the status either way."""
        where = ""
        if self.config.backup_dir is not None:
            try:
                where = str(write_backup(self.config.backup_dir, key, data))
            except OSError as exc:
                reason = f"{reason}; backup failed: {exc}"
        with self._cond:
            run.failures.append({"key": key, "reason": reason, "backup": where})
            if where:
                run.backed_up += 1
                run.backups.append(where)
            else:
                run.dropped += 1
        if where:
            log.warning("task %s: image %s not stored (%s); kept at %s", run.key.task_id, key, reason, where)
        else:
            log.error(
                "task %s: image %s not stored (%s) and no backup folder kept it", run.key.task_id, key, reason
            )

    def _announce(
        self,
        run: _Run,
        dest: Destination,
        view: StreamView,
        index: int | None,
        snap: imaging.Snapshot,
        stamp: int,
        name: str,
    ) -> None:
        assert self.callbacks is not None
        task = run.task
        record = cbsig.ImageRecord(
            user_id=view.user_id,
            stream_type=view.stream_type,
            index=index,
            object_key=None if dest.veimagex else name,
            veimagex_uri=name if dest.veimagex else None,
            format=snap.format,
            width=snap.width,
            height=snap.height,
            size=len(snap.data),
            timestamp_ms=stamp,
        )
        data = cbsig.snapshot_event_data(
            app_id=task.key.app_id,
            business_id=task.business_id,
            room_id=task.key.room_id,
            task_id=task.key.task_id,
            bucket=None if dest.veimagex else dest.location,
            veimagex_service_id=dest.location if dest.veimagex else None,
            images=[record],
        )
        self.callbacks.send(
            cbsig.EVENT_SNAPSHOT,
            data,
            app_id=task.key.app_id,
            version=task.api_version.value,
            business_id=task.business_id,
        )
        with self._cond:
            run.callbacks += 1

    # ------------------------------------------------------------------ driving

    def start(self) -> SnapshotEngine:
        """Run the schedule on the real clock in a background thread."""
        if isinstance(self.clock, ManualClock):
            raise RuntimeError("a ManualClock engine is driven with advance(), not start()")
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="rtcsnap-scheduler", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._closing:
                    return
                self._dirty = False
            try:
                next_event = self._tick(self.clock())
            except Exception:
                log.exception("snapshot scheduler tick failed")
                next_event = None
            with self._cond:
                if self._closing:
                    return
                if not self._dirty:
                    wait = 1.0 if next_event is None else max(0.0, next_event - self.clock())
                    self._cond.wait(min(wait, 1.0))

    def advance(self, seconds: float) -> None:
        """Manual time: move the emulator's `ManualClock` `seconds` ahead, running every capture
        and idle timeout due on the way, in time order."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise RuntimeError("advance() needs the emulator on a ManualClock")
        end = clock() + seconds
        while True:
            next_event = self._tick(clock())
            if next_event is None or next_event > end:
                break
            clock.set(max(next_event, clock()))
        clock.set(end)
        self._tick(end)

    def wait(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Wait until `predicate()` (e.g. over `status()`) holds; re-checked at every due time
        handled and every finished capture. For tests on the real clock."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every capture started so far is stored (or kept) and its callback delivered."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    return False
        if self.callbacks is not None:
            return self.callbacks.drain(max(0.0, deadline - time.monotonic()))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Stop scheduling, let in-flight captures finish, close the sink's sessions."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        with contextlib.suppress(ValueError):
            self.registry.remove_observer(self)
        self.sink.close()

    # ------------------------------------------------------------------ status

    def task_status(self) -> list[dict[str, Any]]:
        """Every running task run and the last stopped ones, newest last."""
        with self._cond:
            runs = [*self._stopped, *self._runs.values()]
            return [r.status() for r in runs]

    def status(self, key: TaskKey) -> dict[str, Any] | None:
        """The latest run of `key`."""
        with self._cond:
            run = self._runs.get(key)
            if run is None:
                run = next((r for r in reversed(self._stopped) if r.key == key), None)
            return None if run is None else run.status()


__all__ = ["CpuTotals", "EngineConfig", "SnapshotEngine"]
