"""A console on a fresh shop database, with conversations written by Rasa's own tracker store.

The tracker database is written once per session by tests/console/rasa_seed.py in the Rasa
runtime (Rasa's event classes and SQLTrackerStore), then copied for each test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from console.app import create_app
from console.security import create_user
from console.sync import sync_once
from console.web import ConsoleConfig, ConsoleState
from settings import PROJECT_ROOT
from store.customers import create_customer, link_identity
from store.tickets import open_ticket

PASSWORD = "a long enough password"
ROLE_USERS = {"admin": "admin@example.com", "agent": "agent@example.com", "annotator": "annotator@example.com"}
XSS = "<script>alert(1)</script>"
INJECTION_SENDER = "x'; DROP TABLE events;-- /../<b>"
DAY = 86_400.0
ALL_SENDERS = {"alice-web", "bob-rest", "carol-telegram", INJECTION_SENDER}  # every seeded conversation
START = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC).timestamp()

CONVERSATIONS: list[dict[str, Any]] = [
    {
        "sender": "alice-web",
        "channel": "socketio",
        "start": START,
        "turns": [
            {
                "user": "Hi, my email is jane.doe@example.com and my order is SO-123456",
                "intent": "order_status",
                "confidence": 0.93,
                "entities": [
                    {"entity": "email", "value": "jane.doe@example.com", "start": 16, "end": 36},
                    {"entity": "order_id", "value": "SO-123456", "start": 53, "end": 62},
                ],
            },
            {"action": "action_order_status", "policy": "RulePolicy", "confidence": 1.0},
            {"bot": "Jane, your order SO-123456 arrives on Monday."},
            {
                "user": "this is useless, it was promised last week!!!",
                "intent": "delivery_problem",
                "confidence": 0.88,
                "sentiment": {"negative": 0.9, "neutral": 0.06, "positive": 0.04},
            },
            {"action": "action_delivery_problem", "policy": "TEDPolicy", "confidence": 0.97},
            {"bot": "I'm sorry about the delay."},
        ],
    },
    {
        "sender": "bob-rest",
        "channel": "rest",
        "start": START + 5 * DAY,
        "turns": [
            {"user": XSS, "intent": "invoice", "confidence": 0.42},
            {"action": "action_two_stage_fallback", "policy": "RulePolicy", "confidence": 1.0},
            {"bot": "Sorry, I'm not sure I understood."},
            {
                "user": "do you sell running shoes?",
                "intent": "product_search",
                "confidence": 0.98,
                "entities": [{"entity": "product", "value": "running shoes", "start": 12, "end": 25}],
                "sentiment": {"negative": 0.02, "neutral": 0.28, "positive": 0.7},
            },
            {"action": "action_search_products", "policy": "RulePolicy", "confidence": 1.0},
            {"bot": "Yes, we have running shoes:"},
        ],
    },
    {
        "sender": "carol-telegram",
        "channel": "telegram",
        "start": START + 7 * DAY,
        "turns": [
            {"user": "Payment  Methods", "intent": "payment_methods", "confidence": 0.97},  # training data already
            {"action": "utter_payment_methods", "policy": "RulePolicy", "confidence": 1.0},
            {"user": "I want to talk to a person", "intent": "human_handoff", "confidence": 0.99},
            {"action": "action_handoff", "policy": "RulePolicy", "confidence": 1.0},
            {"bot": "I've asked a colleague to take over."},
            {"pause": True},
        ],
    },
    {
        "sender": INJECTION_SENDER,
        "channel": "rest",
        "start": START + 6 * DAY,
        "turns": [{"user": "Robert'); DROP TABLE console_conversations;-- 100% _sure_ \\", "intent": "greet"}],
    },
]


def seed_tracker(target: dict[str, Any], conversations: list[dict[str, Any]]) -> None:
    """Write conversations with Rasa's SQLTrackerStore (tests/console/rasa_seed.py in the Rasa runtime)."""
    spec = json.dumps({**target, "conversations": conversations})
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "exec", "rasa", "python", "tests/console/rasa_seed.py"],
        input=spec,
        text=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="session")
def tracker_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tracker database holding CONVERSATIONS, as Rasa's SQLTrackerStore writes it."""
    path = tmp_path_factory.mktemp("tracker") / "tracker.db"
    seed_tracker({"db": str(path)}, CONVERSATIONS)
    return path


@dataclass
class Console:
    """A console app with its state, and the ids the seed data got."""

    app: FastAPI
    state: ConsoleState
    tracker_path: Path
    alice_customer_id: int
    carol_ticket_id: int

    def client(self) -> TestClient:
        """A fresh browser (no cookies)."""
        return TestClient(self.app, follow_redirects=False)

    def sync(self) -> None:
        """Fold the tracker's new events in."""
        sync_once(self.state.db, self.state.tracker)


@pytest.fixture
def console(tmp_path: Path, tracker_template: Path) -> Iterator[Console]:
    yield from build_console(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path, tracker_template)


def build_console(
    shop_database_url: str, tmp_path: Path, tracker_template: Path, tracker_database_url: str | None = None
) -> Iterator[Console]:
    """A console on this (empty) shop database and a seeded tracker (a copy of the template unless a URL is given)."""
    tracker_path = tmp_path / "tracker.db"
    shutil.copyfile(tracker_template, tracker_path)
    # the NLU inbox exports into a copy of the training data, never into the project's own
    shutil.copytree(PROJECT_ROOT / "data" / "nlu", tmp_path / "data" / "nlu")
    shutil.copyfile(PROJECT_ROOT / "domain.yml", tmp_path / "domain.yml")
    (tmp_path / "stories").mkdir(exist_ok=True)  # "save as test story" writes here, not into tests/stories
    config = ConsoleConfig(
        shop_database_url=shop_database_url,
        tracker_database_url=tracker_database_url or f"sqlite:///{tracker_path}",
        training_data_dir=tmp_path / "data",
        domain_file=tmp_path / "domain.yml",
        test_stories_dir=tmp_path / "stories",
        secret="test-secret-" + "x" * 20,
        sync_interval_seconds=None,
    )
    app = create_app(config)
    state: ConsoleState = app.state.console
    with state.db.transaction() as session:
        for role, email in ROLE_USERS.items():
            create_user(session, email, PASSWORD, role)
        alice = create_customer(session, name="Jane Doe", email="jane.doe@example.com", phone="+44 7700 900123")
        link_identity(session, alice.id, "socketio", "alice-web", verified=True)
        ticket = open_ticket(session, category="handoff", subject="wants a person", conversation_id="carol-telegram")
    running = Console(app, state, tracker_path, alice.id, ticket.id)
    running.sync()
    yield running
    state.tracker.dispose()
    state.db.dispose()


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    form = client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_of(form.text), "next": ""}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/conversations").text)
