"""The console's own tables, in the shop database under the store's migrations (store/migrations, 0003+).

They share the store's declarative base, so one Alembic chain migrates them. Everything about a
conversation hangs off `console_conversations`, whose customer link cascades on delete: when the
store erases a customer (store/privacy.py deletes the customer row), their conversation summaries,
tags, notes and intents go with it in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime, utcnow

ROLES = ("admin", "agent", "annotator")
REVIEW_STATES = ("unreviewed", "reviewed", "needs_work")
ANNOTATION_STATES = ("approved", "rejected")


class StaffUser(Base):
    """A member of staff who logs in to the console, with one role."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A logged-in browser: the cookie holds a signed random id, this row only its hash."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConversationSummary(Base):
    """One Rasa conversation (sender id) as the list needs it, folded from the tracker's events."""

    __tablename__ = "console_conversations"
    __table_args__ = (
        Index("ix_console_conversations_last_event", "last_event_at"),
        Index("ix_console_conversations_customer", "customer_id"),
        Index("ix_console_conversations_channel_last_event", "channel", "last_event_at"),  # 0008: a channel's page
    )

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_event_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    user_messages: Mapped[int] = mapped_column(Integer, default=0)
    sentiment_sum: Mapped[float] = mapped_column(Float, default=0.0)
    min_sentiment: Mapped[float | None] = mapped_column(Float)
    avg_sentiment: Mapped[float | None] = mapped_column(Float)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    had_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # what the customer wrote, for full-text search (cut at SEARCH_TEXT_LIMIT characters)
    search_text: Mapped[str] = mapped_column(Text, default="")
    review_status: Mapped[str] = mapped_column(String(16), default="unreviewed")
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ConversationIntent(Base):
    """An intent seen in a conversation (one row per pair, so the intent filter uses an index)."""

    __tablename__ = "console_conversation_intents"

    sender_id: Mapped[str] = mapped_column(
        ForeignKey("console_conversations.sender_id", ondelete="CASCADE"), primary_key=True
    )
    intent: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Tag(Base):
    """A label staff put on conversations."""

    __tablename__ = "console_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class ConversationTag(Base):
    """A tag on a conversation."""

    __tablename__ = "console_conversation_tags"

    sender_id: Mapped[str] = mapped_column(
        ForeignKey("console_conversations.sender_id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("console_tags.id", ondelete="CASCADE"), primary_key=True, index=True)


class Note(Base):
    """A note a member of staff wrote on a conversation."""

    __tablename__ = "console_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(
        ForeignKey("console_conversations.sender_id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SavedFilter(Base):
    """A named set of list filters, kept per member of staff."""

    __tablename__ = "console_saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_console_saved_filters_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """A sensitive action (revealing personal data, an export, an erasure, account changes): who, what, when."""

    __tablename__ = "console_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # kept as text: the log outlives accounts
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class SyncState(Base):
    """How far the console has read the tracker store's events (the last event id folded in)."""

    __tablename__ = "console_sync_state"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NluAnnotation(Base):
    """An annotator's verdict on one customer message (a tracker event): approved as an example, or rejected."""

    __tablename__ = "console_nlu_annotations"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the tracker's events.id
    sender_id: Mapped[str] = mapped_column(
        ForeignKey("console_conversations.sender_id", ondelete="CASCADE"), index=True
    )
    predicted_intent: Mapped[str | None] = mapped_column(String(255))
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # approved, rejected
    intent: Mapped[str | None] = mapped_column(String(255))
    example: Mapped[str | None] = mapped_column(Text)  # Rasa inline markup: do you sell [boots](product)
    annotator: Mapped[str] = mapped_column(String(320))
    annotated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    exported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


class CannedReply(Base):
    """A prepared answer agents insert in a live chat; admins keep the set."""

    __tablename__ = "console_canned_replies"
    __table_args__ = (UniqueConstraint("title", name="uq_console_canned_replies_title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
