"""Browser sessions for a token-protected server: a signed, expiring cookie.

``EventSource`` cannot send an ``Authorization`` header, so a browser logs in
once (``POST /api/v1/auth/login`` with the token) and gets an ``HttpOnly``,
``SameSite=Strict`` cookie that the API and the SSE streams accept like the
bearer token.

The cookie is stateless: ``v1.<expires>.<nonce>.<signature>``, signed with a
key derived from ``FACTFLOW_API_TOKEN``.  So every server process sharing the
token accepts it, and changing the token ends every session at once.  Logging
out clears the cookie in that browser; a copied cookie stays valid until it
expires (``FACTFLOW_SESSION_TTL``), which is why its lifetime is bounded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Final

__all__ = ["SESSION_COOKIE", "SessionSigner", "cookie_value"]

SESSION_COOKIE: Final = "factflow_session"
_VERSION: Final = "v1"
_KEY_CONTEXT: Final = b"factflow-session-cookie-v1"
_MAX_COOKIE_CHARS: Final = 200


class SessionSigner:
    """Issues and verifies session cookie values for one API token."""

    def __init__(self, token: str, *, ttl_seconds: int) -> None:
        if not token:
            raise ValueError("sessions need an API token to derive their key from")
        if ttl_seconds <= 0:
            raise ValueError("a session lifetime must be positive")
        # A key of its own (not the token itself): the cookie never carries
        # anything from which the token could be recovered or tried offline.
        self._key = hmac.new(token.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def issue(self, *, now: float | None = None) -> tuple[str, int]:
        """A new cookie value and its expiry (Unix seconds)."""
        expires = int((time.time() if now is None else now) + self.ttl_seconds)
        body = f"{_VERSION}.{expires}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._sign(body)}", expires

    def verify(self, value: str, *, now: float | None = None) -> int | None:
        """The expiry of a valid, unexpired cookie value; ``None`` otherwise."""
        if len(value) > _MAX_COOKIE_CHARS:
            return None
        body, _, signature = value.rpartition(".")
        version, _, rest = body.partition(".")
        expires_text, _, nonce = rest.partition(".")
        if version != _VERSION or not nonce or not expires_text.isdigit():
            return None
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        expires = int(expires_text)
        if expires <= (time.time() if now is None else now):
            return None
        return expires

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_value(cookie_header: bytes, name: str = SESSION_COOKIE) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` request header, if present."""
    for part in cookie_header.decode("latin-1").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None
