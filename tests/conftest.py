"""Shared fixtures. Database tests run on a real PostGIS: the embedded cluster under
var/ (started here if needed) or TEST_DATABASE_URL; the test database is recreated once
per session, migrated with Alembic, and emptied before every test."""

from __future__ import annotations

import os
import threading

import psycopg
import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app import create_app
from app.config import PROJECT_ROOT, Defaults, database_url
from app.extensions import db
from app.localdb import LocalCluster

TEST_DATABASE = "ressenti_test"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
QUARTIERS_DATA = PROJECT_ROOT / "data" / "quartiers"


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


# Reference data that migrations seed; restored before every test.
SEEDED_TABLES = ("category", "theme")
_seeded: dict[str, list[dict]] = {}


@pytest.fixture(scope="session")
def database_url_for_tests() -> str:
    explicit = database_url({"DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "")})
    url = explicit or _fresh_local_database()
    app = create_app(_test_config(url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        for table in SEEDED_TABLES:
            rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
            _seeded[table] = [dict(row) for row in rows]
        db.engine.dispose()
    return url


def _test_config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "TILE_URL": "",
        **extra,
    }


@pytest.fixture
def app(database_url_for_tests):
    from app.workshops.pins import forget_categories

    app = create_app(_test_config(database_url_for_tests))
    forget_categories()  # the process-wide cache must not outlive the test's data
    with app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for table, rows in _seeded.items():
            if rows:
                db.session.execute(db.metadata.tables[table].insert(), rows)
                db.session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        db.session.commit()
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


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def rennes(runner):
    """The shipped Rennes quartiers and streets, imported with the real CLI."""
    for args in (
        [
            "quartiers",
            "import",
            str(QUARTIERS_DATA / "rennes_quartiers.geojson"),
            "--territory",
            "rennes",
            "--territory-name",
            "Rennes",
            "--name-field",
            "nom",
            "--code-field",
            "matricule",
        ],
        [
            "streets",
            "import",
            str(QUARTIERS_DATA / "rennes_osm_streets_2013.geojson"),
            "--territory",
            "rennes",
        ],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return "rennes"


@pytest.fixture
def paris(runner):
    """The 80 quartiers administratifs of Paris, a second territory."""
    result = runner.invoke(
        args=[
            "quartiers",
            "import",
            str(QUARTIERS_DATA / "paris_quartiers_administratifs.geojson"),
            "--territory",
            "paris",
            "--territory-name",
            "Paris",
            "--name-field",
            "l_qu",
            "--code-field",
            "c_quinsee",
        ]
    )
    assert result.exit_code == 0, result.output
    return "paris"


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(app):
    """Create an account directly in the database: ``make_user("police", "rennes")``."""
    from app.accounts.auth import hash_password
    from app.models import Territory, User

    hashed = hash_password(PASSWORD)

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
                password_hash=hashed,
                territories=list(territories),
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


def csrf_token(client, path: str = "/connexion") -> str:
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


@pytest.fixture
def make_workshop(app, rennes):
    """A workshop of Rennes on the given quartiers with ``groups`` tables; returns ids
    and join codes: ``make_workshop(status="open")``."""
    from datetime import date

    from app.models import Quartier, Territory, Workshop, WorkshopGroup
    from app.workshops.groups import new_join_code

    def make(status="open", kind="atelier", quartiers=("Q.11",), groups=2, title="Atelier"):
        with app.app_context():
            territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
            chosen = db.session.scalars(
                sa.select(Quartier).where(Quartier.code.in_(quartiers))
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


# Inside Le Blosne (Q.11), and a second point inside it too.
BLOSNE = (-1.6625, 48.0865)
BLOSNE_2 = (-1.6570, 48.0850)


def pin_body(**changes) -> dict:
    import uuid

    body = {
        "id": str(uuid.uuid4()),
        "feeling": "unsafe",
        "category": "lighting",
        "time_of_day": "night",
        "comment": None,
        "lon": BLOSNE[0],
        "lat": BLOSNE[1],
    }
    body.update(changes)
    return body


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
