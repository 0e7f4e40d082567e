"""Settings of the social channels (Messenger, Telegram, WhatsApp/SMS via Twilio, Slack).

A channel is on when its secrets are set, and then all of them must be: half a configuration is a
mistake we name at start rather than a channel that silently rejects every request. The API base
URLs exist for the tests, which point the outbound calls at local fake servers.

Stdlib only and Python 3.10-compatible, like the rest of settings/.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# Telegram accepts 1-256 of these characters as a webhook's secret token.
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
MIN_SECRET_CHARACTERS = 16  # our own verify token and Telegram secret: guessable ones are refused


class ChannelSettingsError(ValueError):
    """A social channel is half configured or a value is malformed (re-raised as SettingsError)."""


@dataclass(frozen=True)
class MessengerSettings:
    """Facebook Messenger: the app secret signs every webhook (X-Hub-Signature-256). Secrets stay out of repr()."""

    app_secret: str = field(repr=False)
    page_access_token: str = field(repr=False)
    verify_token: str = field(repr=False)
    api_url: str


@dataclass(frozen=True)
class TelegramSettings:
    """Telegram: the secret is registered with the webhook and comes back in every update's header."""

    token: str = field(repr=False)
    secret: str = field(repr=False)
    webhook_url: str
    api_url: str


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio (WhatsApp and SMS): requests are signed over the public URL Twilio posts to."""

    account_sid: str
    auth_token: str = field(repr=False)
    number: str
    public_url: str
    api_url: str


@dataclass(frozen=True)
class SlackSettings:
    """Slack: requests are signed with the app's signing secret and a timestamp."""

    token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    api_url: str


@dataclass(frozen=True)
class SocialChannels:
    """The social channels that are switched on (None: off)."""

    messenger: MessengerSettings | None = None
    telegram: TelegramSettings | None = None
    twilio: TwilioSettings | None = None
    slack: SlackSettings | None = None

    def enabled(self) -> list[str]:
        """Names of the channels that are on, as Rasa names their webhooks."""
        names = {"facebook": self.messenger, "telegram": self.telegram, "twilio": self.twilio, "slack": self.slack}
        return [name for name, value in names.items() if value is not None]


def _http_url(values: Mapping[str, str], key: str, default: str) -> str:
    raw = values.get(key, default).strip()
    if not raw.startswith(("http://", "https://")) or any(ch.isspace() for ch in raw):
        raise ChannelSettingsError(f"{key} must be an http(s) address without spaces, got {raw!r}")
    return raw.rstrip("/")


def _group(values: Mapping[str, str], required: tuple[str, ...]) -> dict[str, str] | None:
    """The group's values when every one is set, None when none is; an error when only some are."""
    present = {key: values.get(key, "").strip() for key in required}
    if not any(present.values()):
        return None
    missing = [key for key, value in present.items() if not value]
    if missing:
        given = ", ".join(key for key, value in present.items() if value)
        raise ChannelSettingsError(f"{given} set but {', '.join(missing)} missing: set all of them or none")
    return present


def _strong(key: str, value: str) -> str:
    if len(value) < MIN_SECRET_CHARACTERS:
        raise ChannelSettingsError(f"{key} must be at least {MIN_SECRET_CHARACTERS} characters long")
    return value


def _messenger(values: Mapping[str, str]) -> MessengerSettings | None:
    group = _group(values, ("SHOP_MESSENGER_APP_SECRET", "SHOP_MESSENGER_PAGE_ACCESS_TOKEN",
                            "SHOP_MESSENGER_VERIFY_TOKEN"))  # fmt: skip
    if group is None:
        return None
    return MessengerSettings(
        app_secret=group["SHOP_MESSENGER_APP_SECRET"],
        page_access_token=group["SHOP_MESSENGER_PAGE_ACCESS_TOKEN"],
        verify_token=_strong("SHOP_MESSENGER_VERIFY_TOKEN", group["SHOP_MESSENGER_VERIFY_TOKEN"]),
        api_url=_http_url(values, "SHOP_MESSENGER_API_URL", "https://graph.facebook.com/v18.0"),
    )


def _telegram(values: Mapping[str, str]) -> TelegramSettings | None:
    group = _group(values, ("SHOP_TELEGRAM_TOKEN", "SHOP_TELEGRAM_SECRET", "SHOP_TELEGRAM_WEBHOOK_URL"))
    if group is None:
        return None
    if not TELEGRAM_SECRET.fullmatch(group["SHOP_TELEGRAM_SECRET"]):
        raise ChannelSettingsError("SHOP_TELEGRAM_SECRET may hold only A-Z, a-z, 0-9, _ and - (at most 256)")
    if not TELEGRAM_TOKEN.fullmatch(group["SHOP_TELEGRAM_TOKEN"]):
        raise ChannelSettingsError("SHOP_TELEGRAM_TOKEN must look like 123456789:AA... (from @BotFather)")
    return TelegramSettings(
        token=group["SHOP_TELEGRAM_TOKEN"],
        secret=_strong("SHOP_TELEGRAM_SECRET", group["SHOP_TELEGRAM_SECRET"]),
        webhook_url=_http_url(values, "SHOP_TELEGRAM_WEBHOOK_URL", ""),
        api_url=_http_url(values, "SHOP_TELEGRAM_API_URL", "https://api.telegram.org"),
    )


def _twilio(values: Mapping[str, str]) -> TwilioSettings | None:
    group = _group(values, ("SHOP_TWILIO_ACCOUNT_SID", "SHOP_TWILIO_AUTH_TOKEN", "SHOP_TWILIO_NUMBER",
                            "SHOP_TWILIO_PUBLIC_URL"))  # fmt: skip
    if group is None:
        return None
    _http_url(values, "SHOP_TWILIO_PUBLIC_URL", "")
    return TwilioSettings(
        account_sid=group["SHOP_TWILIO_ACCOUNT_SID"],
        auth_token=group["SHOP_TWILIO_AUTH_TOKEN"],
        number=group["SHOP_TWILIO_NUMBER"],
        # exactly as configured at Twilio (a trailing slash included): Twilio signs this address
        public_url=group["SHOP_TWILIO_PUBLIC_URL"],
        api_url=_http_url(values, "SHOP_TWILIO_API_URL", "https://api.twilio.com"),
    )


def _slack(values: Mapping[str, str]) -> SlackSettings | None:
    group = _group(values, ("SHOP_SLACK_TOKEN", "SHOP_SLACK_SIGNING_SECRET"))
    if group is None:
        return None
    return SlackSettings(
        token=group["SHOP_SLACK_TOKEN"],
        signing_secret=group["SHOP_SLACK_SIGNING_SECRET"],
        api_url=_http_url(values, "SHOP_SLACK_API_URL", "https://slack.com/api"),
    )


def read_social_channels(values: Mapping[str, str]) -> SocialChannels:
    """Which social channels are on, and their settings."""
    return SocialChannels(
        messenger=_messenger(values), telegram=_telegram(values), twilio=_twilio(values), slack=_slack(values)
    )
