"""What respondents and other tools use, with no account: the questionnaire page
``/s/<code>`` and the questionnaire API.

Errors are JSON under /api (DESIGN §5): 404 unknown code, 403 outside the window
(``error`` is ``survey_not_open`` before it, ``survey_closed`` after: the phone keeps
its answers and says so), 409 a response id used by another questionnaire, 422 with
``fields`` naming each wrong question, 429 too fast. No IP address or device id is
stored: the browser's response UUID is the only key.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

from app import openapi, ratelimit, security
from app.errors import ValidationError
from app.extensions import db
from app.models import Survey, Territory
from app.survey import questions, responses, surveys, window
from app.workshops import groups, pinning

bp = Blueprint("survey_public", __name__)
security.csrf_exempt(bp)  # no cookie identifies a respondent: the response UUID does


class SurveyNotOpen(Forbidden):
    name = "Survey not open"


class SurveyClosed(Forbidden):
    name = "Survey closed"


def refuse_outside(survey: Survey) -> None:
    """403 outside the window (or once closed by hand), saying when it opens or closed."""
    state = window.status(survey)
    if state == window.UPCOMING:
        raise SurveyNotOpen(description=groups.window_message(survey.opens_on, None))
    if state == window.CLOSED:
        raise SurveyClosed(description=groups.window_message(None, survey.closes_on))


def _label(question_or_option, field: str) -> str:
    """The French or English text, by the visitor's language (French when English is empty)."""
    english = str(get_locale() or "fr") == "en"
    get = question_or_option.get if isinstance(question_or_option, dict) else None
    fr = get(f"{field}_fr") if get else getattr(question_or_option, f"{field}_fr")
    en = get(f"{field}_en") if get else getattr(question_or_option, f"{field}_en")
    return (en or fr) if english else fr


@bp.get("/s/<code>")
def survey_page(code: str):
    """The respondent's page: every question on one page, phone first. Before the window
    it says when it opens, after it that it closed."""
    survey = surveys.by_code(code)
    if surveys.open_if_due(survey):
        db.session.commit()
    state = window.status(survey)
    context = None
    if state == window.OPEN:
        group = survey.workshop.groups[0]
        context = {
            "code": survey.code,
            "api": f"/api/v1/surveys/{survey.code}",
            "token": responses.page_token(survey),
            "min_seconds": current_app.config["SURVEY_MIN_SECONDS"],
            "text_max": current_app.config["SURVEY_TEXT_MAX_LENGTH"],
            "questions": [
                {"key": q.key, "kind": q.kind, "required": q.required}
                for q in survey.question_set.questions
            ],
            "pins": pinning.page_context(group),
        }
    page = render_template(
        "survey/respond.html",
        survey=survey,
        state=state,
        context=context,
        label=_label,
        opens=groups.window_message(survey.opens_on, None),
        closed=groups.window_message(None, survey.closes_on),
        text_max=current_app.config["SURVEY_TEXT_MAX_LENGTH"],
    )
    response = make_response(page)
    # Its page token says when it was served: no shared cache hands one out again.
    response.headers["Cache-Control"] = "no-store"
    return response


# -- API ---------------------------------------------------------------------------------------

SURVEY_LIST = {
    openapi.JSON: {
        "type": "object",
        "required": ["surveys"],
        "properties": {"surveys": {"type": "array", "items": openapi.ref("SurveySummary")}},
    }
}


def summary(survey: Survey) -> dict:
    return {
        "id": survey.id,
        "code": survey.code,
        "title": survey.title,
        "opens_on": survey.opens_on.isoformat(),
        "closes_on": survey.closes_on.isoformat(),
        "time_zone": survey.workshop.territory.time_zone,
        "status": window.status(survey),
    }


@bp.get("/api/v1/territories/<slug>/surveys")
@openapi.operation(tag="surveys", responses={200: SURVEY_LIST})
def list_surveys(slug: str):
    """The territory's questionnaires (upcoming, open and closed) with their window."""
    territory = db.session.scalar(db.select(Territory).where(Territory.slug == slug))
    if territory is None:
        abort(404)
    return jsonify(surveys=[summary(s) for s in surveys.of_territory(territory)])


@bp.get("/api/v1/surveys/<code>")
@openapi.operation(tag="surveys", responses={200: {openapi.JSON: openapi.ref("Survey")}})
def get_survey(code: str):
    """A questionnaire's questions (labels in French and English), its window, and a
    page token to send with the answers (no sooner than ``min_seconds`` after)."""
    survey = surveys.by_code(code)
    return jsonify(
        {
            **summary(survey),
            "questions": [questions.question_json(q) for q in survey.question_set.questions],
            "question_set": {
                "lineage": survey.question_set.lineage,
                "version": survey.question_set.version,
            },
            "pins": f"/api/v1/groups/{survey.code}/pins",
            "token": responses.page_token(survey),
            "min_seconds": current_app.config["SURVEY_MIN_SECONDS"],
        }
    )


RESPONSE = {openapi.JSON: openapi.ref("SurveyResponse")}


@bp.put("/api/v1/surveys/<code>/responses/<response_id>")
@openapi.operation(
    tag="surveys",
    body=openapi.ref("SurveyResponseInput"),
    responses={200: RESPONSE, 201: RESPONSE},
)
def put_response(code: str, response_id: str):
    """Create (201) or replace (200) the response of this browser-made UUID, in the
    window only (403 outside). Sending the same body twice stores one response."""
    ratelimit.limit_survey_answers(groups.normalise_code(code))
    survey = surveys.by_code(code)
    try:
        key = uuid.UUID(response_id)
    except ValueError:
        raise ValidationError(
            {"id": _("UUID de réponse attendu.")}, _("Identifiant invalide.")
        ) from None
    refuse_outside(survey)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"body": _("Objet JSON attendu.")}, _("Corps JSON attendu."))
    clean = responses.parse(survey, body)
    if responses.honeypot_filled(body):
        # Acknowledged like a first answer, and dropped: nothing tells a bot it was seen.
        return jsonify(responses.response_json(key, survey, clean, None)), 201
    responses.check_token(survey, body.get("token"))
    surveys.open_if_due(survey)
    written = responses.store(survey, key, clean)
    db.session.commit()
    data = responses.response_json(key, survey, clean, written)
    return jsonify(data), 201 if written.created else 200
