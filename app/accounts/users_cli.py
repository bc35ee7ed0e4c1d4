"""``flask users …``: accounts and API tokens from the command line (no mail server needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app import audit
from app.accounts import auth
from app.extensions import db
from app.models import ROLES, ApiToken, Territory, User, utcnow

users_cli = AppGroup("users", help="Accounts: admin, coordinator, police, planner.")
token_cli = AppGroup("token", help="API tokens for scripts and QGIS.")
users_cli.add_command(token_cli)

role_option = click.option("--role", type=click.Choice(ROLES), required=True)
territory_option = click.option(
    "--territory", "slugs", multiple=True, help="Territory slug (repeat for several)."
)


def _user(email: str) -> User:
    user = auth.find_user(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email!r}")
    return user


def _territories(slugs: tuple[str, ...]) -> list[Territory]:
    found = db.session.scalars(sa.select(Territory).where(Territory.slug.in_(slugs))).all()
    unknown = sorted(set(slugs) - {t.slug for t in found})
    if unknown:
        raise click.ClickException(f"unknown territory: {', '.join(unknown)}")
    return list(found)


def _password(generate: bool) -> str:
    """A new password, generated or typed twice, that passes :func:`auth.password_problem`."""
    if generate:
        return auth.random_password()
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = auth.password_problem(password)
    if problem:
        raise click.ClickException(problem)
    return password


def _expiry(ctx, param, value: str | None) -> datetime | None:
    """``90d`` (days from now) or ``2027-06-30`` (valid through that day, UTC)."""
    if not value:
        return None
    value = value.strip()
    try:
        if value[-1:] in ("d", "j") and value[:-1].isdigit():
            expires = utcnow() + timedelta(days=int(value[:-1]))
        else:
            expires = datetime.combine(date.fromisoformat(value), time(), UTC) + timedelta(days=1)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{value!r}: give days (90d) or a date (2027-06-30)") from None
    if expires <= utcnow():
        raise click.BadParameter(f"{value!r} is already past")
    return expires


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@role_option
@territory_option
@click.option("--generate-password", is_flag=True, help="Make one up and print it.")
def create(email, name, role, slugs, generate_password):
    """Create an account."""
    if auth.find_user(email):
        raise click.ClickException(f"a user with e-mail {email!r} already exists")
    if role != "admin" and not slugs:
        raise click.ClickException(f"a {role} needs at least one --territory")
    password = _password(generate_password)
    user = User(
        email=auth.normalise_email(email),
        name=name,
        role=role,
        password_hash=auth.hash_password(password),
        territories=_territories(slugs),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", target=user.email, actor="cli", role=role)
    db.session.commit()
    shown = f" with password {password}" if generate_password else ""
    click.echo(f"created {role} {user.email}{shown}")


FIRST_ADMIN = "admin@ressenti.localhost"


@users_cli.command("first-admin")
@click.option("--url", default="http://127.0.0.1:5000/connexion", show_default=True)
def first_admin(url: str) -> None:
    """Create an admin account when none exists, and say how to sign in (`make run`)."""
    admins = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == "admin", User.active)
    )
    if admins:
        click.echo(
            f"Sign in at {url} with your admin account (lost its password? "
            ".venv/bin/flask --app app users reset-password EMAIL --generate-password)"
        )
        return
    password = auth.random_password()
    user = User(
        email=FIRST_ADMIN,
        name="Administrateur",
        role="admin",
        password_hash=auth.hash_password(password),
        territories=[],
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", target=user.email, actor="cli", role="admin")
    db.session.commit()
    click.echo(
        f"No admin account existed: one was created. Sign in at {url}\n"
        f"  e-mail: {FIRST_ADMIN}\n  password: {password}\n"
        "Then create named accounts under Administration and deactivate this one."
    )


@users_cli.command("set-role")
@click.argument("email")
@role_option
@territory_option
def set_role(email, role, slugs):
    """Change a user's role (and, with --territory, the territories they see)."""
    user = _user(email)
    before = {"role": user.role, "territories": sorted(t.slug for t in user.territories)}
    user.role = role
    if slugs:
        user.territories = _territories(slugs)
    after = {"role": user.role, "territories": sorted(t.slug for t in user.territories)}
    audit.record("user.role_changed", target=user.email, actor="cli", before=before, after=after)
    db.session.commit()
    click.echo(f"{user.email} is now {role} for {', '.join(after['territories']) or 'all'}")


@users_cli.command("reset-password")
@click.argument("email")
@click.option("--generate-password", is_flag=True, help="Make one up and print it.")
def reset_password(email, generate_password):
    """Set a new password and end the user's open sessions."""
    user = _user(email)
    password = _password(generate_password)
    user.password_hash = auth.hash_password(password)
    auth.end_sessions(user)
    auth.clear_failures(user.email)
    audit.record("user.password_reset", target=user.email, actor="cli")
    db.session.commit()
    shown = f": {password}" if generate_password else ""
    click.echo(f"password of {user.email} reset{shown}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Block an account and revoke its tokens (the audit log keeps its history)."""
    user = _user(email)
    user.active = False
    for token in user.tokens:
        token.revoked_at = token.revoked_at or utcnow()
    audit.record("user.deactivated", target=user.email, actor="cli")
    db.session.commit()
    click.echo(f"{user.email} deactivated")


@users_cli.command("list")
def list_users():
    """One line per account."""
    for user in db.session.scalars(sa.select(User).order_by(User.email)):
        state = "active" if user.active else "inactive"
        slugs = ",".join(t.slug for t in user.territories) or "-"
        click.echo(f"{user.email}\t{user.role}\t{slugs}\t{state}")


@token_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'QGIS poste SIG'.")
@click.option(
    "--expires", callback=_expiry, help="Lifetime in days (90d) or last valid day (2027-06-30)."
)
def token_create(email, name, expires):
    """Create a token and print it once (only its hash is stored)."""
    user = _user(email)
    if not user.active:
        raise click.ClickException(f"{user.email} is deactivated")
    token, clear = auth.create_token(user, name, expires)
    audit.record(
        "token.created",
        target=f"{user.email}:{token.prefix}",
        actor="cli",
        name=name,
        expires=token.expires_at.isoformat() if token.expires_at else None,
    )
    db.session.commit()
    click.echo(clear)


@token_cli.command("revoke")
@click.argument("prefix")
def token_revoke(prefix):
    """Revoke the token whose first characters (as listed) are PREFIX."""
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.prefix == prefix[:10], ApiToken.revoked_at.is_(None))
    ).all()
    if len(tokens) != 1:
        raise click.ClickException(f"{len(tokens)} active tokens start with {prefix!r}")
    tokens[0].revoked_at = utcnow()
    audit.record("token.revoked", target=f"{tokens[0].user.email}:{tokens[0].prefix}", actor="cli")
    db.session.commit()
    click.echo(f"token {tokens[0].prefix}… revoked")


@token_cli.command("list")
@click.argument("email")
def token_list(email):
    """List a user's tokens: prefix, name, state, expiry, last use (UTC)."""
    now = utcnow()
    for token in _user(email).tokens:
        if token.revoked_at:
            state = f"revoked {token.revoked_at:%Y-%m-%d}"
        elif token.expires_at and token.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        expires = (
            f"expires {token.expires_at.astimezone(UTC):%Y-%m-%d %H:%M}"
            if token.expires_at
            else "no expiry"
        )
        used = (
            f"used {token.last_used_at.astimezone(UTC):%Y-%m-%d %H:%M}"
            if token.last_used_at
            else "never used"
        )
        click.echo(f"{token.prefix}…\t{token.name}\t{state}\t{expires}\t{used}")
