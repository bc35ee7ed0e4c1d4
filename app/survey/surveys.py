"""Questionnaires: making one (its workshop of kind ``questionnaire`` holds the public
code and the map question's pins), finding one by its code, and following its window.

``flask survey sync`` (:func:`sync_all`, on a schedule) opens a questionnaire's workshop
from ``opens_on`` and closes it after ``closes_on`` through the workshop status
functions, so closing makes its public release as for any workshop. Between two runs the
window still decides (app.survey.window): nothing is accepted outside it, and a page
or an answer in the window opens a workshop still in draft at once.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.models import QuestionSet, Survey, Territory, Workshop, WorkshopGroup, utcnow
from app.survey import questions, window
from app.survey.seed import seed_standard_set
from app.workshops import groups, status


def question_sets(territory: Territory) -> list[QuestionSet]:
    """The latest version of each of the territory's sets, the standard set seeded
    first when it has none (the caller commits)."""
    if not questions.sets_of(territory):
        seed_standard_set(territory)
    latest: dict[str, QuestionSet] = {}
    for question_set in questions.sets_of(territory):
        latest.setdefault(question_set.lineage, question_set)
    return list(latest.values())


def create(
    territory: Territory,
    title: str,
    question_set: QuestionSet,
    opens_on: date,
    closes_on: date,
) -> Survey:
    """A questionnaire with its workshop (on every quartier of the territory: the map
    question takes pins anywhere in town) and its one public code. The caller commits."""
    workshop = Workshop(
        territory=territory,
        kind="questionnaire",
        title=title,
        held_on=opens_on,
        status="draft",
        quartiers=list(territory.quartiers),
    )
    group = WorkshopGroup(
        territory_id=territory.id, name=_("Questionnaire"), join_code=groups.new_join_code()
    )
    workshop.groups.append(group)
    db.session.add(workshop)
    db.session.flush()
    survey = Survey(
        territory_id=territory.id,
        workshop=workshop,
        question_set_id=question_set.id,
        code=group.join_code,
        title=title,
        opens_on=opens_on,
        closes_on=closes_on,
    )
    survey.question_set = question_set
    db.session.add(survey)
    db.session.flush()
    open_if_due(survey)
    return survey


def by_code(code: str) -> Survey:
    """The questionnaire of a public code; 404 for an unknown one."""
    survey = db.session.scalar(
        sa.select(Survey)
        .options(joinedload(Survey.workshop).joinedload(Workshop.territory))
        .where(Survey.code == groups.normalise_code(code))
    )
    if survey is None:
        abort(404, description=_("Questionnaire inconnu. Vérifiez le lien ou le code."))
    return survey


def of_territory(territory: Territory) -> list[Survey]:
    return list(
        db.session.scalars(
            sa.select(Survey)
            .where(Survey.territory_id == territory.id)
            .order_by(Survey.opens_on.desc(), Survey.id.desc())
        )
    )


def open_if_due(survey: Survey) -> bool:
    """Open the workshop of a questionnaire in its window that is still a draft, and
    freeze its question set (it is being asked). The caller commits."""
    if survey.workshop.status != "draft" or window.phase(survey) != window.OPEN:
        return False
    status.change_status(survey.workshop, "open", confirmed=True)
    questions.freeze(survey.question_set)
    return True


def sync(survey: Survey) -> str | None:
    """Open or close the questionnaire's workshop as its window says; what changed."""
    phase = window.phase(survey)
    if open_if_due(survey):
        return "opened"
    if phase == window.CLOSED and survey.workshop.status in ("draft", "open"):
        if survey.workshop.status == "draft":  # never opened: nothing to release
            survey.workshop.status, survey.workshop.closed_at = "closed", utcnow()
        else:
            status.change_status(survey.workshop, "closed", confirmed=True)
        return "closed"
    return None


def sync_all() -> dict[str, int]:
    """:func:`sync` every questionnaire, committing each: one that fails is told and
    left for the next run."""
    done = {"opened": 0, "closed": 0, "failed": 0}
    for survey_id in db.session.scalars(sa.select(Survey.id).order_by(Survey.id)).all():
        survey = db.session.get(Survey, survey_id)
        try:
            changed = sync(survey)
            db.session.commit()
        except HTTPException:
            db.session.rollback()
            done["failed"] += 1
            continue
        if changed:
            done[changed] += 1
    return done
