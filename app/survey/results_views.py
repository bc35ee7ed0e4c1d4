"""A questionnaire's results: the page (public release, or exact counts for staff), its
API, the comparison of two editions and the exports.

Who sees what (DESIGN §6): everyone reads the public release; the territory's staff
(coordinators, police, planners, admins) read exact counts; approved free text goes to
comment readers only (coordinators, police, admins), never to planners or the public.
The responses file is for staff and written to the audit log; the aggregated file is the
figures the reader may see, with withheld counts marked.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from app import access, audit, openapi, ratelimit
from app.errors import ValidationError
from app.extensions import db
from app.models import QuestionSet, Survey, SurveyRelease, SurveyResponse, SurveyText
from app.survey import release as survey_release
from app.survey import results as survey_results
from geo import export

bp = Blueprint("survey_results", __name__)

PAGE = "/t/<slug>/questionnaires"
API = "/api/v1/territories/<slug>/surveys"


def _editions(survey: Survey) -> list[Survey]:
    """The other questionnaires of the same question set lineage in the territory."""
    return list(
        db.session.scalars(
            sa.select(Survey)
            .join(QuestionSet, QuestionSet.id == Survey.question_set_id)
            .where(
                Survey.territory_id == survey.territory_id,
                QuestionSet.lineage == survey.question_set.lineage,
                Survey.id != survey.id,
            )
            .order_by(Survey.opens_on, Survey.id)
        )
    )


@bp.get(f"{PAGE}/<int:survey_id>/resultats")
def results_page(slug: str, survey_id: int):
    """The results of one questionnaire, per question, with charts drawn on the server."""
    territory, survey = survey_results.survey_for(slug, survey_id)
    made = survey_results.results(territory, survey)
    charts = {q["key"]: survey_results.question_charts(made, q) for q in made.questions}
    return render_template(
        "survey/results.html",
        territory=territory,
        survey=survey,
        made=made,
        charts=charts,
        times_chart=survey_results.times_chart(made),
        night=survey_results.night_by_gender(made),
        editions=_editions(survey),
        staff=made.exact,
    )


@bp.get(f"{PAGE}/comparer")
def compare_page(slug: str):
    """Two editions side by side: each answer's share, with the respondents of each."""
    territory, first, second = _pair(slug)
    a = survey_results.results(territory, first)
    b = survey_results.results(territory, second)
    return render_template(
        "survey/compare.html",
        territory=territory,
        first=first,
        second=second,
        a=a,
        b=b,
        rows=survey_results.compare(a, b),
        staff=a.exact,
    )


def _pair(slug: str):
    errors = {}
    ids = {}
    for name in ("a", "b"):
        value = request.args.get(name, "")
        if not value.isdigit():
            errors[name] = _("Numéro de questionnaire attendu.")
        else:
            ids[name] = int(value)
    if errors:
        raise ValidationError(errors, _("Choisissez deux questionnaires."))
    territory, first = survey_results.survey_for(slug, ids["a"])
    _territory, second = survey_results.survey_for(slug, ids["b"])
    if not survey_results.comparable(first, second):
        raise ValidationError(
            {"b": _("Deux éditions d'un même questionnaire, et deux différentes, sont attendues.")}
        )
    return territory, first, second


RESULTS = {openapi.JSON: openapi.ref("SurveyResults")}
COMPARISON = {openapi.JSON: openapi.ref("SurveyComparison")}
PAIR_PARAMS = (
    openapi.query("a", openapi.text(pattern=r"^\d+$"), "First questionnaire.", required=True),
    openapi.query("b", openapi.text(pattern=r"^\d+$"), "Second questionnaire.", required=True),
)


@bp.get(f"{API}/<int:survey_id>/results")
@openapi.operation(tag="surveys", responses={200: RESULTS}, secured="optional")
def results_api(slug: str, survey_id: int):
    """A questionnaire's results: from its public release (no count under k), exact for
    the territory's staff (session or token)."""
    territory, survey = survey_results.survey_for(slug, survey_id)
    return jsonify(survey_results.results(territory, survey).as_json())


@bp.get(f"{API}/compare")
@openapi.operation(
    tag="surveys", params=PAIR_PARAMS, responses={200: COMPARISON}, secured="optional"
)
def compare_api(slug: str):
    """Two editions of a questionnaire compared question by question (shares per answer)."""
    territory, first, second = _pair(slug)
    a = survey_results.results(territory, first)
    b = survey_results.results(territory, second)
    return jsonify(
        {
            "a": {"id": first.id, "title": first.title, "respondents": a.respondents},
            "b": {"id": second.id, "title": second.title, "respondents": b.respondents},
            "exact": a.exact,
            "questions": survey_results.compare(a, b),
        }
    )


