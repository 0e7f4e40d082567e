"""MiniLM fine-tuned on labels: its top transformer layers trained together with a linear head.

A classifier on frozen MiniLM features stops short where the labels live in token interactions the
sentence encoder was not trained to keep: on GoEmotions' negative-vs-positive test a logistic
regression on the frozen mean vector reaches about 0.84 macro-F1 however it is regularised, and on
CLINC150 a classifier on frozen features stays near 0.93 in-scope accuracy. Here the top
`trainable_layers` of MiniLM are trained with a head (the mean of the token vectors, as the model
pools, then a linear layer over the labels); the layers below stay as shipped. Only what was
trained is persisted (about 1.8 M numbers a layer); the rest is read from the local weights the
pipeline's featurizer uses, so nothing is downloaded.

Two users: the sentiment component (bot/sentiment.py: three labels, its own copy of MiniLM) and the
intent-tuned featurizer (bot/minilm_features.py: the intents, tuning the pipeline's own MiniLM).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)


def fast_tokenizer(model_weights: str) -> Any:
    """MiniLM's fast tokenizer from a local weights folder."""
    # the Rasa runtime's transformers has these classes; the actions runtime's (which mypy reads) does not
    from transformers import BertTokenizerFast  # type: ignore[attr-defined]

    return BertTokenizerFast.from_pretrained(model_weights)


def load_minilm(model_weights: str) -> tuple[Any, Any]:
    """The TF model and fast tokenizer from a local weights folder."""
    from transformers import TFBertModel  # type: ignore[attr-defined]

    return TFBertModel.from_pretrained(model_weights), fast_tokenizer(model_weights)


def read_state(path: Any) -> dict[str, np.ndarray]:
    """Weights saved from `TunedMiniLM.state` (an .npz file), read into memory."""
    with np.load(path) as stored:
        return {name: np.asarray(stored[name]) for name in stored.files}


def top_layer_variables(bert: Any, layers: int) -> list[Any]:
    """The trainable variables of a TFBertModel's top `layers` transformer layers, in a fixed order."""
    stack = bert.bert.encoder.layer
    if not 0 < layers <= len(stack):
        raise ValueError(f"trainable_layers must be between 1 and {len(stack)}, not {layers}")
    return [v for layer in stack[-layers:] for v in layer.trainable_variables]


def assign_state(variables: Sequence[Any], state: dict[str, Any]) -> None:
    """Put saved weights (`v0`, `v1`, ...) into variables; refuses weights of another number or shape."""
    if len(state) != len(variables):
        raise ValueError(f"{len(state)} stored weights, expected {len(variables)}")
    for i, variable in enumerate(variables):
        value = np.asarray(state[f"v{i}"])
        if value.shape != tuple(variable.shape):
            raise ValueError(f"stored weight {i} has shape {value.shape}, expected {tuple(variable.shape)}")
        variable.assign(value)


