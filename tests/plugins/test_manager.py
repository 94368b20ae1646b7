"""Plugin loading through the real `rtcsnap` entry-point group, one distribution at a time."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from rtcsnap.errors import PluginError, ProviderClashError, UnknownProviderError
from rtcsnap.providers.manager import PluginLoadWarning, ProviderManager

PROVIDER_SRC = """
from rtcsnap import Provider, Capabilities, hookimpl

class {cls}(Provider):
    name = "{name}"
    scheme = "{scheme}"
    storage_type = 2
    vendor = {vendor}
    capabilities = Capabilities(list=True, delete=False)

    def storage_config(self, target):
        raise NotImplementedError

    def open(self, target):
        raise NotImplementedError

@hookimpl
def rtcsnap_register_providers(register):
    register({cls})
"""


SHIPPED = {"s3", "tos", "veimagex", "oss", "obs", "cos", "kodo"}
"""The providers this workspace installs as plugins."""
SHIPPED_VENDORS = "oss,obs,cos,kodo"
"""The shipped Type 2 plugins of Vendors 1-4, disabled in these tests: every (Type, Vendor) RTC
knows has a shipped provider, so a fake plugin claiming one stands in for a third-party
replacement, which is how a user installs one (`RTCSNAP_DISABLE_PLUGINS`)."""
KEPT = SHIPPED - set(SHIPPED_VENDORS.split(","))


def src(name: str, scheme: str | None = None, vendor: int = 3, cls: str = "P") -> str:
    return PROVIDER_SRC.format(name=name, scheme=scheme or name, vendor=vendor, cls=cls)


@pytest.fixture(autouse=True)
def _clean(isolated_manager: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTCSNAP_DISABLE_PLUGINS", SHIPPED_VENDORS)


def load(site: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ProviderManager, list[str]]:
    monkeypatch.syspath_prepend(str(site))
    mgr = ProviderManager()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mgr.load_entry_points()
    return mgr, [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]


def names(mgr: ProviderManager) -> set[str]:
    return {e.provider.name for e in mgr.entries()}


def test_builtin_s3_loads_through_entry_points() -> None:
    mgr = ProviderManager()
    mgr.load_entry_points()
    entry = next(e for e in mgr.entries() if e.provider.name == "s3")
    assert entry.distribution == "rtcsnap-s3" and entry.plugin == "s3"
    assert mgr.for_scheme("s3").name == "s3"
    assert mgr.for_storage(2, 0).name == "s3"


def test_third_party_plugin_is_discovered(fake_dist, monkeypatch) -> None:
    site = fake_dist("rtcsnap-acme", "rtcsnap_acme", src("acme"), ep_name="acme", version="1.2.3")
    mgr, warned = load(site, monkeypatch)
    assert warned == []
    entry = next(e for e in mgr.entries() if e.provider.name == "acme")
    assert (entry.distribution, entry.version) == ("rtcsnap-acme", "1.2.3")
    assert mgr.for_scheme("acme").name == "acme"


def test_broken_plugin_warns_and_others_still_load(fake_dist, monkeypatch) -> None:
    fake_dist(
        "rtcsnap-broken", "rtcsnap_broken", "raise ImportError('no such sdk: fancysdk')\n", ep_name="broken"
    )
    site = fake_dist("rtcsnap-acme", "rtcsnap_acme", src("acme"), ep_name="acme")
    mgr, warned = load(site, monkeypatch)
    assert {"acme", "s3"} <= names(mgr)
    assert len(warned) == 1 and "broken" in warned[0] and "fancysdk" in warned[0]
    assert [e.plugin for e in mgr.errors] == ["broken"]


def test_register_hook_raising_is_contained(fake_dist, monkeypatch) -> None:
    bad = "from rtcsnap import hookimpl\n@hookimpl\ndef rtcsnap_register_providers(register):\n    raise RuntimeError('boom')\n"
    site = fake_dist("rtcsnap-bad", "rtcsnap_bad", bad, ep_name="bad")
    mgr, warned = load(site, monkeypatch)
    assert "s3" in names(mgr)
    assert len(warned) == 1 and "boom" in warned[0]


def test_strict_mode_makes_load_errors_fatal(fake_dist, monkeypatch) -> None:
    site = fake_dist("rtcsnap-broken", "rtcsnap_broken", "raise ImportError('nope')\n", ep_name="broken")
    monkeypatch.setenv("RTCSNAP_STRICT_PLUGINS", "1")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(PluginError, match="broken"):
        ProviderManager().load_entry_points()


def test_allow_list_and_block_list(fake_dist, monkeypatch) -> None:
    site = fake_dist("rtcsnap-acme", "rtcsnap_acme", src("acme"), ep_name="acme")
    monkeypatch.setenv("RTCSNAP_LOAD_PLUGINS", "acme")
    mgr, _ = load(site, monkeypatch)
    assert names(mgr) == {"acme"}
    monkeypatch.setenv("RTCSNAP_LOAD_PLUGINS", "rtcsnap-s3")  # distribution names work too
    mgr, _ = load(site, monkeypatch)
    assert names(mgr) == {"s3"}
    monkeypatch.setenv("RTCSNAP_LOAD_PLUGINS", "")
    mgr, _ = load(site, monkeypatch)
    assert names(mgr) == set()
    monkeypatch.delenv("RTCSNAP_LOAD_PLUGINS")
    monkeypatch.setenv("RTCSNAP_DISABLE_PLUGINS", "s3,cos")  # acme serves Vendor 3 in cos's place
    mgr, _ = load(site, monkeypatch)
    assert names(mgr) == SHIPPED - {"s3", "cos"} | {"acme"}, "every plugin but the blocked ones"
    with pytest.raises(UnknownProviderError, match="acme"):
        mgr.for_scheme("s3")


@pytest.mark.parametrize(
    ("other", "what"),
    [
        (src("s3", scheme="zz", vendor=3), "name"),
        (src("zz", scheme="s3", vendor=3), "URL scheme"),
        (src("zz", scheme="zz", vendor=0), "(Type, Vendor)"),
    ],
)
def test_clashes_are_clear_errors(fake_dist, monkeypatch, other: str, what: str) -> None:
    site = fake_dist("rtcsnap-clash", "rtcsnap_clash", other, ep_name="clash")
    _mgr, warned = load(site, monkeypatch)
    assert len(warned) == 1
    assert what in warned[0] and "'s3'" in warned[0] and "clash" in warned[0]
    monkeypatch.setenv("RTCSNAP_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="claims the same"):
        ProviderManager().load_entry_points()
    mgr2 = ProviderManager()
    mgr2.load_entry_points(
        [e for e in __import__("importlib.metadata").metadata.entry_points(group="rtcsnap") if e.name == "s3"]
    )
    ns: dict[str, object] = {}
    exec(other, ns)
    with pytest.raises(ProviderClashError):
        mgr2.register_provider(ns["P"])  # type: ignore[arg-type]


def test_invalid_registration_is_rejected(fake_dist, monkeypatch) -> None:
    bad = src("acme").replace("storage_type = 2", "storage_type = 1")
    site = fake_dist("rtcsnap-acme", "rtcsnap_acme", bad, ep_name="acme")
    mgr, warned = load(site, monkeypatch)
    assert "acme" not in names(mgr)
    assert "storage_type must be 0, 2 or 3" in warned[0]


def test_for_storage_picks_by_type_and_for_type_2_by_vendor() -> None:
    """StorageConfig → provider (to verify a config before sending it): Type decides, and for
    Type 2 (third-party) the Vendor too — S3 (0) and Kodo (4) are both Type 2."""
    from rtcsnap import Capabilities, Provider, StorageTarget

    def provider(name: str, storage_type: int, vendor: int | None) -> type[Provider]:
        class P(Provider):
            capabilities = Capabilities()

            def storage_config(self, target: StorageTarget) -> None:
                return None

            def open(self, target: StorageTarget) -> object:  # type: ignore[override]
                raise NotImplementedError

        P.name, P.scheme, P.storage_type, P.vendor = name, name, storage_type, vendor
        return P

    m = ProviderManager()
    for cls in (provider("tos", 0, None), provider("sthree", 2, 0), provider("kodo", 2, 4)):
        m.register_provider(cls)
    assert m.for_storage(2, 4).name == "kodo"
    assert m.for_storage(2, 0).name == "sthree"
    assert m.for_storage(0, None).name == "tos"
    with pytest.raises(UnknownProviderError):
        m.for_storage(2, 3)


@pytest.mark.parametrize("blocked", ["one", "two", "three"])
def test_blocking_one_plugin_loads_all_the_others(fake_dist, monkeypatch, blocked: str) -> None:
    site = None
    for i, name in enumerate(("one", "two", "three")):
        site = fake_dist(f"rtcsnap-{name}", f"rtcsnap_{name}", src(name, vendor=1 + i, cls="P"), ep_name=name)
    assert site is not None
    monkeypatch.setenv("RTCSNAP_DISABLE_PLUGINS", f"{SHIPPED_VENDORS},{blocked}")
    mgr, _ = load(site, monkeypatch)
    assert names(mgr) == KEPT | {"one", "two", "three"} - {blocked}


def test_a_provider_reports_its_distributions_version() -> None:
    from importlib import metadata

    from rtcsnap_s3 import S3Provider

    assert S3Provider.version() == metadata.version("rtcsnap-s3") != "unknown"


def _deferred(site: Path, monkeypatch: pytest.MonkeyPatch) -> ProviderManager:
    monkeypatch.syspath_prepend(str(site))
    mgr = ProviderManager()
    mgr.defer_entry_points()
    return mgr


def test_a_scheme_lookup_imports_only_the_plugin_of_that_name(fake_dist, monkeypatch) -> None:
    """The shared manager's lazy path: a run against one target pays for one plugin's SDK."""
    import sys

    broken = "raise ImportError('imported although nobody asked for it')\n"
    fake_dist("rtcsnap-broken", "rtcsnap_broken", broken, ep_name="broken")
    site = fake_dist("rtcsnap-acme", "rtcsnap_acme", src("acme"), ep_name="acme")
    mgr = _deferred(site, monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)  # the broken plugin must not even be tried
        assert mgr.for_scheme("acme").name == "acme"
        assert mgr.get("acme").name == "acme"
    assert "rtcsnap_broken" not in sys.modules
    with warnings.catch_warnings(record=True) as caught:  # asking for the whole set loads the rest
        warnings.simplefilter("always")
        assert {"acme", "s3"} <= names(mgr)
    assert [e.plugin for e in mgr.errors] == ["broken"]
    assert any("imported although" in str(w.message) for w in caught)


def test_a_scheme_served_under_another_entry_point_name_is_still_found(fake_dist, monkeypatch) -> None:
    site = fake_dist(
        "rtcsnap-odd", "rtcsnap_odd", src("oddname", scheme="weird", vendor=4), ep_name="oddname"
    )
    mgr = _deferred(site, monkeypatch)
    assert mgr.for_scheme("weird").name == "oddname"
    with pytest.raises(UnknownProviderError, match="oddname"):
        mgr.for_scheme("nothing")


def test_the_shared_manager_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTCSNAP_DISABLE_PLUGINS")
    mgr = ProviderManager.default()
    assert not mgr.pm.has_plugin("tos")
    assert mgr.for_scheme("s3").name == "s3"
    assert mgr.pm.has_plugin("s3") and not mgr.pm.has_plugin("tos")
    assert names(mgr) >= SHIPPED and mgr.pm.has_plugin("tos")


def test_a_one_target_run_imports_one_sdk_and_no_wire_models() -> None:
    """What issue 7's benchmark found a short run paying for: every plugin's SDK (boto3 for a TOS
    target), pydantic (for `SecretStr`) and asyncio (for `acall`). Checked in a fresh interpreter."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from rtcsnap.storage.resolve import resolve\n"
        "from rtcsnap.target import StorageTarget\n"
        "t = StorageTarget.parse('tos://b?region=cn-beijing&account_id=2100000001',"
        " access_key='AKLTtest', secret_key='secret-for-import-test')\n"
        "resolve(t)\n"
        "print(json.dumps(sorted(m for m in ('boto3', 'botocore', 'volcengine', 'pydantic', 'asyncio', 'tos')"
        " if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["tos"]


