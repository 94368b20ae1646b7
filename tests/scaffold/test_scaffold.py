"""`rtcsnap provider new`: the scaffolded distribution is real, its tests run, and they fail only
where a primitive is still a stub.

The acceptance path runs as a user would: the installed `rtcsnap` CLI writes the package into a
temporary directory, its own tests run in a subprocess (`python -m pytest`, the package on
PYTHONPATH, not installed), the stubs are filled textually with a few lines of boto3 each, and the
shipped contract suite then passes in full against rtcsnap's local S3 server (moto).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from types import MappingProxyType
from xml.etree import ElementTree

import pytest
from rtcsnap.errors import ConfigurationError
from rtcsnap.providers.contract import Capabilities, Provider
from rtcsnap.providers.manager import ProviderEntry
from rtcsnap.regions import lookup
from rtcsnap.scaffold import STUBBED, Spec, check_free, render, served_by
from rtcsnap.testing.contract import ProviderContract
from rtcsnap.testing.secret_scan import assert_no_secret

from tests.conftest import run_cli

CONTRACT_TESTS = sorted(name for name in dir(ProviderContract) if name.startswith("test_"))
"""Every test the shipped suite defines: one added to the suite is expected here automatically."""
KNOWN_SKIPS: dict[str, str] = {}
"""Contract tests the filled S3-compatible scaffold skips. None: moto's fault injector is there
and the scaffold declares an MD5 checksum, so even the fault tests must run and pass."""
FILES = {
    "pyproject.toml",
    "README.md",
    "rtcsnap_mystore/__init__.py",
    "rtcsnap_mystore/provider.py",
    "rtcsnap_mystore/py.typed",
    "tests/conftest.py",
    "tests/test_contract.py",
}

FILLS = {
    "head_bucket": """
        with self.sdk("head_bucket"):
            self.client.head_bucket(Bucket=self.bucket)
    """,
    "put": """
        body = data if isinstance(data, bytes) else data.read()
        with self.sdk("put", key):
            resp = self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return ObjectInfo(key, len(body), _etag(resp.get("ETag")))
    """,
    "get": """
        with self.sdk("get", key):
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
        return ObjectStream(_info(key, resp), _chunks(self, key, resp["Body"]), resp["Body"].close)
    """,
    "stat": """
        with self.sdk("stat", key):
            return _info(key, self.client.head_object(Bucket=self.bucket, Key=key))
    """,
    "list_page": """
        more = {"ContinuationToken": cursor} if cursor else {}
        with self.sdk("list", prefix):
            resp = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=limit, **more)
        items = [
            ObjectInfo(o["Key"], o["Size"], _etag(o.get("ETag")), o.get("LastModified"))
            for o in resp.get("Contents", [])
        ]
        where = f"mystore://{self.bucket}/{prefix}"
        token = resp.get("NextContinuationToken")
        return Page.resuming(items, token, bool(resp.get("IsTruncated")), where, "NextContinuationToken")
    """,
    "delete": """
        with self.sdk("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)
    """,
    "translate": """
        from rtcsnap.providers.s3family import reason_for

        if not isinstance(exc, ClientError):
            return StorageError(Reason.NETWORK, type(exc).__name__, provider="mystore", operation=operation)
        err, meta = exc.response.get("Error", {}), exc.response.get("ResponseMetadata", {})
        code, status = err.get("Code"), meta.get("HTTPStatusCode")
        reason = reason_for(code, status, operation, err.get("Message", ""), VENDOR_CODES)
        text = f"{code or status}: {err.get('Message', '')}"
        return StorageError(reason, text, provider="mystore", operation=operation, code=code, status=status)
    """,
}
"""A few lines of boto3 per stub: what a provider author writes after scaffolding."""


def fill(source: str, primitives: list[str]) -> str:
    """`source` with the `raise NotImplementedError(...)` statement of each primitive replaced."""
    for name in primitives:
        stub = re.compile(
            rf"(    def {name}\(.*?\n)(?P<indent> +)raise NotImplementedError\(\n.*?\n(?P=indent)\)\n", re.S
        )
        body = textwrap.indent(textwrap.dedent(FILLS[name]).strip("\n"), " " * 8) + "\n"
        source, n = stub.subn(lambda m: m.group(1) + body, source, count=1)  # noqa: B023 - used at once
        assert n == 1, f"no stub found for {name}"
    return source


def new(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("provider", "new", *args, env=env)


def scaffold_s3(tmp_path: Path) -> Path:
    project = tmp_path / "rtcsnap-mystore"
    r = new("mystore", "--s3-compatible", "--dir", str(project))
    assert r.returncode == 0, r.stderr
    return project


def run_generated(
    project: Path, junit: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, tuple[str, str]]]:
    """The scaffold's own tests, as its author runs them; (process, test name -> (outcome, message))."""
    path = os.pathsep.join(p for p in (str(project), os.environ.get("PYTHONPATH", "")) if p)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(project / "tests"),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
        ],
        cwd=project,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag: child.get("message", "") for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        outcomes[case.get("name", "")] = (outcome, kinds.get(outcome, ""))
    return r, outcomes


