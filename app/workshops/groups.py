"""Join codes and the lookups that turn a code into its group and workshop."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import abort
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden

from app import clock
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


OUTSIDE_WINDOW = sa.text(
    "SELECT s.opens_on, s.closes_on,"
    " (CAST(:clock AS timestamptz) AT TIME ZONE t.time_zone)::date AS today"
    " FROM survey s JOIN territory t ON t.id = s.territory_id WHERE s.workshop_id = :workshop_id"
)


def refuse_outside_window(workshop_id: int) -> None:
    """403 for a questionnaire's code outside its window (app.survey.window), whatever
    its workshop's status: the window decides before `flask survey sync` runs."""
    row = db.session.execute(
        OUTSIDE_WINDOW, {"clock": clock.now(), "workshop_id": workshop_id}
    ).one_or_none()
    if row is None or row.opens_on <= row.today <= row.closes_on:
        return
    if row.today < row.opens_on:
        abort(403, description=window_message(row.opens_on, None))
    raise WorkshopClosed(description=window_message(None, row.closes_on))


def window_message(opens_on, closes_on) -> str:
    """What a refused pin or answer says: when the questionnaire opens, or that it closed."""
    if opens_on is not None:
        return _("Ce questionnaire ouvre le %(day)s.", day=format_date(opens_on, "long"))
    day = format_date(closes_on, "long")
    return _("Ce questionnaire est clos depuis le %(day)s au soir.", day=day)
