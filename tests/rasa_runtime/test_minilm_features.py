"""The compiled featurizer gives Rasa's own LanguageModelFeaturizer features, for any batch shape; the
intent-tuned one trains, persists and restores its tuned layers."""

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm_features import (
    SENTIMENT_HEAD_FILE,
    TUNED_LAYERS_FILE,
    TUNED_SENTIMENT,
    CompiledLanguageModelFeaturizer,
    IntentTunedFeaturizer,
    TunedModelUnreadable,
    as_served,
    remembered,
)

TEXTS = [
    "where is my order SO-123456?",
    "hi",
    "I want a waterproof hiking jacket in navy, size L, under 120 dollars, that ships before Friday please",
    "ça marche 👍",
]


def featurized(featurizer: LanguageModelFeaturizer, texts: list[str], batch: bool) -> list[Message]:
    """Messages of the texts, tokenized and featurized in one batch or one by one."""
    messages = [Message(data={TEXT: text}) for text in texts]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    if batch:
        featurizer.process_training_data(TrainingData(messages))
    else:
        featurizer.process(messages)
    return messages


def features(featurizer: LanguageModelFeaturizer, batch: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for message in featurized(featurizer, TEXTS, batch):
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


def test_remembered_word_pieces_are_rasas_and_cannot_be_changed_by_a_caller() -> None:
    config = {**LanguageModelFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"]}
    context = ExecutionContext(GraphSchema({}), "test")
    rasas = LanguageModelFeaturizer(config, context)
    compiled = CompiledLanguageModelFeaturizer(config, context)
    for word in ("waterproof", "SO-123456", "ça", "👍", "unbelievably"):
        first = compiled._lm_tokenize(word)
        assert first == rasas._lm_tokenize(word)
        first[0].append(999)
        first[1].append("##mangled")
        assert compiled._lm_tokenize(word) == rasas._lm_tokenize(word)


def test_words_that_may_be_personal_data_are_split_but_never_remembered() -> None:
    config = {**LanguageModelFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"]}
    context = ExecutionContext(GraphSchema({}), "test")
    rasas = LanguageModelFeaturizer(config, context)
    compiled = CompiledLanguageModelFeaturizer(config, context)
    personal = ("jane.doe@example.com", "+44-7700-900123", "SO-123456", "4111111111111111", "flat2b")
    for word in (*personal, "jacket", "Jacket"):
        assert compiled._lm_tokenize(word) == rasas._lm_tokenize(word)
    cached = compiled._word_pieces.cache_info()
    assert cached.currsize == 2  # the two spellings of "jacket"
    for word in personal:
        assert not remembered(word)
    assert remembered("waterproof") and remembered("ça")


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


def _intent_data() -> TrainingData:
    said = {
        "order_status": ["where is my order", "has my parcel shipped", "order status please", "when does it arrive"],
        "return_item": ["I want to send this back", "return these shoes", "start a return", "take back my coat"],
        "greet": ["hello", "hi there", "good morning", "hey"],
    }
    messages = [Message(data={TEXT: text, "intent": intent}) for intent, texts in said.items() for text in texts]
    messages.append(Message(data={TEXT: "   ", "intent": "greet"}))  # nothing to learn from: left out, no error
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(TrainingData(messages))
    return TrainingData(messages)


def _tuned_config() -> dict[str, object]:
    return {**IntentTunedFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"],
            "sentence_pooling": "mean", "tuned_layers": 1, "epochs": 2, "batch_size": 4}  # fmt: skip


def test_tuned_layers_are_persisted_and_change_the_features(tmp_path: Path) -> None:
    """Trained on intents, stored in the model, loaded over the installed weights: the loaded featurizer
    gives the trained one's features, which differ from the untuned ones in the tuned layers only."""
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(tmp_path)
    resource = Resource("featurizer")
    trained = IntentTunedFeaturizer.create(_tuned_config(), storage, resource, context)
    trained.train(_intent_data())
    loaded = IntentTunedFeaturizer.load(_tuned_config(), storage, resource, context)
    untuned = CompiledLanguageModelFeaturizer(_tuned_config(), context)
    for (t_sequence, t_sentence), (l_sequence, l_sentence), (u_sequence, _) in zip(
        features(trained, batch=True), features(loaded, batch=False), features(untuned, batch=True), strict=True
    ):
        np.testing.assert_allclose(l_sequence, t_sequence, atol=1e-4)
        np.testing.assert_allclose(l_sentence, t_sentence, atol=1e-4)
        assert np.abs(l_sequence - u_sequence).max() > 1e-3
    # only the one tuned layer is stored (about 1.8 M numbers), not the model nor the head
    with storage.read_from(resource) as directory, np.load(directory / TUNED_LAYERS_FILE) as stored:
        assert 1_500_000 < sum(stored[name].size for name in stored.files) < 2_000_000


def test_tuning_twice_on_the_same_data_gives_the_same_layers(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    tuned = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        storage = LocalModelStorage(tmp_path / run)
        resource = Resource("featurizer")
        IntentTunedFeaturizer.create(_tuned_config(), storage, resource, context).train(_intent_data())
        with storage.read_from(resource) as directory, np.load(directory / TUNED_LAYERS_FILE) as stored:
            tuned.append({name: stored[name].copy() for name in stored.files})
    assert tuned[0].keys() == tuned[1].keys()
    for name in tuned[0]:
        np.testing.assert_array_equal(tuned[0][name], tuned[1][name])


def test_tuning_refuses_bad_settings_and_too_little_data(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(tmp_path)
    too_deep = IntentTunedFeaturizer.create({**_tuned_config(), "tuned_layers": 7}, storage, Resource("a"), context)
    with pytest.raises(ValueError, match="trainable_layers must be between 1 and 6"):
        too_deep.train(_intent_data())
    one_intent = TrainingData([m for m in _intent_data().training_examples if m.get("intent") == "greet"])
    component = IntentTunedFeaturizer.create(_tuned_config(), storage, Resource("b"), context)
    with pytest.raises(ValueError, match="at least two intents"):
        component.train(one_intent)


def test_a_model_without_its_tuned_layers_is_refused_at_load(tmp_path: Path) -> None:
    """DIET learnt on the tuned features: serving the untuned ones would answer with guesses."""
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(tmp_path)
    resource = Resource("featurizer")
    with storage.write_to(resource) as directory:
        (directory / TUNED_LAYERS_FILE).write_bytes(b"not an archive")
    with pytest.raises(TunedModelUnreadable, match="train the model again"):
        IntentTunedFeaturizer.load(_tuned_config(), storage, resource, context)


SENTIMENT = [("love it, thank you!", "positive"), ("perfect fit, great boots", "positive"),
             ("brilliant service, so happy", "positive"), ("this is awful!!", "negative"),
             ("broken again, terrible", "negative"), ("worst shop ever, I hate it", "negative"),
             ("where is my parcel?", "neutral"), ("do you sell teapots", "neutral"),
             ("what time do you open", "neutral")]  # fmt: skip


def _sentiment_file(tmp_path: Path) -> Path:
    labelled = tmp_path / "sentiment.yml"
    labelled.write_text(yaml.safe_dump({"examples": [{"text": t, "label": lab} for t, lab in SENTIMENT]}))
    return labelled


def _scored(featurizer: IntentTunedFeaturizer, texts: list[str], batch: bool) -> list[dict[str, float] | None]:
    return [m.get(TUNED_SENTIMENT) for m in featurized(featurizer, texts, batch)]


def test_tuning_on_sentiment_too_keeps_a_head_that_scores_every_message(tmp_path: Path) -> None:
    """Intents and sentiment tune the same layers; the sentiment head is stored in the model and, loaded
    again, scores each message as the trained featurizer did, in batches and one by one."""
    context = ExecutionContext(GraphSchema({}), "test")
    for folder in ("model", "plain"):
        (tmp_path / folder).mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    resource = Resource("featurizer")
    config = {**_tuned_config(), "sentiment_files": [str(_sentiment_file(tmp_path))], "epochs": 8,
              "learning_rate": 2e-4}  # fmt: skip
    trained = IntentTunedFeaturizer.create(config, storage, resource, context)
    trained.train(_intent_data())
    loaded = IntentTunedFeaturizer.load(config, storage, resource, context)
    texts = [text for text, _ in SENTIMENT] + ["so happy with my new boots", "the zip broke, awful", ""]
    expected = _scored(trained, texts, batch=True)
    for scored in (_scored(loaded, texts, batch=True), _scored(loaded, texts, batch=False)):
        for got, want in zip(scored[:-1], expected[:-1], strict=True):
            assert got is not None and want is not None
            assert got == pytest.approx(want, abs=1e-4)
            assert sum(got.values()) == pytest.approx(1.0, abs=1e-5)
        assert scored[-1] is None  # nothing said: nothing featurized, nothing scored
    # the head learnt its examples, and sentences it never saw go the right way
    learnt = [max(s, key=lambda k: s[k]) for s in expected[: len(SENTIMENT)] if s]
    assert sum(got == want for got, (_, want) in zip(learnt, SENTIMENT, strict=True)) >= 7
    happy, broken = expected[-3], expected[-2]
    assert happy is not None and broken is not None
    assert happy["positive"] > happy["negative"] and broken["negative"] > broken["positive"]
    # a featurizer tuned on intents only scores nothing
    plain = IntentTunedFeaturizer.create(_tuned_config(), LocalModelStorage(tmp_path / "plain"), resource, context)
    plain.train(_intent_data())
    assert _scored(plain, texts[:2], batch=True) == [None, None]


def test_sentiment_files_without_examples_or_a_model_without_its_head_are_refused(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    empty = tmp_path / "empty.yml"
    empty.write_text('version: "1"\nexamples: []\n')
    config = {**_tuned_config(), "sentiment_files": [str(empty)]}
    component = IntentTunedFeaturizer.create(config, LocalModelStorage(tmp_path / "a"), Resource("f"), context)
    with pytest.raises(ValueError, match="no labelled sentiment examples"):
        component.train(_intent_data())
    # trained without sentiment, loaded as if with it: the head is missing
    storage = LocalModelStorage(tmp_path / "b")
    IntentTunedFeaturizer.create(_tuned_config(), storage, Resource("f"), context).train(_intent_data())
    with storage.read_from(Resource("f")) as directory:
        assert (directory / TUNED_LAYERS_FILE).is_file() and not (directory / SENTIMENT_HEAD_FILE).exists()
    with pytest.raises(TunedModelUnreadable, match="train the model again"):
        IntentTunedFeaturizer.load({**_tuned_config(), "sentiment_files": [str(_sentiment_file(tmp_path))]},
                                   storage, Resource("f"), context)  # fmt: skip


def test_the_tuned_text_is_what_the_featurizer_is_served() -> None:
    """Tuning reads a message as the whitespace tokenizer leaves it: punctuation between words dropped,
    apostrophes split (Rasa's tokenizer does both)."""
    message = Message(data={TEXT: "where's my order?!  SO-123456 ... thanks :)"})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    assert as_served(message) == "where s my order SO-123456 thanks"
    assert as_served(Message(data={TEXT: "  not tokenized  "})) == "not tokenized"