def stub_named(message: str) -> str:
    """The primitive a failure message says is a stub; '' when it is not a stub's NotImplementedError."""
    head, _, rest = message.partition(": ")
    primitive = rest.partition(":")[0]
    return primitive if head == "NotImplementedError" and primitive in STUBBED else ""


# -- the acceptance path ---------------------------------------------------------------------


def test_s3_scaffold_writes_the_distribution(tmp_path: Path) -> None:
    project = tmp_path / "rtcsnap-mystore"
    r = new("mystore", "--s3-compatible", "--dir", str(project))
    assert r.returncode == 0, r.stderr
    on_disk = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert on_disk == FILES
    listed = {line.strip() for line in r.stdout.splitlines() if line.startswith("  ")}
    assert listed >= FILES, r.stdout
    assert "python -m pytest" in r.stdout
    # s3 (rtcsnap-s3) serves Type 2, Vendor 0 in this workspace: the output says how to replace it
    assert "RTCSNAP_DISABLE_PLUGINS=s3" in r.stdout
    assert "RTCSNAP_DISABLE_PLUGINS=s3" in (project / "README.md").read_text()
    assert "RTCSNAP_DISABLE_PLUGINS=s3" in (project / "rtcsnap_mystore/provider.py").read_text()
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "rtcsnap-mystore"
    assert meta["project"]["entry-points"]["rtcsnap"] == {"mystore": "rtcsnap_mystore"}
    deps = [re.split(r"[<>=\[]", d)[0] for d in meta["project"]["dependencies"]]
    assert deps == ["rtcsnap", "boto3"]
    assert any(d.startswith("rtcsnap[testing]") for d in meta["project"]["optional-dependencies"]["test"])
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["rtcsnap_mystore"]
    assert (project / "rtcsnap_mystore/py.typed").read_text() == ""


