"""Rasa's LanguageModelFeaturizer with the transformer's forward pass compiled into one TensorFlow graph.

Rasa calls the Hugging Face TF model eagerly, op by op: on 2 cores that costs about 80-180 ms for
a single short message, most of it Python overhead. Traced once by `tf.function` with a shape
signature that accepts any batch size and length, the same weights give the same features (to
about 1e-6) in about a tenth of the time. Tokenisation, special tokens and the sequence features
are Rasa's own.

The sentence feature: Rasa takes BERT's [CLS] vector. all-MiniLM-L6-v2 was trained as a sentence
encoder through the mean of its token vectors, and its [CLS] vector is not what it learned to fill:
with `sentence_pooling: mean` the sentence feature is that mean (over every real token, [CLS] and
[SEP] included, unit length), as the model is meant to be used. On our intents a logistic
regression on the mean reaches 0.85 cross-validated accuracy, on [CLS] 0.70 (README "Benchmarks").

IntentTunedFeaturizer first fine-tunes MiniLM's layers on the training data's intents
(bot/minilm_tuning.py) and then featurizes with the tuned model (measured on CLINC150, not yet the
default: README "Benchmarks").
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import tensorflow as tf
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm_tuning import TunedMiniLM, assign_state, fast_tokenizer, read_state, top_layer_variables

logger = logging.getLogger(__name__)

POOLINGS = ("cls", "mean")
# words whose word pieces are remembered: customers reuse a small vocabulary, and Rasa asks the (slow,
# pure-Python) BERT tokenizer word by word, about 1 ms of a parse
WORD_PIECE_CACHE_SIZE = 50_000
TUNED_LAYERS_FILE = "tuned_layers.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class CompiledLanguageModelFeaturizer(LanguageModelFeaturizer):
    """LanguageModelFeaturizer whose model runs as a compiled graph."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's options, plus how the sentence feature is made: "cls" (Rasa's) or "mean"."""
        return {**LanguageModelFeaturizer.get_default_config(), "sentence_pooling": "cls"}

    def _post_process_sequence_embeddings(self, sequence_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sentences, sequences = super()._post_process_sequence_embeddings(sequence_embeddings)
        if self._config.get("sentence_pooling", "cls") == "mean":
            means = np.stack([np.asarray(tokens, dtype=np.float32).mean(axis=0) for tokens in sequence_embeddings])
            sentences = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        return sentences, sequences

    def _load_model_instance(self) -> None:
        pooling = self._config.get("sentence_pooling", "cls")
        if pooling not in POOLINGS:
            raise ValueError(f"sentence_pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")
        super()._load_model_instance()
        model = self.model
        signature = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)]

        def forward(token_ids: tf.Tensor, attention_mask: tf.Tensor) -> tf.Tensor:
            return model(token_ids, attention_mask=attention_mask, training=False)[0]

        # the concrete function: called directly, without tf.function's per-call argument matching
        self._forward: Any = tf.function(forward, input_signature=signature).get_concrete_function()
        self._word_pieces = functools.lru_cache(maxsize=WORD_PIECE_CACHE_SIZE)(self._word_pieces_uncached)

    def _word_pieces_uncached(self, text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
        ids, strings = super()._lm_tokenize(text)
        return tuple(ids), tuple(strings)

    def _lm_tokenize(self, text: str) -> tuple[list[int], list[str]]:
        """Rasa's word-piece split of one word, remembered (fresh lists each call: Rasa's are its own).

        Words that look like personal data (emails, phone, order and card numbers: any digit or @) are
        split each time and never kept in the process's memory (a name looks like any other word)."""
        ids, strings = self._word_pieces(text) if remembered(text) else self._word_pieces_uncached(text)
        return list(ids), list(strings)

    def _compute_batch_sequence_features(
        self, batch_attention_mask: np.ndarray, padded_token_ids: list[list[int]]
    ) -> np.ndarray:
        hidden = self._forward(
            tf.convert_to_tensor(np.asarray(padded_token_ids, dtype=np.int32)),
            tf.convert_to_tensor(np.asarray(batch_attention_mask, dtype=np.int32)),
        )
        return np.asarray(hidden.numpy())


def remembered(word: str) -> bool:
    """Whether a word's word pieces may be cached: not when it holds a digit or an @."""
    return "@" not in word and not any(character.isdigit() for character in word)


class TunedModelUnreadable(RuntimeError):
    """The model's tuned MiniLM layers are missing or damaged: its intents would be guesses."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class IntentTunedFeaturizer(CompiledLanguageModelFeaturizer):
    """The compiled featurizer, with MiniLM's top layers first fine-tuned on the training data's intents.

    Frozen MiniLM features put sentences about the same topic close together whatever the customer
    wants done ("where is my refund" / "how do refunds work"); DIET on top cannot pull apart what the
    features have merged. At `rasa train` time this component trains MiniLM's top `tuned_layers`
    with a temporary linear head over the full intents (retrieval intents' response keys included),
    then featurizes with the tuned model; the head is dropped, only the tuned layers are persisted
    in the Rasa model and put back over the installed weights on load. A message costs the same
    forward pass as before. README "Benchmarks" has what it gains on our data and on CLINC150."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The compiled featurizer's options, plus the fine-tuning's."""
        return {
            **CompiledLanguageModelFeaturizer.get_default_config(),
            "tuned_layers": 2,
            "epochs": 3,
            "learning_rate": 8e-5,
            "batch_size": 32,
            "max_length": 64,
        }

    def __init__(
        self,
        config: dict[str, Any],
        execution_context: ExecutionContext,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, execution_context)
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentTunedFeaturizer:
        """A featurizer with the installed weights, ready to be trained."""
        return cls(config, execution_context, model_storage, resource)

    def _tuner(self, classes: int) -> TunedMiniLM:
        return TunedMiniLM(
            self.model,
            fast_tokenizer(self.model_weights),
            trainable_layers=int(self._config["tuned_layers"]),
            classes=classes,
            max_length=int(self._config["max_length"]),
            purpose="intent fine-tuning of MiniLM",
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune the top layers on the intent examples and persist them."""
        examples = [m for m in training_data.intent_examples if (m.get(TEXT) or "").strip()]
        intents = sorted({m.get_full_intent() for m in examples})
        if len(intents) < 2:
            raise ValueError(
                f"IntentTunedFeaturizer needs examples of at least two intents to fine-tune on, found {len(intents)}"
            )
        number = {intent: i for i, intent in enumerate(intents)}
        tuner = self._tuner(len(intents))
        tuner.fit(
            [m.get(TEXT) for m in examples],
            [number[m.get_full_intent()] for m in examples],
            epochs=int(self._config["epochs"]),
            learning_rate=float(self._config["learning_rate"]),
            batch_size=int(self._config["batch_size"]),
        )
        logger.info("MiniLM's top %s layers tuned on %d intent examples", self._config["tuned_layers"], len(examples))
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / TUNED_LAYERS_FILE, **tuner.state(head=False))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IntentTunedFeaturizer:
        """The installed weights with the trained layers put back; refuses a model without them."""
        component = cls(config, execution_context, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                state = read_state(directory / TUNED_LAYERS_FILE)
            assign_state(top_layer_variables(component.model, int(config["tuned_layers"])), state)
        except (ValueError, OSError, KeyError) as error:
            raise TunedModelUnreadable(
                f"the model's tuned MiniLM layers cannot be read ({error}); train the model again"
            ) from error
        return component
