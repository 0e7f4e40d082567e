"""End to end: the run command brings up Rasa, the action server and the widget page; a customer
holds the vertical-slice conversation over REST and socket.io; Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import socketio

from devstack.processes import ensure_port_free, free_port
from settings import PROJECT_ROOT
from tests.e2e.conftest import RunningStack

FALLBACK = "Sorry, I'm not sure I understood."


def post_json(url: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def rest_replies(stack: RunningStack, sender: str, text: str) -> list[dict[str, Any]]:
    return list(post_json(f"{stack.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text}))


def say_rest(stack: RunningStack, sender: str, text: str) -> list[str]:
    """The texts of the assistant's replies (product cards and other custom payloads left out)."""
    return [reply["text"] for reply in rest_replies(stack, sender, text) if "text" in reply]


def cards_in(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    (payload,) = [
        r["custom"]["data"] for r in replies if r.get("custom", {}).get("data", {}).get("type") == "product_cards"
    ]
    return list(payload["products"])


def test_a_port_in_use_is_reported_with_the_port_and_its_holder(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path), "RASA_PORT": str(port)}
        env.update({"ACTION_PORT": str(free_port()), "WEB_PORT": str(free_port())})
        result = subprocess.run(
            [sys.executable, "-m", "devstack", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert f"port {port} (Rasa server) on 127.0.0.1 is already in use by" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert "Traceback" not in result.stderr


def test_vertical_slice_over_rest(stack: RunningStack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    (greeting,) = say_rest(stack, sender, "hello")
    assert greeting.startswith("Hi! I'm the shop assistant.")

    replies = rest_replies(stack, sender, "do you sell running shoes?")
    assert replies[0]["text"] == "Yes, we have running shoes:"
    cards = cards_in(replies)
    assert len(cards) == 3 and all("Running Shoes" in card["title"] and card["price_text"][0] == "$" for card in cards)

    (nothing,) = say_rest(stack, sender, "do you have snowboards?")
    assert nothing.startswith("Sorry, ") and "snowboards" in nothing

    (fallback,) = say_rest(stack, sender, "asdkjh qwpoe zzxv")
    assert fallback.startswith(FALLBACK)

    assert say_rest(stack, sender, "thanks!") == ["You're welcome! Anything else I can help you with?"]
    assert say_rest(stack, sender, "bye") == ["Goodbye, and thanks for visiting the shop!"]


def test_a_search_is_refined_down_to_one_product_and_put_in_the_basket(stack: RunningStack) -> None:
    sender = f"shopper-{uuid.uuid4().hex[:8]}"
    first = cards_in(rest_replies(stack, sender, "do you have yoga mats?"))
    assert len(first) == 3 and all("Yoga Mat" in card["title"] for card in first)
    cheaper = cards_in(rest_replies(stack, sender, "anything cheaper?"))
    assert len(cheaper) == 3 and all("Yoga Mat" in c["title"] for c in cheaper)
    assert max(c["price"] for c in cheaper) < min(c["price"] for c in first)
    (described, *_) = say_rest(stack, sender, "the second one")
    assert described.startswith(cheaper[1]["title"])
    (answer,) = say_rest(stack, sender, "is it non-slip?")
    assert answer.startswith('Yes, according to its details: "A non-slip yoga mat')
    replies = rest_replies(stack, sender, "add it to my cart")
    (basket,) = [r["custom"]["data"] for r in replies if "custom" in r]
    assert basket["type"] == "add_to_cart" and basket["product_id"] == cheaper[1]["id"]
    # the card buttons: their payloads carry the product id
    more_like = first[2]["buttons"][0]["payload"]
    replies = rest_replies(stack, sender, more_like)
    assert replies[0]["text"] == f"If you like the {first[2]['title']}, have a look at these:"
    assert first[2]["id"] not in [card["id"] for card in cards_in(replies)]
    in_stock = next(card for card in [*first, *cheaper] if card["in_stock"])
    replies = rest_replies(stack, sender, in_stock["buttons"][1]["payload"])
    assert [r["custom"]["data"]["product_id"] for r in replies if "custom" in r] == [in_stock["id"]]
    sold_out = next(card for card in [*first, *cheaper] if not card["in_stock"])  # the seeded demo catalog has one
    (reply,) = say_rest(stack, sender, sold_out["buttons"][1]["payload"])
    assert reply == f"Sorry, the {sold_out['title']} is out of stock right now."


def test_vertical_slice_over_socketio(stack: RunningStack) -> None:
    # the session is the one the widget server's signed token names (bot/channels/web.py), not one we pick
    origin = {"Origin": stack.web_url}
    request = urllib.request.Request(
        f"{stack.web_url}/api/session", data=b"{}", headers={**origin, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        issued = json.loads(answer.read())
    session = issued["sessionId"]
    replies: list[str] = []
    confirmed = threading.Event()
    arrived = threading.Condition()
    client = socketio.Client(websocket_extra_options={"origin": stack.web_url})  # as the demo page's browser

    @client.on("session_confirm")
    def on_confirm(data: Any) -> None:
        if data == session:
            confirmed.set()

    @client.on("bot_uttered")
    def on_reply(data: dict[str, Any]) -> None:
        with arrived:
            titles = [card["title"] for card in data.get("products", [])] if data.get("type") == "product_cards" else []
            replies.append(data.get("text", "") + "\n".join(titles))
            arrived.notify_all()

    def say(text: str, replies_expected: int = 1) -> str:
        count = len(replies)
        client.emit("user_uttered", {"message": text, "session_id": session})
        with arrived:
            got = arrived.wait_for(lambda: len(replies) >= count + replies_expected, timeout=60)
            assert got, f"no reply to {text!r}"
        return "\n".join(replies[count:])

    client.connect(
        stack.rasa_url, socketio_path="/socket.io", transports=["websocket"], auth={"token": issued["token"]}
    )
    try:
        client.emit("session_request", {})
        assert confirmed.wait(timeout=30)
        assert say("hi").startswith("Hi! I'm the shop assistant.")
        assert "Running Shoes" in say("do you sell running shoes?", replies_expected=2)  # heading, then cards
        assert say("thank you").startswith("You're welcome!")
        assert say("goodbye").startswith("Goodbye")
    finally:
        client.disconnect()


def test_http_api_requires_the_token_and_shows_the_custom_action(stack: RunningStack) -> None:
    sender = f"api-{uuid.uuid4().hex[:8]}"
    say_rest(stack, sender, "do you sell running shoes?")
    status, _ = get(f"{stack.rasa_url}/conversations/{sender}/tracker")
    assert status == 401
    status, _ = get(f"{stack.rasa_url}/conversations/{sender}/tracker?token=wrong")
    assert status == 401
    status, body = get(f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.token}")
    assert status == 200
    events = json.loads(body)["events"]
    assert "action_search_products" in [e.get("name") for e in events if e["event"] == "action"]
    cards = [card for e in events if e["event"] == "bot"
             for card in ((e.get("data") or {}).get("custom") or {}).get("data", {}).get("products", [])]  # fmt: skip
    assert cards and all("Running Shoes" in card["title"] for card in cards)


def test_sentiment_reaches_the_tracker_and_the_slots(stack: RunningStack) -> None:
    sender = f"mood-{uuid.uuid4().hex[:8]}"
    say_rest(stack, sender, "this is the THIRD time I ask, where is my parcel???")
    status, body = get(f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.token}")
    assert status == 200
    tracker = json.loads(body)
    user = next(e for e in tracker["events"] if e["event"] == "user")
    assert user["parse_data"]["sentiment"]["label"] == "negative"
    assert tracker["slots"]["sentiment"] == "negative"
    assert "repeated_request" in tracker["slots"]["frustration"]
    say_rest(stack, sender, "thanks, that's lovely")
    status, body = get(f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.token}")
    assert json.loads(body)["slots"]["sentiment"] == "positive"


def post_raw(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "a" * 10_000,
        "😀😀😀",
        "こんにちは мир",
        "\x00\x07\x1b[2J",
        "/restart",
        '/order_status{"order_id": "x"}',
    ],
)
def test_bad_messages_get_an_answer_not_an_error(stack: RunningStack, message: str) -> None:
    sender = f"bad-{uuid.uuid4().hex[:8]}"
    status, body = post_raw(
        f"{stack.rasa_url}/webhooks/rest/webhook", json.dumps({"sender": sender, "message": message}).encode()
    )
    assert status == 200, body
    assert isinstance(json.loads(body), list)
    assert say_rest(stack, sender, "hello")[0].startswith("Hi!")  # the conversation goes on


def test_invalid_utf8_is_refused_cleanly(stack: RunningStack) -> None:
    body = b'{"sender": "utf8-test", "message": "caf\xe9 \xff\xfe"}'
    status, _ = post_raw(f"{stack.rasa_url}/webhooks/rest/webhook", body)
    assert status < 500


def test_conversations_are_kept_in_the_sqlite_tracker_store(stack: RunningStack) -> None:
    sender = f"store-{uuid.uuid4().hex[:8]}"
    say_rest(stack, sender, "hello")
    with sqlite3.connect(stack.data_dir / "tracker.db") as db:
        kinds = [row[0] for row in db.execute("SELECT type_name FROM events WHERE sender_id = ?", (sender,))]
    assert "user" in kinds and "bot" in kinds


def test_order_status_needs_a_proof_of_identity_first(stack: RunningStack) -> None:
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        name, email, number = db.execute(
            "SELECT c.name, c.email, o.number FROM customers c JOIN orders o ON o.customer_id = c.id "
            "WHERE c.id = 7 AND o.status != 'cancelled' ORDER BY o.placed_at DESC LIMIT 1"
        ).fetchone()
        (other_number,) = db.execute("SELECT number FROM orders WHERE customer_id != 7 LIMIT 1").fetchone()
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    first = say_rest(stack, sender, "where is my order?")
    assert first[0].startswith("I can help with that. First I need to make sure it's you")
    assert first[-1] == "What is the email address on your account?"
    assert say_rest(stack, sender, email)[-1].startswith("And the number of one of your orders?")
    mismatch = say_rest(stack, sender, f"it's {other_number}")
    assert mismatch[0].startswith("Sorry, I couldn't match") and other_number not in " ".join(mismatch)
    assert mismatch[-1] == "What is the email address on your account?"
    say_rest(stack, sender, email)
    confirmed = say_rest(stack, sender, number)
    assert confirmed[0] == f"Thanks {name.split()[0]}, that's you confirmed."
    assert confirmed[1].startswith(f"Order {number} (")
    again = say_rest(stack, sender, "and where is my parcel now?")  # proven for the rest of the conversation
    assert again[0].startswith(f"Order {number} (")


def test_a_one_time_code_by_email_proves_a_customer_without_an_order_number(stack: RunningStack) -> None:
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        email, name = db.execute(
            "SELECT c.email, c.name FROM customers c WHERE c.id > 10 AND EXISTS (SELECT 1 FROM orders o "
            "WHERE o.customer_id = c.id AND o.status != 'cancelled') ORDER BY c.id LIMIT 1"
        ).fetchone()
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    say_rest(stack, sender, "where is my order?")
    assert say_rest(stack, sender, email)[-1].startswith("And the number of one of your orders?")
    (asked,) = say_rest(stack, sender, "I don't have it, send me a code")
    assert asked.startswith("If that address is on one of our accounts, I've just emailed it a 6-digit code")
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        to_address, body = db.execute("SELECT to_address, body FROM outbox ORDER BY id DESC LIMIT 1").fetchone()
    assert to_address == email
    code = body.split("Your code is ")[1][:6]
    confirmed = say_rest(stack, sender, code)
    assert confirmed[0] == f"Thanks {name.split()[0]}, that's you confirmed."
    assert confirmed[1].startswith("Order SO-")


def test_cancelling_an_order_that_has_not_shipped_after_a_yes(stack: RunningStack) -> None:
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        email, number = db.execute(
            "SELECT c.email, o.number FROM customers c JOIN orders o ON o.customer_id = c.id "
            "WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id "
            "AND s.status != 'processing') ORDER BY o.id LIMIT 1"
        ).fetchone()
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    assert say_rest(stack, sender, "I need to cancel an order")[-1] == "What is the email address on your account?"
    say_rest(stack, sender, email)
    offer = say_rest(stack, sender, number)
    assert offer[-1].startswith(f"Cancel order {number} (")
    (done,) = say_rest(stack, sender, "yes please")  # and nothing after it
    assert done.startswith(f"Done: order {number} is cancelled.")
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        assert db.execute("SELECT status FROM orders WHERE number = ?", (number,)).fetchone()[0] == "cancelled"


def a_customer_with_a_returnable_order(stack: RunningStack) -> tuple[str, str]:
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        email, number = db.execute(
            "SELECT c.email, o.number FROM customers c JOIN orders o ON o.customer_id = c.id "
            "JOIN shipments s ON s.order_id = o.id WHERE s.delivered_at >= datetime('now', '-25 days') "
            "AND NOT EXISTS (SELECT 1 FROM returns r JOIN order_lines l ON l.id = r.order_line_id "
            "WHERE l.order_id = o.id) ORDER BY o.id LIMIT 1"
        ).fetchone()
    return email, number


def test_a_return_through_the_form_with_a_policy_question_in_the_middle(stack: RunningStack) -> None:
    email, number = a_customer_with_a_returnable_order(stack)
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    assert say_rest(stack, sender, "I want to return something")[-1] == "What is the email address on your account?"
    say_rest(stack, sender, email)
    replies = say_rest(stack, sender, number)
    assert any(reply.startswith("Let's set up your return.") for reply in replies)
    for _ in range(3):  # the order and the item are asked only when they are not clear yet
        if replies[-1].startswith("Which order is it?"):
            replies = say_rest(stack, sender, number)
        elif replies[-1].startswith("Which item would you like to return?"):
            replies = say_rest(stack, sender, "1")
    assert replies[-1] == "Why are you sending it back?"
    interrupted = say_rest(stack, sender, "do you ship to other countries?")
    assert len(interrupted) == 2 and interrupted[-1] == "Why are you sending it back?"  # answered, then back
    assert say_rest(stack, sender, "it's too small")[-1] == "What state is it in?"
    (done,) = say_rest(stack, sender, "still sealed in the box")
    assert done.startswith("Your return R-") and "prepaid label" in done
    reference = int(done.split("R-")[1][:6])
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        reason, condition = db.execute("SELECT reason, condition FROM returns WHERE id = ?", (reference,)).fetchone()
    assert (reason, condition) == ("wrong_size", "unopened")


def test_a_new_address_for_an_order_still_in_the_warehouse_after_a_yes(stack: RunningStack) -> None:
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        email, number = db.execute(
            "SELECT c.email, o.number FROM customers c JOIN orders o ON o.customer_id = c.id "
            "WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id "
            "AND s.status != 'processing') ORDER BY o.id DESC LIMIT 1"
        ).fetchone()
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    say_rest(stack, sender, "I moved, can you change the delivery address?")
    say_rest(stack, sender, email)
    replies = say_rest(stack, sender, number)
    if replies[-1].startswith("Which order should go to a new address?"):
        replies = say_rest(stack, sender, f"order {number}")
    assert replies[-1] == "What's the new street address (house number and street)?"
    assert say_rest(stack, sender, "12 Harbour Street") == ["Which town or city?"]
    assert say_rest(stack, sender, "Leith") == ["And the postcode?"]
    assert say_rest(stack, sender, "EH6 6AB") == ["Which country?"]
    (question,) = say_rest(stack, sender, "Scotland")
    assert question.startswith("Send order ") and question.endswith("to 12 Harbour Street, Leith, EH6 6AB, Scotland?")
    (done,) = say_rest(stack, sender, "yes")
    assert done.startswith("Done: order ") and "12 Harbour Street, Leith" in done
    changed = done.split("Done: order ")[1].split(" ")[0]
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        (city,) = db.execute(
            "SELECT a.city FROM orders o JOIN addresses a ON a.id = o.shipping_address_id WHERE o.number = ?",
            (changed,),
        ).fetchone()
    assert city == "Leith"


def test_never_mind_leaves_a_form_without_changing_anything(stack: RunningStack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    assert say_rest(stack, sender, "I'd like to return an item")[-1] == "What is the email address on your account?"
    assert say_rest(stack, sender, "never mind") == [
        "OK, I've stopped there. Nothing was changed. What else can I do for you?"
    ]
    assert say_rest(stack, sender, "thanks")[0].startswith("You're welcome!")


def test_asking_for_a_person_pauses_the_assistant_and_queues_the_conversation(stack: RunningStack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    (reply,) = say_rest(stack, sender, "can I talk to a real person please")
    assert reply.startswith("I've asked a colleague to take over;")
    assert say_rest(stack, sender, "hello? anyone there?") == []  # the assistant stays quiet for the person
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        rows = db.execute("SELECT category, status FROM tickets WHERE conversation_id = ?", (sender,)).fetchall()
    assert rows == [("handoff", "open")]


def test_erasing_a_customer_removes_their_conversations_from_rasa(stack: RunningStack) -> None:
    sender = "web-demo-5"  # the web identity of demo customer 5, seeded by the run command's setup
    say_rest(stack, sender, "hello")
    tracker_db = stack.data_dir / "tracker.db"
    with sqlite3.connect(tracker_db) as db:
        assert db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0] > 0
    env = {**os.environ, "SHOP_DATA_DIR": str(stack.data_dir)}
    erased = subprocess.run(
        [sys.executable, "-m", "store", "erase-customer", "5", "--yes"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert erased.returncode == 0, erased.stderr
    assert '"conversation_events": 0' not in erased.stdout
    with sqlite3.connect(tracker_db) as db:
        assert db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] > 0  # other conversations stay


def test_widget_demo_page_points_at_the_rasa_server(stack: RunningStack) -> None:
    status, page = get(f"{stack.web_url}/")
    assert status == 200 and b"chat.js" in page
    status, config = get(f"{stack.web_url}/config.json")
    assert json.loads(config) == {"rasaUrl": stack.rasa_url}


def test_every_server_listens_on_the_configured_interface_only(stack: RunningStack) -> None:
    for port in stack.ports:
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        addresses = {line.split()[3] for line in listening.splitlines() if line.strip()}
        assert addresses == {f"127.0.0.1:{port}"}, f"port {port} listens on {addresses}"


def test_the_run_command_printed_urls_and_a_curl_example(stack: RunningStack) -> None:
    output = stack.output.read_text(errors="replace")
    assert f"{stack.rasa_url}/webhooks/rest/webhook" in output
    assert f"curl -s -X POST {stack.rasa_url}/webhooks/rest/webhook" in output
    assert stack.web_url in output
    assert stack.token not in output  # the secret is not printed


def test_ctrl_c_stops_every_process_it_started(stack: RunningStack) -> None:
    started = stack.descendants()
    assert len(started) >= 3  # action server, web page server, Rasa
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=90) == 0
    deadline = time.monotonic() + 10
    while (left := {pid for pid in started if Path(f"/proc/{pid}").exists()}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == set(), f"orphans left behind: {left}"
    for port in stack.ports:
        ensure_port_free("127.0.0.1", port, "after Ctrl-C")
    assert "stopped." in stack.output.read_text(errors="replace")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # the tests talk to 127.0.0.1 only
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
