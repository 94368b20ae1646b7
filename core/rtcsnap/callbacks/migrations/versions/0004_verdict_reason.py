"""Verdicts get `reason`: one line a human reads to know why an image was flagged.

Why a column, not a key in `details`: `details` is the plugin's own document, opaque to core, while
a report (the demo's ``index.html``, ``snapshots list``) must show *why* without knowing any plugin —
the rule names in `fired` say which rule, not what it saw (the OCR text that matched, the label and
its score). Nullable: verdicts stored before this revision, and plugins that give none, keep NULL.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:  # a plain ADD COLUMN on both databases: no table rebuild, whatever its size
    op.add_column("verdicts", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verdicts") as batch:
        batch.drop_column("reason")
