"""An NLU component that sends messages made mostly of unknown words to the fallback.

DIET always picks one of the intents it knows, often with high confidence, even for keyboard
mashes ("hjkl" came out as greet with 1.00). A message is gibberish for us when more than
`max_unknown_ratio` of its words are neither English words of the language model's vocabulary
nor words of our own training data; it then gets the `nlu_fallback` intent.

Numbers alone ("913482", "10115", "2") get it too: a code, a postal code or a quantity means what
the question it answers asked for, and DIET would give it whatever intent it resembles (a one-time
code came out as faq/store_info). Inside a form, the rules hand such answers to the form.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu_fallback import fall_back

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
WORDS_FILE = "training_words.json"
NUMBERS_ONLY = re.compile(r"[\s#+.,:/-]*\d[\d\s#+.,:/-]*")  # digits and separators, no word


def words_of(text: str) -> list[str]:
    """The lower-cased alphabetic words of a text."""
    return WORD.findall(text.lower())


def read_vocabulary(path: Path) -> frozenset[str]:
    """Whole words of a WordPiece vocabulary file (sub-word pieces and special tokens left out)."""
    return frozenset(
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().isalpha() and not line.startswith("##")
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnknownWordsFallback(GraphComponent):
    """Predict `nlu_fallback` for messages that are mostly words nobody knows."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`vocabulary`: a WordPiece vocab.txt; `max_unknown_ratio`: above it a message is gibberish."""
        return {"vocabulary": None, "max_unknown_ratio": 0.5}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        training_words: frozenset[str],
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._training_words = training_words
        vocabulary = config.get("vocabulary")
        if not vocabulary or not Path(vocabulary).is_file():
            raise ValueError(f"UnknownWordsFallback needs `vocabulary`: a vocab.txt file, got {vocabulary!r}")
        self._known = read_vocabulary(Path(vocabulary)) | training_words
        self._max_unknown_ratio = float(config["max_unknown_ratio"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownWordsFallback:
        """A new, untrained component."""
        return cls(config, model_storage, resource, frozenset())

    def train(self, training_data: TrainingData) -> Resource:
        """Remember every word of the training examples (our own vocabulary: hoodie, thx, ...)."""
        words = sorted({w for example in training_data.training_examples for w in words_of(example.get(TEXT) or "")})
        with self._model_storage.write_to(self._resource) as directory:
            (directory / WORDS_FILE).write_text(json.dumps(words), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownWordsFallback:
        """The trained component, with the words it learnt."""
        try:
            with model_storage.read_from(resource) as directory:
                words = frozenset(json.loads((directory / WORDS_FILE).read_text(encoding="utf-8")))
        except (ValueError, OSError):
            words = frozenset()
        return cls(config, model_storage, resource, words)

    def unknown_ratio(self, text: str) -> float:
        """The share of the text's words that are unknown (0.0 for a text without words)."""
        words = words_of(text)
        if not words:
            return 0.0
        return sum(word not in self._known for word in words) / len(words)

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the predicted intent with `nlu_fallback` for gibberish and for numbers alone."""
        for message in messages:
            text = message.get(TEXT) or ""
            ratio = 1.0 if NUMBERS_ONLY.fullmatch(text) else self.unknown_ratio(text)
            if ratio <= self._max_unknown_ratio:
                continue
            fall_back(message, ratio)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data
