"""Over a raw socket against a real server process (issue 10, findings 5 and 7):
an over-limit chunked body is answered 413 with ``Connection: close`` and the
connection closed (the server stops reading); a half-sent request head and a
body that never finishes are cut off by the header and body timeouts.

Each test ends on the server closing the connection (``recv`` returns ``b""``);
the socket timeout only turns a server that never closes into a failure
instead of a hang."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import h11
import pytest

from .test_server_process import server_process

GUARD = 60.0  # seconds before a server that never closes fails the test


@contextlib.contextmanager
def connected(base_url: str) -> Iterator[socket.socket]:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=GUARD)
    try:
        yield sock
    finally:
        sock.close()


def read_response(sock: socket.socket) -> tuple[h11.Response, bytes, bool]:
    """The response, its body, and whether the server then closed the connection
    (with ``sock`` still writable, h11 sees the close as EOF)."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))  # client role
    response: h11.Response | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
    assert response is not None
    closed = closed_by_server(sock)
    return response, body, closed


def closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes (True) or the guard expires (False)."""
    try:
        while chunk := sock.recv(65536):
            del chunk
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def chunked_flood(sock: socket.socket, limit: int) -> int:
    """POST a chunked config body well past ``limit``; stop when the server stops
    reading (the connection is closed or reset).  Returns the bytes sent."""
    head = (
        b"POST /api/v1/configs HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head)
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        while sent < 4 * limit:
            sock.sendall(frame)
            sent += len(chunk)
    return sent


@pytest.mark.dialect("sqlite")
async def test_an_over_limit_chunked_body_is_413_with_connection_close_and_reading_stops(
    db_url: str, tmp_path: Path
) -> None:
    limit = 1024 * 1024
    env = {"FACTFLOW_MAX_BODY_BYTES": str(limit)}
    async with server_process(db_url, tmp_path / "data", env=env) as base_url:

        def attempt() -> tuple[h11.Response, bytes, bool]:
            with connected(base_url) as sock:
                chunked_flood(sock, limit)
                return read_response(sock)

        response, body, closed = await asyncio.to_thread(attempt)
    assert response.status_code == 413
    assert (b"connection", b"close") in [(k.lower(), v.lower()) for k, v in response.headers]
    assert b"payload-too-large" in body
    assert closed, "the server kept the connection open after its 413"


@pytest.mark.dialect("sqlite")
async def test_a_half_sent_head_and_a_body_that_never_ends_are_cut_off(
    db_url: str, tmp_path: Path
) -> None:
    env = {"FACTFLOW_HTTP_HEADER_TIMEOUT": "0.5", "FACTFLOW_HTTP_BODY_TIMEOUT": "0.5"}
    async with server_process(db_url, tmp_path / "data", env=env) as base_url:

        def half_head() -> bool:
            with connected(base_url) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                return closed_by_server(sock)

        def half_body() -> tuple[h11.Response, bytes, bool]:
            with connected(base_url) as sock:
                sock.sendall(
                    b"POST /api/v1/configs HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/yaml\r\nContent-Length: 100\r\n\r\nname: "
                )
                return read_response(sock)

        def silent() -> bool:
            with connected(base_url) as sock:
                return closed_by_server(sock)

        assert await asyncio.to_thread(half_head), "a half-sent head kept its connection"
        assert await asyncio.to_thread(silent), "a connection that sent nothing stayed open"
        response, body, closed = await asyncio.to_thread(half_body)
    assert response.status_code == 408 and b"request-timeout" in body
    assert closed
