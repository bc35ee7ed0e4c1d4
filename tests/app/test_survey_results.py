"""A questionnaire's results: exact for staff, from the public release for everyone else
(no count under k, no differencing, a capped number of releases), the charts, the
exports and their audit, the comparison of two editions, the demo."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import login

TODAY = date.today()


def _answers(n: int, **answers) -> list[dict]:
    return [dict(answers) for _ in range(n)]


@pytest.fixture
def make_survey(app, rennes):
    """``make_survey(responses, status=..., title=...)`` → the questionnaire's id."""
    from app.models import Territory
    from app.survey.demo import add_response, add_survey

    def make(responses, status="open", title="Questionnaire", texts=None, window=None):
        with app.app_context():
            territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
            opens, closes = window or (TODAY - timedelta(days=10), TODAY + timedelta(days=10))
            survey = add_survey(territory, title, opens, closes, status=status)
            for answers in responses:
                add_response(survey, answers)
            for answers, text in texts or []:
                add_response(survey, answers, texts=text)
            db.session.commit()
            return survey.id

    return make


def _release(app, survey_id, final=True):
    from app.models import Survey
    from app.survey import release

    with app.app_context():
        made = release.make_release(db.session.get(Survey, survey_id), final=final)
        db.session.commit()
        return made.id


def _staff(client, make_user, role="coordinator"):
    user = make_user(role, "rennes")
    assert login(client, user.email).status_code == 302
    return user


# Women feel less safe at night; one woman of Q.3 answers "very unsafe": a count of 1.
MANY = (
    _answers(40, feeling_day="very_safe", feeling_night="rather_safe", gender="man",
             residence="resident", quartier="Q.11", safer=["lighting", "police"])
    + _answers(35, feeling_day="rather_safe", feeling_night="rather_unsafe", gender="woman",
               residence="resident", quartier="Q.11", safer=["lighting", "lighting", "nope"])
    + _answers(1, feeling_day="rather_safe", feeling_night="very_unsafe", gender="woman",
               residence="resident", quartier="Q.3", safer=["presence"])
)  # fmt: skip


def test_exact_tables_count_each_respondent_once_per_table(app, make_survey):
    from app.models import Survey
    from app.survey import release

    survey_id = make_survey(MANY)
    with app.app_context():
        tables = release.exact_tables(db.session.get(Survey, survey_id))
    assert tables["respondents"] == 76
    night = tables["questions"]["feeling_night"]
    assert night["columns"] == ["very_safe", "rather_safe", "rather_unsafe", "very_unsafe"]
    assert night["overall"] == [0, 40, 35, 1]
    gender = night["by"]["gender"]
    woman = gender["rows"].index("woman")
    assert gender["values"][woman] == [0, 0, 35, 1]
    safer = tables["questions"]["safer"]
    assert safer["columns"][-1] == "other" and safer["sensitivity"] == len(safer["columns"])
    # "lighting" twice in one answer counts once; an unknown key is ignored.
    assert safer["overall"][safer["columns"].index("lighting")] == 75
    assert safer["by"] == {}  # multiple choice: released overall only
    assert "gender" not in tables["questions"]["gender"]["by"]


def test_staff_read_exact_counts_and_the_public_the_release(app, client, make_survey, make_user):
    survey_id = make_survey(MANY)
    url = f"/api/v1/territories/rennes/surveys/{survey_id}/results"
    before = client.get(url).get_json()
    assert before["exact"] is False and before["release"] is None
    assert before["respondents"] is None and before["questions"] == []
    _release(app, survey_id)
    public = client.get(url).get_json()
    assert public["exact"] is False and public["k"] == 3 and public["release"]["final"]
    _assert_nothing_under_k(public)
    staff = app.test_client()
    _staff(staff, make_user, "planner")
    exact = staff.get(url).get_json()
    assert exact["exact"] is True and exact["respondents"] == 76
    night = next(q for q in exact["questions"] if q["key"] == "feeling_night")
    assert [a["count"] for a in night["answers"]] == [0, 40, 35, 1]
    assert night["answers"][3]["share"] == round(1 / 76, 4)
    assert "texts" not in exact  # planners never read free text


