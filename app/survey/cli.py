"""``flask survey``: seed the standard question set, follow the questionnaires' windows."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.survey import surveys
from app.survey.seed import seed_standard_set
from app.territories import places

survey_cli = AppGroup("survey", help="Perception questionnaires.")


@survey_cli.command("seed")
@click.option("--territory", "slug", required=True, help="The territory's slug.")
def seed(slug: str) -> None:
    """Make the territory's standard question set (nothing when it has one)."""
    territory = places.get_territory(slug)
    if territory is None:
        raise click.ClickException(f"unknown territory {slug!r}")
    question_set = seed_standard_set(territory)
    db.session.commit()
    click.echo(
        f"{slug}: standard question set v{question_set.version}, "
        f"{len(question_set.questions)} questions."
    )


@survey_cli.command("sync")
def sync() -> None:
    """Open the questionnaires whose window began and close those whose window ended
    (closing makes the public release); run it on a schedule, e.g. every few minutes."""
    done = surveys.sync_all()
    click.echo(
        f"questionnaires: {done['opened']} opened, {done['closed']} closed"
        + (f", {done['failed']} failed" if done["failed"] else "")
    )
