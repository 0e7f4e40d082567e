"""Passwords, sessions, CSRF tokens and the login rate limit: the console's security primitives."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.models import ROLES, StaffSession, StaffUser
from store.models import utcnow

SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# verified against when the email is unknown, so a wrong email takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def hash_password(password: str) -> str:
    """An argon2id hash of the password (salted, with the library's current cost parameters)."""
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password matches the hash; an absent hash costs the same time and never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def create_user(session: Session, email: str, password: str, role: str) -> StaffUser:
    """A new member of staff; refuses unknown roles, short passwords and taken emails."""
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise AccountError("the email address is not valid")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise AccountError(f"there is already an account for {email}")
    user = StaffUser(email=email, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The active account with this email and password, or None (same time either way)."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    ok = password_matches(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CurrentUser:
    """Who is logged in on this request, and the CSRF token their forms carry."""

    id: int
    email: str
    role: str
    csrf_token: str
    session_hash: str


class SessionCookies:
    """Signs and reads the session cookie; the session itself (user, CSRF token, expiry) lives in the database."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="console-session")
        self._login_serializer = URLSafeTimedSerializer(secret, salt="console-login-csrf")

    def start(self, session: Session, user: StaffUser) -> str:
        """A new session for the user; returns the cookie value (a signed random id)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            StaffSession(
                id_hash=_digest(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        return self._serializer.dumps(token)

    def read(self, session: Session, cookie: str | None) -> CurrentUser | None:
        """The logged-in user for a cookie; None when it is missing, forged, expired or the account disabled."""
        if not cookie:
            return None
        try:
            token = self._serializer.loads(cookie, max_age=int(SESSION_LIFETIME.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(token, str):
            return None
        row = session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id_hash == _digest(token))
        ).first()
        if row is None:
            return None
        staff_session, user = row
        if staff_session.expires_at < utcnow() or not user.active:
            return None
        return CurrentUser(user.id, user.email, user.role, staff_session.csrf_token, staff_session.id_hash)

    @staticmethod
    def end(session: Session, user: CurrentUser) -> None:
        """Log out: the session row goes, so the cookie is worthless even if it was copied."""
        session.execute(delete(StaffSession).where(StaffSession.id_hash == user.session_hash))

    def login_form_token(self) -> tuple[str, str]:
        """A CSRF token for the login form and the signed cookie that vouches for it (double submit)."""
        token = secrets.token_urlsafe(24)
        return token, self._login_serializer.dumps(token)

    def login_form_token_valid(self, cookie: str | None, submitted: str | None) -> bool:
        """Whether the login form's token matches the one in its signed cookie (at most an hour old)."""
        if not cookie or not submitted:
            return False
        try:
            expected = self._login_serializer.loads(cookie, max_age=3600)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, submitted)


def csrf_valid(user: CurrentUser, submitted: str | None) -> bool:
    """Whether a form's CSRF token is this session's."""
    return bool(submitted) and hmac.compare_digest(user.csrf_token, submitted or "")


class LoginRateLimit:
    """At most `per_account` failed logins per account and `per_ip` per address in a sliding window.

    Kept in memory: the console is one process, and a restart only forgives what a window would.
    """

    def __init__(self, per_account: int = 5, per_ip: int = 20, window_seconds: float = 900.0) -> None:
        self.per_account, self.per_ip, self.window = per_account, per_ip, window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, email: str, ip: str) -> bool:
        """Whether this account or this address has used up its failed attempts."""
        now = time.monotonic()
        with self._lock:
            return (
                len(self._recent(f"account:{normalise_email(email)}", now)) >= self.per_account
                or len(self._recent(f"ip:{ip}", now)) >= self.per_ip
            )

    def failed(self, email: str, ip: str) -> None:
        """Count a failed attempt against the account and the address."""
        now = time.monotonic()
        with self._lock:
            self._recent(f"account:{normalise_email(email)}", now).append(now)
            self._recent(f"ip:{ip}", now).append(now)

    def succeeded(self, email: str) -> None:
        """A correct password clears the account's count (not the address's)."""
        with self._lock:
            self._failures.pop(f"account:{normalise_email(email)}", None)
