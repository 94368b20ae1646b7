"""Alembic's entry point, run programmatically (`rtcsnap.callbacks.migrations.upgrade`).

Why no engine here: the caller passes an open connection in ``config.attributes["connection"]``,
already inside the transaction that serialises concurrent openers (SQLite ``BEGIN IMMEDIATE``,
a PostgreSQL advisory lock), so the migrations join that transaction instead of opening their own.
Offline (``--sql``) mode is not supported: the index is always migrated live.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("rtcsnap's migrations run only through rtcsnap.callbacks.migrations.upgrade()")
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
