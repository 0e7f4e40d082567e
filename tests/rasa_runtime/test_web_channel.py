"""The web channel (bot/channels/web.py) on a real Sanic server, mounted as Rasa mounts it: origins,
session tokens, sessions bound to tokens, size and rate limits, typed commands, malformed packets."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import socketio
import websockets

from bot.channels.web import OfferedButtons, as_typed_text, card_button_payloads
from devstack.processes import free_port
from widget.rate_limit import RateLimit
from widget.session_token import InvalidSessionToken, issue_session_token, read_session_token

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-widget-secret-of-at-least-32-bytes"
ORIGIN = "https://shop.example.com"
READY_TIMEOUT = 120


@dataclass
class ChannelServer:
    """The running test server: its address and its log."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChannelServer]:
    port = free_port()
    folder = tmp_path_factory.mktemp("web-channel")
    log = folder / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SHOP_DATA_DIR": str(folder),
        "SHOP_WIDGET_SECRET": SECRET,
        "SHOP_ALLOWED_ORIGINS": f"{ORIGIN}, http://localhost:3000",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.rasa_runtime.web_channel_app", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{url}/webhooks/socketio/", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the web channel's test server did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    yield ChannelServer(url, log, process)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Chat:
    """A socket.io client of the channel, collecting what the server sent it."""

    client: socketio.AsyncClient
    received: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)

    async def next(self, event: str | None = None) -> tuple[str, Any]:
        """The next event the server sent (of `event`, skipping others when given)."""
        while True:
            name, data = await asyncio.wait_for(self.received.get(), timeout=30)
            if event is None or name == event:
                return name, data

    async def say(self, message: object) -> tuple[str, Any]:
        """Send a message; the server's next reply or error."""
        await self.client.emit("user_uttered", message)
        return await self.next()


async def open_chat(server: ChannelServer, token: str | None, origin: str | None = ORIGIN) -> Chat:
    """A connected chat whose session is confirmed; socketio.exceptions.ConnectionError when refused."""
    client = socketio.AsyncClient(reconnection=False)
    chat = Chat(client)
    for event in ("bot_uttered", "shop_error", "session_confirm"):
        client.on(event, lambda data=None, _event=event: chat.received.put_nowait((_event, data)))
    refusals: list[Any] = []
    client.on("connect_error", refusals.append)
    headers = {"Origin": origin} if origin else {}
    try:
        await client.connect(
            server.url, headers=headers, auth={"token": token} if token else None, transports=["websocket"]
        )
    except socketio.exceptions.ConnectionError as error:
        raise Refused(str(refusals)) from error
    return chat


class Refused(Exception):
    """The server refused the connection; the message holds the reason it sent."""


def new_token(session_id: str | None = None, **kwargs: Any) -> tuple[str, str]:
    token, claims = issue_session_token(SECRET, session_id, **kwargs)
    return token, claims.session_id


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --- the token ---------------------------------------------------------------------------------------


def test_a_session_token_is_a_standard_jwt_bound_to_its_session() -> None:
    token, session = new_token()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="shop-chat")
    assert claims["sid"] == session and claims["exp"] > time.time()
    assert read_session_token(token, SECRET).session_id == session


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "no session token"),
        ("", "no session token"),
        ("a.b", "malformed"),
        ("x" * 5000, "malformed"),
        (
            jwt.encode(
                {"sid": "0" * 32, "aud": "shop-chat", "exp": time.time() + 60}, "another-secret-of-at-least-32-bytes!"
            ),
            "signature",
        ),
        (jwt.encode({"sid": "0" * 32, "aud": "shop-chat", "exp": 10**10}, "", algorithm="none"), "signature"),
        (issue_session_token(SECRET, now=time.time() - 10, lifetime=5)[0], "expired"),
        (jwt.encode({"sid": "../../x", "aud": "shop-chat", "exp": 10**10}, SECRET), "malformed"),
        (jwt.encode({"sid": "0" * 32, "aud": "someone-else", "exp": 10**10}, SECRET), "malformed"),
    ],
)
def test_missing_malformed_forged_and_expired_tokens_are_refused(token: object, reason: str) -> None:
    with pytest.raises(InvalidSessionToken, match=reason):
        read_session_token(token, SECRET)


# --- connecting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "origin", "refusal"),
    [
        (None, ORIGIN, "no session token"),
        (
            jwt.encode({"sid": "0" * 32, "aud": "shop-chat", "exp": 10**10}, "a-forged-secret-of-at-least-32-bytes"),
            ORIGIN,
            "does not match",
        ),
        ("expired", ORIGIN, "has expired"),
        ("valid", "https://evil.example.net", "origin not allowed"),
        ("valid", None, "origin not allowed"),
        ("valid", "https://shop.example.com.evil.net", "origin not allowed"),
    ],
)
def test_a_connection_is_refused_without_a_valid_token_from_an_allowed_origin(
    server: ChannelServer, token: str | None, origin: str | None, refusal: str
) -> None:
    if token == "valid":
        token = new_token()[0]
    elif token == "expired":
        token = issue_session_token(SECRET, now=time.time() - 10, lifetime=5)[0]
    with pytest.raises(Refused, match=refusal):
        run(open_chat(server, token, origin))
    assert refusal in server.log_text()


