"""Secrets for signed-in pages: random tokens stored only as hashes, CSRF tokens bound to
the session, cookies that scripts cannot read, and a same-origin check for forms.

No passwords anywhere: a person signs in with a one-time link the bot sends them in chat.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

#: the form field that carries the CSRF token
CSRF_FIELD = "csrf"


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a token: a leaked table cannot be replayed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session (derived from its secret, never stored)."""
    return hmac.new(session_token.encode("utf-8"), b"csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session_token), given)


def same_origin(request: web.Request, public_base: str) -> bool:
    """A form post from our own pages: ``Origin`` (when the browser sends it) is this
    site, as the request sees it or at its public address."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {str(request.url.origin())}
    if public_base:
        allowed.add(public_base.rstrip("/"))
    return origin in allowed


def set_secret_cookie(
    response: web.StreamResponse, name: str, value: str, *, max_age: int, path: str, secure: bool
) -> None:
    """A cookie only the server reads (HttpOnly), not sent from other sites' forms."""
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite="Lax", secure=secure
    )
