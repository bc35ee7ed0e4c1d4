"""Admin pages: users and their roles, tokens, and the audit log (with CSV export)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time

import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Regexp

from app import audit, vocabulary
from app.accounts import auth
from app.analysis.filters import day_bound
from app.extensions import db
from app.models import ROLES, ApiToken, AuditEvent, Category, Territory, Theme, User, utcnow
from app.workshops.pins import forget_categories
from geo.export import spreadsheet_safe

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 100


@bp.before_request
@auth.role_required("admin")
def admins_only():
    return None


class UserForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Rôle"), choices=[(r, vocabulary.ROLE_LABELS[r]) for r in ROLES])
    territories = SelectMultipleField(_l("Territoires"), coerce=int)
    active = BooleanField(_l("Compte actif"), default=True)


class ButtonForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""


def _territory_choices() -> list[tuple[int, str]]:
    return [
        (t.id, t.name) for t in db.session.scalars(sa.select(Territory).order_by(Territory.name))
    ]


@bp.get("/")
def index():
    return redirect(url_for("admin.users"))


@bp.route("/utilisateurs", methods=["GET", "POST"])
def users():
    """List users; POST creates one (with a password to set through the CLI)."""
    form = UserForm()
    form.territories.choices = _territory_choices()
    status = 200
    if form.validate_on_submit():
        if auth.find_user(form.email.data):
            form.email.errors.append(_("Un compte existe déjà avec cette adresse."))
            status = 422
        else:
            password = auth.random_password()
            user = User(password_hash=auth.hash_password(password))
            _apply(form, user)
            db.session.add(user)
            db.session.flush()
            audit.record("user.created", target=user.email, role=user.role)
            db.session.commit()
            return _user_page(user, UserForm(obj=user), 201, password=password)
    elif form.is_submitted():
        status = 422
    listing = db.session.scalars(sa.select(User).order_by(User.email)).all()
    return render_template(
        "admin/users.html", users=listing, form=form, role_labels=vocabulary.ROLE_LABELS
    ), status


def _apply(form: UserForm, user: User) -> None:
    user.email = auth.normalise_email(form.email.data)
    user.name = form.name.data.strip()
    user.role = form.role.data
    user.active = form.active.data
    wanted = set(form.territories.data or [])
    user.territories = [t for t in db.session.scalars(sa.select(Territory)) if t.id in wanted]


@bp.route("/utilisateurs/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    """Edit one user's name, role, territories and status; list and revoke their tokens."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    form.territories.choices = _territory_choices()
    if request.method == "GET":
        form.territories.data = [t.id for t in user.territories]
    status = 200
    if form.validate_on_submit():
        before = (user.role, sorted(t.slug for t in user.territories), user.active)
        clash = auth.find_user(form.email.data)
        if clash and clash.id != user.id:
            form.email.errors.append(_("Un compte existe déjà avec cette adresse."))
            status = 422
        else:
            _apply(form, user)
            after = (user.role, sorted(t.slug for t in user.territories), user.active)
            if after != before:
                audit.record(
                    "user.role_changed",
                    target=user.email,
                    before={"role": before[0], "territories": before[1], "active": before[2]},
                    after={"role": after[0], "territories": after[1], "active": after[2]},
                )
            db.session.commit()
            return redirect(url_for("admin.user", user_id=user.id))
    elif form.is_submitted():
        status = 422
    return _user_page(user, form, status)


def _user_page(user: User, form: UserForm, status: int, password: str | None = None):
    form.territories.choices = _territory_choices()
    form.territories.data = [t.id for t in user.territories]
    page = render_template(
        "admin/user.html",
        user=user,
        form=form,
        button=ButtonForm(),
        role_labels=vocabulary.ROLE_LABELS,
        password=password,
        now=utcnow(),
    )
    return page, status


@bp.post("/utilisateurs/<int:user_id>/mot-de-passe")
def reset_password(user_id: int):
    """Give the user a new random password, shown once on the page that answers."""
    user = db.session.get(User, user_id) or abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    password = auth.random_password()
    user.password_hash = auth.hash_password(password)
    auth.end_sessions(user)
    auth.clear_failures(user.email)
    audit.record("user.password_reset", target=user.email)
    db.session.commit()
    return _user_page(user, UserForm(obj=user), 200, password=password)


