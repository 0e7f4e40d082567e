"""What every form shares: "never mind" stops it and leaves everything as it was; a question is
answered in the customer's own words unless they leave the form or ask something aside."""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# slots that hold a request waiting for a form, dropped with it
WAITING = ("pending_request",)
# intents that leave a form (their rules take over), and asides a form answers before asking again
WAYS_OUT = frozenset({"stop", "human_handoff"})
ASIDES = frozenset({"faq", "chitchat"})
QUESTION = re.compile(
    r"\?|^\s*(?:what|what's|whats|where|when|why|how|who|which|do|does|did|can|could|is|are|will|would|should|may)\b",
    re.IGNORECASE,
)


def answer_in_text(tracker: Tracker, slot: str, clearly_answers: Callable[[str], bool] | None = None) -> str | None:
    """The latest message as the answer to `slot`, when the form asked for it: None when nothing was
    said, for a button's `/intent` payload, and when the customer leaves the form (stop, a person) or
    asks something aside (a question the NLU reads as a policy question or small talk).

    The intent alone does not decide: a bare answer ("Leith", "12 Harbour Street") often reads to the
    NLU like a question about the shop, and it is still the answer the form asked for. `clearly_answers`
    recognises what can only be an answer to this slot, whatever the intent."""
    if tracker.get_slot("requested_slot") != slot:
        return None
    message = tracker.latest_message or {}
    text = str(message.get("text") or "").strip()
    intent = str((message.get("intent") or {}).get("name") or "")
    if not text or text.startswith("/"):
        return None
    if clearly_answers is not None and clearly_answers(text):
        return text
    if intent in WAYS_OUT or (intent in ASIDES and QUESTION.search(text)):
        return None
    return text


class TextAnswersForm(FormValidationAction, metaclass=abc.ABCMeta):
    """A form's validation whose `text_slots` take the customer's words as the answer (`answer_in_text`).

    The domain maps these slots as `custom`: Rasa's `from_text` can only exclude intents, which turns
    away bare answers the NLU reads as something else."""

    text_slots: tuple[str, ...] = ()

    @abc.abstractmethod
    def name(self) -> str:
        """The validation action's name (`validate_<form>`); abstract, so the action server skips this class."""

    def clearly_answers(self, slot: str, text: str) -> bool:
        """Whether the text can only be an answer to `slot` (none by default)."""
        return False

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().get_extraction_events(dispatcher, tracker, domain)
        slot = tracker.get_slot("requested_slot")
        if slot not in self.text_slots or tracker.get_slot(slot) is not None:
            return events  # not asked, or already filled from an entity in this message
        answer = answer_in_text(tracker, slot, lambda text: self.clearly_answers(slot, text))
        if answer is None:
            return events
        tracker.slots[slot] = answer
        return [*events, SlotSet(slot, answer)]


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
