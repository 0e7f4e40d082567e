"""A conversation's events as the transcript screen shows them: customer turns, bot turns, system lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from console.masking import mask_entity_value, mask_text
from console.sync import sentiment_polarity
from console.tracker import TrackerEvent, mapping

SYSTEM_EVENTS = {
    "session_started": "a new session started",
    "pause": "the assistant paused: a person takes over",
    "resume": "the assistant resumed",
    "restart": "the conversation was restarted",
    "action_execution_rejected": "an action was rejected (a form could not go on)",
    "rewind": "the assistant set the last message aside (it is read again below)",
}


@dataclass(frozen=True)
class EntityView:
    """An entity found in a customer message."""

    entity: str
    value: str
    extractor: str


@dataclass
class Turn:
    """One line of the transcript: who ('customer', 'bot', 'action', 'system'), what, when and the NLU details."""

    kind: str
    at: dt.datetime
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    entities: list[EntityView] = field(default_factory=list)
    sentiment: str | None = None
    sentiment_score: float | None = None
    polarity: float | None = None
    frustration: list[str] = field(default_factory=list)
    action: str | None = None
    policy: str | None = None
    channel: str | None = None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _bot_text(data: dict[str, Any]) -> str:
    text = str(data.get("text") or "")
    extra = mapping(data.get("data"))
    if extra.get("custom"):
        kind = mapping(mapping(extra.get("custom")).get("data")).get("type")
        text = (text + f" [{kind or 'custom'} payload]").strip()
    buttons = extra.get("buttons")
    if isinstance(buttons, list) and buttons:
        titles = [str(b.get("title", "")) for b in buttons if isinstance(b, dict)]
        text = (text + " [buttons: " + " | ".join(titles) + "]").strip()
    return text


def build_transcript(events: Sequence[TrackerEvent], masked: bool, names: Sequence[str] = ()) -> list[Turn]:
    """The transcript's turns; with `masked`, personal data in every text and personal entity is hidden."""

    def shown(text: str) -> str:
        return mask_text(text, names) if masked else text

    turns: list[Turn] = []
    for event in events:
        data, at = event.data, dt.datetime.fromtimestamp(event.timestamp, dt.UTC)
        kind = data.get("event", event.type_name)
        if kind == "user":
            parse = mapping(data.get("parse_data"))
            intent = mapping(parse.get("intent"))
            sentiment = mapping(parse.get("sentiment"))
            entities = [
                EntityView(
                    str(e.get("entity", "")),
                    mask_entity_value(str(e.get("entity", "")), str(e.get("value", "")), names)
                    if masked
                    else str(e.get("value", "")),
                    str(e.get("extractor") or ""),
                )
                for e in parse.get("entities") or []
                if isinstance(e, dict)
            ]
            frustration = sentiment.get("frustration")
            turns.append(
                Turn(
                    kind="customer",
                    at=at,
                    text=shown(str(data.get("text") or "")),
                    intent=str(intent.get("name")) if intent.get("name") else None,
                    confidence=_float(intent.get("confidence")),
                    entities=entities,
                    sentiment=str(sentiment.get("label")) if sentiment.get("label") else None,
                    sentiment_score=_float(sentiment.get("score")),
                    polarity=sentiment_polarity(parse),
                    frustration=[str(f) for f in frustration] if isinstance(frustration, list) else [],
                    channel=str(data.get("input_channel") or "") or None,
                )
            )
        elif kind == "action":
            name = str(data.get("name") or "")
            if name in {"action_listen", ""}:
                continue
            policy = data.get("policy")
            turns.append(
                Turn(
                    kind="action",
                    at=at,
                    action=name,
                    policy=str(policy) if policy else None,
                    confidence=_float(data.get("confidence")),
                )
            )
        elif kind == "bot":
            turns.append(Turn(kind="bot", at=at, text=shown(_bot_text(data))))
        elif kind in SYSTEM_EVENTS:
            turns.append(Turn(kind="system", at=at, text=SYSTEM_EVENTS[kind]))
        # anything else (slots, featurization, loops) is bookkeeping a reader does not need
    return turns
