"""What the social channels share (bot/channels/webhooks.py, replies.py): typed text never a command,
replay memory, offered options, product cards read for every channel, masking, settings."""

from __future__ import annotations

import pytest

from bot.channels.replies import cards_as_text, number_reply, numbered_options, product_cards, split_text
from bot.channels.webhooks import Choice, OfferedChoices, RecentDeliveries, choices_of, mask, typed_text
from settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/restart", "restart"),
        ('/order_status{"order_id": "SO-1"}', 'order_status{"order_id": "SO-1"}'),
        ("  //human_handoff", "human_handoff"),
        ("\u200b/restart", "restart"),  # an invisible character before the slash
        ("\u202e /affirm", "affirm"),
        ("where is my order?", "where is my order?"),
        ("size 10/11 please", "size 10/11 please"),
    ],
)
def test_typed_text_never_starts_with_a_slash(typed: str, expected: str) -> None:
    assert typed_text(typed) == expected


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_delivery_is_handled_once_and_the_memory_is_bounded_in_age_and_size() -> None:
    clock = Clock()
    recent = RecentDeliveries(seconds=60, entries=3, clock=clock)
    assert recent.first_time("a") and not recent.first_time("a")
    assert recent.first_time("b") and recent.first_time("c")
    assert recent.first_time("d")  # the fourth pushes out the oldest
    assert recent.first_time("a")
    clock.now += 61
    assert recent.first_time("c")  # forgotten after the time limit


def test_offered_choices_pick_by_number_from_the_latest_offer_only() -> None:
    clock = Clock()
    offers = OfferedChoices(seconds=600, senders=2, clock=clock)
    first = offers.offer("alice", [Choice("Yes", "/affirm"), Choice("No", "/deny")])
    assert offers.pick("alice", 2) == Choice("No", "/deny")
    assert offers.pick("alice", 3) is None and offers.pick("alice", 0) is None
    assert offers.pick("bob", 1) is None
    second = offers.offer("alice", [Choice("Cheaper", "cheaper ones")])
    assert second != first
    assert offers.pick("alice", 1, first) is None  # a button of an older keyboard
    assert offers.pick("alice", 1, second) == Choice("Cheaper", "cheaper ones")
    offers.offer("bob", [Choice("A", "a")])
    offers.offer("carol", [Choice("B", "b")])  # only two senders kept: alice's offer goes
    assert offers.pick("alice", 1) is None
    clock.now += 601
    assert offers.pick("carol", 1) is None
    offers.offer("dave", [Choice("C", "c")])
    offers.forget("dave")
    assert offers.pick("dave", 1) is None


def test_choices_keep_only_buttons_with_a_title_and_a_text_payload() -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "", "payload": "x"}, {"title": "N", "payload": 3}, "x"]
    assert choices_of(buttons) == [Choice("Yes", "/affirm")]


CARDS = {
    "data": {
        "type": "product_cards",
        "products": [
            {
                "id": "P1",
                "title": "Trail Shoe",
                "price_text": "€89.00",
                "in_stock": True,
                "image": "https://img.example.com/p1.jpg",
                "url": "https://shop.example.com/products/P1",
                "buttons": [{"title": "Add to cart", "payload": '/add_to_cart{"product_id":"P1"}'}],
            },
            {"id": "P2", "title": "Rain Jacket", "price_text": "€120.00", "in_stock": False, "image": "javascript:x"},
            {"id": "P3"},
        ],
    }
}


def test_product_cards_are_read_from_the_actions_payload_and_nothing_else() -> None:
    cards = product_cards(CARDS)
    assert cards is not None
    assert [c.title for c in cards] == ["Trail Shoe", "Rain Jacket"]  # a card without a title is dropped
    assert cards[0].buttons == [Choice("Add to cart", '/add_to_cart{"product_id":"P1"}')]
    assert cards[1].image is None and not cards[1].in_stock  # only http(s) pictures
    assert product_cards({"data": {"type": "add_to_cart", "product_id": "P1"}}) is None
    assert product_cards(["not", "a", "dict"]) is None
    text = cards_as_text("Here you go:", cards)
    assert text.splitlines() == [
        "Here you go:",
        "1. Trail Shoe: €89.00",
        "   https://shop.example.com/products/P1",
        "2. Rain Jacket: €120.00 (out of stock)",
    ]


