"""``ApiClient``: the REST contract of ``/api/v1`` as plain methods over httpx.

The only module that speaks HTTP.  Answers come back as the decoded JSON
(``dict``/``list``) the server sent, so ``--output json`` can print them
unchanged; failures become ``CliError``\\ s: ``ServerUnreachableError`` when
nothing answers, ``ProblemError`` for an RFC 9457 problem.  Server-sent event
streams resume from the last seen ``id`` (``Last-Event-ID``) when the
connection drops.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from factflow_cli._errors import CliError, ProblemError, ProtocolError, ServerUnreachableError
from factflow_cli._sse import ServerSentEvent, SseParser

# httpx's __init__ imports its own command line (click, rich.progress, pygments:
# a third of its import time) unless that import fails, in which case it falls
# back to a stub.  This process never runs the httpx CLI, so make it fail.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

__all__ = ["TERMINAL_STATUSES", "ApiClient", "is_terminal_event"]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})
MAX_WAIT_SECONDS = 300  # the server's long-poll ceiling
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


def is_terminal_event(event: ServerSentEvent) -> bool:
    """True for the status event that ends an execution (and its streams)."""
    if event.event != "status":
        return False
    try:
        body = event.json()
    except ValueError:
        return False
    data = body.get("data") if isinstance(body, dict) else None
    return isinstance(data, dict) and data.get("status") in TERMINAL_STATUSES


def _reason(exc: Exception) -> str:
    text = _ERRNO.sub("", str(exc)).strip()
    return text.lower() if text else type(exc).__name__


class ApiClient:
    """A client of one FactFlow server.  Use as a context manager (or ``close()``)."""

    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        headers = {"User-Agent": "factflow-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout
        # A plain-http server needs no TLS: skip building an SSL context and loading
        # the CA bundle (~60 ms of every command's start-up).  Redirects are not
        # followed, so nothing can move the connection onto unverified TLS.
        plain_http = self.server_url.startswith("http://")
        self._http = httpx.Client(
            base_url=f"{self.server_url}/api/v1",
            headers=headers,
            timeout=timeout,
            transport=transport,
            verify=not plain_http,
            follow_redirects=False,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- transport ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request; a 2xx response, or a ``CliError``."""
        try:
            response = self._http.request(
                method,
                path,
                params=_clean(params),
                json=json_body,
                content=content,
                headers=headers,
                timeout=timeout if timeout is not None else self._timeout,
            )
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise ServerUnreachableError(self.server_url, "connection timed out") from None
            raise CliError(
                f"the FactFlow server at {self.server_url} did not answer {method} {path} in time"
            ) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise ServerUnreachableError(self.server_url, _reason(exc)) from None
        except httpx.UnsupportedProtocol:
            raise ServerUnreachableError(
                self.server_url, "not an http:// or https:// URL"
            ) from None
        except httpx.HTTPError as exc:  # any other transport failure: one line, no traceback
            raise ServerUnreachableError(self.server_url, _reason(exc)) from None
        if response.is_success:
            return response
        raise self._problem(response)

    def _problem(self, response: httpx.Response) -> CliError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            body = {
                "detail": f"HTTP {response.status_code} from {response.url}"
                + (f": {text}" if text else "")
            }
        error = ProblemError(response.status_code, body)
        if response.status_code == 401:
            error.hints.append("pass --token or set FACTFLOW_API_TOKEN")
        retry_after = response.headers.get("retry-after")
        if response.status_code == 503 and retry_after:
            error.hints.append(f"the server asks to retry in {retry_after} s")
        return error

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return _json(self.request("GET", path, **kwargs))

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return _json(self.request("POST", path, json_body=body, **kwargs))

    # -- health --------------------------------------------------------------

    def healthz(self) -> Any:
        return _json(self.request("GET", f"{self.server_url}/healthz"))

    # -- configs -------------------------------------------------------------

    def apply_config(self, text: str, *, content_type: str) -> dict[str, Any]:
        """``{config, created}``: a new version, or the unchanged latest one."""
        response = self.request(
            "POST",
            "/configs",
            content=text.encode("utf-8"),
            headers={"Content-Type": content_type},
        )
        return _object(response)

    def list_configs(self) -> list[dict[str, Any]]:
        return _items(self.get_json("/configs"))

    def get_config(self, name: str, version: int | None = None) -> dict[str, Any]:
        return _as_object(self.get_json(f"/configs/{_seg(name)}", params={"version": version}))

    def config_versions(self, name: str) -> list[dict[str, Any]]:
        return _items(self.get_json(f"/configs/{_seg(name)}/versions"))

    def archive_config(self, name: str) -> list[dict[str, Any]]:
        return _items(self.post_json(f"/configs/{_seg(name)}/archive"))

    def run_config(
        self,
        name: str,
        *,
        params: Mapping[str, Any],
        version: int | None = None,
        labels: Mapping[str, str] | None = None,
        source: str = "cli",
    ) -> dict[str, Any]:
        body = {
            "params": dict(params),
            "version": version,
            "labels": dict(labels or {}),
            "source": source,
        }
        return _as_object(self.post_json(f"/configs/{_seg(name)}/run", body))

    # -- executions ----------------------------------------------------------

    def list_executions(
        self,
        *,
        statuses: Sequence[str] = (),
        config: str | None = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page: ``{items, next_cursor}``."""
        params: list[tuple[str, Any]] = [("status", s) for s in statuses]
        params += [
            ("config", config),
            ("source", source),
            ("since", since),
            ("until", until),
            ("limit", limit),
            ("cursor", cursor),
        ]
        return _as_object(self.get_json("/executions", params=params))

    def get_execution(self, execution_id: str) -> dict[str, Any]:
        return _as_object(self.get_json(f"/executions/{_seg(execution_id)}"))

    def cancel(self, execution_id: str, reason: str | None = None) -> dict[str, Any]:
        return _as_object(
            self.post_json(f"/executions/{_seg(execution_id)}/cancel", {"reason": reason})
        )

    def replay(
        self,
        execution_id: str,
        *,
        mode: str,
        message_ids: Sequence[str] = (),
        route: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        body = {
            "mode": mode,
            "message_ids": list(message_ids),
            "route": route,
            "labels": dict(labels or {}),
        }
        return _as_object(self.post_json(f"/executions/{_seg(execution_id)}/replay", body))

    def wait(self, execution_id: str, timeout: float) -> dict[str, Any]:
        """One long poll of at most ``MAX_WAIT_SECONDS``: ``{status, timed_out, stats, …}``."""
        seconds = max(0.0, min(float(timeout), MAX_WAIT_SECONDS))
        return _as_object(
            self.get_json(
                f"/executions/{_seg(execution_id)}/wait",
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
        return _as_object(self.get_json(f"/executions/{_seg(execution_id)}/stats"))

    def dag(self, execution_id: str) -> dict[str, Any]:
        return _as_object(self.get_json(f"/executions/{_seg(execution_id)}/dag"))

    def lineage(
        self,
        execution_id: str,
        *,
        route: str | None = None,
        status: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """One page: ``{items, next_after}``."""
        params = {"route": route, "status": status, "after": after, "limit": limit}
        return _as_object(self.get_json(f"/executions/{_seg(execution_id)}/lineage", params=params))

    def storage_objects(
        self, execution_id: str, *, after: int | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """One page: ``{items, next_after}``."""
        return _as_object(
            self.get_json(
                f"/executions/{_seg(execution_id)}/storage/objects",
                params={"after": after, "limit": limit},
            )
        )

    def storage_object(self, execution_id: str, key: str) -> bytes:
        path = f"/executions/{_seg(execution_id)}/storage/objects/{quote(key, safe='/')}"
        return self.request("GET", path).content

    # -- streams -------------------------------------------------------------

    def events(
        self,
        execution_id: str,
        *,
        after: int | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
    ) -> Iterator[ServerSentEvent]:
        """The execution's events from ``seq > after`` until its terminal status event."""
        return self.stream(f"/executions/{_seg(execution_id)}/events", after, on_reconnect)

    def storage_events(
        self,
        execution_id: str,
        *,
        after: int | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
    ) -> Iterator[ServerSentEvent]:
        """Storage writes (and status events) until the terminal status event."""
        return self.stream(f"/executions/{_seg(execution_id)}/storage/events", after, on_reconnect)

    def stream(
        self,
        path: str,
        after: int | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
        *,
        max_attempts: int = 8,
        read_timeout: float = 90.0,
    ) -> Iterator[ServerSentEvent]:
        """Follow an SSE stream, resuming with ``Last-Event-ID`` after a drop.

        Ends after the terminal status event.  A stream that closes before it
        is resumed like a dropped connection; ``on_reconnect(reason, attempt)``
        is told each time; after ``max_attempts`` consecutive failures the
        server counts as unreachable.
        """
        last_id = str(after) if after else None
        failures = 0
        while True:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            reason = "the stream ended before the execution did"
            try:
                with self._http.stream(
                    "GET",
                    path,
                    headers=headers,
                    timeout=httpx.Timeout(self._timeout, read=read_timeout),
                ) as response:
                    if not response.is_success:
                        response.read()
                        raise self._problem(response)
                    parser = SseParser()
                    for line in response.iter_lines():
                        event = parser.feed(line)
                        if event is None:
                            continue
                        failures = 0
                        if event.id is not None:
                            last_id = event.id
                        yield event
                        if is_terminal_event(event):
                            return
            except (httpx.TransportError, httpx.StreamError) as exc:
                reason = _reason(exc)
            failures += 1
            if failures > max_attempts:
                raise ServerUnreachableError(self.server_url, f"event stream lost: {reason}")
            if on_reconnect is not None:
                on_reconnect(reason, failures)
            # Back off between attempts so a restarting server is not hammered.
            time.sleep(min(0.1 * 2 ** (failures - 1), 5.0))


def _clean(
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
) -> list[tuple[str, Any]] | None:
    if params is None:
        return None
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    return [(k, v) for k, v in pairs if v is not None]


def _seg(value: str) -> str:
    return quote(value, safe="")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise ProtocolError(
            f"the server answered {response.request.method} {response.request.url.path} "
            "with something that is not JSON"
        ) from None


def _object(response: httpx.Response) -> dict[str, Any]:
    return _as_object(_json(response))


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"expected a JSON object from the server, got {type(value).__name__}")
    return value


def _items(value: Any) -> list[dict[str, Any]]:
    items = _as_object(value).get("items")
    if not isinstance(items, list):
        raise ProtocolError("expected {items: [...]} from the server")
    return [i for i in items if isinstance(i, dict)]
