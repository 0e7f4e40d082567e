"""Writing to a conversation through Rasa's HTTP API: what a person from support says, and the hand back.

Events are appended with `output_channel=latest&execute_side_effects=true`, so Rasa saves them in
the tracker and sends every bot event over the channel the customer last wrote on (the web
widget's socket, Telegram, WhatsApp, Messenger, Slack): the customer reads it at once.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

logger = logging.getLogger("console")
# httpx logs every request's URL at INFO, and Rasa's API token travels in the URL (`?token=`): keep
# its request lines out of the console's log
logging.getLogger("httpx").setLevel(logging.WARNING)
TIMEOUT_SECONDS = 15.0  # a loaded Rasa server holds the conversation's lock while an action runs


class RasaUnavailable(Exception):
    """Rasa could not be reached or refused the request; nothing was delivered. The message says why."""


class RasaApi:
    """The Rasa server's HTTP API at `url`, called with its auth token."""

    def __init__(self, url: str | None, token: str | None, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = (url or "").rstrip("/")
        self.token = token or ""
        self.timeout = timeout

    def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to the conversation and deliver its bot events to the customer; RasaUnavailable if not."""
        if not self.url:
            raise RasaUnavailable("The console does not know where the assistant's server (Rasa) is.")
        address = f"{self.url}/conversations/{quote(sender_id, safe='')}/tracker/events"
        params = {"output_channel": "latest", "execute_side_effects": "true", "token": self.token}
        try:
            answer = httpx.post(address, params=params, json=events, timeout=self.timeout)
        except httpx.HTTPError as error:
            logger.warning("Rasa at %s could not be reached for conversation %s: %s", self.url, sender_id, error)
            raise RasaUnavailable(
                "The assistant's server (Rasa) could not be reached, so nothing was sent. Try again in a moment."
            ) from None
        if answer.status_code in (401, 403):
            logger.error("Rasa refused the console's API token (%d); check RASA_AUTH_TOKEN", answer.status_code)
            raise RasaUnavailable("The assistant's server (Rasa) refused the console's token, so nothing was sent.")
        if answer.status_code != 200:
            logger.warning("Rasa answered %d for conversation %s", answer.status_code, sender_id)
            raise RasaUnavailable(
                f"The assistant's server (Rasa) answered with an error ({answer.status_code}), so nothing was sent."
            )