def _assert_nothing_under_k(body: dict) -> None:
    """No stated count of the public answer is between 1 and k − 1 (nor negative)."""
    k = body["k"]
    stated = [body["respondents"]]
    for q in body["questions"]:
        stated.append(q["n"])
        stated += [a["count"] for a in q["answers"]]
        for part in q["by"]:
            for row in part["rows"]:
                stated.append(row["n"])
                stated += [a["count"] for a in row["answers"]]
    for counts in (body["pins_by_time"] or {"counts": {}})["counts"].values():
        stated += list(counts.values())
    assert all(v is None or v >= k for v in stated), stated


def test_attacker_cannot_difference_a_small_count(app, client, make_survey):
    """The woman of Q.3 (a count of 1): no public figure states a count under k, and
    subtracting the released tables (overall minus the men's row, even on the raw noisy
    cells, thresholds ignored) gives estimates scattered by the noise, over twelve
    independent releases, rather than her answer."""
    from app.models import Survey, SurveyRelease
    from app.survey import release, results

    survey_id = make_survey(MANY)
    estimates = []
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        for _ in range(12):  # twelve independent final releases, read one at a time
            db.session.execute(sa.delete(SurveyRelease))
            release.make_release(survey, final=True)
            db.session.flush()
            made = results.results(survey.workshop.territory, survey, exact=False)
            body = made.as_json()
            _assert_nothing_under_k(body)
            tables = release.latest(survey).tables["questions"]["feeling_night"]
            # The attacker's best: raw noisy cells, overall minus the men's row.
            man = tables["by"]["gender"]["rows"].index("man")
            estimates.append(tables["overall"][3] - tables["by"]["gender"]["values"][man][3])
        db.session.rollback()
    assert len(set(estimates)) > 3, estimates  # noise, not the count
    assert sum(e == 1 for e in estimates) < 6, estimates


def test_open_questionnaire_releases_are_capped_and_their_epsilon_bounded(app, make_survey):
    """Interim releases at most ``interim_max`` times, ``interval_days`` apart, overall
    tables only; one final release once closed; the ε spent never passes the bound."""
    from app.models import Survey, SurveyRelease, utcnow
    from app.survey import release

    survey_id = make_survey(MANY, window=(TODAY, TODAY + timedelta(days=35)))
    settings = app.config["SURVEY_RELEASE"]
    now = utcnow()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        made = 0
        for day in range(0, 120, 3):
            at = now + timedelta(days=day)
            if at.date() > survey.closes_on:
                break
            for due, final in release.due(at):
                assert due.id == survey_id and not final
                assert not release.make_release(due, final=False, now=at).tables["questions"][
                    "feeling_night"
                ]["by"]
                made += 1
            db.session.flush()
        assert made == settings["interim_max"]
        after = now + timedelta(days=40)  # past its close (town time)
        assert [(s.id, f) for s, f in release.due(after)] == [(survey_id, True)]
        final = release.make_release(survey, final=True, now=after)
        db.session.flush()
        assert final.tables["questions"]["feeling_night"]["by"]["gender"]
        assert release.due(after + timedelta(days=30)) == []
        spent = db.session.scalar(sa.select(sa.func.sum(SurveyRelease.epsilon)))
        assert spent == pytest.approx(release.epsilon_bound(), rel=1e-6)
        assert release.latest(survey).id == final.id
        db.session.commit()


def test_release_make_command_releases_questionnaires(app, runner, make_survey):
    make_survey(MANY)
    make_survey(MANY, status="closed", title="Clos")
    out = runner.invoke(args=["release", "make"]).output
    assert "2 questionnaires (1 final)" in out
    assert "0 questionnaires" in runner.invoke(args=["release", "make"]).output