def test_load_errors_go_to_the_reporter_past_and_future(fake_dist, monkeypatch) -> None:
    """The CLI's one-line warnings: errors from before the reporter was set, and from later lazy loads."""
    fake_dist("rtcsnap-early", "rtcsnap_early", "raise ImportError('early sdk')\n", ep_name="early")
    site = fake_dist("rtcsnap-late", "rtcsnap_late", "raise ImportError('late sdk')\n", ep_name="late")
    mgr = _deferred(site, monkeypatch)
    with pytest.warns(PluginLoadWarning, match="early sdk"):
        mgr._load_pending("early")
    seen: list[str] = []
    mgr.report_errors(lambda err: seen.append(err.plugin))
    assert seen == ["early"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)  # the reporter replaces the warning
        assert "s3" in names(mgr)
    assert seen == ["early", "late"]


def test_the_seven_shipped_providers_load_together_and_a_replacement_clashes(fake_dist, monkeypatch) -> None:
    monkeypatch.delenv("RTCSNAP_DISABLE_PLUGINS")
    mgr = ProviderManager()
    mgr.load_entry_points()
    assert names(mgr) == SHIPPED and mgr.errors == []
    assert {(e.provider.storage_type, e.provider.vendor) for e in mgr.entries()} == {
        (0, None), (3, None), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4)
    }  # fmt: skip
    site = fake_dist("rtcsnap-acme", "rtcsnap_acme", src("acme", vendor=3), ep_name="acme")
    mgr, warned = load(site, monkeypatch)
    assert (
        len(warned) == 1 and "(Type, Vendor)" in warned[0] and "'cos'" in warned[0] and "'acme'" in warned[0]
    )
