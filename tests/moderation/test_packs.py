"""The contact pattern pack and text evaluation on given findings (no model): what matches, what
must not, and that OCR text is normalised before matching."""

from __future__ import annotations

import pytest
from rtcsnap_moderation import Box, Finding, ModerationRules, TextLine
from rtcsnap_moderation.evaluate import evaluate


def fired(lines: list[str], packs: list[str] | None = None, **rule: object) -> list[str]:
    data: dict[str, object] = {"packs": packs or []}
    if rule:
        data["text"] = [{"name": "r", **rule}]
    applied = ModerationRules.model_validate(data).for_app(None)
    finding = Finding(detector="text", text=tuple(TextLine(text=t, score=0.9) for t in lines))
    return [h.rule for h in evaluate([finding], applied)]


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "call 138-0013-8000",
        "+86 138 0013 8000",
        "Tel：１３８００１３８０００",  # full-width digits and colon, as some overlays render them
        "+44 20 7946 0958",
        "010-12345678",
        "(415) 555-0123",
    ],
)
def test_phone_numbers_match(text: str) -> None:
    assert fired([text], ["contact.phone"]) == ["pack.contact.phone"]


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01 12:30:45",
        "2024-05-0112:30:45",
        "room 12345678",
        "1280x720 30fps",
        "ID 23800138000",
        "v1.13.800",
    ],
)
def test_timestamps_and_other_numbers_do_not(text: str) -> None:
    assert fired([text], ["contact.phone"]) == []


@pytest.mark.parametrize(
    "text", ["加微信：abc_12345", "WeChat ID: Lucky-Star88", "vx: kefu2024", "威信 abcdef"]
)
def test_wechat_ids_match(text: str) -> None:
    assert fired([text], ["contact.wechat"]) == ["pack.contact.wechat"]


@pytest.mark.parametrize("text", ["微信支付", "wechat", "wx: 12345678", "vx: abc"])
def test_wechat_mentions_without_an_id_do_not(text: str) -> None:
    assert fired([text], ["contact.wechat"]) == []


@pytest.mark.parametrize(
    "text", ["https://t.me/x", "www.example.com", "Visit SHOP.EXAMPLE.CN now", "ｅｘａｍｐｌｅ．ｃｏｍ"]
)
def test_urls_match(text: str) -> None:
    assert fired([text], ["contact.url"]) == ["pack.contact.url"]


@pytest.mark.parametrize("text", ["e.g. this", "version 1.2.3", "file.txt", "me@local"])
def test_non_urls_do_not(text: str) -> None:
    assert fired([text], ["contact.url"]) == []


def test_the_whole_pack_enables_each_rule_once() -> None:
    assert fired(["13800138000 www.x.com 微信: abcdefg"], ["contact", "contact.phone"]) == [
        "pack.contact.phone",
        "pack.contact.wechat",
        "pack.contact.url",
    ]


def test_ocr_text_is_normalised_before_matching() -> None:
    assert fired(["ＢＵＹ　ＧＵＮＳ"], keywords=["buy guns"]) == ["text.r"]
    assert fired(["Buy", "Guns"], keywords=["BUY GUNS"]) == ["text.r"]  # split across OCR boxes


def test_whole_words_off_matches_run_together_text() -> None:
    assert fired(["CALLBUYGUNSNOW"], keywords=["buy guns"]) == []
    assert fired(["CALLBUYGUNSNOW"], keywords=["buy guns"], whole_words=False) == ["text.r"]


def test_a_hit_spanning_two_lines_gets_the_box_around_both() -> None:
    applied = ModerationRules.model_validate(
        {"text": [{"name": "w", "keywords": ["buy guns here"]}]}
    ).for_app(None)
    finding = Finding(
        detector="text",
        text=(
            TextLine(text="BUY GUNS", score=0.9, box=Box(x=10, y=10, w=100, h=20)),
            TextLine(text="HERE", score=0.9, box=Box(x=120, y=12, w=40, h=20)),
            TextLine(text="ELSEWHERE", score=0.9, box=Box(x=0, y=300, w=90, h=20)),
        ),
    )
    (hit,) = evaluate([finding], applied)
    assert hit.box == Box(x=10, y=10, w=150, h=22) and hit.matched == "buy guns here"


def test_an_errored_finding_is_not_judged() -> None:
    applied = ModerationRules.model_validate({"text": [{"name": "w", "keywords": ["x"]}]}).for_app(None)
    assert evaluate([Finding.failed("text", "RuntimeError: boom")], applied) == []