def test_results_page_charts_match_the_database(app, client, make_survey, make_user):
    survey_id = make_survey(MANY, texts=[({"gender": "woman"}, {"comment": "<b>Le soir</b>"})])
    _staff(client, make_user)
    page = client.get(f"/t/rennes/questionnaires/{survey_id}/resultats")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    chart = html[html.index('id="title-feeling_night"') :]
    chart = chart[: chart.index("</svg>")]
    values = re.findall(r'class="value">([^<]*)</text>', chart)
    from app.models import Survey
    from app.survey import release

    with app.app_context():
        counts = release.exact_tables(db.session.get(Survey, survey_id))["questions"][
            "feeling_night"
        ]["overall"]
    assert values[:4] == [f"{c} · {round(100 * c / sum(counts))}\u202f%" for c in counts]
    assert counts == [0, 40, 35, 1]
    assert "&lt;b&gt;Le soir&lt;/b&gt;" in html and "<b>Le soir</b>" not in html
    assert 'role="img"' in chart and "<title" in chart


def test_public_page_never_shows_free_text_or_small_counts(app, client, make_survey, make_user):
    survey_id = make_survey(MANY, texts=[({"gender": "woman"}, {"comment": "Texte privé"})])
    _release(app, survey_id)
    html = client.get(f"/t/rennes/questionnaires/{survey_id}/resultats").get_data(as_text=True)
    assert "Texte privé" not in html and "&lt; 3" in html
    planner = app.test_client()
    _staff(planner, make_user, "planner")
    staff_html = planner.get(f"/t/rennes/questionnaires/{survey_id}/resultats").get_data(
        as_text=True
    )
    assert "Texte privé" not in staff_html and "Comptes exacts" in staff_html


def test_responses_csv_is_staff_only_audited_and_text_for_comment_readers(
    app, client, make_survey, make_user
):
    from app.models import AuditEvent

    survey_id = make_survey(MANY, texts=[({"gender": "woman"}, {"comment": "Éclairer la dalle"})])
    url = f"/api/v1/territories/rennes/surveys/{survey_id}/responses.csv"
    assert client.get(url).status_code == 401
    _staff(client, make_user, "police")
    body = client.get(url).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 1 + 77 and "comment" in rows[0] and "Éclairer la dalle" in body
    assert "feeling_night" in rows[0] and rows[0][0] == "n"
    planner = app.test_client()
    _staff(planner, make_user, "planner")
    planner_body = planner.get(url).get_data(as_text=True)
    assert "Éclairer la dalle" not in planner_body and "comment" not in planner_body.split("\n")[0]
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.target == f"survey-responses.csv:{survey_id}")
        ).all()
        assert [e.details["texts"] for e in events] == [True, False]


def test_aggregated_csv_marks_withheld_counts(app, client, make_survey):
    survey_id = make_survey(MANY)
    _release(app, survey_id)
    body = client.get(f"/api/v1/territories/rennes/surveys/{survey_id}/results.csv").get_data(
        as_text=True
    )
    rows = list(csv.DictReader(io.StringIO(body)))
    night = [r for r in rows if r["question"] == "feeling_night" and not r["breakdown"]]
    assert night[3]["count"] == "< 3"
    assert all(r["count"] == "< 3" or int(r["count"]) >= 3 for r in rows)


def test_compare_two_editions(app, client, make_survey, make_user):
    first = make_survey(MANY, title="2025", status="closed")
    second = make_survey(
        _answers(50, feeling_day="very_safe", feeling_night="rather_safe", gender="man"),
        title="2026",
    )
    _staff(client, make_user)
    body = client.get(f"/api/v1/territories/rennes/surveys/compare?a={first}&b={second}").get_json()
    night = next(q for q in body["questions"] if q["key"] == "feeling_night")
    assert (night["n_a"], night["n_b"]) == (76, 50)
    rather_safe = next(a for a in night["answers"] if a["key"] == "rather_safe")
    assert rather_safe["share_a"] == round(40 / 76, 4) and rather_safe["share_b"] == 1.0
    page = client.get(f"/t/rennes/questionnaires/comparer?a={first}&b={second}")
    assert page.status_code == 200 and "2025" in page.get_data(as_text=True)
    assert client.get(f"/t/rennes/questionnaires/comparer?a={first}&b={first}").status_code == 422
    public = app.test_client().get(
        f"/api/v1/territories/rennes/surveys/compare?a={first}&b={second}"
    )
    assert public.status_code == 200 and public.get_json()["exact"] is False


