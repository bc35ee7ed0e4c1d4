"""A fresh database for a benchmark, in the embedded cluster (or BENCH_DATABASE_URL)."""

from __future__ import annotations

import os
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
