"""The emulator's and the receiver's dependencies (the `rtcsnap[emulator]` and
`rtcsnap[callbacks]` extras) stay out of everything else: `import rtcsnap`, the client, the storage
services and the CLI's startup load none of them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("starlette", "uvicorn", "PIL", "av", "sqlalchemy", "alembic", "psycopg")


def loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return list(json.loads(r.stdout.strip().splitlines()[-1]))


def test_library_and_cli_do_not_load_the_emulator_extra() -> None:
    assert (
        loaded_after(
            "import rtcsnap\nfrom rtcsnap import SnapshotClient, StorageTarget\nimport rtcsnap.storage\n"
            "from rtcsnap.cli import callbacks, emulator, emulator_room, provider, snapshot, snapshots, snapshots_task, storage\n"
            "import rtcsnap.callbacks.records\n"
            "import rtcsnap.emulator.object_keys"
        )
        == []
    )


def test_the_emulator_does_load_them() -> None:  # the probe above can see a loaded module
    assert set(loaded_after("from rtcsnap.emulator import Emulator")) >= {"starlette", "PIL"}


def test_the_index_does_load_sqlalchemy() -> None:
    assert "sqlalchemy" in loaded_after("import rtcsnap.callbacks.index")
