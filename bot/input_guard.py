"""The first step of the NLU pipeline: make any text a customer sends safe to parse.

- control characters are removed (newlines and tabs become spaces) and the text is NFC-normalised;
- very long messages are cut at `max_characters` (the language model reads 512 word pieces at most);
- a message without any word (empty, whitespace, "???", emoji only) gets the marker word
  `nowords`, which no model knows: the pipeline's featurizers need at least one token, and the
  unknown-words check then sends the message to the fallback;
- Rasa's `/intent{...}` syntax is honoured only for the buttons we send (`/<intent>` of the domain,
  without entities); typed commands such as `/restart` or `/order_status{"order_id": ...}` lose the
  leading slash and are understood as the words they are.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BUTTON_PAYLOAD = re.compile(r"/([a-z_]+)")
# Intents a customer may choose with a button; never the built-in session commands.
BLOCKED_COMMANDS = frozenset({"restart", "session_start", "back", "nlu_fallback"})
NO_WORDS = "nowords"
WORD = re.compile(r"\w")


def clean_text(text: str, max_characters: int, button_intents: frozenset[str]) -> str:
    """The text with control characters gone, length capped and typed commands neutralised."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if ch in "\n\r\t" else ch
        for ch in text
        if ch in "\n\r\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = text.strip()[:max_characters]
    if text.startswith("/"):
        button = BUTTON_PAYLOAD.fullmatch(text)
        if not button or button.group(1) not in button_intents or button.group(1) in BLOCKED_COMMANDS:
            text = text.lstrip("/").strip()
    if not WORD.search(text):
        text = f"{text} {NO_WORDS}".strip()
    return text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class InputGuard(GraphComponent):
    """Cleans each message's text before anything else reads it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`max_characters`: longer messages are cut; `button_intents`: payloads allowed as `/<intent>`."""
        return {"max_characters": 2000, "button_intents": []}

    def __init__(self, config: dict[str, Any]) -> None:
        self._max = int(config["max_characters"])
        self._buttons = frozenset(config.get("button_intents") or [])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InputGuard:
        """The component (nothing to train)."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are ours and already clean."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Clean every message's text in place."""
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                message.set(TEXT, clean_text(text, self._max, self._buttons))
        return messages
