"""The first step of the NLU pipeline: make any text a customer sends safe to parse.

- control characters are removed (newlines and tabs become spaces) and the text is NFC-normalised;
- very long messages are cut at `max_characters` (the language model reads 512 word pieces at most);
- a message without any word (empty, whitespace, "???", emoji only) gets the marker word
  `nowords`, which no model knows: the pipeline's featurizers need at least one token, and the
  unknown-words check then sends the message to the fallback;
- Rasa's `/intent{...}` syntax is honoured only for the buttons we send: `/<intent>` of the
  allowed intents, with entities only where `button_entities` allows them (the product cards'
  `/add_to_cart{"product_id": "P00301"}`), each value a plain id. Anything else typed as a command,
  such as `/restart` or `/order_status{"order_id": ...}`, loses its leading slash and is
  understood as the words it is. Actions still check every id they get (ownership of orders).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BUTTON_PAYLOAD = re.compile(r"/([a-z_]+)(\{.{0,300}\})?")
BUTTON_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Intents a customer may choose with a button; never the built-in session commands.
BLOCKED_COMMANDS = frozenset({"restart", "session_start", "back", "nlu_fallback"})
NO_WORDS = "nowords"
WORD = re.compile(r"\w")


def _allowed_entities(payload: str | None, allowed: frozenset[str]) -> bool:
    """True when a button's entities are a JSON object of allowed names with plain id values."""
    if payload is None:
        return True
    try:
        entities = json.loads(payload)
    except ValueError:
        return False
    return (
        isinstance(entities, dict)
        and bool(entities)
        and all(
            name in allowed and isinstance(value, str) and BUTTON_VALUE.fullmatch(value)
            for name, value in entities.items()
        )
    )


def clean_text(
    text: str,
    max_characters: int,
    button_intents: frozenset[str],
    button_entities: Mapping[str, frozenset[str]] | None = None,
) -> str:
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
        intent = button.group(1) if button else ""
        allowed = (button_entities or {}).get(intent, frozenset())
        if (
            not button
            or intent not in button_intents
            or intent in BLOCKED_COMMANDS
            or not _allowed_entities(button.group(2), allowed)
        ):
            text = text.lstrip("/").strip()
    if not WORD.search(text):
        text = f"{text} {NO_WORDS}".strip()
    return text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class InputGuard(GraphComponent):
    """Cleans each message's text before anything else reads it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`max_characters`: longer messages are cut; `button_intents`: payloads allowed as `/<intent>`;
        `button_entities`: per intent, the entities its buttons may carry."""
        return {"max_characters": 2000, "button_intents": [], "button_entities": {}}

    def __init__(self, config: dict[str, Any]) -> None:
        self._max = int(config["max_characters"])
        self._buttons = frozenset(config.get("button_intents") or [])
        self._entities = {
            str(intent): frozenset(names or []) for intent, names in (config.get("button_entities") or {}).items()
        }

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
                message.set(TEXT, clean_text(text, self._max, self._buttons, self._entities))
        return messages
