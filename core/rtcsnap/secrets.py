"""The process-wide set of secret values rtcsnap has seen, and the one redaction routine.

Why a registry: an SDK's debug log (botocore prints its canonical request, session token
included) or an exception message can echo a secret anywhere. Masking at the point of output
needs to know every secret in play, wherever it came from: `Credentials.of` registers its
secret key and token, the OpenAPI credentials theirs, the callback receiver its secret.

Values shorter than `MIN_LENGTH` are not registered: masking ``"testing"`` would mangle every
log line that mentions ``rtcsnap.testing``, and no real secret is that short.
"""

from __future__ import annotations

import threading

MIN_LENGTH = 8
MASK = "***"

_lock = threading.Lock()
_values: frozenset[str] = frozenset()
_ordered: tuple[str, ...] = ()  # longest first, so a secret containing another is masked whole


def register(*values: str | None) -> None:
    """Remember `values` as secrets to mask from now on (None, empty and short values are ignored)."""
    global _values, _ordered
    wanted = {v for v in values if v and len(v) >= MIN_LENGTH}
    if wanted <= _values:  # the common case: already known, no lock taken
        return
    with _lock:
        _values = _values | wanted
        _ordered = tuple(sorted(_values, key=len, reverse=True))


def registered() -> frozenset[str]:
    """Every secret registered so far."""
    return _values


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ``***``."""
    for value in _ordered:
        if value in text:
            text = text.replace(value, MASK)
    return text


class Secret:
    """A secret value that never renders: `repr`/`str` show ``'**********'``.

    pydantic's `SecretStr` does the same for the wire models; this one exists so the storage side
    (`Credentials`, which every provider run builds) need not import pydantic (~20-60 ms of a
    short CLI run, issue 7's benchmark). Same reading API: `get_secret_value()`.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"


def find(text: str) -> list[str]:
    """The registered secrets that occur in `text` (for tests that scan output)."""
    return [v for v in _ordered if v in text]


__all__ = ["MASK", "MIN_LENGTH", "Secret", "find", "redact", "register", "registered"]
