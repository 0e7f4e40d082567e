"""The checks that prove a webhook request comes from the platform, each in constant time.

Every function raises `RequestNotVerified` with a short reason (for the log, never for the caller's
eyes) or returns None. They read the raw body exactly as it arrived: re-serialised JSON would not
match the platform's signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

SLACK_WINDOW_SECONDS = 5 * 60  # Slack's own advice: older (or future) timestamps are replays


class RequestNotVerified(Exception):
    """The request is not signed by the platform; the message says what is wrong."""


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison of two ASCII strings (non-ASCII input simply does not match)."""
    try:
        return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
    except UnicodeEncodeError:
        return False


def verify_messenger(app_secret: str, body: bytes, header: str | None) -> None:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the app secret>`."""
    if not header:
        raise RequestNotVerified("no X-Hub-Signature-256 header")
    method, _, signature = header.partition("=")
    if method != "sha256" or not signature:
        raise RequestNotVerified("X-Hub-Signature-256 is not sha256=<hex>")
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not _same(expected, signature.lower()):
        raise RequestNotVerified("X-Hub-Signature-256 does not match the body")


def verify_telegram(secret: str, header: str | None) -> None:
    """`X-Telegram-Bot-Api-Secret-Token` equals the secret we registered with the webhook."""
    if not header:
        raise RequestNotVerified("no X-Telegram-Bot-Api-Secret-Token header")
    if not _same(secret, header):
        raise RequestNotVerified("X-Telegram-Bot-Api-Secret-Token does not match")


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's signature of a form POST: base64 HMAC-SHA1 over the URL, then each parameter name
    followed by its value, sorted by name (and by value for a repeated name)."""
    signed = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio(auth_token: str, public_url: str, params: Iterable[tuple[str, str]], header: str | None) -> None:
    """`X-Twilio-Signature` signs the public URL Twilio posted to and every form parameter."""
    if not header:
        raise RequestNotVerified("no X-Twilio-Signature header")
    if not _same(twilio_signature(auth_token, public_url, params), header):
        raise RequestNotVerified("X-Twilio-Signature does not match the URL and parameters")


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(signing_secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float) -> None:
    """`X-Slack-Signature` over the body and `X-Slack-Request-Timestamp`, which must be within the window."""
    if not timestamp or not signature:
        raise RequestNotVerified("no X-Slack-Signature or X-Slack-Request-Timestamp header")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise RequestNotVerified("X-Slack-Request-Timestamp is not a Unix time")
    if abs(now - int(timestamp)) > SLACK_WINDOW_SECONDS:
        raise RequestNotVerified("X-Slack-Request-Timestamp is outside the 5-minute window (a replay?)")
    if not _same(slack_signature(signing_secret, timestamp, body), signature):
        raise RequestNotVerified("X-Slack-Signature does not match the body")
