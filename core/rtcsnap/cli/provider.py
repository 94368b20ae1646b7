"""`rtcsnap provider new`: scaffold a storage provider plugin distribution.

(`rtcsnap providers`, in cli/storage.py, lists the installed ones.)
"""

from __future__ import annotations

import json
import shlex
from importlib.metadata import entry_points
from pathlib import Path

import click

from rtcsnap.cli.app import app, manager
from rtcsnap.cli.helptext import examples
from rtcsnap.providers.manager import GROUP
from rtcsnap.scaffold import STUBBED, Spec, check_directory, check_free, scaffold, served_by


@app.group("provider", epilog=examples("rtcsnap provider new minio --s3-compatible"))
def provider_group() -> None:
    """Write your own storage provider (`rtcsnap providers` lists the installed ones)."""


@provider_group.command(
    "new",
    epilog=examples(
        "rtcsnap provider new minio --s3-compatible",
        "rtcsnap provider new azure --dir ./rtcsnap-azure",
        "rtcsnap provider new mytos --type 0 --json",
    ),
)
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write the distribution (new or empty) [default: ./rtcsnap-NAME].",
)
@click.option(
    "--s3-compatible",
    is_flag=True,
    help="Over boto3, with the client already built and tests against rtcsnap's local S3 server (moto).",
)
@click.option(
    "--type",
    "storage_type",
    type=click.Choice(["0", "2", "3"]),
    default=None,
    help="StorageConfig.Type served: 0 TOS, 2 third-party (CustomConfig), 3 veImageX [default: 2].",
)
@click.option(
    "--vendor",
    type=int,
    default=None,
    help="CustomConfig.Vendor for Type 2: 0 S3, 1 OSS, 2 OBS, 3 COS, 4 Kodo [default: 0].",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def new_cmd(
    name: str,
    directory: Path | None,
    s3_compatible: bool,
    storage_type: str | None,
    vendor: int | None,
    as_json: bool,
) -> None:
    """Scaffold the provider NAME: package rtcsnap_NAME, distribution rtcsnap-NAME, URL scheme NAME://.

    The generated tests run rtcsnap's provider contract suite and fail only where a primitive is
    still a stub; docs/providers.md walks through filling each one.
    """
    spec = Spec.build(
        name,
        storage_type=None if storage_type is None else int(storage_type),
        vendor=vendor,
        s3_compatible=s3_compatible,
    )
    entries = manager().entries()
    check_free(spec, entries, (ep.name for ep in entry_points(group=GROUP)))
    target = directory if directory is not None else Path(f"rtcsnap-{spec.name}")
    check_directory(target)
    served = served_by(spec, entries)
    written = scaffold(spec, target, served)
    rel = [p.relative_to(target).as_posix() for p in written]
    steps = [
        f"cd {shlex.quote(str(target))}",
        "uv pip install -e '.[test]'   # or: pip install -e '.[test]'",
        "python -m pytest",
    ]
    if as_json:
        print(
            json.dumps(
                {
                    "name": spec.name,
                    "package": spec.package,
                    "distribution": spec.distribution,
                    "storage_type": spec.storage_type,
                    "vendor": spec.vendor,
                    "s3_compatible": spec.s3_compatible,
                    "dir": str(target),
                    "files": rel,
                    "stubs": list(STUBBED),
                    "replaces": None if served is None else served.provider.name,
                    "next": steps,
                },
                indent=2,
            )
        )
        return
    print(f"scaffolded provider {spec.name!r} ({spec.kind}) in {target}:")
    for path in rel:
        print(f"  {path}")
    if served is not None:
        print(
            f"note: the installed provider {served.provider.name!r} serves {spec.kind} already; "
            f"once yours is installed, run with RTCSNAP_DISABLE_PLUGINS={served.provider.name}"
        )
    print("next:")
    for step in steps:
        print(f"  {step}")
    what = (
        "fails only where"
        if spec.s3_compatible
        else "needs a local server (tests/test_contract.py); then fails where"
    )
    print(
        f"the contract suite {what} a primitive of {spec.package}/provider.py is still a stub "
        "(raise NotImplementedError); docs/providers.md walks through each"
    )
