"""A fresh database for a benchmark, in the embedded cluster (or BENCH_DATABASE_URL),
a staff token on it, a wait for a server the benchmark started, and the machine's line
for the results."""

from __future__ import annotations

import http.client
import os
import platform
import subprocess
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def fresh_database(name: str) -> tuple[str, dict]:
    """Drop and create database ``name``; return its SQLAlchemy URL and libpq params.

    With BENCH_DATABASE_URL set, that database is used as it is.
    """
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit, {"conninfo": explicit.replace("postgresql+psycopg", "postgresql")}
    from app.config import Defaults
    from app.localdb import LocalCluster

    cluster = LocalCluster(ROOT / "var", Defaults.LOCALDB_PORT)
    cluster.start()
    params = {"host": str(cluster.socket_dir), "port": cluster.port, "user": "ressenti"}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.url(name), {**params, "dbname": name}


def wait_healthy(server: subprocess.Popen, port: int) -> subprocess.Popen:
    """Return ``server`` once it answers ``/healthz`` on 127.0.0.1:``port`` (30 s at most)."""
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def staff_token(app, slug: str, role: str = "planner") -> tuple[str, int]:
    """A bearer token of a new ``role`` account scoped to territory ``slug``; returns the
    clear token and the territory's id."""
    from app.accounts.auth import create_token, hash_password
    from app.extensions import db
    from app.models import Territory, User

    with app.app_context():
        territory = db.session.scalar(db.select(Territory).where(Territory.slug == slug))
        user = User(
            email=f"bench-{role}@example.org",
            name="Bench",
            role=role,
            password_hash=hash_password("bench bench bench"),
            territories=[territory],
        )
        db.session.add(user)
        db.session.flush()
        _, secret = create_token(user, "bench")
        db.session.commit()
        return secret, territory.id


def machine() -> str:
    """``machine: N cores, <CPU>; Python x.y.z`` for the results."""
    with open("/proc/cpuinfo") as info:
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    cpu = names[0] if names else platform.processor()
    return f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}"
