"""The handoff queue and live chat: queue order and masking, claims (one holder only), messages to the
customer through Rasa's HTTP API (a local fake here that records what was posted; the e2e test uses the
real Rasa), bad input, Rasa down, the live lines and their reveal, the customer panel, hand back and close,
canned replies."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from console.canned_replies import add_reply
from console.handoff import (
    HandoffConflict,
    agent_display_name,
    claim,
    due_in_words,
)
from console.models import AuditEntry, CannedReply
from console.rasa_api import RasaApi
from console.security import create_user
from devstack.processes import free_port
from store.models import Ticket, utcnow
from store.tickets import open_ticket
from tests.console import test_postgresql
from tests.console.conftest import PASSWORD, XSS, Console, csrf_of, log_in
from tests.console.fake_rasa import FakeRasa
from tests.store.factories import add_order

AGENT, OTHER_AGENT, ADMIN = "agent@example.com", "sam.lee@example.com", "admin@example.com"
pg_console = test_postgresql.pg_console  # the console on PostgreSQL (shop and tracker databases), as a fixture here


@pytest.fixture
def rasa(console: Console) -> Iterator[FakeRasa]:
    """A fake Rasa HTTP API the console writes to."""
    with FakeRasa() as fake:
        console.state.rasa = RasaApi(fake.url, fake.token)
        yield fake


@pytest.fixture
def other_agent(console: Console) -> str:
    with console.state.db.transaction() as session:
        create_user(session, OTHER_AGENT, PASSWORD, "agent")
    return OTHER_AGENT


def logged_in(console: Console, email: str) -> tuple[TestClient, str]:
    client = console.client()
    return client, log_in(client, email)


def ticket(console: Console, ticket_id: int) -> Ticket:
    with console.state.db.transaction() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        session.expunge(found)
        return found


def customer_writes(console: Console, sender_id: str, text: str, channel: str = "telegram") -> int:
    """A customer message arriving while the assistant is paused: the row Rasa's SQL tracker store writes for it."""
    data = {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {"intent": {"name": "inform", "confidence": 0.9}, "entities": [], "text": text},
        "input_channel": channel,
    }
    with sqlite3.connect(console.tracker_path) as db:
        cursor = db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, 'user', ?, 'inform', NULL, ?)",
            (sender_id, data["timestamp"], json.dumps(data)),
        )
        return int(cursor.lastrowid or 0)


def rasa_stores_bot_event(console: Console, sender_id: str, event: dict[str, Any]) -> int:
    """A bot event the console posted, as Rasa's SQL tracker store keeps it."""
    data = {"timestamp": time.time(), "metadata": {}, **event}
    data.setdefault("data", {})
    with sqlite3.connect(console.tracker_path) as db:
        cursor = db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, 'bot', ?, NULL, NULL, ?)",
            (sender_id, data["timestamp"], json.dumps(data)),
        )
        return int(cursor.lastrowid or 0)


def alice_handoff(console: Console, sentiment: str = "neutral", now: dt.datetime | None = None) -> int:
    """A handoff ticket for alice-web (web widget, a proven customer with an order)."""
    with console.state.db.transaction() as session:
        return open_ticket(
            session,
            category="handoff",
            subject="Customer asked for a person",
            customer_id=console.alice_customer_id,
            conversation_id="alice-web",
            sentiment=sentiment,
            now=now,
        ).id


def claimed(console: Console, ticket_id: int, email: str = AGENT) -> None:
    with console.state.db.transaction() as session:
        claim(session, ticket_id, email)


# ---- the queue ----


