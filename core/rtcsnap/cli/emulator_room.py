"""`rtcsnap emulator room publish|unpublish|camera|list`: drive a running emulator's publishers.

A thin client of the emulator's control API (`rtcsnap.emulator.control`): every rule is the
emulator's, so its 4xx message is shown as it is (exit 2) and nothing is checked twice here
beyond the shape of ``--size``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from rtcsnap.cli.emulator import emulator_group
from rtcsnap.cli.helptext import examples
from rtcsnap.cli.storage import print_table
from rtcsnap.errors import ConfigurationError, RtcSnapError

PREFIX = "/_rtcsnap/v1"
"""`rtcsnap.emulator.control.PREFIX`, spelled out: importing the emulator (Starlette, Pillow) here
would slow every CLI start."""
DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
TIMEOUT = 10.0
KINDS = {0: "camera", 1: "screen"}

F = Callable[..., Any]


class EmulatorControlError(RtcSnapError):
    """The control API could not be reached, failed (5xx), or answered something not its JSON."""


@emulator_group.group(
    "room",
    epilog=examples(
        "rtcsnap emulator room publish app1 room1 alice --size 1280x720",
        "rtcsnap emulator room camera app1 room1 alice off",
        "rtcsnap emulator room list app1 room1",
    ),
)
def room_group() -> None:
    """Publish, unpublish and switch cameras in a running emulator's rooms."""


def _endpoint(fn: F) -> F:
    return click.option(
        "--endpoint",
        envvar="RTCSNAP_EMULATOR_ENDPOINT",
        default=DEFAULT_ENDPOINT,
        show_default=True,
        help="The emulator's URL (env RTCSNAP_EMULATOR_ENDPOINT).",
    )(fn)


def _screen(fn: F) -> F:
    return click.option(
        "--screen", is_flag=True, help="The user's screen share (stream type 1), not the camera."
    )(fn)


def _user_args(fn: F) -> F:
    for name in ("user", "room", "app"):
        fn = click.argument(name)(fn)
    return fn


