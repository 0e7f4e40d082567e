"""Logging in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import audit
from console.models import ROLES
from console.security import CurrentUser, authenticate
from console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    DbSession,
    client_ip,
    logger,
    optional_user,
    post_by,
    render,
    state_of,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only paths on this site: `next=//evil.example` or `next=https://...` would send staff elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/conversations"


def _login_page(request: Request, error: str | None, status: int, next_url: str) -> Response:
    token, cookie = state_of(request).cookies.login_form_token()
    response = render(request, "login.html", status=status, error=error, csrf_token=token, next_url=next_url)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        cookie,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.get("/login", name="login_form")
def login_form(
    request: Request,
    user: Annotated[CurrentUser | None, Depends(optional_user)],
    next_url: Annotated[str, Query(alias="next", max_length=2000)] = "",
) -> Response:
    """The login form (logged-in users go straight on)."""
    if user is not None:
        return RedirectResponse(_safe_next(next_url), status_code=303)
    return _login_page(request, None, 200, _safe_next(next_url))


@router.post("/login", name="login")
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """Check the password (rate-limited per account and per address) and start a session."""
    state, ip = state_of(request), client_ip(request)
    if not state.cookies.login_form_token_valid(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        logger.warning("login refused: CSRF token missing or wrong (from %s)", ip)
        return _login_page(request, "The form expired; please try again.", 403, _safe_next(next_url))
    if state.rate_limit.blocked(email, ip):
        logger.warning("login refused: too many failed attempts (from %s)", ip)
        return _login_page(
            request, "Too many failed attempts. Wait 15 minutes and try again.", 429, _safe_next(next_url)
        )
    user = authenticate(session, email, password)
    if user is None:
        state.rate_limit.failed(email, ip)
        audit.record(session, email.strip().lower()[:320] or "-", "login_failed", ip=ip)
        logger.info("failed login (from %s)", ip)
        return _login_page(request, "Wrong email or password.", 401, _safe_next(next_url))
    state.rate_limit.succeeded(email)
    cookie = state.cookies.start(session, user)
    audit.record(session, user.email, "login", ip=ip)
    response = RedirectResponse(_safe_next(next_url), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", name="logout")
def logout(request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(post_by(*ROLES))]) -> Response:
    """End the session (its row is deleted, so a copied cookie stops working too)."""
    state_of(request).cookies.end(session, user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
