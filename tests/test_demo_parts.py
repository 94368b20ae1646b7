"""Two parts of the demo on their own: the plugins' demo tables (`plugin_sections`) and the
report's verdict marks (`write_report`), each checked on what it produces."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rtcsnap.demo.report import path_key, reasons, write_report
from rtcsnap.demo.services import plugin_sections
from rtcsnap.hookspecs import hookimpl
from rtcsnap.providers.manager import PluginLoadWarning, ProviderManager


class Tables:
    def __init__(self, name: str, answer: Any) -> None:
        self.__name__ = name
        self.answer = answer

    @hookimpl
    def rtcsnap_demo_sections(self) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_demo_tables_are_merged_first_answer_wins_and_bad_answers_are_skipped() -> None:
    """Each bad answer is reported as the manager reports any plugin's failure (its `errors`, one
    warning each)."""
    mgr = ProviderManager()  # no entry points: only these plugins
    plugins = [
        Tables("a", {"moderation": {"packs": ["contact"]}}),
        Tables("b", {"moderation": {"packs": ["other"]}, "thumbs": {"size": 64}}),
        Tables("c", None),
        Tables("d", ["not", "a", "dict"]),
        Tables("e", RuntimeError("boom")),
    ]
    for plugin in plugins:
        mgr.add_plugin(plugin, plugin.__name__)
    with pytest.warns(PluginLoadWarning):
        merged = plugin_sections(mgr)
    assert len(merged) == 2 and merged["thumbs"] == {"size": 64}
    # pluggy calls the last registered first: whichever answered first keeps its table
    assert merged["moderation"]["packs"] in (["contact"], ["other"])
    text = "\n".join(str(e) for e in mgr.errors)
    assert "[plugins.moderation] already given" in text
    assert (
        "plugin 'd': rtcsnap_demo_sections: not a dict" in text
        and "plugin 'e': rtcsnap_demo_sections failed: RuntimeError: boom" in text
    )
    assert len(mgr.errors) == 3


def row(n: int, user: str, stream_type: int) -> dict[str, Any]:
    return {
        "id": n,
        "event_id": f"ev{n}",
        "object_key": f"app/room/task/{user}_{stream_type}_{n}.jpg",
        "user_id": user,
        "stream_type": stream_type,
        "timestamp_ms": 1_700_000_000_000 + n * 1000,
        "width": 640,
        "height": 360,
        "size": 100,
    }


def verdict(n: int, source: str, **fields: Any) -> dict[str, Any]:
    base = {"snapshot_id": n, "source": source, "status": "ok", "flagged": False, "fired": [], "labels": []}
    return {**base, **fields}


class Marks(HTMLParser):
    """(figure id, class, verdict lines) per figure, and the flagged list's items."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        self.listed: list[str] = []
        self._figure: str | None = None
        self._capture: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "figure":
            self._figure = a.get("id", "")
            self.figures[self._figure] = (a.get("class", ""), [])
        elif tag == "p" and "verdict" in a.get("class", ""):
            self._capture = (a["class"], [])
        elif tag == "li":
            self._capture = ("li", [])

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None
        elif tag in ("p", "li") and self._capture is not None:
            kind, parts = self._capture
            self._capture = None
            if kind == "li":
                self.listed.append("".join(parts))
            elif self._figure is not None:
                self.figures[self._figure][1].append((kind, "".join(parts)))


def test_the_report_marks_each_verdict_on_its_image(tmp_path: Path) -> None:
    rows = [row(1, "alice", 0), row(2, "bob", 1), row(3, "bob", 1), row(4, "carol", 0)]
    verdicts = {
        1: [verdict(1, "moderation")],
        2: [
            verdict(
                2,
                "moderation",
                flagged=True,
                fired=["pack.contact.wechat"],
                labels=["pack.contact.wechat"],
                reason="pack.contact.wechat (wechat: abc123)",
            ),
            verdict(2, "thumbs"),
        ],
        3: [
            verdict(
                3, "moderation", flagged=True, fired=["nudity"], labels=["FEMALE_BREAST_EXPOSED", "nudity"]
            )
        ],
        4: [verdict(4, "moderation", status="error", error="text: model crashed")],
    }
    out = write_report(
        tmp_path / "index.html",
        title="t",
        rows=rows,
        paths={path_key(r): f"images/{r['id']}.jpg" for r in rows},
        facts=[],
        counts={},
        sheet=None,
        verdicts=verdicts,
    )
    page = Marks()
    page.feed(out.read_text())
    assert page.figures == {
        "snap-1": ("", [("verdict", "moderation: not flagged")]),
        "snap-2": (
            "flagged",
            [
                ("verdict flagged", "flagged moderation: pack.contact.wechat (wechat: abc123)"),
                ("verdict", "thumbs: not flagged"),
            ],
        ),
        "snap-3": (
            "flagged",
            [("verdict flagged", "flagged moderation: nudity; labels: FEMALE_BREAST_EXPOSED")],
        ),
        "snap-4": ("", [("verdict error", "moderation: error: text: model crashed")]),
    }
    assert [item.split(" · ", 1)[1] for item in page.listed] == [
        "bob · screen share — moderation: pack.contact.wechat (wechat: abc123)",
        "bob · screen share — moderation: nudity; labels: FEMALE_BREAST_EXPOSED",
    ]
    assert reasons({"fired": [], "labels": []}) == "no rule named"


def test_without_verdicts_the_report_marks_nothing(tmp_path: Path) -> None:
    rows = [row(1, "alice", 0)]
    out = write_report(
        tmp_path / "index.html", title="t", rows=rows, paths={path_key(rows[0]): "a.jpg"}, facts=[], counts={},
        sheet=None,
    )  # fmt: skip
    page = Marks()
    page.feed(out.read_text())
    assert page.figures == {"snap-1": ("", [])} and page.listed == []
