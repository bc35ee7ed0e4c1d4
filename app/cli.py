"""Command-line interface: ``flask localdb``, ``flask territories``, ``flask quartiers``,
``flask streets``, ``flask demo`` (and ``flask backup``, in :mod:`app.backup`, ``flask
routes``, in :mod:`app.routes.cli`, ``flask survey``, in :mod:`app.survey.cli`). Each
command parses, calls geo/ or the models, commits once and prints one summary line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import audit
from app.accounts.users_cli import users_cli
from app.analysis import release
from app.backup import backup_cli
from app.config import PROJECT_ROOT
from app.extensions import db
from app.front import front_cli
from app.localdb import LocalCluster, LocalDBError
from app.models import Territory
from app.routes import graph as route_graph
from app.routes.circuits import refresh_circuits
from app.routes.cli import build_and_report, routes_cli
from app.survey import release as survey_release
from app.survey.cli import survey_cli
from app.survey.demo import RESPONSES, seed_demo_survey
from app.territories import places
from app.workshops.demo import seed_demo_workshop
from app.workshops.retention import parse_period, purge_comments
from geo.errors import GeoError

localdb_cli = AppGroup("localdb", help="Manage the embedded PostGIS cluster under var/.")
territories_cli = AppGroup("territories", help="List and create territories.")
quartiers_cli = AppGroup("quartiers", help="Import quartier boundaries.")
streets_cli = AppGroup("streets", help="Import street centre-lines (offline base map).")
demo_cli = AppGroup("demo", help="Demonstration data.")


def register(app: Flask) -> None:
    groups = (
        localdb_cli,
        territories_cli,
        quartiers_cli,
        streets_cli,
        demo_cli,
        users_cli,
        retention_cli,
        release_cli,
        backup_cli,
        front_cli,
        routes_cli,
        survey_cli,
    )
    for group in groups:
        app.cli.add_command(group)


def _cluster() -> LocalCluster:
    config = current_app.config
    return LocalCluster(Path(config["LOCALDB_DIR"]), config["LOCALDB_PORT"])


def _fail(message: str) -> None:
    raise click.ClickException(message)


# -- localdb -----------------------------------------------------------------------------


@localdb_cli.command("start")
@click.option("--database", "databases", multiple=True, help="Also create this database.")
def localdb_start(databases: tuple[str, ...]) -> None:
    """Initialise (first time) and start the cluster, then create the app's database."""
    if not current_app.config["USES_LOCALDB"]:
        click.echo("DATABASE_URL is set: the embedded cluster is not used.")
        return
    cluster = _cluster()
    try:
        status = cluster.start()
        for name in (current_app.config.get("LOCALDB_NAME", "ressenti"), *databases):
            cluster.ensure_database(name)
    except LocalDBError as exc:
        _fail(str(exc))
    click.echo(f"PostGIS running (pid {status.pid}) in {status.data_dir}")


@localdb_cli.command("stop")
def localdb_stop() -> None:
    """Stop the cluster."""
    try:
        stopped = _cluster().stop()
    except LocalDBError as exc:
        _fail(str(exc))
    click.echo("PostGIS stopped." if stopped else "PostGIS was not running.")


@localdb_cli.command("status")
def localdb_status() -> None:
    """Say whether the cluster runs; exit 3 when it does not (as pg_ctl does)."""
    status = _cluster().status()
    if status.running:
        click.echo(f"running (pid {status.pid}) in {status.data_dir}")
    else:
        click.echo(f"not running ({status.data_dir})")
        raise SystemExit(3)


@localdb_cli.command("url")
def localdb_url() -> None:
    """Print the SQLAlchemy URL of the app's database."""
    click.echo(current_app.config["SQLALCHEMY_DATABASE_URI"])


replica_cli = AppGroup("replica", help="A streaming hot standby of the cluster (var/replica).")
localdb_cli.add_command(replica_cli)


def _standby() -> LocalCluster:
    config = current_app.config
    return LocalCluster(Path(config["LOCALDB_DIR"]) / "replica", config["LOCALDB_PORT"] + 1)


@replica_cli.command("start")
def replica_start() -> None:
    """Make (first time, pg_basebackup) and start the standby; print its URL."""
    if not current_app.config["USES_LOCALDB"]:
        _fail("DATABASE_URL is set: make the replica with your PostgreSQL's own tools.")
    standby = _standby()
    try:
        made = standby.clone_from(_cluster())
        standby.start()
    except LocalDBError as exc:
        _fail(str(exc))
    name = current_app.config.get("LOCALDB_NAME", "ressenti")
    verb = "made and started" if made else "started"
    click.echo(f"replica {verb}; serve with DATABASE_REPLICA_URL='{standby.url(name)}'")


