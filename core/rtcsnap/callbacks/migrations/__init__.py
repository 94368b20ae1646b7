"""The snapshot index's schema history, as Alembic migrations run from code.

Why from code: users open an index by URL and never see an ``alembic.ini``; every open upgrades
the schema to head inside one transaction, so an old index file (or a PostgreSQL database a
previous release created) is brought forward in place, and a failed upgrade leaves it untouched.
The revisions are plain files in ``versions/`` shipped inside the wheel with this package.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

SCRIPT_LOCATION = str(Path(__file__).resolve().parent)


def config(connection: Connection) -> Config:
    """An Alembic config that migrates over `connection` (the caller owns its transaction)."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Bring the schema on `connection` to `revision` (head by default)."""
    command.upgrade(config(connection), revision)


def head() -> str:
    """The newest revision this release knows."""
    revision = ScriptDirectory(SCRIPT_LOCATION).get_current_head()
    assert revision is not None  # the versions directory ships with the package
    return revision


def current(connection: Connection) -> str | None:
    """The revision the schema on `connection` is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


__all__ = ["SCRIPT_LOCATION", "config", "current", "head", "upgrade"]
