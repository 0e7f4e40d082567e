"""The handoff queue and live chat: conversations waiting for a person, claiming one, writing to the
customer through Rasa, and handing the conversation back to the assistant with the ticket closed.

The queue is the store's handoff tickets (`store/tickets.py`, opened by `action_handoff`, which also
pauses the assistant). A claim sets the ticket's assignee and `claimed_at` in one conditional
UPDATE, so two agents can never both hold it; the first message sets `first_response_at` (the
analytics read the response time from `created_at` to it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from console.errors import Refusal
from console.masking import mask_text
from console.models import ConversationSummary
from console.rasa_api import RasaApi
from console.tracker import TrackerEvent, TrackerReader, mapping
from console.transcript import Turn, build_transcript
from store.masking import mask_pii
from store.models import Customer, Ticket
from store.orders import OrderSummary, recent_orders
from store.tickets import PRIORITIES, resolve_ticket, waiting_for_people

HANDOFF = "handoff"
MAX_MESSAGE = 2000  # what the web channel accepts from a customer too (bot/channels/web.py)
MAX_RESOLUTION = 5000
ASSIGNEE_LENGTH = 100  # tickets.assignee
WEB_CHANNEL = "socketio"  # the widget draws the handoff state from a custom payload; other channels get text
HAND_BACK_TEXT = "You're back with the shop assistant now. Is there anything else I can help you with?"


class HandoffError(Refusal):
    """Something about a handed-off conversation that cannot be done; `status` is the HTTP answer."""


class HandoffNotFound(HandoffError):
    """No handoff ticket with that id."""

    status = 404


class HandoffConflict(HandoffError):
    """The conversation is someone else's, not claimed yet, or already closed."""

    status = 409


class NotYourConversation(HandoffError):
    """Only the agent holding the conversation (or an admin) may write to it, hand it back or close it."""

    status = 403


class InvalidMessage(HandoffError):
    """An empty or overlong message or resolution."""

    status = 400


@dataclass(frozen=True)
class QueueItem:
    """One handed-off conversation as the queue lists it (customer data already masked)."""

    ticket_id: int
    conversation_id: str
    priority: str
    created_at: dt.datetime
    sla_due: dt.datetime
    overdue: bool
    due_in_words: str
    channel: str
    customer_label: str
    last_message: str
    assignee: str | None


@dataclass(frozen=True)
class ChatLine:
    """One line of the live chat: a transcript turn, its tracker event id, and who wrote it."""

    event_id: int
    turn: Turn
    author: str  # "customer", "assistant", an agent's name, or "" for system lines


@dataclass(frozen=True)
class TicketLine:
    """One of the customer's tickets in the chat's side panel."""

    id: int
    category: str
    priority: str
    status: str
    subject: str
    created_at: dt.datetime


@dataclass(frozen=True)
class CustomerPanel:
    """The customer beside the chat: profile, latest orders and tickets (masked unless revealed)."""

    id: int
    name: str
    email: str
    phone: str
    segment: str
    lifetime_value: Decimal
    country: str
    orders: list[OrderSummary]
    order_numbers: list[str]  # shown in place of each order's number
    tickets: list[TicketLine] = field(default_factory=list)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def agent_display_name(email: str) -> str:
    """The name a customer sees for an agent: the first word of their email's local part ("sam.lee@..." -> Sam)."""
    local = email.split("@", 1)[0]
    first = next((part for part in re.split(r"[._+\-\d]+", local) if part), "")
    return first[:40].capitalize() or "a colleague"


def due_in_words(sla_due: dt.datetime, now: dt.datetime) -> tuple[bool, str]:
    """Whether the SLA has passed, and the time left or overdue in words ("1 h 05 min left", "overdue by 12 min")."""
    seconds = int((sla_due - now).total_seconds())
    minutes = abs(seconds) // 60
    amount = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return (True, f"overdue by {amount}") if seconds < 0 else (False, f"{amount} left")


@dataclass(frozen=True)
class LastMessage:
    """A customer's latest message (unmasked; mask before showing) and the channel it came on."""

    text: str
    channel: str | None


