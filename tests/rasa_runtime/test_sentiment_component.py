"""The sentiment component: frustration signals, labelled files, and training on the pipeline's features."""

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.minilm_features import TUNED_SENTIMENT, CompiledLanguageModelFeaturizer, IntentTunedFeaturizer
from bot.sentiment import SentimentAnalyzer, frustration_signals, label_of
from bot.sentiment_examples import read_examples


@pytest.mark.parametrize(
    ("text", "signals"),
    [
        ("where is my order", []),
        ("WHERE IS MY ORDER", ["shouting"]),
        ("where is it???", ["repeated_punctuation"]),
        ("this is crap", ["profanity"]),
        ("this is the third time I ask", ["repeated_request"]),
        ("I've asked you twice already", ["repeated_request"]),
        ("I will never shop here again", ["threat_to_leave"]),
        ("WTF, THIRD TIME I ASK!!!", ["shouting", "repeated_punctuation", "profanity", "repeated_request"]),
        ("I love my NEW hoodie", []),  # one capitalised word is not shouting
    ],
)
def test_frustration_signals(text: str, signals: list[str]) -> None:
    assert frustration_signals(text) == signals


def test_a_frustrated_customer_is_not_neutral_whichever_way_the_classifier_leans() -> None:
    unsure = {"negative": 0.45, "neutral": 0.52, "positive": 0.03}
    assert label_of(unsure, []) == "neutral"
    assert label_of(unsure, ["repeated_request"]) == "negative"
    assert label_of({"negative": 0.1, "neutral": 0.6, "positive": 0.3}, ["shouting"]) == "positive"  # I LOVE IT
    assert label_of(unsure, ["repeated_punctuation"]) == "neutral"  # "thanks!!" comes with delight too
    assert label_of({"negative": 0.1, "neutral": 0.2, "positive": 0.7}, ["profanity"]) == "positive"


def test_labelled_files(tmp_path: Path) -> None:
    ours = tmp_path / "ours.yml"
    ours.write_text('version: "1"\nexamples:\n  - text: "love it"\n    label: positive\n')
    assert read_examples(ours) == [("love it", "positive")]
    ours.write_text('version: "1"\nexamples:\n  - text: "meh"\n    label: grumpy\n')
    with pytest.raises(ValueError, match="unknown sentiment labels"):
        read_examples(ours)
    (tmp_path / "labels.txt").write_text("ambiguous\nnegative\nneutral\npositive\n")
    tsv = tmp_path / "train.tsv"
    tsv.write_text("so good\t3\tid1\nawful\t1\tid2\nhmm\t0\tid3\nmixed\t1,3\tid4\nok then\t2\tid5\n")
    assert read_examples(tsv) == [("so good", "positive"), ("awful", "negative"), ("ok then", "neutral")]


def test_our_training_file_is_balanced_enough() -> None:
    pairs = read_examples(Path(__file__).resolve().parents[2] / "bot" / "sentiment_data" / "train.yml")
    counts = {label: sum(1 for _, lab in pairs if lab == label) for label in ("negative", "neutral", "positive")}
    assert min(counts.values()) >= 250 and len({text.lower() for text, _ in pairs}) == len(pairs)


@pytest.mark.parametrize("pipeline_pooling", ["mean", "cls"])
def test_training_needs_the_pipelines_features(tmp_path: Path, pipeline_pooling: str) -> None:
    """Trained on features made otherwise than the pipeline's, the classifier would be served other ones."""
    weights = os.environ["MINILM_MODEL_DIR"]
    context = ExecutionContext(GraphSchema({}), "test")
    featurizer = CompiledLanguageModelFeaturizer(
        {**CompiledLanguageModelFeaturizer.get_default_config(), "model_weights": weights,
         "sentence_pooling": pipeline_pooling}, context)  # fmt: skip
    messages = [Message(data={TEXT: text, INTENT: "x"}) for text in ("where is my parcel", "thanks a lot")]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    featurizer.process_training_data(TrainingData(messages))
    labelled = tmp_path / "train.yml"
    labelled.write_text(
        'version: "1"\nexamples:\n  - text: "love it"\n    label: positive\n  - text: "awful"\n    label: negative\n'
        '  - text: "where is it"\n    label: neutral\n'
    )
    config = {**SentimentAnalyzer.get_default_config(), "training_file": str(labelled), "model_weights": weights,
              "sentence_pooling": "mean"}  # fmt: skip
    (tmp_path / "model").mkdir()
    component = SentimentAnalyzer.create(config, LocalModelStorage(tmp_path / "model"), Resource("sentiment"), context)
    if pipeline_pooling == "mean":
        component.train(TrainingData(messages))
        component.process(messages)
        assert all(m.get("sentiment") for m in messages)
    else:
        with pytest.raises(ValueError, match="sentence_pooling"):
            component.train(TrainingData(messages))


def _labelled(tmp_path: Path) -> Path:
    labelled = tmp_path / "train.yml"
    examples = [("love it, thank you", "positive"), ("perfect fit, great boots", "positive"),
                ("this is awful", "negative"), ("broken again, terrible", "negative"),
                ("where is my parcel", "neutral"), ("do you sell teapots", "neutral")]  # fmt: skip
    labelled.write_text(yaml.safe_dump({"examples": [{"text": t, "label": lab} for t, lab in examples]}))
    return labelled


