"""Authentication: password hashing, sessions (Flask-Login), bearer tokens, throttling,
and the decorators that guard views by role and territory."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import wraps

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import ApiToken, LoginThrottle, User, utcnow

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.session_protection = "basic"

TOKEN_PREFIX = "rst_"
# A token's last use is written at most this often: no write storm from a busy script.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
PASSWORD_MIN_LENGTH = 10
# Failures allowed before waiting, for one account from one client, and for one client
# whatever the account (higher: a town hall's staff may share one address).
THROTTLE_FREE_FAILURES = 5
THROTTLE_FREE_FAILURES_PER_CLIENT = 20
THROTTLE_MAX_SECONDS = 15 * 60
# Failures older than this are forgotten.
THROTTLE_WINDOW = timedelta(hours=1)

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


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused (the one rule for every way of setting one), or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"the password needs at least {PASSWORD_MIN_LENGTH} characters"
    return None


def start_session(user: User) -> None:
    """Remember the user's session epoch in the cookie; see :func:`end_sessions`."""
    session["epoch"] = user.session_epoch


def end_sessions(user: User) -> None:
    """End every session of ``user`` opened so far (logout, password reset): the cookies
    carry the old epoch, which :func:`load_user` then refuses. The caller commits."""
    user.session_epoch = User.session_epoch + 1


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
    if user is None or not user.active or session.get("epoch") != user.session_epoch:
        return None
    return user


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    """``Authorization: Bearer rst_…`` for scripts, or HTTP Basic with the token as the
    password and any user name (QGIS's "Basic" authentication, which cannot send a
    bearer header); a bad token is a 401."""
    secret = presented_token(req.headers.get("Authorization", ""))
    if secret is None:
        return None
    now = utcnow()
    token = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == token_digest(secret),
            ApiToken.revoked_at.is_(None),
            sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    )
    if token is None or not token.user.active:
        g.bad_token = True  # served as anonymous; a protected view answers 401
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    g.token_user = True  # this request is authenticated by its token, not by a cookie
    return token.user


def presented_token(header: str) -> str | None:
    """The token an ``Authorization`` header carries: Bearer, or Basic's password."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""  # present but unreadable: a bad token, answered 401
        return decoded.partition(":")[2]
    return None


@login_manager.unauthorized_handler
def unauthorized():
    if g.get("bad_token"):
        abort(401, description="invalid, expired or revoked token")
    if request.path.startswith(("/api/", "/ogc")):
        abort(401, description="authentication required")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return the row and the clear token, shown only once."""
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=clear[:10],
        token_hash=token_digest(clear),
        expires_at=expires_at,
    )
    db.session.add(token)
    return token, clear


# -- login throttling ----------------------------------------------------------------------
# Per (account, client): the owner signing in from their own client is not locked out by
# someone hammering the account from elsewhere. Per client: one client trying many
# accounts is slowed too. Counters live in PostgreSQL, seen by every worker and node.


def client_id() -> str:
    """The client's address (the proxy's X-Forwarded-For when PROXY_FIX is set)."""
    return request.remote_addr or "unknown"


def _keys(email: str, client: str) -> tuple[str, str]:
    return f"account:{normalise_email(email)}|client:{client}", f"client:{client}"


def seconds_locked(email: str, client: str) -> int:
    """Seconds before ``email`` may try again from ``client`` (0: now)."""
    until = db.session.scalar(
        sa.select(sa.func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(_keys(email, client))
        )
    )
    if until is None:
        return 0
    return max(0, int((until - datetime.now(UTC)).total_seconds() + 0.999))


def record_failure(email: str, client: str) -> None:
    """Count a failed login; past a few, each new failure doubles the wait (capped)."""
    account_key, client_key = _keys(email, client)
    _count_failure(account_key, THROTTLE_FREE_FAILURES)
    _count_failure(client_key, THROTTLE_FREE_FAILURES_PER_CLIENT)


def _count_failure(key: str, free: int) -> None:
    now = utcnow()
    table = LoginThrottle.__table__
    stale = table.c.last_failure_at < now - THROTTLE_WINDOW
    upsert = insert(table).values(key=key, failures=1, last_failure_at=now)
    upsert = upsert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": sa.case((stale, 1), else_=table.c.failures + 1),
            "last_failure_at": now,
        },
    )
    failures = db.session.execute(upsert.returning(table.c.failures)).scalar_one()
    excess = failures - free
    if excess >= 0:
        wait = min(2**excess * current_app.config["LOGIN_BACKOFF_SECONDS"], THROTTLE_MAX_SECONDS)
        db.session.execute(
            sa.update(table)
            .where(table.c.key == key)
            .values(locked_until=now + timedelta(seconds=wait))
        )


def clear_failures(email: str, client: str | None = None) -> None:
    """Forget the failures of ``email`` from ``client`` (from every client when None).
    A client's own counter is left to expire: signing in to one's own account must not
    reset the count of a client that tries others."""
    prefix = _keys(email, client or "")[0]
    condition = (
        LoginThrottle.key == prefix
        if client
        else LoginThrottle.key.startswith(prefix, autoescape=True)
    )
    db.session.execute(sa.delete(LoginThrottle).where(condition))


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
