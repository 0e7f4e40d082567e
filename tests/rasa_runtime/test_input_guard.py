"""InputGuard: whatever a channel delivers becomes text the pipeline can parse safely."""

import pytest

from bot.input_guard import clean_text

BUTTONS = frozenset({"order_status", "faq", "out_of_scope", "restart", "add_to_cart"})
ENTITIES = {"add_to_cart": frozenset({"product_id"})}


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  hello \n there\t", "hello   there"),
        ("\x00\x07where\x1b is my\u200b order", "where is my order"),  # control and format characters
        ("e\u0301te\u0301", "\u00e9t\u00e9"),  # NFC
        ("/order_status", "/order_status"),  # a button we sent
        ("/restart", "restart"),  # session commands are never typed in
        ("/session_start", "session_start"),
        ('/order_status{"order_id": "SO-100001"}', 'order_status{"order_id": "SO-100001"}'),  # no injected entities
        ("/unknown_intent", "unknown_intent"),
        ("//faq", "faq"),
        ("😀😀", "😀😀 nowords"),
        ("???", "??? nowords"),
        ("", "nowords"),
        ("   ", "nowords"),
        ("\x00", "nowords"),
        ('/add_to_cart{"product_id":"P00301"}', '/add_to_cart{"product_id":"P00301"}'),  # a product card button
        ('/add_to_cart{"product_id":"P1","order_id":"SO-1"}', 'add_to_cart{"product_id":"P1","order_id":"SO-1"}'),
        ('/add_to_cart{"product_id":"P1 OR 1=1"}', 'add_to_cart{"product_id":"P1 OR 1=1"}'),
        ('/add_to_cart{"product_id":7}', 'add_to_cart{"product_id":7}'),
        ("/add_to_cart{not json}", "add_to_cart{not json}"),
        ("/add_to_cart{}", "add_to_cart{}"),
    ],
)
def test_clean_text(raw: str, cleaned: str) -> None:
    assert clean_text(raw, 2000, BUTTONS, ENTITIES) == cleaned


def test_long_messages_are_cut() -> None:
    assert clean_text("ab " * 5000, 2000, BUTTONS) == ("ab " * 5000).strip()[:2000]
