"""Telegram: Rasa's connector with every update verified by the webhook's secret token.

Rasa 3.6's `telegram` channel checks nothing (its "verify" is the bot's username, compared with
what the Bot API says), calls the API for every update and when the server is built, and reads a
typed `/command` as an intent. This channel (named in the credentials as
`bot.channels.telegram.ShopTelegramInput`, webhook `/webhooks/telegram/webhook`):

- registers the webhook at start with a secret token (`setWebhook`, with `secret_token`, which
  aiogram 2.15 does not know, so the call is made by name), and refuses with 403 any update
  whose `X-Telegram-Bot-Api-Secret-Token` is not that secret (constant-time); 413 for 1 MB or
  more, 400 for a body that is not an update;
- handles each update id once (a replayed or retried update gets no second reply);
- talks only in private chats (a group must never see a customer's orders), and skips edits,
  stickers, photos, locations and other updates with a logged reason;
- sends buttons as an inline keyboard whose callback data names an option of the latest offer
  (`<offer>:<number>`), never the payload: Telegram clients can send any callback data, so only
  options we offered can be picked, and long payloads fit Telegram's 64 bytes. `/start` is a
  greeting; any other typed `/...` is read as words;
- the Bot API's address is a setting (SHOP_TELEGRAM_API_URL; aiogram's custom-server support)
  so tests talk to a local fake.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.replies import product_cards, split_text
from bot.channels.verification import RequestNotVerified, verify_telegram
from bot.channels.webhooks import (
    OfferedChoices,
    RecentDeliveries,
    as_dict,
    channel_settings,
    choices_of,
    hand_over,
    ignore,
    mask,
    note,
    refuse,
    too_large,
    typed_text,
)
from settings.channels import TelegramSettings

logger = logging.getLogger("bot.channels")
# aiogram logs every request's parameters at DEBUG: the webhook secret and what customers wrote
logging.getLogger("aiogram").setLevel(logging.INFO)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
BUTTON_LIMIT = 64  # characters of a button's label we send
SKIPPED_MESSAGE_PARTS = ("sticker", "photo", "location", "document", "voice", "video", "audio", "contact", "poll")


class ShopTelegramOutput(TelegramOutput):
    """Replies through the Bot API, at the configured address."""

    def __init__(self, settings: TelegramSettings, offers: OfferedChoices) -> None:
        # TelegramOutput's own __init__ would use Telegram's real address
        super(TelegramOutput, self).__init__(settings.token, server=TelegramAPIServer.from_base(settings.api_url))
        self._offers = offers

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def call(self, method: str, recipient: str, data: dict[str, Any]) -> bool:
        """Call a Bot API method; False (logged) when it failed."""
        try:
            await self.request(method, data)
            return True
        except (TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("%s API call %s for %s failed: %s", CHANNEL, method, mask(recipient), type(error).__name__)
            return False

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text, in parts Telegram accepts."""
        for part in split_text(text, TEXT_LIMIT):
            await self.call("sendMessage", recipient_id, {"chat_id": recipient_id, "text": part})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """A photo by its address."""
        await self.call("sendPhoto", recipient_id, {"chat_id": recipient_id, "photo": image})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons as an inline keyboard, one per row; a tap comes back as a callback naming the option."""
        choices = choices_of(buttons)
        if not choices:
            await self.send_text_message(recipient_id, text)
            return
        tag = self._offers.offer(recipient_id, choices)
        keyboard = [
            [{"text": choice.title[:BUTTON_LIMIT], "callback_data": f"{tag}:{number}"}]
            for number, choice in enumerate(choices, start=1)
        ]
        await self.call(
            "sendMessage",
            recipient_id,
            {
                "chat_id": recipient_id,
                "text": split_text(text, TEXT_LIMIT)[0] if text.strip() else "Please choose:",
                "reply_markup": json.dumps({"inline_keyboard": keyboard}),
            },
        )

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies, as buttons are sent."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """Product cards as a numbered list with a keyboard (each card's buttons and a link);
        other payloads are not forwarded to the Bot API."""
        cards = product_cards(json_message)
        if not cards:
            logger.info("%s: a custom payload that is not product cards is not sent on Telegram", CHANNEL)
            return
        choices = [choice for card in cards for choice in card.buttons]
        tag = self._offers.offer(recipient_id, choices)
        keyboard, number = [], 0
        lines = []
        for position, card in enumerate(cards, start=1):
            lines.append(f"{position}. {card.line()}")
            row = []
            for choice in card.buttons:
                number += 1
                row.append({"text": f"{choice.title} ({position})"[:BUTTON_LIMIT], "callback_data": f"{tag}:{number}"})
            if card.url:
                row.append({"text": f"View ({position})", "url": card.url})
            if row:
                keyboard.append(row)
        data: dict[str, Any] = {"chat_id": recipient_id, "text": split_text("\n".join(lines), TEXT_LIMIT)[0]}
        if keyboard:
            data["reply_markup"] = json.dumps({"inline_keyboard": keyboard})
        await self.call("sendMessage", recipient_id, data)


class ShopTelegramInput(TelegramInput):
    """Rasa's Telegram input with verified updates (see the module's docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ShopTelegramInput:
        """The channel from the SHOP_TELEGRAM_* settings (the credentials file holds no secrets)."""
        return cls(channel_settings("telegram", "Telegram", TelegramSettings))

    def __init__(self, settings: TelegramSettings) -> None:
        super().__init__(settings.token, None, settings.webhook_url, debug_mode=False)
        self.settings = settings
        self.deliveries = RecentDeliveries()
        self.offers = OfferedChoices()

    def get_output_channel(self) -> ShopTelegramOutput:
        """Where replies go; unlike Rasa's, building it calls no API."""
        return ShopTelegramOutput(self.settings, self.offers)

    async def register_webhook(self, out: ShopTelegramOutput) -> None:
        """Tell Telegram where to post updates and the secret to send with each (logged, never raised)."""
        registered = await out.call(
            "setWebhook",
            "webhook",
            {
                "url": self.settings.webhook_url,
                "secret_token": self.settings.secret,
                "allowed_updates": json.dumps(["message", "edited_message", "callback_query"]),
            },
        )
        if registered:
            logger.info("%s: webhook registered at %s", CHANNEL, self.settings.webhook_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook for updates; the webhook is registered with Telegram when the server starts."""
        webhook = Blueprint("shop_telegram_webhook", __name__)
        out = self.get_output_channel()

        async def register(*_: Any) -> None:
            await self.register_webhook(out)

        async def close(*_: Any) -> None:
            await out.session.close()  # aiogram 2.15: Bot.close() only does this, with a warning

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            if too_large(request.body):
                return refuse(CHANNEL, 413, "body of 1 MB or more")
            try:
                verify_telegram(self.settings.secret, request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
            except RequestNotVerified as error:
                return refuse(CHANNEL, 403, str(error))
            try:
                update = json.loads(request.body)
            except ValueError:
                return refuse(CHANNEL, 400, "body is not JSON")
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                return refuse(CHANNEL, 400, "body is not an update (no update_id)")
            if not self.deliveries.first_time(str(update["update_id"])):
                return ignore(CHANNEL, "an update already handled (replayed or retried)")
            message = await self._user_message(update, out)
            if message is not None:
                await hand_over(CHANNEL, on_new_message, message)
            return response.text("ok")

        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        webhook.listener(register, "after_server_start")
        webhook.listener(close, "before_server_stop")
        return webhook

    async def _user_message(self, update: dict[str, Any], out: ShopTelegramOutput) -> UserMessage | None:
        """The message an update carries for the assistant, or None (logged) for one we skip."""
        query = update.get("callback_query")
        if isinstance(query, dict):
            return await self._button(query, out)
        message = update.get("message")
        if not isinstance(message, dict):
            kind = next((key for key in update if key != "update_id"), "empty")
            note(CHANNEL, f"an update of kind {kind[:40]!r}")
            return None
        chat = as_dict(message.get("chat"))
        sender = str(chat.get("id") or "")
        if not sender:
            note(CHANNEL, "a message without a chat")
            return None
        if chat.get("type") != "private":
            note(CHANNEL, f"a message in a {str(chat.get('type'))[:20]} chat (only private chats are served)", sender)
            return None
        self.offers_expire_for(sender)
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            kind = next((part for part in SKIPPED_MESSAGE_PARTS if part in message), "non-text")
            note(CHANNEL, f"a {kind} message", sender)
            return None
        words = text.split()
        text = "hello" if words and words[0].split("@")[0] == "/start" else typed_text(text)
        return UserMessage(text, out, sender, input_channel=CHANNEL, metadata={"input": "typed"})

    def offers_expire_for(self, sender: str) -> None:
        """A typed message answers whatever was asked: earlier keyboards stop picking options."""
        self.offers.forget(sender)

    async def _button(self, query: dict[str, Any], out: ShopTelegramOutput) -> UserMessage | None:
        """A tap on an inline keyboard: the option it names, if we offered it to this chat."""
        message = as_dict(query.get("message"))
        chat = as_dict(message.get("chat"))
        sender = str(chat.get("id") or "")
        if query.get("id"):
            await out.call("answerCallbackQuery", sender or "unknown", {"callback_query_id": str(query["id"])})
        if not sender or chat.get("type") != "private":
            note(CHANNEL, "a button tap outside a private chat", sender)
            return None
        tag, _, number = str(query.get("data") or "").partition(":")
        choice = self.offers.pick(sender, int(number), tag) if number.isdigit() and len(number) < 4 else None
        if choice is None:
            note(CHANNEL, "a button that is not among the options offered last (expired or forged)", sender)
            await out.send_text_message(sender, "That button has expired. Please type your answer instead.")
            return None
        self.offers.forget(sender)
        return UserMessage(choice.payload, out, sender, input_channel=CHANNEL, metadata={"input": "button"})
