"""docs/api.md documents every operation the server serves, each under its own
heading (``### `METHOD /path` — …``) with an example in a code block.  Path
parameter names may differ between the document and the docs (``{id}`` reads
better than ``{execution_id}``); a heading may name a sibling operation as
``and `…/suffix```."""

from __future__ import annotations

import re
from pathlib import Path

from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import create_app

DOCS = Path(__file__).resolve().parents[4] / "docs" / "api.md"
API_PREFIX = "/api/v1"
HEADING = re.compile(r"^### (.*)$", re.MULTILINE)
OPERATION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
SIBLING = re.compile(r"and `…(/[^`\s]*)`")


def _shape(path: str) -> str:
    """A path with its parameters' names dropped: ``/executions/{}/dag``."""
    return re.sub(r"\{[^}]*\}", "{}", path.removeprefix(API_PREFIX))


def _documented() -> dict[tuple[str, str], str]:
    """``(method, path shape)`` → the text of the section that documents it."""
    text = DOCS.read_text(encoding="utf-8")
    headings = list(HEADING.finditer(text))
    sections: dict[tuple[str, str], str] = {}
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        body = text[heading.end() : end]
        for match in OPERATION.finditer(heading.group(1)):
            method, path = match.group(1), _shape(match.group(2))
            sections[(method, path)] = body
            for sibling in SIBLING.finditer(heading.group(1)):
                parent = path.rsplit("/", 1)[0]
                sections[(method, parent + sibling.group(1))] = body
    return sections


def test_every_operation_has_a_section_with_an_example(
    settings: FactFlowSettings, service: ExecutionService
) -> None:
    paths = create_app(settings, service=service).openapi()["paths"]
    served = {(method.upper(), _shape(path)) for path, item in paths.items() for method in item}
    assert served, "the OpenAPI document lists no operations"
    documented = _documented()
    missing = sorted(f"{m} {p}" for m, p in served - documented.keys())
    assert not missing, f"docs/api.md has no section for: {missing}"
    without_example = sorted(f"{m} {p}" for m, p in served if "```" not in documented[(m, p)])
    assert not without_example, f"docs/api.md sections without an example: {without_example}"
    stale = sorted(f"{m} {p}" for m, p in documented.keys() - served)
    assert not stale, f"docs/api.md documents operations the server does not serve: {stale}"
