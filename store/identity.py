"""Proving who a customer is before the assistant shows them anything personal.

Three proofs link a chat user (channel + user id) to a customer, verified:
- a customer token the shop's site signs for its logged-in customer and hands to the web widget:
  `base64url(JSON {"customer_id", "exp"}) + "." + hex HMAC-SHA256 of that part`, with the shop's
  identity secret (settings: SHOP_IDENTITY_SECRET);
- the email address of the account together with the number of one of its orders;
- the email address and a one-time code sent to it (via the outbox the shop's mailer empties):
  six digits, valid for CODE_LIFETIME in the chat that asked for it, CODE_ATTEMPTS tries, only its
  hash stored, at most CODES_PER_HOUR per customer.

Every action that reads personal data asks `verified_customer` itself: a slot can be set by
whoever types, a verified link in the database cannot.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.customers import CHANNELS, CustomerProfile, get_customer, link_identity
from store.errors import StoreError
from store.models import ChannelIdentity, Customer, LoginCode, Order, utcnow
from store.outbox import queue_email
from store.validation import clean_text


class InvalidToken(StoreError):
    """The customer token is malformed, forged or expired."""


class VerificationFailed(StoreError):
    """The email and order number do not belong together (which of them is wrong is not said)."""


def _signature(payload: str, secret: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign_customer_token(customer_id: int, secret: str, valid_for: dt.timedelta, now: dt.datetime | None = None) -> str:
    """A token proving `customer_id` until `now + valid_for` (what the shop's site does at login)."""
    expires = (now or dt.datetime.now(dt.timezone.utc)) + valid_for
    body = json.dumps({"customer_id": customer_id, "exp": int(expires.timestamp())}, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_signature(payload, secret)}"


def read_customer_token(token: str, secret: str, now: dt.datetime | None = None) -> int:
    """The customer id a token proves; InvalidToken when it is malformed, forged or expired."""
    if not isinstance(token, str) or len(token) > 1024 or token.count(".") != 1:
        raise InvalidToken("malformed customer token")
    payload, signature = token.split(".")
    if not hmac.compare_digest(_signature(payload, secret), signature):
        raise InvalidToken("customer token signature does not match")
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        customer_id, expires = int(claims["customer_id"]), float(claims["exp"])
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidToken("malformed customer token") from error
    if expires < (now or dt.datetime.now(dt.timezone.utc)).timestamp():
        raise InvalidToken("customer token has expired")
    return customer_id


def customer_by_email_and_order(session: Session, email: str, order_number: str) -> CustomerProfile:
    """The customer whose account email placed this order; VerificationFailed otherwise."""
    address = (clean_text("email", email, 320) or "").strip().lower()
    number = (clean_text("order number", order_number, 32) or "").strip().upper()
    customer = session.scalars(
        select(Customer)
        .join(Order, Order.customer_id == Customer.id)
        .where(func.lower(Customer.email) == address, Order.number == number)
    ).first()
    if customer is None:
        raise VerificationFailed("that email address and order number do not match an order")
    return get_customer(session, customer.id)


def verified_customer(session: Session, channel: str, channel_user_id: str) -> CustomerProfile | None:
    """The customer this chat user has proven to be, or None."""
    if channel not in CHANNELS or not channel_user_id:
        return None
    identity = session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.channel_user_id == channel_user_id,
            ChannelIdentity.verified.is_(True),
        )
    ).first()
    return get_customer(session, identity.customer_id) if identity else None


def prove_identity(session: Session, customer_id: int, channel: str, channel_user_id: str) -> CustomerProfile:
    """Record that this chat user proved to be the customer (a verified link)."""
    link_identity(session, customer_id, channel, channel_user_id, verified=True)
    return get_customer(session, customer_id)


CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3


def _code_hash(customer_id: int, channel: str, channel_user_id: str, code: str) -> str:
    """The stored form of a code: bound to the customer and the chat it was asked from."""
    return hashlib.sha256(f"{customer_id}:{channel}:{channel_user_id}:{code}".encode()).hexdigest()


def send_login_code(
    session: Session, email: str, channel: str, channel_user_id: str, now: dt.datetime | None = None
) -> bool:
    """Email a one-time code to the account with this address, for this chat user.

    Returns whether a code went out; the caller tells the customer the same either way, so the
    chat never reveals which addresses have accounts. Earlier codes for this chat stop working.
    """
    now = now or utcnow()
    address = (clean_text("email", email, 320) or "").strip().lower()
    customer = session.scalars(select(Customer).where(func.lower(Customer.email) == address)).first()
    if customer is None or not customer.email:
        return False
    recent = session.scalar(
        select(func.count(LoginCode.id)).where(
            LoginCode.customer_id == customer.id, LoginCode.created_at >= now - dt.timedelta(hours=1)
        )
    )
    if (recent or 0) >= CODES_PER_HOUR:
        return False
    for earlier in session.scalars(
        select(LoginCode).where(
            LoginCode.channel == channel, LoginCode.channel_user_id == channel_user_id, LoginCode.used_at.is_(None)
        )
    ):
        earlier.used_at = now  # superseded
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        LoginCode(
            customer_id=customer.id,
            channel=channel,
            channel_user_id=channel_user_id,
            code_hash=_code_hash(customer.id, channel, channel_user_id, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    queue_email(
        session,
        customer.id,
        "Your code for the shop's chat",
        f"Your code is {code}. Type it in the chat where you asked for it; it works for {minutes} minutes. "
        "If you didn't ask for a code, ignore this email: nobody can use it without your chat.",
        now,
    )
    session.flush()
    return True


def check_login_code(
    session: Session, channel: str, channel_user_id: str, code: str, now: dt.datetime | None = None
) -> CustomerProfile | None:
    """The customer proven by this code (and the chat user linked to them), or None.

    A wrong code uses up one attempt; the attempt is recorded, so the caller must commit either way.
    """
    now = now or utcnow()
    pending = session.scalars(
        select(LoginCode)
        .where(
            LoginCode.channel == channel,
            LoginCode.channel_user_id == channel_user_id,
            LoginCode.used_at.is_(None),
            LoginCode.expires_at > now,
            LoginCode.attempts < CODE_ATTEMPTS,
        )
        .order_by(LoginCode.created_at.desc())
    ).first()
    digits = "".join(ch for ch in str(code or "")[:64] if ch.isdigit())
    if pending is None or len(digits) != 6:
        return None
    pending.attempts += 1
    expected = _code_hash(pending.customer_id, channel, channel_user_id, digits)
    if not hmac.compare_digest(expected, pending.code_hash):
        session.flush()
        return None
    pending.used_at = now
    return prove_identity(session, pending.customer_id, channel, channel_user_id)
