"""An NLU component that sends messages unlike anything the assistant learnt to the fallback.

DIET's confidence says which known intent a message is closest to, not whether it is close to
any: a question about the weather can come out as store_info with 0.9. This component remembers
the sentence vectors (the featurizer's mean-pooled MiniLM features) of the training examples of
every intent we answer, and scores each message by its `familiarity`: the mean cosine similarity
of its `neighbours` nearest training examples. Examples of `ignore_intents` (out_of_scope: the
examples of what we do not do) are not remembered, so resembling them does not count as familiar;
a message the classifier already gave one of those intents keeps it (its own answer beats the
fallback's "did you mean").

The score goes into the parse output for every message (the console and benchmarks read it);
below `min_similarity` the message gets the `nlu_fallback` intent, like low confidence does.
`min_similarity: null` only scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu_fallback import fall_back, is_fallback

FAMILIARITY = "familiarity"
VECTORS_FILE = "sentence_vectors.npy"


def unit_sentence_vector(message: Message) -> np.ndarray | None:
    """The message's dense sentence feature, unit length (None when no dense featurizer ran)."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    vector = np.asarray(sentence.features, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FamiliarityFallback(GraphComponent):
    """Score how close each message is to the training examples; fall back when it is close to none."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`min_similarity`: below it, nlu_fallback (null: score only); `neighbours`: how many nearest
        examples are averaged; `ignore_intents`: intents whose examples are not remembered."""
        return {"min_similarity": None, "neighbours": 3, "ignore_intents": ["out_of_scope"]}

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, vectors: np.ndarray
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._vectors = vectors
        threshold = config.get("min_similarity")
        neighbours = config.get("neighbours")
        if threshold is not None and not (isinstance(threshold, (int, float)) and -1.0 <= threshold <= 1.0):
            raise ValueError(
                f"FamiliarityFallback: min_similarity must be a number in [-1, 1] or null, not {threshold!r}"
            )
        if not isinstance(neighbours, int) or isinstance(neighbours, bool) or neighbours < 1:
            raise ValueError(f"FamiliarityFallback: neighbours must be a whole number >= 1, not {neighbours!r}")
        self._threshold = None if threshold is None else float(threshold)
        self._neighbours = neighbours
        self._ignored = frozenset(config.get("ignore_intents") or [])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FamiliarityFallback:
        """A new, untrained component."""
        return cls(config, model_storage, resource, np.zeros((0, 0), dtype=np.float32))

    def train(self, training_data: TrainingData) -> Resource:
        """Remember the sentence vectors of the examples of every intent we answer."""
        vectors = [
            vector
            for example in training_data.intent_examples
            if example.get("intent") not in self._ignored
            if (vector := unit_sentence_vector(example)) is not None
        ]
        if not vectors:
            raise ValueError(
                "FamiliarityFallback found no sentence features on the training examples: "
                "put it after a dense featurizer (the MiniLM featurizer) in the pipeline"
            )
        with self._model_storage.write_to(self._resource) as directory:
            np.save(directory / VECTORS_FILE, np.stack(vectors).astype(np.float32))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FamiliarityFallback:
        """The trained component with its remembered vectors; a model without them is refused."""
        try:
            with model_storage.read_from(resource) as directory:
                vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise ValueError(f"FamiliarityFallback: the model holds no training vectors ({error}); retrain") from error
        return cls(config, model_storage, resource, vectors)

    def similarity(self, vector: np.ndarray) -> float:
        """Mean cosine similarity of the `neighbours` nearest remembered examples."""
        if vector.shape[0] != self._vectors.shape[1]:
            raise ValueError(
                f"FamiliarityFallback: a {vector.shape[0]}-dimensional sentence feature against "
                f"{self._vectors.shape[1]}-dimensional training vectors: the featurizer changed, retrain"
            )
        scores = self._vectors @ vector
        k = min(self._neighbours, scores.shape[0])
        return float(np.mean(np.partition(scores, -k)[-k:]))

    def process(self, messages: list[Message]) -> list[Message]:
        """Add each message's familiarity; below `min_similarity`, the fallback intent."""
        for message in messages:
            vector = unit_sentence_vector(message)
            if vector is None or not self._vectors.size:
                continue
            score = round(self.similarity(vector), 4)
            message.set(FAMILIARITY, score, add_to_output=True)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if self._threshold is None or score >= self._threshold or is_fallback(message) or intent in self._ignored:
                continue
            fall_back(message, round(1.0 - score, 4))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data
