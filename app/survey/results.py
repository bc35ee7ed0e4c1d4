"""A questionnaire's results as people read them: per question, the count and share of each
answer overall and per breakdown row, the map's pins by time of day, and (for comment
readers) the approved free text.

Two sources, one shape: the territory's staff read exact counts (every count stated);
everyone else reads the latest public release (:mod:`app.survey.release`), where a count
is stated only from its display threshold (at least k), a row whose respondents are under
it is withheld whole, and in a row of a single-choice or scale question where one answer
is withheld a second one is too (the row's total minus the others would otherwise give it
back). The map's public figures come from the pins' own release (:mod:`app.analysis.release`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _

from app import access, vocabulary
from app.extensions import db
from app.models import (
    FEELINGS,
    TIMES_OF_DAY,
    Pin,
    PublicRelease,
    Question,
    Survey,
    SurveyRelease,
    SurveyText,
    Territory,
)
from app.survey import release as survey_release
from app.survey.seed import GENDER_KEY
from geo.charts import Bar, Group, bar_chart
from geo.privacy import display_threshold

# Noisy counts are stated from 3 noise deviations (and k), as the pins' release does: a
# count nobody gave shows under 1 % of the time; post-processing, it costs no privacy.
Z = 3.0
MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id names no questionnaire


def survey_for(slug: str, survey_id: int) -> tuple[Territory, Survey]:
    """The territory and its questionnaire; 404 when either is unknown (or they differ)."""
    territory = db.session.scalar(sa.select(Territory).where(Territory.slug == slug))
    survey = db.session.get(Survey, survey_id) if 0 < survey_id <= MAX_ID else None
    if territory is None or survey is None or survey.territory_id != territory.id:
        abort(404)
    return territory, survey


def label(item) -> str:
    """A question's or an option's label in the request's language (French when the
    English one is empty)."""
    if isinstance(item, dict):
        return (item.get("label_en") if vocabulary.english() else None) or item["label_fr"]
    return (item.label_en if vocabulary.english() else None) or item.label_fr


@dataclass
class Results:
    """What a results page, its API and its CSV show. ``exact``: staff counts; otherwise
    ``release`` is the public release read (None before the first one)."""

    survey: Survey
    exact: bool
    k: int
    release: SurveyRelease | None
    respondents: int | None = None
    questions: list[dict] = field(default_factory=list)
    times: dict | None = None
    texts: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "survey": {
                "id": self.survey.id,
                "code": self.survey.code,
                "title": self.survey.title,
                "opens_on": self.survey.opens_on.isoformat(),
                "closes_on": self.survey.closes_on.isoformat(),
            },
            "exact": self.exact,
            "k": None if self.exact else self.k,
            "release": None
            if self.release is None
            else {
                "made_at": self.release.made_at.isoformat(),
                "final": self.release.final,
                "epsilon": self.release.epsilon,
            },
            "respondents": self.respondents,
            "questions": self.questions,
            "pins_by_time": self.times,
            **({"texts": self.texts} if self.texts else {}),
        }


def results(territory: Territory, survey: Survey, exact: bool | None = None) -> Results:
    """The results the current user may read: exact for the territory's staff (unless
    ``exact`` is False), the public release otherwise."""
    exact = access.staff(territory) if exact is None else exact
    k = access.suppression_k()
    if exact:
        tables = survey_release.exact_tables(survey)
        made = Results(survey, True, k, None)
        made.respondents = tables["respondents"]
        made.questions = _questions(survey, tables, None, k)
        made.times = exact_times(survey)
        if access.reads_comments():
            made.texts = approved_texts(survey)
        return made
    latest = survey_release.latest(survey)
    made = Results(survey, False, k, latest)
    if latest is not None:
        tables = latest.tables
        threshold = float(display_threshold(k, tables["scale"], 1, z=Z))
        made.respondents = _stated(tables["respondents"], threshold)
        made.questions = _questions(survey, tables, tables["scale"], k, made.respondents)
    made.times = public_times(survey, k)
    return made


def _stated(value: int, threshold: float) -> int | None:
    return int(value) if value >= threshold else None


def _questions(
    survey: Survey, tables: dict, scale: float | None, k: int, respondents: int | None = None
) -> list[dict]:
    """Per counted question: overall and per breakdown row, each answer's count and share.
    ``scale`` None: exact counts; otherwise noisy ones, read under thresholds."""
    by_key = {q.key: q for q in survey.question_set.questions}
    out = []
    for question in survey_release.counted_questions(survey):
        table = tables["questions"].get(question.key)
        if table is None:
            continue
        options = {o["key"]: label(o) for o in question.options}
        options.setdefault(survey_release.OTHER, _("Autre"))
        total = tables["respondents"] if scale is None else respondents
        overall = _row(question, table["columns"], table["overall"], options, scale, k, total)
        breakdowns = []
        for b, part in table["by"].items():
            b_question = by_key.get(b)
            if b_question is None:
                continue
            b_labels = {o["key"]: label(o) for o in b_question.options}
            b_labels[survey_release.NOT_ANSWERED] = _("Non renseigné")
            rows = []
            for row_key, values in zip(part["rows"], part["values"], strict=True):
                row = _row(question, table["columns"], values, options, scale, k, None)
                rows.append({"key": row_key, "label": b_labels.get(row_key, row_key), **row})
            breakdowns.append({"key": b, "label": label(b_question), "rows": rows})
        out.append(
            {
                "key": question.key,
                "kind": question.kind,
                "section": question.section,
                "label": label(question),
                **overall,
                "by": breakdowns,
            }
        )
    return out


def _row(
    question: Question,
    keys: list[str],
    values: list[int],
    labels: dict,
    scale: float | None,
    k: int,
    respondents: int | None,
) -> dict:
    """One row of answers: ``n`` (its respondents) and each answer's count and share.

    For single-choice and scale questions ``n`` is the row's sum; for multiple choice
    (several answers each) it is the questionnaire's respondents, given."""
    values = [int(v) for v in values]
    multiple = question.kind == "multiple"
    if scale is None:  # exact
        n = respondents if multiple else sum(values)
        counts: list[int | None] = list(values)
    else:
        single = float(display_threshold(k, scale, 1, z=Z))
        if multiple:
            n = respondents
        else:
            total = sum(max(v, 0) for v in values)
            n = _stated(total, float(display_threshold(k, scale, len(values), z=Z)))
        counts = [_stated(v, single) if n is not None else None for v in values]
        withheld = [i for i, c in enumerate(counts) if c is None]
        if not multiple and n is not None and len(withheld) == 1:
            shown = [i for i, c in enumerate(counts) if c is not None]
            if shown:  # the total minus the others would state the withheld one
                counts[min(shown, key=lambda i: counts[i])] = None
    answers = []
    for key, count in zip(keys, counts, strict=True):
        share = None
        if count is not None and n:
            share = round(max(count, 0) / n, 4)
        answers.append({"key": key, "label": labels.get(key, key), "count": count, "share": share})
    return {"n": n, "answers": answers}