def test_the_socket_joins_the_tokens_session_whatever_session_id_the_client_names(server: ChannelServer) -> None:
    token, session = new_token()
    victim_token, victim = new_token()

    async def scenario() -> None:
        owner = await open_chat(server, victim_token)
        intruder = await open_chat(server, token, origin="http://localhost:3000")
        try:
            await intruder.client.emit("session_request", {"session_id": victim})
            assert await intruder.next("session_confirm") == ("session_confirm", session)
            # a message naming the victim's session is still the intruder's own
            _, reply = await intruder.say({"message": "hello", "session_id": victim})
            assert json.loads(reply["text"])["sender"] == session
            # the victim's conversation reaches the victim only
            _, reply = await owner.say({"message": "my address is 1 Main St", "session_id": victim})
            assert json.loads(reply["text"])["sender"] == victim
            _, after = await intruder.say({"message": "anything for me?"})
            assert json.loads(after["text"]) == {"text": "anything for me?", "sender": session, "metadata": {}}
            assert intruder.received.empty()
        finally:
            await owner.client.disconnect()
            await intruder.client.disconnect()

    run(scenario())
    assert "asked to join another session id; ignored" in server.log_text()


def test_two_tabs_of_one_session_both_see_the_replies(server: ChannelServer) -> None:
    token, _ = new_token()

    async def scenario() -> None:
        first, second = await open_chat(server, token), await open_chat(server, token)
        try:
            await first.say({"message": "from the first tab"})
            _, seen = await second.next("bot_uttered")
            assert json.loads(seen["text"])["text"] == "from the first tab"
        finally:
            await first.client.disconnect()
            await second.client.disconnect()

    run(scenario())


# --- messages --------------------------------------------------------------------------------------------


def test_typed_commands_are_text_and_only_offered_buttons_pass_as_payloads(server: ChannelServer) -> None:
    token, _ = new_token()

    async def scenario() -> None:
        chat = await open_chat(server, token)
        try:
            # typed before any button was offered: the slash is dropped
            _, reply = await chat.say({"message": '/add_to_cart{"product_id": "P00301"}'})
            assert json.loads(reply["text"])["text"] == 'add_to_cart{"product_id": "P00301"}'
            _, offer = await chat.say({"message": "cards"})
            assert offer["type"] == "product_cards"
            # the card's button, exactly as sent, passes
            _, reply = await chat.say({"message": '/add_to_cart{"product_id": "P00301"}'})
            assert json.loads(reply["text"])["text"] == '/add_to_cart{"product_id": "P00301"}'
        finally:
            await chat.client.disconnect()

    run(scenario())


def test_quick_replies_pass_and_disguised_commands_do_not() -> None:
    buttons = OfferedButtons()
    buttons.remember("s1", ["/affirm", "plain text", None])
    assert as_typed_text("/affirm", "s1", buttons) == "/affirm"
    assert as_typed_text("/affirm", "s2", buttons) == "affirm"  # offered to another session only
    assert as_typed_text("/restart", "s1", buttons) == "restart"
    assert as_typed_text("  \u200b/restart", "s1", buttons) == "restart"  # invisible characters first
    assert as_typed_text("//session_start", "s1", buttons) == "session_start"
    assert as_typed_text("a/b", "s1", buttons) == "a/b"
    assert card_button_payloads({"products": [{"buttons": [{"payload": "/x"}]}, "junk", {"buttons": "no"}]}) == ["/x"]
    assert card_button_payloads(["not", "cards"]) == []


def test_metadata_keeps_only_the_customer_token(server: ChannelServer) -> None:
    token, _ = new_token()

    async def scenario() -> None:
        chat = await open_chat(server, token)
        try:
            metadata = {"customer_token": "abc.def", "is_admin": True, "customer_id": 1}
            _, reply = await chat.say({"message": "hi", "metadata": metadata})
            assert json.loads(reply["text"])["metadata"] == {"customer_token": "abc.def"}
        finally:
            await chat.client.disconnect()

    run(scenario())


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("just a string", "bad_message"),
        ({"text": "no message key"}, "bad_message"),
        ({"message": ["a", "list"]}, "bad_message"),
        ({"message": "x" * 2001}, "bad_message"),
    ],
)
def test_malformed_and_oversized_messages_get_an_error_event_and_are_not_processed(
    server: ChannelServer, message: object, code: str
) -> None:
    token, _ = new_token()

    async def check() -> None:
        chat = await open_chat(server, token)
        try:
            name, data = await chat.say(message)
            assert (name, data["code"]) == ("shop_error", code)
            _, reply = await chat.say({"message": "still here"})  # the next message is processed
            assert json.loads(reply["text"])["text"] == "still here"
        finally:
            await chat.client.disconnect()

    run(check())


