"""Coordinator pages: workshops, their groups and QR codes, the live screen,
comment moderation and the groups' diagnostics.

Coordinators and admins change things; police and planners of the territory read.
"""

from __future__ import annotations

import uuid

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app import access, audit, vocabulary
from app.extensions import db
from app.models import (
    WORKSHOP_KINDS,
    Category,
    Pin,
    Territory,
    Theme,
    Workshop,
    WorkshopGroup,
    utcnow,
)
from app.territories import places
from app.workshops import groups, pins, status

bp = Blueprint("workshops", __name__, url_prefix="/t/<slug>/ateliers")


def plausible_day(_form, field) -> None:
    """A workshop happens this century: year 1 broke date arithmetic down the line."""
    if field.data and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_("Date entre 2000 et 2100 attendue."))


class WorkshopForm(FlaskForm):
    kind = SelectField(
        _l("Type"), choices=[(k, vocabulary.WORKSHOP_KIND_LABELS[k]) for k in WORKSHOP_KINDS]
    )
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=200)])
    edition = StringField(
        _l("Édition (pour comparer d'une année sur l'autre)"),
        validators=[Optional(), Length(max=100)],
    )
    held_on = DateField(_l("Date"), validators=[DataRequired(), plausible_day])
    place = StringField(_l("Lieu"), validators=[Optional(), Length(max=200)])
    quartiers = SelectMultipleField(_l("Quartiers"), coerce=int, validators=[DataRequired()])
    group_count = IntegerField(
        _l("Nombre de tables"), default=4, validators=[Optional(), NumberRange(min=1, max=40)]
    )


class GroupForm(FlaskForm):
    name = StringField(_l("Nom de la table"), validators=[DataRequired(), Length(max=100)])


class ButtonForm(FlaskForm):
    """Only a CSRF token."""


def _territory(slug: str, *roles: str) -> Territory:
    return access.territory_for(slug, *roles)


def _workshop(slug: str, workshop_id: int, roles: tuple[str, ...]) -> tuple[Territory, Workshop]:
    """The territory and one of its workshops, for a user with one of ``roles`` there;
    404 for a workshop of another territory."""
    territory = _territory(slug, *roles)
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None or workshop.territory_id != territory.id:
        abort(404)
    return territory, workshop


def _quartier_choices(territory: Territory) -> list[tuple[int, str]]:
    return [(q.id, q.name) for q in sorted(territory.quartiers, key=lambda q: q.name)]


@bp.before_request
@login_required
def signed_in_only():
    return None


@bp.get("/")
def index(slug: str):
    territory = _territory(slug, *access.READERS)
    workshops = db.session.scalars(
        sa.select(Workshop)
        .where(Workshop.territory_id == territory.id)
        .order_by(Workshop.held_on.desc(), Workshop.id.desc())
    ).all()
    return render_template(
        "workshops/index.html",
        territory=territory,
        workshops=workshops,
        kinds=vocabulary.WORKSHOP_KIND_LABELS,
        statuses=vocabulary.WORKSHOP_STATUS_LABELS,
        can_write=access.may_write(territory),
    )