# -- the map question: pins by time of day ---------------------------------------------------


def exact_times(survey: Survey) -> dict:
    """The workshop's pins per feeling × time of day (staff)."""
    counts = {f: dict.fromkeys(TIMES_OF_DAY, 0) for f in FEELINGS}
    rows = db.session.execute(
        sa.select(Pin.feeling, Pin.time_of_day, sa.func.count())
        .where(Pin.workshop_id == survey.workshop_id)
        .group_by(Pin.feeling, Pin.time_of_day)
    )
    for feeling, time_of_day, n in rows:
        counts[feeling][time_of_day] = n
    return {"counts": counts, "release": None}


def public_times(survey: Survey, k: int) -> dict | None:
    """Pins per feeling × time of day from the pins' public release of the questionnaire's
    workshop (its quartier tables summed), each stated from its threshold; None before
    any release."""
    releases = list(
        db.session.scalars(
            sa.select(PublicRelease)
            .where(PublicRelease.workshop_id == survey.workshop_id)
            .order_by(PublicRelease.id)
        )
    )
    if not releases:
        return None
    total = np.zeros((len(FEELINGS), len(TIMES_OF_DAY)), dtype=np.int64)
    terms = 0
    for made in releases:
        by_time = np.asarray(made.quartiers["by_time"], dtype=np.int64)
        if by_time.size:
            total += by_time.sum(axis=0)
            terms += by_time.shape[0]
    scale = max(made.scales["times"] for made in releases)
    threshold = float(display_threshold(k, scale, max(terms, 1)))
    counts = {
        f: {t: _stated(total[i, j], threshold) for j, t in enumerate(TIMES_OF_DAY)}
        for i, f in enumerate(FEELINGS)
    }
    return {"counts": counts, "release": releases[-1].made_at.isoformat()}


# -- free text ---------------------------------------------------------------------------------


