"""Facebook Messenger: Rasa's connector with every webhook verified and replies the channel can show.

Rasa 3.6's `facebook` channel checks only the SHA-1 `X-Hub-Signature` and answers a bad one with
HTTP 200; it handles only the first event of a batch and blocks the server on a synchronous client.
This channel (named in the credentials as `bot.channels.messenger.ShopMessengerInput`, webhook
`/webhooks/facebook/webhook`, conversations still named `facebook`):

- answers Facebook's GET handshake only with the right verify token;
- refuses a POST with 403 unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body with the
  app secret (compared in constant time), 413 for 1 MB or more, 400 for a body that is not a page event;
- handles every event of a batch, each message id once (a replayed or retried delivery gets no
  second reply); delivery receipts, reads, reactions, echoes and attachments are acknowledged and
  skipped;
- passes quick-reply and postback payloads (the buttons we sent) as they are and typed text as
  text: a typed `/intent{...}` never reaches Rasa as a command;
- replies with quick replies for buttons and a generic template for product cards.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import outbound
from bot.channels.replies import product_cards, split_text
from bot.channels.verification import RequestNotVerified, verify_messenger
from bot.channels.webhooks import (
    RecentDeliveries,
    channel_settings,
    choices_of,
    hand_over,
    ignore,
    note,
    refuse,
    too_large,
    typed_text,
)
from settings.channels import MessengerSettings

logger = logging.getLogger("bot.channels")

CHANNEL = "facebook"
TEXT_LIMIT = 2000
QUICK_REPLIES_MAX = 13
TITLE_LIMIT = 20  # quick replies and template buttons
SKIPPED_EVENTS = ("delivery", "read", "reaction", "optin", "referral", "account_linking", "policy_enforcement")


def _title(text: str, limit: int = TITLE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ShopMessengerOutput(MessengerBot):
    """Replies through the Graph API's Send API (its address is a setting, so tests use a fake)."""

    def __init__(self, settings: MessengerSettings) -> None:
        # MessengerBot.__init__ wants fbmessenger's blocking client; every method using it is replaced
        OutputChannel.__init__(self)
        self._settings = settings

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        await outbound.post(
            CHANNEL,
            f"{self._settings.api_url}/me/messages",
            recipient_id,
            params={"access_token": self._settings.page_access_token},
            json={"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message},
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text, in parts Messenger accepts."""
        for part in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, {"text": part})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """An image by its address."""
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons as quick replies: a tap sends their payload back as a quick reply."""
        choices = choices_of(buttons)[:QUICK_REPLIES_MAX]
        message: dict[str, Any] = {"text": split_text(text, TEXT_LIMIT)[0] if text.strip() else "Please choose:"}
        if choices:
            message["quick_replies"] = [
                {"content_type": "text", "title": _title(c.title), "payload": c.payload[:1000]} for c in choices
            ]
        await self._send(recipient_id, message)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies, as buttons are sent."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_elements(self, recipient_id: str, elements: Any, **kwargs: Any) -> None:
        """Rasa's `elements` are not used by this assistant; they are not forwarded unchecked."""
        logger.info("%s: elements are not sent on Messenger", CHANNEL)

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """Product cards as a generic template (a swipeable row of cards); other payloads stay unsent."""
        cards = product_cards(json_message)
        if not cards:
            logger.info("%s: a custom payload that is not product cards is not sent on Messenger", CHANNEL)
            return
        elements = []
        for card in cards:
            buttons: list[dict[str, Any]] = [
                {"type": "postback", "title": _title(choice.title), "payload": choice.payload[:1000]}
                for choice in card.buttons[:2]
            ]
            if card.url:
                buttons.append({"type": "web_url", "title": "View", "url": card.url})
            element: dict[str, Any] = {"title": _title(card.title, 80), "subtitle": card.line()[:80]}
            if card.image:
                element["image_url"] = card.image
            if buttons:
                element["buttons"] = buttons
            elements.append(element)
        await self._send(
            recipient_id,
            {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}},
        )

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        """Typing indicators are not sent (one call less per reply)."""


class ShopMessengerInput(FacebookInput):
    """Rasa's Facebook input with verified webhooks (see the module's docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ShopMessengerInput:
        """The channel from the SHOP_MESSENGER_* settings (the credentials file holds no secrets)."""
        return cls(channel_settings("messenger", "Messenger", MessengerSettings))

    def __init__(self, settings: MessengerSettings) -> None:
        super().__init__(settings.verify_token, settings.app_secret, settings.page_access_token)
        self.settings = settings
        self.deliveries = RecentDeliveries()

    def get_output_channel(self) -> OutputChannel:
        """Where replies to Messenger go."""
        return ShopMessengerOutput(self.settings)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook: the verify-token handshake, and signed events."""
        webhook = Blueprint("shop_messenger_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def handshake(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") != "subscribe" or not _same_token(self.settings.verify_token, token):
                return refuse(CHANNEL, 403, "webhook handshake with a wrong verify token")
            return response.text(request.args.get("hub.challenge") or "")

        async def receive(request: Request) -> HTTPResponse:
            if too_large(request.body):
                return refuse(CHANNEL, 413, "body of 1 MB or more")
            try:
                verify_messenger(
                    self.settings.app_secret, request.body or b"", request.headers.get("X-Hub-Signature-256")
                )
            except RequestNotVerified as error:
                return refuse(CHANNEL, 403, str(error))
            try:
                payload = json.loads(request.body)
            except ValueError:
                return refuse(CHANNEL, 400, "body is not JSON")
            if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
                return refuse(CHANNEL, 400, "body is not a webhook event (no entry list)")
            if payload.get("object") != "page":
                return ignore(CHANNEL, f"events of object {str(payload.get('object'))[:40]!r}")
            for entry in payload["entry"]:
                events = entry.get("messaging") if isinstance(entry, dict) else None
                if not isinstance(events, list):
                    note(CHANNEL, "an entry without messaging events (standby or changes)")
                    continue
                for event in events:
                    message = self._user_message(event)
                    if message is not None:
                        await hand_over(CHANNEL, on_new_message, message)
            return response.text("EVENT_RECEIVED")

        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(handshake, "/webhook", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        return webhook

    def _user_message(self, event: object) -> UserMessage | None:
        """The message an event carries for the assistant, or None (logged) for one we skip."""
        if not isinstance(event, dict) or not isinstance(event.get("sender"), dict):
            note(CHANNEL, "an event without a sender")
            return None
        sender = str(event["sender"].get("id") or "")
        if not sender or len(sender) > 64:
            note(CHANNEL, "an event without a usable sender id")
            return None
        text, source, delivery = self._read(event, sender)
        if text is None:
            return None
        if not self.deliveries.first_time(delivery):
            note(CHANNEL, "a message already handled (replayed or retried)", sender)
            return None
        return UserMessage(
            text,
            self.get_output_channel(),
            sender,
            input_channel=CHANNEL,
            metadata={"input": source},
        )

    @staticmethod
    def _read(event: dict[str, Any], sender: str) -> tuple[str | None, str, str]:
        """(text for the assistant or None, "button" or "typed", delivery id) of one event."""
        message, postback = event.get("message"), event.get("postback")
        if isinstance(message, dict):
            mid = str(message.get("mid") or "")
            if message.get("is_echo"):
                note(CHANNEL, "an echo of the page's own message", sender)
            elif not mid:
                note(CHANNEL, "a message without a message id", sender)
            elif isinstance(message.get("quick_reply"), dict) and isinstance(
                message["quick_reply"].get("payload"), str
            ):
                return message["quick_reply"]["payload"], "button", f"m:{mid}"
            elif isinstance(message.get("text"), str) and message["text"].strip():
                return typed_text(message["text"]), "typed", f"m:{mid}"
            elif message.get("attachments"):
                kinds = {str(a.get("type"))[:20] for a in message["attachments"] if isinstance(a, dict)}
                note(CHANNEL, f"an attachment we do not read ({', '.join(sorted(kinds)) or 'unknown'})", sender)
            else:
                note(CHANNEL, "a message without text", sender)
            return None, "", ""
        if isinstance(postback, dict) and isinstance(postback.get("payload"), str):
            delivery = str(postback.get("mid") or f"{sender}:{event.get('timestamp')}:{postback['payload']}")
            return postback["payload"], "button", f"p:{delivery}"
        kind = next((name for name in SKIPPED_EVENTS if name in event), "an unknown kind")
        note(CHANNEL, f"a {kind} event", sender)
        return None, "", ""


def _same_token(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
