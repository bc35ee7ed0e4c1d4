"""Coordinator pages of the questionnaires: the list, making one and changing its
window, its public link and printable QR poster, the moderation of its free text, and
the territory's question sets with their versions.

Coordinators and admins change things; police and planners read. Free text (pending,
approved or rejected) is read by coordinators and police only (DESIGN §6).
"""

from __future__ import annotations

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app import access, audit, vocabulary
from app.errors import ValidationError as InputError
from app.extensions import db
from app.models import (
    QUESTION_KINDS,
    QUESTION_SECTIONS,
    QuestionSet,
    Survey,
    SurveyResponse,
    SurveyText,
    Territory,
    utcnow,
)
from app.survey import questions, surveys, window
from app.workshops.views import plausible_day

bp = Blueprint("survey", __name__, url_prefix="/t/<slug>/questionnaires")

# Who reads the free text of the answers, pending and rejected included.
TEXT_READERS = ("coordinator", "police")
KIND_LABELS = {
    "single": _l("Choix unique"),
    "multiple": _l("Choix multiple"),
    "scale": _l("Échelle en 4 points"),
    "text": _l("Texte court"),
    "map": _l("Carte (points)"),
}
SECTION_LABELS = {"main": _l("Questions"), "profile": _l("Profil (facultatif)")}
STATUS_LABELS = {
    window.UPCOMING: _l("à venir"),
    window.OPEN: _l("ouvert"),
    window.CLOSED: _l("clos"),
}


def window_order(form, field) -> None:
    if form.opens_on.data and field.data and field.data < form.opens_on.data:
        raise ValidationError(_("La fermeture suit l'ouverture."))


class WindowForm(FlaskForm):
    """What changes once made: the title and the window."""

    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Ouvre le"), validators=[DataRequired(), plausible_day])
    closes_on = DateField(
        _l("Ferme le (inclus)"), validators=[DataRequired(), plausible_day, window_order]
    )


class SurveyForm(WindowForm):
    question_set = SelectField(_l("Jeu de questions"), coerce=int)


class SetForm(FlaskForm):
    title = StringField(_l("Titre du jeu"), validators=[DataRequired(), Length(max=200)])


class QuestionForm(FlaskForm):
    key = StringField(_l("Clé (ne change plus)"), validators=[Length(max=64)])
    kind = SelectField(_l("Type"), choices=[(k, KIND_LABELS[k]) for k in QUESTION_KINDS])
    section = SelectField(_l("Partie"), choices=[(s, SECTION_LABELS[s]) for s in QUESTION_SECTIONS])
    label_fr = StringField(_l("Question (français)"), validators=[Length(max=500)])
    label_en = StringField(_l("Question (anglais)"), validators=[Length(max=500)])
    help_fr = StringField(_l("Aide (français)"), validators=[Length(max=500)])
    help_en = StringField(_l("Aide (anglais)"), validators=[Length(max=500)])
    options = TextAreaField(_l("Réponses, une par ligne : clé | libellé | English label"))
    allow_other = BooleanField(_l("Ajouter « autre » avec un texte"))
    required = BooleanField(_l("Réponse obligatoire"))


class ButtonForm(FlaskForm):
    """Only a CSRF token."""


@bp.before_request
@login_required
def signed_in_only():
    return None


def _owned(slug: str, model, row_id: int, roles: tuple[str, ...]):
    """The territory and one of its rows (a questionnaire, a question set), for a user
    with one of ``roles`` there; 404 for a row of another territory."""
    territory = access.territory_for(slug, *roles)
    row = db.session.get(model, row_id)
    if row is None or row.territory_id != territory.id:
        abort(404)
    return territory, row


def _survey(slug: str, survey_id: int, roles: tuple[str, ...]) -> tuple[Territory, Survey]:
    return _owned(slug, Survey, survey_id, roles)


def _set(slug: str, set_id: int, roles: tuple[str, ...]) -> tuple[Territory, QuestionSet]:
    return _owned(slug, QuestionSet, set_id, roles)


def _set_choices(territory: Territory) -> list[tuple[int, str]]:
    return [(s.id, f"{s.title} (v{s.version})") for s in surveys.question_sets(territory)]


# -- questionnaires ---------------------------------------------------------------------------


@bp.get("/")
def index(slug: str):
    territory = access.territory_for(slug, *access.READERS)
    sets = surveys.question_sets(territory)  # seeds the standard set the first time
    db.session.commit()
    return render_template(
        "survey/index.html",
        territory=territory,
        surveys=surveys.of_territory(territory),
        sets=sets,
        status=window.status,
        statuses=STATUS_LABELS,
        can_write=access.may_write(territory),
    )


