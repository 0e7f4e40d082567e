"""The chat's session tokens: which conversation a browser may join, decided by us, not by the browser.

Rasa 3.6's socket.io channel lets a client name any session id and then receive that conversation's
replies. Instead, the widget server (widget/serve.py) issues a signed token carrying a session id it
chose; the browser keeps the token and presents it when it connects, and our socket.io channel
(bot/channels/web.py) joins it to that session only. A token is a standard JWT (HS256), so any JWT
library can check one; this module is stdlib-only because both runtimes (Rasa on Python 3.10, the
widget server on 3.11) import it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

AUDIENCE = "shop-chat"
LIFETIME_SECONDS = 30 * 24 * 3600  # the widget renews its token on every page load
MAX_TOKEN_LENGTH = 1024
SESSION_ID = re.compile(r"[0-9a-f]{32}")
_HEADER = {"alg": "HS256", "typ": "JWT"}


class InvalidSessionToken(ValueError):
    """The token is missing, malformed, forged or expired; the message says which (never the token)."""


@dataclass(frozen=True)
class SessionClaims:
    """What a valid token proves: the session it joins, until when."""

    session_id: str
    expires_at: int


def _encode(part: bytes) -> str:
    return base64.urlsafe_b64encode(part).decode().rstrip("=")


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _sign(signing_input: str, secret: str) -> str:
    return _encode(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())


def new_session_id() -> str:
    """A fresh, unguessable session id (128 random bits)."""
    return secrets.token_hex(16)


def issue_session_token(
    secret: str, session_id: str | None = None, now: float | None = None, lifetime: int = LIFETIME_SECONDS
) -> tuple[str, SessionClaims]:
    """A signed token for `session_id` (a new session when None), valid for `lifetime` seconds."""
    session_id = session_id or new_session_id()
    if not SESSION_ID.fullmatch(session_id):
        raise ValueError("a session id is 32 lowercase hex digits")
    issued = int(time.time() if now is None else now)
    claims = {"sid": session_id, "aud": AUDIENCE, "iat": issued, "exp": issued + lifetime}
    signing_input = (
        _encode(json.dumps(_HEADER, separators=(",", ":")).encode())
        + "."
        + _encode(json.dumps(claims, separators=(",", ":")).encode())
    )
    return f"{signing_input}.{_sign(signing_input, secret)}", SessionClaims(session_id, issued + lifetime)


def read_session_token(token: object, secret: str, now: float | None = None) -> SessionClaims:
    """The session a token joins; InvalidSessionToken when it is missing, malformed, forged or expired."""
    if not isinstance(token, str) or not token:
        raise InvalidSessionToken("no session token")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise InvalidSessionToken("malformed session token")
    header_part, claims_part, signature = token.split(".")
    # the signature first: nothing an attacker wrote is parsed before it is known to be ours
    if not hmac.compare_digest(_sign(f"{header_part}.{claims_part}", secret), signature):
        raise InvalidSessionToken("session token signature does not match")
    try:
        header = json.loads(_decode(header_part))
        claims = json.loads(_decode(claims_part))
        session_id, expires = claims["sid"], int(claims["exp"])
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise InvalidSessionToken("malformed session token") from error
    if header != _HEADER or claims.get("aud") != AUDIENCE or not isinstance(session_id, str):
        raise InvalidSessionToken("malformed session token")
    if not SESSION_ID.fullmatch(session_id):
        raise InvalidSessionToken("malformed session token")
    if expires <= (time.time() if now is None else now):
        raise InvalidSessionToken("session token has expired")
    return SessionClaims(session_id, expires)
