"""The audit log: who did what, when, with which filters. Append-only (a trigger in the
database refuses UPDATE and DELETE); callers commit with the work they log.

Anonymous clients write rows too (public exports), so what is recorded is bounded: each
detail value cut to DETAIL_CHARS, at most DETAIL_KEYS details, and a query string
(``filters``) keeps only the arguments the views know, an unknown one being counted,
never copied. The details of one row stay under DETAILS_CHARS whatever the request carried.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
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
    "ogc.tiles",
    "points.viewed",
    "brief.viewed",
    "survey.texts_viewed",
    "moderation",
    "retention.purged",
)


DETAIL_CHARS = 200
DETAIL_KEYS = 20
NAME_CHARS = 40
DETAILS_CHARS = 4000
DEPTH = 4  # containers nested deeper are recorded as (cut) text
# Query arguments of the audited views (layer and export filters, OGC API items, the
# audit log's own filters); their values are recorded, cut to DETAIL_CHARS.
QUERY_ARGS = frozenset(
    (
        *("feeling", "category", "time_of_day", "workshop", "from", "to", "size"),
        *("bandwidth", "full", "a", "b", "crs", "layer", "f", "bbox", "datetime"),
        *("limit", "offset", "action", "actor", "partner", "status", "quartier", "overdue"),
        *("filter", "filter-lang", "filter-crs", "sortby", "properties"),  # OGC API Part 3
    )
)


def bounded(value, depth: int = 0):
    """A JSON value no larger than the log should hold: text cut, containers capped."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict) and depth < DEPTH:
        items = list(value.items())[:DETAIL_KEYS]
        return {str(k)[:NAME_CHARS]: bounded(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple) and depth < DEPTH:
        return [bounded(v, depth + 1) for v in value[:DETAIL_KEYS]]
    return str(value)[:DETAIL_CHARS]


def query_args(args: dict) -> dict:
    """Known query arguments with their (cut) values; unknown ones only counted."""
    known = {name: value for name, value in args.items() if name in QUERY_ARGS}
    unknown = len(args) - len(known)
    return {**bounded(known), **({"unknown_args": unknown} if unknown else {})}


def _bounded_details(details: dict) -> dict:
    if isinstance(details.get("filters"), dict):
        details = {**details, "filters": query_args(details["filters"])}
    kept, size = {}, 0
    for name, value in bounded(details).items():
        size += len(json.dumps({name: value}, ensure_ascii=False))
        if size > DETAILS_CHARS:
            kept["truncated"] = True
            break
        kept[name] = value
    return kept


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
        details=_bounded_details(details),
    )
    db.session.add(event)
    return event


def recently_recorded(action: str, target: str, user: User, minutes: float) -> bool:
    """Whether ``user`` already has an ``action`` row on ``target`` in the last minutes.

    Asked of the audit table itself, so every worker and node gives the same answer; a
    transaction-scoped advisory lock on (user, target) makes two simultaneous polls
    agree too: the second waits for the first's commit and then sees its row. A row
    found before locking answers at once (the lock only orders the first writes; map
    tiles ask this dozens of times a view).
    """
    since = sa.func.now() - timedelta(minutes=minutes)
    query = sa.select(AuditEvent.id).where(
        AuditEvent.action == action,
        AuditEvent.user_id == user.id,
        AuditEvent.target == target,
        AuditEvent.at > since,
    )
    if db.session.scalar(query.limit(1)) is not None:
        return True
    db.session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"{action}:{user.id}:{target}")))
    )
    return db.session.scalar(query.limit(1)) is not None