@bp.route("/nouveau", methods=["GET", "POST"])
def create(slug: str):
    territory = access.territory_for(slug, *access.WRITERS)
    form = SurveyForm()
    form.question_set.choices = _set_choices(territory)
    db.session.commit()  # the standard set, if just seeded
    if form.validate_on_submit():
        question_set = db.session.get(QuestionSet, form.question_set.data)
        survey = surveys.create(
            territory,
            form.title.data.strip(),
            question_set,
            form.opens_on.data,
            form.closes_on.data,
        )
        db.session.commit()
        return redirect(url_for("survey.show", slug=slug, survey_id=survey.id))
    status = 422 if form.is_submitted() else 200
    return render_template("survey/form.html", territory=territory, form=form, survey=None), status


@bp.get("/<int:survey_id>")
def show(slug: str, survey_id: int):
    territory, survey = _survey(slug, survey_id, access.READERS)
    count = db.session.scalar(
        sa.select(sa.func.count()).where(SurveyResponse.survey_id == survey.id)
    )
    pending = db.session.scalar(
        sa.select(sa.func.count()).where(
            SurveyText.survey_id == survey.id, SurveyText.status == "pending"
        )
    )
    link = url_for("survey_public.survey_page", code=survey.code, _external=True)
    return render_template(
        "survey/show.html",
        territory=territory,
        survey=survey,
        link=link,
        count=count,
        pending=pending,
        state=window.status(survey),
        statuses=STATUS_LABELS,
        can_write=access.may_write(territory),
        reads_text=_reads_text(territory),
        workshop_statuses=vocabulary.WORKSHOP_STATUS_LABELS,
    )


