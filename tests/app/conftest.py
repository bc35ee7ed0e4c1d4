"""App fixtures on a real PostGIS: the embedded cluster under var/ (started here if
needed) or ``TEST_DATABASE_URL`` (a database the tests may empty).

Once per session the database is rebuilt from scratch (schema dropped, every migration
run), so the reference rows (categories, themes) are those the migrations seed, never
what an earlier session left; then Rennes (quartiers and streets) and Paris are imported
once with the real CLI and copied aside into the ``test_stash`` schema.

Before every test, the ``app`` fixture empties the tables tests write and restores the
reference rows; the territories, quartiers and streets stay from one test to the next
when the test wants the same territories as the previous one and nothing wrote them
(statement triggers note any write into ``test_stash.dirty``); otherwise they are
reloaded from the stash, which takes milliseconds instead of a CLI import.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app import create_app
from app.config import Defaults, database_url
from app.extensions import db
from app.localdb import LocalCluster
from tests.helpers import BLOSNE, PASSWORD, PROJECT_ROOT, QUARTIERS_DATA, app_config, pin_body

TEST_DATABASE = "ressenti_test"
STASH = "test_stash"
# Rows the migrations seed: restored from their freshly migrated copy before every test.
SEEDED_TABLES = ("category", "theme")
# Rows the territory fixtures load: kept across tests while nothing writes them (the
# walking graph is built by the streets import).
TERRITORY_TABLES = ("territory", "quartier", "street", "route_graph", "route_node", "route_edge")
TERRITORIES = ("rennes", "paris")
RESTORED_TABLES = SEEDED_TABLES + TERRITORY_TABLES
IMPORTS = {
    "rennes": [
        ["quartiers", "import", str(QUARTIERS_DATA / "rennes_quartiers.geojson"),
         "--territory", "rennes", "--territory-name", "Rennes",
         "--name-field", "nom", "--code-field", "matricule"],
        ["streets", "import", str(QUARTIERS_DATA / "rennes_osm_streets_2013.geojson"),
         "--territory", "rennes"],
    ],
    "paris": [
        ["quartiers", "import", str(QUARTIERS_DATA / "paris_quartiers_administratifs.geojson"),
         "--territory", "paris", "--territory-name", "Paris",
         "--name-field", "l_qu", "--code-field", "c_quinsee"],
    ],
}  # fmt: skip


def _fresh_local_database() -> str:
    cluster = LocalCluster(PROJECT_ROOT / "var", Defaults.LOCALDB_PORT)
    cluster.start()
    with psycopg.connect(
        host=str(cluster.socket_dir),
        port=cluster.port,
        user="ressenti",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEST_DATABASE}"')
    return cluster.url(TEST_DATABASE)


def _execute(*statements: str) -> None:
    for statement in statements:
        db.session.execute(sa.text(statement))


def _rebuild_schema() -> None:
    """Drop everything an earlier session left, migrate from scratch to the head."""
    from flask_migrate import upgrade

    _execute(
        f"DROP SCHEMA IF EXISTS {STASH} CASCADE",
        "DROP SCHEMA public CASCADE",
        "CREATE SCHEMA public",
    )
    db.session.commit()
    upgrade()


def _stash_reference_and_territories(runner) -> None:
    """Copy the seeded rows, then the imported territories, into the stash schema."""
    _execute(f"CREATE SCHEMA {STASH}", f"CREATE TABLE {STASH}.dirty (name text PRIMARY KEY)")
    for table in SEEDED_TABLES:
        _execute(f"CREATE TABLE {STASH}.{table} AS SELECT * FROM {table}")
    db.session.commit()
    for slug in TERRITORIES:
        for args in IMPORTS[slug]:
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
    for table in TERRITORY_TABLES:
        _execute(f"CREATE TABLE {STASH}.{table} AS SELECT * FROM {table}")
    db.session.commit()


def _watch_restored_tables() -> None:
    """Statement triggers that note any write to a restored table in ``dirty`` (the
    migration test drops them with the tables: their absence also means "restore")."""
    _execute(
        f"""CREATE OR REPLACE FUNCTION {STASH}.note_write() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN
                INSERT INTO {STASH}.dirty VALUES (TG_TABLE_NAME) ON CONFLICT DO NOTHING;
                RETURN NULL;
            END $$"""
    )
    for table in RESTORED_TABLES:
        _execute(
            f"DROP TRIGGER IF EXISTS test_note_write ON {table}",
            f"CREATE TRIGGER test_note_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {STASH}.note_write()",
        )


@functools.cache
def prepared_database() -> str:
    """The test database's URL, rebuilt and stashed once per process."""
    explicit = database_url({"DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "")})
    url = explicit or _fresh_local_database()
    app = create_app(app_config(url))
    with app.app_context():
        _rebuild_schema()
        _stash_reference_and_territories(app.test_cli_runner())
        _watch_restored_tables()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url


def _database_state(written: list[str]) -> tuple[set[str] | None, list[str], list[str]]:
    """In one query: the restored tables written since the last reset (None when the
    triggers are gone), the slugs present, and which of ``written`` hold rows."""
    holding = ", ".join(f"CASE WHEN EXISTS (SELECT FROM {t}) THEN '{t}' END" for t in written)
    row = db.session.execute(
        sa.text(
            f"SELECT (SELECT coalesce(array_agg(name), '{{}}') FROM {STASH}.dirty), "
            "(SELECT count(*) FROM pg_trigger WHERE tgname = 'test_note_write'), "
            "(SELECT coalesce(array_agg(slug::text ORDER BY slug), '{}') FROM territory), "
            f"array_remove(ARRAY[{holding}]::text[], NULL)"
        )
    ).one()
    dirty = set(row[0]) if row[1] == len(RESTORED_TABLES) else None
    return dirty, row[2], row[3]


def _serial_id(table: str) -> bool:
    column = db.metadata.tables[table].c.get("id")
    return column is not None and isinstance(column.type, sa.Integer)


def _restore(table: str, where: str = "", **params) -> None:
    insert = f"INSERT INTO {table} SELECT * FROM {STASH}.{table} {where}"
    db.session.execute(sa.text(insert), params)
    if _serial_id(table):
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table} "
                "HAVING max(id) IS NOT NULL"
            )
        )


