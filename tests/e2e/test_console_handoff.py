"""A customer asks for a person in the web widget and an agent answers from the staff console: two pages of
a real headless Chromium against the run command's stack (real Rasa, action server, widget server, console).
The agent sees the conversation in the queue, claims it, writes; the customer reads it in the widget; what
the customer writes next appears in the console's chat without a reload; the agent hands back and closes.
Screenshots go to $SHOP_REPORTS_DIR/console (reports/console by default)."""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from settings import PROJECT_ROOT
from tests.browser import headless_chromium, screenshot_folder
from tests.e2e.conftest import RunningStack
from tests.e2e.test_console import console_url
from tests.e2e.test_widget_browser import REPLY_TIMEOUT_MS, open_chat, say, session_of

PASSWORD = "e2e handoff agent password"
# expect() waits this long for a reply or a poll round trip on a loaded 2-core machine (not a speed check)
LIVE = REPLY_TIMEOUT_MS


@pytest.fixture(scope="module")
def screenshots() -> Path:
    return screenshot_folder("console")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(REPLY_TIMEOUT_MS)
    return context


def create_agent(stack: RunningStack) -> str:
    """An agent account made with the console's own command; the customer will see the name Sam."""
    email = f"sam.{uuid.uuid4().hex[:6]}@example.com"
    created = subprocess.run(
        [sys.executable, "-m", "console", "create-user", "--email", email, "--role", "agent"],
        env={**os.environ, "SHOP_DATA_DIR": str(stack.data_dir), "CONSOLE_ADMIN_PASSWORD": PASSWORD},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    return email


def handoff_ticket(stack: RunningStack, session_id: str) -> sqlite3.Row:
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute(
            "SELECT * FROM tickets WHERE category = 'handoff' AND conversation_id = ?", (session_id,)
        ).fetchone()
    assert row is not None, f"no handoff ticket for {session_id}"
    return row


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_an_agent_takes_a_conversation_from_the_queue_and_chats_with_the_customer_live(
    stack: RunningStack, browser: Browser, screenshots: Path
) -> None:
    agent_email = create_agent(stack)
    customer_context, agent_context = new_context(browser), new_context(browser)
    try:
        # the customer asks for a person (the complaint's "Talk to a person now" quick reply)
        customer = customer_context.new_page()
        open_chat(customer, stack)
        log = customer.get_by_role("log", name="Conversation")
        say(customer, "I have a complaint")
        customer.get_by_role("button", name="Talk to a person now").click()
        expect(log).to_contain_text("Waiting for a person from support to join", timeout=LIVE)
        session = session_of(customer)

        # the agent logs in and finds the conversation in the queue
        agent = agent_context.new_page()
        agent.goto(f"{console_url(stack)}/queue")
        expect(agent).to_have_url(re.compile(r"/login\?next="), timeout=LIVE)
        agent.get_by_label("Email").fill(agent_email)
        agent.get_by_label("Password").fill(PASSWORD)
        agent.get_by_role("button", name="Log in").click()
        expect(agent).to_have_url(re.compile(r"/queue$"), timeout=LIVE)
        row = agent.locator(f'#waiting tr[data-conversation="{session}"]')
        expect(row).to_contain_text("socketio", timeout=LIVE)
        expect(row).to_contain_text("visitor (not identified)", timeout=LIVE)
        expect(row).to_contain_text("(pressed a button: human_handoff)", timeout=LIVE)
        expect(row).to_contain_text(re.compile(r"min left"), timeout=LIVE)
        agent.screenshot(path=str(screenshots / "1-queue.png"), full_page=True)

        # claims it and writes to the customer
        row.get_by_role("button", name="Claim").click()
        expect(agent).to_have_url(re.compile(r"/handoff/\d+$"), timeout=LIVE)
        expect(agent.locator("#chat-log")).to_contain_text("I have a complaint", timeout=LIVE)
        reply = "Hello, I'm Sam from support. I'm reading your complaint now."
        agent.get_by_label(re.compile("^Your message to the customer")).fill(reply)
        agent.get_by_role("button", name="Send").click()
        expect(agent.locator("#chat-log")).to_contain_text(reply, timeout=LIVE)

        # the customer reads it in the widget, from Sam
        expect(log).to_contain_text("You are now chatting with Sam from support", timeout=LIVE)
        expect(log).to_contain_text(reply, timeout=LIVE)
        expect(customer.locator("[data-status]")).to_have_text("with Sam", timeout=LIVE)
        customer.screenshot(path=str(screenshots / "2-customer-reads-the-agent.png"))

        # what the customer writes next appears in the console's chat without a reload
        answer = "Thanks Sam, the parcel arrived <b>broken</b>"
        say(customer, answer)
        expect(agent.locator("#chat-log .turn.customer").last).to_have_text(re.compile(re.escape(answer)), timeout=LIVE)
        expect(agent.locator("#chat-log b")).to_have_count(0)  # customer text stays text
        agent.screenshot(path=str(screenshots / "3-live-chat.png"), full_page=True)

        # hand back to the assistant and close with a resolution
        agent.get_by_label(re.compile("^Resolution")).fill("Apologised; replacement arranged by the team")
        agent.get_by_role("button", name="Hand back to the assistant and close").click()
        expect(agent).to_have_url(re.compile(r"/queue$"), timeout=LIVE)
        expect(agent.locator(f'tr[data-conversation="{session}"]')).to_have_count(0, timeout=LIVE)
        expect(log).to_contain_text("Back to the shop assistant", timeout=LIVE)
        expect(log).to_contain_text("You're back with the shop assistant now.", timeout=LIVE)
        expect(customer.locator("[data-status]")).to_have_text("online", timeout=LIVE)

        # the assistant answers again in that conversation
        say(customer, "hello")
        expect(log).to_contain_text("Hi! I'm the shop assistant.", timeout=LIVE)
        customer.screenshot(path=str(screenshots / "4-customer-back-with-the-assistant.png"))
    finally:
        customer_context.close()
        agent_context.close()

    ticket = handoff_ticket(stack, session)
    assert ticket["status"] == "resolved" and ticket["assignee"] == agent_email
    assert ticket["resolution"] == "Apologised; replacement arranged by the team"
    created, claimed, first = (moment(ticket[k]) for k in ("created_at", "claimed_at", "first_response_at"))
    assert created <= claimed <= first <= moment(ticket["resolved_at"])
