"""``ApiClient``: the REST contract of ``/api/v1`` as plain methods.

Answers come back as the decoded JSON (``dict``/``list``) the server sent, so
``--output json`` can print them unchanged; failures are ``CliError``\\ s (see
``_transport``).  Paged listings return one page (``{items, next_…}``);
``_paging`` walks them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from factflow_cli._sse import ServerSentEvent
from factflow_cli._transport import (
    TERMINAL_STATUSES,
    HttpTransport,
    Params,
    as_items,
    as_object,
    decode,
    is_terminal_event,
    key_path,
    segment,
)

__all__ = ["TERMINAL_STATUSES", "ApiClient", "StoredBytes", "is_terminal_event"]

MAX_WAIT_SECONDS = 300  # the server's long-poll ceiling


@dataclass(frozen=True)
class StoredBytes:
    """One stored object as downloaded: its bytes (``None`` when the copy the
    caller has is current: 304) and its ETag."""

    data: bytes | None
    etag: str | None

    @property
    def not_modified(self) -> bool:
        return self.data is None


class ApiClient(HttpTransport):
    """A client of one FactFlow server.  Use as a context manager (or ``close()``)."""

    # -- health --------------------------------------------------------------

    def healthz(self) -> Any:
        return self.get_json(f"{self.server_url}/healthz")

    # -- configs -------------------------------------------------------------

    def apply_config(self, text: str, *, content_type: str) -> dict[str, Any]:
        """``{config, created}``: a new version, or the unchanged latest one."""
        return as_object(
            self.post_json(
                "/configs",
                content=text.encode("utf-8"),
                headers={"Content-Type": content_type},
            )
        )

    def validate_config(self, text: str, *, content_type: str) -> dict[str, Any]:
        """What applying a config would do, nothing stored: ``{valid, name,
        latest_version, changed, …}``; an invalid one is the 422 ``invalid-config``
        problem a save answers (``ProblemError`` with its issues)."""
        return as_object(
            self.post_json(
                "/configs/validate",
                content=text.encode("utf-8"),
                headers={"Content-Type": content_type},
            )
        )

    def list_configs(self, *, include_archived: bool = False) -> dict[str, Any]:
        return as_object(
            self.get_json("/configs", params={"include_archived": include_archived or None})
        )

    def get_config(self, name: str, version: int | None = None) -> dict[str, Any]:
        return as_object(self.get_json(f"/configs/{segment(name)}", params={"version": version}))

    def config_versions(self, name: str) -> list[dict[str, Any]]:
        return as_items(self.get_json(f"/configs/{segment(name)}/versions"))

    def archive_config(self, name: str) -> list[dict[str, Any]]:
        return as_items(self.post_json(f"/configs/{segment(name)}/archive"))

    def run_config(
        self,
        name: str,
        *,
        params: Mapping[str, Any],
        version: int | None = None,
        labels: Mapping[str, str] | None = None,
        source: str = "cli",
        queue: bool = True,
        priority: int = 0,
    ) -> dict[str, Any]:
        """Start a run, or queue it (``queue=False``: the server refuses with 503)."""
        body = {
            "params": dict(params),
            "version": version,
            "labels": dict(labels or {}),
            "source": source,
            "priority": priority,
        }
        query = None if queue else {"queue": "false"}
        return as_object(self.post_json(f"/configs/{segment(name)}/run", body, params=query))

    def get_limit(self, name: str) -> dict[str, Any]:
        return as_object(self.get_json(f"/configs/{segment(name)}/limit"))

    def set_limit(self, name: str, max_running: int | None) -> dict[str, Any]:
        """Set (an int) or remove (None) a config's concurrency limit."""
        path = f"/configs/{segment(name)}/limit"
        if max_running is None:
            return as_object(decode(self.request("DELETE", path)))
        body = {"max_running": max_running}
        return as_object(decode(self.request("PUT", path, json_body=body)))

    def queue(self, limit: int = 100) -> dict[str, Any]:
        """``{items, total, capacity, running_here, limits}``: the run queue."""
        return as_object(self.get_json("/queue", params={"limit": limit}))

    # -- components ----------------------------------------------------------

    def list_components(self, kind: str | None = None) -> dict[str, Any]:
        """``{items, import_paths_allowed}``: the processors and adapters the server runs."""
        return as_object(self.get_json("/components", params={"kind": kind}))

    # -- executions ----------------------------------------------------------

    def list_executions(self, params: Params) -> dict[str, Any]:
        """One page: ``{items, next_cursor}``; ``params`` are the query's filters."""
        return as_object(self.get_json("/executions", params=params))

    def get_execution(self, execution_id: str) -> dict[str, Any]:
        return as_object(self.get_json(f"/executions/{segment(execution_id)}"))

    def cancel(self, execution_id: str, reason: str | None = None) -> dict[str, Any]:
        return as_object(
            self.post_json(f"/executions/{segment(execution_id)}/cancel", {"reason": reason})
        )

    def replay(
        self,
        execution_id: str,
        *,
        mode: str,
        message_ids: Sequence[str] = (),
        route: str | None = None,
        labels: Mapping[str, str] | None = None,
        queue: bool = True,
        priority: int = 0,
    ) -> dict[str, Any]:
        body = {
            "mode": mode,
            "message_ids": list(message_ids),
            "route": route,
            "labels": dict(labels or {}),
            "priority": priority,
        }
        query = None if queue else {"queue": "false"}
        path = f"/executions/{segment(execution_id)}/replay"
        return as_object(self.post_json(path, body, params=query))

    def delete_execution(self, execution_id: str) -> None:
        """Delete a finished execution and everything it recorded (204)."""
        self.request("DELETE", f"/executions/{segment(execution_id)}")

    def prune(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """One prune call: ``{execution_ids, deleted, dry_run, more, ended_before}``."""
        return as_object(self.post_json("/executions/prune", dict(body)))

    def resume(
        self, execution_id: str, *, labels: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        body = {"labels": dict(labels or {})}
        return as_object(self.post_json(f"/executions/{segment(execution_id)}/resume", body))

    def wait(self, execution_id: str, timeout: float) -> dict[str, Any]:
        """One long poll of at most ``MAX_WAIT_SECONDS``: ``{status, timed_out, stats, …}``."""
        seconds = max(0.0, min(float(timeout), MAX_WAIT_SECONDS))
        return as_object(
            self.get_json(
                f"/executions/{segment(execution_id)}/wait",
                params={"timeout": f"{seconds:g}"},
                timeout=seconds + self._timeout,
            )
        )

    def wait_until(
        self,
        execution_id: str,
        timeout: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> dict[str, Any]:
        """Long-poll until terminal or ``timeout`` seconds (``None``: forever)."""
        deadline = None if timeout is None else clock() + timeout
        while True:
            remaining = MAX_WAIT_SECONDS if deadline is None else max(0.0, deadline - clock())
            result = self.wait(execution_id, remaining)
            if not result.get("timed_out") or (deadline is not None and clock() >= deadline):
                return result

    def stats(self, execution_id: str) -> dict[str, Any]:
        return as_object(self.get_json(f"/executions/{segment(execution_id)}/stats"))

    def dag(self, execution_id: str) -> dict[str, Any]:
        return as_object(self.get_json(f"/executions/{segment(execution_id)}/dag"))

    def lineage(self, execution_id: str, params: Params) -> dict[str, Any]:
        """One page of lineage records: ``{items, next_after}``."""
        return as_object(
            self.get_json(f"/executions/{segment(execution_id)}/lineage", params=params)
        )

    def ancestry(self, execution_id: str, message_id: str) -> dict[str, Any]:
        """A message's chain from its root: ``{items, continues, …}``."""
        path = f"/executions/{segment(execution_id)}/lineage/{segment(message_id)}/ancestry"
        return as_object(self.get_json(path))

    def message_payload(self, execution_id: str, message_id: str) -> Any:
        """A message's input payload (also one its record keeps in storage)."""
        path = f"/executions/{segment(execution_id)}/lineage/{segment(message_id)}/payload"
        return self.get_json(path)

    def descendants(self, execution_id: str, message_id: str, params: Params) -> dict[str, Any]:
        """A message's bounded subtree: ``{message, items, truncated, max_depth, limit}``."""
        path = f"/executions/{segment(execution_id)}/lineage/{segment(message_id)}/descendants"
        return as_object(self.get_json(path, params=params))

    def logs(self, execution_id: str, params: Params) -> dict[str, Any]:
        """One page of the run's log: ``{items, next_after}``."""
        return as_object(self.get_json(f"/executions/{segment(execution_id)}/logs", params=params))

    def storage_objects(self, execution_id: str, params: Params) -> dict[str, Any]:
        """One page of stored objects: ``{items, next_after}``."""
        return as_object(
            self.get_json(f"/executions/{segment(execution_id)}/storage/objects", params=params)
        )

    def storage_object(
        self, execution_id: str, key: str, *, if_none_match: str | None = None
    ) -> StoredBytes:
        """One stored object's bytes; with ``if_none_match`` (an ETag), ``data`` is
        ``None`` when the server answers 304 (the caller's copy is current)."""
        path = f"/executions/{segment(execution_id)}/storage/objects/{key_path(key)}"
        headers = {"If-None-Match": if_none_match} if if_none_match else None
        response = self.request("GET", path, headers=headers, accept=(304,))
        etag = response.headers.get("etag")
        return StoredBytes(None if response.status_code == 304 else response.content, etag)

    def storage_archive(self, execution_id: str) -> Iterator[bytes]:
        """Every stored object of the execution as one tar archive, in chunks."""
        return self.download(f"/executions/{segment(execution_id)}/storage/archive")

    # -- streams -------------------------------------------------------------

    def events(
        self,
        execution_id: str,
        *,
        after: int | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
    ) -> Iterator[ServerSentEvent]:
        """The execution's events from ``seq > after`` until its terminal status event."""
        return self.stream(f"/executions/{segment(execution_id)}/events", after, on_reconnect)

    def log_stream(
        self,
        execution_id: str,
        *,
        after: int | None = None,
        params: Params | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
    ) -> Iterator[ServerSentEvent]:
        """The run's log records (``event: log``) after ``after``, live, until the
        closing ``status`` frame."""
        return self.stream(
            f"/executions/{segment(execution_id)}/logs/stream", after, on_reconnect, params=params
        )

    def storage_events(
        self,
        execution_id: str,
        *,
        after: int | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
    ) -> Iterator[ServerSentEvent]:
        """Storage writes (and status events) until the terminal status event."""
        return self.stream(
            f"/executions/{segment(execution_id)}/storage/events", after, on_reconnect
        )
