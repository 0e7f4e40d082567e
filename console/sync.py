"""Fold the tracker store's new events into the console's conversation summaries, incrementally.

Each run reads events with an id above the last one folded in (kept in `console_sync_state`), so a
running console costs one indexed query per poll. Summaries of conversations whose events are gone
from the tracker (an erasure, retention) are removed by `prune_missing`; summaries of an erased
customer go at once, through the foreign key's ON DELETE CASCADE (console/models.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, desc, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from console.models import ConversationIntent, ConversationSummary, SyncState
from console.tracker import TrackerEvent, TrackerReader, chunks, mapping
from store.database import ShopDatabase
from store.models import ChannelIdentity, Customer, Ticket

logger = logging.getLogger(__name__)

# below this intent confidence a turn counts as "low confidence" (the fallback itself fires at 0.31)
LOW_CONFIDENCE = 0.5
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback", "action_fallback"})
HANDOFF_ACTIONS = frozenset({"action_handoff"})
SEARCH_TEXT_LIMIT = 20_000


def sentiment_polarity(parse_data: dict[str, Any]) -> float | None:
    """positive minus negative probability of a parsed message (-1..1), None when it carries no sentiment."""
    sentiment = parse_data.get("sentiment")
    if not isinstance(sentiment, dict) or not isinstance(sentiment.get("scores"), dict):
        return None
    scores = sentiment["scores"]
    try:
        return round(float(scores.get("positive", 0.0)) - float(scores.get("negative", 0.0)), 4)
    except (TypeError, ValueError):
        return None


def _when(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


@dataclass(frozen=True)
class SyncReport:
    """What one sync read and changed."""

    events: int
    conversations: int
    last_event_id: int


def _source_key(reader: TrackerReader) -> str:
    return make_url(reader.url).render_as_string(hide_password=True)[:255]


def _fold(summary: ConversationSummary, events: Iterable[TrackerEvent], intents: set[str]) -> None:
    """Add a conversation's new events to its summary."""
    texts: list[str] = []
    for event in events:
        summary.last_event_id = max(summary.last_event_id, event.id)
        when = _when(event.timestamp)
        summary.last_event_at = max(summary.last_event_at, when)
        summary.started_at = min(summary.started_at, when)
        data = event.data
        kind = data.get("event", event.type_name)
        if kind == "user":
            summary.user_messages += 1
            if not summary.channel and isinstance(data.get("input_channel"), str):
                summary.channel = data["input_channel"][:64]
            parse = mapping(data.get("parse_data"))
            intent = mapping(parse.get("intent"))
            name, confidence = intent.get("name"), intent.get("confidence")
            if isinstance(name, str) and name:
                intents.add(name[:255])
                if name in FALLBACK_INTENTS:
                    summary.had_fallback = True
            if isinstance(confidence, int | float) and confidence < LOW_CONFIDENCE:
                summary.had_fallback = True
            polarity = sentiment_polarity(parse)
            if polarity is not None:
                summary.sentiment_sum += polarity
                summary.min_sentiment = (
                    polarity if summary.min_sentiment is None else min(summary.min_sentiment, polarity)
                )
            if isinstance(data.get("text"), str):
                texts.append(data["text"])
        elif kind == "action":
            name = data.get("name")
            if name in FALLBACK_ACTIONS:
                summary.had_fallback = True
            if name in HANDOFF_ACTIONS:
                summary.handed_off = True
        elif kind == "pause":
            summary.handed_off = True
    if summary.user_messages and summary.min_sentiment is not None:
        summary.avg_sentiment = round(summary.sentiment_sum / summary.user_messages, 4)
    if texts:
        summary.search_text = (summary.search_text + "\n" + "\n".join(texts)).strip()[:SEARCH_TEXT_LIMIT]


def _link_store(session: Session, summary: ConversationSummary) -> None:
    """Which customer and ticket the conversation belongs to, from the store."""
    ticket = session.execute(
        select(Ticket.id, Ticket.customer_id, Ticket.category)
        .where(Ticket.conversation_id == summary.sender_id)
        .order_by(desc(Ticket.created_at))
        .limit(1)
    ).first()
    handoff = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.conversation_id == summary.sender_id, Ticket.category == "handoff")
    )
    customer_id = session.scalar(
        select(ChannelIdentity.customer_id)
        .where(ChannelIdentity.channel_user_id == summary.sender_id, ChannelIdentity.verified.is_(True))
        .limit(1)
    )
    if customer_id is None and ticket is not None:
        customer_id = ticket.customer_id
    if customer_id is not None and session.get(Customer, customer_id) is None:
        customer_id = None  # erased meanwhile
    summary.customer_id = customer_id
    summary.ticket_id = ticket.id if ticket is not None else None
    summary.handed_off = summary.handed_off or bool(handoff)


def sync_once(db: ShopDatabase, reader: TrackerReader, batch_size: int = 5000) -> SyncReport:
    """Fold every event not yet seen into the summaries; returns what was read."""
    source = _source_key(reader)
    total_events, touched = 0, set[str]()
    while True:
        with db.transaction() as session:
            state = session.get(SyncState, source) or SyncState(source=source, last_event_id=0)
            session.add(state)
            events = reader.events_after(state.last_event_id, batch_size)
            if not events:
                return SyncReport(total_events, len(touched), state.last_event_id)
            by_sender: dict[str, list[TrackerEvent]] = defaultdict(list)
            for event in events:
                by_sender[event.sender_id].append(event)
            for sender_id, sender_events in by_sender.items():
                summary = session.get(ConversationSummary, sender_id)
                if summary is None:
                    first = _when(sender_events[0].timestamp)
                    summary = ConversationSummary(
                        sender_id=sender_id[:255],
                        started_at=first,
                        last_event_at=first,
                        last_event_id=0,
                        user_messages=0,
                        sentiment_sum=0.0,
                        handed_off=False,
                        had_fallback=False,
                        search_text="",
                        review_status="unreviewed",
                    )
                    session.add(summary)
                intents: set[str] = set()
                _fold(summary, sender_events, intents)
                _link_store(session, summary)
                known = set(
                    session.scalars(select(ConversationIntent.intent).where(ConversationIntent.sender_id == sender_id))
                )
                session.add_all(ConversationIntent(sender_id=sender_id, intent=i) for i in sorted(intents - known))
                touched.add(sender_id)
            state.last_event_id = events[-1].id
            total_events += len(events)
        if len(events) < batch_size:
            return SyncReport(total_events, len(touched), events[-1].id)


def prune_missing(db: ShopDatabase, reader: TrackerReader, batch_size: int = 500) -> int:
    """Remove summaries (with their tags, notes, intents) of conversations no longer in the tracker store."""
    if reader.events_table() is None:
        return 0
    removed = 0
    with db.transaction() as session:
        senders = list(session.scalars(select(ConversationSummary.sender_id).order_by(ConversationSummary.sender_id)))
    for batch in chunks(senders, batch_size):
        gone = set(batch) - reader.existing_senders(batch)
        if gone:
            with db.transaction() as session:
                session.execute(delete(ConversationSummary).where(ConversationSummary.sender_id.in_(gone)))
            removed += len(gone)
    if removed:
        logger.info("removed %d conversations that are no longer in the tracker store", removed)
    return removed
