"""Access keys of the local storage servers we write ourselves (TOS, veImageX, later OSS/COS/Kodo).

Every such server checks the vendor's real signature with the key's secret and then what the
key may do, with the same coarse action names SeaweedFS uses (`rtcsnap.testing.seaweed`), so a
test mints "a write-only key" the same way whatever the server:

    key = server.key(["Write"])             # can put (and nothing else)
    key = server.key(["Read", "List"])      # can get and list, not put or delete

Actions: ``Read`` (get/head an object), ``List`` (list a bucket), ``Write`` (put), ``Delete``
(delete an object), ``Admin`` (everything, bucket creation included).
"""

from __future__ import annotations

import secrets as _random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from rtcsnap import secrets

ACTIONS = ("Read", "List", "Write", "Delete", "Admin")


@dataclass(frozen=True)
class ServerKey:
    """One access key; ``credentials`` is the (access key, secret key) pair SDKs and rtcsnap take."""

    name: str
    access_key: str
    secret_key: str = field(repr=False)
    actions: tuple[str, ...]
    bucket: str = "*"
    """The bucket (veImageX: service id) the key is limited to, or ``*`` for all."""

    @property
    def credentials(self) -> tuple[str, str]:
        return self.access_key, self.secret_key

    def allows(self, action: str, bucket: str) -> bool:
        if self.bucket not in ("*", bucket):
            return False
        return "Admin" in self.actions or action in self.actions


class KeyRing:
    """The keys a server accepts. Thread-safe: tests mint keys while the server serves."""

    def __init__(self, prefix: str = "AKLT") -> None:
        self._prefix = prefix
        self._keys: dict[str, ServerKey] = {}
        self._lock = threading.Lock()
        self.admin = self.add(["Admin"], name="admin")

    def add(
        self,
        actions: Iterable[str],
        name: str | None = None,
        bucket: str = "*",
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> ServerKey:
        """Mint (or, with `access_key`/`secret_key`, install) a key allowed exactly `actions`."""
        wanted = tuple(dict.fromkeys(actions))
        if not wanted:
            raise ValueError("a key needs at least one action")
        unknown = [a for a in wanted if a not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown action {unknown[0]!r}: use one of {list(ACTIONS)}")
        ak = access_key or f"{self._prefix}{_random.token_hex(12).upper()}"
        sk = secret_key or _random.token_urlsafe(30)
        secrets.register(sk)
        with self._lock:
            if ak in self._keys:
                raise ValueError(f"access key {ak!r} exists already")
            key = ServerKey(name or f"key-{len(self._keys)}", ak, sk, wanted, bucket)
            self._keys[ak] = key
        return key

    def get(self, access_key: str) -> ServerKey | None:
        with self._lock:
            return self._keys.get(access_key)


__all__ = ["ACTIONS", "KeyRing", "ServerKey"]
