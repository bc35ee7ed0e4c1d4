"""Perception questionnaires (issue 18): question sets and their versions, the window
in the territory's time zone, idempotent responses, bot resistance, free text."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Pin, Question, QuestionSet, Survey, SurveyResponse, SurveyText, Territory
from tests.helpers import csrf_token, login, pin_body

OPENS, CLOSES = date(2027, 1, 10), date(2027, 4, 15)
# Paris is UTC+1 in January and UTC+2 in April.
IN_WINDOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def tick(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(app):
    found = Clock(IN_WINDOW)
    app.config["SURVEY_CLOCK"] = found
    return found


@pytest.fixture
def make_survey(app, rennes, clock):
    """A Rennes questionnaire on the standard set: ``make_survey(opens_on, closes_on)``;
    returns its code and id."""
    from app.survey import surveys
    from app.survey.seed import seed_standard_set

    def make(opens_on=OPENS, closes_on=CLOSES, title="Sentiment de sécurité"):
        with app.test_request_context():
            territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
            question_set = seed_standard_set(territory)
            survey = surveys.create(territory, title, question_set, opens_on, closes_on)
            db.session.commit()
            return {"code": survey.code, "id": survey.id, "set_id": question_set.id}

    return make


@pytest.fixture
def survey(make_survey):
    return make_survey()


def token_for(client, clock, code: str, wait: float = 5) -> str:
    """A page token served now, then ``wait`` seconds pass."""
    token = client.get(f"/api/v1/surveys/{code}").get_json()["token"]
    clock.tick(wait)
    return token


def answers(**changes) -> dict:
    base = {"feeling_day": "rather_safe", "feeling_night": "rather_unsafe"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def put(client, code, response_id, token, body=None, **extra):
    payload = {"answers": answers(), "token": token, **(body or {}), **extra}
    return client.put(f"/api/v1/surveys/{code}/responses/{response_id}", json=payload)


def stored(app) -> list[SurveyResponse]:
    with app.app_context():
        rows = db.session.scalars(sa.select(SurveyResponse)).all()
        db.session.expunge_all()
        return rows


# -- the API: idempotent, replacing, refusing --------------------------------------------------


def test_same_uuid_twice_is_one_response_201_then_200(app, client, clock, survey):
    token = token_for(client, clock, survey["code"])
    rid = str(uuid.uuid4())
    first = put(client, survey["code"], rid, token)
    assert first.status_code == 201, first.get_json()
    again = put(client, survey["code"], rid, token)
    assert again.status_code == 200
    assert again.get_json()["answers"] == first.get_json()["answers"]
    [row] = stored(app)
    assert str(row.id) == rid and row.answers == answers()


def test_replace_changes_the_answers_and_the_quartier(app, client, clock, survey):
    token = token_for(client, clock, survey["code"])
    rid = str(uuid.uuid4())
    assert (
        put(client, survey["code"], rid, token, {"answers": answers(quartier="Q.11")}).status_code
        == 201
    )
    changed = answers(
        feeling_night="very_unsafe", safer=["lighting", "other"], quartier="no_answer"
    )
    response = put(
        client, survey["code"], rid, token, {"answers": changed, "other": {"safer": "Des bancs"}}
    )
    assert response.status_code == 200
    [row] = stored(app)
    assert row.answers == {**changed, "safer": ["lighting", "other"]}
    assert row.quartier_id is None
    with app.app_context():
        [text] = db.session.scalars(sa.select(SurveyText)).all()
        assert (text.question_key, text.text, text.status) == ("safer", "Des bancs", "pending")


def test_quartier_answer_sets_the_quartier(app, client, clock, survey):
    token = token_for(client, clock, survey["code"])
    put(client, survey["code"], str(uuid.uuid4()), token, {"answers": answers(quartier="Q.11")})
    [row] = stored(app)
    with app.app_context():
        code = db.session.execute(
            sa.text("SELECT code FROM quartier WHERE id = :id"), {"id": row.quartier_id}
        ).scalar()
    assert code == "Q.11"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": answers(feeling_day="maybe")}, "feeling_day"),  # unknown option
        ({"answers": answers(feeling_day=["very_safe"])}, "feeling_day"),  # wrong type
        ({"answers": answers(safer="lighting")}, "safer"),  # a list is expected
        ({"answers": answers(feeling_night=None)}, "feeling_night"),  # required
        ({"answers": answers(comment="x" * 1001)}, "comment"),  # too long
        ({"answers": answers(places=["not-a-uuid"])}, "places"),
        ({"answers": answers(nonsense="a")}, "nonsense"),  # unknown question
        ({"answers": answers(safer=["lighting"]), "other": {"safer": "sans autre"}}, "safer"),
        ({"answers": answers(feeling_day="other")}, "feeling_day"),  # no "autre" on a scale
    ],
)
def test_422_names_the_question_and_writes_nothing(app, client, clock, survey, body, field):
    token = token_for(client, clock, survey["code"])
    response = put(client, survey["code"], str(uuid.uuid4()), token, body)
    assert response.status_code == 422
    data = response.get_json()
    assert data["error"] == "validation" and field in data["fields"]
    assert stored(app) == []


def test_a_bad_body_is_422_or_400_never_500(app, client, clock, survey):
    url = f"/api/v1/surveys/{survey['code']}/responses/{uuid.uuid4()}"
    for body in ([], "text", {"answers": []}, {"answers": {"feeling_day": {"a": 1}}}):
        assert client.put(url, json=body).status_code in (400, 422)
    assert client.put(url, data="{not json", content_type="application/json").status_code in (
        400,
        422,
    )
    bad_id = f"/api/v1/surveys/{survey['code']}/responses/not-a-uuid"
    assert client.put(bad_id, json={"answers": answers()}).status_code == 422
    assert client.put(f"/api/v1/surveys/NOPE/responses/{uuid.uuid4()}", json={}).status_code == 404


def test_a_text_answer_goes_to_moderation_never_into_answers(app, client, clock, survey):
    token = token_for(client, clock, survey["code"])
    rid = str(uuid.uuid4())
    put(client, survey["code"], rid, token, {"answers": answers(comment="  <b>Rue sombre</b> ")})
    [row] = stored(app)
    assert "comment" not in row.answers
    with app.app_context():
        [text] = db.session.scalars(sa.select(SurveyText)).all()
        assert text.text == "<b>Rue sombre</b>" and text.status == "pending"
    # Sending the same text keeps it (and its moderation); removing it removes it.
    put(client, survey["code"], rid, token, {"answers": answers(comment="<b>Rue sombre</b>")})
    put(client, survey["code"], rid, token, {"answers": answers()})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyText)) == 0


def test_a_response_id_of_another_survey_is_409(app, client, clock, make_survey):
    first, second = make_survey(), make_survey(title="Deuxième")
    rid = str(uuid.uuid4())
    assert (
        put(client, first["code"], rid, token_for(client, clock, first["code"])).status_code == 201
    )
    response = put(client, second["code"], rid, token_for(client, clock, second["code"]))
    assert response.status_code == 409
    [row] = stored(app)
    assert row.survey_id == first["id"]


def test_no_ip_in_the_stored_rows(app, client, clock, survey):
    token = token_for(client, clock, survey["code"])
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    assert put(client, survey["code"], str(uuid.uuid4()), token).status_code == 201
    with app.app_context():
        dump = " ".join(
            str(row)
            for table in ("survey_response", "survey_text", "rate_counter", "audit_event")
            for row in db.session.execute(sa.text(f"SELECT * FROM {table}")).all()
        )
    assert "203.0.113" not in dump


# -- the window, in the territory's time zone ---------------------------------------------------


@pytest.mark.parametrize(
    ("local", "accepted"),
    [
        (datetime(2027, 1, 9, 23, 59), False),  # the day before opens_on, 23:59 Paris
        (datetime(2027, 1, 10, 0, 0), True),  # opens_on, 00:00 Paris (23:00 UTC the day before)
        (datetime(2027, 4, 15, 23, 59, 59), True),  # closes_on, 23:59:59 Paris
        (datetime(2027, 4, 16, 0, 0), False),  # the next day, 00:00 Paris (22:00 UTC)
    ],
)
def test_window_edges_in_the_territory_time_zone(app, client, clock, survey, local, accepted):
    from zoneinfo import ZoneInfo

    at = local.replace(tzinfo=ZoneInfo("Europe/Paris"))
    clock.at = at - timedelta(seconds=10)
    token = token_for(client, clock, survey["code"], wait=10)
    assert clock.at == at
    response = put(client, survey["code"], str(uuid.uuid4()), token)
    assert response.status_code == (201 if accepted else 403), response.get_json()
    if not accepted:
        body = response.get_json()
        assert body["error"] == ("survey_not_open" if local.month == 1 else "survey_closed")
        assert "questionnaire" in body["message"]
    # The map question's pins follow the same window, before any sync.
    pin = client.post(f"/api/v1/groups/{survey['code']}/pins", json=pin_body())
    assert pin.status_code == (201 if accepted else 403), pin.get_json()


def test_page_says_when_it_opens_and_that_it_closed(app, client, clock, survey):
    clock.at = datetime(2027, 1, 5, 10, tzinfo=UTC)
    page = client.get(f"/s/{survey['code']}").get_data(as_text=True)
    assert "ouvre le 10 janvier 2027" in page and 'id="survey-form"' not in page
    clock.at = datetime(2027, 4, 20, 10, tzinfo=UTC)
    page = client.get(f"/s/{survey['code']}").get_data(as_text=True)
    assert "clos depuis le 15 avril 2027" in page and 'id="survey-form"' not in page
    clock.at = IN_WINDOW
    page = client.get(f"/s/{survey['code']}").get_data(as_text=True)
    assert 'id="survey-form"' in page and "En journée" in page
    english = client.get(f"/s/{survey['code']}?lang=en").get_data(as_text=True)
    assert "During the day, do you feel safe" in english


def test_sync_opens_and_closes_the_workshop_per_window(app, client, clock, runner, make_survey):
    from app.models import Workshop

    clock.at = datetime(2027, 1, 1, tzinfo=UTC)
    made = make_survey()
    with app.app_context():
        assert db.session.get(Survey, made["id"]).workshop.status == "draft"
    clock.at = IN_WINDOW
    assert "1 opened" in runner.invoke(args=["survey", "sync"]).output
    clock.at = datetime(2027, 4, 16, 12, tzinfo=UTC)
    assert "1 closed" in runner.invoke(args=["survey", "sync"]).output
    with app.app_context():
        workshop = db.session.get(Workshop, db.session.get(Survey, made["id"]).workshop_id)
        assert workshop.status == "closed" and workshop.closed_at is not None
    assert "0 opened, 0 closed" in runner.invoke(args=["survey", "sync"]).output


def test_the_api_lists_and_describes_questionnaires(app, client, clock, survey):
    listed = client.get("/api/v1/territories/rennes/surveys").get_json()["surveys"]
    assert [(s["code"], s["status"], s["opens_on"]) for s in listed] == [
        (survey["code"], "open", "2027-01-10")
    ]
    doc = client.get(f"/api/v1/surveys/{survey['code']}").get_json()
    keys = [q["key"] for q in doc["questions"]]
    assert keys[:2] == ["feeling_day", "feeling_night"] and "places" in keys
    first = doc["questions"][0]
    assert first["label"]["en"].startswith("During the day") and first["options"][0]["key"]
    assert client.get("/api/v1/territories/nowhere/surveys").status_code == 404


# -- bots ----------------------------------------------------------------------------------------


def test_token_missing_forged_or_too_early_is_refused(app, client, clock, survey):
    code = survey["code"]
    token = client.get(f"/api/v1/surveys/{code}").get_json()["token"]
    clock.tick(1)
    early = put(client, code, str(uuid.uuid4()), token)
    assert early.status_code == 422 and "sent_after" in early.get_json()["fields"]
    missing = put(client, code, str(uuid.uuid4()), None)
    assert missing.status_code == 422 and "token" in missing.get_json()["fields"]
    forged = put(client, code, str(uuid.uuid4()), token[:-2] + "xx")
    assert forged.status_code == 422 and "token" in forged.get_json()["fields"]
    clock.tick(2.5)  # 3.5 s after the page: accepted, and still a week later (offline)
    assert put(client, code, str(uuid.uuid4()), token).status_code == 201
    clock.tick(7 * 24 * 3600)
    assert put(client, code, str(uuid.uuid4()), token).status_code == 201
    assert len(stored(app)) == 2


def test_a_token_of_another_questionnaire_is_refused(app, client, clock, make_survey):
    first, second = make_survey(), make_survey(title="Autre")
    token = token_for(client, clock, first["code"])
    response = put(client, second["code"], str(uuid.uuid4()), token)
    assert response.status_code == 422 and "token" in response.get_json()["fields"]


def test_honeypot_is_acknowledged_and_dropped(app, client, clock, survey):
    token = token_for(client, clock, survey["code"])
    response = put(client, survey["code"], str(uuid.uuid4()), token, website="http://spam")
    assert response.status_code == 201
    assert stored(app) == []


def test_rate_limit_per_client_is_429(app, client, clock, survey):
    app.config["SURVEY_RATE_PER_CLIENT"] = (3, 60)
    token = token_for(client, clock, survey["code"])
    rid = str(uuid.uuid4())
    codes = [put(client, survey["code"], rid, token).status_code for _ in range(4)]
    assert codes == [201, 200, 200, 429]


def test_rate_limit_per_code_is_429(app, client, clock, survey):
    app.config["SURVEY_RATE_PER_CODE"] = (2, 60)
    token = token_for(client, clock, survey["code"])
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert put(client, survey["code"], str(uuid.uuid4()), token).status_code == 201
    assert put(other, survey["code"], str(uuid.uuid4()), token).status_code == 201
    response = put(other, survey["code"], str(uuid.uuid4()), token)
    assert response.status_code == 429 and response.headers["Retry-After"]


# -- question sets and versions ----------------------------------------------------------------


@pytest.fixture
def coordinator(app, make_user):
    user = make_user("coordinator", "rennes")
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client


def _set_rows(app):
    with app.app_context():
        return [
            (s.version, s.frozen, [q.key for q in s.questions])
            for s in db.session.scalars(sa.select(QuestionSet).order_by(QuestionSet.version))
        ]


def test_seed_command_and_first_visit_seed_the_standard_set(app, runner, rennes, coordinator):
    assert "10 questions" in runner.invoke(args=["survey", "seed", "--territory", "rennes"]).output
    assert "v1" in runner.invoke(args=["survey", "seed", "--territory", "rennes"]).output
    assert len(_set_rows(app)) == 1
    with app.app_context():
        db.session.execute(sa.delete(QuestionSet))
        db.session.commit()
    assert coordinator.get("/t/rennes/questionnaires/").status_code == 200
    assert len(_set_rows(app)) == 1


QUESTION_FORM = {
    "key": "lighting_ok",
    "kind": "single",
    "section": "main",
    "label_fr": "L'éclairage vous suffit-il ?",
    "label_en": "Is the lighting enough?",
    "options": "yes | Oui | Yes\nno | Non | No",
}


def test_editing_a_set_before_use_changes_it_in_place(app, coordinator, rennes):
    coordinator.get("/t/rennes/questionnaires/jeux")
    [(version, frozen, keys)] = _set_rows(app)
    token = csrf_token(coordinator, "/t/rennes/questionnaires/jeux/1")
    response = coordinator.post(
        "/t/rennes/questionnaires/jeux/1/questions", data={**QUESTION_FORM, "csrf_token": token}
    )
    assert response.status_code == 302
    assert _set_rows(app) == [(1, False, [*keys, "lighting_ok"])]
    moved = coordinator.post(
        "/t/rennes/questionnaires/jeux/1/questions/lighting_ok/deplacer",
        data={"direction": "up", "csrf_token": token},
    )
    assert moved.status_code == 302
    assert _set_rows(app)[0][2][-2:] == ["lighting_ok", "gender"]


def test_editing_a_frozen_set_makes_version_2_and_the_survey_keeps_1(
    app, client, clock, coordinator, survey
):
    put(client, survey["code"], str(uuid.uuid4()), token_for(client, clock, survey["code"]))
    token = csrf_token(coordinator, "/t/rennes/questionnaires/jeux/1")
    response = coordinator.post(
        "/t/rennes/questionnaires/jeux/1/questions/comment",
        data={
            "kind": "text",
            "section": "main",
            "label_fr": "Un mot de plus ?",
            "label_en": "Anything else?",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302 and response.location.endswith("/jeux/2")
    rows = _set_rows(app)
    assert [(v, f) for v, f, _k in rows] == [(1, True), (2, False)]
    assert rows[0][2] == rows[1][2]  # same keys, same order
    with app.app_context():
        survey_row = db.session.get(Survey, survey["id"])
        assert survey_row.question_set.version == 1
        labels = dict(
            db.session.execute(
                sa.select(QuestionSet.version, Question.label_fr)
                .join(Question)
                .where(Question.key == "comment")
            ).all()
        )
    assert labels[1] == "Souhaitez-vous ajouter quelque chose ?" and labels[2] == "Un mot de plus ?"
    # Version 1 is read only now: an edit of it is refused.
    old = coordinator.post(
        "/t/rennes/questionnaires/jeux/1/questions/comment/supprimer", data={"csrf_token": token}
    )
    assert old.status_code == 409
    # A second edit goes to version 2 itself (not asked yet).
    coordinator.post(
        "/t/rennes/questionnaires/jeux/2/questions/comment/supprimer", data={"csrf_token": token}
    )
    assert [(v, "comment" in k) for v, _f, k in _set_rows(app)] == [(1, True), (2, False)]


def test_a_question_form_error_names_the_field(app, coordinator, rennes):
    coordinator.get("/t/rennes/questionnaires/jeux")
    token = csrf_token(coordinator, "/t/rennes/questionnaires/jeux/1")
    response = coordinator.post(
        "/t/rennes/questionnaires/jeux/1/questions",
        data={**QUESTION_FORM, "kind": "scale", "key": "feeling_day", "csrf_token": token},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "déjà utilisée" in page and "Une échelle a 4 réponses" in page


# -- coordinator pages: create, window, poster, moderation -------------------------------------


def test_coordinator_creates_a_questionnaire_with_its_workshop_and_code(
    app, coordinator, clock, rennes
):
    coordinator.get("/t/rennes/questionnaires/")
    token = csrf_token(coordinator, "/t/rennes/questionnaires/nouveau")
    response = coordinator.post(
        "/t/rennes/questionnaires/nouveau",
        data={
            "title": "Assises 2027",
            "question_set": "1",
            "opens_on": "2027-01-10",
            "closes_on": "2027-04-15",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(Survey))
        assert made.workshop.kind == "questionnaire" and made.workshop.status == "open"
        assert made.code == made.workshop.groups[0].join_code
        code, survey_id = made.code, made.id
    page = coordinator.get(f"/t/rennes/questionnaires/{survey_id}").get_data(as_text=True)
    assert f"/s/{code}" in page
    poster = coordinator.get(f"/t/rennes/questionnaires/{survey_id}/affiche")
    assert poster.status_code == 200 and "<svg" in poster.get_data(as_text=True)
    wrong = coordinator.post(
        f"/t/rennes/questionnaires/{survey_id}/modifier",
        data={
            "title": "X",
            "opens_on": "2027-05-01",
            "closes_on": "2027-04-01",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422


def test_free_text_is_shown_escaped_to_coordinators_and_police_only(
    app, client, clock, survey, make_user
):
    token = token_for(client, clock, survey["code"])
    put(
        client,
        survey["code"],
        str(uuid.uuid4()),
        token,
        {"answers": answers(comment="<script>x</script>")},
    )
    url = f"/t/rennes/questionnaires/{survey['id']}/textes"
    seen = {}
    for role in ("coordinator", "police", "planner"):
        user = make_user(role, "rennes", email=f"{role}@example.org")
        browser = app.test_client()
        login(browser, user.email)
        seen[role] = browser.get(url)
    assert seen["planner"].status_code == 403
    for role in ("coordinator", "police"):
        page = seen[role].get_data(as_text=True)
        assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    assert 'name="decision"' in seen["coordinator"].get_data(as_text=True)
    assert 'name="decision"' not in seen["police"].get_data(as_text=True)
    # Planners' and the public's JSON never carries it.
    assert "script" not in client.get(f"/api/v1/surveys/{survey['code']}").get_data(as_text=True)


def test_coordinator_approves_and_rejects(app, client, clock, survey, coordinator):
    token = token_for(client, clock, survey["code"])
    put(client, survey["code"], str(uuid.uuid4()), token, {"answers": answers(comment="Bien")})
    with app.app_context():
        text_id = db.session.scalar(sa.select(SurveyText.id))
    url = f"/t/rennes/questionnaires/{survey['id']}/textes"
    csrf = csrf_token(coordinator, url)
    response = coordinator.post(f"{url}/{text_id}", data={"decision": "reject", "csrf_token": csrf})
    assert response.status_code == 302
    with app.app_context():
        text = db.session.get(SurveyText, text_id)
        assert text.status == "rejected" and text.moderated_by is not None
    assert (
        coordinator.post(f"{url}/{text_id}", data={"decision": "x", "csrf_token": csrf}).status_code
        == 422
    )


def test_moving_or_deleting_a_pin_after_closes_on_is_403(app, client, clock, survey):
    body = pin_body()
    assert client.post(f"/api/v1/groups/{survey['code']}/pins", json=body).status_code == 201
    clock.at = datetime(2027, 4, 16, 8, tzinfo=UTC)  # the workshop is still "open": no sync
    url = f"/api/v1/groups/{survey['code']}/pins/{body['id']}"
    moved = client.patch(url, json={"time_of_day": "morning"})
    assert moved.status_code == 403 and moved.get_json()["error"] == "workshop_closed"
    assert client.delete(url).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Pin)) == 1


def test_bad_bodies_never_answer_5xx(app, client, clock, survey):
    from tests.app.test_security import BAD_BODIES

    url = f"/api/v1/surveys/{survey['code']}/responses/{uuid.uuid4()}"
    token = token_for(client, clock, survey["code"])
    bodies = [
        *BAD_BODIES.values(),
        json.dumps({"answers": {"comment": "a\u0000b"}, "token": token}),
        json.dumps({"answers": {"feeling_day": "very_safe", "feeling_night": 12}, "token": token}),
        '{"answers": {"places": [1, null]}, "other": {"safer": 5}, "token": 7}',
    ]
    for body in bodies:
        response = client.put(url, data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, (body[:60], response.status_code)
        assert set(response.get_json()) == {"error", "message", "fields"}
    assert stored(app) == []
