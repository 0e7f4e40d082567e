"""Personal data masked by default, revealed by admins and agents with an audit entry; erasure empties the console."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select

from console.models import AuditEntry, ConversationIntent, ConversationSummary, ConversationTag, Note
from console.sync import prune_missing
from settings import PROJECT_ROOT
from store.conversations import ConversationStore
from tests.console.conftest import ROLE_USERS, Console, csrf_of, log_in

PERSONAL = ("jane.doe@example.com", "SO-123456", "Jane")


def _audit(console: Console, action: str) -> list[AuditEntry]:
    with console.state.db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_personal_data_is_masked_by_default_for_every_role(console: Console) -> None:
    for role, email in ROLE_USERS.items():
        client = console.client()
        log_in(client, email)
        html = client.get("/conversations/alice-web").text
        for value in PERSONAL:
            assert value not in html, (role, value)
        assert "Hi, my email is [email] and my order is [order]" in html
        assert "[name], your order [order] arrives on Monday." in html
        assert (
            '<span class="tag">email=[email]</span>' in html and '<span class="tag">order_id=[order_id]</span>' in html
        )
        assert ("Reveal personal data" in html) is (role != "annotator")
        # nor does the list or its search give personal data away
        assert "jane.doe" not in client.get("/conversations?q=jane").text
    assert _audit(console, "reveal_pii") == []


def test_reveal_shows_the_data_and_is_audited(console: Console) -> None:
    client = console.client()
    csrf = log_in(client, ROLE_USERS["agent"])
    response = client.post("/reveal/alice-web", data={"csrf_token": csrf, "reason": "customer called about SO-123456"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    for value in PERSONAL:
        assert value in response.text
    assert "customer #1 (Jane Doe)" in response.text and 'id="revealed-notice"' in response.text
    (entry,) = _audit(console, "reveal_pii")
    assert (entry.actor, entry.target, entry.ip) == ("agent@example.com", "alice-web", "testclient")
    assert entry.detail == "customer called about SO-123456"
    # the next plain view is masked again
    assert "jane.doe@example.com" not in client.get("/conversations/alice-web").text
    annotator = console.client()
    token = log_in(annotator, ROLE_USERS["annotator"])
    refused = annotator.post("/reveal/alice-web", data={"csrf_token": token})
    assert refused.status_code == 403 and "jane.doe@example.com" not in refused.text
    assert len(_audit(console, "reveal_pii")) == 1
    admin = console.client()
    log_in(admin, ROLE_USERS["admin"])
    audit_page = admin.get("/admin/audit").text
    assert "reveal_pii" in audit_page and "alice-web" in audit_page


def _staff_work_on_alice(console: Console) -> None:
    client = console.client()
    csrf = log_in(client, ROLE_USERS["agent"])
    client.post("/tags/alice-web", data={"name": "vip", "csrf_token": csrf})
    client.post("/notes/alice-web", data={"body": "Jane prefers email", "csrf_token": csrf})


def _console_rows_about_alice(console: Console) -> int:
    with console.state.db.transaction() as session:
        return sum(
            session.scalar(select(func.count()).select_from(model).where(model.sender_id == "alice-web")) or 0
            for model in (ConversationSummary, ConversationIntent, ConversationTag, Note)
        )


def test_the_stores_erasure_command_removes_the_customers_conversations_from_the_console(console: Console) -> None:
    _staff_work_on_alice(console)
    assert _console_rows_about_alice(console) > 0
    env = {
        **os.environ,
        "SHOP_DATABASE_URL": console.state.config.shop_database_url,
        "TRACKER_DATABASE_URL": console.state.config.tracker_database_url,
    }
    erased = subprocess.run(
        [sys.executable, "-m", "store", "erase-customer", str(console.alice_customer_id), "--yes"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert erased.returncode == 0, erased.stderr
    # gone at once (the customer row's delete cascades), before any sync runs
    assert _console_rows_about_alice(console) == 0
    client = console.client()
    log_in(client, ROLE_USERS["admin"])
    assert "alice-web" not in client.get("/conversations").text
    assert client.get("/conversations/alice-web").status_code == 404
    assert "alice-web" not in client.get("/conversations?customer=jane.doe@example.com").text
    console.sync()  # and a later sync does not bring it back
    assert _console_rows_about_alice(console) == 0


def test_conversations_erased_only_from_the_tracker_leave_the_console(console: Console) -> None:
    """An erasure that reached a conversation the console had not linked to the customer (or retention)."""
    conversations = ConversationStore(console.state.config.tracker_database_url)
    assert conversations.delete_conversations(["bob-rest"]) > 0
    conversations.dispose()
    client = console.client()
    log_in(client, ROLE_USERS["agent"])
    assert client.get("/conversations/bob-rest").status_code == 404  # the transcript checks the tracker itself
    assert "bob-rest" not in client.get("/conversations").text
    conversations = ConversationStore(console.state.config.tracker_database_url)
    conversations.delete_conversations(["carol-telegram"])
    conversations.dispose()
    assert prune_missing(console.state.db, console.state.tracker) == 1  # the background sync's periodic check
    assert "carol-telegram" not in client.get("/conversations").text
    assert "alice-web" in client.get("/conversations").text


def test_erasure_from_the_console_is_admin_only_confirmed_and_audited(console: Console) -> None:
    _staff_work_on_alice(console)
    admin = console.client()
    csrf = log_in(admin, ROLE_USERS["admin"])
    customer = str(console.alice_customer_id)
    export = admin.post("/admin/customers/export", data={"customer_id": customer, "csrf_token": csrf})
    assert export.status_code == 200 and export.json()["customer"]["email"] == "jane.doe@example.com"
    assert any(event.get("text", "").startswith("Hi, my email") for event in export.json()["conversations"])
    unconfirmed = admin.post("/admin/customers/erase", data={"customer_id": customer, "csrf_token": csrf})
    assert unconfirmed.status_code == 400 and _console_rows_about_alice(console) > 0
    for bad in ("abc", "-1", "1 OR 1=1", ""):
        response = admin.post("/admin/customers/erase", data={"customer_id": bad, "confirm": bad, "csrf_token": csrf})
        assert response.status_code == 400
    missing = admin.post("/admin/customers/erase", data={"customer_id": "999", "confirm": "999", "csrf_token": csrf})
    assert missing.status_code == 404
    erased = admin.post(
        "/admin/customers/erase", data={"customer_id": customer, "confirm": customer, "csrf_token": csrf}
    )
    assert erased.status_code == 303
    assert _console_rows_about_alice(console) == 0
    assert console.state.tracker.conversation("alice-web") == []
    assert [e.target for e in _audit(console, "export_customer")] == [f"customer {customer}"]
    (entry,) = _audit(console, "erase_customer")
    assert entry.actor == "admin@example.com" and '"conversation_events": 9' in entry.detail
    assert "erase_customer" in admin.get("/admin/audit").text
    # the erased customer's page is gone for everyone
    agent = console.client()
    log_in(agent, ROLE_USERS["agent"])
    assert agent.get("/conversations/alice-web").status_code == 404
    assert csrf_of(agent.get("/conversations").text)
