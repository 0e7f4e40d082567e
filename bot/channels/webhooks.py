"""What every social channel's webhook shares: refusing and ignoring requests (logged once, masked),
the body size limit, remembering recent deliveries against replays, and reading typed text.

The memories here live in the Rasa process: they are bounded in size and time and are lost on
restart, and several Rasa replicas do not share them (docs/channels.md says what that means).
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sanic import response
from sanic.response import HTTPResponse

from settings import load_settings

logger = logging.getLogger("bot.channels")

MAX_BODY_BYTES = 1_000_000  # a body of 1 MB or more is refused with 413 before it is parsed
INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Cn")
REPLAY_MEMORY_SECONDS = 24 * 3600  # platforms retry for hours at most (Messenger, Telegram ~1 day)
REPLAY_MEMORY_ENTRIES = 100_000
CHOICES_KEPT_SECONDS = 24 * 3600
CHOICE_SENDERS = 20_000
Settings = TypeVar("Settings")


def channel_settings(name: str, label: str, kind: type[Settings]) -> Settings:
    """A channel's SHOP_<NAME>_* settings; an error naming them when credentials.yml lists the channel without."""
    settings = getattr(load_settings().social, name)
    if settings is None:
        raise ValueError(f"{label} is in the credentials but SHOP_{name.upper()}_* settings are not set")
    if not isinstance(settings, kind):
        raise TypeError(f"{label} settings are a {type(settings).__name__}, expected {kind.__name__}")
    return settings


def mask(sender: object) -> str:
    """A sender id or phone number fit for a log line: its kind kept, most digits hidden."""
    text = str(sender or "")
    prefix, sep, rest = text.rpartition(":")
    head = f"{prefix}{sep}" if sep else ""
    if len(rest) <= 4:
        return head + "*" * len(rest)
    return f"{head}{rest[:2]}…{rest[-2:]}"


def refuse(channel: str, status: int, reason: str, sender: object = None) -> HTTPResponse:
    """Answer a request we will not process with a 4xx, logging why once."""
    who = f" from {mask(sender)}" if sender else ""
    logger.warning("%s webhook: refused%s with %d: %s", channel, who, status, reason)
    return response.text(reason if status != 403 else "forbidden", status=status)


def ignore(channel: str, reason: str, sender: object = None, status: int = 200) -> HTTPResponse:
    """Acknowledge a genuine request we do not act on (the platform must not retry it), logging why once."""
    note(channel, reason, sender)
    return response.text("", status=status)


def note(channel: str, reason: str, sender: object = None) -> None:
    """Log one event of a genuine request that is skipped (a batch may carry several)."""
    who = f" from {mask(sender)}" if sender else ""
    logger.info("%s webhook: ignored%s: %s", channel, who, reason)


def too_large(body: bytes | None) -> bool:
    """True for a body of 1 MB or more."""
    return len(body or b"") >= MAX_BODY_BYTES


def typed_text(text: str) -> str:
    """What a customer typed, never read as a command: leading slashes (and the invisible or blank
    characters that could hide one) are dropped, so `/restart` or `/order_status{...}` is words.

    Button clicks reach Rasa as platform postbacks or callbacks, never through here."""
    text = unicodedata.normalize("NFC", text)
    start = 0
    while start < len(text) and (
        text[start] == "/" or text[start].isspace() or unicodedata.category(text[start]) in INVISIBLE
    ):
        start += 1
    return text[start:]


class RecentDeliveries:
    """Ids of deliveries already handled (message ids, update ids, MessageSids, event ids), so a
    replayed or retried request is acknowledged without a second reply. Bounded in count and age."""

    def __init__(
        self,
        seconds: float = REPLAY_MEMORY_SECONDS,
        entries: int = REPLAY_MEMORY_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._entries = entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, delivery_id: str) -> bool:
        """True the first time an id is seen (and remembers it); False for a repeat."""
        now = self._clock()
        while self._seen and (
            len(self._seen) >= self._entries or next(iter(self._seen.values())) < now - self._seconds
        ):
            self._seen.popitem(last=False)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = now
        return True


@dataclass(frozen=True)
class Choice:
    """A button the bot offered: what the customer sees and what Rasa gets when it is picked."""

    title: str
    payload: str


def choices_of(buttons: Sequence[Any]) -> list[Choice]:
    """The well-formed buttons of a reply (a title and a text payload each)."""
    found = []
    for button in buttons:
        if isinstance(button, dict) and isinstance(button.get("payload"), str) and button.get("title"):
            found.append(Choice(title=str(button["title"]), payload=button["payload"]))
    return found


class OfferedChoices:
    """The last set of buttons the bot offered each sender, for channels whose clicks name an option
    (Telegram's callback data, a number typed on WhatsApp/SMS) instead of carrying the payload."""

    def __init__(
        self,
        seconds: float = CHOICES_KEPT_SECONDS,
        senders: int = CHOICE_SENDERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._senders = senders
        self._clock = clock
        self._offers: OrderedDict[str, tuple[float, str, list[Choice]]] = OrderedDict()
        self._counter = 0

    def offer(self, sender: str, choices: list[Choice]) -> str:
        """Remember the choices just sent to a sender; returns the offer's tag (new for every offer)."""
        self._counter += 1
        tag = format(self._counter % 36**4, "x")
        self._offers.pop(sender, None)
        self._offers[sender] = (self._clock(), tag, choices)
        while len(self._offers) > self._senders:
            self._offers.popitem(last=False)
        return tag

    def pick(self, sender: str, number: int, tag: str | None = None) -> Choice | None:
        """The sender's option `number` (from 1) of their latest offer (of the offer `tag`, if given)."""
        offer = self._offers.get(sender)
        if offer is None or offer[0] < self._clock() - self._seconds or (tag is not None and tag != offer[1]):
            return None
        return offer[2][number - 1] if 1 <= number <= len(offer[2]) else None

    def forget(self, sender: str) -> None:
        """Drop the sender's offer (their next message answered something else)."""
        self._offers.pop(sender, None)


async def hand_over(channel: str, on_new_message: Callable[[Any], Awaitable[Any]], message: Any) -> None:
    """Give a verified message to the assistant; a failure there is logged, never turned into a 5xx
    (the platform would retry and the customer would get a second answer)."""
    try:
        await on_new_message(message)
    except Exception as error:  # anything the assistant raises: the webhook still answers
        logger.error(
            "%s webhook: the assistant failed on a message from %s: %s",
            channel,
            mask(getattr(message, "sender_id", None)),
            type(error).__name__,
        )
        logger.debug("%s webhook: the assistant's failure", channel, exc_info=True)


def as_dict(value: object) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one (platform payloads are read defensively)."""
    return value if isinstance(value, dict) else {}
