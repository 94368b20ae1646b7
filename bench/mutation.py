"""Mutation check of the storage core: how many deliberate bugs the test suite catches.

    python3 -m uv run --frozen --group mutation python bench/mutation.py            # full run
    python3 -m uv run --frozen --group mutation python bench/mutation.py --count    # mutants only
    python3 -m uv run --frozen --group mutation python bench/mutation.py --sample 120 --keep
    python3 -m uv run --frozen --group mutation python bench/mutation.py --recheck SESSION.sqlite

`--recheck` re-runs the mutants that survived in an earlier session against today's tests (the
mutated modules must be unchanged since, so occurrences still point at the same code).

Why a copy: cosmic-ray mutates source files in place, so it runs on a copy of the working tree
(tracked and untracked files), with ``PYTHONPATH`` pointing the tests at the copy's packages
(the venv's editable install still points at the checkout). The checkout is never touched.

Operators: a comparison negated or its boundary moved, ``and``/``or``, ``True``/``False``,
``break``/``continue``, ``not`` added, an ``except`` made to catch nothing, a loop run zero times,
and the arithmetic pairs ``+``/``-``, ``*``/``/``. Left out: the other comparison swaps (``==`` to
``<`` etc.) and binary-operator swaps (``+`` to ``<<``), number replacement (chunk sizes, limits,
file modes: mostly equivalent) and decorator removal (crashes at import or equivalent) — they
would triple the run time while telling us little about missing tests.

The test command is the storage and provider tests (moto over HTTP, the in-memory provider,
the CLI), stopping at the first failure. Results go to `docs/mutation.md`'s table by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["core/rtcsnap/storage", "core/rtcsnap/providers", "core/rtcsnap/checksums.py"]
TESTS = [
    "tests/storage",
    "tests/s3provider/test_s3provider_contract.py",
    "tests/cli/test_cli_storage.py",
    "tests/cli/test_cli_storage_hardening.py",
    "tests/cli/test_cli_download_faults.py",
    "tests/plugins",
]
KEEP = (
    # a comparison negated, or its boundary moved: the bugs people write
    *(
        f"core/ReplaceComparisonOperator_{a}_{b}"
        for a, b in (
            ("Eq", "NotEq"),
            ("NotEq", "Eq"),
            ("Is", "IsNot"),
            ("IsNot", "Is"),
            ("In", "NotIn"),
            ("NotIn", "In"),
            ("Lt", "GtE"),
            ("GtE", "Lt"),
            ("Gt", "LtE"),
            ("LtE", "Gt"),
            ("Lt", "LtE"),
            ("LtE", "Lt"),
            ("Gt", "GtE"),
            ("GtE", "Gt"),
        )
    ),
    "core/ReplaceBinaryOperator_Add_Sub",
    "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_Mul_Div",
    "core/ReplaceBinaryOperator_Div_Mul",
    "core/ReplaceTrueWithFalse",
    "core/ReplaceFalseWithTrue",
    "core/ReplaceAndWithOr",
    "core/ReplaceOrWithAnd",
    "core/ReplaceBreakWithContinue",
    "core/ReplaceContinueWithBreak",
    "core/AddNot",
    "core/ExceptionReplacer",
    "core/ZeroIterationForLoop",
)


KEEP_SET = frozenset(KEEP)


def copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            (dest / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / os.fsdecode(name))


def config(work: Path, timeout: float) -> Path:
    pythonpath = f"{work / 'core'}{os.pathsep}{work / 'plugins' / 's3'}"
    command = (
        f"env PYTHONPATH={pythonpath} RTCSNAP_MUTATION=1 {sys.executable} -m pytest -x -q "
        f"-p no:cacheprovider -p no:randomly {' '.join(TESTS)}"
    )
    cfg = work / "cosmic-ray.toml"
    cfg.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(MODULES)}\n"
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    return cfg


def prune(session: Path, sample: int | None, seed: int) -> int:
    """Drop mutants of operators not in KEEP (and all but a sample, if asked); returns the count."""
    db = sqlite3.connect(session)
    rows = db.execute("SELECT job_id, operator_name FROM mutation_specs").fetchall()
    drop = [job for job, op in rows if op not in KEEP_SET]
    kept = [job for job, op in rows if op in KEEP_SET]
    if sample is not None and sample < len(kept):
        random.Random(seed).shuffle(kept)
        drop += kept[sample:]
        kept = kept[:sample]
    for table in ("mutation_specs", "work_items"):
        db.executemany(f"DELETE FROM {table} WHERE job_id = ?", [(j,) for j in drop])
    db.commit()
    db.close()
    return len(kept)


def recheck(cr: Path, old_session: Path, work: Path, timeout: float) -> int:
    """Apply each survivor of `old_session` to a fresh copy and run today's tests against it."""
    db = sqlite3.connect(old_session)
    survivors = db.execute(
        "SELECT s.module_path, s.operator_name, s.occurrence FROM mutation_specs s "
        "JOIN work_results r ON r.job_id = s.job_id WHERE r.test_outcome = 'SURVIVED'"
    ).fetchall()
    db.close()
    command = json.loads(config(work, timeout).read_text().split("test-command = ", 1)[1].split("\n", 1)[0])
    alive = 0
    for module, operator, occurrence in survivors:
        copy = work / "recheck"
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir()
        copy_tree(copy)
        cmd = command.replace(str(work), str(copy))
        out = subprocess.run(
            [str(cr), "mutate-and-test", module, operator, str(occurrence), cmd],
            cwd=copy,
            capture_output=True,
            text=True,
        ).stdout
        outcome = str(json.loads(out.strip().splitlines()[-1])["test_outcome"]).upper()
        alive += outcome == "SURVIVED"
        print(f"{outcome:9} {module} {operator} #{occurrence}")
    print(f"{len(survivors) - alive} of {len(survivors)} earlier survivors now killed")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", action="store_true", help="only count the mutants")
    ap.add_argument("--sample", type=int, help="run a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (printed)")
    ap.add_argument("--recheck", type=Path, help="re-run the survivors of this session file")
    args = ap.parse_args()
    cr = Path(sys.executable).with_name("cosmic-ray")
    if not cr.exists():
        print("cosmic-ray is not installed: run through `uv run --group mutation`", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="rtcsnap-mutation-"))
    try:
        if args.recheck is not None:
            return recheck(cr, args.recheck.resolve(), work, args.timeout)
        copy_tree(work)
        cfg = config(work, args.timeout)
        session = work / "session.sqlite"
        subprocess.run([str(cr), "init", str(cfg), str(session)], cwd=work, check=True)
        n = prune(session, args.sample, args.seed)
        print(f"{n} mutants over {', '.join(MODULES)}")
        if args.count:
            db = sqlite3.connect(session)
            for op, count in db.execute(
                "SELECT operator_name, COUNT(*) FROM mutation_specs GROUP BY operator_name ORDER BY 2 DESC"
            ):
                print(f"{count:5d} {op}")
            return 0
        started = time.monotonic()
        subprocess.run([str(cr), "exec", str(cfg), str(session)], cwd=work, check=True)
        minutes = (time.monotonic() - started) / 60
        report = subprocess.run(
            [str(Path(sys.executable).with_name("cr-report")), "--show-diff", "--show-pending", str(session)],
            cwd=work,
            capture_output=True,
            text=True,
        ).stdout
        blocks = re.split(r"(?m)^(?=\[job-id\])", report)
        for block in blocks:
            if "test outcome: TestOutcome.SURVIVED" in block:
                print(block.strip()[:2000], end="\n\n")
        tail = "\n".join(report.strip().splitlines()[-4:])
        print(tail)
        print(f"({minutes:.1f} min)")
        return 0
    finally:
        if args.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