def test_the_queue_lists_waiting_conversations_most_urgent_first_masked(console: Console) -> None:
    long_ago = utcnow() - dt.timedelta(days=2)
    urgent = alice_handoff(console, sentiment="very_negative")  # high priority
    overdue = alice_handoff(console, now=long_ago)  # normal priority, its SLA passed a day ago
    with console.state.db.transaction() as session:
        waiting_later = session.get(Ticket, console.carol_ticket_id)
        assert waiting_later is not None and waiting_later.priority == "normal"
    customer_writes(console, "carol-telegram", "my card 4111 1111 1111 1111 and email carol@example.com")
    client, _ = logged_in(console, AGENT)
    page = client.get("/queue")
    assert page.status_code == 200
    waiting = page.text.split('id="waiting"')[1].split('id="mine"')[0]
    order = [int(t) for t in re.findall(r'data-ticket="(\d+)"', waiting)]
    assert order == [urgent, overdue, console.carol_ticket_id]  # priority first, then the earliest SLA due
    assert re.search(r"overdue by 2[34] h \d\d min", waiting) and re.search(r"\d+ h \d\d min left", waiting)
    assert f"customer #{console.alice_customer_id} (new)" in waiting and "visitor (not identified)" in waiting
    assert "telegram" in waiting and "socketio" in waiting
    assert "carol@example.com" not in page.text and "4111" not in page.text and "[email]" in page.text
    assert "Jane" not in page.text


def test_due_in_words_and_display_names() -> None:
    now = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
    assert due_in_words(now + dt.timedelta(minutes=65), now) == (False, "1 h 05 min left")
    assert due_in_words(now - dt.timedelta(minutes=12, seconds=5), now) == (True, "overdue by 12 min")
    assert agent_display_name("sam.lee@example.com") == "Sam"
    assert agent_display_name("j_doe2@example.com") == "J"
    assert agent_display_name("42@example.com") == "a colleague"


# ---- claims ----


