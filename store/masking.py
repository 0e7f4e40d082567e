"""Mask personal data in free text before it reaches a log or a screen that does not need it."""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by spaces or dashes: checked with Luhn before masking
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
# international or national phone numbers: optional +, 8-15 digits with separators
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ()./-]{6,}\d(?!\w)")
STREET = re.compile(
    r"\b\d{1,5}[a-zA-Z]?\s+(?:[A-Z][a-z]+\s+){0,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Close|Court|Ct|Place|Pl|Boulevard|Blvd|Square|Sq)\b\.?"
)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"[card ending {digits[-4:]}]" if _luhn_valid(digits) else match.group(0)


DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def _mask_phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = re.sub(r"\D", "", found)
    if DATE.fullmatch(found.strip()) or not 8 <= len(digits) <= 15:
        return found
    return "[phone]"


class MaskPersonalData(logging.Filter):
    """A logging filter that masks personal data in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_pii_in_logs(logger: logging.Logger | None = None) -> None:
    """Mask personal data in everything the logger's handlers write (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())


def mask_pii(text: str) -> str:
    """The text with emails, card numbers, phone numbers and street addresses replaced by placeholders."""
    text = EMAIL.sub("[email]", text)
    text = CARD.sub(_mask_card, text)
    text = PHONE.sub(_mask_phone, text)
    return STREET.sub("[address]", text)
