"""The handoff queue, the live chat with a customer, and the canned replies admins keep for it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import audit
from console.canned_replies import (
    MAX_BODY,
    MAX_TITLE,
    add_reply,
    all_replies,
    delete_reply,
    update_reply,
)
from console.handoff import (
    MAX_MESSAGE,
    MAX_RESOLUTION,
    HandoffError,
    assigned_to,
    chat_lines,
    check_may_act,
    claim,
    customer_panel,
    due_in_words,
    hand_back_and_close,
    handoff_ticket,
    latest_channel,
    send_message,
    waiting_queue,
)
from console.models import ConversationSummary
from console.rasa_api import RasaUnavailable
from console.security import CurrentUser
from console.web import DbSession, client_ip, post_by, render, require, state_of
from store.models import Customer, Ticket, utcnow

router = APIRouter()
STAFF = ("admin", "agent")
FORM_LIMIT = 20_000  # a form field may be longer than a message, so an overlong one comes back to be shortened
REVEAL_GRANT_SECONDS = 900  # how long the live chat keeps showing new messages unmasked after an audited reveal
SCRIPT = Path(__file__).resolve().parent.parent / "static" / "handoff.js"
# the chat page alone runs a script: the console's own file, nothing inline, fetches to the console only
CHAT_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _grants(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(state_of(request).config.secret, salt="console-handoff-reveal")


def _granted(request: Request, user: CurrentUser, ticket_id: int) -> bool:
    """Whether the poll carries this session's reveal grant for this conversation (issued by an audited reveal)."""
    grant = request.headers.get("X-Reveal-Grant")
    if not grant or user.role not in STAFF:
        return False
    try:
        value = _grants(request).loads(grant, max_age=REVEAL_GRANT_SECONDS)
    except BadSignature:
        return False
    return bool(value == [user.session_hash, ticket_id])


def _names(session: Session, customer_id: int | None) -> list[str]:
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    return [customer.name] if customer is not None and customer.name else []


def _customer_id(session: Session, ticket: Ticket) -> int | None:
    if ticket.customer_id is not None:
        return ticket.customer_id
    summary = session.get(ConversationSummary, ticket.conversation_id or "")
    return summary.customer_id if summary else None


def _may_act(ticket: Ticket, user: CurrentUser) -> bool:
    return (
        ticket.status == "open"
        and ticket.assignee is not None
        and (ticket.assignee == user.email or user.role == "admin")
    )


def _chat_page(
    request: Request,
    session: Session,
    user: CurrentUser,
    ticket: Ticket,
    *,
    revealed: bool = False,
    status: int = 200,
    error: str | None = None,
    draft: str = "",
    resolution_draft: str = "",
) -> Response:
    events = state_of(request).tracker.conversation(ticket.conversation_id or "")
    customer_id = _customer_id(session, ticket)
    lines = chat_lines(events, masked=not revealed, names=_names(session, customer_id))
    summary = session.get(ConversationSummary, ticket.conversation_id or "")
    overdue, due_words = due_in_words(ticket.sla_due, utcnow())
    response = render(
        request,
        "handoff_chat.html",
        status=status,
        user=user,
        ticket=ticket,
        lines=lines,
        last_event=events[-1].id if events else 0,
        channel=latest_channel(events) or (summary.channel if summary else None) or "unknown",
        overdue=overdue,
        due_words=due_words,
        customer=customer_panel(session, customer_id, revealed),
        customer_id=customer_id,
        revealed=revealed,
        grant=_grants(request).dumps([user.session_hash, ticket.id]) if revealed else "",
        may_act=_may_act(ticket, user),
        canned=all_replies(session),
        error=error,
        draft=draft,
        resolution_draft=resolution_draft,
        max_message=MAX_MESSAGE,
        max_resolution=MAX_RESOLUTION,
    )
    response.headers["Content-Security-Policy"] = CHAT_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/queue", name="queue")
def queue(request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*STAFF))]) -> Response:
    """Conversations waiting for a person (most urgent first), and the ones I hold."""
    reader = state_of(request).tracker
    others = []
    if user.role == "admin":
        held = session.scalars(
            select(Ticket.assignee)
            .where(Ticket.category == "handoff", Ticket.status == "open", Ticket.assignee.is_not(None))
            .where(Ticket.assignee != user.email)
            .distinct()
        ).all()
        others = [item for assignee in sorted(a for a in held if a) for item in assigned_to(session, reader, assignee)]
    return render(
        request,
        "queue.html",
        user=user,
        waiting=waiting_queue(session, reader),
        mine=assigned_to(session, reader, user.email),
        others=others,
    )


@router.post("/queue/{ticket_id}/claim", name="claim")
def claim_conversation(
    ticket_id: int, request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(post_by(*STAFF))]
) -> Response:
    """Take a waiting conversation; someone else's gets a 409 naming who holds it."""
    claim(session, ticket_id, user.email)
    return RedirectResponse(f"/handoff/{ticket_id}", status_code=303)


@router.get("/handoff/{ticket_id}", name="handoff_chat")
def handoff_chat(
    ticket_id: int, request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*STAFF))]
) -> Response:
    """The live chat: the transcript (updated by the page's script), the customer, canned replies, hand back."""
    return _chat_page(request, session, user, handoff_ticket(session, ticket_id))


