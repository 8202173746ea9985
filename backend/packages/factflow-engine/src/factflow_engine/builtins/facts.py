"""Built-in ``extract_facts``: keep sentences that state checkable facts (rule-based)."""

from __future__ import annotations

import re
from typing import Any, Literal, TypeAlias

from factflow_protocols import Message, ProcessorContext
from pydantic import Field

from factflow_engine.builtins.payloads import MISSING, field_value, require_field
from factflow_engine.registry import ComponentOptions

__all__ = ["FACT_KINDS", "ExtractFacts", "find_facts"]

FactKind: TypeAlias = Literal["date", "email", "license", "number", "url", "version"]
FACT_KINDS: tuple[FactKind, ...] = ("date", "email", "license", "number", "url", "version")

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# Order matters: earlier kinds claim their text first, so "Apache-2.0" is a
# license (not a number) and "2024-01-31" a date (not three numbers).
_PATTERNS: tuple[tuple[FactKind, re.Pattern[str]], ...] = (
    ("url", re.compile(r"\bhttps?://[^\s<>()\"'\]\[]+[^\s<>()\"'\]\[.,;:!?]")),
    ("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    (
        "license",
        re.compile(
            r"\b(?:MIT(?: [Ll]icen[cs]e)?|Apache(?: [Ll]icen[cs]e)?(?:,? [Vv]ersion)?[- ]2\.0"
            r"|Apache [Ll]icen[cs]e|BSD(?:-[234]-Clause)?(?: [Ll]icen[cs]e)?"
            r"|(?:A|L)?GPL(?:-?v?[23](?:\.0)?)?(?:-or-later|-only|\+)?"
            r"|GNU (?:Affero |Lesser )?General Public [Ll]icen[cs]e"
            r"|MPL-2\.0|Mozilla Public [Ll]icen[cs]e|ISC(?: [Ll]icen[cs]e)?|Unlicense"
            r"|CC0(?:-1\.0)?|CC-BY(?:-SA)?(?:-\d\.\d)?|PSF(?:-2\.0)?"
            r"|Python Software Foundation [Ll]icen[cs]e|Zlib|EPL-[12]\.0"
            r"|Eclipse Public [Ll]icen[cs]e|BSL-1\.0|Boost Software [Ll]icen[cs]e)(?![\w-])"
        ),
    ),
    (
        "date",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}\b"
            rf"|\b{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}\.?,? \d{{4}}\b"
            rf"|\b{_MONTH} \d{{4}}\b"
            r"|(?<![\w.])(?:19|20)\d{2}(?!\w|\.\d)"
        ),
    ),
    (
        "version",
        re.compile(
            r"(?<![\w.])v?\d+\.\d+\.\d+(?:[-.+]?(?:a|b|rc|alpha|beta|dev|post)\d*)?(?!\w|\.\d)"
            r"|\b(?:[Vv]ersion|v)\s?\d+(?:\.\d+)+\b"
        ),
    ),
    ("number", re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*%?(?![\w]|\.\d)")),
)


_VERSION_WORD = re.compile(r"^(?:[Vv]ersion\s?|v)")


def find_facts(sentence: str) -> dict[FactKind, list[str]]:
    """What kinds of fact ``sentence`` holds and the matched text of each (deduplicated)."""
    found: dict[FactKind, list[str]] = {}
    remaining = sentence
    for kind, pattern in _PATTERNS:
        matches: list[str] = []
        for match in pattern.finditer(remaining):
            text = match.group(0)
            if kind == "version":
                text = _VERSION_WORD.sub("", text)
            if text not in matches:
                matches.append(text)
        if matches:
            found[kind] = matches
            # blank the claimed text (same length, so later offsets stay valid)
            remaining = pattern.sub(lambda m: " " * len(m.group(0)), remaining)
    return {kind: found[kind] for kind in FACT_KINDS if kind in found}


class ExtractFacts:
    """Passes on ``{"fact", "kinds", "matches", "source", "index"}`` for a sentence that
    contains a number, date, version (``1.2.3``), licence name, email or URL;
    returns ``None`` (filtered) for a sentence with none of them.

    ``kinds`` restricts which kinds count; ``source`` and ``index`` are copied
    from the input payload when present.
    """

    class Options(ComponentOptions):
        field: str = Field(default="sentence", description="Payload field holding the sentence.")
        kinds: list[FactKind] | None = Field(default=None, description="Only these kinds count.")

    def __init__(self, options: Options) -> None:
        self.options = options
        self._kinds = set(options.kinds) if options.kinds is not None else set(FACT_KINDS)

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        sentence = require_field(message.payload, self.options.field, "extract_facts")
        if not isinstance(sentence, str):
            raise ValueError(f"extract_facts: field {self.options.field!r} is not text")
        matches = {k: v for k, v in find_facts(sentence).items() if k in self._kinds}
        if not matches:
            return None
        source = field_value(message.payload, "source")
        index = field_value(message.payload, "index")
        return {
            "fact": sentence,
            "kinds": list(matches),
            "matches": matches,
            "source": None if source is MISSING else source,
            "index": None if index is MISSING else index,
        }