def test_fine_tuned_encoder_is_persisted_and_served(tmp_path: Path) -> None:
    """Trained, stored in the model, loaded again: the loaded component gives the trained one's scores."""
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SentimentAnalyzer.get_default_config(), "training_file": str(_labelled(tmp_path)),
              "model_weights": os.environ["MINILM_MODEL_DIR"], "encoder": "fine_tuned", "trainable_layers": 1,
              "epochs": 3, "learning_rate": 1e-4, "batch_size": 4}  # fmt: skip
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    resource = Resource("sentiment")
    trained = SentimentAnalyzer.create(config, storage, resource, context)
    trained.train(TrainingData())
    texts = ["the zip broke on day one", "thanks, all good", "", "   "]
    expected = trained.predict(texts[:2])
    loaded = SentimentAnalyzer.load(config, storage, resource, context)
    messages = [Message(data={TEXT: text}) for text in texts]
    loaded.process(messages)
    for message, scores in zip(messages[:2], expected, strict=True):
        assert message.get("sentiment")["scores"] == pytest.approx(scores, abs=1e-3)
    # nothing said: neutral, no forward pass needed
    assert [m.get("sentiment")["label"] for m in messages[2:]] == ["neutral", "neutral"]
    # only the trained top layer and the head are stored, not the whole model
    with storage.read_from(resource) as directory:
        stored = np.load(directory / "sentiment_encoder.npz")
        assert 1_000_000 < sum(stored[name].size for name in stored.files) < 2_500_000


def test_fine_tuned_encoder_refuses_bad_settings(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    base = {**SentimentAnalyzer.get_default_config(), "training_file": str(_labelled(tmp_path)),
            "model_weights": os.environ["MINILM_MODEL_DIR"]}  # fmt: skip
    with pytest.raises(ValueError, match="encoder must be one of"):
        SentimentAnalyzer.create({**base, "encoder": "bigger"}, storage, Resource("s"), context)
    component = SentimentAnalyzer.create({**base, "encoder": "fine_tuned", "trainable_layers": 7}, storage,
                                         Resource("s"), context)  # fmt: skip
    with pytest.raises(ValueError, match="trainable_layers must be between 1 and 6"):
        component.train(TrainingData())


def test_unreadable_stored_encoder_gives_neutral_not_a_crash(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    resource = Resource("sentiment")
    with storage.write_to(resource) as directory:
        (directory / "sentiment_encoder.npz").write_bytes(b"not an archive")
    config = {**SentimentAnalyzer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"],
              "encoder": "fine_tuned"}  # fmt: skip
    component = SentimentAnalyzer.load(config, storage, resource, context)
    message = Message(data={TEXT: "this is terrible"})
    component.process([message])
    assert message.get("sentiment")["label"] == "neutral"


def test_featurizer_encoder_reports_the_tuned_featurizers_sentiment(tmp_path: Path) -> None:
    """With `encoder: featurizer` the component reports what IntentTunedFeaturizer's sentiment head
    scored (plus the frustration signals), trains and stores nothing of its own, and refuses a pipeline
    whose featurizer scores no sentiment."""
    context = ExecutionContext(GraphSchema({}), "test")
    for folder in ("featurizer", "plain", "model"):
        (tmp_path / folder).mkdir()
    tuning = {**IntentTunedFeaturizer.get_default_config(), "model_weights": os.environ["MINILM_MODEL_DIR"],
              "sentence_pooling": "mean", "tuned_layers": 1, "epochs": 2, "batch_size": 4}  # fmt: skip
    said = {"order_status": ["where is my order", "has my parcel shipped"], "greet": ["hello", "hi there"]}
    training = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in said.items() for t in texts])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(training)
    config = {**SentimentAnalyzer.get_default_config(), "encoder": "featurizer"}
    storage = LocalModelStorage(tmp_path / "model")

    plain = IntentTunedFeaturizer.create(tuning, LocalModelStorage(tmp_path / "plain"), Resource("f"), context)
    plain.train(training)
    plain.process_training_data(training)
    with pytest.raises(ValueError, match="sentiment_files"):
        SentimentAnalyzer.create(config, storage, Resource("sentiment"), context).train(training)

    with_sentiment = {**tuning, "sentiment_files": [str(_labelled(tmp_path))]}
    featurizer = IntentTunedFeaturizer.create(
        with_sentiment, LocalModelStorage(tmp_path / "featurizer"), Resource("f"), context
    )
    featurizer.train(training)
    featurizer.process_training_data(training)
    SentimentAnalyzer.create(config, storage, Resource("sentiment"), context).train(training)
    component = SentimentAnalyzer.load(config, storage, Resource("sentiment"), context)
    messages = [Message(data={TEXT: text}) for text in ("THIS IS AWFUL!!!", "thanks, all good", "")]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    featurizer.process(messages)
    component.process(messages)
    for message in messages[:2]:
        tuned = message.get(TUNED_SENTIMENT)
        reported = message.get("sentiment")
        assert reported["scores"] == pytest.approx(tuned, abs=1e-4)
        assert reported["label"] == max(tuned, key=lambda k: tuned[k])
    assert messages[0].get("sentiment")["frustration"] == ["shouting", "repeated_punctuation"]
    assert messages[2].get("sentiment")["label"] == "neutral"
    with pytest.raises(ValueError, match="IntentTunedFeaturizer scores the texts"):
        component.predict(["hello"])
