"""Erasing comment text once the retention period after a workshop's closing is over."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Pin, Workshop

_PERIOD = re.compile(r"^\s*(\d+)\s*([dmy])\s*$", re.I)


def parse_period(text: str) -> timedelta:
    """``"24m"``, ``"2y"`` or ``"90d"`` as a timedelta (a month counts 30.44 days)."""
    match = _PERIOD.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a period like 24m, 2y or 90d")
    count, unit = int(match.group(1)), match.group(2).lower()
    days = {"d": 1, "m": 30.44, "y": 365.25}[unit] * count
    return timedelta(days=days)


def purge_comments(before: datetime, dry_run: bool = False) -> dict[str, int]:
    """Erase the comment text of pins of workshops closed before ``before``.

    The pins stay (without text) so that editions can still be compared. Returns the
    numbers of workshops and comments concerned; the caller logs and commits.
    """
    closed = sa.select(Workshop.id).where(Workshop.status == "closed", Workshop.closed_at < before)
    targets = sa.and_(Pin.workshop_id.in_(closed), Pin.comment.is_not(None))
    comments = db.session.scalar(sa.select(sa.func.count()).select_from(Pin).where(targets))
    workshops = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Pin.workshop_id))).where(targets)
    )
    if not dry_run and comments:
        db.session.execute(
            sa.update(Pin).where(targets).values(comment=None, comment_status="purged")
        )
    return {"workshops": workshops, "comments": comments}
