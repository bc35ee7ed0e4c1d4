"""``flask backup create|restore``: a dump of the whole database restored into a fresh
database holds every pin, workshop and action; a restore never half-writes and never
overwrites a town's data by mistake."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from app.backup import libpq_target
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Action, Pin, Quartier, Workshop
from tests.helpers import pin_body


def _admin(url: str):
    uri, env = libpq_target(url)
    admin = sa.engine.make_url(uri).set(database="postgres").render_as_string(False)
    return psycopg.connect(admin, password=env.get("PGPASSWORD"), autocommit=True)


@pytest.fixture
def fresh_database(app):
    """An empty database on the same server, dropped afterwards."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"{url.database}_restored"
    with _admin(str(url.render_as_string(False))) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(False)
    with _admin(str(url.render_as_string(False))) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def town(app, client, make_workshop):
    """Two workshops, their pins and an action: what a restore must bring back."""
    first, second = make_workshop(), make_workshop(title="Second atelier")
    for workshop in (first, second):
        for _ in range(3):
            body = pin_body()
            assert (
                client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body).status_code
                == 201
            )
    with app.app_context():
        action = Action(
            territory_id=db.session.get(Workshop, first["id"]).territory_id,
            title="Éclairer la passerelle",
            status="engaged",
            zone=db.session.scalar(sa.select(Quartier.geom).where(Quartier.code == "Q.11")),
            zone_kind="quartiers",
        )
        db.session.add(action)
        db.session.commit()
        return {
            "pin": set(db.session.scalars(sa.select(Pin.id))),
            "workshop": set(db.session.scalars(sa.select(Workshop.id))),
            "action": set(db.session.scalars(sa.select(Action.id))),
        }


def _ids(url: str) -> dict[str, set]:
    uri, env = libpq_target(url)
    with psycopg.connect(uri, password=env.get("PGPASSWORD")) as connection:
        return {
            table: {row[0] for row in connection.execute(f'SELECT id FROM "{table}"')}
            for table in ("pin", "workshop", "action")
        }


def test_a_dump_restored_into_a_fresh_database_holds_everything(
    runner, town, tmp_path, fresh_database
):
    dump = tmp_path / "ressenti.dump"
    made = runner.invoke(args=["backup", "create", "--output", str(dump)])
    assert made.exit_code == 0, made.output
    assert "6 pins, 2 workshops, 1 actions" in made.output
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert dump.stat().st_mode & 0o777 == 0o600  # every pin and comment: its owner only
    restored = runner.invoke(args=["backup", "restore", str(dump), "--into", fresh_database])
    assert restored.exit_code == 0, restored.output
    assert _ids(fresh_database) == town
    uri, env = libpq_target(fresh_database)
    with psycopg.connect(uri, password=env.get("PGPASSWORD")) as connection:
        # The geometry came back as PostGIS geometry, with its extension.
        inside = connection.execute(
            "SELECT bool_and(ST_Within(p.geom, q.geom)) FROM pin p JOIN quartier q"
            " ON q.id = p.quartier_id"
        ).fetchone()[0]
        assert inside is True


def test_restore_refuses_a_database_with_pins_unless_replace(runner, town, tmp_path):
    dump = tmp_path / "ressenti.dump"
    assert runner.invoke(args=["backup", "create", "--output", str(dump)]).exit_code == 0
    refused = runner.invoke(args=["backup", "restore", str(dump)])
    assert refused.exit_code != 0
    assert "already holds 6 pins" in refused.output and "--replace" in refused.output
    assert "Traceback" not in refused.output


def test_a_broken_dump_changes_nothing(runner, town, tmp_path, fresh_database):
    good = tmp_path / "good.dump"
    assert runner.invoke(args=["backup", "create", "--output", str(good)]).exit_code == 0
    broken = tmp_path / "broken.dump"
    data = good.read_bytes()
    broken.write_bytes(data[: len(data) * 2 // 3])  # cut in the middle of the data
    failed = runner.invoke(args=["backup", "restore", str(broken), "--into", fresh_database])
    assert failed.exit_code != 0 and "pg_restore failed" in failed.output
    assert len(failed.output.strip().splitlines()) == 1
    uri, env = libpq_target(fresh_database)
    with psycopg.connect(uri, password=env.get("PGPASSWORD")) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'spatial_ref_sys'"  # PostGIS's own, made before the restore
        ).fetchone()[0]
    assert tables == 0  # one transaction: nothing of the half-read file stayed


def test_keep_prunes_the_oldest_dumps(runner, app, tmp_path):
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / f"ressenti-{stamp}.dump").write_bytes(b"old")
    newest = tmp_path / "ressenti-20270101T000000Z.dump"
    made = runner.invoke(args=["backup", "create", "--output", str(newest), "--keep", "2"])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ressenti-20260103T000000Z.dump",
        newest.name,
    ]


def test_the_nightly_unit_runs_commands_that_exist(runner, app, tmp_path):
    """deploy/systemd/ressenti-nightly.service: each of its commands, as written, runs."""
    unit = (PROJECT_ROOT / "deploy" / "systemd" / "ressenti-nightly.service").read_text()
    commands = [
        line.split("--app app", 1)[1].split()
        for line in unit.splitlines()
        if line.startswith("ExecStart=")
    ]
    assert [c[:2] for c in commands] == [
        ["backup", "create"],
        ["retention", "purge"],
        ["survey", "sync"],
        ["release", "make"],
    ]
    for args in commands:
        args = [str(tmp_path) if a == "/var/backups/ressenti" else a for a in args]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    assert len(list(tmp_path.glob("ressenti-*.dump"))) == 1


def test_the_apps_own_role_restores_without_being_a_superuser(
    runner, town, tmp_path, fresh_database
):
    """In production the app's role owns its database but not PostGIS (a superuser made
    it): the restore leaves the extension alone and still brings everything back, over a
    database that already has data too (--replace)."""
    dump = tmp_path / "ressenti.dump"
    assert runner.invoke(args=["backup", "create", "--output", str(dump)]).exit_code == 0
    target = sa.engine.make_url(fresh_database)
    with _admin(fresh_database) as admin:
        admin.execute("DROP ROLE IF EXISTS ressenti_app_test")
        admin.execute("CREATE ROLE ressenti_app_test LOGIN NOSUPERUSER")
        admin.execute(f'ALTER DATABASE "{target.database}" OWNER TO ressenti_app_test')
    uri, env = libpq_target(fresh_database)
    with psycopg.connect(uri, password=env.get("PGPASSWORD"), autocommit=True) as connection:
        for extension in ("postgis", "pgrouting"):  # as a superuser, once
            connection.execute(f"CREATE EXTENSION {extension}")
        connection.execute("ALTER SCHEMA public OWNER TO ressenti_app_test")
    as_app = target.set(username="ressenti_app_test").render_as_string(False)
    try:
        for extra in ([], ["--replace"]):
            restored = runner.invoke(
                args=["backup", "restore", str(dump), "--into", as_app, *extra]
            )
            assert restored.exit_code == 0, restored.output
            assert _ids(fresh_database) == town
    finally:
        with _admin(fresh_database) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            admin.execute("DROP ROLE IF EXISTS ressenti_app_test")
