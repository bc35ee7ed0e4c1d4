"""Reads from a PostgreSQL streaming replica (DESIGN §8).

With ``DATABASE_REPLICA_URL`` set, the requests that only read what residents wrote —
layers, tiles, exports, OGC — send their SELECTs to the replica (the ``replica`` bind);
everything else goes to the primary: writes (audit rows, the layer cache), reads of
the tables that must be fresh or are not replicated (accounts, tokens, rate counters,
``layer_cache``, which is UNLOGGED), SELECT … FOR UPDATE, and any SQL written as text
(it may call a function that writes). A resident's own reads and every other page use
the primary, so what they just wrote is there.

A replica that cannot be reached is skipped: the primary answers until a check, at
most every ``CHECK_EVERY`` seconds, finds it back. ``status()`` gives /healthz the
replica's state and its replay lag.

The standby itself, for the embedded cluster: ``flask localdb replica start|stop``
(:meth:`app.localdb.LocalCluster.clone_from`).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.sql import util as sql_util

from app.config import database_url
from app.extensions import db

BIND = "replica"
CHECK_EVERY = 5.0  # seconds between two checks of an unreachable (or reachable) replica

# Never read from the replica: accounts and their tokens (a revoked token must stop at
# once), counters and throttles, the audit log, and the UNLOGGED cache (not replicated).
PRIMARY_ONLY = frozenset(
    {"app_user", "user_territory", "api_token", "login_throttle", "rate_counter",
     "audit_event", "layer_cache"}
)  # fmt: skip

LAG = sa.text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
)


def configure(app: Flask, environ) -> None:
    """Add the ``replica`` bind when ``DATABASE_REPLICA_URL`` is set (environment or
    configuration)."""
    url = database_url({"DATABASE_URL": environ.get("DATABASE_REPLICA_URL", "")})
    url = url or app.config.get("DATABASE_REPLICA_URL")
    if url:
        app.config["DATABASE_REPLICA_URL"] = url
        app.config.setdefault("SQLALCHEMY_BINDS", {})[BIND] = {
            "url": url,
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": 2},
        }
        app.extensions["read_engine"] = read_engine


def prefer() -> None:
    """Before a read-only view: its reads may go to the replica."""
    g.prefer_replica = True


def readable(clause) -> bool:
    """Whether ``clause`` is a plain read of replicated tables."""
    if isinstance(clause, sa.TextClause):  # work_mem and the like for the replica's reads
        return clause.text.lstrip().upper().startswith("SET LOCAL ")
    if not isinstance(clause, sa.Select) or clause._for_update_arg is not None:
        return False
    tables = {
        t.name for t in sql_util.find_tables(clause, include_aliases=True) if hasattr(t, "name")
    }
    return bool(tables) and not tables & PRIMARY_ONLY


def engine() -> sa.Engine | None:
    """The replica's engine while it answers and streams, else None."""
    found = status()
    return db.engines[BIND] if found and found["reads"] == "replica" else None


def status() -> dict | None:
    """None without a replica, else whether reads go to it, whether it streams, and its
    replay lag: one measurement, at most every CHECK_EVERY seconds, for the routing and
    for /healthz (a replica that drops packets costs its connect timeout, which neither
    a request nor a load balancer's health check must wait for on every call)."""
    if BIND not in current_app.config.get("SQLALCHEMY_BINDS", {}):
        return None
    state = current_app.extensions.setdefault("replica_state", {"at": 0.0})
    if time.monotonic() - state["at"] > CHECK_EVERY:
        state["status"], state["at"] = _measure(), time.monotonic()
    return state["status"]


# A standby is used only while it streams from the primary: one whose WAL receiver
# stopped (a missing WAL segment, a changed password) would serve old data forever, and
# its own lag figure would read 0. A server not in recovery is current by definition.
STATE = sa.text(
    "SELECT pg_is_in_recovery() AS standby, (SELECT status FROM pg_stat_wal_receiver) AS receiver"
)


def _measure() -> dict:
    try:
        with db.engines[BIND].connect() as connection:
            row = connection.execute(STATE).one()
            lag = connection.execute(LAG).scalar() if row.standby else 0
    except sa.exc.SQLAlchemyError:
        return {"status": "unavailable", "reads": "primary"}
    streaming = not row.standby or row.receiver == "streaming"
    return {
        "status": "ok" if streaming else "not_streaming",
        "reads": "replica" if streaming else "primary",
        "standby": bool(row.standby),
        "receiver": row.receiver,
        "lag_seconds": float(lag or 0),
    }


def read_engine(clause) -> sa.Engine | None:
    """Where a read-only view's ``clause`` goes: the replica's engine, or None for the
    primary (see the module's rules)."""
    return engine() if readable(clause) else None
