"""End to end: Messenger, Telegram, WhatsApp (Twilio) and Slack webhooks on the real Rasa server
started by the run command, with the platforms' APIs replaced by local fakes that record replies.

For each channel: a signed request gets the assistant's reply; unsigned, tampered and replayed
requests get 403 (or are acknowledged and ignored) and no reply; unhandled events and malformed or
oversized bodies get a 2xx or 4xx, never a 5xx, each logged once. A customer proves who they are
once on a channel and is recognised there in a new session, until they are erased.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest

from settings import PROJECT_ROOT
from tests.e2e.conftest import RunningStack
from tests.e2e.fake_platforms import (
    MESSENGER_VERIFY_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_WEBHOOK_URL,
    TWILIO_NUMBER,
    Call,
    FakePlatforms,
    encode_form,
    messenger_body,
    messenger_signature,
    messenger_text,
    slack_headers,
    slack_message,
    telegram_update,
    twilio_form,
    twilio_signature,
)

ONE_MB = b"x" * 1_000_000


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    """POST raw bytes; the status, body and headers whatever the status."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read(), dict(answer.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers.items())


def webhook(stack: RunningStack, channel: str) -> str:
    return f"{stack.rasa_url}/webhooks/{channel}/webhook"


def rasa_log(stack: RunningStack) -> str:
    return (stack.data_dir / "logs" / "rasa.log").read_text(errors="replace")


def log_count(stack: RunningStack, text: str, at_least: int) -> int:
    """How often `text` is in Rasa's log, once it is there `at_least` times (the log is written
    by another process, a moment after the request was answered) or after a minute."""
    deadline = time.monotonic() + 60
    while (count := rasa_log(stack).count(text)) < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


def tracker(stack: RunningStack, sender: str) -> dict[str, Any]:
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.token}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return dict(json.loads(answer.read()))


def user_events(stack: RunningStack, sender: str) -> list[dict[str, Any]]:
    return [event for event in tracker(stack, sender)["events"] if event["event"] == "user"]


def customer_with_an_order(stack: RunningStack, offset: int) -> tuple[int, str, str, str]:
    """(id, first name, email, order number) of a demo customer few other tests use (counted from the last)."""
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        row = db.execute(
            "SELECT c.id, c.name, c.email, o.number FROM customers c JOIN orders o ON o.customer_id = c.id "
            "WHERE c.email IS NOT NULL AND o.status != 'cancelled' GROUP BY c.id ORDER BY c.id DESC LIMIT 1 OFFSET ?",
            (offset,),
        ).fetchone()
    return int(row[0]), str(row[1]).split()[0], str(row[2]), str(row[3])


# -- Messenger ----------------------------------------------------------------------------------------


def messenger_post(stack: RunningStack, body: bytes, signature: str | None = "sign") -> int:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = messenger_signature(body)
    elif signature:
        headers["X-Hub-Signature-256"] = signature
    return post(webhook(stack, "facebook"), body, headers)[0]


def sent_to(recipient: str) -> Any:
    return lambda call: call.platform == "messenger" and call.body.get("recipient", {}).get("id") == recipient


def test_messenger_handshake_needs_the_verify_token(stack: RunningStack) -> None:
    base = f"{webhook(stack, 'facebook')}?hub.mode=subscribe&hub.challenge=4242&hub.verify_token="
    with urllib.request.urlopen(base + MESSENGER_VERIFY_TOKEN, timeout=30) as answer:
        assert (answer.status, answer.read()) == (200, b"4242")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + "wrong-token", timeout=30)
    assert refused.value.code == 403


def test_messenger_answers_signed_messages_only_and_each_once(stack: RunningStack, platforms: FakePlatforms) -> None:
    sender = f"{random.randrange(10**15, 10**16)}"
    body = messenger_body(messenger_text(sender, "hello", f"mid.{uuid.uuid4().hex}"))
    mark = platforms.mark()
    assert messenger_post(stack, body) == 200
    replies = platforms.since(mark, sent_to(sender))
    assert replies and replies[0].body["message"]["text"].startswith("Hi! I'm the shop assistant.")
    assert replies[0].query["access_token"] == "e2e-page-access-token"

    mark = platforms.mark()
    other = messenger_body(messenger_text(sender, "hello again", f"mid.{uuid.uuid4().hex}"))
    assert messenger_post(stack, other, signature=None) == 403  # unsigned
    assert messenger_post(stack, other, signature=messenger_signature(body)) == 403  # another body's signature
    tampered = other.replace(b"hello again", b"hello there")
    assert messenger_post(stack, tampered, signature=messenger_signature(other)) == 403
    sha1 = "sha1=" + hashlib.sha1(other).hexdigest()
    assert messenger_post(stack, other, signature=sha1) == 403  # Rasa's old SHA-1 header is not enough
    assert messenger_post(stack, body) == 200  # the first delivery again, correctly signed: a replay
    assert platforms.since(mark, sent_to(sender)) == []
    assert len(user_events(stack, sender)) == 1


