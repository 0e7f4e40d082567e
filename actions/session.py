"""A new session (after SESSION_EXPIRATION minutes of silence, see domain.yml): what carries over.

What the customer was browsing and their name carry over. Anything waiting for an answer does not:
a "yes" an hour later must not cancel an order or change an address, and half-filled forms start
again. Who the customer is stays proven through the store's verified link, not through slots.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

CARRIED_OVER = ("browsing", "customer_name")


class ActionSessionStart(Action):
    """Start a session with only the slots that are safe to keep."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kept = [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_OVER if tracker.get_slot(name) is not None]
        return [SessionStarted(), *kept, ActionExecuted("action_listen")]
