"""The public release of a questionnaire (DESIGN §6): every public figure of its results
is read from a stored :class:`~app.models.SurveyRelease`, never from the responses.

What is released: per choice or scale question, the noisy number of respondents per
option overall; for the main single-choice and scale questions also per quartier lived in,
per residence (habitant / usager) and per profile answer (age band, gender), each
breakdown with a row for "not answered"; and the number of respondents. Domains (the
options, the breakdown rows) come from the question set, fixed before the answers are
read, zeros included. Free text is never released.

Noise: discrete Laplace from OpenDP (:mod:`geo.privacy`) at one scale for every table of a
release. A respondent adds at most 1 to each table of a single-choice or scale question
and at most one per option (``"autre"`` included) to a multiple-choice one, so a table's
sensitivity is 1, or its number of columns; a release's ε per response is the sum over
its tables of sensitivity / scale, computed here and recorded on the release.

Against differencing across releases: responses can be changed until the close, so a
release cannot cover only "new" responses as the pins' release does; each one covers
them all. Successive releases of an open questionnaire would be averageable, so their
number is capped: at most ``interim_max`` interim releases ``interval_days`` apart while
it is open, each with ``interim_epsilon``, then one final release at its close with
``final_epsilon`` (the SURVEY_RELEASE setting). The total ε a response can ever lose is
thus bounded and known in advance (shown on the privacy page); averaging every release
gives nothing beyond that bound. Public pages read the latest release only.

Within one release, the overall, by-quartier and by-profile tables are separate noisy
counts: overall minus the other rows gives a noisy number, never an exact count, and the
reading side (:mod:`app.survey.results`) withholds every count under the threshold and
one more in a row where only one is withheld.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from flask import current_app

from app import access
from app.extensions import db
from app.models import Question, Survey, SurveyRelease, SurveyResponse, Workshop, utcnow
from app.survey.seed import AGE_KEY, GENDER_KEY, QUARTIER_KEY, RESIDENCE_KEY
from geo.privacy import noisy_counts

# Breakdowns of the main questions, in the order results show them.
BREAKDOWNS = (QUARTIER_KEY, RESIDENCE_KEY, GENDER_KEY, AGE_KEY)
CHOICE_KINDS = ("single", "multiple", "scale")
OTHER = "other"
NOT_ANSWERED = "_none"


# -- what is counted -----------------------------------------------------------------------


def columns(question: Question) -> list[str]:
    """The answer keys a question's tables count, ``"other"`` last when allowed."""
    keys = [o["key"] for o in question.options]
    if question.kind == "multiple" and question.allow_other and OTHER not in keys:
        keys.append(OTHER)
    return keys


def counted_questions(survey: Survey) -> list[Question]:
    return [q for q in survey.question_set.questions if q.kind in CHOICE_KINDS]


def breakdowns_of(question: Question, present: dict[str, Question]) -> list[str]:
    """The breakdowns of a main single-choice or scale question (those the set has); none
    for the others: a multiple-choice table costs its number of options in sensitivity,
    so it is released overall only."""
    if question.section != "main" or question.key in BREAKDOWNS or question.kind == "multiple":
        return []
    return [key for key in BREAKDOWNS if key in present]


def sensitivity(question: Question) -> int:
    """How much one respondent can add to one of the question's tables (L1)."""
    return len(columns(question)) if question.kind == "multiple" else 1


def _chosen(question: Question, value, known: list[str]) -> list[str]:
    """The known answer keys of one answer, each once; one at most for a single choice."""
    values = value if isinstance(value, list) else [value]
    chosen = list(dict.fromkeys(v for v in values if isinstance(v, str) and v in known))
    return chosen if question.kind == "multiple" else chosen[:1]


def exact_tables(survey: Survey) -> dict:
    """The exact counts, in the shape a release stores (the staff view reads this).

    ``{"respondents": n, "questions": {key: {"columns": [...], "overall": [...],
    "by": {breakdown: {"rows": [...], "values": [[...], ...]}}}}}``.

    The answers of one questionnaire (hundreds, a few thousand) are counted here rather
    than in SQL: their JSON shapes are checked one by one the same way for every table.
    """
    questions = counted_questions(survey)
    present = {q.key: q for q in questions}
    answers = list(
        db.session.scalars(
            sa.select(SurveyResponse.answers)
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(SurveyResponse.id)
        )
    )
    rows_of = {key: [*columns(present[key]), NOT_ANSWERED] for key in BREAKDOWNS if key in present}
    tables: dict = {"respondents": len(answers), "questions": {}}
    for question in questions:
        known = columns(question)
        at = {key: i for i, key in enumerate(known)}
        table = {
            "kind": question.kind,
            "columns": known,
            "overall": np.zeros(len(known), dtype=np.int64),
            "by": {
                b: np.zeros((len(rows_of[b]), len(known)), dtype=np.int64)
                for b in breakdowns_of(question, present)
            },
        }
        for answer in answers:
            chosen = [at[c] for c in _chosen(question, answer.get(question.key), known)]
            if not chosen:
                continue
            table["overall"][chosen] += 1
            for b, values in table["by"].items():
                row = _chosen(present[b], answer.get(b), rows_of[b][:-1]) or [NOT_ANSWERED]
                values[rows_of[b].index(row[0]), chosen] += 1
        tables["questions"][question.key] = {
            "kind": question.kind,
            "columns": known,
            "sensitivity": sensitivity(question),
            "overall": table["overall"].tolist(),
            "by": {b: {"rows": rows_of[b], "values": v.tolist()} for b, v in table["by"].items()},
        }
    return tables