def test_a_claim_sets_assignee_and_time_and_a_second_agent_gets_409(console: Console, other_agent: str) -> None:
    ticket_id = console.carol_ticket_id
    first, csrf = logged_in(console, AGENT)
    answer = first.post(f"/queue/{ticket_id}/claim", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == f"/handoff/{ticket_id}"
    held = ticket(console, ticket_id)
    assert held.assignee == AGENT and held.claimed_at is not None and held.status == "open"

    second, csrf2 = logged_in(console, other_agent)
    refused = second.post(f"/queue/{ticket_id}/claim", data={"csrf_token": csrf2})
    assert refused.status_code == 409
    assert f"{AGENT} has already claimed this conversation." in refused.text
    assert ticket(console, ticket_id).assignee == AGENT and ticket(console, ticket_id).claimed_at == held.claimed_at

    again = first.post(f"/queue/{ticket_id}/claim", data={"csrf_token": csrf})  # a second click of the holder
    assert again.status_code == 303

    queue = first.get("/queue").text
    mine = queue.split('id="mine"')[1]
    assert f'data-ticket="{ticket_id}"' in mine
    assert f'data-ticket="{ticket_id}"' not in queue.split('id="waiting"')[1].split('id="mine"')[0]


def race_for_the_claim(console: Console) -> None:
    """Two agents claim the same conversation at the same moment, each in its own transaction."""
    ticket_id = console.carol_ticket_id
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(email: str) -> None:
        start.wait()
        try:
            with console.state.db.transaction() as session:
                claim(session, ticket_id, email)
            outcomes[email] = "claimed"
        except HandoffConflict as error:
            outcomes[email] = error.message

    threads = [threading.Thread(target=take, args=(email,)) for email in (AGENT, OTHER_AGENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = ticket(console, ticket_id).assignee
    assert winner in (AGENT, OTHER_AGENT)
    loser = OTHER_AGENT if winner == AGENT else AGENT
    assert outcomes == {winner: "claimed", loser: f"{winner} has already claimed this conversation."}


def test_two_agents_claiming_at_once_never_both_hold_it(console: Console) -> None:
    race_for_the_claim(console)


def test_claims_and_the_queue_on_postgresql(pg_console: Console) -> None:
    race_for_the_claim(pg_console)
    with pg_console.state.db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.id == pg_console.carol_ticket_id).values(assignee=None))
    client, _ = logged_in(pg_console, AGENT)
    row = client.get("/queue").text.split(f'data-ticket="{pg_console.carol_ticket_id}"')[1].split("</tr>")[0]
    assert "I want to talk to a person" in row and "telegram" in row  # the tracker read on PostgreSQL


def test_unknown_and_non_handoff_tickets_are_404(console: Console) -> None:
    with console.state.db.transaction() as session:
        complaint = open_ticket(session, category="complaint", subject="late", conversation_id="alice-web").id
    client, csrf = logged_in(console, AGENT)
    for ticket_id in (999_999, complaint):
        assert client.get(f"/handoff/{ticket_id}").status_code == 404
        assert client.get(f"/handoff/{ticket_id}/lines").status_code == 404
        assert client.post(f"/queue/{ticket_id}/claim", data={"csrf_token": csrf}).status_code == 404
        sent = client.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": csrf, "text": "hi"})
        assert sent.status_code == 404
    assert client.get("/handoff/not-a-number").status_code == 400
    assert ticket(console, complaint).assignee is None


def test_a_claim_without_the_forms_csrf_token_is_refused(console: Console) -> None:
    client, _ = logged_in(console, AGENT)
    assert client.post(f"/queue/{console.carol_ticket_id}/claim", data={"csrf_token": "forged"}).status_code == 403
    assert ticket(console, console.carol_ticket_id).assignee is None


# ---- messages ----


def test_the_first_message_announces_the_agent_then_messages_go_to_the_customers_channel(
    console: Console, rasa: FakeRasa, other_agent: str
) -> None:
    ticket_id = alice_handoff(console)  # alice-web: the web widget (socketio)
    claimed(console, ticket_id, other_agent)
    client, csrf = logged_in(console, other_agent)
    sent = client.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": csrf, "text": "  Hi Jane, Sam here.  "})
    assert sent.status_code == 303 and sent.headers["location"] == f"/handoff/{ticket_id}"
    assert len(rasa.posted) == 1
    post = rasa.posted[0]
    assert post.path == "/conversations/alice-web/tracker/events"
    assert post.query == {"output_channel": "latest", "execute_side_effects": "true", "token": rasa.token}
    joined, said = post.body
    assert joined == {
        "event": "bot",
        "text": None,
        "data": {"custom": {"type": "handoff", "state": "agent", "agent": "Sam"}},
    }
    assert said["event"] == "bot" and said["text"] == "Hi Jane, Sam here."
    assert said["metadata"]["handoff_agent"] == "Sam" and isinstance(said["metadata"]["console_user_id"], int)
    first = ticket(console, ticket_id)
    assert first.first_response_at is not None and first.first_response_at >= first.claimed_at  # type: ignore[operator]

    client.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": csrf, "text": "Let me check."})
    assert [e.get("text") for e in rasa.posted[1].body] == ["Let me check."]  # no second announcement
    assert ticket(console, ticket_id).first_response_at == first.first_response_at


def test_rasas_token_stays_out_of_the_log(
    console: Console, rasa: FakeRasa, other_agent: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ticket_id = alice_handoff(console)
    claimed(console, ticket_id, other_agent)
    client, csrf = logged_in(console, other_agent)
    client.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": csrf, "text": "Hello from support"})
    assert rasa.posted and rasa.posted[0].query["token"] == rasa.token  # it was sent, in the URL
    assert caplog.records and rasa.token not in caplog.text


def test_on_a_social_channel_the_agent_is_announced_in_words(console: Console, rasa: FakeRasa) -> None:
    claimed(console, console.carol_ticket_id)  # carol-telegram
    client, csrf = logged_in(console, AGENT)
    client.post(f"/handoff/{console.carol_ticket_id}/messages", data={"csrf_token": csrf, "text": "Hello"})
    joined, said = rasa.posted[0].body
    assert joined == {"event": "bot", "text": "You are now chatting with Agent from support."}
    assert said["text"] == "Hello"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "A message cannot be empty."), ("   \n ", "A message cannot be empty."),
     ("x" * 2001, "A message can be at most 2000 characters (this one has 2001).")],
)  # fmt: skip
def test_empty_and_overlong_messages_are_refused_and_kept(
    console: Console, rasa: FakeRasa, text: str, message: str
) -> None:
    claimed(console, console.carol_ticket_id)
    client, csrf = logged_in(console, AGENT)
    answer = client.post(f"/handoff/{console.carol_ticket_id}/messages", data={"csrf_token": csrf, "text": text})
    assert answer.status_code == 400
    assert message in answer.text
    if text.strip():
        assert f">{text}</textarea>" in answer.text  # the draft is still in the form
    assert rasa.posted == [] and ticket(console, console.carol_ticket_id).first_response_at is None


