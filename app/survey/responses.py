"""One device's response: checked whole, then written whole (or not at all).

The browser makes the response's UUID and keeps it with the answers; ``PUT`` with that
id creates (201) or replaces (200) the response, so a request sent twice, or an offline
queue that replays it, never makes two. Free text (text questions and "autre") is
never written into ``answers``: it goes to :class:`~app.models.SurveyText`, pending
moderation, and only coordinators and police read it.

Bot resistance without a third party (:func:`check_bot`):

- a signed page token carries the time the page was served (``window.now()``, so tests
  move it); an answer sent less than ``SURVEY_MIN_SECONDS`` after it, or with no or a
  forged token, is refused (422, ``fields.sent_after`` or ``fields.token`` says which).
  The token never expires:
  answers written offline and sent days later still pass; it only sets a minimum.
- a honeypot field (``website``), hidden from people and screen readers: when filled the
  answer is acknowledged as if stored (201) and dropped. A refusal would tell a bot
  what to change; a person never sees the field, so never meets the silence.
- rate limits per client and per questionnaire in the shared store (app.ratelimit).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from app.errors import ValidationError
from app.extensions import db
from app.models import Quartier, Question, Survey, SurveyText, utcnow
from app.survey import questions, window
from app.survey.seed import NO_ANSWER, QUARTIER_KEY

HONEYPOT = "website"
TOKEN_SALT = "ressenti-survey-page"
MAX_PINS = 200


# -- the page token --------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def page_token(survey: Survey, served_at: datetime | None = None) -> str:
    """A token naming the questionnaire and when its page (or its API document) was served."""
    served = (served_at or window.now()).timestamp()
    return _serializer().dumps({"c": survey.code, "t": round(served, 3)})


def check_token(survey: Survey, token) -> None:
    """422 for a missing or forged token, or one younger than ``SURVEY_MIN_SECONDS``."""
    if not isinstance(token, str) or not token:
        raise ValidationError(
            {"token": _("Jeton de page absent : rechargez la page du questionnaire.")},
            _("Réponse refusée : rechargez la page du questionnaire."),
        )
    try:
        data = _serializer().loads(token)
    except BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("c") != survey.code:
        raise ValidationError(
            {"token": _("Jeton de page invalide : rechargez la page du questionnaire.")},
            _("Réponse refusée : rechargez la page du questionnaire."),
        )
    elapsed = window.now().timestamp() - float(data.get("t", 0))
    if elapsed < current_app.config["SURVEY_MIN_SECONDS"]:
        raise ValidationError(  # its own field: the page waits and sends again
            {"sent_after": _("Réponse envoyée trop vite après l'ouverture de la page.")},
            _("Réponse envoyée trop vite : réessayez dans quelques secondes."),
        )


def honeypot_filled(body: dict) -> bool:
    value = body.get(HONEYPOT)
    return bool(value) and (not isinstance(value, str) or bool(value.strip()))


# -- checking the answers -------------------------------------------------------------------


@dataclass
class Clean:
    answers: dict  # question key -> option key | [option keys] | [pin ids]
    texts: dict  # question key -> free text (text questions and "autre")


def parse(survey: Survey, body) -> Clean:
    """Check a response body against the questionnaire's questions; raises
    :class:`ValidationError` whose ``fields`` name each question that is wrong."""
    if not isinstance(body, dict):
        raise ValidationError({"body": _("Le corps doit être un objet JSON.")})
    answers, other = body.get("answers", {}), body.get("other", {})
    errors: dict[str, str] = {}
    if not isinstance(answers, dict):
        errors["answers"] = _("Objet {clé de question: réponse} attendu.")
        answers = {}
    if not isinstance(other, dict):
        errors["other"] = _("Objet {clé de question: texte « autre »} attendu.")
        other = {}
    by_key = {q.key: q for q in survey.question_set.questions}
    for key in [k for k in (*answers, *other) if k not in by_key]:
        errors[key] = _("Question inconnue.")
    clean = Clean({}, {})
    for key, question in by_key.items():
        try:
            _answer(question, answers.get(key), other.get(key), clean)
        except ValueError as problem:
            errors[key] = str(problem)
    if errors:
        raise ValidationError(errors, _("La réponse n'a pas été enregistrée."))
    return clean


def _text(value, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(_("%(what)s : texte attendu.", what=what))
    limit = current_app.config["SURVEY_TEXT_MAX_LENGTH"]
    value = value.strip()
    if len(value) > limit:
        raise ValueError(_("%(what)s : %(n)d caractères au plus.", what=what, n=limit))
    return value or None


def _answer(question: Question, value, other, clean: Clean) -> None:
    """Check one question's answer and put it in ``clean``; ValueError says what is wrong."""
    keys = [o["key"] for o in question.options]
    allowed = set(keys) | ({questions.OTHER} if question.allow_other else set())
    other_text = _text(other, _("Texte « autre »"))
    if question.kind == "text":
        if other_text:
            raise ValueError(_("Pas de « autre » pour une question ouverte."))
        text = _text(value, _("Réponse"))
        if text:
            clean.texts[question.key] = text
        value = text
    elif value in (None, [], ""):
        value = None
    elif question.kind in ("single", "scale"):
        if not isinstance(value, str):
            raise ValueError(_("Une seule réponse attendue (la clé d'une option)."))
        if value not in allowed:
            raise ValueError(_("Réponse inconnue : %(value)s.", value=value[:64]))
        clean.answers[question.key] = value
    elif question.kind == "multiple":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(_("Liste de réponses attendue (les clés des options)."))
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(_("Réponse inconnue : %(value)s.", value=unknown[0][:64]))
        clean.answers[question.key] = [k for k in [*keys, questions.OTHER] if k in value]
    elif question.kind == "map":
        if not isinstance(value, list) or len(value) > MAX_PINS:
            raise ValueError(
                _("Liste d'identifiants de points attendue (%(n)d au plus).", n=MAX_PINS)
            )
        try:
            pins = [str(uuid.UUID(v)) for v in value]
        except (TypeError, ValueError, AttributeError):
            raise ValueError(_("Identifiant de point invalide.")) from None
        clean.answers[question.key] = list(dict.fromkeys(pins))
    if other_text:
        chosen = clean.answers.get(question.key)
        chosen = chosen if isinstance(chosen, list) else [chosen]
        if questions.OTHER not in chosen:
            raise ValueError(_("Un texte « autre » sans la réponse « autre »."))
        clean.texts[question.key] = other_text
    if question.required and value is None:
        raise ValueError(_("Réponse obligatoire."))


