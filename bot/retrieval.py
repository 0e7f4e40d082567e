"""Rasa's ResponseSelector, run only for the messages it can answer.

A selector trained for one retrieval intent (faq, chitchat) picks among that intent's answers. Rasa
runs it on every message anyway, which costs about 10 ms per selector and per message on 2 cores.
This one runs when the intent classifier chose its retrieval intent and leaves other messages
untouched: the retrieval actions (utter_faq, utter_chitchat) only ever read the selector of their
own intent, so nothing that answers a customer changes.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class GatedResponseSelector(ResponseSelector):
    """ResponseSelector that skips messages whose intent is not its retrieval intent."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Select a response for the messages of this selector's retrieval intent."""
        if not self.retrieval_intent:  # one selector for every retrieval intent: always needed
            return list(super().process(messages))
        mine = [m for m in messages if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.retrieval_intent]
        if mine:
            super().process(mine)
        return messages