def _readable(data: dict[str, Any]) -> str:
    """What the customer said; a button's payload (`/human_handoff`) is shown as the button's intent."""
    text = str(data.get("text") or "")
    if text.startswith("/"):
        intent = mapping(mapping(data.get("parse_data")).get("intent")).get("name")
        return f"(pressed a button: {intent or text[1:]})"
    return text


def last_customer_messages(reader: TrackerReader, sender_ids: Sequence[str]) -> dict[str, LastMessage]:
    """The latest message of each of these customers, with its channel."""
    events = reader.events_table()
    if events is None or not sender_ids:
        return {}
    latest = (
        select(func.max(events.c.id))
        .where(events.c.type_name == "user", events.c.sender_id.in_(list(sender_ids)))
        .group_by(events.c.sender_id)
    )
    with reader.engine.connect() as connection:
        rows = connection.execute(select(events.c.sender_id, events.c.data).where(events.c.id.in_(latest)))
        found: dict[str, LastMessage] = {}
        for sender_id, data in rows:
            try:
                parsed = mapping(json.loads(data) if data else {})
            except ValueError:
                continue
            channel = parsed.get("input_channel")
            found[str(sender_id)] = LastMessage(_readable(parsed), str(channel) if channel else None)
        return found


def _customer_names(session: Session, customer_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not customer_ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.name, Customer.segment).where(Customer.id.in_(customer_ids)))
    return {customer_id: (name or "", segment or "") for customer_id, name, segment in rows}


def _items(session: Session, reader: TrackerReader, tickets: Sequence[Ticket], now: dt.datetime) -> list[QueueItem]:
    conversations = [t.conversation_id for t in tickets if t.conversation_id]
    summaries = {
        s.sender_id: s
        for s in session.scalars(select(ConversationSummary).where(ConversationSummary.sender_id.in_(conversations)))
    }
    messages = last_customer_messages(reader, conversations)
    customer_ids = {
        cid
        for t in tickets
        if (cid := t.customer_id or getattr(summaries.get(t.conversation_id or ""), "customer_id", None)) is not None
    }
    customers = _customer_names(session, customer_ids)
    items = []
    for ticket in tickets:
        summary = summaries.get(ticket.conversation_id or "")
        customer_id = ticket.customer_id or (summary.customer_id if summary else None)
        name, segment = customers.get(customer_id, ("", "")) if customer_id is not None else ("", "")
        label = f"customer #{customer_id} ({segment})" if customer_id is not None else "visitor (not identified)"
        overdue, words = due_in_words(ticket.sla_due, now)
        last = messages.get(ticket.conversation_id or "", LastMessage("", None))
        items.append(
            QueueItem(
                ticket_id=ticket.id,
                conversation_id=ticket.conversation_id or "",
                priority=ticket.priority,
                created_at=ticket.created_at,
                sla_due=ticket.sla_due,
                overdue=overdue,
                due_in_words=words,
                channel=last.channel or (summary.channel if summary and summary.channel else None) or "unknown",
                customer_label=label,
                last_message=mask_text(last.text, [name] if name else []),
                assignee=ticket.assignee,
            )
        )
    return items


def _by_urgency(ticket: Ticket) -> tuple[int, dt.datetime, int]:
    return -PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else 0, ticket.sla_due, ticket.id


def waiting_queue(session: Session, reader: TrackerReader, now: dt.datetime | None = None) -> list[QueueItem]:
    """Conversations waiting for a person, most urgent priority first, then the earliest SLA due."""
    ids = [t.id for t in waiting_for_people(session)]
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)))) if ids else []
    return _items(session, reader, sorted(tickets, key=_by_urgency), _now(now))


def assigned_to(
    session: Session, reader: TrackerReader, assignee: str, now: dt.datetime | None = None
) -> list[QueueItem]:
    """The open handed-off conversations this agent holds, most urgent first."""
    tickets = session.scalars(
        select(Ticket).where(Ticket.category == HANDOFF, Ticket.status == "open", Ticket.assignee == assignee)
    ).all()
    return _items(session, reader, sorted(tickets, key=_by_urgency), _now(now))