def _restore_territories(slugs: tuple[str, ...]) -> None:
    _restore("territory", "WHERE slug = ANY(:slugs)", slugs=list(slugs))
    for table in TERRITORY_TABLES[1:]:
        _restore(
            table,
            f"WHERE territory_id IN (SELECT id FROM {STASH}.territory WHERE slug = ANY(:slugs))",
            slugs=list(slugs),
        )


def reset_database(slugs: tuple[str, ...]) -> None:
    """Empty what tests write, restore the reference rows and the territories ``slugs``.

    Only tables holding rows are truncated (a TRUNCATE costs milliseconds even on an
    empty table), and the restored tables are emptied only when written or when other
    territories are wanted; every identity restarts, so ids are those of a fresh database.
    """
    written = [t.name for t in db.metadata.sorted_tables if t.name not in RESTORED_TABLES]
    dirty, present, holding = _database_state(written)
    unwatched = dirty is None
    if unwatched:
        _watch_restored_tables()
        dirty = set(RESTORED_TABLES)
    reference = bool(dirty & set(SEEDED_TABLES))
    territories = bool(dirty & set(TERRITORY_TABLES)) or present != sorted(slugs)
    if holding:
        _execute(f"TRUNCATE {', '.join(holding)} RESTART IDENTITY CASCADE")
    # DELETE, not TRUNCATE: its cascade over every table that refers to a territory
    # costs ten times more than deleting a few thousand rows nothing refers to any more.
    emptied = (SEEDED_TABLES if reference else ()) + (TERRITORY_TABLES if territories else ())
    _execute(*(f"DELETE FROM {table}" for table in reversed(emptied)))
    restart = ", ".join(
        f"setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"
        for table in [t for t in written if t not in holding] + list(emptied)
        if _serial_id(table)
    )
    if restart:
        _execute(f"SELECT {restart}")
    if reference:
        for table in SEEDED_TABLES:
            _restore(table)
    if territories:
        _restore_territories(slugs)
    if dirty or territories:
        _execute(f"DELETE FROM {STASH}.dirty")
    db.session.commit()


@pytest.fixture(scope="session")
def database_url_for_tests() -> str:
    return prepared_database()