@replica_cli.command("stop")
def replica_stop() -> None:
    """Stop the standby (reads go back to the primary by themselves)."""
    try:
        stopped = _standby().stop()
    except LocalDBError as exc:
        _fail(str(exc))
    click.echo("replica stopped." if stopped else "replica was not running.")


# -- territories and boundaries ----------------------------------------------------------


@territories_cli.command("list")
def territories_list() -> None:
    """List territories with their metric CRS and number of quartiers."""
    for territory in db.session.scalars(db.select(Territory).order_by(Territory.slug)):
        click.echo(
            f"{territory.slug}\t{territory.name}\tEPSG:{territory.metric_srid}\t"
            f"{len(territory.quartiers)} quartiers"
        )


@quartiers_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--territory", "slug", required=True, help="Territory slug, e.g. rennes.")
@click.option("--territory-name", help="Name of the territory when it is created.")
@click.option("--country", default="FR", show_default=True, help="ISO country code (FR, BE…).")
@click.option("--name-field", help="Attribute with the quartier's name.")
@click.option("--code-field", help="Attribute with the quartier's code.")
@click.option("--skip-unchanged", is_flag=True, help="Do nothing if this file was imported.")
def quartiers_import(file, slug, territory_name, country, name_field, code_field, skip_unchanged):
    """Import quartier polygons from FILE (GeoJSON, GeoPackage, zipped Shapefile)."""
    from geo.quartiers import file_digest, read_quartiers  # geopandas: only for imports

    territory = places.get_territory(slug)
    digest = file_digest(file) if file.is_file() else ""
    if skip_unchanged and territory and places.quartiers_unchanged(territory, digest):
        click.echo(f"{slug}: {file.name} already imported, nothing to do.")
        return
    with click.progressbar(length=_feature_count(file), label="Checking quartiers") as bar:
        try:
            imported = read_quartiers(file, name_field, code_field, progress=bar.update)
        except GeoError as exc:
            _fail(f"{file}: {exc.message}")
    for line in imported.repaired:
        click.echo(f"repaired: {line}")
    for line in imported.skipped:
        click.echo(f"skipped: {line}")
    for code_a, code_b, area in imported.overlaps:
        click.echo(f"overlap: {code_a} and {code_b} share {area:,.0f} m²")
    if territory is None:
        centre = imported.frame.geometry.union_all().centroid
        territory = places.create_territory(
            slug, territory_name or slug.replace("-", " ").title(), country, centre.x, centre.y
        )
    result = places.store_quartiers(territory, imported, file.name, digest)
    db.session.commit()
    absent = f"; not in file, kept: {', '.join(result.absent)}" if result.absent else ""
    click.echo(
        f"{slug}: {result.created} quartiers created, {result.updated} updated "
        f"(from {imported.source_crs}){absent}"
    )


def _feature_count(file: Path) -> int:
    import pyogrio  # GDAL: heavy, loaded late

    try:
        source = f"/vsizip/{file.resolve()}" if file.suffix.lower() == ".zip" else file
        return int(pyogrio.read_info(source)["features"])
    except Exception:  # noqa: BLE001 - read_quartiers reports the real problem
        return 0


@streets_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--territory", "slug", required=True, help="Territory slug, e.g. rennes.")
@click.option("--name-field", default="name", show_default=True)
@click.option("--skip-unchanged", is_flag=True, help="Do nothing if this file was imported.")
def streets_import(file, slug, name_field, skip_unchanged):
    """Replace a territory's street centre-lines with those of FILE."""
    from geo.quartiers import file_digest  # geopandas: heavy, loaded late
    from geo.streets import read_streets  # geopandas: heavy, loaded late

    territory = places.get_territory(slug)
    if territory is None:
        _fail(f"unknown territory {slug!r}: import its quartiers first")
    digest = file_digest(file) if file.is_file() else ""
    if skip_unchanged and places.streets_unchanged(territory, digest):
        click.echo(f"{slug}: {file.name} already imported, nothing to do.")
        return
    try:
        frame = read_streets(file, name_field)
    except GeoError as exc:
        _fail(f"{file}: {exc.message}")
    count = places.store_streets(territory, frame, digest)
    db.session.commit()
    click.echo(f"{slug}: {count} streets imported.")
    click.echo(build_and_report(territory))  # the walking graph follows its streets


