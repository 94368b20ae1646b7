"""Hook bookkeeping: where each event stands with the `rtcsnap_snapshot_received` hooks (issue 10 §4).

Why: a failing or slow hook must never lose, duplicate or block an event, so hooks run after the
commit and their outcome is recorded next to the event — `events.hook_status` ('pending' until the
hooks ran; rows that predate this revision are pending too) and one `hook_failures` row per
(event, hook) that failed, with the last error and attempt count, for `snapshots replay-hooks`.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("events", sa.Column("hook_status", sa.String(16), nullable=False, server_default="pending"))
    op.create_index("ix_events_hook_status", "events", ["hook_status"])
    op.create_table(
        "hook_failures",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            sa.String(255),
            sa.ForeignKey("events.event_id", name="fk_hook_failures_event_id"),
            nullable=False,
        ),
        sa.Column("hook", sa.String(255), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("event_id", "hook", name="uq_hook_failures_event_hook"),
    )


def downgrade() -> None:
    op.drop_table("hook_failures")
    op.drop_index("ix_events_hook_status", "events")
    op.drop_column("events", "hook_status")
