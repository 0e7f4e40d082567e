"""The webhook signature checks of the social channels (bot/channels/verification.py), against
signatures computed the platforms' documented way, and Twilio's against Twilio's own library."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.verification import (
    RequestNotVerified,
    slack_signature,
    twilio_signature,
    verify_messenger,
    verify_slack,
    verify_telegram,
    verify_twilio,
)

APP_SECRET = "messenger-app-secret"
BODY = json.dumps({"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}}]}]}).encode()


def hub_signature(body: bytes, secret: str = APP_SECRET, method: str = "sha256") -> str:
    return f"{method}=" + hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()


def test_messenger_accepts_the_sha256_signature_of_the_raw_body() -> None:
    verify_messenger(APP_SECRET, BODY, hub_signature(BODY))
    verify_messenger(APP_SECRET, BODY, hub_signature(BODY).upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no X-Hub-Signature-256"),
        ("", "no X-Hub-Signature-256"),
        (hub_signature(BODY, method="sha1"), "not sha256"),  # the old header's format: not accepted here
        ("sha256=", "not sha256"),
        (hub_signature(BODY, secret="another-secret"), "does not match"),
        (hub_signature(BODY + b" "), "does not match"),  # a tampered body
        ("sha256=" + "é" * 64, "does not match"),
    ],
)
def test_messenger_refuses_missing_old_wrong_and_tampered_signatures(header: str | None, reason: str) -> None:
    with pytest.raises(RequestNotVerified, match=reason):
        verify_messenger(APP_SECRET, BODY, header)


def test_telegram_secret_token_must_match_exactly() -> None:
    verify_telegram("s3cret-token_0123456789", "s3cret-token_0123456789")
    for header in (None, "", "s3cret-token_012345678", "s3cret-token_0123456789 ", "S3CRET-token_0123456789"):
        with pytest.raises(RequestNotVerified):
            verify_telegram("s3cret-token_0123456789", header)


TWILIO_TOKEN = "twilio-auth-token"
TWILIO_URL = "https://shop.example.com/webhooks/twilio/webhook"
FORM = [
    ("MessageSid", "SM123"),
    ("From", "whatsapp:+15550001111"),
    ("To", "whatsapp:+15552223333"),
    ("Body", "where is my order?"),
    ("NumMedia", "0"),
]


def test_twilio_signature_is_the_one_twilios_library_computes() -> None:
    expected = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, dict(FORM))
    assert twilio_signature(TWILIO_TOKEN, TWILIO_URL, FORM) == expected
    verify_twilio(TWILIO_TOKEN, TWILIO_URL, FORM, expected)


def test_twilio_refuses_a_signature_over_another_url_or_changed_parameters() -> None:
    good = twilio_signature(TWILIO_TOKEN, TWILIO_URL, FORM)
    with pytest.raises(RequestNotVerified, match="no X-Twilio-Signature"):
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, FORM, None)
    with pytest.raises(RequestNotVerified, match="does not match"):  # signed for the address behind the proxy
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, FORM, twilio_signature(TWILIO_TOKEN, "http://127.0.0.1:5005/x", FORM))
    tampered = [(k, "+15559999999" if k == "From" else v) for k, v in FORM]
    with pytest.raises(RequestNotVerified, match="does not match"):
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, tampered, good)
    with pytest.raises(RequestNotVerified, match="does not match"):
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, [*FORM, ("Extra", "1")], good)
    with pytest.raises(RequestNotVerified, match="does not match"):
        verify_twilio("another-token", TWILIO_URL, FORM, good)


SIGNING_SECRET = "slack-signing-secret"


def slack_headers(body: bytes, timestamp: int) -> tuple[str, str]:
    base = f"v0:{timestamp}:".encode() + body
    return str(timestamp), "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def test_slack_accepts_a_fresh_v0_signature() -> None:
    now = time.time()
    timestamp, signature = slack_headers(BODY, int(now) - 10)
    assert slack_signature(SIGNING_SECRET, timestamp, BODY) == signature
    verify_slack(SIGNING_SECRET, BODY, timestamp, signature, now)


def test_slack_refuses_requests_outside_the_five_minute_window_even_when_signed() -> None:
    now = time.time()
    for offset in (-301, 301, -3600):
        timestamp, signature = slack_headers(BODY, int(now) + offset)
        with pytest.raises(RequestNotVerified, match="5-minute window"):
            verify_slack(SIGNING_SECRET, BODY, timestamp, signature, now)
    timestamp, signature = slack_headers(BODY, int(now) - 299)
    verify_slack(SIGNING_SECRET, BODY, timestamp, signature, now)


@pytest.mark.parametrize("case", ["no signature", "no timestamp", "not a number", "tampered", "other timestamp"])
def test_slack_refuses_missing_malformed_and_tampered_requests(case: str) -> None:
    now = time.time()
    timestamp, signature = slack_headers(BODY, int(now))
    body = BODY
    headers: tuple[str | None, str | None] = (timestamp, signature)
    if case == "no signature":
        headers = (timestamp, None)
    elif case == "no timestamp":
        headers = (None, signature)
    elif case == "not a number":
        headers = ("12e3", signature)
    elif case == "tampered":
        body = BODY.replace(b'"1"', b'"2"')
    else:
        headers = (str(int(now) - 1), signature)
    with pytest.raises(RequestNotVerified):
        verify_slack(SIGNING_SECRET, body, headers[0], headers[1], now)