def test_other_territory_questionnaire_is_404(app, client, make_survey, paris):
    survey_id = make_survey(MANY)
    assert client.get(f"/t/paris/questionnaires/{survey_id}/resultats").status_code == 404
    assert (
        client.get(f"/api/v1/territories/rennes/surveys/{survey_id + 99}/results").status_code
        == 404
    )


def test_demo_questionnaire_is_open_plausible_released_and_seeded_once(app, runner, rennes):
    from app.models import Pin, Survey, SurveyRelease, SurveyResponse
    from app.survey import release
    from app.survey.demo import DEMO_SURVEY_TITLE

    out = runner.invoke(args=["demo", "load"]).output
    assert "demo questionnaire created with 300 responses" in out
    again = runner.invoke(args=["demo", "load"]).output
    assert "demo questionnaire already there" in again
    with app.app_context():
        survey = db.session.scalar(sa.select(Survey).where(Survey.title == DEMO_SURVEY_TITLE))
        previous = db.session.scalar(sa.select(Survey).where(Survey.id != survey.id))
        assert survey.opens_on <= TODAY <= survey.closes_on
        assert survey.workshop.status == "open" and survey.workshop.kind == "questionnaire"
        assert previous.workshop.status == "closed" and previous.closes_on < TODAY
        assert previous.question_set.lineage == survey.question_set.lineage
        responses = sa.select(sa.func.count(SurveyResponse.id))
        assert db.session.scalar(responses.where(SurveyResponse.survey_id == survey.id)) == 300
        assert db.session.scalar(responses) == 600
        finals = db.session.execute(sa.select(SurveyRelease.survey_id, SurveyRelease.final))
        assert sorted(finals) == sorted([(survey.id, False), (previous.id, True)])
        pins = db.session.scalar(
            sa.select(sa.func.count(Pin.id)).where(Pin.workshop_id == survey.workshop_id)
        )
        assert 150 < pins < 400
        tables = release.exact_tables(survey)
        night = tables["questions"]["feeling_night"]
        day = tables["questions"]["feeling_day"]
        unsafe = slice(2, 4)
        assert sum(night["overall"][unsafe]) > sum(day["overall"][unsafe])
        gender = night["by"]["gender"]
        share = {
            g: sum(gender["values"][gender["rows"].index(g)][unsafe])
            / max(sum(gender["values"][gender["rows"].index(g)]), 1)
            for g in ("woman", "man")
        }
        assert share["woman"] > share["man"]
        before = release.exact_tables(previous)["questions"]["feeling_night"]["overall"]
        assert sum(before[unsafe]) > sum(night["overall"][unsafe])  # better this year
        # The public sees last year's final release with its breakdowns.
        from app.survey import results

        public = results.results(survey.workshop.territory, previous, exact=False)
        woman = next(
            row
            for q in public.questions
            if q["key"] == "feeling_night"
            for part in q["by"]
            if part["key"] == "gender"
            for row in part["rows"]
            if row["key"] == "woman"
        )
        assert woman["n"] is not None


def test_privacy_page_shows_the_survey_epsilon(app, client, make_survey):
    survey_id = make_survey(MANY, title="Édition <2026>")
    _release(app, survey_id, final=False)
    html = client.get("/confidentialite").get_data(as_text=True)
    section = html[html.index('id="questionnaires"') :]
    assert "ε ≤ 6" in section and "Édition &lt;2026&gt;" in section
    assert re.search(r"<td>1</td><td>1,5</td>", section)