@demo_cli.command("load")
@click.option("--no-survey", is_flag=True, help="Without the open demo questionnaire.")
@click.pass_context
def demo_load(ctx: click.Context, no_survey: bool) -> None:
    """Import the shipped Rennes quartiers and streets, seed a closed demo workshop and an
    open demo questionnaire with its responses (each step skipped when already done)."""
    data = PROJECT_ROOT / "data" / "quartiers"
    ctx.invoke(
        quartiers_import,
        file=data / "rennes_quartiers.geojson",
        slug="rennes",
        territory_name="Rennes",
        country="FR",
        name_field="nom",
        code_field="matricule",
        skip_unchanged=True,
    )
    ctx.invoke(
        streets_import,
        file=data / "rennes_osm_streets_2013.geojson",
        slug="rennes",
        name_field="name",
        skip_unchanged=True,
    )
    rennes = places.get_territory("rennes")
    if route_graph.current(rennes) is None:
        click.echo(build_and_report(rennes))
    workshop = seed_demo_workshop(places.get_territory("rennes"))
    if workshop is not None:  # closed: the public sees it through its release
        release.make_release(workshop)
    db.session.commit()
    if workshop is None:
        click.echo("rennes: demo workshop already there, nothing to do.")
    else:
        click.echo(f"rennes: demo workshop created with {len(workshop.groups)} tables.")
    if not no_survey:
        editions = seed_demo_survey(places.get_territory("rennes"))
        if editions is None:
            click.echo("rennes: demo questionnaire already there, nothing to do.")
        else:  # last year's, closed: its final release; this year's: an interim one
            previous, current = editions
            survey_release.make_release(previous, final=True)
            survey_release.make_release(current, final=False)
            release.make_release(current.workshop)  # the map question's pins
            db.session.commit()
            click.echo(
                f"rennes: demo questionnaire created with {RESPONSES} responses "
                f"(and last year's edition, closed)."
            )


release_cli = AppGroup("release", help="The public release (noisy counts, DESIGN §6).")


@release_cli.command("make")
@click.option("--territory", "slug", help="Only this territory.")
def release_make(slug: str | None) -> None:
    """Release closed workshops not yet released and the new pins of open questionnaires,
    and questionnaires' answers: on their schedule while open, finally once closed (run it
    on a schedule, e.g. nightly from cron or a systemd timer)."""
    territory = None
    if slug:
        territory = places.get_territory(slug)
        if territory is None:
            _fail(f"unknown territory {slug!r}")
    due = release.release_due(territory)
    for workshop in due:
        release.make_release(workshop)
    surveys = survey_release.due(territory_id=territory.id if territory else None)
    for survey, final in surveys:
        survey_release.make_release(survey, final=final)
    db.session.commit()
    finals = sum(final for _survey, final in surveys)
    click.echo(f"released {len(due)} workshops and {len(surveys)} questionnaires ({finals} final)")
    for town in {w.territory_id: w.territory for w in due}.values():
        done, failed = refresh_circuits(town)  # they follow the new release
        db.session.commit()
        kept = f"; kept as they were: {', '.join(failed)}" if failed else ""
        click.echo(f"{town.slug}: {done} circuits recomputed{kept}")


retention_cli = AppGroup("retention", help="Personal-data retention.")


@retention_cli.command("purge")
@click.option("--older-than", "period", help="e.g. 24m, 2y, 730d [default: the configured months]")
@click.option("--dry-run", is_flag=True, help="Count, change nothing.")
def retention_purge(period: str | None, dry_run: bool) -> None:
    """Erase comment text of workshops closed longer ago than the retention period."""
    period = period or f"{current_app.config['COMMENT_RETENTION_MONTHS']}m"
    try:
        delta = parse_period(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from exc
    before = datetime.now(UTC) - delta
    counts = purge_comments(before, dry_run=dry_run)
    if not dry_run:
        audit.record(
            "retention.purged",
            target=f"closed before {before:%Y-%m-%d}",
            actor="cli",
            older_than=period,
            **counts,
        )
        db.session.commit()
    verb = "would erase" if dry_run else "erased"
    click.echo(
        f"{verb} {counts['comments']} comments of {counts['workshops']} workshops "
        f"closed before {before:%Y-%m-%d}"
    )
