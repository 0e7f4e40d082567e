"""What each social channel sends for buttons and product cards, recorded by the local fake platform
APIs (tests/e2e/fake_platforms.py): Messenger quick replies and a generic template, a Telegram
inline keyboard naming offered options, WhatsApp numbered text, Slack blocks. The actions send
cards only to the web widget today; these are the channels' answers when cards reach them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from bot.channels.messenger import ShopMessengerOutput
from bot.channels.slack import ShopSlackOutput
from bot.channels.telegram import ShopTelegramOutput
from bot.channels.twilio import ShopTwilioOutput
from bot.channels.webhooks import Choice, OfferedChoices
from settings import load_settings
from settings.channels import SocialChannels
from tests.e2e.fake_platforms import FakePlatforms
from tests.rasa_runtime.test_channel_replies import CARDS

BUTTONS = [{"title": "Yes, cancel it", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}]


@pytest.fixture(scope="module")
def platforms() -> Iterator[FakePlatforms]:
    with FakePlatforms() as fake:
        yield fake


@pytest.fixture(scope="module")
def social(platforms: FakePlatforms) -> SocialChannels:
    return load_settings({"SHOP_SETTINGS_FILE": "", **platforms.settings()}).social


def test_messenger_quick_replies_and_a_generic_template(platforms: FakePlatforms, social: SocialChannels) -> None:
    assert social.messenger is not None
    out = ShopMessengerOutput(social.messenger)
    mark = platforms.mark()
    asyncio.run(out.send_text_with_buttons("psid-1", "Cancel order SO-1?", BUTTONS))
    asyncio.run(out.send_custom_json("psid-1", CARDS))
    asyncio.run(out.send_custom_json("psid-1", {"data": {"type": "add_to_cart", "url": "https://x"}}))  # not sent
    quick, template = (call.body for call in platforms.since(mark))
    assert quick["recipient"] == {"id": "psid-1"}
    assert quick["message"]["quick_replies"] == [
        {"content_type": "text", "title": "Yes, cancel it", "payload": "/affirm"},
        {"content_type": "text", "title": "No, keep it", "payload": "/deny"},
    ]
    payload = template["message"]["attachment"]["payload"]
    assert payload["template_type"] == "generic"
    first, second = payload["elements"]
    assert first["title"] == "Trail Shoe" and first["image_url"] == "https://img.example.com/p1.jpg"
    assert first["buttons"] == [
        {"type": "postback", "title": "Add to cart", "payload": '/add_to_cart{"product_id":"P1"}'},
        {"type": "web_url", "title": "View", "url": "https://shop.example.com/products/P1"},
    ]
    assert "image_url" not in second and second["subtitle"] == "Rain Jacket: €120.00 (out of stock)"


def test_telegram_keyboards_name_offered_options(platforms: FakePlatforms, social: SocialChannels) -> None:
    assert social.telegram is not None
    offers = OfferedChoices()
    out = ShopTelegramOutput(social.telegram, offers)

    async def send() -> None:
        await out.send_text_with_buttons("42", "Cancel order SO-1?", BUTTONS)
        await out.send_custom_json("42", CARDS)
        await out.session.close()

    mark = platforms.mark()
    asyncio.run(send())
    question, cards = (call.body for call in platforms.since(mark))
    keyboard = json.loads(question["reply_markup"])["inline_keyboard"]
    assert [[b["text"] for b in row] for row in keyboard] == [["Yes, cancel it"], ["No, keep it"]]
    tag, _, number = keyboard[1][0]["callback_data"].partition(":")
    assert number == "2" and "/deny" not in question["reply_markup"]  # payloads stay on our side
    assert cards["text"] == "1. Trail Shoe: €89.00\n2. Rain Jacket: €120.00 (out of stock)"
    (row,) = json.loads(cards["reply_markup"])["inline_keyboard"]
    assert row[0]["text"] == "Add to cart (1)" and row[1] == {
        "text": "View (1)",
        "url": "https://shop.example.com/products/P1",
    }
    card_tag = row[0]["callback_data"].split(":")[0]
    assert offers.pick("42", 1, card_tag) == Choice("Add to cart", '/add_to_cart{"product_id":"P1"}')
    assert offers.pick("42", 2, tag) is None  # the question's keyboard was replaced by the cards'


def test_whatsapp_numbers_options_and_lists_cards(platforms: FakePlatforms, social: SocialChannels) -> None:
    assert social.twilio is not None
    offers = OfferedChoices()
    out = ShopTwilioOutput(social.twilio, offers)
    mark = platforms.mark()
    asyncio.run(out.send_text_with_buttons("whatsapp:+15551112222", "Cancel order SO-1?", BUTTONS))
    asyncio.run(out.send_custom_json("+15551112222", CARDS))  # an SMS sender
    question, cards = (call.body for call in platforms.since(mark))
    assert question["Body"] == "Cancel order SO-1?\n1. Yes, cancel it\n2. No, keep it\n(Reply with a number.)"
    assert question["From"] == "whatsapp:+15550000000"
    assert offers.pick("whatsapp:+15551112222", 2) == Choice("No, keep it", "/deny")
    assert cards["From"] == "+15550000000"
    assert cards["Body"].startswith("1. Trail Shoe: €89.00\n   https://shop.example.com/products/P1\n2. Rain Jacket")


def test_slack_blocks_carry_button_values(platforms: FakePlatforms, social: SocialChannels) -> None:
    assert social.slack is not None
    out = ShopSlackOutput(social.slack, "D123")
    mark = platforms.mark()
    asyncio.run(out.send_text_with_buttons("U1", "Cancel order SO-1?", BUTTONS))
    asyncio.run(out.send_custom_json("U1", CARDS))
    question, cards = (call.body for call in platforms.since(mark))
    assert question["channel"] == "D123"
    section, actions = question["blocks"]
    assert section["text"]["text"] == "Cancel order SO-1?"
    assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("Yes, cancel it", "/affirm"),
        ("No, keep it", "/deny"),
    ]
    kinds = [block["type"] for block in cards["blocks"]]
    assert kinds == ["section", "actions", "section"]
    assert cards["blocks"][0]["text"]["text"] == "1. *<https://shop.example.com/products/P1|Trail Shoe>*\n€89.00"
    assert cards["blocks"][0]["accessory"]["image_url"] == "https://img.example.com/p1.jpg"
    assert cards["blocks"][1]["elements"][0]["value"] == '/add_to_cart{"product_id":"P1"}'
