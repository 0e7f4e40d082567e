"""The web widget in a real browser (Debian's Chromium, driven by Playwright) on the demo shop page of
the running product: a conversation with buttons and product cards, the handoff, the unread badge, a
reload, the keyboard, CSAT (End chat and goodbye), a second browser presenting the first one's session,
the phone layout.
Screenshots go to $SHOP_REPORTS_DIR/widget (reports/widget by default)."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import headless_chromium, screenshot_folder
from tests.e2e.conftest import RunningStack

REPLY_TIMEOUT_MS = 90_000  # a reply goes through NLU, policies and the action server on 2 busy cores


@pytest.fixture(scope="module")
def screenshots() -> Path:
    return screenshot_folder("widget")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(REPLY_TIMEOUT_MS)
    yield context
    context.close()


def open_chat(page: Page, stack: RunningStack) -> None:
    """Load the demo page and open the chat from its launcher; wait until the session is confirmed."""
    page.goto(f"{stack.web_url}/")
    launcher = page.get_by_role("button", name=re.compile("^Chat with us"))
    if launcher.get_attribute("aria-expanded") != "true":
        launcher.click()
    expect(page.locator("[data-status]")).to_have_text("online")


def say(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")


def bot_texts(page: Page) -> list[str]:
    return page.locator(".shop-chat__msg--bot").all_inner_texts()


def session_of(page: Page) -> str:
    return str(json.loads(page.evaluate("localStorage.getItem('shop-chat:history')"))["sessionId"])


def tell_the_customer(stack: RunningStack, session_id: str, custom: dict[str, Any]) -> None:
    """What the staff console does when a person joins: a bot event sent out over the customer's channel."""
    request = urllib.request.Request(
        f"{stack.rasa_url}/conversations/{session_id}/tracker/events"
        f"?output_channel=latest&execute_side_effects=true&token={stack.token}",
        data=json.dumps([{"event": "bot", "text": None, "data": {"custom": custom}}]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200


def test_a_conversation_with_buttons_cards_handoff_reload_keyboard_and_csat(
    stack: RunningStack, context: BrowserContext, browser: Browser, screenshots: Path
) -> None:
    page = context.new_page()
    open_chat(page, stack)
    expect(page.get_by_label("Your message")).to_be_focused()  # opening the chat puts the cursor in it
    log = page.get_by_role("log", name="Conversation")

    say(page, "hello")
    expect(page.locator(".shop-chat__msg--bot").first).to_contain_text("Hi! I'm the shop assistant.")

    # product cards in a carousel; a card's button is a click, not typed text
    say(page, "do you sell running shoes?")
    carousel = page.locator("[data-carousel]").last
    expect(carousel.locator("article")).to_have_count(3)
    expect(carousel).to_have_attribute("aria-roledescription", "carousel")
    assert all("Running Shoes" in title for title in carousel.locator(".shop-chat__card-title").all_inner_texts())
    page.screenshot(path=str(screenshots / "1-product-cards.png"))
    in_stock = carousel.locator("article", has_not_text="out of stock").first
    product_id = in_stock.get_attribute("data-product-id")
    in_stock.get_by_role("button", name=re.compile("^Add to cart")).click()
    expect(page.locator("[data-basket] li")).to_have_text([str(product_id)])  # the page got shop-chat:add-to-cart

    # keyboard: the carousel moves card by card with the arrow keys
    carousel.locator("article").first.locator("a").focus()
    page.keyboard.press("ArrowRight")
    expect(carousel.locator("article").nth(1).locator("a")).to_be_focused()

    # a quick reply from the bot, clicked: its payload (/human_handoff) is executed, the handoff shown
    say(page, "I have a complaint")
    person = page.get_by_role("button", name="Talk to a person now")
    person.click()
    expect(log).to_contain_text("Waiting for a person from support to join")
    expect(page.locator("[data-status]")).to_have_text("waiting for support")
    expect(person).to_be_disabled()  # a quick reply is used once

    # minimised, the chat counts what arrives: a person joins (as the staff console tells Rasa)
    page.keyboard.press("Escape")
    launcher = page.get_by_role("button", name=re.compile("^Chat with us"))
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    session = session_of(page)
    tell_the_customer(stack, session, {"type": "handoff", "state": "agent", "agent": "Sam"})
    expect(page.locator("[data-unread]")).to_have_text("1")
    expect(launcher).to_have_accessible_name("Chat with us, 1 unread message")
    page.screenshot(path=str(screenshots / "2-unread-badge.png"))
    page.keyboard.press("Enter")  # the launcher has the focus
    expect(page.locator("[data-unread]")).to_be_hidden()
    expect(log).to_contain_text("You are now chatting with Sam from support")
    expect(page.locator("[data-status]")).to_have_text("with Sam")
    page.screenshot(path=str(screenshots / "3-handoff.png"))

    # a reload keeps the conversation, the session and the open chat
    before = log.locator("li").all_text_contents()
    page.reload()
    expect(page.locator("[data-status]")).to_have_text("with Sam")
    expect(log.locator("li")).to_have_text(before)
    assert session_of(page) == session

    # a second browser presenting this session's id gets nothing of it
    check_a_second_browser_gets_nothing(stack, browser, session, screenshots)

    # CSAT at the end, by keyboard: the rating is recorded for this session, then a new chat starts
    page.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("radio", name=re.compile("^1"))).to_be_focused()
    page.keyboard.press("ArrowRight")  # radio buttons move with the arrows: 2
    page.keyboard.press("ArrowRight")  # 3
    page.keyboard.press("ArrowRight")  # 4
    page.get_by_label("Anything to add? (optional)").fill("Quick and helpful")
    page.screenshot(path=str(screenshots / "4-csat.png"))
    page.get_by_role("button", name="Send rating").click()
    expect(log).to_contain_text("Thank you for your feedback!")
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        rows = db.execute("SELECT session_id, score, comment FROM csat_ratings").fetchall()
    assert (session, 4, "Quick and helpful") in rows
    expect(page.locator("[data-status]")).to_have_text("online")
    assert session_of(page) != session

    # saying goodbye ends the chat too: the assistant's goodbye brings the rating form; Skip starts anew
    said_goodbye_in = session_of(page)
    say(page, "goodbye")
    expect(log).to_contain_text("Goodbye, and thanks for visiting the shop!")
    expect(page.get_by_role("radio", name=re.compile("^1"))).to_be_focused()
    expect(page.get_by_label("Your message")).to_be_hidden()
    page.get_by_role("button", name="Skip").click()
    expect(log).to_contain_text("Thanks for chatting with us.")
    expect(page.get_by_label("Your message")).to_be_visible()
    page.wait_for_function(  # the new chat's session is stored once the widget server has issued it
        "old => { const kept = JSON.parse(localStorage.getItem('shop-chat:history') || 'null');"
        " return Boolean(kept && kept.sessionId && kept.sessionId !== old); }",
        arg=said_goodbye_in,
    )


def check_a_second_browser_gets_nothing(stack: RunningStack, browser: Browser, session: str, screenshots: Path) -> None:
    """Another browser that puts the first one's session id in its storage, and presents it at connect."""
    other = browser.new_context(viewport={"width": 1200, "height": 900})
    other.set_default_timeout(REPLY_TIMEOUT_MS)
    stolen = {"sessionId": session, "entries": []}
    other.add_init_script(
        f"localStorage.setItem('shop-chat:history', {json.dumps(json.dumps(stolen))});"
        f"localStorage.setItem('shop-chat:token', {json.dumps(json.dumps(session))});"
    )
    try:
        page = other.new_page()
        open_chat(page, stack)
        assert session_of(page) != session  # the server gave it a session of its own
        say(page, "hello")
        expect(page.locator(".shop-chat__msg--bot").first).to_contain_text("Hi! I'm the shop assistant.")
        texts = " ".join(page.locator("[data-log]").all_inner_texts())
        assert "Running Shoes" not in texts and "Sam" not in texts and "complaint" not in texts
        # the session id as the token, straight over socket.io: refused
        refusal = page.evaluate(
            """([url, token]) => new Promise((resolve) => {
                 const ws = new WebSocket(url.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket");
                 ws.onmessage = (m) => {
                   if (String(m.data)[0] === "0") ws.send("40" + JSON.stringify({ token }));
                   else if (String(m.data).startsWith("44")) { resolve(String(m.data)); ws.close(); }
                   else if (String(m.data).startsWith("40")) { resolve("connected"); ws.close(); }
                 };
               })""",
            [stack.rasa_url, session],
        )
        assert refusal.startswith("44") and "session token refused" in refusal
        page.screenshot(path=str(screenshots / "5-second-browser.png"))
    finally:
        other.close()


def test_on_a_phone_the_open_chat_fills_the_screen(stack: RunningStack, browser: Browser, screenshots: Path) -> None:
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    phone.set_default_timeout(REPLY_TIMEOUT_MS)
    try:
        page = phone.new_page()
        open_chat(page, stack)
        box = page.get_by_role("dialog").bounding_box()
        assert box == {"x": 0, "y": 0, "width": 375, "height": 740}
        say(page, "hello")
        expect(page.locator(".shop-chat__msg--bot").first).to_contain_text("Hi! I'm the shop assistant.")
        page.screenshot(path=str(screenshots / "6-phone.png"))
        page.get_by_role("button", name="Minimise chat").click()
        expect(page.get_by_role("dialog")).to_be_hidden()
        expect(page.get_by_role("button", name=re.compile("^Chat with us"))).to_be_visible()
    finally:
        phone.close()
