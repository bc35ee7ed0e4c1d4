"""The results page of the demo questionnaire on a 360×640 phone in Chromium: the public
sees charts from the release (no bar for a withheld count, nothing wider than the screen,
no free text), the charts are images with a name, the page passes axe, and no request
leaves 127.0.0.1; a coordinator sees exact counts and the approved free text."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Survey, SurveyText
from app.survey.demo import DEMO_SURVEY_TITLE
from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.conftest import PHONE
from tests.helpers import PASSWORD


def _demo(app, runner) -> int:
    out = runner.invoke(args=["demo", "load"]).output
    assert "demo questionnaire created with 300 responses" in out, out
    with app.app_context():
        return db.session.scalar(sa.select(Survey.id).where(Survey.title == DEMO_SURVEY_TITLE))


def test_public_results_on_a_phone(app, runner, rennes, live_server, browser):
    survey_id = _demo(app, runner)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server}/t/rennes/questionnaires/{survey_id}/resultats")
    expect(page.locator("h1")).to_contain_text("Résultats")
    expect(page.locator("#source")).to_contain_text("publication")
    charts = page.locator("svg.bar-chart[role=img]")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 5
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("aria-label")
    # Nothing wider than the phone: the charts scale to the column.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = charts.first.bounding_box()
    assert box["width"] <= 360 and box["height"] > 50
    # Every written count of the public page is at least k, or "< 3" with no bar.
    values = page.locator("svg.bar-chart text.value").all_text_contents()
    assert values and all(int(v.split(" ")[0]) >= 3 for v in values)
    with app.app_context():
        texts = db.session.scalars(sa.select(SurveyText.text)).all()
    body = page.content()
    assert texts and not any(t in body for t in texts)
    assert_no_axe_violations(page)
    assert {urlsplit(u).hostname for u in requests} == {"127.0.0.1"}
    page.screenshot(path="/tmp/survey-results-phone.png", full_page=True)
    context.close()


def test_coordinator_reads_exact_counts_and_free_text(
    app, runner, rennes, live_server, browser, make_user
):
    survey_id = _demo(app, runner)
    user = make_user("coordinator", "rennes")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/t/rennes/questionnaires/{survey_id}/resultats")
    expect(page.locator("#source")).to_contain_text("Comptes exacts")
    expect(page.locator("#respondents")).to_have_text("300")
    expect(page.locator("#texts li").first).to_be_visible()
    page.locator("#question-feeling_night details summary").first.click()
    expect(page.locator("#question-feeling_night details svg").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_public_last_edition_and_comparison_on_a_phone(app, runner, rennes, live_server, browser):
    """Last year's edition is released in full: the night-time feeling by gender shows;
    the two editions compare side by side within the phone's width."""
    current = _demo(app, runner)
    with app.app_context():
        previous = db.session.scalar(sa.select(Survey.id).where(Survey.id != current))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/t/rennes/questionnaires/{previous}/resultats")
    night = page.locator("#night-title + p + figure svg.bar-chart")
    expect(night).to_be_visible()
    assert "Femme" in night.get_attribute("aria-label") or "Femme" in night.inner_html()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("a", has_text="Comparer avec").first.click()
    expect(page.locator("h1")).to_have_text("Comparer deux éditions")
    expect(page.locator("table.compare tbody").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_no_axe_violations(page)
    page.screenshot(path="/tmp/survey-compare-phone.png", full_page=True)
    context.close()