def handoff_ticket(session: Session, ticket_id: int) -> Ticket:
    """A handoff ticket by id (open or closed); HandoffNotFound for anything else."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.category != HANDOFF or not ticket.conversation_id:
        raise HandoffNotFound("No such handed-off conversation.")
    return ticket


def claim(session: Session, ticket_id: int, assignee: str, now: dt.datetime | None = None) -> Ticket:
    """Take the conversation: assignee and claimed_at are set only if nobody holds it (one conditional UPDATE)."""
    if len(assignee) > ASSIGNEE_LENGTH:
        raise InvalidMessage(f"An assignee is at most {ASSIGNEE_LENGTH} characters; this account's email is longer.")
    ticket = handoff_ticket(session, ticket_id)
    taken = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == "open", Ticket.assignee.is_(None))
        .values(assignee=assignee, claimed_at=_now(now))
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if getattr(taken, "rowcount", 0) == 1 or (ticket.assignee == assignee and ticket.status == "open"):
        return ticket  # claimed now, or already ours (a second click)
    if ticket.status != "open":
        raise HandoffConflict("This conversation is already closed.")
    raise HandoffConflict(f"{ticket.assignee} has already claimed this conversation.")


def check_may_act(ticket: Ticket, email: str, role: str) -> None:
    """Only the agent holding an open conversation, or an admin, may write to it, hand it back or close it."""
    if ticket.status != "open":
        raise HandoffConflict("This conversation is already closed.")
    if ticket.assignee is None:
        raise HandoffConflict("Nobody has claimed this conversation yet: claim it first.")
    if ticket.assignee != email and role != "admin":
        raise NotYourConversation(f"{ticket.assignee} holds this conversation; only they or an admin may act on it.")


def clean_message(text: str, limit: int = MAX_MESSAGE, what: str = "A message") -> str:
    """The message as sent: surrounding whitespace removed; refuses empty and overlong ones."""
    cleaned = text.replace("\r\n", "\n").strip()
    if not cleaned:
        raise InvalidMessage(f"{what} cannot be empty.")
    if len(cleaned) > limit:
        raise InvalidMessage(f"{what} can be at most {limit} characters (this one has {len(cleaned)}).")
    return cleaned


def latest_channel(events: Sequence[TrackerEvent]) -> str | None:
    """The channel the customer last wrote on (where Rasa's `output_channel=latest` sends our messages)."""
    for event in reversed(events):
        if event.data.get("event") == "user" and event.data.get("input_channel"):
            return str(event.data["input_channel"])
    return None


def agent_joined_event(agent_name: str, channel: str | None) -> dict[str, Any]:
    """The line that tells the customer a person took over: the widget's handoff state, or text elsewhere."""
    if channel == WEB_CHANNEL:
        return {
            "event": "bot",
            "text": None,
            "data": {"custom": {"type": HANDOFF, "state": "agent", "agent": agent_name}},
        }
    return {"event": "bot", "text": f"You are now chatting with {agent_name} from support."}


def send_message(
    session: Session,
    rasa: RasaApi,
    ticket: Ticket,
    *,
    agent_email: str,
    agent_id: int,
    text: str,
    channel: str | None,
    now: dt.datetime | None = None,
) -> bool:
    """Deliver an agent's message to the customer; the first one also says who joined and sets
    first_response_at. Returns whether this was the first. Raises RasaUnavailable with nothing recorded."""
    text = clean_message(text)
    name = agent_display_name(agent_email)
    first = ticket.first_response_at is None
    said = {"event": "bot", "text": text, "metadata": {"handoff_agent": name, "console_user_id": agent_id}}
    rasa.append_events(ticket.conversation_id or "", [agent_joined_event(name, channel), said] if first else [said])
    if first:  # conditional: two agents' first messages at once keep the earlier time
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.first_response_at.is_(None))
            .values(first_response_at=_now(now))
            .execution_options(synchronize_session=False)
        )
        session.refresh(ticket)
    return first