def test_numbered_options_and_number_replies() -> None:
    text = numbered_options("Which one?", [Choice("Yes", "/affirm"), Choice("No", "/deny")])
    assert text == "Which one?\n1. Yes\n2. No\n(Reply with a number.)"
    replies = ("2", " #2 ", "2.", "1)", "two", "2 please", "123")
    assert [number_reply(t) for t in replies] == [2, 2, 2, 1, None, None, None]


def test_long_texts_are_split_at_line_ends_within_the_limit() -> None:
    text = "first line\n" + "x" * 30 + "\nlast"
    parts = split_text(text, 35)
    assert parts == ["first line", "x" * 30 + "\nlast"]
    assert all(len(p) <= 35 for p in split_text("y" * 100, 35))


def test_sender_ids_and_phone_numbers_are_masked() -> None:
    assert mask("whatsapp:+4915112345678") == "whatsapp:+4…78"
    assert mask("+4915112345678") == "+4…78"
    assert mask("123") == "***"
    assert "12345678" not in mask("1234567890")


ALL = {
    "SHOP_MESSENGER_APP_SECRET": "app-secret",
    "SHOP_MESSENGER_PAGE_ACCESS_TOKEN": "page-token",
    "SHOP_MESSENGER_VERIFY_TOKEN": "verify-token-0123456789",
    "SHOP_TELEGRAM_TOKEN": "123456:ABC-def",
    "SHOP_TELEGRAM_SECRET": "telegram-secret-0123456789",
    "SHOP_TELEGRAM_WEBHOOK_URL": "https://shop.example.com/webhooks/telegram/webhook",
    "SHOP_TWILIO_ACCOUNT_SID": "AC123",
    "SHOP_TWILIO_AUTH_TOKEN": "twilio-token",
    "SHOP_TWILIO_NUMBER": "+15550001111",
    "SHOP_TWILIO_PUBLIC_URL": "https://shop.example.com/webhooks/twilio/webhook",
    "SHOP_SLACK_TOKEN": "xoxb-1",
    "SHOP_SLACK_SIGNING_SECRET": "slack-secret",
}


def test_channels_are_on_when_their_settings_are_set_and_secrets_stay_out_of_repr() -> None:
    assert load_settings({"SHOP_SETTINGS_FILE": ""}).social.enabled() == []
    settings = load_settings({"SHOP_SETTINGS_FILE": "", **ALL})
    assert settings.social.enabled() == ["facebook", "telegram", "twilio", "slack"]
    assert settings.social.twilio is not None and settings.social.twilio.api_url == "https://api.twilio.com"
    shown = repr(settings.social)
    assert not any(ALL[key] in shown for key in ALL if "SECRET" in key or "TOKEN" in key)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SHOP_TELEGRAM_SECRET": ""}, "SHOP_TELEGRAM_SECRET missing"),
        ({"SHOP_TELEGRAM_SECRET": "short"}, "at least 16"),
        ({"SHOP_TELEGRAM_SECRET": "has spaces in it, 0123456789"}, "may hold only"),
        ({"SHOP_TELEGRAM_TOKEN": "not-a-token"}, "SHOP_TELEGRAM_TOKEN"),
        ({"SHOP_TWILIO_PUBLIC_URL": "shop.example.com/hook"}, "SHOP_TWILIO_PUBLIC_URL"),
        ({"SHOP_MESSENGER_VERIFY_TOKEN": "guessable"}, "at least 16"),
        ({"SHOP_SLACK_API_URL": "ftp://x"}, "SHOP_SLACK_API_URL"),
    ],
)
def test_half_configured_or_malformed_channels_are_named_at_start(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"SHOP_SETTINGS_FILE": "", **ALL, **changes})
