"""The compiled featurizer gives Rasa's own LanguageModelFeaturizer features, for any batch shape."""

import os

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm_features import CompiledLanguageModelFeaturizer

TEXTS = [
    "where is my order SO-123456?",
    "hi",
    "I want a waterproof hiking jacket in navy, size L, under 120 dollars, that ships before Friday please",
    "ça marche 👍",
]


def features(featurizer: LanguageModelFeaturizer, batch: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    messages = [Message(data={TEXT: text}) for text in TEXTS]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    if batch:
        featurizer.process_training_data(TrainingData(messages))
    else:
        featurizer.process(messages)
    out = []
    for message in messages:
        sequence, sentence = message.get_dense_features(TEXT)
        assert sequence is not None and sentence is not None
        out.append((np.asarray(sequence.features), np.asarray(sentence.features)))
    return out


def test_compiled_features_equal_rasas_one_by_one_and_in_batches() -> None:
    config = {**LanguageModelFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"]}
    context = ExecutionContext(GraphSchema({}), "test")
    reference = features(LanguageModelFeaturizer(config, context), batch=False)
    compiled = CompiledLanguageModelFeaturizer(config, context)
    for batch in (False, True):
        for (ref_sequence, ref_sentence), (sequence, sentence) in zip(
            reference, features(compiled, batch=batch), strict=True
        ):
            assert sequence.shape == ref_sequence.shape
            np.testing.assert_allclose(sequence, ref_sequence, atol=1e-4)
            np.testing.assert_allclose(sentence, ref_sentence, atol=1e-4)


def test_mean_pooling_gives_the_unit_mean_of_every_token_vector_and_keeps_the_sequence() -> None:
    config = {**CompiledLanguageModelFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"]}
    context = ExecutionContext(GraphSchema({}), "test")
    cls = CompiledLanguageModelFeaturizer(config, context)
    mean = CompiledLanguageModelFeaturizer({**config, "sentence_pooling": "mean"}, context)
    for (cls_sequence, cls_sentence), (sequence, sentence) in zip(
        features(cls, batch=True), features(mean, batch=False), strict=True
    ):
        np.testing.assert_allclose(sequence, cls_sequence, atol=1e-4)  # the token features do not change
        assert not np.allclose(sentence, cls_sentence, atol=1e-2)  # not the [CLS] vector
        assert abs(np.linalg.norm(sentence) - 1.0) < 1e-4
    # words the whole-text tokenizer splits as Rasa's whitespace tokens do: the same ids reach the model
    for text in ("where is my order", "i want a waterproof hiking jacket in navy"):
        message = Message(data={TEXT: text})
        WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
        mean.process([message])
        sentence = np.asarray(message.get_dense_features(TEXT)[1].features)
        ids = mean.tokenizer(text)["input_ids"]  # [CLS] ... [SEP]
        hidden = mean._forward(np.asarray([ids], dtype=np.int32), np.ones((1, len(ids)), dtype=np.int32))
        expected = hidden.numpy()[0].mean(axis=0)
        np.testing.assert_allclose(sentence.ravel(), expected / np.linalg.norm(expected), atol=1e-4)


def test_an_unknown_pooling_is_refused_when_the_featurizer_loads() -> None:
    config = {**CompiledLanguageModelFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"]}
    try:
        CompiledLanguageModelFeaturizer({**config, "sentence_pooling": "max"}, ExecutionContext(GraphSchema({}), "t"))
    except ValueError as error:
        assert "sentence_pooling" in str(error) and "'max'" in str(error)
    else:
        raise AssertionError("an unknown pooling was accepted")
