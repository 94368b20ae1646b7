"""EmulatorServer (background uvicorn) and `serve` (blocking, for the CLI)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap

import httpx
import pytest
from rtcsnap.emulator import Emulator, EmulatorConfig, EmulatorServer
from rtcsnap.testing.emulator import EmulatorClient

from tests.emulator.helpers import code, start_body


def _config() -> EmulatorConfig:
    return EmulatorConfig(keys={"AKLTserver": "server-secret"})


def test_server_lifecycle_and_url() -> None:
    emulator = Emulator(_config())
    server = EmulatorServer(emulator)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url
    with server:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
        with EmulatorClient(server.url, "AKLTserver", "server-secret") as c:
            assert code(c.call("StartSnapshot", start_body())) == "OK"
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    server.stop()  # idempotent


def test_emulator_can_be_swapped_while_serving() -> None:
    first, second = Emulator(_config()), Emulator(_config())
    with EmulatorServer(first) as server, EmulatorClient(server.url, "AKLTserver", "server-secret") as c:
        c.call("StartSnapshot", start_body())
        server.emulator = second
        c.call("StartSnapshot", start_body(TaskId="other"))
    assert [t.key.task_id for t in first.registry.tasks()] == ["task-1"]
    assert [t.key.task_id for t in second.registry.tasks()] == ["other"]


def test_ipv6_host() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = EmulatorServer(Emulator(_config()), host="::1").start()
    except OSError:
        pytest.skip("::1 not available")
    with server:
        assert server.url.startswith("http://[::1]:")
        with EmulatorClient(server.url, "AKLTserver", "server-secret") as c:
            assert code(c.call("StartSnapshot", start_body())) == "OK"


def test_serve_blocks_until_interrupted() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = textwrap.dedent(
        f"""
        from rtcsnap.emulator import EmulatorConfig, serve
        serve(EmulatorConfig(keys={{"AKLTcli": "cli-secret"}}), "127.0.0.1", {port})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # blocks until uvicorn reports it is listening
            if "Uvicorn running on" in line:
                break
        else:
            pytest.fail("serve() exited before listening")
        with EmulatorClient(f"http://127.0.0.1:{port}", "AKLTcli", "cli-secret") as c:
            resp = c.call("StartSnapshot", start_body())
        assert resp.json()["Result"] == "ok", json.dumps(resp.json())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_config_repr_hides_secret_keys_and_session_tokens() -> None:
    from rtcsnap import secrets

    config = EmulatorConfig(
        keys={"AKLTrepr": "repr-secret-value"}, sessions={"AKLTrepr": "repr-session-token"}
    )
    assert "repr-secret-value" not in repr(config) and "repr-session-token" not in repr(config)
    assert {"repr-secret-value", "repr-session-token"} <= secrets.registered()
