"""Authentication: password hashing, sessions (Flask-Login), bearer tokens, throttling,
and the decorators that guard views by role and territory."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import wraps

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, request
from flask_login import LoginManager, current_user

from app.extensions import db
from app.models import ApiToken, LoginThrottle, Territory, User, utcnow

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.session_protection = "basic"

TOKEN_PREFIX = "rst_"
THROTTLE_FREE_FAILURES = 5
THROTTLE_MAX_SECONDS = 15 * 60

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps the time of a login for an unknown e-mail the same.
    Made on first use: argon2 takes 64 MiB for a moment, which a worker that only
    serves the API (tokens are SHA-256) should not pay."""
    return _hasher.hash("ressenti-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _dummy_hash(), password) and bool(
            user
        )
    except (VerificationError, InvalidHashError):
        return False


def random_password() -> str:
    """A password for a new account or a reset, handed over by the admin (no mail server)."""
    return secrets.token_urlsafe(12)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isascii() and user_id.isdigit() else None
    return user if user and user.active else None


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    """``Authorization: Bearer rst_…`` for scripts and QGIS; a bad token is a 401."""
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == token_digest(header[7:].strip()),
            ApiToken.revoked_at.is_(None),
        )
    )
    if token is None or not token.user.active:
        g.bad_token = True  # served as anonymous; a protected view answers 401
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    return token.user


@login_manager.unauthorized_handler
def unauthorized():
    from flask import redirect, url_for

    if g.get("bad_token"):
        abort(401, description="invalid or revoked token")
    if request.path.startswith(("/api/", "/ogc")):
        abort(401, description="authentication required")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return the row and the clear token, shown only once."""
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=clear[:10], token_hash=token_digest(clear))
    db.session.add(token)
    return token, clear


# -- login throttling ----------------------------------------------------------------------


def seconds_locked(email: str) -> int:
    """Seconds before ``email`` may try again (0: now)."""
    row = db.session.get(LoginThrottle, normalise_email(email))
    if row is None or row.locked_until is None:
        return 0
    return max(0, int((row.locked_until - datetime.now(UTC)).total_seconds() + 0.999))


def record_failure(email: str) -> None:
    """Count a failed login; past a few, each new failure doubles the wait (capped)."""
    key = normalise_email(email)
    row = db.session.get(LoginThrottle, key) or LoginThrottle(email=key, failures=0)
    db.session.add(row)
    row.failures += 1
    excess = row.failures - THROTTLE_FREE_FAILURES
    if excess >= 0:
        wait = min(2**excess * current_app.config["LOGIN_BACKOFF_SECONDS"], THROTTLE_MAX_SECONDS)
        row.locked_until = utcnow() + timedelta(seconds=wait)


def clear_failures(email: str) -> None:
    db.session.execute(
        sa.delete(LoginThrottle).where(LoginThrottle.email == normalise_email(email))
    )


# -- guards --------------------------------------------------------------------------------


def role_required(*roles: str):
    """Allow signed-in users whose role is in ``roles`` (admins always); 401/403 otherwise."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != "admin" and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def territory_for(slug: str, *roles: str) -> Territory:
    """The territory ``slug`` if the current user may act on it with one of ``roles``.

    404 for an unknown territory, 403 for a user of another territory or role.
    """
    territory = db.session.scalar(sa.select(Territory).where(Territory.slug == slug))
    if territory is None:
        abort(404)
    if current_user.role != "admin" and (
        current_user.role not in roles or not current_user.can_see(territory)
    ):
        abort(403)
    return territory
