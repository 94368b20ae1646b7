"""One normal form for OCR text and keywords, so a rule matches however the text was written.

``normalise``: Unicode NFKC (full-width ＡＢＣ and １２３ become abc-width ASCII, the ideographic
space a space, compatibility ligatures and circled digits plain), then ``casefold`` (more thorough
than ``lower``: ß → ss), then every run of whitespace one space. Keywords get the same treatment,
so a keyword written full-width matches half-width text and the other way round.

``keyword_pattern`` turns a normalised keyword into a regular expression that tolerates what OCR
does to text: a space in the keyword matches any whitespace or none ("buy guns" matches
"BUYGUNS" and "buy  guns"), and OCR may put a space between two CJK characters ("赌 博").
A keyword that begins or ends with a Latin letter or digit matches only at a word edge there
(ASCII letters and digits), so "gun" does not fire inside "begun"; CJK has no word edges.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_ASCII_WORD = re.compile(r"[a-z0-9]")


def normalise(text: str) -> str:
    """NFKC, casefold, whitespace runs collapsed to one space, ends stripped."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _is_cjk(char: str) -> bool:
    """Ideographs, kana and hangul: scripts written without spaces between words."""
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL"))


def keyword_pattern(keyword: str, *, whole_words: bool = True) -> str:
    """The regular expression (for normalised text) matching the (already normalised) `keyword`;
    without `whole_words`, no word-edge checks."""
    parts: list[str] = []
    previous = ""
    for char in keyword:
        if char == " ":
            if parts and parts[-1] != r"\s*":
                parts.append(r"\s*")
            previous = char
            continue
        if previous and _is_cjk(previous) and _is_cjk(char):
            parts.append(r"\s?")
        parts.append(re.escape(char))
        previous = char
    body = "".join(parts)
    if whole_words and _ASCII_WORD.fullmatch(keyword[:1]):
        body = r"(?<![a-z0-9])" + body
    if whole_words and _ASCII_WORD.fullmatch(keyword[-1:]):
        body += r"(?![a-z0-9])"
    return body


__all__ = ["keyword_pattern", "normalise"]
