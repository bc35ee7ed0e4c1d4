"""The time the questionnaire windows are read at: now, unless a test set
``SURVEY_CLOCK`` (a function returning an aware datetime) to stand at a window's edge."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.models import utcnow


def now() -> datetime:
    clock = current_app.config.get("SURVEY_CLOCK")
    return clock() if clock else utcnow()
