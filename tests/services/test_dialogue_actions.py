"""The fallback's friendly questions, the sentiment slots and session starts, through rasa-sdk's own Tracker."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionAskAffirmation, ActionAskRephrase, ActionDefaultFallback
from actions.sentiment import ActionSentimentSlots
from actions.session import ActionSessionStart


def tracker_with(message: dict[str, Any]) -> Tracker:
    return Tracker("customer-1", {}, message, [], False, None, {}, "action_listen")


def run(action: Action, message: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_with(message), {}))
    return dispatcher.messages, events


def test_did_you_mean_offers_the_likeliest_meanings_in_words() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "track_shipment", "confidence": 0.4},
        {"name": "deny", "confidence": 0.2},
        {"name": "order_status", "confidence": 0.3},
        {"name": "cancel_order", "confidence": 0.1},
    ]
    (message,), events = run(ActionAskAffirmation(), {"text": "wheres my stuf", "intent_ranking": ranking})
    assert message["text"] == "Sorry, I'm not sure I understood. Did you mean tracking a parcel?"
    assert [b["payload"] for b in message["buttons"]] == ["/track_shipment", "/order_status", "/out_of_scope"]
    assert [b["title"] for b in message["buttons"]][-1] == "Something else" and events == []


def test_did_you_mean_without_a_ranking_still_asks() -> None:
    (message,), _ = run(ActionAskAffirmation(), {"text": "?"})
    assert message["text"].endswith("What is it about?") and message["buttons"][0]["payload"] == "/out_of_scope"


def test_rephrase_and_give_up() -> None:
    (message,), _ = run(ActionAskRephrase(), {"text": "x"})
    assert "another way" in message["text"]
    (message,), events = run(ActionDefaultFallback(), {"text": "x"})
    assert "support@example.com" in message["text"]
    assert "/human_handoff" in [b["payload"] for b in message["buttons"]]
    assert events == [{"event": "rewind"}]


def test_sentiment_slots_follow_the_parse() -> None:
    parse = {"text": "WHERE IS IT???", "sentiment": {"label": "negative", "score": 0.9,
                                                     "frustration": ["shouting", "repeated_punctuation"]}}  # fmt: skip
    _, events = run(ActionSentimentSlots(), parse)
    assert events == [
        {"event": "slot", "timestamp": None, "name": "sentiment", "value": "negative"},
        {"event": "slot", "timestamp": None, "name": "frustration", "value": "shouting,repeated_punctuation"},
    ]
    _, calm = run(ActionSentimentSlots(), {"text": "ok", "sentiment": {"label": "neutral", "frustration": []}})
    assert [e["value"] for e in calm] == ["neutral", None]
    assert run(ActionSentimentSlots(), {"text": "ok"})[1] == []  # no sentiment in the parse: slots untouched
    assert run(ActionSentimentSlots(), {"text": "ok", "sentiment": {"label": "furious"}})[1] == []


def test_a_new_session_keeps_browsing_and_name_but_nothing_waiting_for_a_yes() -> None:
    slots = {"browsing": {"query": "yoga mat"}, "customer_name": "Ada Berg", "pending_confirmation": "cancel:SO-1",
             "return_order": "SO-1", "person_offered": True}  # fmt: skip
    state = Tracker("web-ada", slots, {}, [], False, None, {}, "action_listen")
    events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), state, {}))
    assert events[0]["event"] == "session_started"
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"} == {
        "browsing": {"query": "yoga mat"},
        "customer_name": "Ada Berg",
    }
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
