"""PII masking for logs and the console."""

import pytest

from store.masking import mask_pii


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to jane.doe+shop@example.co.uk please", "write to [email] please"),
        ("card 4111 1111 1111 1111 exp 12/29", "card [card ending 1111] exp 12/29"),
        ("card 4111-1111-1111-1111", "card [card ending 1111]"),
        ("call +44 20 7946 0958 or 07700 900123", "call [phone] or [phone]"),
        ("ship to 221B Baker Street, London", "ship to [address], London"),
        ("12 Mill Road and 3 Harbour Way", "[address] and [address]"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order SO-100234 of 3 items for $45.20",
        "not a card 1234 5678 9012 3456",  # fails the Luhn check
        "delivered on 2026-11-27 at 10:30, or 27/11/2026",
        "size 42, 2 pairs",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from store.masking import MaskPersonalData

    logger = logging.getLogger("shop.test")
    caplog.handler.addFilter(MaskPersonalData())
    logger.warning("customer %s wrote from %s", "jane@example.com", "+44 20 7946 0958")
    assert caplog.messages == ["customer [email] wrote from [phone]"]
