"""The files of a scaffolded provider distribution, from the plain templates beside this module.

Templates are `string.Template` files (``$name``, ``${cls}``): no template engine, and Python's
own braces pass through untouched. Rendering is pure (a path -> text mapping); `write` is the only
step that touches the disk, and it refuses to overwrite anything.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from string import Template

from rtcsnap import __version__
from rtcsnap.providers.manager import ProviderEntry
from rtcsnap.scaffold.spec import TYPES, Spec, check_directory

_TEMPLATES = files(__package__ or "rtcsnap.scaffold").joinpath("templates")

_MAIN_ACCOUNT = {
    0: {
        "sub_config": "tos_config",
        "bucket_field": "bucket",
        "sub_model": "TosConfig",
        "wire": "Bucket",
        "spec": "3.3.1",
    },
    3: {
        "sub_config": "ve_image_x_config",
        "bucket_field": "service_id",
        "sub_model": "VeImageXConfig",
        "wire": "ServiceId",
        "spec": "3.3.2",
    },
}
"""The Volcengine Types' sub-configs, as `MainAccountProvider` declares them (TOS, veImageX)."""
_TYPE2_IMPORTS: tuple[str, ...] = (
    "Body",
    "Capabilities",
    "ObjectInfo",
    "ObjectStream",
    "Page",
    "Session",
    "TargetField",
    "ThirdPartyProvider",
)
_MAIN_IMPORTS: tuple[str, ...] = (
    "ACCOUNT_ID",
    "Body",
    "Capabilities",
    "MainAccountProvider",
    "ObjectInfo",
    "ObjectStream",
    "Page",
    "Session",
    "TargetField",
)


def _template(name: str) -> Template:
    return Template(_TEMPLATES.joinpath(name).read_text(encoding="utf-8"))


def _wrap(text: str, indent: str = "") -> str:
    """`text` as lines of at most 96 characters, all but the first indented by `indent`."""
    return textwrap.fill(text, width=96, subsequent_indent=indent, break_on_hyphens=False)


def replaces_text(spec: Spec, served: ProviderEntry | None) -> str:
    """Why two providers cannot serve one (Type, Vendor), and what to do about the installed one."""
    rule = (
        "RTC names a storage by its StorageConfig Type (and Vendor), so rtcsnap loads one provider "
        "per (Type, Vendor): its provider manager refuses a second."
    )
    if served is not None:
        name, dist = served.provider.name, served.distribution or served.plugin
        return (
            f"{rule} The installed provider {name!r} ({dist}) serves {spec.kind} already: run rtcsnap "
            f"with RTCSNAP_DISABLE_PLUGINS={name} (or uninstall {dist}) to use {spec.name!r} instead."
        )
    return (
        f"{rule} No installed provider serves it now; if one is installed later, disable it with "
        "RTCSNAP_DISABLE_PLUGINS=<its name>."
    )


def values(spec: Spec, served: ProviderEntry | None = None) -> dict[str, str]:
    """Every placeholder the templates use."""
    cls = spec.class_prefix
    v: dict[str, str] = {
        "name": spec.name,
        "package": spec.package,
        "distribution": spec.distribution,
        "cls": cls,
        "title": cls,
        "env": spec.env_prefix,
        "kind": f"StorageConfig {spec.kind}",
        "storage_type": str(spec.storage_type),
        "type_name": TYPES[spec.storage_type],
        "vendor": str(spec.vendor),
        "region_table": spec.region_table,
        "example_region": spec.example_region,
        "rtcsnap_version": __version__,
        "flag": " --s3-compatible" if spec.s3_compatible else "",
        "target_options": "" if spec.storage_type == 2 else "&account_id=2100000000",
    }
    sdk = '"boto3>=1.35",' if spec.s3_compatible else '# the vendor\'s SDK, e.g. "vendor-sdk>=1.0",'
    v["dependencies"] = f'    "rtcsnap>={__version__}",\n    {sdk}'
    text = replaces_text(spec, served)
    v["replaces"] = _wrap(text)
    if spec.storage_type == 2:
        v["base"] = "ThirdPartyProvider"
        imports = _TYPE2_IMPORTS
        payload = (
            "``CustomConfig{Vendor, Region, Bucket, AccessKey, SecretKey}`` (spec §3.3.4), is built "
            "(and read back) by `ThirdPartyProvider` from `vendor` and `region_table`."
        )
        declarations = _template("decl_third_party.tmpl").substitute(v)
    else:
        main = _MAIN_ACCOUNT[spec.storage_type]
        v.update({k: main[k] for k in ("sub_config", "bucket_field", "sub_model")})
        v["base"] = "MainAccountProvider"
        imports = _MAIN_IMPORTS
        payload = (
            f"``{main['sub_model']}{{AccountId, {main['wire']}, Region}}`` (spec §{main['spec']}), is "
            "built (and read back) by `MainAccountProvider`: RTC writes with the main account's "
            "service authorization, no key. Credentials come from `credential_env`, then the "
            "Volcengine chain."
        )
        declarations = _template("decl_main_account.tmpl").substitute(v)
    v["class_doc"] = _wrap(
        f"What core, the CLI and the contract suite read about {cls}. The StartSnapshot payload, {payload}",
        "    ",
    )
    v["declarations"] = declarations.rstrip("\n")
    v["contract_imports"] = "\n".join(f"    {name}," for name in imports)
    if spec.s3_compatible:
        v["test_server"] = "a local S3 server (moto, over real HTTP) from rtcsnap.testing"
        v["develop"] = _wrap(
            f"Every primitive of `{cls}Session` in `{spec.package}/provider.py` is a stub raising "
            "NotImplementedError, with the boto3 call it needs in a comment: the suite fails exactly "
            "in the tests that reach one. Write them one by one (docs/providers.md of rtcsnap walks "
            "through each) until every test passes."
        )
    else:
        v["test_server"] = "a local server you provide (the `local_server` fixture)"
        v["develop"] = _wrap(
            "First give `tests/test_contract.py` a local server that speaks the vendor's protocol "
            "and checks its signatures (until then every contract test fails, saying so); then write "
            f"the primitives of `{cls}Session` in `{spec.package}/provider.py`, each a stub raising "
            "NotImplementedError, until every test passes (docs/providers.md of rtcsnap walks "
            "through each, with the shipped providers as examples)."
        )
    return v


def render(spec: Spec, served: ProviderEntry | None = None) -> dict[str, str]:
    """The distribution's files: relative POSIX path -> text."""
    v = values(spec, served)
    pkg = spec.package
    provider = "provider_s3.py.tmpl" if spec.s3_compatible else "provider.py.tmpl"
    tests = "test_contract_s3.py.tmpl" if spec.s3_compatible else "test_contract.py.tmpl"
    sources: Mapping[str, str] = {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{pkg}/__init__.py": "init.py.tmpl",
        f"{pkg}/provider.py": provider,
        "tests/conftest.py": "conftest.py.tmpl",
        "tests/test_contract.py": tests,
    }
    out = {path: _template(name).substitute(v) for path, name in sources.items()}
    out[f"{pkg}/py.typed"] = ""
    return out


def write(rendered: Mapping[str, str], directory: Path) -> list[Path]:
    """Write `rendered` under `directory` (new or empty); the paths written, in order."""
    check_directory(directory)
    written: list[Path] = []
    for rel, text in rendered.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:  # "x": never overwrite
            fh.write(text)
        written.append(path)
    return written


__all__ = ["render", "replaces_text", "values", "write"]