def approved_texts(survey: Survey) -> list[dict]:
    """Approved free text (comment readers only: the caller checks)."""
    labels = {q.key: label(q) for q in survey.question_set.questions}
    rows = db.session.scalars(
        sa.select(SurveyText)
        .where(SurveyText.survey_id == survey.id, SurveyText.status == "approved")
        .order_by(SurveyText.created_at, SurveyText.id)
    )
    return [{"question": labels.get(t.question_key, t.question_key), "text": t.text} for t in rows]


# -- comparing two editions ---------------------------------------------------------------------


def comparable(a: Survey, b: Survey) -> bool:
    """Two editions of one question set lineage in one territory."""
    return (
        a.territory_id == b.territory_id
        and a.question_set.lineage == b.question_set.lineage
        and a.id != b.id
    )


def compare(first: Results, second: Results) -> list[dict]:
    """Questions of both editions matched by key, each answer's share in each (None when
    withheld), with the respondents of each."""
    theirs = {q["key"]: q for q in second.questions}
    out = []
    for mine in first.questions:
        other = theirs.get(mine["key"])
        if other is None:
            continue
        b_answers = {a["key"]: a for a in other["answers"]}
        keys = [a["key"] for a in mine["answers"]] + [
            key for key in b_answers if key not in {a["key"] for a in mine["answers"]}
        ]
        a_answers = {a["key"]: a for a in mine["answers"]}
        rows = []
        for key in keys:
            left, right = a_answers.get(key), b_answers.get(key)
            rows.append(
                {
                    "key": key,
                    "label": (left or right)["label"],
                    "share_a": left["share"] if left else None,
                    "share_b": right["share"] if right else None,
                    "count_a": left["count"] if left else None,
                    "count_b": right["count"] if right else None,
                }
            )
        out.append(
            {
                "key": mine["key"],
                "label": mine["label"],
                "n_a": mine["n"],
                "n_b": other["n"],
                "answers": rows,
            }
        )
    return out


def night_by_gender(made: Results) -> dict | None:
    """The night-time feeling by gender, as women's-safety surveys report it."""
    for question in made.questions:
        if question["key"] == "feeling_night":
            for part in question["by"]:
                if part["key"] == GENDER_KEY:
                    return {"question": question, "part": part}
    return None


# -- charts ---------------------------------------------------------------------------------------


def _percent() -> str:
    return "{}%" if vocabulary.english() else "{}\u202f%"


def _bars(answers: list[dict]) -> list:
    return [Bar(a["label"], a["count"], a["share"]) for a in answers]


def question_charts(made: Results, question: dict) -> dict:
    """The SVG charts of one question: ``overall`` and one per breakdown key."""
    withheld = _("< %(k)d", k=made.k)
    options = {"withheld": withheld, "percent": _percent()}
    charts = {
        "overall": bar_chart(
            question["label"],
            [Group(None, _bars(question["answers"]))],
            chart_id=f"q-{question['key']}",
            **options,
        )
    }
    for part in question["by"]:
        groups = [
            Group(
                f"{row['label']} ({row['n'] if row['n'] is not None else withheld})",
                _bars(row["answers"]),
                note=None
                if row["n"] is not None
                else _("Moins de %(k)d répondants : non publié.", k=made.k),
            )
            for row in part["rows"]
            # Rows nobody is in (staff) and the "not answered" row (public) say nothing.
            if row["n"] != 0 and (made.exact or row["key"] != survey_release.NOT_ANSWERED)
        ]
        charts[part["key"]] = bar_chart(
            _("%(question)s — selon : %(by)s", question=question["label"], by=part["label"]),
            groups,
            chart_id=f"q-{question['key']}-{part['key']}",
            **options,
        )
    return charts


def times_chart(made: Results) -> str | None:
    """Pins by time of day, unsafe and safe."""
    if made.times is None:
        return None
    groups = []
    for feeling in FEELINGS:
        counts = made.times["counts"][feeling]
        groups.append(
            Group(
                str(vocabulary.FEELING_LABELS[feeling]),
                [Bar(str(vocabulary.TIME_LABELS[t]), counts[t]) for t in TIMES_OF_DAY],
            )
        )
    colour = vocabulary.FEELING_COLOURS["unsafe"]
    return bar_chart(
        _("Points placés sur la carte, selon le moment"),
        groups,
        withheld=_("< %(k)d", k=made.k),
        colour=colour,
        chart_id="pins-by-time",
    )
