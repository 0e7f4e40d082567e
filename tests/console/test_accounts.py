"""Accounts, sessions, CSRF and the login rate limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from console.models import AuditEntry, ConversationTag, Note, StaffSession, StaffUser
from console.security import create_user
from settings import PROJECT_ROOT
from store.database import ShopDatabase
from tests.console.conftest import PASSWORD, ROLE_USERS, Console, csrf_of, log_in


def _login(client: TestClient, email: str, password: str) -> int:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}).status_code


def test_create_admin_cli_stores_an_argon2_hash_and_the_admin_can_log_in(tmp_path: Path) -> None:
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path), "CONSOLE_ADMIN_PASSWORD": "first admin password"}
    env.pop("SHOP_DATABASE_URL", None)
    command = [sys.executable, "-m", "console", "create-admin", "--email", " Boss@Example.COM "]
    created = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    assert "created admin boss@example.com" in created.stdout
    again = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "already an account" in again.stderr and "Traceback" not in again.stderr
    short = subprocess.run(
        [sys.executable, "-m", "console", "create-admin", "--email", "x@example.com"],
        env={**env, "CONSOLE_ADMIN_PASSWORD": "short"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    db = ShopDatabase(f"sqlite:///{tmp_path / 'shop.db'}")
    with db.transaction() as session:
        (admin,) = session.scalars(select(StaffUser)).all()
        assert admin.role == "admin" and admin.password_hash.startswith("$argon2id$")
        assert "first admin password" not in admin.password_hash
    db.dispose()


def test_login_sets_a_hardened_session_cookie_and_logout_kills_it(console: Console) -> None:
    client = TestClient(console.app, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": ROLE_USERS["agent"], "password": PASSWORD, "csrf_token": token, "next": "/admin/audit"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/audit"
    cookie_header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("console_session="))
    assert "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header and "Secure" in cookie_header
    copied = client.cookies.get("console_session")
    page = client.get("/conversations")
    assert page.status_code == 200 and "agent@example.com" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    thief = TestClient(console.app, base_url="https://testserver", follow_redirects=False)
    thief.cookies.set("console_session", copied or "")
    assert thief.get("/conversations").status_code == 303  # the session row is gone: the copied cookie is worthless


def test_plain_http_cookie_is_not_secure_and_forged_cookies_are_ignored(console: Console) -> None:
    client = console.client()
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": ROLE_USERS["admin"], "password": PASSWORD, "csrf_token": token})
    cookie_header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("console_session="))
    assert "Secure" not in cookie_header and "HttpOnly" in cookie_header
    forger = console.client()
    forger.cookies.set("console_session", "InNvbWV0aGluZyI.forged.signature")
    assert forger.get("/conversations").status_code == 303


def test_wrong_passwords_unknown_emails_and_disabled_accounts_are_refused_alike(console: Console) -> None:
    client = console.client()
    assert _login(client, ROLE_USERS["admin"], "not the password") == 401
    assert _login(client, "nobody@example.com", PASSWORD) == 401
    with console.state.db.transaction() as session:
        create_user(session, "gone@example.com", PASSWORD, "agent").active = False
    assert _login(client, "gone@example.com", PASSWORD) == 401
    assert "console_session" not in client.cookies
    with console.state.db.transaction() as session:
        failures = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login_failed")
        )
        assert failures == 3


def test_login_without_its_csrf_token_is_refused(console: Console) -> None:
    client = console.client()
    client.get("/login")
    response = client.post("/login", data={"email": ROLE_USERS["admin"], "password": PASSWORD, "csrf_token": "guess"})
    assert response.status_code == 403 and "console_session" not in client.cookies
    other = console.client()  # a token from someone else's form does not match this browser's cookie
    stolen = csrf_of(other.get("/login").text)
    fresh = console.client()
    response = fresh.post("/login", data={"email": ROLE_USERS["admin"], "password": PASSWORD, "csrf_token": stolen})
    assert response.status_code == 403


def test_login_attempts_are_rate_limited_per_account_then_per_address(console: Console) -> None:
    client = console.client()
    for _ in range(5):
        assert _login(client, ROLE_USERS["agent"], "wrong password!") == 401
    # the account is locked now, even for the right password
    assert _login(client, ROLE_USERS["agent"], PASSWORD) == 429
    # other accounts from the same address still work until the address has used up its attempts
    assert _login(console.client(), ROLE_USERS["annotator"], PASSWORD) == 303
    for number in range(14):
        assert _login(client, f"guess{number}@example.com", "wrong password!") == 401
    assert _login(client, "guess-last@example.com", "wrong password!") == 401
    assert _login(console.client(), ROLE_USERS["admin"], PASSWORD) == 429  # 20 failures from this address


def test_open_redirects_after_login_are_refused(console: Console) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = console.client()
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"email": ROLE_USERS["admin"], "password": PASSWORD, "csrf_token": token, "next": target}
        )
        assert response.headers["location"] == "/conversations"


def test_every_post_needs_the_sessions_csrf_token(console: Console) -> None:
    client = console.client()
    log_in(client, ROLE_USERS["admin"])
    posts = [
        ("/tags/alice-web", {"name": "csrf"}),
        ("/notes/alice-web", {"body": "csrf"}),
        ("/review/alice-web", {"status": "reviewed"}),
        ("/reveal/alice-web", {"reason": "csrf"}),
        ("/filters", {"name": "csrf", "query": "channel=rest"}),
        ("/admin/users", {"email": "csrf@example.com", "password": PASSWORD, "role": "admin"}),
        ("/admin/customers/erase", {"customer_id": str(console.alice_customer_id), "confirm": "1"}),
        ("/logout", {}),
    ]
    other = console.client()
    foreign_token = log_in(other, ROLE_USERS["agent"])  # valid, but another session's
    for path, form in posts:
        for token in (None, "", "forged", foreign_token):
            data = form if token is None else {**form, "csrf_token": token}
            response = client.post(path, data=data)
            assert response.status_code == 403, f"{path} with token {token!r}"
    with console.state.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ConversationTag)) == 0
        assert session.scalar(select(func.count()).select_from(Note)) == 0
        assert session.scalar(select(StaffUser.id).where(StaffUser.email == "csrf@example.com")) is None
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reveal_pii")) == 0
        )
    assert client.get("/conversations").status_code == 200  # still logged in: logout without a token did nothing


def test_a_requests_writes_are_committed_before_its_response_starts(console: Console) -> None:
    """A browser follows the login redirect at once: the session must already be in the database then."""
    browser = console.client()
    token = csrf_of(browser.get("/login").text)
    login_cookie = browser.cookies.get("console_login_csrf") or ""
    body = urlencode({"email": ROLE_USERS["agent"], "password": PASSWORD, "csrf_token": token}).encode()
    sessions_at_response_start: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 303
            with console.state.db.transaction() as session:  # another connection, as the next request would use
                sessions_at_response_start.append(session.scalar(select(func.count()).select_from(StaffSession)) or 0)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"console_login_csrf={login_cookie}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with TestClient(console.app):  # runs the app's startup, as a server would
        asyncio.run(console.app(scope, receive, send))  # type: ignore[arg-type]
    assert sessions_at_response_start == [1]
