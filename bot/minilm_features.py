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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer

POOLINGS = ("cls", "mean")


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

    def _compute_batch_sequence_features(
        self, batch_attention_mask: np.ndarray, padded_token_ids: list[list[int]]
    ) -> np.ndarray:
        hidden = self._forward(
            tf.convert_to_tensor(np.asarray(padded_token_ids, dtype=np.int32)),
            tf.convert_to_tensor(np.asarray(batch_attention_mask, dtype=np.int32)),
        )
        return np.asarray(hidden.numpy())