@router.get("/handoff/{ticket_id}/lines", name="handoff_lines")
def handoff_lines(
    ticket_id: int,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(require(*STAFF))],
    after: int = 0,
) -> Response:
    """The chat's lines after an event id, as an HTML fragment (escaped by the template) for the page's script."""
    ticket = handoff_ticket(session, ticket_id)
    events = state_of(request).tracker.conversation(ticket.conversation_id or "")
    revealed = _granted(request, user, ticket.id)
    lines = chat_lines(events, masked=not revealed, names=_names(session, _customer_id(session, ticket)), after=after)
    response = render(request, "handoff_lines.html", lines=lines)
    response.headers["X-Last-Event"] = str(max([after, *(e.id for e in events)]))
    response.headers["X-Ticket-Status"] = ticket.status
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/handoff/{ticket_id}/messages", name="handoff_send")
def handoff_send(
    ticket_id: int,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*STAFF))],
    text: Annotated[str, Form(max_length=FORM_LIMIT)] = "",
) -> Response:
    """Send the agent's message to the customer's channel through Rasa; on any failure the draft stays in the form."""
    ticket = handoff_ticket(session, ticket_id)
    try:
        check_may_act(ticket, user.email, user.role)
        events = state_of(request).tracker.conversation(ticket.conversation_id or "")
        send_message(
            session,
            state_of(request).rasa,
            ticket,
            agent_email=user.email,
            agent_id=user.id,
            text=text,
            channel=latest_channel(events),
        )
    except HandoffError as error:
        return _chat_page(request, session, user, ticket, status=error.status, error=error.message, draft=text)
    except RasaUnavailable as error:
        return _chat_page(request, session, user, ticket, status=502, error=str(error), draft=text)
    return RedirectResponse(f"/handoff/{ticket_id}", status_code=303)


@router.post("/handoff/{ticket_id}/reveal", name="handoff_reveal")
def handoff_reveal(
    ticket_id: int,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*STAFF))],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The chat and the customer's data unmasked; recorded in the audit log like every reveal."""
    ticket = handoff_ticket(session, ticket_id)
    audit.record(
        session,
        user.email,
        "reveal_pii",
        target=ticket.conversation_id or "",
        detail=f"live chat, ticket #{ticket.id}: {reason.strip()}",
        ip=client_ip(request),
    )
    return _chat_page(request, session, user, ticket, revealed=True)


@router.post("/handoff/{ticket_id}/close", name="handoff_close")
def handoff_close(
    ticket_id: int,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*STAFF))],
    resolution: Annotated[str, Form(max_length=FORM_LIMIT)] = "",
) -> Response:
    """Hand the conversation back to the assistant (the customer is told) and resolve the ticket."""
    ticket = handoff_ticket(session, ticket_id)
    try:
        check_may_act(ticket, user.email, user.role)
        hand_back_and_close(session, state_of(request).rasa, ticket, resolution)
    except HandoffError as error:
        return _chat_page(
            request, session, user, ticket, status=error.status, error=error.message, resolution_draft=resolution
        )
    except RasaUnavailable as error:
        return _chat_page(request, session, user, ticket, status=502, error=str(error), resolution_draft=resolution)
    return RedirectResponse("/queue", status_code=303)


@router.get("/static/handoff.js", name="handoff_script")
def handoff_script(user: Annotated[CurrentUser, Depends(require(*STAFF))]) -> Response:
    """The live chat's script (polls for new lines, inserts canned replies); served only from here."""
    return Response(
        SCRIPT.read_bytes(), media_type="text/javascript", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get("/canned-replies", name="canned_replies")
def canned_replies(
    request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require("admin"))]
) -> Response:
    """The canned replies, to add, change and delete."""
    return render(
        request, "canned_replies.html", user=user, replies=all_replies(session), max_title=MAX_TITLE, max_body=MAX_BODY
    )


@router.post("/canned-replies", name="canned_add")
def canned_add(
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by("admin"))],
    title: Annotated[str, Form(max_length=FORM_LIMIT)] = "",
    body: Annotated[str, Form(max_length=FORM_LIMIT)] = "",
) -> Response:
    """Add a canned reply."""
    add_reply(session, title, body, user.email)
    return RedirectResponse("/canned-replies", status_code=303)


@router.post("/canned-replies/{reply_id}", name="canned_update")
def canned_update(
    reply_id: int,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by("admin"))],
    title: Annotated[str, Form(max_length=FORM_LIMIT)] = "",
    body: Annotated[str, Form(max_length=FORM_LIMIT)] = "",
) -> Response:
    """Change a canned reply."""
    update_reply(session, reply_id, title, body, user.email)
    return RedirectResponse("/canned-replies", status_code=303)


@router.post("/canned-replies/{reply_id}/delete", name="canned_delete")
def canned_delete(
    reply_id: int, session: DbSession, user: Annotated[CurrentUser, Depends(post_by("admin"))]
) -> Response:
    """Delete a canned reply."""
    delete_reply(session, reply_id)
    return RedirectResponse("/canned-replies", status_code=303)
