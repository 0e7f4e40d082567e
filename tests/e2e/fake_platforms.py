"""Stand-ins for the platforms' outbound APIs, and the signed requests the platforms would send.

`FakePlatforms` is one HTTP server on 127.0.0.1 answering as the Graph API (Messenger), the Bot
API (Telegram), Twilio's REST API and Slack's Web API, each under its own path, and recording every
call the assistant makes. `settings()` are the settings that switch the four channels on with their
outbound APIs pointed here. The `*_request` helpers build what each platform posts to the
assistant's webhooks, signed as the platform signs it (or not, for the tests that must be refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

MESSENGER_APP_SECRET = "e2e-messenger-app-secret"
MESSENGER_VERIFY_TOKEN = "e2e-messenger-verify-token"
TELEGRAM_TOKEN = "123456789:e2e-telegram-token"
TELEGRAM_SECRET = "e2e-telegram-webhook-secret"
TELEGRAM_WEBHOOK_URL = "https://shop.example.com/webhooks/telegram/webhook"
TWILIO_ACCOUNT_SID = "ACe2e0000000000000000000000000000"
TWILIO_AUTH_TOKEN = "e2e-twilio-auth-token"
TWILIO_NUMBER = "+15550000000"
TWILIO_PUBLIC_URL = "https://shop.example.com/webhooks/twilio/webhook"
SLACK_TOKEN = "xoxb-e2e-slack-token"
SLACK_SIGNING_SECRET = "e2e-slack-signing-secret"


@dataclass
class Call:
    """One request the assistant made to a platform."""

    platform: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


class FakePlatforms:
    """The four platforms' APIs on one local port, recording what the assistant sent."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                platform = url.path.strip("/").split("/")[0]
                kind = (self.headers.get("Content-Type") or "").split(";")[0]
                body: dict[str, Any] = (
                    json.loads(raw or b"{}") if kind == "application/json" else dict(parse_qsl(raw.decode()))
                )
                call = Call(platform, url.path, dict(parse_qsl(url.query)), dict(self.headers.items()), body)
                with fake._lock:
                    fake.calls.append(call)
                    fake._lock.notify_all()
                status, answer = fake.answer(call)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-platforms", daemon=True)

    @staticmethod
    def answer(call: Call) -> tuple[int, dict[str, Any]]:
        """What each platform answers a successful call with."""
        if call.platform == "telegram":
            return 200, {"ok": True, "result": True}
        if call.platform == "twilio":
            return 201, {"sid": "SM" + "0" * 32, "status": "queued"}
        if call.platform == "slack":
            return 200, {"ok": True, "ts": f"{time.time():.6f}", "channel": call.body.get("channel")}
        return 200, {"recipient_id": "1", "message_id": "mid.fake"}

    def __enter__(self) -> FakePlatforms:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def settings(self) -> dict[str, str]:
        """Settings that switch on every social channel, their outbound APIs pointed at this server."""
        return {
            "SHOP_MESSENGER_APP_SECRET": MESSENGER_APP_SECRET,
            "SHOP_MESSENGER_PAGE_ACCESS_TOKEN": "e2e-page-access-token",
            "SHOP_MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY_TOKEN,
            "SHOP_MESSENGER_API_URL": f"{self.url}/messenger",
            "SHOP_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "SHOP_TELEGRAM_SECRET": TELEGRAM_SECRET,
            "SHOP_TELEGRAM_WEBHOOK_URL": TELEGRAM_WEBHOOK_URL,
            "SHOP_TELEGRAM_API_URL": f"{self.url}/telegram",
            "SHOP_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "SHOP_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "SHOP_TWILIO_NUMBER": TWILIO_NUMBER,
            "SHOP_TWILIO_PUBLIC_URL": TWILIO_PUBLIC_URL,
            "SHOP_TWILIO_API_URL": f"{self.url}/twilio",
            "SHOP_SLACK_TOKEN": SLACK_TOKEN,
            "SHOP_SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
            "SHOP_SLACK_API_URL": f"{self.url}/slack",
        }

    def mark(self) -> int:
        """A bookmark: calls after it are the ones a test caused."""
        with self._lock:
            return len(self.calls)

    def since(self, mark: int, match: Callable[[Call], bool] = lambda call: True) -> list[Call]:
        """The calls made after `mark` that match."""
        with self._lock:
            return [call for call in self.calls[mark:] if match(call)]

    def wait_for(self, mark: int, match: Callable[[Call], bool], timeout: float = 60) -> list[Call]:
        """The matching calls after `mark`, waiting until there is one (for replies made in the background)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not (found := [c for c in self.calls[mark:] if match(c)]) and time.monotonic() < deadline:
                self._lock.wait(timeout=max(0.0, deadline - time.monotonic()))
        return found


# -- what the platforms post to the assistant -------------------------------------------------------


def messenger_signature(body: bytes, secret: str = MESSENGER_APP_SECRET) -> str:
    """Messenger's X-Hub-Signature-256 of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def messenger_body(*events: dict[str, Any]) -> bytes:
    """A page webhook delivery carrying these messaging events."""
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": list(events)}]}).encode()


def messenger_text(sender: str, text: str, mid: str) -> dict[str, Any]:
    """A customer's typed message."""
    return {
        "sender": {"id": sender},
        "recipient": {"id": "PAGE"},
        "timestamp": 1,
        "message": {"mid": mid, "text": text},
    }


def telegram_update(update_id: int, chat_id: int, **content: Any) -> bytes:
    """An update with a private-chat message (text=...) or any other content (callback_query=...)."""
    if "callback_query" in content:
        return json.dumps({"update_id": update_id, **content}).encode()
    message = {
        "message_id": update_id,
        "date": 1,
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
        **content,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def twilio_signature(
    params: list[tuple[str, str]], url: str = TWILIO_PUBLIC_URL, token: str = TWILIO_AUTH_TOKEN
) -> str:
    """X-Twilio-Signature as Twilio computes it, over the URL it posted to and the sorted parameters."""
    signed = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def twilio_form(sender: str, body: str, sid: str, **extra: str) -> list[tuple[str, str]]:
    """An incoming WhatsApp message's form parameters."""
    return [
        ("MessageSid", sid),
        ("SmsMessageSid", sid),
        ("AccountSid", TWILIO_ACCOUNT_SID),
        ("From", sender),
        ("To", f"whatsapp:{TWILIO_NUMBER}"),
        ("Body", body),
        ("NumMedia", "0"),
        ("SmsStatus", "received"),
        *extra.items(),
    ]


def encode_form(params: list[tuple[str, str]]) -> bytes:
    """A form body."""
    return urlencode(params).encode()


def slack_headers(body: bytes, timestamp: int | None = None, secret: str = SLACK_SIGNING_SECRET) -> dict[str, str]:
    """X-Slack-Request-Timestamp and X-Slack-Signature for a body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={signature}"}


def slack_message(event_id: str, user: str, text: str, channel: str = "D0E2E") -> bytes:
    """An Events API delivery of a direct message."""
    event = {"type": "message", "channel_type": "im", "user": user, "text": text, "channel": channel, "ts": "1.1"}
    return json.dumps({"type": "event_callback", "event_id": event_id, "team_id": "T1", "event": event}).encode()
