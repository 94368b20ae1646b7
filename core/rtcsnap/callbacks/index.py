"""The snapshot index: every received callback, deduped by `EventId`, and one row per announced image.

Why it looks like this:
* The receiver answers 200 only after the event is durably committed, so `store` is one transaction
  per batch and `GroupCommitter` lets concurrent requests share it (one fsync for many events).
* Deliveries are at-least-once and several receivers may share one PostgreSQL database, so dedupe is
  the database's job: a UNIQUE `event_id` and INSERT … ON CONFLICT DO NOTHING, never a read-then-write.
  Each batch inserts its events in `event_id` order, so two receivers storing overlapping batches
  take row locks in one order and cannot deadlock.
* SQLite (the default: one file) runs in WAL mode with ``synchronous=FULL`` (an fsync per commit) and
  takes the write lock at ``BEGIN IMMEDIATE``, so a second writer waits (busy timeout) instead of
  failing on a lock upgrade; PostgreSQL keeps its durable defaults (``synchronous_commit=on``).
* The schema is versioned (Alembic, `rtcsnap.callbacks.migrations`) and upgraded to head on open.
* Analysis plugins record their verdicts here (`record_verdict`: one row per image and plugin, an
  upsert, so a replayed hook replaces its answer), and `snapshots` filters on them in SQL.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from rtcsnap import secrets
from rtcsnap.callbacks import migrations
from rtcsnap.callbacks.records import Event, SnapshotRecord
from rtcsnap.callbacks.verdicts import verdict_input, verdict_output
from rtcsnap.errors import ConfigurationError, RtcSnapError, ValidationError

BUSY_TIMEOUT_S = 10.0
"""How long a SQLite writer waits for another one (a second process on the same file)."""
MAX_LIMIT = 10_000
_MIGRATION_LOCK = 0x72746373  # pg_advisory_xact_lock key ("rtcs"): one migrator at a time
_WRITE = "rtcsnap_write"  # execution option: this connection's transaction will write

RECORD_FIELDS = tuple(f.name for f in fields(SnapshotRecord))

_meta = sa.MetaData()
events = sa.Table(
    "events",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.String(255), unique=True, nullable=False),
    sa.Column("event_type", sa.String(255)),
    sa.Column("app_id", sa.String(255)),
    sa.Column("business_id", sa.String(255)),
    sa.Column("event_time", sa.String(64)),
    sa.Column("version", sa.String(64)),
    sa.Column("raw", sa.Text),
    sa.Column("received_at", sa.Float),
    sa.Column("hook_status", sa.String(16)),
)
"""The head schema as the queries see it (the migrations own the DDL)."""
snapshots = sa.Table(
    "snapshots",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.String(255)),
    sa.Column("app_id", sa.String(255)),
    sa.Column("business_id", sa.String(255)),
    sa.Column("room_id", sa.String(255)),
    sa.Column("task_id", sa.String(255)),
    sa.Column("user_id", sa.String(255)),
    sa.Column("stream_type", sa.Integer),
    sa.Column("stream_index", sa.Integer),
    sa.Column("bucket", sa.String(255)),
    sa.Column("veimagex_service_id", sa.String(255)),
    sa.Column("object_key", sa.Text),
    sa.Column("veimagex_uri", sa.Text),
    sa.Column("format", sa.Integer),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("size", sa.BigInteger),
    sa.Column("timestamp_ms", sa.BigInteger),
    sa.Column("received_at", sa.Float),
)
hook_failures = sa.Table(
    "hook_failures",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.String(255)),
    sa.Column("hook", sa.String(255)),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer),
    sa.Column("last_at", sa.Float),
)
verdicts = sa.Table(
    "verdicts",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("snapshot_id", sa.BigInteger),
    sa.Column("source", sa.String(255)),
    sa.Column("status", sa.String(16)),
    sa.Column("flagged", sa.Boolean),
    sa.Column("error", sa.Text),
    sa.Column("fired", sa.Text),
    sa.Column("details", sa.Text),
    sa.Column("created_at", sa.Float),
    sa.Column("reason", sa.Text),
)
verdict_labels = sa.Table(
    "verdict_labels",
    _meta,
    sa.Column("verdict_id", sa.BigInteger, primary_key=True),
    sa.Column("label", sa.String(255), primary_key=True),
)
HOOK_STATUSES = ("pending", "done", "failed")
"""`events.hook_status`: hooks not run yet (or not queued), all succeeded, at least one failed."""
EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "app_id",
    "event_time",
    "version",
    "business_id",
    "raw",
    "received_at",
    "hook_status",
)


class SnapshotIndexError(RtcSnapError):
    """The index could not be opened or written; a failed write stored nothing of its batch."""


@dataclass(frozen=True)
class SnapshotPage:
    """One page of `SnapshotIndex.snapshots`; pass `next` as `after` for the following page (None: last)."""

    items: list[dict[str, Any]]
    next: str | None


def database_url(url: str) -> str:
    """An SQLAlchemy URL for `url`: a URL as given, a bare path as a SQLite file."""
    if "://" in url:
        return url
    if not url.strip():
        raise ConfigurationError("index: a database URL or a SQLite file path is required")
    return f"sqlite:///{Path(url).expanduser().absolute()}"


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database in (None, "", ":memory:"):
        raise ConfigurationError("index: an in-memory SQLite database is not durable; give a file path")
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # we issue BEGIN ourselves (below), the driver must not
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            f"busy_timeout={int(BUSY_TIMEOUT_S * 1000)}",
            "foreign_keys=ON",
        ):
            dbapi.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _engine(url_text: str) -> Engine:
    try:
        url = sa.make_url(database_url(url_text))
    except sa.exc.ArgumentError:
        raise ConfigurationError(
            "index: not a database URL (sqlite:///PATH, postgresql+psycopg://…) or a file path"
        ) from None
    secrets.register(url.password if isinstance(url.password, str) else None)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() == "postgresql":
        return sa.create_engine(url)
    raise ConfigurationError(f"index: unsupported database {url.get_backend_name()!r} (sqlite or postgresql)")


def _cursor(row: Any) -> str:
    return base64.urlsafe_b64encode(f"{row.timestamp_ms}:{row.id}".encode()).decode().rstrip("=")


def _uncursor(text: str) -> tuple[int, int]:
    try:
        ts, _, row_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition(":")
        return int(ts), int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("must be a cursor from a previous page's `next`", path="after") from None


class SnapshotIndex:
    """Events and snapshot records in SQLite (a file path or ``sqlite:///PATH``) or PostgreSQL
    (``postgresql+psycopg://…``). Thread-safe: share one per process."""

    def __init__(self, url: str) -> None:
        self._engine = _engine(url)
        self._closed = False
        try:
            with self._write() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                migrations.upgrade(conn)
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise SnapshotIndexError(
                f"index: cannot open {self.url} ({type(exc).__name__}: {_reason(exc)})"
            ) from None

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def __repr__(self) -> str:
        return f"SnapshotIndex({self.url!r})"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._closed:
            raise SnapshotIndexError("index: closed")
        with self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._closed:
            raise SnapshotIndexError("index: closed")
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def store(
        self, batch: Sequence[tuple[Event, Sequence[SnapshotRecord]]], received_at: float
    ) -> list[bool]:
        """Store `batch` in ONE transaction; per item True = a new `EventId` (stored now), False = a
        duplicate (stored before, by anyone, or earlier in this batch). Raises `SnapshotIndexError` when the
        transaction failed: then nothing of the batch is stored."""
        first: dict[str, int] = {}
        for n, (event, records) in enumerate(batch):
            first.setdefault(event.event_id, n)
            for record in records:
                if record.event_id != event.event_id:
                    raise ValueError(
                        f"batch[{n}]: a snapshot record of event {record.event_id!r} under {event.event_id!r}"
                    )
        if not first:
            return []
        rows = [
            {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "app_id": e.app_id,
                "business_id": e.business_id,
                "event_time": e.event_time,
                "version": e.version,
                "raw": e.raw,
                "received_at": received_at,
            }
            for e in sorted((batch[n][0] for n in first.values()), key=lambda e: e.event_id)
        ]
        try:
            with self._write() as conn:
                insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
                stmt = insert(events).on_conflict_do_nothing(index_elements=["event_id"])
                new = {r[0] for r in conn.execute(stmt.returning(events.c.event_id), rows)}
                shots = [
                    {**vars(r), "received_at": received_at}  # shallow: asdict deep-copies, 4x dearer
                    for event_id in sorted(new)
                    for r in batch[first[event_id]][1]
                ]
                if shots:
                    conn.execute(snapshots.insert(), shots)
        except sa.exc.SQLAlchemyError as exc:
            raise SnapshotIndexError(
                f"index: write failed, nothing of this batch was stored ({type(exc).__name__}: {_reason(exc)})"
            ) from exc
        return [first[e.event_id] == n and e.event_id in new for n, (e, _) in enumerate(batch)]

    def snapshots(
        self,
        *,
        app_id: str | None = None,
        business_id: str | None = None,
        room_id: str | None = None,
        task_id: str | None = None,
        user_id: str | None = None,
        stream_type: int | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        flagged: bool | None = None,
        label: str | None = None,
        with_verdicts: bool = False,
        limit: int = 1000,
        after: str | None = None,
    ) -> SnapshotPage:
        """Snapshot records matching every given filter, ordered by (timestamp_ms, id); the time range
        is half-open, ``since_ms <= timestamp_ms < until_ms``. Keyset-paginated: `after` is a page's
        `next`, so rows stored meanwhile never shift or repeat a page. Each item is the record's
        fields plus ``received_at`` and ``id`` (the row id verdicts refer to).

        Verdict filters (`record_verdict`), evaluated in SQL: `flagged` True keeps images some
        verdict flagged, False those no verdict flagged (unjudged ones included); `label` keeps
        images with a verdict carrying that label — the same verdict that flagged them when
        `flagged` is True. `with_verdicts` adds ``verdicts``, a list of `verdicts()` dicts (by
        source; empty when none), to each item."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"must be an integer in [1, {MAX_LIMIT}]", path="limit")
        c = snapshots.c
        query = sa.select(snapshots)
        for column, value in (
            (c.app_id, app_id),
            (c.business_id, business_id),
            (c.room_id, room_id),
            (c.task_id, task_id),
            (c.user_id, user_id),
            (c.stream_type, stream_type),
        ):
            if value is not None:
                query = query.where(column == value)
        if since_ms is not None:
            query = query.where(c.timestamp_ms >= since_ms)
        if until_ms is not None:
            query = query.where(c.timestamp_ms < until_ms)
        for condition in _verdict_filters(flagged, label):
            query = query.where(condition)
        if after is not None:
            ts, row_id = _uncursor(after)
            query = query.where(sa.or_(c.timestamp_ms > ts, sa.and_(c.timestamp_ms == ts, c.id > row_id)))
        query = query.order_by(c.timestamp_ms, c.id).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
            more = len(rows) > limit
            rows = rows[:limit]
            found = _verdicts_of(conn, [int(row.id) for row in rows]) if with_verdicts else {}
        items = [
            {"id": int(row.id), **{name: getattr(row, name) for name in (*RECORD_FIELDS, "received_at")}}
            for row in rows
        ]
        if with_verdicts:
            for item in items:
                item["verdicts"] = found.get(item["id"], [])
        return SnapshotPage(items, _cursor(rows[-1]) if more else None)

    # ------------------------------------------------------------------ verdicts (callbacks/verdicts.py)

    def snapshot_id(self, record: SnapshotRecord) -> int | None:
        """The row id of `record` (the first row of its event equal to it in every field), or None.
        A hook gets records without ids (they are parsed before the commit assigns one); this is
        how it finds the row to record a verdict against."""
        with self._read() as conn:
            return _snapshot_id(conn, record)

    def record_verdict(
        self,
        snapshot: int | SnapshotRecord,
        source: str,
        *,
        status: str,
        flagged: bool,
        fired: Sequence[str],
        labels: Iterable[str],
        details: Mapping[str, Any] | str,
        error: str | None = None,
        reason: str | None = None,
        at: float | None = None,
    ) -> int:
        """Store what `source` (the analysing plugin's name) concluded about one image: `snapshot`
        is its row id (``id`` of a `snapshots` item) or the `SnapshotRecord` a hook was given.
        `status` ok|partial|error, `flagged` whether it needs a human, `fired` the rule names,
        `labels` what `snapshots(label=…)` filters on, `details` the plugin's whole verdict (a
        mapping, or the JSON text of an object), `error` what went wrong and `reason` why it was
        flagged (what a report shows: ``pack.contact.wechat (wechat: abc123)``), one redacted line
        each; `at` defaults to now. Returns the snapshot's row id.

        Idempotent: an upsert on (snapshot, source), the row and its labels replaced in one
        transaction, so a hook replayed by ``snapshots replay-hooks`` re-judges instead of adding a
        second verdict. Raises `ValidationError` for a bad argument, `SnapshotIndexError` for an
        unknown snapshot or a failed write (nothing is then stored)."""
        verdict = verdict_input(
            source,
            status=status,
            flagged=flagged,
            fired=fired,
            labels=labels,
            details=details,
            error=error,
            reason=reason,
        )
        when = time.time() if at is None else float(at)
        if isinstance(snapshot, bool) or not isinstance(snapshot, int | SnapshotRecord):
            raise ValidationError("must be a snapshot row id or a SnapshotRecord", path="snapshot")
        try:
            with self._write() as conn:
                if isinstance(snapshot, SnapshotRecord):
                    snapshot_id = _snapshot_id(conn, snapshot)
                    if snapshot_id is None:
                        raise SnapshotIndexError(
                            f"index: no snapshot row for this record of event {snapshot.event_id!r}"
                        )
                else:
                    snapshot_id = snapshot
                    known = sa.select(snapshots.c.id).where(snapshots.c.id == snapshot_id)
                    if conn.execute(known).first() is None:
                        raise SnapshotIndexError(f"index: no snapshot with id {snapshot_id}")
                row = {
                    "status": verdict.status,
                    "flagged": verdict.flagged,
                    "error": verdict.error,
                    "reason": verdict.reason,
                    "fired": verdict.fired,
                    "details": verdict.details,
                    "created_at": when,
                }
                insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
                stmt = insert(verdicts).values(snapshot_id=snapshot_id, source=verdict.source, **row)
                stmt = stmt.on_conflict_do_update(index_elements=["snapshot_id", "source"], set_=row)
                verdict_id = conn.execute(stmt.returning(verdicts.c.id)).scalar_one()
                conn.execute(verdict_labels.delete().where(verdict_labels.c.verdict_id == verdict_id))
                if verdict.labels:
                    conn.execute(
                        verdict_labels.insert(),
                        [{"verdict_id": verdict_id, "label": x} for x in verdict.labels],
                    )
        except sa.exc.SQLAlchemyError as exc:
            raise SnapshotIndexError(
                f"index: verdict not stored ({type(exc).__name__}: {_reason(exc)})"
            ) from exc
        return snapshot_id

    def has_verdicts(self) -> bool:
        """Whether any verdict is stored (the CLI shows a verdict column only then)."""
        with self._read() as conn:
            return conn.execute(sa.select(verdicts.c.id).limit(1)).first() is not None

    def verdicts(self, snapshot_id: int | None = None, source: str | None = None) -> list[dict[str, Any]]:
        """Stored verdicts (of one snapshot and/or one source, or all), by snapshot then source:
        dicts of snapshot_id, source, status, flagged, fired (list), labels (sorted list), reason,
        details (the plugin's document), error and created_at."""
        v = verdicts.c
        query = sa.select(verdicts).order_by(v.snapshot_id, v.source)
        if snapshot_id is not None:
            query = query.where(v.snapshot_id == snapshot_id)
        if source is not None:
            query = query.where(v.source == source)
        with self._read() as conn:
            return _verdict_dicts(conn, [query])

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The stored event (its raw body included), or None."""
        query = sa.select(*(events.c[name] for name in EVENT_COLUMNS)).where(events.c.event_id == event_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    # ------------------------------------------------------------------ hooks (callbacks/hooks.py)

    def set_hook_status(self, event_ids: Sequence[str], status: str) -> None:
        """Set `hook_status` of every event in `event_ids` (one transaction; unknown ids are ignored)."""
        if status not in HOOK_STATUSES:
            raise ValidationError(f"must be one of {', '.join(HOOK_STATUSES)}", path="hook_status")
        ids = sorted(set(event_ids))  # one lock order, as in `store`
        if not ids:
            return
        with self._write() as conn:
            for start in range(0, len(ids), 500):  # bounded IN lists
                chunk = ids[start : start + 500]
                conn.execute(events.update().where(events.c.event_id.in_(chunk)).values(hook_status=status))

    def record_hook_failure(self, event_id: str, hook: str, error: str, at: float) -> int:
        """Note that `hook` failed on `event_id`: a new row (attempts 1) or the existing row updated
        (attempts + 1, the latest error and time). Returns the attempts so far. `error` is redacted."""
        line = secrets.redact(" ".join(error.split()))[:1000]
        c = hook_failures.c
        with self._write() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(hook_failures).values(
                event_id=event_id, hook=hook, error=line, attempts=1, last_at=at
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["event_id", "hook"],
                set_={"error": line, "attempts": c.attempts + 1, "last_at": at},
            )
            conn.execute(stmt)
            attempts = conn.execute(
                sa.select(c.attempts).where(c.event_id == event_id, c.hook == hook)
            ).scalar_one()
        return int(attempts)

    def clear_hook_failure(self, event_id: str, hook: str) -> bool:
        """Forget `hook`'s failure on `event_id` (it succeeded since); True if there was one."""
        c = hook_failures.c
        with self._write() as conn:
            result = conn.execute(hook_failures.delete().where(c.event_id == event_id, c.hook == hook))
        return bool(result.rowcount)

    def hook_failures(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """Recorded hook failures (of one event, or all), by event then hook: dicts of event_id, hook,
        error, attempts, last_at."""
        c = hook_failures.c
        query = sa.select(c.event_id, c.hook, c.error, c.attempts, c.last_at).order_by(c.event_id, c.hook)
        if event_id is not None:
            query = query.where(c.event_id == event_id)
        with self._read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def hook_backlog(
        self,
        limit: int,
        *,
        app_id: str | None = None,
        task_id: str | None = None,
        after: int | None = None,
    ) -> list[tuple[dict[str, Any], list[SnapshotRecord]]]:
        """Up to `limit` events whose hooks are 'pending' or 'failed' (optionally of one app, or having
        snapshots of one task), oldest first, each with its snapshot records. The event dict has id,
        event_id, event_type, app_id, received_at, hook_status and failed_hooks (names with a failure
        row). Keyset-paginated by `id`: pass the last dict's ``id`` as `after` for the next page, so
        events that keep failing are not returned again."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"must be an integer in [1, {MAX_LIMIT}]", path="limit")
        e, s = events.c, snapshots.c
        query = sa.select(e.id, e.event_id, e.event_type, e.app_id, e.received_at, e.hook_status).where(
            e.hook_status.in_(("pending", "failed"))
        )
        if app_id is not None:
            query = query.where(e.app_id == app_id)
        if task_id is not None:
            query = query.where(sa.exists().where(s.event_id == e.event_id, s.task_id == task_id))
        if after is not None:
            query = query.where(e.id > after)
        query = query.order_by(e.id).limit(limit)
        with self._read() as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
            ids = [row["event_id"] for row in rows]
            records: dict[str, list[SnapshotRecord]] = {i: [] for i in ids}
            failed: dict[str, list[str]] = {i: [] for i in ids}
            if ids:
                shots = (
                    sa.select(*(s[name] for name in RECORD_FIELDS)).where(s.event_id.in_(ids)).order_by(s.id)
                )
                for row in conn.execute(shots):
                    records[row.event_id].append(SnapshotRecord(**row._mapping))
                f = hook_failures.c
                names = sa.select(f.event_id, f.hook).where(f.event_id.in_(ids)).order_by(f.hook)
                for row in conn.execute(names):
                    failed[row.event_id].append(row.hook)
        return [({**row, "failed_hooks": failed[row["event_id"]]}, records[row["event_id"]]) for row in rows]

    def count(self) -> tuple[int, int]:
        """(events, snapshots) stored."""
        with self._read() as conn:
            n_events = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()
            n_shots = conn.execute(sa.select(sa.func.count()).select_from(snapshots)).scalar_one()
        return int(n_events), int(n_shots)

    def close(self) -> None:
        """Release every connection; later calls raise `SnapshotIndexError`."""
        self._closed = True
        self._engine.dispose()


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's first line, without the SQL and parameters SQLAlchemy appends (raw bodies)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return secrets.redact(text[0] if text else type(exc).__name__)


def _verdict_filters(flagged: bool | None, label: str | None) -> list[sa.ColumnElement[bool]]:
    """`snapshots`' WHERE conditions for its verdict filters (see its docstring)."""
    s, v, lab = snapshots.c, verdicts.c, verdict_labels.c
    is_flagged = v.flagged == sa.true()
    out: list[sa.ColumnElement[bool]] = []
    if label is not None:
        same = (is_flagged,) if flagged else ()
        out.append(
            sa.exists().where(v.snapshot_id == s.id, lab.verdict_id == v.id, lab.label == label, *same)
        )
    elif flagged:
        out.append(sa.exists().where(v.snapshot_id == s.id, is_flagged))
    if flagged is False:
        out.append(~sa.exists().where(v.snapshot_id == s.id, is_flagged))
    return out


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    """Bounded IN lists."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _labels_of(conn: Connection, verdict_ids: Sequence[int]) -> dict[int, list[str]]:
    lab = verdict_labels.c
    out: dict[int, list[str]] = {}
    for chunk in _chunks(verdict_ids):
        query = sa.select(lab.verdict_id, lab.label).where(lab.verdict_id.in_(chunk)).order_by(lab.label)
        for row in conn.execute(query):
            out.setdefault(int(row.verdict_id), []).append(row.label)
    return out


def _verdict_dicts(conn: Connection, queries: Iterable[sa.Select[Any]]) -> list[dict[str, Any]]:
    """The verdict rows `queries` select, with their labels, as `verdict_output` dicts."""
    rows = [dict(row._mapping) for query in queries for row in conn.execute(query)]
    labels = _labels_of(conn, [int(row["id"]) for row in rows])
    return [verdict_output(row, labels.get(int(row["id"]), [])) for row in rows]


def _verdicts_of(conn: Connection, snapshot_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The verdicts of these snapshots, by snapshot id, each list by source."""
    v = verdicts.c
    order = (v.snapshot_id, v.source)
    queries = (
        sa.select(verdicts).where(v.snapshot_id.in_(c)).order_by(*order) for c in _chunks(snapshot_ids)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for verdict in _verdict_dicts(conn, queries):
        out.setdefault(verdict["snapshot_id"], []).append(verdict)
    return out


def _snapshot_id(conn: Connection, record: SnapshotRecord) -> int | None:
    s = snapshots.c
    query = sa.select(s.id, *(s[name] for name in RECORD_FIELDS)).where(s.event_id == record.event_id)
    for row in conn.execute(query.order_by(s.id)):
        if all(getattr(row, name) == getattr(record, name) for name in RECORD_FIELDS):
            return int(row.id)
    return None


_Waiter = concurrent.futures.Future[bool] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[bool]"]
_Item = tuple[Event, tuple[SnapshotRecord, ...], _Waiter]


def _resolve(outcomes: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    """On the submitters' loop: settle each still-waiting future (a timed-out one was cancelled)."""
    for future, outcome in outcomes:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class GroupCommitter:
    """Durable group commit: concurrent submitters share one transaction and one fsync.

    One writer thread takes everything queued (up to `max_batch`) into each transaction, so while a
    commit runs the next batch accumulates: under load, batches grow and commits per event shrink.
    A future resolves only after the commit holding its event returned; a failed commit fails every
    future of its batch (the caller answers 5xx and the sender retries), so an event that is not
    stored is never reported stored.
    """

    def __init__(
        self, index: SnapshotIndex, *, max_batch: int = 1000, clock: Callable[[], float] = time.time
    ) -> None:
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValidationError("must be a positive integer", path="max_batch")
        self._index = index
        self._max_batch = max_batch
        self._clock = clock
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self.commits = 0
        """Transactions committed so far (each covers one or more submits)."""
        self._thread = threading.Thread(target=self._run, name="rtcsnap-group-commit", daemon=True)
        self._thread.start()

    def submit(self, event: Event, records: Sequence[SnapshotRecord]) -> concurrent.futures.Future[bool]:
        """Queue `event` for the next commit; the future says True (new) or False (a duplicate)."""
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        self._put((event, tuple(records), future))
        return future

    def submit_async(self, event: Event, records: Sequence[SnapshotRecord]) -> asyncio.Future[bool]:
        """`submit` for a coroutine: a future of the running loop, settled by ONE thread-safe call
        per batch (not a cross-thread wake-up per event, as wrapping `submit`'s future would cost).
        Cancelling it (a timeout) only stops the waiting: the event is still committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._put((event, tuple(records), (loop, future)))
        return future

    def _put(self, item: _Item) -> None:
        with self._lock:
            if self._closed:
                raise SnapshotIndexError("group committer: closed")
            self._queue.put(item)

    def close(self, timeout: float = 10.0) -> None:
        """Commit everything submitted so far, then stop the writer."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise SnapshotIndexError(f"group committer: still draining after {timeout} s")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        # A cancelled thread future gave up before its commit: skip it. An async waiter is never
        # skipped (its request may only have timed out; the sender's retry must find it stored).
        live = [
            item
            for item in batch
            if not isinstance(item[2], concurrent.futures.Future) or item[2].set_running_or_notify_cancel()
        ]
        if not live:
            return
        outcomes: list[bool | BaseException]
        try:
            outcomes = list(self._index.store([(e, r) for e, r, _ in live], self._clock()))
            self.commits += 1
        except Exception as exc:
            outcomes = [exc] * len(live)
        loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = {}
        for (_, _, waiter), outcome in zip(live, outcomes, strict=True):
            if isinstance(waiter, concurrent.futures.Future):
                if isinstance(outcome, BaseException):
                    waiter.set_exception(outcome)
                else:
                    waiter.set_result(outcome)
            else:
                loops.setdefault(waiter[0], []).append((waiter[1], outcome))
        for loop, settled in loops.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve, settled)


__all__ = [
    "BUSY_TIMEOUT_S",
    "HOOK_STATUSES",
    "MAX_LIMIT",
    "RECORD_FIELDS",
    "GroupCommitter",
    "SnapshotIndex",
    "SnapshotIndexError",
    "SnapshotPage",
    "database_url",
]
