"""``HttpTransport``: one FactFlow server's ``/api/v1`` over httpx, as JSON or problems.

The only module that imports httpx.  A request answers with its 2xx response
or raises a ``CliError``: ``ServerUnreachableError`` when nothing answers,
``ProblemError`` for an RFC 9457 problem (any other status, with a body or
without).  Server-sent event streams resume from the last seen ``id``
(``Last-Event-ID``) when the connection drops.  ``ApiClient`` (``_client``)
names the endpoints on top of it.
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

__all__ = [
    "TERMINAL_STATUSES",
    "HttpTransport",
    "Params",
    "as_items",
    "as_object",
    "decode",
    "is_terminal_event",
    "key_path",
    "segment",
]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")

#: Query parameters: a mapping, or pairs (a key repeated for a list); ``None``
#: values are left out.
Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


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


def segment(value: str) -> str:
    """``value`` as one URL path segment (every reserved character escaped)."""
    return quote(value, safe="")


def key_path(key: str) -> str:
    """A storage key as URL path segments that reach the server as typed.

    ``/`` stays a separator; every other reserved character is escaped, and a
    ``.`` or ``..`` segment is written ``%2E``/``%2E%2E`` so no client or proxy
    resolves it away (``../x`` must reach the server, which refuses it by name,
    rather than become a request for a different path).
    """
    return "/".join(
        part.replace(".", "%2E") if part in (".", "..") else quote(part, safe="")
        for part in key.split("/")
    )


def _reason(exc: Exception) -> str:
    text = _ERRNO.sub("", str(exc)).strip()
    return text.lower() if text else type(exc).__name__


class HttpTransport:
    """Requests to one FactFlow server.  Use as a context manager (or ``close()``)."""

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

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        accept: Sequence[int] = (),
    ) -> httpx.Response:
        """Send one request; a 2xx response (or one whose status is in ``accept``),
        else a ``CliError``."""
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
        if response.is_success or response.status_code in accept:
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
        return decode(self.request("GET", path, **kwargs))

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return decode(self.request("POST", path, json_body=body, **kwargs))

    def download(self, path: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The body of ``GET path`` in chunks as it arrives (a problem raises before
        the first chunk; a connection lost midway raises ``ServerUnreachableError``)."""
        try:
            with self._http.stream(
                "GET", path, timeout=httpx.Timeout(self._timeout, read=300.0)
            ) as response:
                if not response.is_success:
                    response.read()
                    raise self._problem(response)
                yield from response.iter_bytes(chunk_size)
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise ServerUnreachableError(
                self.server_url, f"download lost: {_reason(exc)}"
            ) from None

    def stream(
        self,
        path: str,
        after: int | None = None,
        on_reconnect: Callable[[str, int], None] | None = None,
        *,
        params: Params | None = None,
        max_attempts: int = 8,
        read_timeout: float = 90.0,
    ) -> Iterator[ServerSentEvent]:
        """Follow an SSE stream, resuming with ``Last-Event-ID`` after a drop.

        Ends after the terminal status event.  A stream that closes before it
        is resumed like a dropped connection;
        ``on_reconnect(reason, attempt)`` is told each time; after
        ``max_attempts`` consecutive failures the server counts as unreachable.
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
                    params=_clean(params),
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


def _clean(params: Params | None) -> list[tuple[str, Any]] | None:
    if params is None:
        return None
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    return [(k, v) for k, v in pairs if v is not None]


def decode(response: httpx.Response) -> Any:
    """The response's JSON body, or a ``ProtocolError`` naming the request."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise ProtocolError(
            f"the server answered {response.request.method} {response.request.url.path} "
            "with something that is not JSON"
        ) from None


def as_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else a ``ProtocolError``."""
    if not isinstance(value, dict):
        raise ProtocolError(f"expected a JSON object from the server, got {type(value).__name__}")
    return value


def as_items(value: Any) -> list[dict[str, Any]]:
    """The ``items`` list of a ``{items: [...]}`` answer."""
    items = as_object(value).get("items")
    if not isinstance(items, list):
        raise ProtocolError("expected {items: [...]} from the server")
    return [i for i in items if isinstance(i, dict)]
