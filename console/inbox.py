"""The NLU inbox: customer messages that are not training data yet, most uncertain first; annotating; exporting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.masking import mask_text
from console.models import ANNOTATION_STATES, ConversationSummary, NluAnnotation
from console.nlu import InvalidAnnotation, TrainingData, check_example, normalise, suggested_example
from console.tracker import TrackerEvent, TrackerReader, mapping
from store.models import utcnow

# how many of the latest customer messages the inbox looks through (newest first) to rank by uncertainty
SCAN_LIMIT = 5000


@dataclass(frozen=True)
class InboxItem:
    """A customer message waiting for an annotator, as the inbox shows it (personal data masked)."""

    event_id: int
    sender_id: str
    at: dt.datetime
    text: str
    intent: str | None
    confidence: float | None
    suggestion: str


def _prediction(event: TrackerEvent) -> tuple[str, str | None, float | None, list[dict[str, Any]]]:
    parse = mapping(event.data.get("parse_data"))
    intent = mapping(parse.get("intent"))
    confidence = intent.get("confidence")
    entities = [e for e in parse.get("entities") or [] if isinstance(e, dict)]
    name = intent.get("name")
    return (
        str(event.data.get("text") or ""),
        str(name) if name else None,
        float(confidence) if isinstance(confidence, int | float) else None,
        entities,
    )


def inbox(
    session: Session, reader: TrackerReader, training: TrainingData, limit: int = 50, scan: int = SCAN_LIMIT
) -> list[InboxItem]:
    """Unannotated customer messages of conversations in the console, not training data, least confident first."""
    events = reader.recent_user_messages(scan)
    senders = {e.sender_id for e in events}
    known = (
        set(session.scalars(select(ConversationSummary.sender_id).where(ConversationSummary.sender_id.in_(senders))))
        if senders
        else set()
    )
    ids = [e.id for e in events]
    annotated = (
        set(session.scalars(select(NluAnnotation.event_id).where(NluAnnotation.event_id.in_(ids)))) if ids else set()
    )
    best: dict[str, InboxItem] = {}
    for event in events:
        if event.sender_id not in known or event.id in annotated:
            continue
        text, intent, confidence, entities = _prediction(event)
        key = normalise(text)
        if not key or text.startswith("/") or key in training.examples:
            continue  # empty, a button payload, or already training data
        item = InboxItem(
            event.id,
            event.sender_id,
            dt.datetime.fromtimestamp(event.timestamp, dt.UTC),
            mask_text(text),
            intent,
            confidence,
            suggested_example(text, entities),
        )
        current = best.get(key)
        if current is None or (item.confidence or 0.0) < (current.confidence or 0.0):
            best[key] = item  # the same words said twice are one item
    return sorted(best.values(), key=lambda i: (i.confidence if i.confidence is not None else -1.0, -i.event_id))[
        :limit
    ]


def annotate(
    session: Session,
    reader: TrackerReader,
    training: TrainingData,
    event_id: int,
    verdict: str,
    intent: str,
    example: str,
    annotator: str,
) -> NluAnnotation:
    """Approve a message as an example of an intent (with its entity markup) or reject it; raises InvalidAnnotation."""
    if verdict not in ANNOTATION_STATES:
        raise InvalidAnnotation(f"verdict must be one of {', '.join(ANNOTATION_STATES)}")
    event = reader.event(event_id)
    if event is None or event.type_name != "user" or session.get(ConversationSummary, event.sender_id) is None:
        raise LookupError(f"no customer message {event_id}")
    _, predicted, confidence, _ = _prediction(event)
    annotation = session.get(NluAnnotation, event_id)
    if annotation is None:
        annotation = NluAnnotation(event_id=event_id, sender_id=event.sender_id, annotator=annotator, status=verdict)
        session.add(annotation)
    elif annotation.exported_at is not None:
        raise InvalidAnnotation("this example is already exported; change the training file instead")
    annotation.predicted_intent, annotation.confidence = predicted, confidence
    annotation.status, annotation.annotator, annotation.annotated_at = verdict, annotator, utcnow()
    if verdict == "approved":
        annotation.intent, annotation.example = intent, check_example(example, intent, training)
    else:
        annotation.intent, annotation.example = None, None
    return annotation


def approved_not_exported(session: Session) -> list[NluAnnotation]:
    """Approved examples waiting for the export, oldest first."""
    return list(
        session.scalars(
            select(NluAnnotation)
            .where(NluAnnotation.status == "approved", NluAnnotation.exported_at.is_(None))
            .order_by(NluAnnotation.annotated_at, NluAnnotation.event_id)
        )
    )
