"""A streaming read replica (DESIGN §8, ``flask localdb replica``): with
``DATABASE_REPLICA_URL`` set, layer, export and OGC reads are answered by the hot
standby, writes and a resident's own reads by the primary; /healthz shows the lag; when
the standby goes away the primary answers and nothing fails.

Both clusters are private to the test: a copy of the test database, and a standby made
from it with PostgreSQL's own ``pg_basebackup`` (LocalCluster.clone_from)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import PROJECT_ROOT
from app.extensions import db
from app.localdb import LocalCluster
from tests.app.conftest import free_port, private_cluster
from tests.helpers import app_config, pin_body, statements_on

LAYER = "/api/v1/territories/rennes/layers/hexagons?full=1"


@pytest.fixture
def clusters(app, database_url_for_tests, make_workshop, make_user, make_token, tmp_path):
    """(primary URL, standby cluster, standby URL, join code, bearer header)."""
    workshop = make_workshop(groups=1)
    token = make_token(make_user("police", "rennes"))
    with private_cluster(database_url_for_tests, tmp_path) as (primary, url):
        root = Path(tempfile.mkdtemp(prefix="standby-", dir=PROJECT_ROOT / "var"))
        root.chmod(0o755)
        standby = LocalCluster(root, free_port())
        try:
            assert standby.clone_from(primary)
            standby.start()
            yield (
                url,
                standby,
                standby.url("ressenti"),
                workshop["codes"][0],
                {"Authorization": f"Bearer {token}"},
            )
        finally:
            standby.stop()
            shutil.rmtree(root, ignore_errors=True)


def _reads_pins(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM pin" in s]


def _total(client, auth) -> int:
    response = client.get(LAYER, headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sum(f["properties"]["total"] for f in response.get_json()["features"])


def _replicated(app, pins: int) -> None:
    deadline = time.monotonic() + 30
    with app.app_context():
        replica = db.engines["replica"]
        while time.monotonic() < deadline:
            with replica.connect() as connection:
                if connection.execute(sa.text("SELECT count(*) FROM pin")).scalar() == pins:
                    return
            time.sleep(0.1)
    raise AssertionError("the standby did not replay the pins")


def test_reads_go_to_the_standby_writes_to_the_primary_and_it_falls_back(clusters):
    primary_url, standby, standby_url, code, auth = clusters
    app = create_app(app_config(primary_url, DATABASE_REPLICA_URL=standby_url))
    client = app.test_client()
    with app.app_context():
        primary, replica = db.engines[None], db.engines["replica"]
        with replica.connect() as connection:
            assert connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar() is True

    # A resident's writes go to the primary (the standby is read-only: they would fail).
    for _ in range(3):
        assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    _replicated(app, 3)

    # The layer is counted on the standby; its audit row and cache go to the primary.
    with statements_on(replica) as on_replica, statements_on(primary) as on_primary:
        assert _total(client, auth) == 3
    assert _reads_pins(on_replica) and not _reads_pins(on_primary)
    assert not any("layer_cache" in s or "INSERT" in s for s in on_replica)

    # A new pin reaches the standby, bumps the replicated data version: counted anew.
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    _replicated(app, 4)
    assert _total(client, auth) == 4

    health = client.get("/healthz").get_json()
    assert health["replica"]["standby"] is True and health["replica"]["lag_seconds"] >= 0

    # The standby stops streaming (its WAL receiver gone): it answers, but with old
    # data, so reads go back to the primary and /healthz says why.
    with app.app_context():
        with replica.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ALTER SYSTEM SET primary_conninfo = ''"))
            connection.execute(sa.text("SELECT pg_reload_conf()"))
            deadline = time.monotonic() + 30
            while (
                time.monotonic() < deadline
                and connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_wal_receiver")
                ).scalar()
            ):
                time.sleep(0.1)
        app.extensions["replica_state"]["at"] = 0.0
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
    with statements_on(replica) as on_replica, statements_on(primary) as on_primary:
        assert _total(client, auth) == 5  # the new pin, counted at once on the primary
    assert _reads_pins(on_primary) and not _reads_pins(on_replica)
    health = client.get("/healthz").get_json()["replica"]
    assert health["status"] == "not_streaming" and health["reads"] == "primary"

    # The standby goes away: the primary answers, nothing fails.
    standby.stop()
    with app.app_context():
        app.extensions["replica_state"]["at"] = 0.0  # the next read checks it now
    with statements_on(primary) as on_primary:
        assert client.post(f"/api/v1/groups/{code}/pins", json=pin_body()).status_code == 201
        assert _total(client, auth) == 6
    assert _reads_pins(on_primary)
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["replica"]["status"] == "unavailable"