@bp.route("/<int:survey_id>/modifier", methods=["GET", "POST"])
def edit(slug: str, survey_id: int):
    """Change the title and the window (the question set stays: answers refer to it)."""
    territory, survey = _survey(slug, survey_id, access.WRITERS)
    form = WindowForm(obj=survey)
    if form.validate_on_submit():
        survey.title = survey.workshop.title = form.title.data.strip()
        survey.opens_on, survey.closes_on = form.opens_on.data, form.closes_on.data
        survey.workshop.held_on = survey.opens_on
        surveys.open_if_due(survey)
        db.session.commit()
        return redirect(url_for("survey.show", slug=slug, survey_id=survey.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "survey/form.html", territory=territory, form=form, survey=survey
    ), status


@bp.get("/<int:survey_id>/affiche")
def poster(slug: str, survey_id: int):
    """A printable A4 poster: the title, the window, a QR code to /s/<code> and the link."""
    territory, survey = _survey(slug, survey_id, access.READERS)
    link = url_for("survey_public.survey_page", code=survey.code, _external=True)
    svg = segno.make(link, error="m").svg_inline(scale=10, border=2)
    return render_template(
        "survey/poster.html", territory=territory, survey=survey, link=link, svg=svg
    )


# -- free text ------------------------------------------------------------------------------

DECISIONS = {"approve": "approved", "reject": "rejected"}


def _reads_text(territory: Territory) -> bool:
    return current_user.role == "admin" or (
        current_user.role in TEXT_READERS and current_user.can_see(territory)
    )


@bp.get("/<int:survey_id>/textes")
def texts(slug: str, survey_id: int):
    """The free text of the answers: pending first; coordinators decide, police read."""
    territory, survey = _survey(slug, survey_id, TEXT_READERS)
    rows = db.session.scalars(
        sa.select(SurveyText)
        .where(SurveyText.survey_id == survey.id)
        .order_by(SurveyText.status != "pending", SurveyText.created_at)
    ).all()
    labels = {q.key: q.label_fr for q in survey.question_set.questions}
    audit.record("survey.texts_viewed", target=f"survey:{survey.id}", territory=territory)
    db.session.commit()
    return render_template(
        "survey/texts.html",
        territory=territory,
        survey=survey,
        queue=[t for t in rows if t.status == "pending"],
        decided=[t for t in rows if t.status != "pending"],
        labels=labels,
        can_write=access.may_write(territory),
        button=ButtonForm(),
    )


@bp.post("/<int:survey_id>/textes/<int:text_id>")
def moderate(slug: str, survey_id: int, text_id: int):
    territory, survey = _survey(slug, survey_id, access.WRITERS)
    text = db.session.get(SurveyText, text_id)
    if text is None or text.survey_id != survey.id:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    decision = request.form.get("decision")
    if decision not in DECISIONS:
        abort(422, description=_("Décision inconnue."))
    text.status = DECISIONS[decision]
    text.moderated_by, text.moderated_at = current_user.id, utcnow()
    target = f"survey_text:{text.id}"
    audit.record("moderation", target=target, territory=territory, decision=decision)
    db.session.commit()
    return redirect(url_for("survey.texts", slug=slug, survey_id=survey.id))


# -- question sets ------------------------------------------------------------------------------


@bp.get("/jeux")
def sets(slug: str):
    territory = access.territory_for(slug, *access.READERS)
    surveys.question_sets(territory)
    db.session.commit()
    return render_template(
        "survey/sets.html",
        territory=territory,
        sets=questions.sets_of(territory),
        frozen=questions.is_frozen,
        form=SetForm(),
        can_write=access.may_write(territory),
    )


@bp.post("/jeux")
def create_set(slug: str):
    territory = access.territory_for(slug, *access.WRITERS)
    form = SetForm()
    if not form.validate_on_submit():
        abort(422, description=_("Donnez un titre au jeu de questions."))
    question_set = questions.new_set(territory, form.title.data.strip())
    db.session.commit()
    return redirect(url_for("survey.question_set", slug=slug, set_id=question_set.id))


@bp.get("/jeux/<int:set_id>")
def question_set(slug: str, set_id: int):
    territory, question_set = _set(slug, set_id, access.READERS)
    latest = questions.latest(question_set)
    return render_template(
        "survey/set.html",
        territory=territory,
        question_set=question_set,
        latest=latest,
        frozen=questions.is_frozen(question_set),
        can_edit=access.may_write(territory) and latest.id == question_set.id,
        kinds=KIND_LABELS,
        sections=SECTION_LABELS,
        form=QuestionForm(),
        set_form=SetForm(obj=question_set),
        button=ButtonForm(),
    )


def _question_data(form: QuestionForm) -> dict:
    data = {name: getattr(form, name).data for name in questions.FIELDS if name != "options"}
    data["options"] = questions.parse_options(form.options.data or "")
    data.update(key=form.key.data, allow_other=form.allow_other.data, required=form.required.data)
    return data


def _edited(slug: str, target: QuestionSet):
    db.session.commit()
    return redirect(url_for("survey.question_set", slug=slug, set_id=target.id))


def _form_errors(template_args: dict, error: InputError, form: QuestionForm):
    db.session.rollback()
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
    page = render_template(
        "survey/question.html", form=form, message=error.message, frozen=False, **template_args
    )
    return page, error.status


@bp.post("/jeux/<int:set_id>/titre")
def retitle(slug: str, set_id: int):
    territory, question_set = _set(slug, set_id, access.WRITERS)
    form = SetForm()
    if not form.validate_on_submit():
        abort(422, description=_("Donnez un titre au jeu de questions."))
    return _edited(slug, questions.retitle(question_set, form.title.data.strip()))


@bp.post("/jeux/<int:set_id>/questions")
def add_question(slug: str, set_id: int):
    territory, question_set = _set(slug, set_id, access.WRITERS)
    form = QuestionForm()
    args = {"territory": territory, "question_set": question_set, "question": None}
    if not form.validate_on_submit():
        return _form_errors(args, InputError({}, _("La question n'a pas été enregistrée.")), form)
    try:
        target = questions.add_question(question_set, _question_data(form))
    except InputError as error:
        return _form_errors(args, error, form)
    return _edited(slug, target)


@bp.route("/jeux/<int:set_id>/questions/<key>", methods=["GET", "POST"])
def edit_question(slug: str, set_id: int, key: str):
    territory, question_set = _set(slug, set_id, access.WRITERS)
    question = next((q for q in question_set.questions if q.key == key), None) or abort(404)
    args = {"territory": territory, "question_set": question_set, "question": question}
    if request.method == "GET":
        form = QuestionForm(obj=question)
        form.options.data = questions.options_text(question.options)
        return render_template(
            "survey/question.html", form=form, message=None,
            frozen=questions.is_frozen(question_set), **args,
        )  # fmt: skip
    form = QuestionForm()
    if not form.validate_on_submit():
        return _form_errors(args, InputError({}, _("La question n'a pas été enregistrée.")), form)
    try:
        target = questions.update_question(question_set, key, _question_data(form))
    except InputError as error:
        return _form_errors(args, error, form)
    return _edited(slug, target)


@bp.post("/jeux/<int:set_id>/questions/<key>/supprimer")
def remove_question(slug: str, set_id: int, key: str):
    territory, question_set = _set(slug, set_id, access.WRITERS)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return _edited(slug, questions.remove_question(question_set, key))


@bp.post("/jeux/<int:set_id>/questions/<key>/deplacer")
def move_question(slug: str, set_id: int, key: str):
    territory, question_set = _set(slug, set_id, access.WRITERS)
    if not ButtonForm().validate_on_submit():
        abort(400)
    step = -1 if request.form.get("direction") == "up" else 1
    return _edited(slug, questions.move_question(question_set, key, step))
