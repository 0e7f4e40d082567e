"""The audit log: who revealed personal data, exported or erased it, or changed accounts, and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import AuditEntry

SENSITIVE_ACTIONS = (
    "reveal_pii",
    "export_customer",
    "erase_customer",
    "create_user",
    "disable_user",
    "login",
    "login_failed",
)


def record(session: Session, actor: str, action: str, target: str = "", detail: str = "", ip: str = "") -> None:
    """Add an entry in the caller's transaction, so the action and its record commit together."""
    session.add(AuditEntry(actor=actor[:320], action=action[:64], target=target[:255], detail=detail, ip=ip[:64]))


def recent(session: Session, limit: int = 200) -> list[AuditEntry]:
    """The latest entries, newest first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
