"""A questionnaire's opening window: ``opens_on`` from 00:00 to ``closes_on`` until
23:59:59, both dates in the territory's time zone, and the clock that reads it.

The clock is :func:`app.clock.now`, which asks the ``SURVEY_CLOCK`` setting when a test
set it: tests move time to the window's edges without sleeping.
The window decides on its own, at every request: a response or a pin sent outside it is
refused even before ``flask survey sync`` has opened or closed the questionnaire's
workshop. The workshop's status still matters once a coordinator closed it by hand.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app import clock
from app.models import Survey

UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


now = clock.now


def zone(survey: Survey) -> ZoneInfo:
    return ZoneInfo(survey.workshop.territory.time_zone or "Europe/Paris")


def local_today(survey: Survey, at: datetime | None = None) -> date:
    """The date at the territory at ``at`` (now by default)."""
    return (at or now()).astimezone(zone(survey)).date()


def opens_at(survey: Survey) -> datetime:
    """The first instant of the window: ``opens_on`` 00:00 local."""
    return datetime.combine(survey.opens_on, time.min, tzinfo=zone(survey))


def closes_at(survey: Survey) -> datetime:
    """The first instant after the window: the day after ``closes_on``, 00:00 local."""
    return datetime.combine(survey.closes_on + timedelta(days=1), time.min, tzinfo=zone(survey))


def phase(survey: Survey, at: datetime | None = None) -> str:
    """Where ``at`` falls: before the window, in it, or after it (by the dates alone)."""
    today = local_today(survey, at)
    if today < survey.opens_on:
        return UPCOMING
    if today > survey.closes_on:
        return CLOSED
    return OPEN


def status(survey: Survey, at: datetime | None = None) -> str:
    """What the public is told: the window's phase, except that a questionnaire its
    coordinator closed by hand is closed."""
    if survey.workshop.status == "closed":
        return CLOSED
    return phase(survey, at)


def accepting(survey: Survey, at: datetime | None = None) -> bool:
    return status(survey, at) == OPEN
