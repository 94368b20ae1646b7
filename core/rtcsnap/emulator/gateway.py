"""The API gateway in front of the snapshot service: routing, V4 signature, IAM policy, quota.

Checks run in the order a real gateway applies them (cheapest and most basic first), each
answering with its documented gateway code, so a client sees the same first error for the
same broken request. Signature verification is `rtcsnap.protocol.signer.verify`, the inverse of
the signer the client uses, and is proven against the official SDK signer in the tests.

Authentication comes in two halves because the signature covers the body's hash: everything
the headers alone can decide (`identify`) runs before a byte of the body is read, so an
unsigned or unknown-key request is refused without reading its body; the signature itself
(`verify`) is then checked over the body as read, capped, and never JSON-parsed before that.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rtcsnap.emulator.config import Clock, EmulatorConfig
from rtcsnap.emulator.envelope import ApiError
from rtcsnap.emulator.quota import QuotaLimiter
from rtcsnap.models import ApiVersion
from rtcsnap.protocol import api, signer


@dataclass(frozen=True)
class Route:
    """A resolved call: an action the version offers, reached with the right HTTP method."""

    action: api.Action
    version: ApiVersion


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request the signature covers; header names lower-case."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Caller:
    """Who signed the request."""

    access_key: str
    account: str
    session_token: str | None


@dataclass(frozen=True)
class Claim:
    """Who the headers say signed the request: everything but the signature itself is checked."""

    auth: signer.Authorization
    secret: str = field(repr=False)
    session_token: str | None = field(repr=False)


def first(query: Mapping[str, Sequence[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0]


def resolve(method: str, path: str, query: Mapping[str, Sequence[str]]) -> Route:
    """Action/Version from the query string; unknown pairs and wrong methods do not exist."""
    action, version = first(query, "Action"), first(query, "Version")
    if not action or not version:
        missing = "Action" if not action else "Version"
        raise ApiError("MissingParameter", f"The request must contain the parameter {missing}.")
    found = api.ACTIONS.get(action)
    if (
        found is None
        or version not in api.VERSIONS
        or found.method != method.upper()
        or path not in ("", "/")
    ):
        raise ApiError("InvalidActionOrVersion", f"Could not find operation {action} for version {version}.")
    return Route(found, ApiVersion(version))


def _parse_x_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, signer.DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


class Gateway:
    """Authentication, authorisation and throttling for one emulator (config read live)."""

    def __init__(self, config: EmulatorConfig, auth_clock: Clock, quota: QuotaLimiter) -> None:
        self.config = config
        self.auth_clock = auth_clock
        self.quota = quota

    def authenticate(self, req: SignedRequest) -> Caller:
        """Both halves at once, for a request whose body is already in hand."""
        return self.verify(self.identify(req.headers), req)

    def identify(self, headers: Mapping[str, str]) -> Claim:
        """The header-only checks, in gateway order, up to (not including) the signature."""
        value = headers.get("authorization", "").strip()
        if not value:
            raise ApiError("MissingAuthenticationToken", "Request is missing the Authorization header.")
        auth = signer.parse_authorization(value)
        if auth is None:
            raise ApiError(
                "MissingSignature",
                "The Authorization header is malformed or carries no signature "
                "(expected 'HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...').",
            )
        x_date = headers.get("x-date", "").strip()
        if not x_date:
            raise ApiError("MissingRequestInfo", "Request is missing the X-Date header.")
        self._check_time(x_date)
        if auth.service != api.SERVICE:
            raise ApiError(
                "ServiceNotFound",
                f"Service {auth.service!r} in the credential scope does not exist here (expected {api.SERVICE!r}).",
            )
        secret = self.config.keys.get(auth.access_key)
        if secret is None:
            raise ApiError("InvalidAccessKey", f"The access key {auth.access_key} does not exist.")
        token = self._check_session(auth, headers)
        return Claim(auth, secret, token)

    def verify(self, claim: Claim, req: SignedRequest) -> Caller:
        """The signature over the request as received (body included); then the caller is known."""
        self._check_signature(claim.auth, claim.secret, req)
        access_key = claim.auth.access_key
        return Caller(access_key, self.config.account_of(access_key), claim.session_token)

    def _check_time(self, x_date: str) -> None:
        when = _parse_x_date(x_date)
        if when is None:
            raise ApiError("InvalidTimestamp", f"X-Date {x_date!r} is not of the form YYYYMMDD'T'HHMMSS'Z'.")
        skew = when.timestamp() - self.auth_clock()
        if abs(skew) > self.config.max_clock_skew:
            where = "in the future" if skew > 0 else "expired"
            raise ApiError(
                "InvalidTimestamp",
                f"The request X-Date {x_date} is {where}: more than {self.config.max_clock_skew:g} s "
                "from the server time.",
            )

    def _check_session(self, auth: signer.Authorization, headers: Mapping[str, str]) -> str | None:
        token = headers.get("x-security-token")
        expected = self.config.sessions.get(auth.access_key)
        if expected is not None and (token is None or not hmac.compare_digest(token, expected)):
            raise ApiError(
                "InvalidAccessKey",
                f"The access key {auth.access_key} needs its STS session token (X-Security-Token); "
                "it is missing, expired or belongs to another key.",
            )
        if token is not None and "x-security-token" not in auth.signed_headers:
            raise ApiError("SignatureDoesNotMatch", "X-Security-Token must be a signed header.")
        return token

    def _check_signature(self, auth: signer.Authorization, secret: str, req: SignedRequest) -> None:
        declared = req.headers.get("x-content-sha256")
        if declared is not None and declared.strip().lower() != hashlib.sha256(req.body).hexdigest():
            raise ApiError("SignatureDoesNotMatch", "X-Content-Sha256 does not match the request body.")
        if "x-date" not in auth.signed_headers:
            raise ApiError("SignatureDoesNotMatch", "X-Date must be a signed header.")
        if auth.region != self.config.region:
            raise ApiError(
                "SignatureDoesNotMatch",
                f"The credential scope region {auth.region!r} does not match this endpoint's region "
                f"{self.config.region!r}.",
            )
        if not signer.verify(auth, secret, req.method, req.path, req.query, req.headers, req.body):
            raise ApiError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your secret access key and signing method.",
            )

    def authorize(self, caller: Caller, route: Route) -> None:
        """IAM: keys without a policy entry may call everything (an account's root key)."""
        allowed = self.config.policies.get(caller.access_key)
        if allowed is None:
            return
        if not allowed:
            raise ApiError(
                "LackPolicy", f"The access key {caller.access_key} has no policy for service {api.SERVICE}."
            )
        if route.action.name not in allowed:
            raise ApiError(
                "AccessDenied",
                f"User {caller.access_key} is not authorized to perform: {api.SERVICE}:{route.action.name}.",
            )

    def throttle(self, caller: Caller, route: Route, arrival: float) -> None:
        limit = self.config.quota(route.action.name)
        if not self.quota.admit(caller.account, route.action.name, limit, arrival):
            raise ApiError(
                "FlowLimitExceeded.QPSOverLimit",
                f"{route.action.name} is limited to {limit} requests per second per account.",
            )


__all__ = ["Caller", "Claim", "Gateway", "Route", "SignedRequest", "resolve"]