def test_when_rasa_is_down_the_agent_is_told_and_nothing_is_recorded(console: Console) -> None:
    claimed(console, console.carol_ticket_id)
    console.state.rasa = RasaApi(f"http://127.0.0.1:{free_port()}", "fake-token", timeout=5)  # nothing listens
    client, csrf = logged_in(console, AGENT)
    draft = f"Sorry for the wait {XSS}"
    answer = client.post(f"/handoff/{console.carol_ticket_id}/messages", data={"csrf_token": csrf, "text": draft})
    assert answer.status_code == 502
    assert "could not be reached, so nothing was sent" in answer.text
    assert "Sorry for the wait &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in answer.text
    assert ticket(console, console.carol_ticket_id).first_response_at is None


def test_rasa_errors_and_a_wrong_token_are_reported(console: Console, rasa: FakeRasa) -> None:
    claimed(console, console.carol_ticket_id)
    client, csrf = logged_in(console, AGENT)
    rasa.answer_status = 500
    failed = client.post(f"/handoff/{console.carol_ticket_id}/messages", data={"csrf_token": csrf, "text": "hi"})
    assert failed.status_code == 502 and "answered with an error (500)" in failed.text
    console.state.rasa = RasaApi(rasa.url, "wrong-token")
    refused = client.post(f"/handoff/{console.carol_ticket_id}/messages", data={"csrf_token": csrf, "text": "hi"})
    assert refused.status_code == 502 and "refused the console's token" in html.unescape(refused.text)
    assert ticket(console, console.carol_ticket_id).first_response_at is None


def test_only_the_holder_or_an_admin_may_write_hand_back_or_close(
    console: Console, rasa: FakeRasa, other_agent: str
) -> None:
    ticket_id = console.carol_ticket_id
    client, csrf = logged_in(console, AGENT)
    unclaimed = client.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": csrf, "text": "hi"})
    assert unclaimed.status_code == 409 and "claim it first" in unclaimed.text
    claimed(console, ticket_id)

    other, other_csrf = logged_in(console, other_agent)
    page = other.get(f"/handoff/{ticket_id}")
    assert page.status_code == 200 and 'id="send-form"' not in page.text and "you can read along" in page.text
    refused = other.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": other_csrf, "text": "mine now"})
    assert refused.status_code == 403 and f"{AGENT} holds this conversation" in refused.text
    closing = other.post(f"/handoff/{ticket_id}/close", data={"csrf_token": other_csrf, "resolution": "done"})
    assert closing.status_code == 403
    assert rasa.posted == [] and ticket(console, ticket_id).status == "open"

    admin, admin_csrf = logged_in(console, ADMIN)
    assert (
        admin.post(
            f"/handoff/{ticket_id}/messages", data={"csrf_token": admin_csrf, "text": "An admin here"}
        ).status_code
        == 303
    )
    assert rasa.posted[-1].body[-1]["text"] == "An admin here"


# ---- hand back and close ----