def test_the_rate_limit_per_session_refuses_with_an_error_and_logs_once(server: ChannelServer) -> None:
    token, session = new_token()

    async def scenario() -> None:
        chat = await open_chat(server, token)
        other = await open_chat(server, new_token()[0])
        try:
            for number in range(3):  # the test server allows 3 a minute
                name, _ = await chat.say({"message": f"message {number}"})
                assert name == "bot_uttered"
            for _ in range(2):
                name, data = await chat.say({"message": "one too many"})
                assert (name, data["code"]) == ("shop_error", "rate_limited")
            name, _ = await other.say({"message": "another chat is not slowed down"})
            assert name == "bot_uttered"
        finally:
            await chat.client.disconnect()
            await other.client.disconnect()

    run(scenario())
    assert server.log_text().count(f"messages in session {session[:8]} refused: rate limit") == 1


def test_a_rate_limit_refills_and_logs_a_new_streak_once() -> None:
    limit = RateLimit(per_minute=60, burst=2)
    assert [limit.allow("ip", now=0.0) for _ in range(4)] == [
        (True, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    assert limit.allow("other", now=0.0) == (True, False)  # keys are separate
    assert limit.allow("ip", now=1.0) == (True, False)  # one a second comes back
    assert limit.allow("ip", now=1.0) == (False, True)  # a new streak is logged again


RAW_PACKETS = [
    "42[",  # broken JSON
    "42{}",  # an event that is not a list
    '42["user_uttered"]',  # no data
    '42["no_such_event", 1]',
    '42["session_request", "not an object"]',
    "4",
    "9999",  # an engine.io packet type that does not exist
    bytes(range(256)),  # binary frames are not used
]


def test_malformed_packets_and_a_megabyte_frame_leave_the_server_serving(server: ChannelServer) -> None:
    token, session = new_token()
    address = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"

    async def connected() -> Any:
        raw = await websockets.connect(address, extra_headers={"Origin": ORIGIN})
        assert (await raw.recv()).startswith("0")  # engine.io open
        await raw.send("40" + json.dumps({"token": token}))
        assert (await raw.recv()).startswith("40")  # socket.io connected
        return raw

    async def is_closed_by(frame: str | bytes) -> None:
        raw = await connected()
        await raw.send(frame)
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(raw.recv(), timeout=30)

    async def scenario() -> None:
        raw = await connected()
        for frame in RAW_PACKETS:
            await raw.send(frame)
        # the bad packets were dropped, the connection still works
        await raw.send("42" + json.dumps(["user_uttered", {"message": "after the junk"}]))
        while not (reply := await asyncio.wait_for(raw.recv(), timeout=30)).startswith('42["bot_uttered"'):
            pass
        assert json.loads(json.loads(reply[2:])[1]["text"]) == {
            "text": "after the junk",
            "sender": session,
            "metadata": {},
        }
        await raw.close()
        await is_closed_by("42" + json.dumps(["user_uttered", {"message": "x" * (1024 * 1024)}]))
        await is_closed_by("")  # an empty frame is a protocol error
        raw = await websockets.connect(address, extra_headers={"Origin": ORIGIN})
        await raw.recv()
        await raw.send("40{not json")
        await raw.send("42" + json.dumps(["user_uttered", {"message": "not connected"}]))
        await raw.close()
        chat = await open_chat(server, new_token()[0])
        try:
            _, reply = await chat.say({"message": "still serving"})
            assert json.loads(reply["text"])["text"] == "still serving"
        finally:
            await chat.client.disconnect()

    run(scenario())
    with urllib.request.urlopen(f"{server.url}/webhooks/socketio/", timeout=10) as answer:
        assert answer.status == 200
    assert server.process.poll() is None
    log = server.log_text()
    assert "Traceback" not in log
    assert "packet dropped: malformed packet" in log and "closed: Invalid empty packet" in log


def test_production_has_no_unauthenticated_rest_channel_and_both_profiles_use_this_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa.core.run import _create_single_channel
    from rasa.shared.utils.io import read_config_file

    monkeypatch.setenv("SHOP_WIDGET_SECRET", SECRET)
    for name in ("credentials.yml", "deploy/credentials.production.yml"):
        credentials = read_config_file(str(PROJECT_ROOT / name))
        assert "socketio" not in credentials, f"{name}: Rasa's own socket.io channel trusts the client"
        channel = _create_single_channel("bot.channels.web.ShopWebInput", credentials["bot.channels.web.ShopWebInput"])
        assert channel.name() == "socketio" and channel.limits.max_message_chars == 2000
    assert "rest" not in read_config_file(str(PROJECT_ROOT / "deploy/credentials.production.yml"))
