"""An open demo questionnaire in Rennes on the standard question set, with 300 synthetic
responses and their pins, so that the results page has something to show after
``make run``. Seeded: the same answers every time; made once (found again by its title).

The answers follow plausible patterns, not real data: a latent feeling of insecurity per
respondent, higher in some quartiers, for women and at night; avoidance follows the
night feeling; what would help follows it too (lighting and presence when the night feels
unsafe). Residents live mostly in the three quartiers of the demo workshop.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from app.extensions import db
from app.models import (
    Category,
    Pin,
    Quartier,
    Survey,
    SurveyResponse,
    SurveyText,
    Territory,
    Workshop,
    WorkshopGroup,
    utcnow,
)
from app.survey.seed import (
    AGE_KEY,
    GENDER_KEY,
    QUARTIER_KEY,
    RESIDENCE_KEY,
    SAFER,
    seed_standard_set,
)
from app.workshops.demo import DEMO_QUARTIERS, TIMES, _street_points
from app.workshops.groups import new_join_code

DEMO_SURVEY_TITLE = "Questionnaire sur le sentiment de sécurité — Rennes (démo)"
PREVIOUS_TITLE = "Questionnaire sur le sentiment de sécurité — Rennes {year} (démo)"
RESPONSES = 300
# Residents' quartiers: the demo workshop's three first (by code), the others share the rest.
HOME_WEIGHTS = {"Q.11": 0.30, "Q.12": 0.22, "Q.8": 0.18}
# A quartier's push on the latent insecurity (higher: feels less safe).
QUARTIER_SHIFT = {"Q.11": 0.6, "Q.12": 0.35, "Q.8": 0.25}
GENDERS = (("woman", 0.50), ("man", 0.44), ("other", 0.02), ("no_answer", 0.04))
AGES = (
    ("under_18", 0.04), ("18_29", 0.20), ("30_44", 0.26), ("45_59", 0.22),
    ("60_74", 0.16), ("75_plus", 0.07), ("no_answer", 0.05),
)  # fmt: skip
FEELING = ("very_safe", "rather_safe", "rather_unsafe", "very_unsafe")
FREQUENCY = ("never", "sometimes", "often", "always")
UNSAFE_TIMES = (0.06, 0.12, 0.32, 0.42, 0.08)
SAFE_TIMES = (0.22, 0.45, 0.15, 0.04, 0.14)
OTHER_TEXTS = (
    "Des bancs et des toilettes publiques.",
    "Que les bus passent plus tard le soir.",
    "Des caméras près de la station de métro.",
)
COMMENTS = (
    "Le soir je rentre en taxi, je ne traverse plus la dalle à pied.",
    "Le quartier a changé en bien depuis la rénovation de la place.",
    "Les jeunes au pied des immeubles ne me gênent pas, c'est l'éclairage qui manque.",
    "Plus de médiateurs le soir, comme l'été dernier.",
    "Je me sens bien la journée, beaucoup moins après 21 h.",
)


def seed_demo_survey(territory: Territory, responses: int = RESPONSES, seed: int = 2025):
    """Create the open demo questionnaire unless it exists, and its previous edition
    (closed, January to mid-April last year, a little less safe at night, no pins) to
    compare with; return ``(previous, current)`` (None when they existed). The current
    window runs from two weeks ago to a month from now. The caller commits."""
    if db.session.scalar(sa.select(Survey.id).where(Survey.title == DEMO_SURVEY_TITLE)):
        return None
    now = utcnow()
    last_year = now.year - 1
    previous = _edition(
        territory,
        PREVIOUS_TITLE.format(year=last_year),
        datetime(last_year, 1, 6, 9, tzinfo=UTC),
        datetime(last_year, 4, 15, 20, tzinfo=UTC),
        responses,
        np.random.default_rng(seed - 1),
        shift=0.25,
        pins=False,
    )
    current = _edition(
        territory,
        DEMO_SURVEY_TITLE,
        now - timedelta(days=14),
        now + timedelta(days=30),
        responses,
        np.random.default_rng(seed),
    )
    return previous, current


def _edition(territory, title, opened, closes, responses, rng, shift=0.0, pins=True) -> Survey:
    """One edition on the standard set: closed when ``closes`` has passed, else open."""
    now = utcnow()
    question_set = seed_standard_set(territory)
    quartiers = list(territory.quartiers)
    demo_quartiers = [q for q in quartiers if q.code in DEMO_QUARTIERS] or quartiers
    closed = closes < now
    workshop = Workshop(
        territory=territory,
        kind="questionnaire",
        title=title,
        edition=str(opened.year),
        held_on=opened.date(),
        status="closed" if closed else "open",
        opened_at=opened,
        closed_at=closes if closed else None,
        quartiers=demo_quartiers,
    )
    group = WorkshopGroup(territory_id=territory.id, name="En ligne", join_code=new_join_code())
    workshop.groups = [group]
    db.session.add(workshop)
    db.session.flush()
    survey = Survey(
        territory_id=territory.id,
        workshop_id=workshop.id,
        question_set_id=question_set.id,
        code=group.join_code,
        title=title,
        opens_on=opened.date(),
        closes_on=closes.date(),
    )
    db.session.add(survey)
    db.session.flush()
    points = _street_points(territory, demo_quartiers, responses, rng) if pins else None
    categories = db.session.scalars(
        sa.select(Category).where(Category.code != "other").order_by(Category.id)
    ).all()
    span = min(closes, now) - opened
    for _number in range(responses):
        created = opened + span * float(rng.uniform(0.01, 0.99))
        _respond(survey, workshop, group, quartiers, categories, points, rng, created, shift)
    return survey


def _pick(rng, weighted) -> str:
    keys, weights = zip(*weighted, strict=True)
    weights = np.asarray(weights, dtype=float)
    return str(rng.choice(keys, p=weights / weights.sum()))


def _scale(score: float, keys: tuple[str, ...]) -> str:
    """A latent score (about −1.5 … 2.5) on a four-point scale."""
    return keys[int(np.clip(np.floor(score + 1.0), 0, 3))]


def _respond(survey, workshop, group, quartiers, categories, points, rng, created, shift):
    territory_id = survey.territory_id
    resident = rng.random() < 0.8
    answers: dict = {RESIDENCE_KEY: "resident" if resident else "user"}
    home: Quartier | None = None
    if resident:
        weights = [HOME_WEIGHTS.get(q.code, 0.30 / max(len(quartiers) - 3, 1)) for q in quartiers]
        weights = np.asarray(weights) / sum(weights)
        home = quartiers[int(rng.choice(len(quartiers), p=weights))]
        answers[QUARTIER_KEY] = home.code if rng.random() > 0.03 else "no_answer"
    gender = _pick(rng, GENDERS)
    age = _pick(rng, AGES)
    if rng.random() < 0.9:  # the profile is optional
        answers[GENDER_KEY] = gender
        answers[AGE_KEY] = age
    latent = rng.normal(shift, 0.8)
    latent += QUARTIER_SHIFT.get(home.code, 0.0) if home else -0.1
    latent += {"woman": 0.45, "other": 0.3}.get(gender, 0.0)
    latent += 0.2 if age in ("60_74", "75_plus") else 0.0
    answers["feeling_day"] = _scale(latent - 0.2, FEELING)
    night = latent + 0.9
    answers["feeling_night"] = _scale(night, FEELING)
    if rng.random() < 0.95:
        answers["avoidance"] = _scale(night - 0.4 + rng.normal(0, 0.5), FREQUENCY)
    safer = []
    for option in SAFER:
        p = {"lighting": 0.25 + 0.15 * night, "presence": 0.2 + 0.1 * night}.get(option["key"], 0.2)
        if rng.random() < np.clip(p, 0.05, 0.9):
            safer.append(option["key"])
    response_id = uuid.UUID(bytes=rng.bytes(16), version=4)
    texts = []
    if rng.random() < 0.05:
        safer.append("other")
        texts.append(("safer", str(rng.choice(OTHER_TEXTS))))
    if safer:
        answers["safer"] = safer
    if rng.random() < 0.12:
        texts.append(("comment", str(rng.choice(COMMENTS))))
    if points is not None:
        answers["places"] = _pins(workshop, group, categories, points, rng, night, created)
    db.session.add(
        SurveyResponse(
            id=response_id,
            survey_id=survey.id,
            territory_id=territory_id,
            answers=answers,
            quartier_id=home.id if home and answers.get(QUARTIER_KEY) == home.code else None,
            created_at=created,
            updated_at=created,
        )
    )
    db.session.flush()
    for key, text in texts:
        status = "approved" if rng.random() < 0.75 else "pending"
        db.session.add(
            SurveyText(
                response_id=response_id,
                survey_id=survey.id,
                territory_id=territory_id,
                question_key=key,
                text=text,
                status=status,
                moderated_at=created if status == "approved" else None,
                created_at=created,
            )
        )


def _pins(workshop, group, categories, points, rng, night: float, created: datetime) -> list:
    """0 to 3 pins of one respondent, from the shared street points; their ids."""
    unsafe = [c for c in categories if "unsafe" in c.feelings]
    safe = [c for c in categories if "safe" in c.feelings]
    ids = []
    for _n in range(int(rng.choice(4, p=(0.45, 0.3, 0.15, 0.1)))):
        point: Point = points[int(rng.integers(len(points)))]
        feeling = "unsafe" if rng.random() < np.clip(0.55 + 0.1 * night, 0.3, 0.9) else "safe"
        choices, times = (unsafe, UNSAFE_TIMES) if feeling == "unsafe" else (safe, SAFE_TIMES)
        pin_id = uuid.UUID(bytes=rng.bytes(16), version=4)
        jitter = rng.normal(0, 0.00008, 2)
        db.session.add(
            Pin(
                id=pin_id,
                territory_id=workshop.territory_id,
                workshop_id=workshop.id,
                group_id=group.id,
                feeling=feeling,
                category_id=choices[int(rng.integers(len(choices)))].id,
                time_of_day=str(rng.choice(TIMES, p=times)),
                geom=from_shape(
                    Point(round(point.x + jitter[0], 7), round(point.y + jitter[1], 7)), srid=4326
                ),
                created_at=created,
            )
        )
        ids.append(str(pin_id))
    return ids


def add_survey(
    territory: Territory,
    title: str,
    opens_on,
    closes_on,
    status: str = "open",
    question_set=None,
) -> Survey:
    """A questionnaire on ``question_set`` (the standard one by default) with its workshop
    (kind questionnaire, one group whose code is the questionnaire's): for tests and demos
    that need one without the coordinator pages. The caller commits."""
    question_set = question_set or seed_standard_set(territory)
    workshop = Workshop(
        territory=territory,
        kind="questionnaire",
        title=title,
        held_on=opens_on,
        status=status,
        opened_at=None if status == "draft" else utcnow(),
        closed_at=utcnow() if status == "closed" else None,
    )
    group = WorkshopGroup(territory_id=territory.id, name="En ligne", join_code=new_join_code())
    workshop.groups = [group]
    db.session.add(workshop)
    db.session.flush()
    survey = Survey(
        territory_id=territory.id,
        workshop_id=workshop.id,
        question_set_id=question_set.id,
        code=group.join_code,
        title=title,
        opens_on=opens_on,
        closes_on=closes_on,
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def add_response(survey: Survey, answers: dict, texts: dict | None = None, status="approved"):
    """One response with ``answers`` and free ``texts`` ({question key: text}, moderated
    as ``status``). The caller commits."""
    response = SurveyResponse(
        id=uuid.uuid4(), survey_id=survey.id, territory_id=survey.territory_id, answers=answers
    )
    code = answers.get(QUARTIER_KEY)
    if code:
        response.quartier_id = db.session.scalar(
            sa.select(Quartier.id).where(
                Quartier.territory_id == survey.territory_id, Quartier.code == code
            )
        )
    db.session.add(response)
    db.session.flush()
    for key, text in (texts or {}).items():
        db.session.add(
            SurveyText(
                response_id=response.id,
                survey_id=survey.id,
                territory_id=survey.territory_id,
                question_key=key,
                text=text,
                status=status,
            )
        )
    return response