@pytest.mark.slow
def test_s3_scaffold_tests_fail_only_at_stubs_and_pass_once_filled(tmp_path: Path) -> None:
    project = scaffold_s3(tmp_path)
    module = project / "rtcsnap_mystore/provider.py"
    stubbed = module.read_text()

    r, outcomes = run_generated(project, tmp_path / "stubs.xml")
    assert r.returncode == 1, r.stdout[-3000:]
    assert sorted(outcomes) == CONTRACT_TESTS, "every contract test ran"
    # no session, no stub: the payload is built by ThirdPartyProvider from the declarations alone
    assert outcomes.pop("test_storage_config_payload") == ("passed", "")
    for test, (outcome, message) in outcomes.items():
        assert outcome == "failure" and stub_named(message), f"{test}: {outcome} {message!r}"
    assert stub_named(outcomes["test_verify_bad_secret"][1]) == "head_bucket", "verify starts with a HEAD"
    assert stub_named(outcomes["test_delete"][1]) == "put", "objects are seeded through put first"

    # every stub but delete written: exactly the tests that delete still fail, naming it
    module.write_text(fill(stubbed, [p for p in STUBBED if p != "delete"]))
    r, outcomes = run_generated(project, tmp_path / "partial.xml")
    failed = {test: stub_named(msg) for test, (outcome, msg) in outcomes.items() if outcome != "passed"}
    assert failed == {"test_verify_good_credentials": "delete", "test_delete": "delete"}, r.stdout[-3000:]

    module.write_text(fill(stubbed, list(STUBBED)))
    assert "raise NotImplementedError" not in module.read_text()
    r, outcomes = run_generated(project, tmp_path / "filled.xml")
    assert r.returncode == 0, r.stdout[-3000:]
    expected = {
        name: ("skipped", KNOWN_SKIPS[name]) if name in KNOWN_SKIPS else ("passed", "")
        for name in CONTRACT_TESTS
    }
    assert outcomes == expected, r.stdout[-3000:]
    passed = sum(1 for outcome, _ in outcomes.values() if outcome == "passed")
    assert passed == len(CONTRACT_TESTS) - len(KNOWN_SKIPS) and len(CONTRACT_TESTS) >= 15


def test_scaffolded_package_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """With the pyproject's entry point in real dist-info metadata (what pip writes), the CLI
    finds the provider; next to rtcsnap-s3 the two clash on (Type 2, Vendor 0) until s3 is
    disabled, as the generated README says."""
    project = scaffold_s3(tmp_path)
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    site = tmp_path / "site"
    info = site / "rtcsnap_mystore-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['project']['name']}\nVersion: 0.1.0\n"
    )
    eps = "".join(f"{k} = {v}\n" for k, v in meta["project"]["entry-points"]["rtcsnap"].items())
    (info / "entry_points.txt").write_text(f"[rtcsnap]\n{eps}")
    (info / "RECORD").write_text("")
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(project)])}

    both = run_cli("providers", env=env)
    assert both.returncode == 0, both.stderr
    listed = {line.split()[0] for line in both.stdout.splitlines()[1:] if line.strip()}
    assert len({"s3", "mystore"} & listed) == 1, both.stdout
    assert "(Type, Vendor)" in both.stderr, both.stderr

    alone = run_cli("providers", env={**env, "RTCSNAP_DISABLE_PLUGINS": "s3"})
    assert alone.returncode == 0 and alone.stderr == "", alone.stderr
    row = next(line for line in alone.stdout.splitlines() if line.startswith("mystore"))
    assert re.search(r"mystore\s+mystore://\s+2\s+0\s+0\.1\.0\s+rtcsnap-mystore", row), row
    assert not any(line.startswith("s3 ") for line in alone.stdout.splitlines())


@pytest.mark.slow
def test_generated_code_is_ruff_and_mypy_strict_clean(tmp_path: Path) -> None:
    variants = {
        "mystore": ["--s3-compatible"],
        "otherss": ["--type", "2", "--vendor", "3"],
        "tosish": ["--type", "0"],
        "imagish": ["--type", "3"],
    }
    ruff = Path(sys.executable).with_name("ruff")
    cache = tmp_path / "mypy-cache"  # shared: rtcsnap and boto3 are analysed once
    for name, args in variants.items():
        project = tmp_path / name
        assert new(name, *args, "--dir", str(project)).returncode == 0
        config = str(project / "pyproject.toml")  # the scaffold's own lint and strict-typing settings
        for cmd in (
            [str(ruff), "check", "--no-cache", str(project)],
            [str(ruff), "format", "--check", "--no-cache", str(project)],
            [sys.executable, "-m", "mypy", "--config-file", config, "--cache-dir", str(cache), str(project)],
        ):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, f"{name}: {' '.join(cmd[:3])}\n{r.stdout}{r.stderr}"


# -- the generic (non-S3) scaffold ------------------------------------------------------------


