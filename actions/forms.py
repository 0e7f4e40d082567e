"""What every form shares: "never mind" stops it and leaves everything as it was."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

# slots that hold a request waiting for a form, dropped with it
WAITING = ("pending_request",)


class ActionStopForm(Action):
    """Stop the active form on "never mind": its answers are forgotten, nothing is changed."""

    def name(self) -> str:
        return "action_stop_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        form = (tracker.active_loop or {}).get("name")
        slots = list((domain.get("forms") or {}).get(form, {}).get("required_slots") or []) if form else []
        dispatcher.utter_message(text="OK, I've stopped there. Nothing was changed. What else can I do for you?")
        forgotten = [SlotSet(slot, None) for slot in [*slots, *WAITING, "requested_slot"]]
        return [*forgotten, ActiveLoop(None)]
