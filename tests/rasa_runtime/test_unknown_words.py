"""UnknownWordsFallback: gibberish goes to the fallback, real words and our own words do not."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.unknown_words import UnknownWordsFallback, read_vocabulary, words_of


@pytest.fixture
def vocabulary(tmp_path: Path) -> Path:
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\nshoes\nrunning\ndo\nyou\nsell\n##ing\n")
    return path


def trained_component(tmp_path: Path, vocabulary: Path, examples: list[str]) -> UnknownWordsFallback:
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("unknown_words")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**UnknownWordsFallback.get_default_config(), "vocabulary": str(vocabulary)}
    component = UnknownWordsFallback.create(config, storage, resource, context)
    component.train(TrainingData([Message.build(text=t, intent="greet") for t in examples]))
    return UnknownWordsFallback.load(config, storage, resource, context)


def classify(component: UnknownWordsFallback, text: str, predicted: str = "greet") -> str:
    message = Message.build(text=text)
    message.set("intent", {"name": predicted, "confidence": 0.99})
    message.set("intent_ranking", [{"name": predicted, "confidence": 0.99}])
    (processed,) = component.process([message])
    return str(processed.get("intent")["name"])


def test_vocabulary_keeps_whole_words_only(vocabulary: Path) -> None:
    assert read_vocabulary(vocabulary) == {"shoes", "running", "do", "you", "sell"}
    assert words_of("Do you sell RUNNING shoes?! I'm 42") == ["do", "you", "sell", "running", "shoes", "i'm"]


def test_gibberish_becomes_the_fallback_and_known_words_pass(tmp_path: Path, vocabulary: Path) -> None:
    component = trained_component(tmp_path, vocabulary, ["hiya there"])
    assert classify(component, "do you sell running shoes") == "greet"
    assert classify(component, "hiya") == "greet"  # learnt from the training data after loading
    assert classify(component, "sell blorf") == "greet"  # half unknown: not above the ratio
    assert classify(component, "blorf snick you") == "nlu_fallback"
    assert classify(component, "qwzx") == "nlu_fallback"
    assert classify(component, "42 !!") == "greet"  # no words at all: left to the classifiers


def test_fallback_leads_the_ranking_once(tmp_path: Path, vocabulary: Path) -> None:
    component = trained_component(tmp_path, vocabulary, [])
    message = Message.build(text="qwzx plork")
    message.set("intent_ranking", [{"name": "nlu_fallback", "confidence": 0.6}, {"name": "greet", "confidence": 0.4}])
    (processed,) = component.process([message])
    assert [r["name"] for r in processed.get("intent_ranking")] == ["nlu_fallback", "greet"]
    assert processed.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}


def test_a_missing_vocabulary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs `vocabulary`"):
        trained_component(tmp_path, tmp_path / "missing.txt", [])


@pytest.mark.parametrize("text", ["913482", "10115", "2", " 12 34 ", "#1024", "+44 20 7946 0958", "3.5", "12/05"])
def test_numbers_alone_become_the_fallback_their_question_gives_them_meaning(
    tmp_path: Path, vocabulary: Path, text: str
) -> None:
    component = trained_component(tmp_path, vocabulary, [])
    assert classify(component, text, predicted="faq") == "nlu_fallback"


@pytest.mark.parametrize("text", ["SO-123456", "size 42", "2 running shoes", "🙂 1"])
def test_numbers_with_words_or_other_signs_keep_their_intent(tmp_path: Path, vocabulary: Path, text: str) -> None:
    component = trained_component(tmp_path, vocabulary, ["size", "so"])
    assert classify(component, text, predicted="faq") == "faq"
