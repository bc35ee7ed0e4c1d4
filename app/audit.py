"""The audit log: who did what, when, with which filters. Append-only (a trigger in the
database refuses UPDATE and DELETE); callers commit with the work they log."""

from __future__ import annotations

from flask_login import current_user

from app.extensions import db
from app.models import AuditEvent, Territory, User

ACTIONS = (
    "login.success",
    "login.failure",
    "logout",
    "user.created",
    "user.role_changed",
    "user.password_reset",
    "user.deactivated",
    "token.created",
    "token.revoked",
    "audit.exported",
    "export",
    "ogc.read",
    "points.viewed",
    "moderation",
    "retention.purged",
)


def record(
    action: str,
    target: str = "",
    territory: Territory | None = None,
    user: User | None = None,
    actor: str | None = None,
    **details,
) -> AuditEvent:
    """Add one event; ``user``/``actor`` default to the signed-in user (or "cli")."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if user is None and actor is None and current_user and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        user_id=user.id if user else None,
        actor=actor or (user.email if user else "cli"),
        action=action,
        target=target[:300],
        territory_id=territory.id if territory else None,
        details=details,
    )
    db.session.add(event)
    return event