# -- writing ---------------------------------------------------------------------------------

UPSERT = sa.text(
    """
    INSERT INTO survey_response AS r (id, survey_id, territory_id, answers, quartier_id,
                                      created_at, updated_at)
    VALUES (:id, :survey_id, :territory_id, CAST(:answers AS jsonb), :quartier_id, :now, :now)
    ON CONFLICT (id) DO UPDATE SET answers = EXCLUDED.answers,
        quartier_id = EXCLUDED.quartier_id, updated_at = EXCLUDED.updated_at
    WHERE r.survey_id = EXCLUDED.survey_id
    RETURNING (xmax = 0) AS created, r.created_at, r.updated_at
    """
)


@dataclass
class Written:
    created: bool
    created_at: datetime
    updated_at: datetime


def store(survey: Survey, response_id: uuid.UUID, clean: Clean) -> Written:
    """Create or replace the response and its texts in one transaction (the caller
    commits). 409 when the id belongs to another questionnaire's response."""
    now = utcnow()
    row = db.session.execute(
        UPSERT,
        {
            "id": response_id,
            "survey_id": survey.id,
            "territory_id": survey.territory_id,
            "answers": json.dumps(clean.answers),
            "quartier_id": _quartier_id(survey, clean.answers.get(QUARTIER_KEY)),
            "now": now,
        },
    ).one_or_none()
    if row is None:
        raise ValidationError(
            {"id": _("Cet identifiant de réponse est déjà utilisé.")},
            _("Identifiant de réponse déjà utilisé."),
            status=409,
        )
    _store_texts(survey, response_id, clean.texts)
    questions.freeze(survey.question_set)
    return Written(bool(row.created), row.created_at, row.updated_at)


def _quartier_id(survey: Survey, code) -> int | None:
    if not isinstance(code, str) or code == NO_ANSWER["key"]:
        return None
    return db.session.scalar(
        sa.select(Quartier.id).where(
            Quartier.territory_id == survey.territory_id, Quartier.code == code
        )
    )


def _store_texts(survey: Survey, response_id: uuid.UUID, texts: dict) -> None:
    """Keep a text unchanged with its moderation; a changed text waits again."""
    existing = {
        t.question_key: t
        for t in db.session.scalars(
            sa.select(SurveyText).where(SurveyText.response_id == response_id)
        )
    }
    for key, old in existing.items():
        if key not in texts:
            db.session.delete(old)
    for key, text in texts.items():
        old = existing.get(key)
        if old is not None and old.text == text:
            continue
        if old is None:
            old = SurveyText(
                response_id=response_id,
                survey_id=survey.id,
                territory_id=survey.territory_id,
                question_key=key,
            )
            db.session.add(old)
        old.text, old.status, old.moderated_by, old.moderated_at = text, "pending", None, None
    db.session.flush()


def response_json(response_id: uuid.UUID, survey: Survey, clean: Clean, written) -> dict:
    """What a PUT answers: the stored answers (free text is not echoed back)."""
    return {
        "id": str(response_id),
        "survey": survey.code,
        "answers": clean.answers,
        "texts": sorted(clean.texts),
        "created_at": written.created_at.isoformat() if written else None,
        "updated_at": written.updated_at.isoformat() if written else None,
    }
