"""Price phrases in a customer's words: ranges, upper and lower bounds, amounts.

One reading for both runtimes: the catalog search turns them into filters, the Rasa pipeline
(bot/shop_entities.py) into price_min / price_max / price entities. Standard library only, so it
imports under Python 3.10 (Rasa) and 3.11 (actions) alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

CURRENCY_WORDS = r"dollars?|bucks|quid|pounds?|euros?|usd|eur|gbp"
AMOUNT = rf"(?:[$£€]\s?)?\d{{1,6}}(?:[.,]\d{{1,2}})?(?:\s?(?:[$£€]|{CURRENCY_WORDS})\b)?"
RANGE = re.compile(
    rf"\b(?:between|from)\s+(?P<low>{AMOUNT})\s*(?:and|to|-)\s*(?P<high>{AMOUNT})"
    rf"|(?P<low2>{AMOUNT})\s?(?:-|to)\s?(?P<high2>{AMOUNT})"
    rf"(?=\s*(?:[$£€]|{CURRENCY_WORDS})|\s*$|\s*[.!?,])",
    re.IGNORECASE,
)
MAXIMUM = re.compile(
    rf"(?:\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|no more than|at most|within|budget(?: of| is)?)"
    rf"\s+|<\s*)(?P<amount>{AMOUNT})",
    re.IGNORECASE,
)
MINIMUM = re.compile(
    rf"(?:\b(?:over|above|more than|at least|min(?:imum)?|starting at|from)\s+|>\s*)(?P<amount>{AMOUNT})",
    re.IGNORECASE,
)
PRICE = re.compile(
    rf"(?:[$£€]\s?\d{{1,6}}(?:[.,]\d{{1,2}})?)|\b\d{{1,6}}(?:[.,]\d{{1,2}})?\s?(?:{CURRENCY_WORDS})\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d{1,6}(?:[.,]\d{1,2})?")


@dataclass(frozen=True)
class PricePhrase:
    """One price in the text: `kind` is "min", "max" or "price"; [start, end) covers the amount,
    [phrase_start, phrase_end) the whole phrase ("under $50")."""

    kind: str
    value: float
    start: int
    end: int
    phrase_start: int
    phrase_end: int


def amount(text: str) -> float:
    """The number in an amount ("$12,50" -> 12.5); 0.0 when there is none."""
    match = NUMBER.search(text)
    return float(match.group(0).replace(",", ".")) if match else 0.0


def price_phrases(text: str) -> list[PricePhrase]:
    """Every price phrase, ranges first, then bounds, then bare amounts; no two overlap."""
    found: list[PricePhrase] = []

    def free(start: int, end: int) -> bool:
        return not any(p.phrase_start < end and start < p.phrase_end for p in found)

    for match in RANGE.finditer(text):
        low, high = ("low", "high") if match.group("low") else ("low2", "high2")
        low_value, high_value = amount(match.group(low)), amount(match.group(high))
        if low_value > high_value or not free(match.start(), match.end()):
            continue
        found.append(PricePhrase("min", low_value, *match.span(low), *match.span()))
        found.append(PricePhrase("max", high_value, *match.span(high), *match.span()))
    for pattern, kind in ((MAXIMUM, "max"), (MINIMUM, "min")):
        for match in pattern.finditer(text):
            if free(match.start(), match.end()):
                found.append(PricePhrase(kind, amount(match.group("amount")), *match.span("amount"), *match.span()))
    for match in PRICE.finditer(text):
        if free(match.start(), match.end()):
            found.append(PricePhrase("price", amount(match.group(0)), *match.span(), *match.span()))
    return found


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(amount: float | Decimal, currency: str = "USD") -> str:
    """An amount as customers read it: $12.50, €3.00, 12.50 CHF."""
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    return f"{symbol}{amount:.2f}" if symbol else f"{amount:.2f} {currency}"
