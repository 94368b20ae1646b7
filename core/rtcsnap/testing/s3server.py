"""A real S3 endpoint for tests: moto's S3 backend served in-process over HTTP.

    with LocalS3Server() as server:
        server.create_bucket("snaps")
        s3 = server.client()                      # boto3 S3 client bound to server.endpoint
        server.faults.fail("PUT", "a.jpg")        # see rtcsnap.testing.faults

Every request is routed to S3 (the "S3-only" dispatcher), whatever SigV4 scope the client
signs with, so non-AWS SDKs that speak S3 work too; only IAM/STS-signed requests keep moto's
normal routing, for `enable_auth` / `create_user`.

**moto state is process-global.** Buckets, objects, IAM users and the auth switch live in
moto's module-level backends and settings (``moto.settings.INITIAL_NO_AUTH_ACTION_COUNT`` and
``ActionAuthenticatorMixin.request_count``), not in a server instance. So:

* two servers in one process see the same buckets and IAM users: use unique bucket names;
* auth mode is on for *every* moto endpoint in the process (and for ``moto.mock_aws``) as
  soon as one server enables it. This module therefore shares it: the first `enable_auth()`
  creates the admin key and switches checks on, later callers join, and checks go off when
  the last holder calls `disable_auth()`/`stop()`. Meanwhile `admin_credentials` of *every*
  `LocalS3Server` is that admin key, so helpers keep working on servers that never asked for
  auth. Code that signs with arbitrary keys (``"testing"``) only works while nobody holds auth:
  check `auth_enabled`, or take keys from `admin_credentials`/`create_user`.
* ``POST /moto-api/reset`` wipes every server's buckets and the admin user; don't.
* ``moto.mock_aws`` patches botocore itself: while it is active, boto3 clients never reach this
  server (nor its faults). Don't mix the two in one test.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

import boto3.session
from botocore.config import Config
from moto import settings as moto_settings
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

from rtcsnap import secrets
from rtcsnap.testing.faults import Faults, is_control
from rtcsnap.testing.wsgiserver import InProcessServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_CREDENTIALS = ("testing", "testing")
"""Any key pair works while auth is off; these are what helpers sign with then."""

ADMIN_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


class _AuthState:
    """Who holds moto's (process-global) auth mode, and the admin key valid while it is on."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    admin: ClassVar[tuple[str, str] | None] = None
    holders: ClassVar[set[int]] = set()
    previous: ClassVar[str] = "inf"


def moto_admin() -> tuple[str, str] | None:
    """The admin key while a `LocalS3Server` holds moto's (process-global) auth mode, else None:
    a layer in front of moto (`rtcsnap.testing.dialect`) signs its replays with it."""
    return _AuthState.admin


class S3OnlyDispatcher(DomainDispatcherApplication):
    """Routes every request to moto's S3 app except moto's API and IAM/STS-signed calls."""

    def infer_service_region_host(self, environ: dict[str, Any], path: str) -> str | None:
        if is_control(environ):
            host: str | None = super().infer_service_region_host(environ, path)
            return host
        return "s3.us-east-1.amazonaws.com"


class MotoQuietHandler(MotoRequestHandler):
    """moto's handler without werkzeug's per-request access log (errors are still logged), and
    without Nagle's delay (an SDK's ``Expect: 100-continue`` PUT waits out a delayed ACK)."""

    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LocalS3Server(InProcessServer):
    """moto S3 on ``127.0.0.1:<free port>`` in a daemon thread; a context manager."""

    handler = MotoQuietHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.host = host
        self.faults = Faults(S3OnlyDispatcher(create_backend_app))
        self.app = self.faults
        self._boto = boto3.session.Session()
        self._boto_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    def _before_stop(self) -> None:
        """Turn auth off again if this server turned it on, release stalled responses."""
        try:
            self.disable_auth()
        finally:
            self.faults.clear()

    # -- clients -------------------------------------------------------------------------

    @property
    def admin_credentials(self) -> tuple[str, str]:
        """(access key, secret key) with every permission: the shared IAM admin while auth is on."""
        return _AuthState.admin or DEFAULT_CREDENTIALS

    def client(
        self,
        service: str = "s3",
        credentials: tuple[str, str] | None = None,
        region: str = "us-east-1",
        **config: Any,
    ) -> Any:
        """A boto3 client for this server: path-style, no retries, admin credentials by default."""
        ak, sk = credentials or self.admin_credentials
        options: dict[str, Any] = {"s3": {"addressing_style": "path"}, "retries": {"total_max_attempts": 1}}
        with self._boto_lock:  # creating clients from one boto3 session is not thread-safe
            make: Any = self._boto.client  # typed per literal service name; `service` is any name here
            return make(
                service,
                endpoint_url=self.endpoint,
                region_name=region,
                aws_access_key_id=ak,
                aws_secret_access_key=sk,
                config=Config(**{**options, **config}),
            )

    def s3(self, credentials: tuple[str, str] | None = None, **config: Any) -> S3Client:
        """`client("s3", ...)`, typed."""
        s3: S3Client = self.client("s3", credentials, **config)
        return s3

    def create_bucket(self, name: str, region: str = "us-east-1") -> str:
        """Create `name` (in `region`) as the admin; returns the name."""
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.s3().create_bucket(**kwargs)
        return name

    # -- auth ----------------------------------------------------------------------------

    @property
    def auth_enabled(self) -> bool:
        """Whether moto checks signatures right now (process-wide, see the module docstring)."""
        return not math.isinf(moto_settings.INITIAL_NO_AUTH_ACTION_COUNT)

    def enable_auth(self) -> tuple[str, str]:
        """Make moto SigV4-check every request against IAM keys; returns the admin key pair.

        The first holder creates an admin IAM user and key through this server's IAM API, then
        ``POST /moto-api/reset-auth`` with body ``0``. Auth being process-wide, a second server
        joins instead and gets the same admin key.
        """
        with _AuthState.lock:
            if _AuthState.admin is None:
                if self.auth_enabled:
                    raise RuntimeError(
                        "moto auth mode was switched on outside LocalS3Server "
                        "(INITIAL_NO_AUTH_ACTION_COUNT / mock_aws); cannot create an admin"
                    )
                admin = self.create_user(f"rtcsnap-admin-{uuid.uuid4().hex[:8]}", ADMIN_POLICY)
                _AuthState.previous = self._reset_auth("0")
                _AuthState.admin = admin
            _AuthState.holders.add(id(self))
            return _AuthState.admin

    def disable_auth(self) -> None:
        """Leave auth mode; checks go off (moto's previous setting) when the last holder leaves."""
        with _AuthState.lock:
            if id(self) not in _AuthState.holders:
                return
            _AuthState.holders.discard(id(self))
            if not _AuthState.holders:
                self._reset_auth(_AuthState.previous)
                _AuthState.admin = None

    def create_user(self, name: str, policy_document: dict[str, Any]) -> tuple[str, str]:
        """An IAM user with `policy_document` inline, and a fresh key for it: (access key, secret key).

        IAM users are global to the process too; reusing a name replaces its policy and adds a key.
        """
        iam = self.client("iam")
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name, PolicyName="rtcsnap-test", PolicyDocument=json.dumps(policy_document)
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        secrets.register(str(key["SecretAccessKey"]))  # tests must never see it printed
        return str(key["AccessKeyId"]), str(key["SecretAccessKey"])

    def _reset_auth(self, count: str) -> str:
        # text/plain: with urllib's default form content type moto sees an empty body (HTTP 500)
        req = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            previous: str = json.load(resp)["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
        return previous


__all__ = ["ADMIN_POLICY", "DEFAULT_CREDENTIALS", "LocalS3Server", "S3OnlyDispatcher", "moto_admin"]
