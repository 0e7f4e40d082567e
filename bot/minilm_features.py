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

IntentTunedFeaturizer first fine-tunes MiniLM's layers on the training data's intents, and on
labelled sentiment examples when given (bot/minilm_tuning.py), then featurizes with the tuned model
and scores each message's sentiment with the tuned sentiment head (README "Benchmarks").
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm_tuning import TunedMiniLM, assign_state, fast_tokenizer, read_state, top_layer_variables
from bot.sentiment_examples import LABELS, read_examples

logger = logging.getLogger(__name__)

POOLINGS = ("cls", "mean")
# words whose word pieces are remembered: customers reuse a small vocabulary, and Rasa asks the (slow,
# pure-Python) BERT tokenizer word by word, about 1 ms of a parse
WORD_PIECE_CACHE_SIZE = 50_000
TUNED_LAYERS_FILE = "tuned_layers.npz"
SENTIMENT_HEAD_FILE = "sentiment_head.npz"
# where the intent-tuned featurizer puts a message's sentiment probabilities (read by bot/sentiment.py)
TUNED_SENTIMENT = "tuned_sentiment"


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
            means = token_means(sequence_embeddings)
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


def token_means(sequence_embeddings: Any) -> np.ndarray:
    """Each text's mean token vector over every real token, [CLS] and [SEP] included (one row a text)."""
    return np.stack([np.asarray(tokens, dtype=np.float32).mean(axis=0) for tokens in sequence_embeddings])


def remembered(word: str) -> bool:
    """Whether a word's word pieces may be cached: not when it holds a digit or an @."""
    return "@" not in word and not any(character.isdigit() for character in word)


