"""Canned replies: a small set of prepared answers that admins keep and agents insert in a live chat."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.errors import Refusal
from console.models import CannedReply
from store.models import utcnow

MAX_TITLE = 100
MAX_BODY = 2000  # what one chat message may hold (console/handoff.py MAX_MESSAGE)
MAX_REPLIES = 100  # "a small set": a longer list is not something an agent scans during a chat


class InvalidCannedReply(Refusal):
    """A canned reply that cannot be saved as given; the message says why."""


class CannedReplyNotFound(Refusal):
    """No canned reply with that id."""

    status = 404


def _clean(title: str, body: str) -> tuple[str, str]:
    title = " ".join(title.split())
    body = body.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidCannedReply(f"A canned reply needs a title of 1 to {MAX_TITLE} characters.")
    if not body or len(body) > MAX_BODY:
        raise InvalidCannedReply(f"A canned reply needs a text of 1 to {MAX_BODY} characters.")
    return title, body


def _title_taken(session: Session, title: str, except_id: int | None = None) -> bool:
    found = session.scalar(select(CannedReply.id).where(CannedReply.title == title))
    return found is not None and found != except_id


def all_replies(session: Session) -> list[CannedReply]:
    """Every canned reply, by title."""
    return list(session.scalars(select(CannedReply).order_by(CannedReply.title, CannedReply.id)))


def get_reply(session: Session, reply_id: int) -> CannedReply:
    """One canned reply, or CannedReplyNotFound."""
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise CannedReplyNotFound(f"No canned reply {reply_id}.")
    return reply


def add_reply(session: Session, title: str, body: str, author: str) -> CannedReply:
    """A new canned reply; refuses empty, overlong and duplicate titles, and a set already full."""
    title, body = _clean(title, body)
    if _title_taken(session, title):
        raise InvalidCannedReply(f"There is already a canned reply called {title!r}.")
    if len(all_replies(session)) >= MAX_REPLIES:
        raise InvalidCannedReply(f"There are already {MAX_REPLIES} canned replies; delete one first.")
    reply = CannedReply(title=title, body=body, updated_by=author, updated_at=utcnow())
    session.add(reply)
    session.flush()
    return reply


def update_reply(session: Session, reply_id: int, title: str, body: str, author: str) -> CannedReply:
    """Change a canned reply's title and text."""
    reply = get_reply(session, reply_id)
    title, body = _clean(title, body)
    if _title_taken(session, title, except_id=reply_id):
        raise InvalidCannedReply(f"There is already a canned reply called {title!r}.")
    reply.title, reply.body, reply.updated_by, reply.updated_at = title, body, author, utcnow()
    return reply


def delete_reply(session: Session, reply_id: int) -> None:
    """Remove a canned reply."""
    session.delete(get_reply(session, reply_id))