def _call(endpoint: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One control API call; its JSON, or the error the CLI's exit code should come from."""
    import httpx

    url = endpoint.rstrip("/") + PREFIX + path
    try:
        resp = httpx.request(method, url, json=body, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise EmulatorControlError(f"cannot reach the emulator at {endpoint}: {reason}") from None
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise EmulatorControlError(
            f"{endpoint} did not answer as an rtcsnap emulator (HTTP {resp.status_code}, not JSON)"
        )
    if resp.status_code < 400:
        return data
    error = data.get("error") or {}
    message = error.get("message") if isinstance(error, dict) else None
    text = f"emulator: {message or f'HTTP {resp.status_code}'}"
    if resp.status_code < 500:
        raise ConfigurationError(text)
    raise EmulatorControlError(f"{text} (HTTP {resp.status_code})")


def _path(app: str, room: str, user: str | None = None, action: str | None = None) -> str:
    parts = ["rooms", app, room] + ([] if user is None else ["users", user, action or ""])
    return "/" + "/".join(quote(p, safe="") for p in parts)


def _describe(stream: dict[str, Any]) -> str:
    kind = KINDS.get(stream.get("stream_type", -1), str(stream.get("stream_type")))
    state = "publishing" if stream.get("publishing") else "not publishing"
    camera = "on" if stream.get("camera") else "off"
    return (
        f"{stream.get('user_id')} {kind} {stream.get('width')}x{stream.get('height')}: "
        f"{state}, {kind} {camera}, source {_shows(stream)}"
    )


def _shows(stream: dict[str, Any]) -> str:
    """The stream's source, and its text if it has one: ``synthetic, text 'BUY' (from 5 s)``."""
    source = str(stream.get("source") or "synthetic")
    text = stream.get("text")
    if not isinstance(text, str):
        return source
    window = []
    if isinstance(start := stream.get("text_from"), int | float) and start:
        window.append(f"from {start:g} s")
    if isinstance(until := stream.get("text_until"), int | float):
        window.append(f"until {until:g} s")
    return f"{source}, text {text!r}" + (f" ({', '.join(window)})" if window else "")


def _size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    w, sep, h = value.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise ConfigurationError("--size: expected WIDTHxHEIGHT, e.g. 1280x720")
    return int(w), int(h)


@room_group.command(
    "publish",
    epilog=examples(
        "rtcsnap emulator room publish app1 room1 alice",
        "rtcsnap emulator room publish app1 room1 bob --screen --size 1920x1080",
        "rtcsnap emulator room publish app1 room1 carol --source clip.mp4 --endpoint http://127.0.0.1:8001",
        "rtcsnap emulator room publish app1 room1 dave --text 'BUY GUNS HERE' --text-from 5 --text-until 10",
    ),
)
@_user_args
@_screen
@click.option(
    "--size", metavar="WxH", help="Stream size, e.g. 1280x720 (default: kept, or 1280x720 / 1920x1080)."
)
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A video file to loop (default: kept, or the synthetic pattern).",
)
@click.option(
    "--text",
    metavar="TEXT",
    help="Draw TEXT large, dark on a light box, on every frame of the synthetic pattern (default: kept).",
)
@click.option(
    "--text-size",
    type=float,
    metavar="FRACTION",
    help="The text's font size as a fraction of the frame height (default 0.125).",
)
@click.option(
    "--text-from",
    type=float,
    metavar="SECONDS",
    help="Show the text from SECONDS after publishing (default 0).",
)
@click.option(
    "--text-until", type=float, metavar="SECONDS", help="Stop showing the text SECONDS after publishing."
)
@click.option("--no-text", is_flag=True, help="Remove the stream's text.")
@_endpoint
def publish_cmd(
    app: str,
    room: str,
    user: str,
    screen: bool,
    size: str | None,
    source: Path | None,
    text: str | None,
    text_size: float | None,
    text_from: float | None,
    text_until: float | None,
    no_text: bool,
    endpoint: str,
) -> None:
    """Start publishing USER's camera (or --screen) in ROOM of APP; creates the room as needed."""
    body: dict[str, Any] = {"stream_type": int(screen)}
    wh = _size(size)
    if wh is not None:
        body["width"], body["height"] = wh
    if source is not None:
        body["source"] = str(source.resolve())
    if no_text and text is not None:
        raise ConfigurationError("--text and --no-text: give one of them")
    if text is not None or no_text:
        body["text"] = text  # null removes the stream's text; the emulator checks the options
    for key, value in (("text_size", text_size), ("text_from", text_from), ("text_until", text_until)):
        if value is not None:
            body[key] = value
    print(_describe(_call(endpoint, "POST", _path(app, room, user, "publish"), body)))


@room_group.command(
    "unpublish",
    epilog=examples(
        "rtcsnap emulator room unpublish app1 room1 alice",
        "rtcsnap emulator room unpublish app1 room1 bob --screen",
    ),
)
@_user_args
@_screen
@_endpoint
def unpublish_cmd(app: str, room: str, user: str, screen: bool, endpoint: str) -> None:
    """Stop publishing USER's camera (or --screen); the stream stays listed, not publishing."""
    stream = _call(endpoint, "POST", _path(app, room, user, "unpublish"), {"stream_type": int(screen)})
    print(_describe(stream))


@room_group.command(
    "camera",
    epilog=examples(
        "rtcsnap emulator room camera app1 room1 alice off",
        "rtcsnap emulator room camera app1 room1 alice on",
    ),
)
@_user_args
@click.argument("state", type=click.Choice(["on", "off"]))
@_screen
@_endpoint
def camera_cmd(app: str, room: str, user: str, state: str, screen: bool, endpoint: str) -> None:
    """Turn USER's camera (or --screen share) on or off; off publishes no images."""
    body = {"stream_type": int(screen), "on": state == "on"}
    print(_describe(_call(endpoint, "POST", _path(app, room, user, "camera"), body)))


@room_group.command(
    "list",
    epilog=examples("rtcsnap emulator room list app1 room1", "rtcsnap emulator room list app1 room1 --json"),
)
@click.argument("app")
@click.argument("room")
@click.option("--json", "as_json", is_flag=True, help="Print the control API's JSON.")
@_endpoint
def list_cmd(app: str, room: str, as_json: bool, endpoint: str) -> None:
    """List every stream of ROOM of APP, publishing or not."""
    data = _call(endpoint, "GET", _path(app, room))
    if as_json:
        print(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("user", "type", "size", "publishing", "camera", "since", "source"):
        table.add_column(col)
    for s in data.get("streams", []):
        table.add_row(
            escape(str(s.get("user_id"))),
            KINDS.get(s.get("stream_type", -1), str(s.get("stream_type"))),
            f"{s.get('width')}x{s.get('height')}",
            "yes" if s.get("publishing") else "no",
            "on" if s.get("camera") else "off",
            _when(s.get("since")),
            escape(_shows(s)),
        )
    console = Console(highlight=False, soft_wrap=True)
    if not data.get("streams"):
        console.print(escape(f"no streams in room {room} of app {app}"))
        return
    print_table(table, console)


def _when(since: Any) -> str:
    import time

    if not isinstance(since, int | float):
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(since)) + f".{int(since * 1000) % 1000:03d}Z"


__all__ = ["EmulatorControlError", "room_group"]
