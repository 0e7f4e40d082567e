"""What staff see by default: the store's PII masking (store/masking.py) plus order numbers and names.

The store masks emails, card numbers, phone numbers and street addresses in logs; on a screen we
also hide order numbers and the customer's name (the linked customer's, and whatever follows "my
name is"). Revealing the original needs a role and leaves an audit entry (console/routes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from store.masking import mask_pii

ORDER_NUMBER = re.compile(r"\bSO-\d{4,}\b|#\d{4,}\b|\b(?i:order)\s+(?:number\s+)?#?\d{4,}\b", re.IGNORECASE)
# a capitalised word or two after "my name is": the phrase in any case, the name itself capitalised
SELF_NAMED = re.compile(r"\b((?i:my name is|my name's|i am called|call me|name:)\s+)([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)")
# entities whose value is personal by nature; others (product, colour, price) stay visible
PERSONAL_ENTITIES = frozenset({"email", "phone", "order_id", "name", "person", "address", "postcode"})


def _order(match: re.Match[str]) -> str:
    return "[order]"


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """The text with personal data replaced by placeholders ([email], [phone], [order], [name], ...)."""
    masked = mask_pii(text)
    masked = ORDER_NUMBER.sub(_order, masked)
    masked = SELF_NAMED.sub(lambda m: m.group(1) + "[name]", masked)
    for name in names:
        for part in {name, *name.split()}:
            if len(part) >= 2:
                masked = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "[name]", masked, flags=re.IGNORECASE)
    return masked


def mask_entity_value(entity: str, value: str, names: Iterable[str] = ()) -> str:
    """An entity's value as shown: personal kinds hidden whole, others masked like text."""
    if entity in PERSONAL_ENTITIES:
        return f"[{entity}]"
    return mask_text(value, names)