@pytest.fixture
def app(database_url_for_tests, request):
    """The app on the test database, emptied but for the reference rows and the
    territories the test asks for (``rennes``, ``paris``)."""
    from app.workshops.pins import forget_categories

    app = create_app(app_config(database_url_for_tests))
    forget_categories()  # the process-wide cache must not outlive the test's data
    slugs = tuple(slug for slug in TERRITORIES if slug in request.fixturenames)
    with app.app_context():
        reset_database(slugs)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(app):
    """The test app served by werkzeug on 127.0.0.1, on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def rennes(app):
    """The shipped Rennes quartiers and streets (imported with the real CLI once per
    session; the ``app`` fixture restores them)."""
    return "rennes"


@pytest.fixture
def paris(app):
    """The 80 quartiers administratifs of Paris, a second territory."""
    return "paris"


def restore_demo(app) -> None:
    """Load the Rennes demo: with the real CLI the first time (then copied into the
    stash, table by table), from the stash afterwards."""
    stashed = [row[0] for row in db.session.execute(sa.text(
        "SELECT substr(table_name, 6) FROM information_schema.tables "
        f"WHERE table_schema = '{STASH}' AND table_name LIKE 'demo\\_%'"))]  # fmt: skip
    if not stashed:
        result = app.test_cli_runner().invoke(args=["demo", "load", "--no-survey"])
        assert "demo workshop created" in result.output, result.output
        for table in db.metadata.sorted_tables:
            # The data versions and the layer cache follow from the rows (triggers).
            if table.name not in (*RESTORED_TABLES, "data_version", "layer_cache"):
                _execute(f"CREATE TABLE {STASH}.demo_{table.name} AS SELECT * FROM {table.name}")
        db.session.commit()
        return
    for table in db.metadata.sorted_tables:  # referred tables first
        if table.name in stashed:
            db.session.execute(
                sa.text(f"INSERT INTO {table.name} SELECT * FROM {STASH}.demo_{table.name}")
            )
            if _serial_id(table.name):
                db.session.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) "
                    f"FROM {table.name} HAVING max(id) IS NOT NULL"))  # fmt: skip
    db.session.commit()


@pytest.fixture
def demo(app, rennes):
    """The Rennes demo workshop (320 pins) as ``flask demo load`` makes it."""
    with app.app_context():
        restore_demo(app)


@pytest.fixture
def make_token(app):
    """A bearer token for a user made by ``make_user``: ``make_token(user)``."""
    from app.accounts.auth import create_token
    from app.models import User

    def make(user) -> str:
        with app.app_context():
            _, secret = create_token(db.session.get(User, user.id), "tests")
            db.session.commit()
            return secret

    return make


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD hashed once, with argon2's lightest parameters: a verification reads
    them from the hash, so each sign-in of a test costs a millisecond, not 64 MiB."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


@pytest.fixture
def make_user(app, password_hash):
    """Create an account directly in the database: ``make_user("police", "rennes")``."""
    from app.models import Territory, User

    def make(role: str, *slugs: str, email: str | None = None, name: str | None = None) -> User:
        with app.app_context():
            territories = db.session.scalars(
                sa.select(Territory).where(Territory.slug.in_(slugs))
            ).all()
            assert len(territories) == len(slugs), f"unknown territory in {slugs}"
            user = User(
                email=email or f"{role}-{'-'.join(slugs) or 'all'}@example.org",
                name=name or f"{role.title()} {' '.join(slugs)}".strip(),
                role=role,
                password_hash=password_hash,
                territories=list(territories),
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def make_workshop(app, rennes):
    """A workshop of Rennes on the given quartiers with ``groups`` tables; returns ids
    and join codes: ``make_workshop(status="open")``."""
    from datetime import date

    from app.models import Quartier, Territory, Workshop, WorkshopGroup
    from app.workshops.groups import new_join_code

    def make(
        status="open",
        kind="atelier",
        quartiers=("Q.11",),
        groups=2,
        title="Atelier",
        territory="rennes",  # another needs its fixture (``paris``)
    ):
        with app.app_context():
            territory = db.session.scalar(sa.select(Territory).where(Territory.slug == territory))
            chosen = db.session.scalars(
                sa.select(Quartier).where(
                    Quartier.territory_id == territory.id, Quartier.code.in_(quartiers)
                )
            ).all()
            workshop = Workshop(
                territory=territory,
                kind=kind,
                title=title,
                status=status,
                held_on=date(2026, 11, 20),
                quartiers=list(chosen),
            )
            workshop.groups = [
                WorkshopGroup(
                    territory_id=territory.id, name=f"Table {n}", join_code=new_join_code()
                )
                for n in range(1, groups + 1)
            ]
            db.session.add(workshop)
            db.session.commit()
            return {
                "id": workshop.id,
                "codes": [g.join_code for g in workshop.groups],
                "group_ids": [g.id for g in workshop.groups],
            }

    return make


@pytest.fixture
def close_workshop(app):
    """Close a workshop as its coordinator's button does, which makes its public release:
    ``close_workshop(workshop_id)``."""
    from app.analysis import release
    from app.models import Workshop, utcnow

    def close(workshop_id: int) -> None:
        with app.app_context():
            workshop = db.session.get(Workshop, workshop_id)
            workshop.status, workshop.closed_at = "closed", utcnow()
            release.make_release(workshop)
            db.session.commit()

    return close


# -- gunicorn with the shipped configuration, on 127.0.0.1 ---------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_gunicorn(database_url: str, log: Path, workers: int = 4, **environment: str):
    """The app under gunicorn with deploy/gunicorn.conf.py and ``workers`` sync workers
    on 127.0.0.1; yields its URL and the master's process. ``environment`` adds
    RESSENTI_* settings."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RESSENTI_SECRET_KEY": "test-secret-key",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PYTHONUNBUFFERED": "1",
        **environment,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
    command.append("app:create_app()")
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(url: str, server, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"gunicorn did not start:\n{log.read_text()}")