def test_synthesis_of_a_questionnaire_has_its_results(app, client, make_survey, make_user):
    from app.models import Survey

    survey_id = make_survey(MANY, texts=[({"gender": "woman"}, {"comment": "Un texte validé"})])
    with app.app_context():
        workshop_id = db.session.get(Survey, survey_id).workshop_id
    _staff(client, make_user)
    html = client.get(f"/t/rennes/ateliers/{workshop_id}/synthese").get_data(as_text=True)
    section = html[html.index('id="questionnaire"') :]
    assert "77 répondants" in section and section.count("<svg") >= 5
    assert "Un texte validé" in section
    pdf = client.get(f"/t/rennes/ateliers/{workshop_id}/synthese.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (Path(tempfile.gettempdir()) / "survey-synthesis.pdf").write_bytes(pdf.data)


def test_territory_page_links_released_results(app, client, make_survey, make_user):
    hidden = make_survey(MANY, title="Pas encore publié")
    shown = make_survey(MANY, title="Publié")
    _release(app, shown, final=False)
    html = client.get("/t/rennes").get_data(as_text=True)
    assert f"/t/rennes/questionnaires/{shown}/resultats" in html
    assert f"/t/rennes/questionnaires/{hidden}/resultats" not in html
    _staff(client, make_user, "police")
    assert f"/questionnaires/{hidden}/resultats" in client.get("/t/rennes").get_data(as_text=True)


def test_attacker_keeping_every_release_of_an_open_questionnaire(app, client, make_survey):
    """An attacker who stores each public answer while the questionnaire is open gets at
    most ``interim_max`` interim releases (overall figures only), then the final one: a
    third interim release is never made, and what the releases cost adds up to the bound
    the privacy page states."""
    from app.models import Survey, SurveyRelease, utcnow
    from app.survey import release

    survey_id = make_survey(MANY, window=(TODAY, TODAY + timedelta(days=60)))
    url = f"/api/v1/territories/rennes/surveys/{survey_id}/results"
    kept = []
    now = utcnow()
    for day in (0, 1, 15, 16, 30, 45):
        with app.app_context():
            for survey, final in release.due(now + timedelta(days=day)):
                release.make_release(survey, final=final, now=now + timedelta(days=day))
            db.session.commit()
        body = client.get(url).get_json()
        _assert_nothing_under_k(body)
        assert all(part == [] for part in (q["by"] for q in body["questions"]))
        kept.append(body["release"]["made_at"])
    assert len(set(kept)) == app.config["SURVEY_RELEASE"]["interim_max"]
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        spent = db.session.scalar(sa.select(sa.func.sum(SurveyRelease.epsilon)))
        settings = app.config["SURVEY_RELEASE"]
        assert spent == pytest.approx(settings["interim_max"] * settings["interim_epsilon"])
        assert spent + settings["final_epsilon"] == pytest.approx(release.epsilon_bound())
        assert not release.closed(survey, now + timedelta(days=45))


def test_results_page_in_english(app, client, make_survey, make_user):
    survey_id = make_survey(MANY)
    _staff(client, make_user)
    client.get("/lang/en")
    html = client.get(f"/t/rennes/questionnaires/{survey_id}/resultats").get_data(as_text=True)
    assert "Results: Questionnaire" in html
    assert "In the evening and at night, do you feel safe in your neighbourhood?" in html
    assert "40 · 53%" in html


def test_questionnaire_workshop_page_links_its_results(app, client, make_survey, make_user):
    from app.models import Survey

    survey_id = make_survey(MANY)
    with app.app_context():
        workshop_id = db.session.get(Survey, survey_id).workshop_id
    _staff(client, make_user)
    html = client.get(f"/t/rennes/ateliers/{workshop_id}").get_data(as_text=True)
    assert f"/t/rennes/questionnaires/{survey_id}/resultats" in html