class TunedModelUnreadable(RuntimeError):
    """The model's tuned MiniLM layers are missing or damaged: its intents would be guesses."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class IntentTunedFeaturizer(CompiledLanguageModelFeaturizer):
    """The compiled featurizer, with MiniLM's top layers first fine-tuned on the training data's intents
    (and on labelled sentiment examples, when `sentiment_files` are given).

    Frozen MiniLM features put sentences about the same topic close together whatever the customer
    wants done ("where is my refund" / "how do refunds work"); DIET on top cannot pull apart what the
    features have merged. At `rasa train` time this component trains MiniLM's top `tuned_layers`
    with a linear head over the full intents (retrieval intents' response keys included), then
    featurizes with the tuned model. The intent head is dropped: only the tuned layers are persisted
    in the Rasa model and put back over the installed weights on load. A message costs the same
    forward pass as before.

    With `sentiment_files`, the same layers also learn negative / neutral / positive through a second
    head, batches of either task mixed in every pass; that head is kept, and every message's
    probabilities are put on it as `tuned_sentiment` (bot.sentiment.SentimentAnalyzer with `encoder:
    featurizer` reports them): sentiment at no extra forward pass. Training and served inputs are the
    same: the text as the whitespace tokenizer leaves it. README "Benchmarks" has what both gain."""

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
            # labelled sentiment (bot/sentiment_examples.py formats); none: intents only, no sentiment head
            "sentiment_files": [],
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when a sentiment file changes (Rasa does not see them as training data)."""
        digest = hashlib.sha256()
        for name in config.get("sentiment_files") or []:
            path = Path(str(name))
            digest.update(str(name).encode())
            digest.update(path.read_bytes() if path.is_file() else b"missing")
        return digest.hexdigest()

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
        # the sentiment head's kernel and bias, and the last batch's mean token vectors it reads
        self._sentiment_head: tuple[np.ndarray, np.ndarray] | None = None
        self._pooled: np.ndarray | None = None

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

    def _tuner(self, classes: tuple[int, ...]) -> TunedMiniLM:
        return TunedMiniLM(
            self.model,
            fast_tokenizer(self.model_weights),
            trainable_layers=int(self._config["tuned_layers"]),
            classes=classes,
            max_length=int(self._config["max_length"]),
            purpose="fine-tuning of MiniLM on intents" + (" and sentiment" if len(classes) > 1 else ""),
        )

    def _sentiment_examples(self) -> list[tuple[str, int]]:
        """(text as served, label number) of the sentiment files; refuses files that name none."""
        files = [Path(str(name)) for name in self._config.get("sentiment_files") or []]
        pairs = [pair for path in files for pair in read_examples(path)]
        if files and not pairs:
            raise ValueError(f"IntentTunedFeaturizer: no labelled sentiment examples in {', '.join(map(str, files))}")
        messages = [Message(data={TEXT: text}) for text, _ in pairs]
        WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
        served = [(as_served(m), LABELS.index(label)) for m, (_, label) in zip(messages, pairs, strict=True)]
        return [(text, label) for text, label in served if text]

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune the top layers on the intent (and sentiment) examples and persist them."""
        examples = [m for m in training_data.intent_examples if as_served(m)]
        intents = sorted({m.get_full_intent() for m in examples})
        if len(intents) < 2:
            raise ValueError(
                f"IntentTunedFeaturizer needs examples of at least two intents to fine-tune on, found {len(intents)}"
            )
        number = {intent: i for i, intent in enumerate(intents)}
        sentiment = self._sentiment_examples()
        tuner = self._tuner((len(intents), len(LABELS)) if sentiment else (len(intents),))
        tuner.fit(
            [as_served(m) for m in examples] + [text for text, _ in sentiment],
            [number[m.get_full_intent()] for m in examples] + [label for _, label in sentiment],
            epochs=int(self._config["epochs"]),
            learning_rate=float(self._config["learning_rate"]),
            batch_size=int(self._config["batch_size"]),
            tasks=[0] * len(examples) + [1] * len(sentiment),
        )
        logger.info(
            "MiniLM's top %s layers tuned on %d intent and %d sentiment examples",
            self._config["tuned_layers"],
            len(examples),
            len(sentiment),
        )
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / TUNED_LAYERS_FILE, **tuner.state(head=False))
            if sentiment:
                kernel, bias = tuner.head_weights(1)
                np.savez(directory / SENTIMENT_HEAD_FILE, kernel=kernel, bias=bias)
                self._sentiment_head = (kernel, bias)
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
        """The installed weights with the trained layers (and sentiment head) put back; refuses a model
        without them."""
        component = cls(config, execution_context, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                state = read_state(directory / TUNED_LAYERS_FILE)
                head = read_state(directory / SENTIMENT_HEAD_FILE) if config.get("sentiment_files") else None
            assign_state(top_layer_variables(component.model, int(config["tuned_layers"])), state)
            if head is not None:
                kernel, bias = head["kernel"], head["bias"]
                if kernel.shape != (component.model.config.hidden_size, len(LABELS)) or bias.shape != (len(LABELS),):
                    raise ValueError(f"sentiment head of shape {kernel.shape} and {bias.shape}")
                component._sentiment_head = (kernel, bias)
        except (ValueError, OSError, KeyError) as error:
            raise TunedModelUnreadable(
                f"the model's tuned MiniLM layers cannot be read ({error}); train the model again"
            ) from error
        return component

    def _post_process_sequence_embeddings(self, sequence_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # what the sentiment head was trained on: the mean over every real token, [CLS] and [SEP] included
        if self._sentiment_head is not None:
            self._pooled = token_means(sequence_embeddings)
        return super()._post_process_sequence_embeddings(sequence_embeddings)

    def _get_docs_for_batch(
        self, batch_examples: list[Message], attribute: str, inference_mode: bool = False
    ) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = super()._get_docs_for_batch(batch_examples, attribute, inference_mode)
        if self._sentiment_head is not None and attribute == TEXT and self._pooled is not None:
            kernel, bias = self._sentiment_head
            logits = self._pooled @ kernel + bias
            logits -= logits.max(axis=1, keepdims=True)
            probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            for message, row in zip(batch_examples, probabilities, strict=True):
                message.set(TUNED_SENTIMENT, {label: float(p) for label, p in zip(LABELS, row, strict=True)})
        self._pooled = None
        return docs


def as_served(message: Message) -> str:
    """A message's text as the featurizer reads it: its tokens joined by spaces (the whitespace tokenizer
    drops punctuation between words), or the text itself when it has no tokens."""
    tokens = message.get(TOKENS_NAMES[TEXT])
    if tokens is None:
        return str(message.get(TEXT) or "").strip()
    return " ".join(token.text for token in tokens)