@pytest.fixture
def gunicorn(app, database_url_for_tests, tmp_path):
    """The app under gunicorn with 4 workers; yields its URL and the file holding what
    it logged (access and error logs)."""
    log = tmp_path / "gunicorn.log"
    # 120 pins per code as shipped; a long window so a slow machine stays inside one.
    with serve_gunicorn(database_url_for_tests, log, RESSENTI_PIN_RATE_PER_CODE="[120, 600]") as (
        url,
        _server,
    ):
        yield url, log


@contextlib.contextmanager
def private_cluster(seed_url: str, tmp_path: Path):
    """A PostgreSQL cluster of its own (under var/, on a free port) holding a copy of
    the database at ``seed_url`` (``flask backup``), for tests that stop or clone it;
    yields (cluster, URL of its ``ressenti`` database)."""
    from app import backup

    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="cluster-", dir=PROJECT_ROOT / "var"))
    root.chmod(0o755)
    cluster = LocalCluster(root, free_port())
    cluster.start()
    try:
        cluster.ensure_database("ressenti")
        url = cluster.url("ressenti")
        dump = tmp_path / "seed.dump"
        backup.create(seed_url, dump)
        backup.restore(dump, url)
        yield cluster, url
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


# -- what the GIS clients' tests read (GDAL, OWSLib, QGIS) ---------------------------------


@pytest.fixture
def pins(client, make_workshop):
    """Five unsafe pins in one hexagon (shown to all at k = 3) and one safe pin."""
    code = make_workshop()["codes"][0]
    bodies = [pin_body() for _ in range(5)] + [
        pin_body(feeling="safe", category="good_lighting", lon=-1.6570, lat=48.0850)
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    return bodies


@pytest.fixture
def clustered_release(client, make_workshop, close_workshop):
    """A closed workshop of eight pins at each of seven neighbouring spots: a cluster the
    release shows as hexagons and Gi* finds hot within the surveyed quartier."""
    workshop = make_workshop(title="Atelier clos", quartiers=("Q.11", "Q.12", "Q.8"))
    url = f"/api/v1/groups/{workshop['codes'][0]}/pins"
    around = [(0, 0), (0.002, 0), (-0.002, 0), (0.001, 0.0012), (-0.001, 0.0012)]
    for a, b in [*around, (0.001, -0.0012), (-0.001, -0.0012)]:
        for _ in range(8):
            body = pin_body(lon=BLOSNE[0] + a, lat=BLOSNE[1] + b)
            assert client.post(url, json=body).status_code == 201
    close_workshop(workshop["id"])


@pytest.fixture
def planner_token(make_user, make_token):
    return make_token(make_user("planner", "rennes"))
