"""Deterministic message ids, and the plan a resumed run follows.

Every message id is derived, never random: a root from its run's
*namespace*, source route and position in the adapter's output; a child from
its parent's id, its index among the parent's outputs and its target route
(UUIDv5, ``factflow_foundation.derived_id``).  So a run that regenerates part
of a pipeline - a resume re-running an adapter, or a parent whose outputs
were lost - gives every message the id it had the first time, and
"was this message already recorded?" is a lookup by id.

A ``ResumePlan`` tells an orchestrator how to finish an earlier run: which
namespace its roots belong to (the first run's id), whether the adapters run
again (skipping what ``known`` names), which unfinished messages to process,
and which settled ones to run again only to rebuild lost outputs (their
processors are invoked a second time; they are not recorded again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from factflow_foundation import derived_id
from factflow_protocols import Message

__all__ = [
    "REGENERATE_HEADER",
    "ResumePlan",
    "child_message_id",
    "root_message_id",
]

#: Header marking a message that settled before and runs again only to rebuild its outputs.
REGENERATE_HEADER = "x-factflow-regenerate"


def root_message_id(namespace: str, route: str, position: int) -> str:
    """The id of the ``position``-th (0-based) payload an adapter yields at ``route``."""
    return derived_id(namespace, f"{route}#{position}")


def child_message_id(parent_id: str, index: int, target: str) -> str:
    """The id of output ``index`` (0-based) of message ``parent_id``, sent to ``target``."""
    return derived_id(parent_id, f"{index}>{target}")


def _nothing_known(message_id: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ResumePlan:
    """How a run continues an earlier one (see the module docstring).

    Attributes:
        namespace: the id root message ids derive from (the first run's id).
        run_adapters: run the source adapters again; a root whose id is
            ``known`` is skipped (it was recorded, or is among ``messages``).
        messages: unfinished messages to process, ids kept.
        regenerate: messages that settled earlier but whose outputs were lost;
            their processor chains run again and the outputs not ``known`` go on.
            They are not recorded again.
        known: whether a message id was recorded in the earlier runs or is
            queued by this plan; such a message is never created again.
        leftover_queues: ``(execution id, queue names)`` of earlier runs whose
            durable (broker) queues the plan took ``messages`` from; the
            orchestrator deletes them once this run's lineage is durable (every
            one of them is recorded by then: settled, or ``cancelled`` for the
            next resume).
    """

    namespace: str
    run_adapters: bool = True
    messages: Sequence[Message] = ()
    regenerate: Sequence[Message] = ()
    known: Callable[[str], bool] = _nothing_known
    leftover_queues: Sequence[tuple[str, Sequence[str]]] = ()