@bp.get(f"{API}/<int:survey_id>/results.csv")
@openapi.operation(
    tag="surveys", responses={200: {"text/csv": {"type": "string"}}}, secured="optional"
)
def results_csv(slug: str, survey_id: int):
    """The results as CSV, one row per answer and breakdown row: the public release with
    withheld counts marked, exact counts for staff."""
    if not current_user.is_authenticated:
        ratelimit.limit_anonymous_exports()
    territory, survey = survey_results.survey_for(slug, survey_id)
    made = survey_results.results(territory, survey)
    audit.record(
        "export",
        actor=None if current_user.is_authenticated else "anonymous",
        target=f"survey-results.csv:{survey.id}",
        territory=territory,
        format="csv",
        exact=made.exact,
    )
    db.session.commit()
    withheld = f"< {made.k}"

    def cell(value):
        return withheld if value is None else value

    def rows():
        yield ["", "", "", _("Répondants"), cell(made.respondents), "", ""]
        for q in made.questions:
            parts = [(None, {"label": "", "n": q["n"], "answers": q["answers"]})]
            parts += [(part, row) for part in q["by"] for row in part["rows"]]
            for part, row in parts:
                for a in row["answers"]:
                    yield [
                        q["key"],
                        part["key"] if part else "",
                        row.get("key", ""),
                        a["key"],
                        cell(a["count"]),
                        "" if a["share"] is None else a["share"],
                        cell(row["n"]),
                    ]

    header = ["question", "breakdown", "row", "answer", "count", "share", "respondents"]
    headers = {
        "Content-Disposition": f"attachment; filename=resultats-questionnaire-{survey.id}.csv",
        "X-Ressenti-Metadata": json.dumps(
            {
                "exact": made.exact,
                "suppression_threshold": None if made.exact else made.k,
                "release": None if made.release is None else made.release.made_at.isoformat(),
            }
        ),
    }
    return Response(
        stream_with_context(export.csv_chunks(header, rows())), mimetype="text/csv", headers=headers
    )


@bp.get(f"{API}/<int:survey_id>/responses.csv")
@openapi.operation(tag="surveys", responses={200: {"text/csv": {"type": "string"}}}, secured=True)
def responses_csv(slug: str, survey_id: int):
    """Every response, one row each (staff of the territory; audited). Approved free text
    for coordinators, police and admins only; no response id (it lets its device edit)."""
    if not current_user.is_authenticated:
        abort(401, description="authentication required")
    territory = access.territory_for(slug, *access.READERS)
    _territory, survey = survey_results.survey_for(slug, survey_id)
    texts = access.reads_comments()
    audit.record(
        "export",
        target=f"survey-responses.csv:{survey.id}",
        territory=territory,
        format="csv",
        texts=texts,
    )
    db.session.commit()
    questions = [q for q in survey.question_set.questions if q.kind != "text"]
    text_keys = [q.key for q in survey.question_set.questions if q.kind == "text"]
    text_keys += [q.key + ":other" for q in questions if q.allow_other]

    def rows():
        approved: dict[tuple, str] = {}
        if texts:
            for response_id, key, text in db.session.execute(
                sa.select(SurveyText.response_id, SurveyText.question_key, SurveyText.text).where(
                    SurveyText.survey_id == survey.id, SurveyText.status == "approved"
                )
            ):
                approved[(response_id, key)] = text
        responses = db.session.scalars(
            sa.select(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(SurveyResponse.created_at, SurveyResponse.id)
        )
        for number, response in enumerate(responses, start=1):
            values = []
            for q in questions:
                value = response.answers.get(q.key)
                if q.kind == "map":
                    values.append(len(value) if isinstance(value, list) else 0)
                elif isinstance(value, list):
                    values.append("|".join(str(v) for v in value))
                else:
                    values.append("" if value is None else str(value))
            row = [number, response.created_at.date().isoformat(), *values]
            if texts:
                for key in text_keys:
                    question_key = key.removesuffix(":other")
                    row.append(approved.get((response.id, question_key), ""))
            yield row

    header = ["n", "date", *[q.key for q in questions], *(text_keys if texts else [])]
    return Response(
        stream_with_context(export.csv_chunks(header, rows())),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename=reponses-questionnaire-{survey.id}.csv"
        },
    )


# -- what other pages show of questionnaires (lower packages may not import this one) ------


@bp.app_template_global("survey_privacy")
def survey_privacy() -> dict:
    """The privacy page's questionnaire section: the settings, the ε bound per response
    and, per released questionnaire, its releases and the ε spent so far."""
    return {
        "settings": survey_release.settings(),
        "bound": survey_release.epsilon_bound(),
        "surveys": survey_release.spent_per_survey(),
    }


@bp.app_template_global("survey_synthesis")
def survey_synthesis(workshop) -> dict | None:
    """The synthesis section of a questionnaire's workshop (the report checks that its
    reader is staff): exact results and their charts; None for other workshops."""
    survey = workshop_survey(workshop)
    if survey is None:
        return None
    made = survey_results.results(workshop.territory, survey, exact=True)
    return {
        "survey": survey,
        "made": made,
        "charts": {q["key"]: survey_results.question_charts(made, q) for q in made.questions},
        "times_chart": survey_results.times_chart(made),
    }


@bp.app_template_global("surveys_with_results")
def surveys_with_results(territory) -> list[Survey]:
    """The territory's questionnaires whose results the current reader may open: those
    with a public release, every one for the territory's staff."""
    query = sa.select(Survey).where(Survey.territory_id == territory.id)
    if not access.staff(territory):
        query = query.where(sa.exists().where(SurveyRelease.survey_id == Survey.id))
    return list(db.session.scalars(query.order_by(Survey.opens_on.desc(), Survey.id)))


@bp.app_template_global("workshop_survey")
def workshop_survey(workshop) -> Survey | None:
    """The questionnaire a workshop of kind questionnaire holds (its page links results)."""
    return db.session.scalar(sa.select(Survey).where(Survey.workshop_id == workshop.id))
