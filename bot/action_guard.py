"""Never silence: when the action server is down, fails or is slow, the customer hears so.

Rasa 3.6 logs a failed custom action and carries on without a reply (and waits up to five minutes
for a slow one). `install()` wraps Rasa's remote-action call: it gives up after
`SHOP_ACTION_TIMEOUT` seconds (default 10), and on any failure the customer gets an apology and the
offer of a person, and the log line names the action and the conversation. When a form's
validation (`validate_*`) fails, the answers it should have checked are unset as well, so a form
never accepts an answer it could not check; it asks again after the apology.
`bot/server.py` installs it before starting the Rasa server.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
APOLOGY = (
    "Sorry, I can't reach our shop systems right now, so I can't do that at the moment. "
    "Please try again in a few minutes, or ask for a person and a colleague will help."
)
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/human_handoff"}


def timeout_seconds(environ: dict[str, str] | None = None) -> float:
    """How long a custom action may take, from SHOP_ACTION_TIMEOUT (seconds)."""
    raw = (environ if environ is not None else os.environ).get("SHOP_ACTION_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        logger.warning("SHOP_ACTION_TIMEOUT=%r is not a number; using %s s", raw, DEFAULT_TIMEOUT_SECONDS)
        return DEFAULT_TIMEOUT_SECONDS
    return value if value > 0 else DEFAULT_TIMEOUT_SECONDS


def apology() -> BotUttered:
    """The message a customer gets instead of silence."""
    return BotUttered(text=APOLOGY, data={"buttons": [PERSON_BUTTON]})


def unchecked_answers(tracker: Any) -> list[Event]:
    """Unset every slot filled since the customer's last message (what validation should have checked)."""
    unset: list[Event] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, SlotSet) and event.key != "requested_slot" and event.value is not None:
            unset.append(SlotSet(event.key, None))
    return unset


def install(timeout: float | None = None) -> None:
    """Wrap RemoteAction.run (once per process)."""
    if getattr(RemoteAction.run, "shop_guarded", False):
        return
    limit = timeout if timeout is not None else timeout_seconds()
    unguarded = RemoteAction.run

    async def guarded_run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Event]:
        try:
            return await asyncio.wait_for(unguarded(self, output_channel, nlg, tracker, domain), timeout=limit)
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as error:
            reason = f"no answer within {limit:g} s" if isinstance(error, asyncio.TimeoutError) else str(error)
            logger.error("custom action %s failed for conversation %s: %s", self.name(), tracker.sender_id, reason)
            if self.name().startswith("validate_"):
                return [apology(), *unchecked_answers(tracker)]
            return [apology()]

    guarded_run.shop_guarded = True  # type: ignore[attr-defined]
    RemoteAction.run = guarded_run
