"""Backups of the whole database: ``flask backup create`` writes PostgreSQL's own
custom-format dump (``pg_dump -Fc``: schema, data and the PostGIS/pgRouting extensions
it uses), ``flask backup restore`` reads one back with ``pg_restore``.

A restore runs in one transaction: a broken or foreign file leaves the database as it
was (except the extensions, made first where missing). It works as the app's own role,
not only as a superuser: the extensions' entries and the data of their tables are left
out (a superuser's objects; PostGIS's EPSG table comes from the extension, so an SRID a
town added by hand is not restored). It refuses a database that already holds data
unless ``--replace`` is given, so a mistyped command cannot overwrite a town's data.
The password never goes on a command line (``ps`` would show it): the tools read it
from ``PGPASSWORD``.

The client tools come from the newest PostgreSQL installed (the embedded cluster's
binaries); ``pg_dump`` refuses a server newer than itself, with its own message.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
import psycopg
import psycopg.sql
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.localdb import LocalDBError, find_bindir

backup_cli = AppGroup("backup", help="Back up and restore the whole database (pg_dump).")

# What a restore is checked against, and what each command reports.
COUNTED = ("pin", "workshop", "action")


class BackupError(Exception):
    """A backup or restore that could not be made: one line for the operator."""


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq connection URI without its password, and the
    environment that carries the password."""
    parsed = sa.engine.make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    uri = parsed.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    try:
        return str(find_bindir() / name)
    except LocalDBError as exc:
        raise BackupError(str(exc)) from exc


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    except subprocess.CalledProcessError as exc:
        lines = [line for line in (exc.stderr or exc.stdout).splitlines() if line.strip()]
        raise BackupError(f"{Path(args[0]).name} failed: {lines[0] if lines else exc}") from exc


def counts(uri: str, env: dict[str, str]) -> dict[str, int] | None:
    """Rows of each counted table, or None when the database has no Ressenti schema."""
    with psycopg.connect(uri, password=env.get("PGPASSWORD")) as connection:
        found = connection.execute("SELECT to_regclass('public.pin') IS NOT NULL").fetchone()[0]
        if not found:
            return None
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in COUNTED
        }


def create(url: str, output: Path) -> dict[str, int]:
    """Dump the database at ``url`` into ``output``; returns the counted rows."""
    uri, env = libpq_target(url)
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")  # never a truncated file under the name
    partial.touch(mode=0o600)  # a dump holds every pin and comment: its owner reads it, no one else
    _run([_tool("pg_dump"), "--format=custom", f"--file={partial}", uri], env)
    partial.replace(output)
    return counts(uri, env) or {}


