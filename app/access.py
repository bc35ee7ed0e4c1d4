"""Who sees what (DESIGN §6), in one place: roles, territory scope, who reads comments,
staff against public, and the public threshold k.

Every view asks here instead of writing its own role tuple; the route × role matrix in
tests/app/test_authorization.py checks the result on every route.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app
from flask_login import current_user

from app.extensions import db
from app.models import ROLES, Territory

__all__ = [
    "COMMENT_READERS",
    "READERS",
    "ROLES",
    "STAFF",
    "STAFF_COLLECTIONS",
    "WRITERS",
    "may_write",
    "reads_comments",
    "staff",
    "suppression_k",
    "territory_for",
    "threshold",
]

# Roles that read a territory's workshops, layers, raw points, exports and actions
# (admins pass everywhere).
READERS = ("coordinator", "police", "planner")
# Roles that create workshops and write actions.
WRITERS = ("coordinator",)
# Approved comment text goes to these roles only; planners get points without it.
COMMENT_READERS = ("admin", "coordinator", "police")
# Signed-in roles that see exact counts of the territories they may see.
STAFF = ROLES
# OGC collections (by kind) with exact counts or points: staff of the territory only.
STAFF_COLLECTIONS = ("hexagons-full", "points")


def territory_for(slug: str, *roles: str) -> Territory:
    """The territory ``slug`` if the current user may act on it with one of ``roles``.

    404 for an unknown territory, 403 for a user of another territory or role.
    """
    territory = db.session.scalar(sa.select(Territory).where(Territory.slug == slug))
    if territory is None:
        abort(404)
    if current_user.role != "admin" and (
        current_user.role not in roles or not current_user.can_see(territory)
    ):
        abort(403)
    return territory


def staff(territory: Territory) -> bool:
    """Whether the current user is staff of ``territory`` (exact counts, raw points)."""
    return (
        current_user.is_authenticated
        and current_user.role in STAFF
        and current_user.can_see(territory)
    )


def reads_comments() -> bool:
    """Whether the current user may read approved comment text."""
    return current_user.is_authenticated and current_user.role in COMMENT_READERS


def may_write(territory: Territory) -> bool:
    """Whether the current user writes workshops and actions of ``territory``."""
    return current_user.role == "admin" or (
        current_user.role in WRITERS and current_user.can_see(territory)
    )


def suppression_k() -> int:
    """k: public outputs state no count between 1 and k−1 (the SUPPRESSION_K setting)."""
    return current_app.config["SUPPRESSION_K"]


def threshold(full: bool) -> int:
    """The smallest count a layer states: every count for staff (``full``), else k."""
    return 1 if full else suppression_k()