def test_generic_scaffold_fails_every_contract_test_asking_for_a_server(tmp_path: Path) -> None:
    project = tmp_path / "gen"
    r = new("mygen", "--type", "2", "--vendor", "1", "--dir", str(project))
    assert r.returncode == 0, r.stderr
    assert "local server" in r.stdout
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["dependencies"] == [f"rtcsnap>={_version()}"], (
        "the vendor's SDK is the author's to add"
    )
    source = (project / "rtcsnap_mygen/provider.py").read_text()
    for primitive in STUBBED:
        assert re.search(
            rf"def {primitive}\(.*?raise NotImplementedError\(\n\s+f?\"{primitive}: ", source, re.S
        )
    proc, outcomes = run_generated(project, tmp_path / "generic.xml")
    assert proc.returncode == 1
    assert sorted(outcomes) == CONTRACT_TESTS
    for test, (outcome, message) in outcomes.items():
        assert outcome == "error", test
        assert message.startswith(
            'failed on setup with "Failed: start your local server in contract_env: see docs/providers.md'
        ), message


@pytest.mark.parametrize(
    ("args", "region", "wire"),
    [
        (["--type", "2", "--vendor", "1"], "oss-cn-hangzhou", {"Type": 2, "CustomConfig": {"Vendor": 1}}),
        (["--type", "0"], "cn-beijing", {"Type": 0, "TosConfig": {"AccountId": "2100000000"}}),
        (["--type", "3"], "cn-north-1", {"Type": 3, "VeImageXConfig": {"AccountId": "2100000000"}}),
    ],
)
def test_generic_scaffold_declarations_register_and_build_the_payload(
    tmp_path: Path, args: list[str], region: str, wire: dict[str, object]
) -> None:
    """The generated package registers through its hook and builds its Type's StorageConfig."""
    project = tmp_path / "p"
    assert new("mygen", *args, "--dir", str(project)).returncode == 0
    script = textwrap.dedent(
        f"""
        import json, rtcsnap_mygen
        from rtcsnap.providers.manager import ProviderManager
        from rtcsnap.target import StorageTarget
        manager = ProviderManager()
        manager.add_plugin(rtcsnap_mygen, "mygen")
        assert not manager.errors, manager.errors
        provider = manager.for_scheme("mygen")
        target = provider.resolve(StorageTarget.parse(
            "mygen://bkt?region={region}" + ("" if provider.storage_type == 2 else "&account_id=2100000000"),
            access_key="AKSCAFFOLD", secret_key="scaffold-secret-value",
        ))
        print(json.dumps(provider.storage_config(target).to_wire(mask_secrets=True)))
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    kind = int(args[1])
    table = {0: "tos", 3: "veimagex"}.get(kind, "oss")
    sub = next(k for k in wire if k != "Type")
    assert got["Type"] == wire["Type"] and set(got) == {"Type", sub}
    expected = dict(wire[sub])  # type: ignore[call-overload]
    expected["Region"] = lookup(table, region).code
    expected[{0: "Bucket", 3: "ServiceId"}.get(kind, "Bucket")] = "bkt"
    if kind == 2:
        expected.update(AccessKey="******", SecretKey="******")  # masked: the keys are RTC's to read
    assert got[sub] == expected


# -- the CLI's refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["Bad"], ["NAME 'Bad'", "[a-z][a-z0-9]{1,19}"]),
        (["x"], ["NAME 'x'", "[a-z][a-z0-9]{1,19}"]),
        (["a" * 21], ["NAME 'aaaa", "1-19"]),
        (["my-store"], ["NAME 'my-store'", "lowercase"]),
        (["9lives"], ["NAME '9lives'", "lowercase letter"]),
        (["s3"], ["NAME 's3'", "installed provider 's3'", "choose another"]),
        (["tos", "--type", "0"], ["NAME 'tos'", "installed provider 'tos'"]),
        (["okname", "--type", "3", "--vendor", "1"], ["--vendor 1", "only for --type 2"]),
        (["okname", "--vendor", "7"], ["--vendor 7", "0 S3", "4 Kodo"]),
        (["okname", "--s3-compatible", "--type", "0"], ["--type 0", "Type 2"]),
        (["okname", "--type", "1"], ["'--type'", "1"]),
    ],
)
def test_cli_refuses_with_one_line_and_exit_2(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    target = tmp_path / "out"
    r = new(*args, "--dir", str(target))
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(("error: ", "usage error: ")), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not target.exists(), "nothing written"


def test_cli_refuses_a_non_empty_directory_and_leaves_it_alone(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    r = new("mystore", "--s3-compatible", "--dir", str(target))
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if not line.startswith("warning:")]
    assert lines == [f"error: --dir {str(target)!r}: exists and is not empty; give a new or empty directory"]
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert new("mystore", "--dir", str(empty)).returncode == 0, "an empty directory is fine"


def test_default_dir_and_json_output(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("rtcsnap")
    r = subprocess.run(
        [str(exe), "provider", "new", "mystore", "--s3-compatible", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert_no_secret(r.stdout, r.stderr)
    out = json.loads(r.stdout)
    project = tmp_path / "rtcsnap-mystore"
    assert out["dir"] == "rtcsnap-mystore" and set(out["files"]) == FILES
    assert {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()} == FILES
    assert (out["storage_type"], out["vendor"], out["replaces"]) == (2, 0, "s3")
    assert out["stubs"] == list(STUBBED)


# -- the library under the CLI ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        Spec.build("mystore", s3_compatible=True),
        *(Spec.build("mystore", storage_type=2, vendor=v) for v in range(5)),
        *(Spec.build("mystore", s3_compatible=True, vendor=v) for v in range(1, 5)),
        Spec.build("mystore", storage_type=0),
        Spec.build("mystore", storage_type=3),
    ],
    ids=lambda s: f"type{s.storage_type}-vendor{s.vendor}-{'s3' if s.s3_compatible else 'generic'}",
)
def test_every_variant_renders_valid_files(spec: Spec) -> None:
    files = render(spec)
    assert set(files) == FILES
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert tomllib.loads(files["pyproject.toml"])["project"]["entry-points"]["rtcsnap"] == {
        "mystore": "rtcsnap_mystore"
    }
    provider = files["rtcsnap_mystore/provider.py"]
    assert f'region_table = "{spec.region_table}"' in provider
    assert spec.example_region in files["tests/test_contract.py"]
    assert "RTCSNAP_DISABLE_PLUGINS=<its name>" in files["README.md"], "no installed provider was named"


class _Alpha(Provider):
    name = "alpha"
    scheme = "beta"
    storage_type = 2
    vendor = 1
    capabilities = Capabilities()
    options = MappingProxyType({})

    def storage_config(self, target: object) -> None:
        raise NotImplementedError

    def open(self, target: object) -> None:  # type: ignore[override]
        raise NotImplementedError


def test_check_free_and_served_by() -> None:
    entries = [ProviderEntry(_Alpha, "alpha-plugin", "rtcsnap-alpha", "1.0")]
    with pytest.raises(ConfigurationError, match=r"NAME 'alpha': already the name of the installed provider"):
        check_free(Spec.build("alpha"), entries)
    with pytest.raises(ConfigurationError, match=r"NAME 'beta': already the URL scheme .* \(rtcsnap-alpha\)"):
        check_free(Spec.build("beta"), entries)
    with pytest.raises(ConfigurationError, match="entry-point name of an installed rtcsnap plugin"):
        check_free(Spec.build("broken"), entries, ["broken"])
    check_free(Spec.build("gamma"), entries, ["broken"])
    assert served_by(Spec.build("gamma", storage_type=2, vendor=1), entries) is entries[0]
    assert served_by(Spec.build("gamma", storage_type=2, vendor=2), entries) is None
    assert served_by(Spec.build("gamma", storage_type=0), entries) is None


def _version() -> str:
    from rtcsnap import __version__

    return __version__