def total_sensitivity(tables: dict) -> int:
    """A response's L1 reach over every table of a release (the respondents count too)."""
    return 1 + sum(q["sensitivity"] * (1 + len(q["by"])) for q in tables["questions"].values())


# -- making a release ---------------------------------------------------------------------


def settings() -> dict:
    return current_app.config["SURVEY_RELEASE"]


def epsilon_bound() -> float:
    """The most ε a response can lose to every release of its questionnaire."""
    s = settings()
    return s["interim_epsilon"] * s["interim_max"] + s["final_epsilon"]


def make_release(survey: Survey, final: bool, now: datetime | None = None) -> SurveyRelease:
    """Release every response of ``survey`` now, with the interim or the final budget
    spread at one noise scale over its tables. An interim release holds the overall
    tables only: spread over the breakdowns too, its smaller budget would leave noise
    larger than most of their counts. The caller commits."""
    budget = settings()["final_epsilon" if final else "interim_epsilon"]
    exact = exact_tables(survey)
    if not final:  # interim: the overall figures only, the breakdowns wait for the close
        for table in exact["questions"].values():
            table["by"] = {}
    scale = total_sensitivity(exact) / budget
    spent = 0.0

    def noisy(values, reach: int) -> list:
        nonlocal spent
        table = noisy_counts(np.asarray(values, dtype=np.int64), 1.0 / scale)
        spent += table.epsilon * reach  # Laplace: ε grows linearly with the sensitivity
        return table.values.tolist()

    released = {
        "respondents": noisy([exact["respondents"]], 1)[0],
        "scale": scale,
        "questions": {},
    }
    for key, table in exact["questions"].items():
        reach = table["sensitivity"]
        released["questions"][key] = {
            **table,
            "overall": noisy(table["overall"], reach),
            "by": {
                b: {"rows": part["rows"], "values": noisy(part["values"], reach)}
                for b, part in table["by"].items()
            },
        }
    release = SurveyRelease(
        survey_id=survey.id,
        territory_id=survey.territory_id,
        made_at=now or utcnow(),
        final=final,
        epsilon=round(spent, 6),
        k=access.suppression_k(),
        tables=released,
    )
    db.session.add(release)
    return release


def town_today(survey: Survey, now: datetime) -> date:
    return now.astimezone(ZoneInfo(survey.workshop.territory.time_zone)).date()


def closed(survey: Survey, now: datetime) -> bool:
    """Closed: its window has passed (town time) or its workshop was closed."""
    return survey.workshop.status == "closed" or town_today(survey, now) > survey.closes_on


def due(now: datetime | None = None, territory_id: int | None = None) -> list[tuple[Survey, bool]]:
    """Questionnaires to release now, each with whether the release is the final one:
    closed ones without a final release, and open ones whose last release is older than
    the interval while fewer than ``interim_max`` interim releases were made."""
    now = now or utcnow()
    s = settings()
    query = sa.select(Survey).join(Workshop, Workshop.id == Survey.workshop_id)
    if territory_id is not None:
        query = query.where(Survey.territory_id == territory_id)
    chosen = []
    for survey in db.session.scalars(query.order_by(Survey.id)):
        made = db.session.execute(
            sa.select(SurveyRelease.made_at, SurveyRelease.final)
            .where(SurveyRelease.survey_id == survey.id)
            .order_by(SurveyRelease.made_at)
        ).all()
        if any(final for _at, final in made):
            continue
        if closed(survey, now):
            chosen.append((survey, True))
        elif (
            town_today(survey, now) >= survey.opens_on
            and survey.workshop.status != "draft"
            and len(made) < s["interim_max"]
            and (not made or made[-1].made_at <= now - timedelta(days=s["interval_days"]))
        ):
            chosen.append((survey, False))
    return chosen


def latest(survey: Survey) -> SurveyRelease | None:
    """The release public figures are read from: the latest (the final one once made)."""
    return db.session.scalar(
        sa.select(SurveyRelease)
        .where(SurveyRelease.survey_id == survey.id)
        .order_by(SurveyRelease.final.desc(), SurveyRelease.made_at.desc(), SurveyRelease.id.desc())
        .limit(1)
    )


def spent_per_survey() -> list[tuple[Survey, int, float]]:
    """Each released questionnaire with its number of releases and the ε a response has
    lost to them so far (for the privacy page)."""
    rows = db.session.execute(
        sa.select(Survey, sa.func.count(SurveyRelease.id), sa.func.sum(SurveyRelease.epsilon))
        .join(SurveyRelease, SurveyRelease.survey_id == Survey.id)
        .group_by(Survey.id)
        .order_by(Survey.id)
    ).all()
    return [(survey, n, float(eps)) for survey, n, eps in rows]
