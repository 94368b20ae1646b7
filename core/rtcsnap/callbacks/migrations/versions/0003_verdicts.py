"""Verdicts: what analysis plugins (moderation, thumbnails, face detection …) concluded about each image.

Why these tables: a plugin judging images on arrival (`rtcsnap_snapshot_received`) needs somewhere to
put its answer that `rtcsnap snapshots list --flagged` can filter on, without core knowing any
plugin. One `verdicts` row per (snapshot, source) — `source` is the plugin's name — UNIQUE so a hook
replayed by `snapshots replay-hooks` replaces its row instead of adding a second one; `fired` (rule
names) and `details` (the plugin's whole verdict document) are JSON text, opaque to core. The labels
get their own table, indexed, so ``--label L`` is an indexed lookup, not a scan of JSON text.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "verdicts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "snapshot_id",
            ID,
            sa.ForeignKey("snapshots.id", name="fk_verdicts_snapshot_id"),
            nullable=False,
        ),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fired", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("details", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("snapshot_id", "source", name="uq_verdicts_snapshot_source"),
        sa.CheckConstraint("status IN ('ok', 'partial', 'error')", name="ck_verdicts_status"),
    )
    op.create_index("ix_verdicts_flagged", "verdicts", ["flagged", "snapshot_id"])
    op.create_table(
        "verdict_labels",
        sa.Column(
            "verdict_id",
            ID,
            sa.ForeignKey("verdicts.id", name="fk_verdict_labels_verdict_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("verdict_id", "label", name="pk_verdict_labels"),
    )
    op.create_index("ix_verdict_labels_label", "verdict_labels", ["label", "verdict_id"])


def downgrade() -> None:
    op.drop_table("verdict_labels")
    op.drop_table("verdicts")
