"""Write conversations into a tracker database with Rasa's own SQLTrackerStore (run by the Rasa runtime's Python).

The console reads what Rasa writes; building the events with Rasa's event classes and saving them
through Rasa's tracker store gives the exact rows a running Rasa server would store, without
loading a model. Input (stdin, JSON):
{"db": "<sqlite file>"} or {"postgres": {"host": ..., "port": ..., "db": ..., "user": ...}}, plus
"conversations": [{"sender": ..., "channel": ..., "start": <epoch>, "turns": [{"user": text,
"intent": ..., "confidence": ..., "entities": [...], "sentiment": {"negative": .., "neutral": ..,
"positive": ..}}, {"action": name, "policy": ..., "confidence": ...}, {"bot": text}, {"pause": true}]}]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


def _sentiment(scores: dict[str, float]) -> dict[str, Any]:
    label = max(scores, key=lambda name: scores[name])
    return {"label": label, "score": scores[label], "scores": scores, "frustration": []}


def events_of(conversation: dict[str, Any]) -> list[Event]:
    """Rasa events for one conversation spec, a tenth of a second apart."""
    stamp = float(conversation["start"])
    channel = conversation.get("channel", "rest")
    events: list[Event] = [
        ActionExecuted("action_session_start", timestamp=stamp, confidence=1.0),
        SessionStarted(timestamp=stamp),
        ActionExecuted("action_listen", timestamp=stamp),
    ]
    for turn in conversation["turns"]:
        stamp += 0.1
        if "user" in turn:
            intent = {"name": turn.get("intent", "greet"), "confidence": turn.get("confidence", 0.95)}
            entities = turn.get("entities", [])
            scores = turn.get("sentiment", {"negative": 0.05, "neutral": 0.9, "positive": 0.05})
            parse_data = {
                "intent": intent,
                "entities": entities,
                "text": turn["user"],
                "intent_ranking": [intent],
                "sentiment": _sentiment(scores),
            }
            events.append(
                UserUttered(
                    turn["user"],
                    intent,
                    entities,
                    parse_data,
                    timestamp=stamp,
                    input_channel=channel,  # type: ignore[arg-type]
                )
            )
        elif "action" in turn:
            events.append(
                ActionExecuted(
                    turn["action"], policy=turn.get("policy"), confidence=turn.get("confidence"), timestamp=stamp
                )
            )
        elif "bot" in turn:
            events.append(BotUttered(turn["bot"], timestamp=stamp))
        elif turn.get("pause"):
            events.append(ConversationPaused(timestamp=stamp))
    return events


async def main() -> None:
    spec = json.load(sys.stdin)
    if "postgres" in spec:  # the production profile's tracker store
        pg = spec["postgres"]
        store = SQLTrackerStore(
            Domain.empty(), dialect="postgresql", host=pg["host"], port=pg["port"], db=pg["db"], username=pg["user"]
        )
    else:
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=spec["db"])
    for conversation in spec["conversations"]:
        tracker = DialogueStateTracker.from_events(conversation["sender"], events_of(conversation), slots=[])
        await store.save(tracker)


if __name__ == "__main__":
    asyncio.run(main())
