"""FamiliarityFallback: messages unlike every training example go to the fallback, others keep their intent."""

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.familiarity import FAMILIARITY, FamiliarityFallback

CONTEXT = ExecutionContext(GraphSchema({}), "test")


def featurized(text: str, vector: list[float], intent: str | None = None) -> Message:
    message = Message.build(text=text, intent=intent)
    message.add_features(Features(np.array([vector], dtype=np.float32), "sentence", TEXT, "test-featurizer"))
    if intent is None:
        message.set("intent", {"name": "greet", "confidence": 0.97})
        message.set("intent_ranking", [{"name": "greet", "confidence": 0.97}, {"name": "thank", "confidence": 0.03}])
    return message


def trained(tmp_path: Path, examples: list[Message], **config: object) -> FamiliarityFallback:
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("familiarity")
    settings = {**FamiliarityFallback.get_default_config(), **config}
    FamiliarityFallback.create(settings, storage, resource, CONTEXT).train(TrainingData(examples))
    return FamiliarityFallback.load(settings, storage, resource, CONTEXT)


EXAMPLES = [
    featurized("hi", [1.0, 0.0, 0.0], "greet"),
    featurized("hello", [0.9, 0.1, 0.0], "greet"),
    featurized("thanks", [0.0, 1.0, 0.0], "thank"),
    featurized("what is the weather", [0.0, 0.0, 1.0], "out_of_scope"),
]


def test_a_message_like_the_examples_keeps_its_intent_and_gets_its_score(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, min_similarity=0.5, neighbours=1)
    (message,) = component.process([featurized("hey", [2.0, 0.0, 0.0])])  # length does not matter
    assert message.get("intent")["name"] == "greet"
    assert message.get(FAMILIARITY) == pytest.approx(1.0)
    assert FAMILIARITY in message.as_dict(only_output_properties=True)


def test_a_message_like_only_the_out_of_scope_examples_goes_to_the_fallback(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, min_similarity=0.5, neighbours=1)
    (message,) = component.process([featurized("is it raining", [0.0, 0.1, 1.0])])
    assert message.get(FAMILIARITY) < 0.5  # the out_of_scope example itself was not remembered
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": round(1 - message.get(FAMILIARITY), 4)}
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "greet", "thank"]


def test_a_message_read_as_out_of_scope_keeps_that_intent(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, min_similarity=0.5, neighbours=1)
    message = featurized("who won the match", [0.0, 0.0, 1.0])
    message.set("intent", {"name": "out_of_scope", "confidence": 0.9})
    (processed,) = component.process([message])
    assert processed.get("intent")["name"] == "out_of_scope" and processed.get(FAMILIARITY) == pytest.approx(0.0)


def test_without_a_threshold_it_only_scores(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, neighbours=1)
    (message,) = component.process([featurized("is it raining", [0.0, 0.0, 1.0])])
    assert message.get("intent")["name"] == "greet"
    assert message.get(FAMILIARITY) == pytest.approx(0.0)


def test_the_score_is_the_mean_of_the_nearest_examples(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, neighbours=2)
    (message,) = component.process([featurized("hi", [1.0, 0.0, 0.0])])
    second = 0.9 / np.hypot(0.9, 0.1)
    assert message.get(FAMILIARITY) == pytest.approx((1.0 + second) / 2, abs=1e-4)
    wide = trained(tmp_path / "wide", EXAMPLES, neighbours=50)  # more than it has: all three
    (message,) = wide.process([featurized("hi", [1.0, 0.0, 0.0])])
    assert message.get(FAMILIARITY) == pytest.approx((1.0 + second + 0.0) / 3, abs=1e-4)


def test_an_earlier_fallback_is_left_as_it_is(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, min_similarity=0.99, neighbours=1)
    message = featurized("qwzx", [0.0, 0.0, 1.0])
    earlier = {"name": "nlu_fallback", "confidence": 1.0}
    message.set("intent", earlier)
    message.set("intent_ranking", [earlier, {"name": "greet", "confidence": 0.9}])
    (processed,) = component.process([message])
    assert processed.get("intent") == earlier
    assert [r["name"] for r in processed.get("intent_ranking")] == ["nlu_fallback", "greet"]


def test_a_message_without_features_is_left_alone(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES, min_similarity=0.5)
    message = Message.build(text="/greet")
    message.set("intent", {"name": "greet", "confidence": 1.0})
    (processed,) = component.process([message])
    assert processed.get("intent")["name"] == "greet" and processed.get(FAMILIARITY) is None


def test_training_without_sentence_features_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="after a dense featurizer"):
        trained(tmp_path, [Message.build(text="hi", intent="greet")])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"min_similarity": "high"}, "min_similarity"),
        ({"min_similarity": 1.5}, "min_similarity"),
        ({"neighbours": 0}, "neighbours"),
        ({"neighbours": True}, "neighbours"),
    ],
)
def test_bad_settings_are_refused(setting: dict[str, object], message: str) -> None:
    config = {**FamiliarityFallback.get_default_config(), **setting}
    with pytest.raises(ValueError, match=message):
        FamiliarityFallback(config, None, Resource("familiarity"), np.zeros((1, 3), dtype=np.float32))  # type: ignore[arg-type]


def test_a_model_without_its_vectors_is_refused(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    with pytest.raises(ValueError, match="retrain"):
        FamiliarityFallback.load(FamiliarityFallback.get_default_config(), storage, Resource("nothing"), CONTEXT)


def test_a_featurizer_of_another_size_is_a_clear_error(tmp_path: Path) -> None:
    component = trained(tmp_path, EXAMPLES)
    with pytest.raises(ValueError, match="featurizer changed"):
        component.process([featurized("hi", [1.0, 0.0])])
