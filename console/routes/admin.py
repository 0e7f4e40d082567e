"""Admin screens: staff accounts, the audit log, and a customer's data rights (export, erasure)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete, select

from console import audit
from console.models import ROLES, StaffSession, StaffUser
from console.security import AccountError, CurrentUser, create_user
from console.web import ConsoleError, DbSession, client_ip, post_by, render, require, state_of
from store.conversations import ConversationStore
from store.errors import CustomerNotFound
from store.privacy import erase_customer, export_customer

router = APIRouter(prefix="/admin")
ADMIN = "admin"


@router.get("/users", name="users")
def users(request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(ADMIN))]) -> Response:
    """Staff accounts and the form to add one."""
    accounts = session.scalars(select(StaffUser).order_by(StaffUser.email))
    return render(request, "users.html", user=user, accounts=list(accounts), roles=ROLES, error=None)


@router.post("/users", name="create_user")
def add_user(
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(ADMIN))],
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Create a staff account with a role."""
    try:
        created = create_user(session, email, password, role)
    except AccountError as error:
        raise ConsoleError(400, str(error)) from None
    audit.record(session, user.email, "create_user", target=created.email, detail=role, ip=client_ip(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/disable", name="disable_user")
def disable_user(
    user_id: int, request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(post_by(ADMIN))]
) -> Response:
    """Disable an account and end its sessions (an admin cannot lock themselves out)."""
    account = session.get(StaffUser, user_id)
    if account is None:
        raise ConsoleError(404, "No such account.")
    if account.id == user.id:
        raise ConsoleError(400, "You cannot disable your own account.")
    account.active = False
    session.execute(delete(StaffSession).where(StaffSession.user_id == account.id))
    audit.record(session, user.email, "disable_user", target=account.email, ip=client_ip(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit", name="audit_log")
def audit_log(request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(ADMIN))]) -> Response:
    """The latest sensitive actions."""
    return render(request, "audit.html", user=user, entries=audit.recent(session))


def _customer_id(raw: str) -> int:
    if not raw.strip().isdigit():
        raise ConsoleError(400, "The customer id must be a number.")
    return int(raw)


@router.post("/customers/export", name="export_customer")
def export(
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(ADMIN))],
    customer_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Everything held about a customer, as a JSON download (audited)."""
    number = _customer_id(customer_id)
    conversations = ConversationStore(state_of(request).config.tracker_database_url)
    try:
        data = export_customer(session, number, conversations)
    except CustomerNotFound:
        raise ConsoleError(404, "No such customer.") from None
    finally:
        conversations.dispose()
    audit.record(session, user.email, "export_customer", target=f"customer {number}", ip=client_ip(request))
    return Response(
        json.dumps(data, indent=2, default=str),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="customer-{number}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/customers/erase", name="erase_customer")
def erase(
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(ADMIN))],
    customer_id: Annotated[str, Form(max_length=20)] = "",
    confirm: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Erase a customer through the store's erasure (their conversations leave the console with them)."""
    number = _customer_id(customer_id)
    if confirm != str(number):
        raise ConsoleError(400, "Type the customer id again in the confirmation box to erase.")
    conversations = ConversationStore(state_of(request).config.tracker_database_url)
    try:
        report = erase_customer(session, number, conversations)
    except CustomerNotFound:
        raise ConsoleError(404, "No such customer.") from None
    finally:
        conversations.dispose()
    audit.record(
        session, user.email, "erase_customer", target=f"customer {number}", detail=json.dumps(report.__dict__),
        ip=client_ip(request),
    )  # fmt: skip
    return RedirectResponse("/admin/audit", status_code=303)
