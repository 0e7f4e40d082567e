"""The assistant's rich replies, read once for every social channel to draw in its own way.

The actions send product cards as the custom payload
`{"data": {"type": "product_cards", "products": [card, ...]}}` (actions/products.py `card`) to the
channels that draw cards; to the others they send numbered text. The social channels still
understand the cards, so any card that reaches them is shown as the channel can: Messenger generic
templates, Telegram and Slack lists with buttons, WhatsApp/SMS numbered text. Any other custom
payload is meant for the web widget (or unknown) and is not forwarded to a platform's API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.channels.webhooks import Choice, choices_of

NUMBER_REPLY = re.compile(r"\s*#?\s*(\d{1,2})\s*[.)]?\s*")
MAX_CARDS = 10  # Messenger's generic template holds ten; a longer list is not readable in a chat either


@dataclass(frozen=True)
class ProductCard:
    """One product of a product-cards payload, as every channel needs it."""

    title: str
    price_text: str
    url: str
    image: str | None
    in_stock: bool
    buttons: list[Choice]

    def line(self) -> str:
        """The product in one line of text."""
        stock = "" if self.in_stock else " (out of stock)"
        price = f": {self.price_text}" if self.price_text else ""
        return f"{self.title}{price}{stock}"


def _http(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def product_cards(json_message: object) -> list[ProductCard] | None:
    """The products of a product-cards payload, or None when the payload is something else."""
    if not isinstance(json_message, dict):
        return None
    data = json_message.get("data", json_message)
    if not isinstance(data, dict) or data.get("type") != "product_cards" or not isinstance(data.get("products"), list):
        return None
    cards = []
    for product in data["products"][:MAX_CARDS]:
        if not isinstance(product, dict) or not product.get("title"):
            continue
        cards.append(
            ProductCard(
                title=str(product["title"]),
                price_text=str(product.get("price_text") or ""),
                url=_http(product.get("url")) or "",
                image=_http(product.get("image")),
                in_stock=product.get("in_stock") is not False,
                buttons=choices_of(product.get("buttons") or []),
            )
        )
    return cards


def numbered_options(text: str, choices: list[Choice]) -> str:
    """A question with its options as numbered lines, for channels without buttons."""
    lines = [f"{number}. {choice.title}" for number, choice in enumerate(choices, start=1)]
    return "\n".join([text.rstrip(), *lines, "(Reply with a number.)"]) if lines else text


def number_reply(text: str) -> int | None:
    """The option number a customer replied with ("2", "#2", "2."), or None."""
    found = NUMBER_REPLY.fullmatch(text)
    return int(found.group(1)) if found else None


def cards_as_text(heading: str, cards: list[ProductCard]) -> str:
    """Product cards as a numbered list with links."""
    lines = [heading.rstrip()] if heading.strip() else []
    for number, card in enumerate(cards, start=1):
        lines.append(f"{number}. {card.line()}" + (f"\n   {card.url}" if card.url else ""))
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """The text in parts of at most `limit` characters, cut at paragraph or line ends where possible."""
    parts, rest = [], text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts
