"""Slack: Rasa's connector with signed requests refused outside the 5-minute window, and retries
and replays answered once.

Rasa 3.6's `slack` channel already checks the signing secret, but answers a bad signature with 400,
raises on malformed bodies (500), answers a retried event a second time unless its retry reason is
listed, and forwards any custom payload to Slack. This channel (named in the credentials as
`bot.channels.slack.ShopSlackInput`, webhook `/webhooks/slack/webhook` for both Events API
requests and interactivity, conversations still named `slack`):

- refuses with 403 a request whose `X-Slack-Signature` (v0, HMAC-SHA256 over the timestamp and
  the raw body with the signing secret, constant-time) does not match or whose
  `X-Slack-Request-Timestamp` is more than five minutes away: a replay older than that is refused,
  one inside the window is caught by its event id; 413 for 1 MB or more, 400 for a malformed body;
- answers the `url_verification` challenge (signed too);
- acknowledges at once and lets the assistant answer in the background (Slack retries after three
  seconds); a retry of an event already received is acknowledged with `X-Slack-No-Retry: 1` and
  not processed again;
- serves direct messages and mentions; skips edits, bot messages, reactions and other events;
- sends buttons as blocks (a click comes back as a signed interactive payload whose button value is
  given to Rasa), product cards as sections with an image and their buttons; typed `/...` is text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.replies import product_cards, split_text
from bot.channels.verification import RequestNotVerified, verify_slack
from bot.channels.webhooks import (
    RecentDeliveries,
    as_dict,
    channel_settings,
    choices_of,
    hand_over,
    ignore,
    mask,
    refuse,
    too_large,
    typed_text,
)
from settings.channels import SlackSettings

logger = logging.getLogger("bot.channels")

CHANNEL = "slack"
TEXT_LIMIT = 3000  # a section block's text
BUTTONS_PER_BLOCK = 25
MENTION = re.compile(r"<@[A-Z0-9]+>")


class ShopSlackOutput(SlackBot):
    """Replies with chat.postMessage, at the configured API address."""

    def __init__(self, settings: SlackSettings, slack_channel: str | None) -> None:
        super().__init__(settings.token, slack_channel)
        self.client = AsyncWebClient(settings.token, base_url=settings.api_url + "/")

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        try:
            await super()._post_message(channel, **kwargs)
        except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("%s API refused a reply to %s: %s", CHANNEL, mask(channel), type(error).__name__)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text as one message (Slack takes long ones)."""
        await self._post_message(channel=self.slack_channel or recipient_id, text=text.strip(), type="mrkdwn")

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """The text as a section and the buttons as an actions block; a click posts their value back."""
        choices = choices_of(buttons)
        elements = [
            {
                "type": "button",
                "action_id": f"choice-{number}",
                "text": {"type": "plain_text", "text": choice.title[:75]},
                "value": choice.payload[:2000],
            }
            for number, choice in enumerate(choices[:BUTTONS_PER_BLOCK], start=1)
        ]
        blocks: list[dict[str, Any]] = [
            {
                "type": "section",
                "text": {"type": "plain_text", "text": split_text(text, TEXT_LIMIT)[0] or "Please choose:"},
            }
        ]
        if elements:
            blocks.append({"type": "actions", "elements": elements})
        await self._post_message(channel=self.slack_channel or recipient_id, text=text, blocks=blocks)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies, as buttons are sent."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """Product cards as sections (title, price, picture) each with its buttons; other payloads
        are not forwarded to Slack."""
        cards = product_cards(json_message)
        if not cards:
            logger.info("%s: a custom payload that is not product cards is not sent to Slack", CHANNEL)
            return
        blocks: list[dict[str, Any]] = []
        for position, card in enumerate(cards, start=1):
            title = f"<{card.url}|{card.title}>" if card.url else card.title
            section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": f"{position}. *{title}*"}}
            if card.price_text:
                section["text"]["text"] += f"\n{card.price_text}" + ("" if card.in_stock else " (out of stock)")
            if card.image:
                section["accessory"] = {"type": "image", "image_url": card.image, "alt_text": card.title[:100]}
            blocks.append(section)
            if card.buttons:
                blocks.append(
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": f"card-{position}-{number}",
                                "text": {"type": "plain_text", "text": choice.title[:75]},
                                "value": choice.payload[:2000],
                            }
                            for number, choice in enumerate(card.buttons[:5], start=1)
                        ],
                    }
                )
        summary = "\n".join(f"{n}. {card.line()}" for n, card in enumerate(cards, start=1))
        await self._post_message(channel=self.slack_channel or recipient_id, text=summary, blocks=blocks[:50])


class ShopSlackInput(SlackInput):
    """Rasa's Slack input with the checks above (see the module's docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ShopSlackInput:
        """The channel from the SHOP_SLACK_* settings (the credentials file holds no secrets)."""
        return cls(channel_settings("slack", "Slack", SlackSettings))

    def __init__(self, settings: SlackSettings) -> None:
        super().__init__(settings.token, slack_signing_secret=settings.signing_secret)
        self.settings = settings
        self.deliveries = RecentDeliveries()
        self._tasks: set[asyncio.Task[Any]] = set()

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> OutputChannel:
        """Where replies go: the conversation (direct message or channel) the message came from."""
        return ShopSlackOutput(self.settings, channel)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """One webhook for Events API requests (JSON) and interactivity (form with a `payload`)."""
        webhook = Blueprint("shop_slack_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            if too_large(request.body):
                return refuse(CHANNEL, 413, "body of 1 MB or more")
            body = request.body or b""
            try:
                verify_slack(
                    self.settings.signing_secret,
                    body,
                    request.headers.get("X-Slack-Request-Timestamp"),
                    request.headers.get("X-Slack-Signature"),
                    time.time(),
                )
            except RequestNotVerified as error:
                return refuse(CHANNEL, 403, str(error))
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if content_type == "application/x-www-form-urlencoded":
                return self._interaction(body, on_new_message)
            try:
                payload = json.loads(body)
            except ValueError:
                return refuse(CHANNEL, 400, "body is neither JSON nor an interactivity form")
            if not isinstance(payload, dict):
                return refuse(CHANNEL, 400, "body is not a JSON object")
            if payload.get("type") == "url_verification":
                return response.json({"challenge": str(payload.get("challenge") or "")})
            if payload.get("type") != "event_callback" or not isinstance(payload.get("event"), dict):
                return ignore(CHANNEL, f"a request of type {str(payload.get('type'))[:40]!r}")
            event_id = str(payload.get("event_id") or "")
            if not event_id:
                return refuse(CHANNEL, 400, "an event without event_id")
            if not self.deliveries.first_time(event_id):
                retry = request.headers.get("X-Slack-Retry-Num")
                answer = ignore(CHANNEL, f"event already received ({'retry ' + retry[:3] if retry else 'replay'})")
                answer.headers["X-Slack-No-Retry"] = "1"
                return answer
            return self._event(payload["event"], on_new_message)

        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        return webhook

    def _event(self, event: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """A verified event: a customer's direct message or mention goes to the assistant."""
        sender, text, conversation = event.get("user"), event.get("text"), event.get("channel")
        kind = str(event.get("type"))[:40]
        if kind not in ("message", "app_mention"):
            return ignore(CHANNEL, f"a {kind!r} event", sender)
        if event.get("subtype") or event.get("bot_id"):
            return ignore(CHANNEL, f"a message of subtype {str(event.get('subtype') or 'bot')[:40]!r}", sender)
        if kind == "message" and event.get("channel_type") != "im":
            return ignore(CHANNEL, "a channel message that does not mention the bot", sender)
        if not isinstance(sender, str) or not isinstance(conversation, str) or not isinstance(text, str):
            return ignore(CHANNEL, "a message without user, channel or text", sender)
        words = typed_text(MENTION.sub(" ", text).strip())
        if not words:
            return ignore(CHANNEL, "a message without words", sender)
        self._start(on_new_message, words, sender, conversation, "typed")
        return response.text("")

    def _interaction(self, body: bytes, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """A verified click on one of our buttons: its value goes to the assistant."""
        try:
            form = dict(parse_qsl(body.decode("utf-8"), strict_parsing=True))
            payload = json.loads(form["payload"])
        except (UnicodeDecodeError, ValueError, KeyError):
            return refuse(CHANNEL, 400, "interactivity form without a JSON payload")
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            kind = payload.get("type") if isinstance(payload, dict) else None
            return ignore(CHANNEL, f"an interaction of type {str(kind)[:40]!r}")
        user = as_dict(payload.get("user"))
        where = as_dict(payload.get("channel"))
        actions = payload.get("actions") if isinstance(payload.get("actions"), list) else []
        action = actions[0] if actions and isinstance(actions[0], dict) else {}
        sender, conversation = user.get("id"), where.get("id")
        if action.get("type") != "button" or not isinstance(action.get("value"), str):
            return ignore(CHANNEL, "an interaction that is not one of our buttons", sender)
        if not isinstance(sender, str) or not isinstance(conversation, str):
            return ignore(CHANNEL, "an interaction without user or channel", sender)
        delivery = f"action:{sender}:{action.get('action_ts')}:{action.get('action_id')}"
        if not self.deliveries.first_time(delivery):
            return ignore(CHANNEL, "a click already handled (replayed)", sender)
        self._start(on_new_message, action["value"], sender, conversation, "button")
        return response.text("")

    def _start(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender: str,
        conversation: str,
        source: str,
    ) -> None:
        """Let the assistant answer after the webhook has been acknowledged (Slack waits 3 s at most)."""
        message = UserMessage(
            text,
            self.get_output_channel(conversation),
            sender,
            input_channel=CHANNEL,
            metadata={"input": source, "out_channel": conversation},
        )
        task = asyncio.create_task(hand_over(CHANNEL, on_new_message, message))
        self._tasks.add(task)  # a reference, or the task may be collected before it ends
        task.add_done_callback(self._tasks.discard)