@bp.post("/utilisateurs/<int:user_id>/jetons/<int:token_id>/revoquer")
def revoke_token(user_id: int, token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        abort(404)
    if ButtonForm().validate_on_submit() and token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token.revoked", target=f"{token.user.email}:{token.prefix}")
        db.session.commit()
    return redirect(url_for("admin.user", user_id=user_id))


# -- audit log -----------------------------------------------------------------------------


def _audit_filters() -> dict:
    """Whitelisted filters from the query string; a bad value is a 400 naming the field."""
    args = request.args
    filters: dict = {}
    if args.get("action"):
        if args["action"] not in audit.ACTIONS:
            abort(400, description=_("Filtre « action » inconnu : %(value)s", value=args["action"]))
        filters["action"] = args["action"]
    if args.get("actor"):
        filters["actor"] = args["actor"].strip()[:254]
    for name, bound in (("from", time.min), ("to", time.max)):
        if args.get(name):
            try:
                day = datetime.strptime(args[name], "%Y-%m-%d").date()
            except ValueError:
                abort(
                    400, description=_("Date invalide pour « %(field)s » (AAAA-MM-JJ).", field=name)
                )
            filters[name] = day_bound(day, bound)
    return filters


def _audit_query(filters: dict):
    query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if "action" in filters:
        query = query.where(AuditEvent.action == filters["action"])
    if "actor" in filters:
        query = query.where(
            AuditEvent.actor.ilike(f"%{_like_escape(filters['actor'])}%", escape="\\")
        )
    if "from" in filters:
        query = query.where(AuditEvent.at >= filters["from"])
    if "to" in filters:
        query = query.where(AuditEvent.at <= filters["to"])
    return query


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.get("/journal")
def audit_log():
    filters = _audit_filters()
    events = db.session.scalars(_audit_query(filters).limit(AUDIT_PAGE_SIZE)).all()
    return render_template(
        "admin/audit.html",
        events=events,
        filters=request.args,
        actions=audit.ACTIONS,
        page_size=AUDIT_PAGE_SIZE,
    )


@bp.get("/journal.csv")
def audit_csv():
    filters = _audit_filters()
    audit.record("audit.exported", target="audit_event", filters=dict(request.args))
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "target", "territory_id", "details"])
    for event in db.session.scalars(_audit_query(filters)):
        writer.writerow(
            [
                event.at.isoformat(),
                spreadsheet_safe(event.actor),
                event.action,
                spreadsheet_safe(event.target),
                event.territory_id or "",
                spreadsheet_safe(json.dumps(event.details, ensure_ascii=False)),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=ressenti-journal.csv"},
    )


# -- categories ----------------------------------------------------------------------------


class CategoryForm(FlaskForm):
    code = StringField(
        _l("Code (anglais, sans espace)"),
        validators=[DataRequired(), Length(max=50), Regexp(r"^[a-z][a-z0-9_]*$")],
    )
    label_fr = StringField(_l("Libellé français"), validators=[DataRequired(), Length(max=100)])
    label_en = StringField(_l("Libellé anglais"), validators=[DataRequired(), Length(max=100)])
    feelings = SelectMultipleField(
        _l("S'applique à"),
        choices=list(vocabulary.FEELING_LABELS.items()),
        validators=[DataRequired()],
    )
    colour = StringField(_l("Couleur"), validators=[DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$")])
    position = IntegerField(_l("Ordre"), default=0, validators=[NumberRange(min=0, max=1000)])
    active = BooleanField(_l("Proposée aux habitants"), default=True)


@bp.route("/categories", methods=["GET", "POST"])
def categories():
    """List the categories; POST adds one (its code can never change afterwards)."""
    return _reference_list(
        Category, CategoryForm(), _apply_category, "categories", forget_categories
    )


def _reference_list(model, form, apply, name: str, changed=lambda: None):
    """List reference rows (categories, themes) by position; POST adds one with a new code."""
    status = 200
    if form.validate_on_submit():
        if db.session.scalar(sa.select(model.id).where(model.code == form.code.data)):
            form.code.errors.append(_("Ce code existe déjà."))
            status = 422
        else:
            row = model(code=form.code.data)
            apply(form, row)
            db.session.add(row)
            db.session.commit()
            changed()
            return redirect(url_for(f"admin.{name}"))
    elif form.is_submitted():
        status = 422
    listing = db.session.scalars(sa.select(model).order_by(model.position, model.id)).all()
    return render_template(f"admin/{name}.html", **{name: listing}, form=form), status


def _reference_edit(row, form, apply, name: str, listing: str, changed=lambda: None):
    """Edit one reference row; its code stays (pins, proposals and exports refer to it)."""
    form.code.data = row.code
    if form.validate_on_submit():
        apply(form, row)
        db.session.commit()
        changed()
        return redirect(url_for(f"admin.{listing}"))
    status = 422 if form.is_submitted() else 200
    return render_template(f"admin/{name}.html", **{name: row}, form=form), status


def _apply_category(form: CategoryForm, category: Category) -> None:
    category.label_fr = form.label_fr.data.strip()
    category.label_en = form.label_en.data.strip()
    category.feelings = list(form.feelings.data)
    category.colour = form.colour.data.lower()
    category.position = form.position.data or 0
    category.active = form.active.data


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category(category_id: int):
    """Edit a category's labels, feelings, colour, order and whether residents see it."""
    category = db.session.get(Category, category_id) or abort(404)
    form = CategoryForm(obj=category)
    return _reference_edit(
        category, form, _apply_category, "category", "categories", forget_categories
    )


# -- themes of the action plan ------------------------------------------------------------


class ThemeForm(FlaskForm):
    code = StringField(
        _l("Code (anglais, sans espace)"),
        validators=[DataRequired(), Length(max=50), Regexp(r"^[a-z][a-z0-9_]*$")],
    )
    label_fr = StringField(_l("Libellé français"), validators=[DataRequired(), Length(max=120)])
    label_en = StringField(_l("Libellé anglais"), validators=[DataRequired(), Length(max=120)])
    position = IntegerField(_l("Ordre"), default=0, validators=[NumberRange(min=0, max=1000)])
    active = BooleanField(_l("Proposé"), default=True)


@bp.route("/themes", methods=["GET", "POST"])
def themes():
    """The themes proposals and actions are classed under; POST adds one."""
    return _reference_list(Theme, ThemeForm(), _apply_theme, "themes")


def _apply_theme(form: ThemeForm, theme: Theme) -> None:
    theme.label_fr = form.label_fr.data.strip()
    theme.label_en = form.label_en.data.strip()
    theme.position = form.position.data or 0
    theme.active = form.active.data


@bp.route("/themes/<int:theme_id>", methods=["GET", "POST"])
def theme(theme_id: int):
    """Rename, reorder or withdraw a theme (its code stays)."""
    theme = db.session.get(Theme, theme_id) or abort(404)
    return _reference_edit(theme, ThemeForm(obj=theme), _apply_theme, "theme", "themes")
