"""The embedded cluster on its own directory: start, idempotence, stale locks, errors."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from app.localdb import LocalCluster, LocalDBError, check_postgis


@pytest.fixture
def cluster(tmp_path):
    cluster = LocalCluster(tmp_path / "var", port=54400 + os.getpid() % 500)
    yield cluster
    cluster.stop()
    if cluster.root != tmp_path / "var":  # root's fallback outside tmp_path
        shutil.rmtree(cluster.root, ignore_errors=True)


def _connect(cluster: LocalCluster, dbname: str) -> psycopg.Connection:
    return psycopg.connect(
        host=str(cluster.socket_dir),
        port=cluster.port,
        user="ressenti",
        dbname=dbname,
        autocommit=True,
    )


def _write_lock(path: Path, pid: int, data_dir: Path) -> None:
    path.write_text(f"{pid}\n{data_dir}\n0\n0\n\n\n\n")
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(path, owner.pw_uid, owner.pw_gid)


def test_start_creates_a_postgis_cluster_and_is_idempotent(cluster):
    status = cluster.start()
    assert status.running and status.pid
    assert cluster.start().pid == status.pid  # already running: nothing done
    assert cluster.ensure_database("demo") is True
    assert cluster.ensure_database("demo") is False
    with _connect(cluster, "demo") as conn:
        conn.execute("CREATE EXTENSION postgis")
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")
        # No TCP listener: it cannot collide with a system PostgreSQL on 5432.
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
    assert cluster.stop() is True
    assert not cluster.status().running
    assert cluster.stop() is False


def test_start_recovers_from_a_stale_pid_file_naming_a_live_process(cluster):
    cluster.start()
    cluster.stop()
    # After a crash the pid in postmaster.pid may belong to some other live process.
    impostor = subprocess.Popen(["sleep", "60"])
    try:
        _write_lock(cluster.data_dir / "postmaster.pid", impostor.pid, cluster.data_dir)
        assert not cluster.status().running
        status = cluster.start()
        assert status.running and status.pid != impostor.pid
    finally:
        impostor.kill()
        impostor.wait()


def test_missing_postgis_is_a_clear_error(tmp_path):
    bindir = tmp_path / "99" / "bin"
    bindir.mkdir(parents=True)
    with pytest.raises(LocalDBError, match="apt-get install postgresql-99-postgis-3"):
        check_postgis(bindir)


def test_long_paths_put_the_socket_in_tmp():
    deep = Path("/tmp") / ("d" * 60) / ("e" * 60)  # not created: only the path matters
    cluster = LocalCluster(deep)
    assert str(cluster.socket_dir).startswith("/tmp/ressenti-")
    assert len(str(cluster.socket_dir)) < 40
    assert "host=/tmp/ressenti-" in cluster.url()


def test_invalid_database_name_is_refused(cluster):
    with pytest.raises(LocalDBError, match="invalid database name"):
        cluster.ensure_database('x"; DROP DATABASE postgres; --')
