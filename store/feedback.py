"""Customer satisfaction (CSAT): the 1-5 rating and optional comment a customer gives a chat at its end."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.errors import InvalidInput, StoreError
from store.models import CsatRating
from store.validation import clean_text

COMMENT_LIMIT = 1000


class AlreadyRated(StoreError):
    """This chat has a rating already: the first one counts."""


@dataclass(frozen=True)
class Rating:
    """A recorded rating."""

    channel: str
    session_id: str
    score: int
    comment: str | None


def record_rating(session: Session, channel: str, session_id: str, score: object, comment: object) -> Rating:
    """Record a chat's rating; InvalidInput for a score outside 1-5 or a bad comment, AlreadyRated for a second one."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput("score must be a whole number from 1 to 5")
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput("comment must be text")
    text = clean_text("comment", comment, COMMENT_LIMIT, required=False)
    chat = clean_text("session id", session_id, 64)
    assert chat is not None  # required=True never returns None
    existing = session.scalars(
        select(CsatRating.id).where(CsatRating.channel == channel, CsatRating.session_id == chat)
    ).first()
    if existing is not None:
        raise AlreadyRated("this chat has been rated already")
    session.add(CsatRating(channel=channel, session_id=chat, score=score, comment=text))
    session.flush()
    return Rating(channel, chat, score, text)
