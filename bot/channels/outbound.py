"""Calls to a platform's API from a reply: one short-lived HTTP request, failures logged, never raised.

A reply that cannot be delivered (the platform is down, a token was revoked) must not turn the
webhook that caused it into an error: the platform would retry the customer's message and the
assistant would answer it twice. The failure is logged once with the platform's status and the
recipient masked; the access token is never part of a log line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.channels.webhooks import mask

logger = logging.getLogger("bot.channels")

TIMEOUT = aiohttp.ClientTimeout(total=15)


async def post(
    channel: str,
    url: str,
    recipient: str,
    *,
    json: Any = None,
    data: dict[str, Any] | list[tuple[str, str]] | None = None,
    params: dict[str, str] | None = None,
    auth: aiohttp.BasicAuth | None = None,
) -> dict[str, Any] | None:
    """POST to the platform; its JSON answer, or None (logged) when the call failed."""
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, json=json, data=data, params=params, auth=auth) as answer,
        ):
            body = await answer.text()
            if answer.status >= 300:
                logger.error(
                    "%s API refused a reply to %s: HTTP %d %s", channel, mask(recipient), answer.status, body[:200]
                )
                return None
            try:
                parsed = await answer.json(content_type=None)
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # two types on Python 3.10
        logger.error("%s API unreachable for a reply to %s: %s", channel, mask(recipient), type(error).__name__)
        return None
