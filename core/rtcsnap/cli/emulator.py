"""`rtcsnap emulator serve`: the local snapshot OpenAPI, for development and demos."""

from __future__ import annotations

import os
import sys

import click

from rtcsnap.cli.app import app
from rtcsnap.errors import ConfigurationError


@app.group("emulator")
def emulator_group() -> None:
    """The local emulator of the snapshot OpenAPI."""


def _keys(access_keys: tuple[str, ...], secret_keys: tuple[str, ...]) -> dict[str, str]:
    if len(access_keys) != len(secret_keys):
        raise ConfigurationError("--access-key and --secret-key must come in pairs")
    keys = dict(zip(access_keys, secret_keys, strict=True))
    for pair in filter(None, os.environ.get("RTCSNAP_EMULATOR_KEYS", "").split(",")):
        ak, sep, sk = pair.partition(":")
        if not sep or not ak or not sk:
            raise ConfigurationError("RTCSNAP_EMULATOR_KEYS: expected AK:SK[,AK:SK...]")
        keys[ak.strip()] = sk.strip()
    if not keys and os.environ.get("VOLC_ACCESSKEY") and os.environ.get("VOLC_SECRETKEY"):
        keys[os.environ["VOLC_ACCESSKEY"]] = os.environ["VOLC_SECRETKEY"]
    if not keys:
        raise ConfigurationError(
            "emulator: no key pairs: pass --access-key AK --secret-key SK, or set RTCSNAP_EMULATOR_KEYS=AK:SK"
        )
    return keys


@emulator_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--access-key", "access_keys", multiple=True, help="Repeatable, paired with --secret-key.")
@click.option(
    "--secret-key", "secret_keys", multiple=True, help="Repeatable; prefer RTCSNAP_EMULATOR_KEYS=AK:SK,..."
)
@click.option("--region", default="cn-north-1", show_default=True, help="Signing region the gateway expects.")
@click.option("--legacy-200-errors", is_flag=True, help="Answer 2022-06-01 errors with HTTP 200 + Error.")
@click.option("--quiet", is_flag=True, help="No access log.")
def serve_cmd(
    host: str,
    port: int,
    access_keys: tuple[str, ...],
    secret_keys: tuple[str, ...],
    region: str,
    legacy_200_errors: bool,
    quiet: bool,
) -> None:
    """Serve the emulator until Ctrl+C. Keys also from RTCSNAP_EMULATOR_KEYS or VOLC_ACCESSKEY/VOLC_SECRETKEY."""
    from rtcsnap.emulator import EmulatorConfig, serve

    keys = _keys(access_keys, secret_keys)
    print(
        f"rtcsnap emulator on http://{host}:{port} (region {region}; keys: {', '.join(keys)})",
        file=sys.stderr,
    )
    serve(
        EmulatorConfig(keys=keys, region=region, legacy_200_errors=legacy_200_errors),
        host,
        port,
        access_log=not quiet,
    )


def _key_pair(option: str, value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    ak, sep, sk = value.partition(":")
    if not sep or not ak or not sk:
        raise ConfigurationError(f"{option}: expected AK:SK")
    return ak, sk


# The kinds of `rtcsnap.testing.storage_servers.KINDS`, spelled out: importing the test kit here
# would cost every CLI start ~1 s (a test checks the two lists agree).
STORAGE_KINDS = ("s3", "tos", "veimagex", "oss", "obs", "cos", "kodo")


@emulator_group.command("storage")
@click.argument("kind", type=click.Choice(STORAGE_KINDS))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: a free port.")
@click.option(
    "--bucket", "buckets", multiple=True, help="Repeatable; veImageX: service ids. Created at start."
)
@click.option("--access-key", help="The admin key (generated if absent).")
@click.option("--secret-key", help="The admin secret (generated if absent).")
@click.option("--write-only-key", metavar="AK:SK", help="A key that can put but not get, list or delete.")
@click.option("--read-only-key", metavar="AK:SK", help="A key that can get and list but not put or delete.")
def storage_cmd(
    kind: str,
    host: str,
    port: int,
    buckets: tuple[str, ...],
    access_key: str | None,
    secret_key: str | None,
    write_only_key: str | None,
    read_only_key: str | None,
) -> None:
    """Serve a local storage server that checks KIND's real signatures, until SIGINT/SIGTERM.

    Once ready it prints one JSON line on stdout: endpoint, buckets, the admin, write-only and
    read-only keys, and the rtcsnap target URL of the first bucket. It is a test server: the
    line holds its secrets on purpose."""
    import json
    import signal
    import threading

    from rtcsnap.testing.storage_servers import open_server

    if (access_key is None) != (secret_key is None):
        raise ConfigurationError("--access-key and --secret-key go together")
    admin = (access_key, secret_key) if access_key and secret_key else None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open_server(
            kind,
            host=host,
            port=port,
            buckets=buckets,
            admin=admin,
            write_only=_key_pair("--write-only-key", write_only_key),
            read_only=_key_pair("--read-only-key", read_only_key),
        ) as running:
            print(json.dumps(running.describe()), flush=True)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
