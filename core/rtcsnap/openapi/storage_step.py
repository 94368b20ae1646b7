"""The storage step of `start`: a `storage=` target made into the StorageConfig, and the
verification that must pass before StartSnapshot is sent.

Every provider here comes from the `ProviderManager` the caller passes in (the client's
`manager`), never from `ProviderManager.default()`: a client given its own manager — with a
provider the installed plugins lack, or one a test observes — must resolve, build and verify
with that one, and a module reaching for the shared manager would silently use another.

Why the target and not only its StorageConfig: a StorageConfig has no endpoint, prefix or
options, so a target rebuilt from it (`Provider.target_for`) is not the one the caller meant, and
verifying it probes somewhere else. A rebuilt target is still what `storage_config=` +
`verify_storage=True` verifies, having nothing better.

`rtcsnap.storage` is imported on first use: a client that never touches storage does not pay
for it (`tests/test_import_weight.py`, issue 7's import benchmark).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtcsnap import errors as e
from rtcsnap.models import StartSnapshotRequest, StorageConfig
from rtcsnap.target import StorageTarget

if TYPE_CHECKING:
    from rtcsnap.providers.manager import ProviderManager
    from rtcsnap.storage.verify import VerifyReport


@dataclass(frozen=True)
class Verification:
    """A step `start` yields: probe `target` through `manager`, answered with the `VerifyReport`.

    Blocking (storage SDKs are synchronous): the async client runs it in a worker thread.
    """

    target: StorageTarget
    manager: ProviderManager

    def run(self) -> VerifyReport:
        from rtcsnap.storage.verify import verify

        return verify(self.target, manager=self.manager)


def with_storage(
    request: StartSnapshotRequest | None,
    storage: StorageTarget | str,
    verify_storage: bool | StorageTarget,
    fields: Mapping[str, Any],
    manager: ProviderManager,
) -> tuple[StorageTarget, dict[str, Any]]:
    """The resolved target and `fields` with its StorageConfig, built by the target's provider.

    `storage=` excludes a StorageConfig given otherwise (a request model or `storage_config=`)
    and a separate target to verify: what is verified is what RTC is told to write to.
    """
    if request is not None or "storage_config" in fields:
        where = "in the request model" if request is not None else "as a keyword"
        raise TypeError(
            f"pass either storage= (a StorageTarget or URL) or storage_config ({where}), not both"
        )
    if isinstance(verify_storage, StorageTarget):
        raise TypeError("with storage=, pass verify_storage=True: the storage target is the one verified")
    if not isinstance(storage, StorageTarget | str):
        raise TypeError(f"storage must be a StorageTarget or a URL string (got {type(storage).__name__})")
    from rtcsnap.storage.resolve import resolve

    provider, target = resolve(storage, manager)
    return target, {**fields, "storage_config": provider.storage_config(target)}


def rebuilt_target(config: StorageConfig, manager: ProviderManager) -> StorageTarget:
    """The target a StorageConfig names, rebuilt by the provider of its (Type, Vendor): no endpoint."""
    vendor = config.custom_config.vendor if config.custom_config is not None else None
    provider = manager.for_storage(int(config.type), None if vendor is None else int(vendor))
    return provider.target_for(config)


def verification(
    request: StartSnapshotRequest,
    target: StorageTarget | None,
    verify_storage: bool | StorageTarget,
    manager: ProviderManager,
) -> Verification:
    """What to verify before sending `request` (asked for by `verify_storage`): the `storage=`
    target, else the one given as `verify_storage`, else one rebuilt from the StorageConfig."""
    if target is None:
        if isinstance(verify_storage, StorageTarget):
            target = verify_storage
        else:
            target = rebuilt_target(request.storage_config, manager)
    return Verification(target, manager)


def require_fit(report: VerifyReport) -> None:
    """Raise unless RTC could write there, naming the target tried (endpoint included) and why."""
    if not report.fit_for_rtc:
        reason = report.reason or e.Reason.OTHER
        failed = [p for p in report.probes if p.status == "failed"]
        probe = next((p for p in failed if p.reason == reason), None) or report.probe("write")
        raise e.StorageError(
            reason,
            f"{report.target} is not writable for RTC ({probe.capability} probe: "
            f"{probe.detail or reason.describe}); StartSnapshot not sent",
            provider=report.provider,
            operation="verify",
        )


__all__ = ["Verification", "rebuilt_target", "require_fit", "verification", "with_storage"]