def test_messenger_buttons_are_postbacks_and_a_typed_command_is_text(
    stack: RunningStack, platforms: FakePlatforms
) -> None:
    sender = f"{random.randrange(10**15, 10**16)}"
    typed = messenger_text(sender, "/restart", f"mid.{uuid.uuid4().hex}")
    assert messenger_post(stack, messenger_body(typed)) == 200
    quick = {
        "sender": {"id": sender},
        "recipient": {"id": "PAGE"},
        "timestamp": 2,
        "message": {"mid": f"mid.{uuid.uuid4().hex}", "text": "Yes", "quick_reply": {"payload": "/greet"}},
    }
    assert messenger_post(stack, messenger_body(quick)) == 200
    events = tracker(stack, sender)["events"]
    texts = [(e["text"], e["parse_data"]["intent"]["name"]) for e in events if e["event"] == "user"]
    assert texts[0][0] == "restart"  # read as a word: no restart happened
    assert not any(e["event"] == "restart" for e in events)
    assert texts[1] == ("/greet", "greet")  # the button's payload, as Rasa reads a button


def test_messenger_unhandled_events_are_acknowledged_without_a_reply(
    stack: RunningStack, platforms: FakePlatforms
) -> None:
    sender = f"{random.randrange(10**15, 10**16)}"
    base = {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": 3}
    events = [
        {**base, "delivery": {"mids": ["mid.1"], "watermark": 1}},
        {**base, "read": {"watermark": 1}},
        {**base, "reaction": {"reaction": "love", "action": "react", "mid": "mid.1"}},
        {**base, "message": {"mid": f"mid.{uuid.uuid4().hex}", "attachments": [{"type": "image", "payload": {}}]}},
        {
            **base,
            "message": {
                "mid": f"mid.{uuid.uuid4().hex}",
                "sticker_id": 369239263222822,
                "attachments": [{"type": "image", "payload": {"sticker_id": 1}}],
            },
        },
        {**base, "message": {"mid": f"mid.{uuid.uuid4().hex}", "attachments": [{"type": "location"}]}},
        {**base, "message": {"mid": f"mid.{uuid.uuid4().hex}", "is_echo": True, "text": "echo"}},
    ]
    mark = platforms.mark()
    assert messenger_post(stack, messenger_body(*events)) == 200
    assert messenger_post(stack, json.dumps({"object": "instagram", "entry": []}).encode()) == 200
    assert platforms.since(mark, sent_to(sender)) == []
    assert log_count(stack, "a reaction event", 1) >= 1
    log = rasa_log(stack)
    assert "facebook webhook: ignored from" in log and "a delivery event" in log


# -- Telegram -----------------------------------------------------------------------------------------


def telegram_post(stack: RunningStack, body: bytes, secret: str | None = TELEGRAM_SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(webhook(stack, "telegram"), body, headers)[0]


def telegram_to(chat_id: int) -> Any:
    return lambda call: call.platform == "telegram" and call.body.get("chat_id") == str(chat_id)


class TelegramChat:
    """A private chat with the assistant, through the verified webhook."""

    def __init__(self, stack: RunningStack, platforms: FakePlatforms) -> None:
        self.stack, self.platforms = stack, platforms
        self.chat_id = random.randrange(10**9, 2 * 10**9)
        self.update_id = random.randrange(10**8, 10**9)

    def send(self, **content: Any) -> list[Call]:
        self.update_id += 1
        mark = self.platforms.mark()
        assert telegram_post(self.stack, telegram_update(self.update_id, self.chat_id, **content)) == 200
        return self.platforms.since(mark, lambda c: telegram_to(self.chat_id)(c) and c.path.endswith("/sendMessage"))

    def say(self, text: str) -> list[str]:
        return [call.body["text"] for call in self.send(text=text)]


def test_telegram_webhook_was_registered_with_its_secret_at_start(
    stack: RunningStack, platforms: FakePlatforms
) -> None:
    assert stack.process.poll() is None  # the run command started Rasa, which registered the webhook
    (registered,) = platforms.since(0, lambda call: call.path.endswith("/setWebhook"))
    assert registered.path == "/telegram/bot123456789:e2e-telegram-token/setWebhook"
    assert registered.body["url"] == TELEGRAM_WEBHOOK_URL
    assert registered.body["secret_token"] == TELEGRAM_SECRET


def test_telegram_answers_updates_with_the_secret_only_and_each_once(
    stack: RunningStack, platforms: FakePlatforms
) -> None:
    chat = TelegramChat(stack, platforms)
    replies = chat.say("/start")  # what Telegram sends when a customer opens the bot
    assert replies and replies[0].startswith("Hi! I'm the shop assistant.")
    mark = platforms.mark()
    update = telegram_update(chat.update_id + 1, chat.chat_id, text="hello again")
    assert telegram_post(stack, update, secret=None) == 403
    assert telegram_post(stack, update, secret="e2e-telegram-webhook-secreT") == 403
    assert telegram_post(stack, update, secret="") == 403
    assert telegram_post(stack, telegram_update(chat.update_id, chat.chat_id, text="/start")) == 200  # a replay
    assert platforms.since(mark, telegram_to(chat.chat_id)) == []
    assert len(user_events(stack, str(chat.chat_id))) == 1


def test_telegram_search_gets_cards_as_a_keyboard_and_a_question_an_inline_keyboard(
    stack: RunningStack, platforms: FakePlatforms
) -> None:
    chat = TelegramChat(stack, platforms)
    heading, listing = chat.send(text="do you sell running shoes?")
    assert heading.body["text"].endswith(":")  # "Yes, we have running shoes:", then the cards
    assert listing.body["text"].startswith("1. ") and "\n2. " in listing.body["text"]  # cards as a numbered list
    first_row = json.loads(listing.body["reply_markup"])["inline_keyboard"][0]
    assert [button["text"] for button in first_row] == ["More like this (1)", "Add to cart (1)", "View (1)"]
    assert first_row[2]["url"].startswith("http") and all(len(b.get("callback_data", "")) <= 64 for b in first_row)
    chat.say("where is my order?")
    (question,) = [call for call in chat.send(text="someone@example.com") if "reply_markup" in call.body]
    assert question.body["text"].startswith("And the number of one of your orders?")
    keyboard = json.loads(question.body["reply_markup"])["inline_keyboard"]
    assert [[button["text"] for button in row] for row in keyboard] == [["Send me a code"]]
    assert len(keyboard[0][0]["callback_data"]) <= 64
    # a forged or expired callback is not passed on
    forged = {
        "id": "cb1",
        "data": "ffff:1",
        "from": {"id": chat.chat_id},
        "message": {"message_id": 1, "date": 1, "chat": {"id": chat.chat_id, "type": "private"}},
    }
    expired = chat.send(callback_query=forged)
    assert [call.body["text"] for call in expired] == ["That button has expired. Please type your answer instead."]
    tapped = {**forged, "id": "cb2", "data": keyboard[0][0]["callback_data"]}
    mark = platforms.mark()
    (asked,) = chat.send(callback_query=tapped)
    assert asked.body["text"].startswith("If that address is on one of our accounts, I've just emailed it")
    assert platforms.since(mark, lambda call: call.path.endswith("/answerCallbackQuery"))
    assert user_events(stack, str(chat.chat_id))[-1]["text"] == "send me a code"


def test_telegram_unhandled_updates_and_group_chats_get_no_reply(stack: RunningStack, platforms: FakePlatforms) -> None:
    chat = TelegramChat(stack, platforms)
    assert chat.send(sticker={"file_id": "x", "width": 1, "height": 1}) == []
    assert chat.send(photo=[{"file_id": "y", "width": 1, "height": 1}]) == []
    assert chat.send(location={"latitude": 1.0, "longitude": 2.0}) == []
    chat.update_id += 1
    edited = {
        "update_id": chat.update_id,
        "edited_message": {"message_id": 1, "date": 1, "text": "x", "chat": {"id": chat.chat_id, "type": "private"}},
    }
    assert telegram_post(stack, json.dumps(edited).encode()) == 200
    chat.update_id += 1
    group = {
        "update_id": chat.update_id,
        "message": {
            "message_id": 1,
            "date": 1,
            "text": "where is my order?",
            "chat": {"id": -chat.chat_id, "type": "group"},
        },
    }
    mark = platforms.mark()
    assert telegram_post(stack, json.dumps(group).encode()) == 200
    assert platforms.since(mark, telegram_to(-chat.chat_id)) == []


def test_a_customer_proven_on_telegram_is_recognised_in_a_new_session_until_erased(
    stack: RunningStack, platforms: FakePlatforms
) -> None:
    customer_id, first_name, email, number = customer_with_an_order(stack, offset=0)
    chat = TelegramChat(stack, platforms)
    asked = chat.say("where is my order?")
    assert asked[0].startswith("I can help with that. First I need to make sure it's you")
    assert chat.say(email)[-1].startswith("And the number of one of your orders?")
    confirmed = chat.say(number)
    assert confirmed[0] == f"Thanks {first_name}, that's you confirmed."
    assert confirmed[1].startswith("Order SO-")
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        linked = db.execute(
            "SELECT customer_id, verified FROM channel_identities WHERE channel = 'telegram' AND channel_user_id = ?",
            (str(chat.chat_id),),
        ).fetchall()
    assert linked == [(customer_id, 1)]

    # a new session, as after an hour of silence: the slots are gone, the verified link is not
    request = urllib.request.Request(
        f"{stack.rasa_url}/conversations/{chat.chat_id}/execute?token={stack.token}",
        data=json.dumps({"name": "action_session_start"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=60).close()
    kinds = [event["event"] for event in tracker(stack, str(chat.chat_id))["events"]]
    assert "session_started" in kinds[len(kinds) - kinds[::-1].index("user") :]
    again = chat.say("where is my order?")
    assert again[0].startswith("Order SO-"), again

    # erasing the customer removes the link: the chat has to prove it again
    env = {**os.environ, "SHOP_DATA_DIR": str(stack.data_dir)}
    erased = subprocess.run(
        [sys.executable, "-m", "store", "erase-customer", str(customer_id), "--yes"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert erased.returncode == 0, erased.stderr
    chat.say("hello")
    assert chat.say("where is my order?")[0].startswith("I can help with that. First I need to make sure it's you")


# -- WhatsApp through Twilio --------------------------------------------------------------------------


def twilio_post(stack: RunningStack, params: list[tuple[str, str]], signature: str | None = "sign") -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        headers["X-Twilio-Signature"] = twilio_signature(params)
    elif signature:
        headers["X-Twilio-Signature"] = signature
    return post(webhook(stack, "twilio"), encode_form(params), headers)[0]


class WhatsApp:
    """A WhatsApp user writing to the shop's number through Twilio."""

    def __init__(self, stack: RunningStack, platforms: FakePlatforms) -> None:
        self.stack, self.platforms = stack, platforms
        self.sender = f"whatsapp:+1555{random.randrange(10**6, 10**7)}"

    def say(self, text: str) -> list[str]:
        mark = self.platforms.mark()
        assert twilio_post(self.stack, twilio_form(self.sender, text, f"SM{uuid.uuid4().hex}")) == 200
        sent = self.platforms.since(mark, lambda c: c.platform == "twilio" and c.body.get("To") == self.sender)
        return [call.body["Body"] for call in sent]


def test_whatsapp_answers_signed_requests_only_and_each_once(stack: RunningStack, platforms: FakePlatforms) -> None:
    user = WhatsApp(stack, platforms)
    form = twilio_form(user.sender, "hello", f"SM{uuid.uuid4().hex}")
    mark = platforms.mark()
    assert twilio_post(stack, form) == 200
    (reply,) = platforms.since(mark, lambda call: call.platform == "twilio")
    assert reply.body["Body"].startswith("Hi! I'm the shop assistant.")
    assert reply.body["From"] == f"whatsapp:{TWILIO_NUMBER}"
    assert reply.path == "/twilio/2010-04-01/Accounts/ACe2e0000000000000000000000000000/Messages.json"
    assert reply.headers["Authorization"].startswith("Basic ")

    mark = platforms.mark()
    other = twilio_form(user.sender, "hello again", f"SM{uuid.uuid4().hex}")
    assert twilio_post(stack, other, signature=None) == 403
    assert twilio_post(stack, other, signature=twilio_signature(other, url=webhook(stack, "twilio"))) == 403
    tampered = [(k, "whatsapp:+15550009999" if k == "From" else v) for k, v in other]
    assert twilio_post(stack, tampered, signature=twilio_signature(other)) == 403
    assert twilio_post(stack, form) == 200  # the same MessageSid again: a replay
    status = [("MessageSid", "SM1"), ("MessageStatus", "delivered"), ("From", f"whatsapp:{TWILIO_NUMBER}")]
    assert twilio_post(stack, status) == 200  # a delivery receipt
    picture = twilio_form(user.sender, "", f"SM{uuid.uuid4().hex}", NumMedia="1", MediaUrl0="https://x/y.jpg")
    assert twilio_post(stack, picture) == 200
    location = twilio_form(user.sender, "", f"SM{uuid.uuid4().hex}", Latitude="1.0", Longitude="2.0")
    assert twilio_post(stack, location) == 200
    assert platforms.since(mark, lambda call: call.platform == "twilio") == []
    assert len(user_events(stack, user.sender)) == 1


def test_whatsapp_options_are_numbered_and_a_number_picks_one(stack: RunningStack, platforms: FakePlatforms) -> None:
    _, first_name, email, _ = customer_with_an_order(stack, offset=1)
    user = WhatsApp(stack, platforms)
    user.say("where is my order?")
    (question,) = user.say(email)
    assert question.endswith("\n1. Send me a code\n(Reply with a number.)")
    (asked,) = user.say("1")
    assert asked.startswith("If that address is on one of our accounts, I've just emailed it a 6-digit code")
    assert user_events(stack, user.sender)[-1]["text"] == "send me a code"
    with sqlite3.connect(stack.data_dir / "shop.db") as db:
        (body,) = db.execute(
            "SELECT body FROM outbox WHERE to_address = ? ORDER BY id DESC LIMIT 1", (email,)
        ).fetchone()
    confirmed = user.say(body.split("Your code is ")[1][:6])
    assert confirmed[0] == f"Thanks {first_name}, that's you confirmed."
    assert user.say("where is my order?")[0].startswith("Order SO-")  # recognised on WhatsApp from now on
    typed = user.say("/restart")
    assert typed and user_events(stack, user.sender)[-1]["text"] == "restart"


# -- Slack ----------------------------------------------------------------------------------------------


def slack_post(stack: RunningStack, body: bytes, headers: dict[str, str], kind: str = "application/json") -> Any:
    return post(webhook(stack, "slack"), body, {"Content-Type": kind, **headers})


def slack_to(channel: str) -> Any:
    return lambda call: call.platform == "slack" and call.body.get("channel") == channel


def test_slack_url_verification_is_answered(stack: RunningStack) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode()
    status, answer, _ = slack_post(stack, body, slack_headers(body))
    assert status == 200 and json.loads(answer) == {"challenge": "c-123"}


def test_slack_answers_signed_fresh_events_once(stack: RunningStack, platforms: FakePlatforms) -> None:
    user, channel = f"U{uuid.uuid4().hex[:8].upper()}", f"D{uuid.uuid4().hex[:8].upper()}"
    body = slack_message(f"Ev{uuid.uuid4().hex}", user, "hello", channel)
    mark = platforms.mark()
    assert slack_post(stack, body, slack_headers(body))[0] == 200
    (reply,) = platforms.wait_for(mark, slack_to(channel))
    assert reply.body["text"].startswith("Hi! I'm the shop assistant.")
    assert reply.headers["Authorization"] == "Bearer xoxb-e2e-slack-token"

    other = slack_message(f"Ev{uuid.uuid4().hex}", user, "hello again", channel)
    assert slack_post(stack, other, {})[0] == 403  # unsigned
    assert slack_post(stack, other, slack_headers(other, timestamp=int(time.time()) - 600))[0] == 403  # too old
    assert slack_post(stack, other.replace(b"again", b"there"), slack_headers(other))[0] == 403  # tampered
    status, _, headers = slack_post(stack, body, {**slack_headers(body), "X-Slack-Retry-Num": "1"})
    assert status == 200 and headers.get("X-Slack-No-Retry") == "1"  # a retry of an event already received
    assert slack_post(stack, body, slack_headers(body))[0] == 200  # a replay inside the window
    bot = json.dumps(
        {
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex}",
            "event": {"type": "message", "bot_id": "B1", "text": "x", "channel": channel},
        }
    ).encode()
    reaction = json.dumps(
        {
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex}",
            "event": {"type": "reaction_added", "user": user, "reaction": "+1"},
        }
    ).encode()
    assert slack_post(stack, bot, slack_headers(bot))[0] == 200
    assert slack_post(stack, reaction, slack_headers(reaction))[0] == 200
    # a click on a button: the same webhook, signed the same way
    click = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": channel},
        "trigger_id": "t",
        "actions": [{"type": "button", "action_id": "choice-1", "value": "/greet", "action_ts": "2.2"}],
    }
    form = f"payload={urllib.parse.quote(json.dumps(click))}".encode()
    mark = platforms.mark()
    assert slack_post(stack, form, slack_headers(form), "application/x-www-form-urlencoded")[0] == 200
    (greeting,) = platforms.wait_for(mark, slack_to(channel))
    assert greeting.body["text"].startswith("Hi! I'm the shop assistant.")
    # Slack's replies are sent in the background, before the conversation is saved: wait for it
    deadline = time.monotonic() + 60
    while len(texts := [e["text"] for e in user_events(stack, user)]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert texts == ["hello", "/greet"]  # nothing answered twice


# -- bad bodies, every channel ------------------------------------------------------------------------


def test_malformed_and_oversized_bodies_get_a_4xx_and_one_log_line_each(stack: RunningStack) -> None:
    before = rasa_log(stack).count("body of 1 MB or more")
    answers = {
        "messenger malformed": messenger_post(stack, b"{not json"),
        "messenger not an event": messenger_post(stack, b"[1, 2]"),
        "messenger 1 MB": messenger_post(stack, ONE_MB),
        "telegram malformed": telegram_post(stack, b"{not json"),
        "telegram not an update": telegram_post(stack, b'{"message": {}}'),
        "telegram 1 MB": telegram_post(stack, ONE_MB),
        "twilio malformed": post(
            webhook(stack, "twilio"),
            b"\xff\xfe=%%",
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
        )[0],
        "twilio json": post(webhook(stack, "twilio"), b"{}", {"Content-Type": "application/json"})[0],
        "twilio 1 MB": twilio_post(stack, [("Body", "x" * 1_000_000)], signature="x"),
        "slack malformed": slack_post(stack, b"{not json", slack_headers(b"{not json"))[0],
        "slack form without payload": slack_post(
            stack, b"a=1", slack_headers(b"a=1"), "application/x-www-form-urlencoded"
        )[0],
        "slack 1 MB": slack_post(stack, ONE_MB, slack_headers(ONE_MB))[0],
    }
    assert {name: code for name, code in answers.items() if not 400 <= code < 500} == {}
    assert answers["messenger 1 MB"] == answers["telegram 1 MB"] == answers["slack 1 MB"] == 413
    assert log_count(stack, "body of 1 MB or more", before + 4) - before == 4


def test_the_logs_mask_senders_and_hold_no_secret(stack: RunningStack, platforms: FakePlatforms) -> None:
    user = WhatsApp(stack, platforms)
    digits = user.sender.removeprefix("whatsapp:+")
    assert twilio_post(stack, twilio_form(user.sender, "hi", "SMreplay")) == 200
    assert twilio_post(stack, twilio_form(user.sender, "hi", "SMreplay")) == 200  # logged as a replay
    assert log_count(stack, "twilio webhook: ignored from whatsapp:+1…", 1) >= 1
    log = rasa_log(stack)
    ours = [line for line in log.splitlines() if "webhook:" in line]
    assert ours and not any(digits in line for line in ours)
    secrets = [value for key, value in platforms.settings().items() if "SECRET" in key or "TOKEN" in key]
    output = stack.output.read_text(errors="replace")
    assert [secret for secret in secrets if secret in log or secret in output] == []
