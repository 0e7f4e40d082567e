"""WhatsApp and SMS through Twilio: Rasa's connector with every webhook verified.

Rasa 3.6's `twilio` channel checks nothing, so anyone who knows the address can speak as any phone
number. This channel (named in the credentials as `bot.channels.twilio.ShopTwilioInput`, webhook
`/webhooks/twilio/webhook`, conversations still named `twilio`):

- refuses with 403 a request whose `X-Twilio-Signature` is not Twilio's signature of the public
  URL (SHOP_TWILIO_PUBLIC_URL: the server sits behind a proxy, so the address Twilio signed is
  not the one Sanic sees) and of every form parameter, compared in constant time; 413 for 1 MB
  or more, 400 for a body that is not a form;
- handles each MessageSid once (a replayed or retried request gets no second reply); status
  callbacks, pictures and locations are acknowledged and skipped;
- has no buttons to offer: options are numbered lines, and a reply that is just a number picks that
  option of the latest offer (remembered per sender until their next message); product cards are a
  numbered list with links; typed text is text, a typed `/intent{...}` is never a command;
- sends replies through Twilio's Messages API (its address is a setting, for the tests' fake),
  from `whatsapp:<number>` to WhatsApp senders and from the number itself to SMS senders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import outbound
from bot.channels.replies import cards_as_text, number_reply, numbered_options, product_cards, split_text
from bot.channels.verification import RequestNotVerified, verify_twilio
from bot.channels.webhooks import (
    OfferedChoices,
    RecentDeliveries,
    channel_settings,
    choices_of,
    hand_over,
    note,
    refuse,
    too_large,
    typed_text,
)
from settings.channels import TwilioSettings

logger = logging.getLogger("bot.channels")

CHANNEL = "twilio"
TEXT_LIMIT = 1600  # Twilio's limit for one message body
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class ShopTwilioOutput(TwilioOutput):
    """Replies through Twilio's Messages API, at the configured address."""

    def __init__(self, settings: TwilioSettings, offers: OfferedChoices) -> None:
        # TwilioOutput is twilio's blocking REST client; every method that used it is replaced
        OutputChannel.__init__(self)
        self.twilio_number = settings.number
        self._settings = settings
        self._offers = offers

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def _sender_for(self, recipient_id: str) -> str:
        number = self._settings.number
        if recipient_id.startswith("whatsapp:") and not number.startswith("whatsapp:"):
            return f"whatsapp:{number}"
        return number

    async def _send(self, recipient_id: str, fields: dict[str, str]) -> None:
        settings = self._settings
        await outbound.post(
            CHANNEL,
            f"{settings.api_url}/2010-04-01/Accounts/{settings.account_sid}/Messages.json",
            recipient_id,
            data={"To": recipient_id, "From": self._sender_for(recipient_id), **fields},
            auth=aiohttp.BasicAuth(settings.account_sid, settings.auth_token),
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text, in parts Twilio accepts."""
        for part in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, {"Body": part})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """A picture by its address (WhatsApp and MMS show it; SMS gets the link from Twilio)."""
        await self._send(recipient_id, {"MediaUrl": image})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """The question with numbered options; the customer answers with a number."""
        choices = choices_of(buttons)
        if choices:
            self._offers.offer(recipient_id, choices)
        await self.send_text_message(recipient_id, numbered_options(text, choices))

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies, as buttons are sent."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """Product cards as a numbered list with links; other payloads are not forwarded to Twilio."""
        cards = product_cards(json_message)
        if not cards:
            logger.info("%s: a custom payload that is not product cards is not sent by Twilio", CHANNEL)
            return
        await self.send_text_message(recipient_id, cards_as_text("", cards))


class ShopTwilioInput(TwilioInput):
    """Rasa's Twilio input with verified webhooks (see the module's docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ShopTwilioInput:
        """The channel from the SHOP_TWILIO_* settings (the credentials file holds no secrets)."""
        return cls(channel_settings("twilio", "Twilio", TwilioSettings))

    def __init__(self, settings: TwilioSettings) -> None:
        super().__init__(settings.account_sid, settings.auth_token, settings.number, debug_mode=False)
        self.settings = settings
        self.deliveries = RecentDeliveries()
        self.offers = OfferedChoices()

    def get_output_channel(self) -> OutputChannel:
        """Where replies go."""
        return ShopTwilioOutput(self.settings, self.offers)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook for incoming messages (and status callbacks, which are acknowledged)."""
        webhook = Blueprint("shop_twilio_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            if too_large(request.body):
                return refuse(CHANNEL, 413, "body of 1 MB or more")
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if content_type != "application/x-www-form-urlencoded":
                return refuse(CHANNEL, 415, f"body is {content_type[:60] or 'untyped'}, not a form")
            try:
                params = parse_qsl((request.body or b"").decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                return refuse(CHANNEL, 400, "body is not a well-formed form")
            try:
                verify_twilio(
                    self.settings.auth_token,
                    self.settings.public_url,
                    params,
                    request.headers.get("X-Twilio-Signature"),
                )
            except RequestNotVerified as error:
                return refuse(CHANNEL, 403, str(error))
            message = self._user_message(dict(params))
            if message is not None:
                await hand_over(CHANNEL, on_new_message, message)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        return webhook

    def _user_message(self, form: dict[str, str]) -> UserMessage | None:
        """The message a verified request carries for the assistant, or None (logged) for one we skip."""
        sender, sid = form.get("From", ""), form.get("MessageSid") or form.get("SmsMessageSid") or ""
        if not sid or not sender:
            status = form.get("MessageStatus") or form.get("SmsStatus")
            note(CHANNEL, f"a status callback ({status[:20]})" if status else "a request without MessageSid or From")
            return None
        if not self.deliveries.first_time(sid):
            note(CHANNEL, "a message already handled (replayed or retried)", sender)
            return None
        if form.get("MessageStatus") or (form.get("SmsStatus") not in (None, "received")):
            note(CHANNEL, "a status callback", sender)
            return None
        body = form.get("Body", "")
        picked = self.offers.pick(sender, number_reply(body) or 0)
        self.offers.forget(sender)  # options answer the next message only
        if picked is not None:
            return UserMessage(picked.payload, self.get_output_channel(), sender, input_channel=CHANNEL,
                               metadata={"input": "button"})  # fmt: skip
        if not body.strip():
            kind = "location" if form.get("Latitude") else "media" if form.get("NumMedia", "0") != "0" else "empty"
            note(CHANNEL, f"a {kind} message", sender)
            return None
        # some SMS carriers turn @ into ¡ (as Rasa's own channel notes)
        text = typed_text(body.replace("¡", "@"))
        return UserMessage(text, self.get_output_channel(), sender, input_channel=CHANNEL, metadata={"input": "typed"})
