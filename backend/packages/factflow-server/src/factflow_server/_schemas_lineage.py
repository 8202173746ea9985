"""Response bodies of a message's ancestry and descendants."""

from __future__ import annotations

from pydantic import Field

from factflow_server._schemas import LineageRecordOut, _Response

__all__ = ["LineageAncestry", "LineageContinuation", "LineageDescendants", "LineageNodeOut"]


class LineageContinuation(_Response):
    """Where a chain goes on outside this execution (a replay's re-injected message)."""

    execution_id: str | None = Field(
        description="The execution this one replayed (null when it was deleted)."
    )
    message_id: str = Field(description="The parent message, recorded in that execution.")


class LineageAncestry(_Response):
    """``GET …/lineage/{message_id}/ancestry``: the chain of records from the root down."""

    execution_id: str = Field(description="The execution.")
    message_id: str = Field(description="The message asked about.")
    items: list[LineageRecordOut] = Field(
        description="Root first, the message last; each with its input payload."
    )
    continues: LineageContinuation | None = Field(
        description="Set when the first record's parent was recorded in another execution "
        "(the run this one replayed); null when the chain starts at a root."
    )


class LineageNodeOut(LineageRecordOut):
    """A descendant record and how many levels below the message it is."""

    depth: int = Field(description="1 for the message's children, 2 for grandchildren, …")


class LineageDescendants(_Response):
    """``GET …/lineage/{message_id}/descendants``: the message's subtree, bounded."""

    execution_id: str = Field(description="The execution.")
    message: LineageRecordOut = Field(description="The message's own record (the subtree's root).")
    items: list[LineageNodeOut] = Field(
        description="Descendants level by level (children first), in write order within a level."
    )
    truncated: bool = Field(
        description="True when the subtree has more than `items`: records deeper than "
        "`max_depth` or more than `limit` of them."
    )
    max_depth: int = Field(description="The depth bound applied.")
    limit: int = Field(description="The size bound applied.")
