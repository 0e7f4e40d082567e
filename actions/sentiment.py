"""Sentiment into slots: what bot/sentiment.py found in the customer's last message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

LABELS = frozenset({"negative", "neutral", "positive"})


class ActionSentimentSlots(Action):
    """Run by Rasa on every user message (custom slot mapping): sets `sentiment` and `frustration`."""

    def name(self) -> str:
        return "action_sentiment_slots"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        result = tracker.latest_message.get("sentiment")
        if not isinstance(result, dict) or result.get("label") not in LABELS:
            return []
        signals = [str(s) for s in result.get("frustration") or []]
        return [SlotSet("sentiment", result["label"]), SlotSet("frustration", ",".join(signals) or None)]
