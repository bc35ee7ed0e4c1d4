"""Sign-in and sign-out for coordinators, police, planners and admins; the privacy page.

Residents never sign in: they join a workshop with its code.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app import access, audit, openapi
from app.accounts import auth
from app.analysis import release
from app.extensions import db
from app.models import utcnow

bp = Blueprint("accounts", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    pass


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    """Sign in. 429 with a French message while the address is throttled."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 400 if form.errors else 200
    email, client = form.email.data, auth.client_id()
    wait = auth.seconds_locked(email, client)
    if wait:
        message = _("Trop de tentatives. Réessayez dans %(seconds)d secondes.", seconds=wait)
        response = render_template("accounts/login.html", form=form, error=message)
        return response, 429, {"Retry-After": str(wait)}
    user = auth.find_user(email)
    if not auth.verify_password(user, form.password.data) or not user.active:
        auth.record_failure(email, client)
        audit.record("login.failure", target=auth.normalise_email(email), actor=email[:254])
        db.session.commit()
        error = _("Adresse e-mail ou mot de passe incorrect.")
        return render_template("accounts/login.html", form=form, error=error), 401
    auth.clear_failures(email, client)
    user.last_login_at = utcnow()
    audit.record("login.success", target=user.email, user=user)
    db.session.commit()
    login_user(user)
    auth.start_session(user)
    return redirect(_safe_next(request.args.get("next")))


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path of this site, else the home page. Browsers drop tabs and
    newlines and read ``\\`` as ``/``, so ``/%09/evil.example`` would leave the site: any
    whitespace or control character refuses the target outright."""
    home = url_for("public.home")
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return home
    if any(c.isspace() or unicodedata.category(c)[0] == "C" or c == "\\" for c in target):
        return home
    parts = urlsplit(target)
    return home if parts.scheme or parts.netloc else target


@bp.post("/deconnexion")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        # Ends this user's other sessions too: a shared computer or a stolen cookie is
        # why people sign out.
        audit.record("logout", target=current_user.email)
        auth.end_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
    return redirect(url_for("public.home"))


@bp.get("/confidentialite")
def privacy():
    """What Ressenti collects, why, for how long, and who sees it."""
    return render_template(
        "accounts/privacy.html",
        retention_months=current_app.config["COMMENT_RETENTION_MONTHS"],
        suppression_k=access.suppression_k(),
        releases=release.latest_per_territory(),
        epsilon=sum(current_app.config["PUBLIC_RELEASE_EPSILON"].values()),
    )


@bp.get("/api/v1/me")
@openapi.operation(
    tag="accounts",
    responses={
        200: {
            openapi.JSON: {
                "type": "object",
                "required": ["email", "role", "territories"],
                "properties": {
                    "email": {"type": "string"},
                    "name": {"type": "string"},
                    "role": {"type": "string"},
                    "territories": {"type": "array", "items": {"type": "string"}},
                },
            }
        }
    },
    secured=True,
)
@login_required
def me():
    """The signed-in user (session or bearer token): a way for scripts to check a token."""
    return jsonify(
        email=current_user.email,
        name=current_user.name,
        role=current_user.role,
        territories=[t.slug for t in current_user.territories],
    )