def test_hand_back_resumes_the_assistant_tells_the_customer_and_resolves_the_ticket(
    console: Console, rasa: FakeRasa
) -> None:
    ticket_id = alice_handoff(console)
    claimed(console, ticket_id)
    client, csrf = logged_in(console, AGENT)
    empty = client.post(f"/handoff/{ticket_id}/close", data={"csrf_token": csrf, "resolution": " "})
    assert empty.status_code == 400 and "A resolution cannot be empty." in empty.text
    assert rasa.posted == [] and ticket(console, ticket_id).status == "open"

    closed = client.post(f"/handoff/{ticket_id}/close", data={"csrf_token": csrf, "resolution": "Refund explained"})
    assert closed.status_code == 303 and closed.headers["location"] == "/queue"
    resume, back, listen = rasa.posted[0].body
    assert resume == {"event": "resume"} and listen == {"event": "action", "name": "action_listen"}
    assert back["event"] == "bot" and "back with the shop assistant" in back["text"]
    assert back["data"] == {"custom": {"type": "handoff", "state": "ended"}}
    assert rasa.posted[0].query["output_channel"] == "latest"
    done = ticket(console, ticket_id)
    assert done.status == "resolved" and done.resolution == "Refund explained" and done.resolved_at is not None
    assert done.assignee == AGENT  # who handled it stays, for the analytics

    after = client.post(f"/handoff/{ticket_id}/messages", data={"csrf_token": csrf, "text": "one more thing"})
    assert after.status_code == 409 and "already closed" in after.text
    assert client.post(f"/queue/{ticket_id}/claim", data={"csrf_token": csrf}).status_code == 409
    page = client.get(f"/handoff/{ticket_id}")
    assert "Refund explained" in page.text and 'id="send-form"' not in page.text


def test_hand_back_with_rasa_down_keeps_the_ticket_open_and_the_resolution(console: Console) -> None:
    claimed(console, console.carol_ticket_id)
    console.state.rasa = RasaApi(f"http://127.0.0.1:{free_port()}", "fake-token", timeout=5)
    client, csrf = logged_in(console, AGENT)
    answer = client.post(
        f"/handoff/{console.carol_ticket_id}/close", data={"csrf_token": csrf, "resolution": "Told them the date"}
    )
    assert answer.status_code == 502 and "nothing was sent" in answer.text
    assert ">Told them the date</textarea>" in answer.text
    still = ticket(console, console.carol_ticket_id)
    assert still.status == "open" and still.resolution is None and still.resolved_at is None


# ---- the live chat page ----


