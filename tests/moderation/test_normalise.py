"""Text normal form and keyword matching: width-, case- and OCR-spacing-insensitive."""

from __future__ import annotations

import re

from rtcsnap_moderation.normalise import keyword_pattern, normalise


def matches(keyword: str, text: str) -> bool:
    return re.search(keyword_pattern(normalise(keyword)), normalise(text)) is not None


def test_full_width_letters_digits_and_spaces_become_ascii() -> None:
    assert normalise("ＢＵＹ　ＧＵＮＳ　１２３") == "buy guns 123"


def test_casefold_is_more_than_lower() -> None:
    assert normalise("STRASSE") == normalise("straße") == "strasse"


def test_whitespace_runs_collapse() -> None:
    assert normalise("  buy \t\n guns  ") == "buy guns"


def test_full_width_keyword_matches_ascii_text_and_back() -> None:
    assert matches("ＢＵＹ ＧＵＮＳ", "buy guns here")
    assert matches("buy guns", "ＢＵＹ　ＧＵＮＳ　ＨＥＲＥ")
    assert matches("Buy Guns", "BUY GUNS")


def test_space_in_keyword_matches_none_or_many() -> None:
    assert matches("buy guns", "BUYGUNS NOW")
    assert matches("buy guns", "buy    guns")
    assert not matches("buy guns", "buy more guns")


def test_latin_keyword_matches_only_at_word_edges() -> None:
    assert matches("gun", "a gun shop")
    assert not matches("gun", "it has begun")
    assert not matches("gun", "gunther")
    assert matches("gun", "枪gun")  # CJK next to Latin is an edge


def test_cjk_keyword_tolerates_ocr_spacing_and_is_a_substring_match() -> None:
    assert matches("赌博", "网上赌博平台")
    assert matches("赌博", "赌 博")
    assert not matches("赌博", "赌钱博彩")
