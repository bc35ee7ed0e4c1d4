"""Join codes and the lookups that turn a code into its group and workshop."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden

from app.extensions import db
from app.models import WorkshopGroup

# No 0/O, 1/I/L: a code is read aloud and typed from paper. 31 symbols; 9 of them give
# 31**9 ≈ 2.6e13 codes, 44.6 bits of entropy.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 9


class WorkshopClosed(Forbidden):
    """403 for a code of a closed workshop: the API answers ``{"error": "workshop_closed",
    "message": …}`` (the error code is the name, app.errors) so a phone can tell it from
    other refusals and keep the pins it could not send."""

    name = "Workshop closed"


def new_join_code() -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if not db.session.scalar(
            sa.select(WorkshopGroup.id).where(WorkshopGroup.join_code == code)
        ):
            return code


def normalise_code(code: str) -> str:
    """Codes are typed by hand: accept lower case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def group_by_code(code: str, closed_too: bool = False) -> WorkshopGroup:
    """The group a code opens. 404 for an unknown code; 403 unless the workshop is open:
    codes work from opening to closing, then pins are locked. ``closed_too``: a closed
    workshop's group too (the resident page, which shows the phone's unsent pins)."""
    group = db.session.scalar(
        sa.select(WorkshopGroup)
        .options(joinedload(WorkshopGroup.workshop))
        .where(WorkshopGroup.join_code == normalise_code(code))
    )
    if group is None:
        abort(404, description=_("Code inconnu. Vérifiez le code donné par l'animateur."))
    status = group.workshop.status
    if status == "draft":
        abort(403, description=_("Cet atelier n'est pas encore ouvert."))
    if status == "closed" and not closed_too:
        raise WorkshopClosed(
            description=_(
                "Cet atelier est clôturé : les points ne peuvent plus être envoyés ni "
                "modifiés. Montrez vos points en attente à l'animateur."
            )
        )
    return group