class TunedMiniLM:
    """A MiniLM model (TFBertModel) with trainable top layers and linear heads over labels.

    `classes` is one head's number of labels, or several heads' (one per task, e.g. intents and
    sentiment): every head reads the same pooled vector, each example trains its own task's head and
    the shared layers. The model is tuned in place: whoever else holds it (the featurizer) sees the
    trained layers."""

    def __init__(
        self,
        bert: Any,
        tokenizer: Any,
        trainable_layers: int,
        classes: int | Sequence[int],
        max_length: int,
        seed: int = 7,
        purpose: str = "fine-tuning",
    ) -> None:
        self._layer_variables = top_layer_variables(bert, trainable_layers)
        self._classes = (classes,) if isinstance(classes, int) else tuple(classes)
        if not self._classes or min(self._classes) < 2:
            raise ValueError(f"fine-tuning needs at least two labels a head, not {list(self._classes)}")
        self._bert, self._tokenizer = bert, tokenizer
        self._max_length, self._seed, self._purpose = max_length, seed, purpose
        # Keras' unseeded initializers and dropout draw fresh seeds in every process unless Keras'
        # own seed is set (tf.random.set_seed alone left the heads' start, and so the tuning, random)
        tf.keras.utils.set_random_seed(seed)
        self._heads = [tf.keras.layers.Dense(n, name=f"head{i}") for i, n in enumerate(self._classes)]
        for head in self._heads:
            head.build((None, bert.config.hidden_size))
        self._head_variables = [v for head in self._heads for v in head.trainable_variables]
        self._trainable = self._layer_variables + self._head_variables
        signature = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)]
        self._probabilities = [
            tf.function(functools.partial(self._softmax, head=head), input_signature=signature).get_concrete_function()
            for head in range(len(self._heads))
        ]

    def _softmax(self, ids: tf.Tensor, mask: tf.Tensor, head: int) -> tf.Tensor:
        return tf.nn.softmax(self._logits(ids, mask, training=False, head=head))

    def _logits(self, ids: tf.Tensor, mask: tf.Tensor, training: bool, head: int) -> tf.Tensor:
        tokens = self._bert(ids, attention_mask=mask, training=training)[0]
        weights = tf.cast(mask[..., None], tokens.dtype)
        pooled = tf.reduce_sum(tokens * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)
        return self._heads[head](pooled)

    def head_weights(self, head: int) -> tuple[np.ndarray, np.ndarray]:
        """A head's kernel (hidden size x labels) and bias: its logits are `pooled @ kernel + bias`, where
        pooled is the mean of the token vectors over every real token ([CLS] and [SEP] included)."""
        kernel, bias = self._heads[head].trainable_variables
        return kernel.numpy(), bias.numpy()

    def _encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encoded = self._tokenizer(
            list(texts), padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
        )
        return encoded["input_ids"].astype(np.int32), encoded["attention_mask"].astype(np.int32)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[int],
        epochs: int,
        learning_rate: float,
        batch_size: int,
        tasks: Sequence[int] | None = None,
    ) -> None:
        """Train the top layers and the heads (AdamW, linear decay, each head's classes weighted as
        balanced). `tasks` says which head each example trains (all the first one when not given); a
        batch holds one task's examples, the tasks' batches mixed in every pass."""
        if not texts:
            raise ValueError("no labelled examples to fine-tune on")
        targets = np.asarray(labels, dtype=np.int32)
        task_of = np.zeros(len(texts), dtype=np.int32) if tasks is None else np.asarray(tasks, dtype=np.int32)
        if len(task_of) != len(texts) or len(targets) != len(texts):
            raise ValueError(f"{len(texts)} texts, {len(targets)} labels and {len(task_of)} tasks")
        class_weights = []
        for head, classes in enumerate(self._classes):
            own = targets[task_of == head]
            if own.size and (own.min() < 0 or own.max() >= classes):
                raise ValueError(f"head {head} has {classes} labels; got label {int(own.max())}")
            counts = np.bincount(own, minlength=classes).astype(np.float32)
            class_weights.append(tf.constant(max(len(own), 1) / (classes * np.maximum(counts, 1.0)), tf.float32))
        batches = self._batches(texts, task_of, batch_size, epochs)
        schedule = tf.keras.optimizers.schedules.PolynomialDecay(learning_rate, len(batches), 0.0)
        optimizer = tf.keras.optimizers.experimental.AdamW(learning_rate=schedule, weight_decay=0.01)
        variables = self._layer_variables
        optimizer.build(self._trainable)  # every head's variables: a step updates one head's only
        signature = [tf.TensorSpec([None, None], tf.int32)] * 2 + [tf.TensorSpec([None], tf.int32)]

        def step_of(head: int) -> Any:
            trained = variables + self._heads[head].trainable_variables

            @tf.function(input_signature=signature)  # type: ignore[untyped-decorator]
            def step(ids: tf.Tensor, mask: tf.Tensor, gold: tf.Tensor) -> tf.Tensor:
                with tf.GradientTape() as tape:
                    logits = self._logits(ids, mask, training=True, head=head)
                    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(gold, logits)
                    loss = tf.reduce_mean(losses * tf.gather(class_weights[head], gold))
                # autograph's zip takes no `strict`; gradient and variable lists have the same length by construction
                optimizer.apply_gradients(zip(tape.gradient(loss, trained), trained))  # noqa: B905
                return loss

            return step

        steps = [step_of(head) for head in range(len(self._heads))]
        started = time.perf_counter()
        for number, (head, batch) in enumerate(batches, start=1):
            ids, mask = self._encode([texts[i] for i in batch])
            loss = steps[head](ids, mask, targets[batch])
            if number % 50 == 0 or number == len(batches):
                logger.info(
                    "%s: step %d/%d, loss %.3f, %.0f s",
                    self._purpose,
                    number,
                    len(batches),
                    float(loss),
                    time.perf_counter() - started,
                )

    def _batches(
        self, texts: Sequence[str], tasks: np.ndarray, batch_size: int, epochs: int
    ) -> list[tuple[int, list[int]]]:
        """(task, batch) pairs: shuffled batches of one task's texts of similar length (less padding),
        `epochs` passes over the texts."""
        rng = random.Random(self._seed)
        batches: list[tuple[int, list[int]]] = []
        for _ in range(epochs):
            for head in range(len(self._heads)):
                order = [int(i) for i in np.flatnonzero(tasks == head)]
                rng.shuffle(order)
                pool = batch_size * 50
                for start in range(0, len(order), pool):
                    chunk = sorted(order[start : start + pool], key=lambda i: len(texts[i]))
                    batches += [(head, chunk[i : i + batch_size]) for i in range(0, len(chunk), batch_size)]
        rng.shuffle(batches)
        return batches

    def predict(self, texts: Sequence[str], batch_size: int = 64, head: int = 0) -> np.ndarray:
        """A head's label probabilities, one row per text (texts of similar length batched together)."""
        out = np.zeros((len(texts), self._classes[head]), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            ids, mask = self._encode([texts[i] for i in chosen])
            out[chosen] = self._probabilities[head](tf.constant(ids), tf.constant(mask)).numpy()
        return out

    def state(self, head: bool = True) -> dict[str, Any]:
        """What training changed, in a fixed order (the other weights are the shipped ones); without the
        heads, only the tuned layers (what a featurizer needs)."""
        variables = self._trainable if head else self._layer_variables
        return {f"v{i}": variable.numpy() for i, variable in enumerate(variables)}

    def restore(self, state: dict[str, Any]) -> None:
        """Put persisted trained weights back (with or without the heads, as stored); refuses weights of
        another shape or number."""
        if len(state) not in (len(self._layer_variables), len(self._trainable)):
            raise ValueError(
                f"{len(state)} stored weights; the tuned layers have {len(self._layer_variables)}, "
                f"with the heads {len(self._trainable)}"
            )
        assign_state(self._layer_variables if len(state) == len(self._layer_variables) else self._trainable, state)