def restore(dump: Path, url: str, replace: bool = False) -> dict[str, int]:
    """Restore ``dump`` into the database at ``url`` in one transaction."""
    if not dump.is_file():
        raise BackupError(f"{dump}: no such file")
    uri, env = libpq_target(url)
    before = counts(uri, env)
    if before and any(before.values()) and not replace:
        raise BackupError(
            f"the target database already holds {_summary(before)}: "
            "restore into an empty database, or add --replace to overwrite it"
        )
    toc = _contents(dump, env)
    owned = _ensure_extensions(uri, env, re.findall(r"^\d+; \d+ \d+ EXTENSION - (\S+)", toc, re.M))
    handle, listing = tempfile.mkstemp(suffix=".list")
    with os.fdopen(handle, "w") as out:
        out.write("\n".join(_restorable(toc, owned)) + "\n")
    args = [_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner"]
    if before is not None:
        args += ["--clean", "--if-exists"]
    try:
        _run([*args, f"--use-list={listing}", f"--dbname={uri}", str(dump)], env)
    finally:
        os.unlink(listing)
    return counts(uri, env) or {}


def _contents(dump: Path, env: dict[str, str]) -> str:
    """pg_restore's table of contents of ``dump``."""
    try:
        return subprocess.run(
            [_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True,
            check=True, env=env,
        ).stdout  # fmt: skip
    except subprocess.CalledProcessError as exc:
        first = (exc.stderr or "").strip().splitlines()[:1] or ["not a pg_dump archive"]
        raise BackupError(f"pg_restore failed: {first[0]}") from exc


def _restorable(toc: str, owned: set[str]) -> list[str]:
    """The entries to restore: not the extensions (CREATE, COMMENT, DROP) nor the data of
    their own tables (PostGIS's ``spatial_ref_sys``). Extensions belong to a superuser
    (PostGIS is not a trusted extension): the app's own role could neither drop, comment
    nor fill them, and the restore would fail on them. They are made beforehand."""
    kept = []
    for line in toc.splitlines():
        if re.search(r" (COMMENT - )?EXTENSION ", line):
            continue
        data = re.search(r" TABLE DATA (\S+) (\S+) ", line + " ")
        if data and f"{data[1]}.{data[2]}" in owned:
            continue
        kept.append(line)
    return kept


def _ensure_extensions(uri: str, env: dict[str, str], names: list[str]) -> set[str]:
    """Create the dump's extensions where missing; returns the tables they own
    (``schema.name``)."""
    with psycopg.connect(uri, password=env.get("PGPASSWORD"), autocommit=True) as connection:
        for name in names:
            try:
                connection.execute(
                    psycopg.sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                        psycopg.sql.Identifier(name)
                    )
                )
            except psycopg.Error as exc:
                raise BackupError(
                    f"extension {name} is missing in the target database and this role "
                    f"cannot create it: ask a superuser to run CREATE EXTENSION {name}"
                ) from exc
        rows = connection.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_depend d"
            " JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE d.deptype = 'e' AND d.classid = 'pg_class'::regclass AND c.relkind = 'r'"
        ).fetchall()
    return {row[0] for row in rows}


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest dumps of ``directory``; returns the removed."""
    dumps = sorted(directory.glob("ressenti-*.dump"), key=lambda p: p.name, reverse=True)
    for old in dumps[keep:]:
        old.unlink()
    return dumps[keep:]


def _summary(found: dict[str, int]) -> str:
    return ", ".join(f"{n} {table}s" for table, n in found.items())


@backup_cli.command("create")
@click.option("--output", type=click.Path(path_type=Path), help="The dump file to write.")
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    help="Or a directory, for ressenti-<UTC time>.dump [default: var/backups].",
)
@click.option("--keep", type=click.IntRange(min=1), help="Then keep only the N newest dumps.")
def backup_create(output: Path | None, output_dir: Path | None, keep: int | None) -> None:
    """Dump the whole database (custom format, restorable with `flask backup restore`)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = output_dir or Path(current_app.config["LOCALDB_DIR"]) / "backups"
    output = output or directory / f"ressenti-{stamp}.dump"
    try:
        found = create(current_app.config["SQLALCHEMY_DATABASE_URI"], output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    removed = prune(output.parent, keep) if keep else []
    size = output.stat().st_size / 1e6
    pruned = f"; {len(removed)} older dumps removed" if removed else ""
    click.echo(f"{output}: {size:.1f} MB, {_summary(found)}{pruned}")


@backup_cli.command("restore")
@click.argument("dump", type=click.Path(path_type=Path))
@click.option("--into", "url", help="SQLAlchemy URL of the target [default: the app's].")
@click.option("--replace", is_flag=True, help="Overwrite a database that holds pins.")
def backup_restore(dump: Path, url: str | None, replace: bool) -> None:
    """Restore a dump made by `flask backup create`, all or nothing."""
    url = url or current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        found = restore(dump, url, replace=replace)
    except (BackupError, psycopg.OperationalError) as exc:
        raise click.ClickException(str(exc).strip().splitlines()[0]) from exc
    click.echo(f"restored {dump}: {_summary(found)}")
