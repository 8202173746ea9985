"""Rule-based sentence splitting for prose, Markdown and RFC 822-style metadata."""

from __future__ import annotations

import re

__all__ = ["split_into_sentences"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_BLOCK_START = re.compile(
    r"^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*|\d{1,3}[.)]\s+|\|)|^[A-Z][A-Za-z0-9-]*:\s"
)
_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*|\d{1,3}[.)]\s+)")
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")
_NEXT_START = re.compile(r"[A-Z0-9\"'(\[]")
_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "al",
        "approx",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "no",
        "fig",
        "eq",
        "inc",
        "ltd",
        "jr",
        "sr",
    ]
)


def split_into_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, whitespace collapsed.

    Blank lines, Markdown headings, list items, quotes, table rows and
    ``Key: value`` header lines start new segments; wrapped prose lines are
    joined.  Fenced code blocks are skipped.  Within a segment a sentence ends
    at ``.``, ``!`` or ``?`` followed by space and a capital, digit or quote,
    unless the word before is a common abbreviation or a single initial.
    """
    sentences: list[str] = []
    for segment in _segments(text):
        sentences.extend(_split_segment(segment))
    return sentences


def _segments(text: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    in_fence = False

    def close() -> None:
        if current:
            segments.append(" ".join(current))
            current.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            close()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if not line.strip():
            close()
            continue
        if _BLOCK_START.match(line):
            close()
            line = _MARKER.sub("", line, count=1).strip("| ")
        current.append(line.strip())
    close()
    return segments


def _split_segment(segment: str) -> list[str]:
    segment = " ".join(segment.split())
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(segment):
        end = match.end()
        if end >= len(segment) or not _NEXT_START.match(segment, end):
            continue
        if _is_abbreviation(segment, match.start()):
            continue
        piece = segment[start : match.end()].strip()
        if piece:
            out.append(piece)
        start = end
    tail = segment[start:].strip()
    if tail:
        out.append(tail)
    return out


def _is_abbreviation(segment: str, dot: int) -> bool:
    if segment[dot] != ".":
        return False
    word_start = dot
    while word_start > 0 and not segment[word_start - 1].isspace():
        word_start -= 1
    word = segment[word_start:dot].strip("(\"'[").lower()
    if len(word) == 1 and word.isalpha():
        return True  # an initial such as "J. Smith"
    return word in _ABBREVIATIONS
