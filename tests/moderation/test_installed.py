"""The workspace installs rtcsnap-moderation and its models: a missing one is a broken set-up, and
the other tests/moderation modules would not even be collected, so say it as a failure."""

from __future__ import annotations

from tests.moderation.conftest import MISSING


def test_the_moderation_plugin_and_its_models_are_installed() -> None:
    assert not MISSING, (
        f"not installed: {', '.join(MISSING)} (run `python3 run.py test`, which syncs the lock)"
    )
