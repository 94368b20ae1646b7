"""Named, ready-made text rules a config enables by name (``packs = ["contact"]``, or one rule of a
pack: ``packs = ["contact.phone"]``), fired as ``pack.<pack>.<rule>``.

``contact`` is the example pack: ways a stream advertises an off-platform contact. Its patterns
run on normalised text (`rtcsnap_moderation.normalise`: NFKC, casefold), so full-width digits and
colons (１３８, ：) arrive as ASCII, and letters in lower case. They are deliberately narrow:
a camera's date/time overlay (2024-05-01 12:30:45) must not read as a phone number.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple


class PackRule(NamedTuple):
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


_DOMAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLDS = "com|net|org|cn|io|me|cc|co|top|xyz|vip|app|info|tv|club|site|online|shop|link"

CONTACT: dict[str, PackRule] = {
    "phone": PackRule(
        patterns=(
            # mainland China mobile, optional +86, digits optionally grouped by spaces or hyphens
            r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}(?![0-9])",
            # international: a leading + and country code, 8-15 digits in all
            r"(?<![0-9+])\+[1-9][0-9]{0,2}(?:[ -]?[0-9]){7,12}(?![0-9])",
            # mainland China landline with its area code: 010-12345678, 0755-1234567
            r"(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])",
            # North American: (415) 555-0123, 415-555-0123
            r"(?<![0-9])\(?[2-9][0-9]{2}\)?[ -][0-9]{3}-[0-9]{4}(?![0-9])",
        )
    ),
    "wechat": PackRule(
        patterns=(
            # a WeChat marker, then an id: 6-20 characters, a letter first (WeChat's own rule)
            r"(?:微信|威信|薇信|v信|wechat|weixin|(?<![a-z])vx|(?<![a-z])wx)\s*(?:号|id)?\s*[:=]?\s*[a-z][-_a-z0-9]{5,19}(?![-_a-z0-9])",
        )
    ),
    "url": PackRule(
        patterns=(
            r"(?:https?://|www\.)[^\s]+",
            rf"(?<![a-z0-9.@-]){_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*\.(?:{_TLDS})(?![a-z0-9-])(?:/[^\s]*)?",
        )
    ),
}

PACKS: MappingProxyType[str, dict[str, PackRule]] = MappingProxyType({"contact": CONTACT})
"""Every pack by name; each pack maps rule names to their keywords and patterns."""


def pack_names() -> list[str]:
    """What ``packs = [...]`` accepts: each pack, and each rule of a pack as ``pack.rule``."""
    return sorted([*PACKS, *(f"{pack}.{rule}" for pack, rules in PACKS.items() for rule in rules)])


def expand(name: str) -> dict[str, PackRule]:
    """The rules enabled by `name`, keyed ``pack.<pack>.<rule>``; KeyError when unknown."""
    pack, _, rule = name.partition(".")
    rules = PACKS[pack]
    if rule:
        return {f"pack.{name}": rules[rule]}
    return {f"pack.{pack}.{r}": value for r, value in rules.items()}


__all__ = ["CONTACT", "PACKS", "PackRule", "expand", "pack_names"]
