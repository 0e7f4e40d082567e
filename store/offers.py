"""Offers by customer segment: what the assistant may offer whom.

A shop edits this table: one offer per segment the store keeps (store.models.Customer.segment),
and the offer for visitors who have not said who they are. Codes are checked by the shop's checkout,
not here; the assistant only tells the right customer about the right offer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Offer:
    """An offer in words, and its code if it needs one."""

    text: str
    code: str | None = None


SEGMENT_OFFERS = {
    "new": Offer("10% off your first order with the code WELCOME10", "WELCOME10"),
    "regular": Offer("free standard shipping on your next order with the code THANKYOU", "THANKYOU"),
    "vip": Offer("free express shipping on every order and early access to our sales"),
}
VISITOR_OFFER = SEGMENT_OFFERS["new"]
# what is true for everyone, said with any offer
RULES = "One code per order; we don't price-match other shops."


def offer_for(segment: str | None) -> Offer:
    """The offer for a customer's segment (a visitor's when unknown or not in the table)."""
    return SEGMENT_OFFERS.get(segment or "", VISITOR_OFFER)
