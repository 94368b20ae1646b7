"""Events (every callback, raw) and snapshots (one row per announced image).

Why these columns: `events.event_id` is UNIQUE because deliveries are at-least-once and the index
dedupes with INSERT … ON CONFLICT DO NOTHING on it; `raw` is the body as received (the evidence,
and all there is of unknown event types). Snapshot rows copy the query fields so listing a task
never parses JSON; the indexes serve the filters of `SnapshotIndex.snapshots`, each ending in
(timestamp_ms, id), the keyset pagination order.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# 64-bit ids on PostgreSQL; SQLite's rowid alias must be spelled INTEGER
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("app_id", sa.String(255), nullable=False),
        sa.Column("business_id", sa.String(255), nullable=True),
        sa.Column("event_time", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    )
    op.create_index("ix_events_app_id", "events", ["app_id"])
    op.create_table(
        "snapshots",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            sa.String(255),
            sa.ForeignKey("events.event_id", name="fk_snapshots_event_id"),
            nullable=False,
        ),
        sa.Column("app_id", sa.String(255), nullable=False),
        sa.Column("business_id", sa.String(255), nullable=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("task_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("stream_type", sa.Integer(), nullable=False),
        sa.Column("stream_index", sa.Integer(), nullable=True),
        sa.Column("bucket", sa.String(255), nullable=True),
        sa.Column("veimagex_service_id", sa.String(255), nullable=True),
        sa.Column("object_key", sa.Text(), nullable=True),
        sa.Column("veimagex_uri", sa.Text(), nullable=True),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_snapshots_time", "snapshots", ["timestamp_ms", "id"])
    op.create_index("ix_snapshots_task", "snapshots", ["app_id", "room_id", "task_id", "timestamp_ms", "id"])
    op.create_index("ix_snapshots_room", "snapshots", ["room_id", "timestamp_ms", "id"])
    op.create_index("ix_snapshots_task_id", "snapshots", ["task_id", "timestamp_ms", "id"])
    op.create_index("ix_snapshots_event_id", "snapshots", ["event_id"])


def downgrade() -> None:
    op.drop_table("snapshots")
    op.drop_table("events")
