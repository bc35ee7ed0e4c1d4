"""The questionnaire on a 360×640 touch phone in French (issue 18): answer, place a pin,
send; change an answer offline and see it sent when the network returns (one response,
changed); reload and find the answers kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Pin, SurveyResponse, SurveyText, Territory, utcnow
from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.conftest import sign_in
from tests.e2e.test_phone import new_phone

SLOW = 20_000  # ms: the first send waits for the page token's 3 seconds


@pytest.fixture
def code(app, rennes):
    from app.survey import surveys
    from app.survey.seed import seed_standard_set

    with app.test_request_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        today = utcnow().date()
        made = surveys.create(
            territory,
            "Sentiment de sécurité",
            seed_standard_set(territory),
            today - timedelta(days=1),
            today + timedelta(days=30),
        )
        db.session.commit()
        return made.code


@pytest.fixture
def respondent(browser):
    """A phone (tests/e2e/test_phone.py) whose page must raise no script error."""
    page = new_phone(browser)
    yield page
    errors = page.errors
    page.context.close()
    assert errors == []


def responses(app) -> list[dict]:
    with app.app_context():
        return [r.answers for r in db.session.scalars(sa.select(SurveyResponse))]


def choose(page, key: str, value: str) -> None:
    page.locator(f"input[name='q-{key}'][value='{value}']").check()


def test_answer_place_a_pin_change_offline_and_reload(app, live_server, respondent, code):
    phone = respondent
    phone.goto(f"{live_server}/s/{code}")
    expect(phone.locator("#survey-form")).to_be_visible()
    expect(phone.locator("#pin-map .leaflet-overlay-pane path").first).to_be_attached()
    expect(phone.locator("legend").first).to_contain_text("En journée")
    assert_no_axe_violations(phone)

    choose(phone, "feeling_day", "rather_safe")
    choose(phone, "feeling_night", "rather_unsafe")
    choose(phone, "avoidance", "sometimes")
    choose(phone, "safer", "lighting")
    choose(phone, "safer", "other")
    phone.fill("#other-safer", "Des bancs")
    choose(phone, "residence", "resident")
    choose(phone, "quartier", "Q.11")

    phone.locator("#place-centre").tap()
    expect(phone.locator("#pin-sheet")).to_be_visible()
    assert_no_axe_violations(phone)
    phone.locator("#pin-add").tap()
    expect(phone.locator("#pin-list li[data-state=sent]")).to_have_count(1, timeout=SLOW)

    phone.locator("#survey-send").tap()
    expect(phone.locator("#survey-sync")).to_have_attribute("data-state", "sent", timeout=SLOW)
    [sent] = responses(app)
    with app.app_context():
        pin_ids = [str(i) for i in db.session.scalars(sa.select(Pin.id))]
        [other] = db.session.scalars(sa.select(SurveyText.text)).all()
    assert sent["feeling_night"] == "rather_unsafe" and sent["quartier"] == "Q.11"
    assert sent["safer"] == ["lighting", "other"] and other == "Des bancs"
    assert sent["places"] == pin_ids and len(pin_ids) == 1

    phone.context.set_offline(True)
    choose(phone, "feeling_night", "very_unsafe")
    expect(phone.locator("#survey-sync")).to_have_attribute("data-state", "pending")
    expect(phone.locator("#survey-sync")).to_contain_text("pas de réseau", timeout=SLOW)
    assert responses(app)[0]["feeling_night"] == "rather_unsafe"
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#survey-sync")).to_have_attribute("data-state", "sent", timeout=SLOW)
    [changed] = responses(app)
    assert changed == {**sent, "feeling_night": "very_unsafe"}

    phone.reload()
    expect(phone.locator("input[name='q-feeling_night'][value='very_unsafe']")).to_be_checked()
    expect(phone.locator("input[name='q-safer'][value='other']")).to_be_checked()
    expect(phone.locator("#other-safer")).to_have_value("Des bancs")
    expect(phone.locator("#pin-list li")).to_have_count(1)
    expect(phone.locator("#survey-sync")).to_have_attribute("data-state", "sent")
    assert len(responses(app)) == 1


def test_the_page_fits_a_phone_and_says_when_it_opens(app, live_server, respondent, rennes):
    phone = respondent
    from app.survey import surveys
    from app.survey.seed import seed_standard_set

    with app.test_request_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        later = utcnow().date() + timedelta(days=10)
        made = surveys.create(
            territory, "Plus tard", seed_standard_set(territory), later, later + timedelta(days=5)
        )
        db.session.commit()
        code = made.code
    phone.goto(f"{live_server}/s/{code}")
    expect(phone.locator("#survey-state")).to_contain_text("Ce questionnaire ouvre le")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360


def test_coordinator_pages_pass_axe(app, live_server, page, make_user, code):
    sign_in(page, live_server, make_user("coordinator", "rennes").email)
    page.goto(f"{live_server}/t/rennes/questionnaires/")
    expect(page.locator("table.data a")).to_have_count(1)
    assert_no_axe_violations(page)
    page.locator("table.data a").click()
    expect(page.locator("#public-link")).to_contain_text(f"/s/{code}")
    assert_no_axe_violations(page)
    page.goto(f"{live_server}/t/rennes/questionnaires/jeux/1")
    expect(page.locator("#frozen-note")).to_be_visible()
    assert_no_axe_violations(page)


def test_offline_reload_keeps_the_page_and_the_answers(app, live_server, respondent, code):
    """After one visit the service worker holds the page: offline, a reload shows it
    with the answers kept, and they go once the network returns."""
    phone = respondent
    phone.goto(f"{live_server}/s/{code}")
    expect(phone.locator("html")).to_have_attribute("data-sw", "ready", timeout=30_000)
    choose(phone, "feeling_day", "very_safe")
    choose(phone, "feeling_night", "rather_safe")
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("input[name='q-feeling_day'][value='very_safe']")).to_be_checked()
    phone.locator("#survey-send").tap()
    expect(phone.locator("#survey-sync")).to_contain_text("pas de réseau", timeout=SLOW)
    assert responses(app) == []
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#survey-sync")).to_have_attribute("data-state", "sent", timeout=SLOW)
    [sent] = responses(app)
    assert sent == {"feeling_day": "very_safe", "feeling_night": "rather_safe"}


def test_two_tabs_share_one_response(app, live_server, respondent, code):
    first = respondent
    second = first.context.new_page()
    for page in (first, second):
        page.goto(f"{live_server}/s/{code}")
        expect(page.locator("#survey-form")).to_be_visible()
    choose(first, "feeling_day", "very_safe")
    choose(first, "feeling_night", "very_safe")
    first.locator("#survey-send").tap()
    expect(second.locator("input[name='q-feeling_day'][value='very_safe']")).to_be_checked()
    choose(second, "feeling_night", "very_unsafe")
    expect(first.locator("input[name='q-feeling_night'][value='very_unsafe']")).to_be_checked()
    for page in (first, second):
        expect(page.locator("#survey-sync")).to_have_attribute("data-state", "sent", timeout=SLOW)
    [sent] = responses(app)
    assert sent == {"feeling_day": "very_safe", "feeling_night": "very_unsafe"}
