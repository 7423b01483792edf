"""Upstream text made plain: HTML reduced with an allow-list sanitizer (nh3), nothing a reader could run.

Items carry plain text only (the SMS line and its details); every renderer escapes it for its format. Some
upstreams send HTML in descriptions (CAP texts, calendar DESCRIPTIONs, portal exports), and RSS readers
interpret a description as HTML, so markup is reduced to its text here, once, before anything is stored:
nh3 (the Rust ammonia sanitizer) with an empty tag allow-list keeps the text of harmless elements and drops
scripts, styles, comments and every attribute. Block ends become line breaks so paragraphs stay apart.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

# Upstream text is hostile: every pattern here runs in linear time. No two quantified parts can match the
# same characters (the spaces around an end tag's "/" are split by the "/", a tag's attributes stop at the
# next "<"), so a "<" followed by 100 000 spaces costs one pass, not 10^10 backtracking steps.
# A complete tag (browsers take "/" for a space: <svg/onload=...>), comment, CDATA section, doctype or
# processing instruction: markup to reduce.
MARKUP = re.compile(
    r"<\s*(?:/\s*)?[a-zA-Z][a-zA-Z0-9:-]*(?:[\s/][^<>]*)?>|<!--|<!\[CDATA\[|<!doctype|<\?",
    re.IGNORECASE,
)
# Whatever an HTML parser could still take for the start of a tag once the text is put into HTML.
TAG_START = re.compile(r"<(?=\s*(?:/\s*)?[a-zA-Z!?])")
BLOCK_END = re.compile(
    r"<\s*(?:br|hr)\b[^<>]*>|<\s*/\s*(?:p|div|li|tr|h[1-6]|blockquote|pre)\s*>", re.IGNORECASE
)
# Elements whose content is never text for a reader: dropped together with what they hold.
DROPPED_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "svg", "math", "title"}
MAX_ROUNDS = 3  # escaped markup inside markup ("&lt;script&gt;") is unwrapped at most this often
UNSAFE_URL_CHARS = re.compile(r"[<>\"`{}|\\^]")


def plain_text(value: str) -> str:
    """The text of a value that may hold HTML; plain text passes through (escaping is the renderer's job)."""
    text = value
    rounds = 0
    while MARKUP.search(text) and rounds < MAX_ROUNDS:
        text = BLOCK_END.sub("\n", text)
        text = html.unescape(nh3.clean(text, tags=set(), clean_content_tags=DROPPED_CONTENT))
        rounds += 1
    # A lone "<" before a letter (unclosed tag, or markup nested deeper than MAX_ROUNDS) is made harmless
    # without losing the text around it.
    return TAG_START.sub("\u2039", text)


def quote_unsafe(url: str) -> str:
    """A URL with the characters that may not appear in one (< > " ` { } | \\ ^) percent-encoded."""
    return UNSAFE_URL_CHARS.sub(lambda m: f"%{ord(m.group()):02X}", url)


def fold(text: str) -> str:
    """Lower-case, strip accents and umlauts and collapse spaces, for keyword matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain).strip()