def test_the_chat_page_runs_only_the_consoles_own_script(console: Console) -> None:
    claimed(console, console.carol_ticket_id)
    client, _ = logged_in(console, AGENT)
    page = client.get(f"/handoff/{console.carol_ticket_id}")
    policy = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'" and policy["default-src"] == "'none'"
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/handoff.js" defer>']
    assert "I want to talk to a person" in page.text  # the transcript so far
    assert "script-src" not in client.get("/queue").headers["Content-Security-Policy"]  # other pages: no script
    script = client.get("/static/handoff.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "X-Last-Event" in script.text and "insertAdjacentHTML" in script.text


def test_new_customer_messages_arrive_escaped_and_masked_in_the_lines(console: Console) -> None:
    claimed(console, console.carol_ticket_id)
    client, _ = logged_in(console, AGENT)
    page = client.get(f"/handoff/{console.carol_ticket_id}")
    last = int(re.search(r'data-after="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    nothing = client.get(f"/handoff/{console.carol_ticket_id}/lines?after={last}")
    assert nothing.status_code == 200 and nothing.text.strip() == "" and nothing.headers["X-Last-Event"] == str(last)

    event_id = customer_writes(console, "carol-telegram", f"{XSS} it's me, carol@example.com, order SO-555123")
    fresh = client.get(f"/handoff/{console.carol_ticket_id}/lines?after={last}")
    assert fresh.headers["X-Last-Event"] == str(event_id) and fresh.headers["X-Ticket-Status"] == "open"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fresh.text and "<script>" not in fresh.text
    assert "carol@example.com" not in fresh.text and "[email]" in fresh.text and "[order]" in fresh.text
    assert fresh.text.count('class="turn customer') == 1 and f'data-event="{event_id}"' in fresh.text

    pressed = customer_writes(console, "carol-telegram", "/inform")  # a button's payload
    button = client.get(f"/handoff/{console.carol_ticket_id}/lines?after={pressed - 1}").text
    assert "(pressed a button: inform)" in button and "/inform" not in button

    forged = client.get(
        f"/handoff/{console.carol_ticket_id}/lines?after={last}", headers={"X-Reveal-Grant": "forged.grant"}
    )
    assert "carol@example.com" not in forged.text


def test_the_chat_names_the_agent_and_shows_handoff_states_in_words(console: Console) -> None:
    claimed(console, console.carol_ticket_id)
    custom = {"type": "handoff", "state": "agent", "agent": "Sam"}
    first = rasa_stores_bot_event(console, "carol-telegram", {"event": "bot", "text": None, "data": {"custom": custom}})
    said = {"text": "Hi, Sam here", "metadata": {"handoff_agent": "Sam", "console_user_id": 2}}
    rasa_stores_bot_event(console, "carol-telegram", {"event": "bot", **said})
    ended = {"custom": {"type": "handoff", "state": "ended"}}
    rasa_stores_bot_event(console, "carol-telegram", {"event": "bot", "text": "You're back", "data": ended})
    client, _ = logged_in(console, AGENT)
    lines = client.get(f"/handoff/{console.carol_ticket_id}/lines?after={first - 1}").text
    texts = [" ".join(html.unescape(t).split()) for t in re.findall(r'<div class="meta">(.*?)</div>', lines)]
    assert [t.split(" · ")[0] for t in texts] == ["system", "Sam (support)", "assistant", "system"]
    assert "the customer was told Sam from support joined" in lines and "handed back to the assistant" in lines
    assert "payload]" not in lines
    page = client.get(f"/handoff/{console.carol_ticket_id}").text
    assert "the assistant paused: a person takes over" in page and "Sam (support)" in page


def test_a_reveal_is_audited_and_lets_the_live_lines_show_personal_data(console: Console) -> None:
    ticket_id = alice_handoff(console)
    with console.state.db.transaction() as session:
        add_order(session, console.alice_customer_id, "SO-777001", utcnow() - dt.timedelta(days=3))
    claimed(console, ticket_id)
    client, csrf = logged_in(console, AGENT)
    page = client.get(f"/handoff/{ticket_id}").text
    panel = page.split('id="customer"')[1].split("</div>")[0]
    assert (
        "Jane" not in page
        and "jane.doe@example.com" not in page
        and "SO-777001" not in page
        and "SO-123456" not in page
    )
    assert "[name]" in panel and "[email]" in panel and "[order] · paid" in panel
    assert "new · lifetime value" in panel

    revealed = client.post(f"/handoff/{ticket_id}/reveal", data={"csrf_token": csrf, "reason": "address check"})
    assert revealed.status_code == 200 and "Cache-Control" in revealed.headers
    assert "Jane Doe" in revealed.text and "jane.doe@example.com" in revealed.text and "SO-777001" in revealed.text
    assert "SO-123456" in revealed.text  # the transcript too
    with console.state.db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_pii")).one()
        assert (entry.actor, entry.target) == (AGENT, "alice-web") and "address check" in entry.detail

    grant = re.search(r'data-reveal-grant="([^"]+)"', revealed.text).group(1)  # type: ignore[union-attr]
    event_id = customer_writes(console, "alice-web", "write to jane.doe@example.com", channel="socketio")
    shown = client.get(f"/handoff/{ticket_id}/lines?after={event_id - 1}", headers={"X-Reveal-Grant": grant})
    assert "jane.doe@example.com" in shown.text
    # the grant is this session's: another browser of the same agent, or of an admin, gets masked lines
    for email in (AGENT, ADMIN):
        other, _ = logged_in(console, email)
        masked = other.get(f"/handoff/{ticket_id}/lines?after={event_id - 1}", headers={"X-Reveal-Grant": grant})
        assert "jane.doe@example.com" not in masked.text and "[email]" in masked.text


def test_a_visitor_has_no_customer_panel(console: Console) -> None:
    client, _ = logged_in(console, AGENT)
    page = client.get(f"/handoff/{console.carol_ticket_id}")
    assert "has not proven who they are" in page.text and 'class="claim"' in page.text


# ---- canned replies ----


def test_admins_keep_the_canned_replies_and_agents_insert_them(console: Console) -> None:
    admin, csrf = logged_in(console, ADMIN)
    added = admin.post("/canned-replies", data={"csrf_token": csrf, "title": " Delay ", "body": "Sorry for the delay."})
    assert added.status_code == 303
    duplicate = admin.post("/canned-replies", data={"csrf_token": csrf, "title": "Delay", "body": "again"})
    assert duplicate.status_code == 400 and "already a canned reply called 'Delay'" in html.unescape(duplicate.text)
    assert admin.post("/canned-replies", data={"csrf_token": csrf, "title": "", "body": "x"}).status_code == 400
    assert (
        admin.post("/canned-replies", data={"csrf_token": csrf, "title": "Long", "body": "x" * 2001}).status_code == 400
    )
    with console.state.db.transaction() as session:
        reply = session.scalars(select(CannedReply)).one()
        reply_id = reply.id
        assert (reply.title, reply.body, reply.updated_by) == ("Delay", "Sorry for the delay.", ADMIN)
    hostile = f"We are on it {XSS}"
    assert (
        admin.post(
            f"/canned-replies/{reply_id}", data={"csrf_token": csrf, "title": "Delay", "body": hostile}
        ).status_code
        == 303
    )
    assert admin.post("/canned-replies/999/delete", data={"csrf_token": csrf}).status_code == 404
    assert admin.post("/canned-replies/999", data={"csrf_token": csrf, "title": "a", "body": "b"}).status_code == 404

    claimed(console, console.carol_ticket_id)
    agent, _ = logged_in(console, AGENT)
    page = agent.get(f"/handoff/{console.carol_ticket_id}").text
    assert 'class="insert-canned" data-body="We are on it &lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert "<script>alert(1)" not in page

    assert admin.post(f"/canned-replies/{reply_id}/delete", data={"csrf_token": csrf}).status_code == 303
    with console.state.db.transaction() as session:
        assert session.scalars(select(CannedReply)).all() == []


def test_the_canned_reply_set_stays_small(console: Console) -> None:
    with console.state.db.transaction() as session:
        for number in range(100):
            add_reply(session, f"reply {number}", "text", ADMIN)
    admin, csrf = logged_in(console, ADMIN)
    full = admin.post("/canned-replies", data={"csrf_token": csrf, "title": "one more", "body": "text"})
    assert full.status_code == 400 and "delete one first" in full.text


def test_the_agents_page_lists_the_rest_of_the_roles_pages(console: Console) -> None:
    agent, _ = logged_in(console, AGENT)
    nav = agent.get("/queue").text.split("</header>")[0]
    assert 'href="/queue"' in nav and 'href="/canned-replies"' not in nav
    admin, _ = logged_in(console, ADMIN)
    assert 'href="/canned-replies"' in admin.get("/queue").text.split("</header>")[0]
    annotator, _ = logged_in(console, "annotator@example.com")
    assert 'href="/queue"' not in annotator.get("/conversations").text.split("</header>")[0]
    assert csrf_of(admin.get("/canned-replies").text)
