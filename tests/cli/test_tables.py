"""Issue 11 §2: tables (verify, snapshots list, emulator room list) are never cut. Piped, each row is
one line at its natural width with no padding; on a terminal, long cells fold at its width."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rtcsnap.cli.storage import print_table

REQUEST_ID = "RequestId=20261202173500" + "ABCDEF0123456789" * 14  # longer than any terminal


def table() -> Table:
    t = Table(box=None, pad_edge=False)
    for col in ("capability", "status", "detail"):
        t.add_column(col)
    t.add_row("reachable", "ok", "")
    t.add_row("write", "failed", f"AccessDenied {REQUEST_ID}")
    return t


def test_piped_rows_are_whole_lines_without_padding() -> None:
    sink = io.StringIO()
    print_table(table(), Console(file=sink, force_terminal=False, width=80))
    lines = sink.getvalue().splitlines()
    assert len(lines) == 3 and REQUEST_ID in lines[2]  # one line, the id whole
    assert all(line == line.rstrip() for line in lines)  # no padding to any width
    assert len(lines[1]) < 40


def test_on_a_terminal_long_cells_fold_and_are_never_cut() -> None:
    sink = io.StringIO()
    print_table(table(), Console(file=sink, force_terminal=True, width=60, color_system=None))
    text = sink.getvalue()
    assert all(len(line) <= 60 for line in text.splitlines())
    assert "…" not in text
    detail = "".join(line.split("failed", 1)[-1].strip() for line in text.splitlines()[2:])
    assert REQUEST_ID in detail.replace(" ", "")