@bp.route("/nouveau", methods=["GET", "POST"])
def create(slug: str):
    territory = _territory(slug, *access.WRITERS)
    form = WorkshopForm()
    form.quartiers.choices = _quartier_choices(territory)
    if form.validate_on_submit():
        workshop = Workshop(territory=territory)
        _apply(form, workshop, territory)
        db.session.add(workshop)
        count = 1 if workshop.kind == "questionnaire" else (form.group_count.data or 1)
        for number in range(1, count + 1):
            name = (
                _("Questionnaire")
                if workshop.kind == "questionnaire"
                else _("Table %(n)d", n=number)
            )
            _add_group(workshop, name)
        db.session.commit()
        return redirect(url_for("workshops.show", slug=slug, workshop_id=workshop.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "workshops/form.html", territory=territory, form=form, workshop=None
    ), status


def _apply(form: WorkshopForm, workshop: Workshop, territory: Territory) -> None:
    workshop.kind = form.kind.data
    workshop.title = form.title.data.strip()
    workshop.edition = (form.edition.data or "").strip()
    workshop.held_on = form.held_on.data
    workshop.place = (form.place.data or "").strip()
    wanted = set(form.quartiers.data)
    workshop.quartiers = [q for q in territory.quartiers if q.id in wanted]


def _add_group(workshop: Workshop, name: str) -> WorkshopGroup:
    group = WorkshopGroup(
        territory_id=workshop.territory.id, name=name, join_code=groups.new_join_code()
    )
    workshop.groups.append(group)
    db.session.flush()
    return group


@bp.get("/<int:workshop_id>")
def show(slug: str, workshop_id: int):
    territory, workshop = _workshop(slug, workshop_id, access.READERS)
    counts = dict(
        db.session.execute(
            sa.select(Pin.group_id, sa.func.count())
            .where(Pin.workshop_id == workshop.id)
            .group_by(Pin.group_id)
        ).all()
    )
    pending = db.session.scalar(
        sa.select(sa.func.count()).where(
            Pin.workshop_id == workshop.id, Pin.comment_status == "pending"
        )
    )
    return render_template(
        "workshops/show.html",
        territory=territory,
        workshop=workshop,
        counts=counts,
        pending=pending,
        kinds=vocabulary.WORKSHOP_KIND_LABELS,
        statuses=vocabulary.WORKSHOP_STATUS_LABELS,
        can_write=access.may_write(territory),
        group_form=GroupForm(),
        button=ButtonForm(),
        reopen_until=status.reopen_until(workshop),
        may_reopen=status.may_reopen(workshop),
        reopen_hours=status.REOPEN_HOURS,
    )


@bp.route("/<int:workshop_id>/modifier", methods=["GET", "POST"])
def edit(slug: str, workshop_id: int):
    territory, workshop = _workshop(slug, workshop_id, access.WRITERS)
    form = WorkshopForm(obj=workshop)
    form.quartiers.choices = _quartier_choices(territory)
    if request.method == "GET":
        form.quartiers.data = [q.id for q in workshop.quartiers]
    if form.validate_on_submit():
        kind = workshop.kind  # a questionnaire's single public group cannot change kind
        _apply(form, workshop, territory)
        workshop.kind = kind
        db.session.commit()
        return redirect(url_for("workshops.show", slug=slug, workshop_id=workshop.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "workshops/form.html", territory=territory, form=form, workshop=workshop
    ), status


@bp.post("/<int:workshop_id>/statut")
def set_status(slug: str, workshop_id: int):
    """Open a draft, close an open workshop once confirmed (codes stop working, pins
    lock), or reopen it within the grace period (app.workshops.status)."""
    territory, workshop = _workshop(slug, workshop_id, access.WRITERS)
    if not ButtonForm().validate_on_submit():
        abort(400)
    status.change_status(
        workshop, request.form.get("status"), confirmed=request.form.get("confirm") == "yes"
    )
    db.session.commit()
    return redirect(url_for("workshops.show", slug=slug, workshop_id=workshop.id))


@bp.post("/<int:workshop_id>/groupes")
def add_group(slug: str, workshop_id: int):
    territory, workshop = _workshop(slug, workshop_id, access.WRITERS)
    form = GroupForm()
    if workshop.kind == "questionnaire" or workshop.status == "closed":
        abort(409, description=_("Impossible d'ajouter une table à cet atelier."))
    if not form.validate_on_submit():
        abort(422, description=_("Donnez un nom à la table."))
    _add_group(workshop, form.name.data.strip())
    db.session.commit()
    return redirect(url_for("workshops.show", slug=slug, workshop_id=workshop.id))


@bp.get("/<int:workshop_id>/qr")
def qr_sheet(slug: str, workshop_id: int):
    """A printable A4 sheet: one QR code per group, pointing at /j/<code>."""
    territory, workshop = _workshop(slug, workshop_id, access.WRITERS)
    cards = []
    for group in workshop.groups:
        url = url_for("pinning.pin_page", code=group.join_code, _external=True)
        svg = segno.make(url, error="m").svg_inline(scale=6, border=2)
        cards.append({"group": group, "url": url, "svg": svg})
    return render_template("workshops/qr.html", territory=territory, workshop=workshop, cards=cards)


@bp.get("/<int:workshop_id>/direct")
def live(slug: str, workshop_id: int):
    """The projector screen: every pin, arriving within seconds, with counts."""
    territory, workshop = _workshop(slug, workshop_id, access.READERS)
    # The screen shows raw points: each opening is logged (not each 3-second refresh).
    audit.record(
        "points.viewed", target=f"workshop:{workshop.id}", territory=territory, view="live"
    )
    db.session.commit()
    return render_template(
        "workshops/live.html",
        territory=territory,
        workshop=workshop,
        feelings=vocabulary.FEELING_LABELS,
        context=_live_context(territory, workshop),
    )


def _live_context(territory: Territory, workshop: Workshop) -> dict:
    categories = db.session.scalars(sa.select(Category).order_by(Category.position))
    features = [f for q in workshop.quartiers for f in places.quartier_features(territory, q.code)]
    return {
        "feed": url_for("workshops.live_feed", slug=territory.slug, workshop_id=workshop.id),
        "streets": url_for("public.streets", slug=territory.slug),
        "quartiers": {"type": "FeatureCollection", "features": features},
        "categories": {c.code: vocabulary.stored_label(c) for c in categories},
        "times": vocabulary.translated(vocabulary.TIME_LABELS),
        "groups": {g.id: g.name for g in workshop.groups},
    }


LIVE_AUDIT_MINUTES = 10


@bp.get("/<int:workshop_id>/direct.json")
def live_feed(slug: str, workshop_id: int):
    """Pins and counts for the live screen (no comment: it is projected in the hall).

    Raw points, so audited (DESIGN §6) — but the screen polls every few seconds: one
    ``points.viewed`` row per user and workshop per LIVE_AUDIT_MINUTES, decided from
    the audit table (the page's own row counts), so every worker and node agrees."""
    territory, workshop = _workshop(slug, workshop_id, access.READERS)
    target = f"workshop:{workshop.id}"
    if not audit.recently_recorded("points.viewed", target, current_user, LIVE_AUDIT_MINUTES):
        audit.record("points.viewed", target=target, territory=territory, view="live.json")
    db.session.commit()
    rows = db.session.scalars(
        sa.select(Pin).where(Pin.workshop_id == workshop.id).order_by(Pin.created_at)
    ).all()
    data = [{**pins.to_json(p, with_comment=False), "group": p.group_id} for p in rows]
    response = jsonify(status=workshop.status, pins=data)
    response.cache_control.no_cache = True
    response.add_etag()
    return response.make_conditional(request)


# -- moderation and diagnostics -------------------------------------------------------------

DECISIONS = ("approve", "reject", "redact")


@bp.get("/<int:workshop_id>/moderation")
def moderation(slug: str, workshop_id: int):
    territory, workshop = _workshop(slug, workshop_id, access.WRITERS)
    queue = db.session.scalars(
        sa.select(Pin)
        .where(Pin.workshop_id == workshop.id, Pin.comment_status == "pending")
        .order_by(Pin.created_at)
    ).all()
    decided = db.session.scalars(
        sa.select(Pin)
        .where(Pin.workshop_id == workshop.id, Pin.comment_status.in_(("approved", "rejected")))
        .order_by(Pin.moderated_at.desc())
        .limit(50)
    ).all()
    return render_template(
        "workshops/moderation.html",
        territory=territory,
        workshop=workshop,
        queue=queue,
        decided=decided,
        button=ButtonForm(),
    )


@bp.post("/<int:workshop_id>/moderation/<pin_id>")
def moderate(slug: str, workshop_id: int, pin_id: str):
    """Approve, reject, or redact (approve an edited text) one comment."""
    territory, workshop = _workshop(slug, workshop_id, access.WRITERS)
    try:
        pin = db.session.get(Pin, uuid.UUID(pin_id))
    except ValueError:
        pin = None
    if pin is None or pin.workshop_id != workshop.id or pin.comment is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    decision = request.form.get("decision")
    if decision not in DECISIONS:
        abort(422, description=_("Décision inconnue."))
    if decision == "redact":
        text = (request.form.get("text") or "").strip()
        if not text or len(text) > 500:
            abort(422, description=_("Texte caviardé vide ou trop long."))
        pin.comment = text
    pin.comment_status = "rejected" if decision == "reject" else "approved"
    pin.moderated_by = current_user.id
    pin.moderated_at = utcnow()
    audit.record("moderation", target=str(pin.id), territory=territory, decision=decision)
    db.session.commit()
    return redirect(url_for("workshops.moderation", slug=slug, workshop_id=workshop.id))


@bp.get("/<int:workshop_id>/diagnostics")
def diagnostics(slug: str, workshop_id: int):
    """Every group's answers to the four questions, and their proposals, side by side."""
    territory, workshop = _workshop(slug, workshop_id, access.READERS)
    themes = db.session.scalars(
        sa.select(Theme).where(Theme.active.is_(True)).order_by(Theme.position)
    ).all()
    can_write = access.may_write(territory)
    return render_template(
        "workshops/diagnostics.html",
        territory=territory,
        workshop=workshop,
        themes=themes,
        can_write=can_write,
    )
