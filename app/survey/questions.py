"""Editing a territory's question sets, version by version.

A version that a questionnaire has asked (one that is open or closed, or that has a
response) is never changed again: editing it makes the next version of the same
lineage, a copy whose questions keep their keys, so that two editions still compare
question by question. The questionnaires already made keep the version they asked.
Only the latest version of a lineage is edited; older ones are read.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from app.errors import ValidationError
from app.extensions import db
from app.models import (
    QUESTION_KINDS,
    QUESTION_SECTIONS,
    Question,
    QuestionSet,
    Survey,
    SurveyResponse,
    Territory,
)
from app.survey import window

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CHOICE_KINDS = ("single", "multiple", "scale")
SCALE_POINTS = 4  # the issue's 4-point scales, from the best to the worst
MAX_OPTIONS = 40
OTHER = "other"  # the option key of "autre", whose text goes to moderation
LABEL_MAX = 500
FIELDS = ("kind", "section", "label_fr", "label_en", "help_fr", "help_en", "options")


def sets_of(territory: Territory) -> list[QuestionSet]:
    """Every version of every set of the territory, newest version first per lineage."""
    return list(
        db.session.scalars(
            sa.select(QuestionSet)
            .where(QuestionSet.territory_id == territory.id)
            .order_by(QuestionSet.lineage, QuestionSet.version.desc())
        )
    )


def latest(question_set: QuestionSet) -> QuestionSet:
    return db.session.scalar(
        sa.select(QuestionSet)
        .where(
            QuestionSet.territory_id == question_set.territory_id,
            QuestionSet.lineage == question_set.lineage,
        )
        .order_by(QuestionSet.version.desc())
        .limit(1)
    )


def is_frozen(question_set: QuestionSet) -> bool:
    """Frozen: marked so, or asked by a questionnaire (in or past its window, closed by
    hand, or with a response)."""
    if question_set.frozen:
        return True
    surveys = db.session.scalars(
        sa.select(Survey).where(Survey.question_set_id == question_set.id)
    ).all()
    if any(window.status(s) != window.UPCOMING or s.workshop.status == "open" for s in surveys):
        return True
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SurveyResponse)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(Survey.question_set_id == question_set.id)
        )
    )


def freeze(question_set: QuestionSet) -> None:
    if not question_set.frozen:
        question_set.frozen = True


def new_set(territory: Territory, title: str) -> QuestionSet:
    """An empty set (version 1) of a new lineage. The caller commits."""
    taken = set(
        db.session.scalars(
            sa.select(QuestionSet.lineage).where(QuestionSet.territory_id == territory.id)
        )
    )
    number = len(taken) + 1
    while f"set-{number}" in taken:
        number += 1
    question_set = QuestionSet(
        territory_id=territory.id, lineage=f"set-{number}", version=1, title=title
    )
    db.session.add(question_set)
    db.session.flush()
    return question_set


def editable(question_set: QuestionSet) -> QuestionSet:
    """The version an edit applies to: the set itself, or once frozen its next version
    (a copy, same lineage and keys). 409 for an older version. The caller commits."""
    if latest(question_set).id != question_set.id:
        raise ValidationError(
            {"version": _("Seule la dernière version d'un jeu de questions se modifie.")},
            _("Version ancienne : modifiez la dernière."),
            status=409,
        )
    if not is_frozen(question_set):
        return question_set
    freeze(question_set)
    copy = QuestionSet(
        territory_id=question_set.territory_id,
        lineage=question_set.lineage,
        version=question_set.version + 1,
        title=question_set.title,
    )
    for question in question_set.questions:
        copy.questions.append(
            Question(
                key=question.key,
                position=question.position,
                allow_other=question.allow_other,
                required=question.required,
                **{name: getattr(question, name) for name in FIELDS},
            )
        )
    db.session.add(copy)
    db.session.flush()
    return copy


# -- one question's fields -----------------------------------------------------------------


def parse_options(text: str) -> list[dict]:
    """Options typed one per line: ``key | libellé | English label`` (the English label
    may be left out: the French one is used)."""
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        key, label_fr = parts[0], parts[1] if len(parts) > 1 else ""
        label_en = parts[2] if len(parts) > 2 and parts[2] else label_fr
        options.append({"key": key, "label_fr": label_fr, "label_en": label_en})
    return options


def options_text(options: list[dict]) -> str:
    return "\n".join(f"{o['key']} | {o['label_fr']} | {o['label_en']}" for o in options)


def clean_question(data: dict, question_set: QuestionSet, key: str | None) -> dict:
    """Check one question's fields (``key`` None: a new question, whose key is in
    ``data``); raises :class:`ValidationError` naming each wrong field."""
    errors: dict[str, str] = {}
    clean = {
        "kind": data.get("kind"),
        "section": data.get("section") or "main",
        "allow_other": bool(data.get("allow_other")),
        "required": bool(data.get("required")),
    }
    for name in ("label_fr", "label_en", "help_fr", "help_en"):
        value = (data.get(name) or "").strip()
        if len(value) > LABEL_MAX:
            errors[name] = _("%(n)d caractères au plus.", n=LABEL_MAX)
        clean[name] = value
    if not clean["label_fr"]:
        errors["label_fr"] = _("Le libellé en français est obligatoire.")
    if not clean["label_en"]:
        clean["label_en"] = clean["label_fr"]
    if key is None:
        key = (data.get("key") or "").strip()
        if not KEY.match(key):
            errors["key"] = _("Clé de lettres minuscules, chiffres et _ (64 au plus).")
        elif any(q.key == key for q in question_set.questions):
            errors["key"] = _("Cette clé est déjà utilisée dans ce jeu.")
    clean["key"] = key
    if clean["kind"] not in QUESTION_KINDS:
        errors["kind"] = _("Type de question inconnu.")
    if clean["section"] not in QUESTION_SECTIONS:
        errors["section"] = _("Partie inconnue.")
    options = data.get("options") or []
    if clean["kind"] in CHOICE_KINDS:
        problem = _options_problem(options, clean["kind"])
        if problem:
            errors["options"] = problem
        clean["options"] = options
    else:
        clean["options"], clean["allow_other"] = [], False
    if clean["kind"] == "scale":
        clean["allow_other"] = False
    if clean["kind"] == "map" and any(
        q.kind == "map" and q.key != key for q in question_set.questions
    ):
        errors["kind"] = _("Un jeu n'a qu'une question « carte ».")
    if errors:
        raise ValidationError(errors, _("La question n'a pas été enregistrée."))
    return clean


def _options_problem(options: list[dict], kind: str) -> str | None:
    if kind == "scale" and len(options) != SCALE_POINTS:
        return _("Une échelle a %(n)d réponses, de la meilleure à la pire.", n=SCALE_POINTS)
    if not 2 <= len(options) <= MAX_OPTIONS:
        return _("De 2 à %(n)d réponses, une par ligne.", n=MAX_OPTIONS)
    keys = [o["key"] for o in options]
    if not all(KEY.match(k) or re.match(r"^[A-Za-z0-9][\w.-]{0,63}$", k) for k in keys):
        return _("Chaque réponse commence par une clé (lettres, chiffres, _ . -), puis « | ».")
    if len(set(keys)) != len(keys):
        return _("Deux réponses ont la même clé.")
    if OTHER in keys:
        return _("La clé « other » est réservée à « autre » : cochez la case plutôt.")
    if not all(o["label_fr"] and len(o["label_fr"]) <= LABEL_MAX for o in options):
        return _("Chaque réponse a un libellé en français.")
    return None


# -- edits, applied to the editable version -------------------------------------------------


def add_question(question_set: QuestionSet, data: dict) -> QuestionSet:
    target = editable(question_set)
    clean = clean_question(data, target, None)
    position = max((q.position for q in target.questions), default=-1) + 1
    target.questions.append(Question(position=position, **clean))
    db.session.flush()
    return target


def _by_key(question_set: QuestionSet, key: str) -> Question:
    for question in question_set.questions:
        if question.key == key:
            return question
    raise ValidationError({"key": _("Question inconnue.")}, _("Question inconnue."), status=404)


def update_question(question_set: QuestionSet, key: str, data: dict) -> QuestionSet:
    _by_key(question_set, key)
    target = editable(question_set)
    question = _by_key(target, key)
    clean = clean_question(data, target, key)
    for name, value in clean.items():
        setattr(question, name, value)
    db.session.flush()
    return target


def remove_question(question_set: QuestionSet, key: str) -> QuestionSet:
    _by_key(question_set, key)
    target = editable(question_set)
    target.questions.remove(_by_key(target, key))
    _renumber(target)
    return target


def move_question(question_set: QuestionSet, key: str, step: int) -> QuestionSet:
    """Move a question one place up (``step`` −1) or down (+1)."""
    _by_key(question_set, key)
    target = editable(question_set)
    ordered = sorted(target.questions, key=lambda q: q.position)
    index = ordered.index(_by_key(target, key))
    other = index + step
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, question in enumerate(ordered):
        question.position = position
    db.session.flush()
    return target


def retitle(question_set: QuestionSet, title: str) -> QuestionSet:
    target = editable(question_set)
    target.title = title
    return target


def _renumber(question_set: QuestionSet) -> None:
    ordered = sorted(question_set.questions, key=lambda q: q.position)
    for position, question in enumerate(ordered):
        question.position = position
    db.session.flush()


# -- what the page and the API send --------------------------------------------------------


def question_json(question: Question) -> dict:
    """A question with its labels in both languages (the API and the public page)."""
    return {
        "key": question.key,
        "kind": question.kind,
        "section": question.section,
        "required": question.required,
        "allow_other": question.allow_other,
        "label": {"fr": question.label_fr, "en": question.label_en},
        "help": {"fr": question.help_fr, "en": question.help_en},
        "options": [
            {"key": o["key"], "label": {"fr": o["label_fr"], "en": o["label_en"]}}
            for o in question.options
        ],
    }
