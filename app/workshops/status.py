"""A workshop's life: draft → open → closed, and back to open within a grace period.

The rule is written here once: a coordinator may reopen a closed workshop within
REOPEN_GRACE of its closing (the page says until when); after that, 409 with a French
message. Closing needs an explicit confirmation (a checkbox posted with the form, so it
works without JavaScript).

What reopening does to the public release (app.analysis.release): nothing is withdrawn.
The release made at closing keeps its noisy counts (a count released keeps its noise),
and the next closing releases only the pins placed since that release, as the scheduled
runs of a questionnaire do. So a close → reopen → close cycle never releases a pin twice,
never re-draws the noise of a count already public, and two releases differ only by the
new pins plus fresh noise: there is nothing to subtract or average. Pins already
released that are moved or deleted while reopened keep their released (noisy)
contribution; the page says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort
from flask_babel import gettext as _

from app.analysis import release
from app.models import Workshop, utcnow
from app.routes.circuits import refresh_circuits

REOPEN_GRACE = timedelta(hours=24)
REOPEN_HOURS = int(REOPEN_GRACE.total_seconds() // 3600)  # for the page's sentences


def reopen_until(workshop: Workshop) -> datetime | None:
    """Until when a closed workshop may be reopened (None unless it is closed)."""
    if workshop.status != "closed" or workshop.closed_at is None:
        return None
    return workshop.closed_at + REOPEN_GRACE


def may_reopen(workshop: Workshop, now: datetime | None = None) -> bool:
    until = reopen_until(workshop)
    return until is not None and (now or utcnow()) <= until


def change_status(workshop: Workshop, wanted: str | None, confirmed: bool) -> None:
    """Open a draft, close an open workshop (confirmed; makes its public release), or
    reopen a closed one within the grace period. The caller commits.

    Aborts 409 for any other change, 422 for a closing not confirmed.
    """
    current = workshop.status
    if current == "open" and wanted == "closed":
        if not confirmed:
            abort(422, description=_("Cochez la case de confirmation pour clôturer l'atelier."))
        workshop.status, workshop.closed_at = "closed", utcnow()
        release.make_release(workshop)  # what the public will see of it
        refresh_circuits(workshop.territory)  # published circuits follow the release
    elif current == "draft" and wanted == "open":
        workshop.status, workshop.opened_at = "open", utcnow()
    elif current == "closed" and wanted == "open":
        if not may_reopen(workshop):
            abort(
                409,
                description=_(
                    "Cet atelier ne peut plus être rouvert : la réouverture est possible "
                    "pendant %(hours)d heures après la clôture.",
                    hours=REOPEN_HOURS,
                ),
            )
        # closed_at goes: retention and the next release's dates follow the next closing.
        workshop.status, workshop.closed_at = "open", None
    else:
        abort(409, description=_("Changement d'état impossible."))