def hand_back_and_close(
    session: Session, rasa: RasaApi, ticket: Ticket, resolution: str, now: dt.datetime | None = None
) -> None:
    """Resume the assistant for the conversation (telling the customer), then resolve the ticket.
    The resolution is checked first; if Rasa cannot be reached nothing changes."""
    resolution = clean_message(resolution, MAX_RESOLUTION, "A resolution")
    back = {"event": "bot", "text": HAND_BACK_TEXT, "data": {"custom": {"type": HANDOFF, "state": "ended"}}}
    # action_listen: the paused conversation's last action was action_handoff, and customer messages may
    # have come since; without it the policies read the next message as a turn in the middle of a handoff
    listen = {"event": "action", "name": "action_listen"}
    rasa.append_events(ticket.conversation_id or "", [{"event": "resume"}, back, listen])
    resolve_ticket(session, ticket.id, resolution, now=_now(now))


HANDOFF_STATES = {
    "waiting": "the customer was told a person will join",
    "agent": "the customer was told {agent} from support joined",
    "ended": "handed back to the assistant",
}


def _handoff_payload(event: TrackerEvent) -> dict[str, Any] | None:
    """The handoff state a bot event carried to the widget (actions wrap it in "data", the console does not)."""
    if event.data.get("event") != "bot":
        return None
    custom = mapping(mapping(event.data.get("data")).get("custom"))
    payload = mapping(custom.get("data")) or custom
    return payload if payload.get("type") == HANDOFF else None


def chat_lines(
    events: Sequence[TrackerEvent], masked: bool, names: Sequence[str] = (), after: int = 0
) -> list[ChatLine]:
    """The conversation as the live chat shows it (customer, assistant, agents, system lines), after an event id."""
    lines = []
    for event in events:
        if event.id <= after:
            continue
        handoff = _handoff_payload(event)
        if handoff is not None:  # said by the console or action_handoff: the text, then the state in words
            agent = mapping(event.data.get("metadata")).get("handoff_agent")
            at = dt.datetime.fromtimestamp(event.timestamp, dt.UTC)
            text = str(event.data.get("text") or "")
            if text:
                shown = mask_text(text, names) if masked else text
                lines.append(ChatLine(event.id, Turn(kind="bot", at=at, text=shown), agent or "assistant"))
            state = str(handoff.get("state") or "")
            note = HANDOFF_STATES.get(state, "").format(agent=handoff.get("agent") or "a colleague")
            if note:
                lines.append(ChatLine(event.id, Turn(kind="system", at=at, text=note), ""))
            continue
        turns = build_transcript([event], masked=masked, names=names)
        if not turns or turns[0].kind == "action":
            continue
        turn = turns[0]
        agent = mapping(event.data.get("metadata")).get("handoff_agent")
        if turn.kind == "customer":
            author = "customer"
            if turn.text.startswith("/"):
                turn.text = _readable(event.data)
        elif turn.kind == "bot":
            author = f"{agent} (support)" if agent else "assistant"
            if not turn.text:
                continue  # a state change for the widget only (the system line says it)
        else:
            author = ""
        lines.append(ChatLine(event.id, turn, author))
    return lines


def customer_panel(session: Session, customer_id: int | None, revealed: bool) -> CustomerPanel | None:
    """The customer's profile, latest orders and tickets; names, contacts and order numbers masked unless revealed."""
    if customer_id is None:
        return None
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    orders = recent_orders(session, customer_id, limit=5)
    tickets = session.scalars(
        select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.created_at.desc()).limit(8)
    ).all()
    names = [customer.name] if customer.name else []

    def shown(value: str | None, placeholder: str) -> str:
        if not value:
            return ""
        return value if revealed else placeholder

    return CustomerPanel(
        id=customer.id,
        name=shown(customer.name, "[name]"),
        email=shown(customer.email, mask_pii(customer.email or "")),
        phone=shown(customer.phone, "[phone]"),
        segment=customer.segment,
        lifetime_value=customer.lifetime_value,
        country=customer.country or "",
        orders=orders,
        order_numbers=[o.number if revealed else "[order]" for o in orders],
        tickets=[
            TicketLine(
                t.id,
                t.category,
                t.priority,
                t.status,
                t.subject if revealed else mask_text(t.subject, names),
                t.created_at,
            )
            for t in tickets
        ],
    )
