"""Trackers as rasa-sdk builds them, and running an action on one, for the action tests."""

import asyncio
import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

SECRET = "order-actions-secret"
NOW = dt.datetime.now(dt.timezone.utc)
TODAY = NOW.date()


def tracker(
    sender: str,
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    message = {"text": text, "entities": entities or [], "metadata": metadata or {}}
    events = [{"event": "user", "text": text, "input_channel": "socketio", "parse_data": message}]
    return Tracker(sender, slots or {}, message, events, False, None, {}, "action_listen")


def run(action: Action, state: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events
