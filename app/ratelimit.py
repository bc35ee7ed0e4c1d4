"""Rate limits that every worker and every node share: the counters live in PostgreSQL.

One row per key in the UNLOGGED table ``rate_counter``: a fixed window that opens at the
key's first request and lasts ``period`` seconds. A single ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` counts the request and reads the count, so two workers can never
both take the last slot; all the keys of a request are counted by one such statement,
in autocommit: a request refused later (422, 409) still counts. Old rows are purged
now and then by whichever worker passes.

No IP address reaches the database: a client is keyed by an HMAC of its address with
a random salt of the hour (a row of the same table, made by the first worker that needs
it and purged two hours later), truncated. While the salt exists every worker keys a
client alike; once it is gone nobody, the holder of the secret key included, can tell
which address a counter belonged to (the secret key alone would let anyone try all
2^32 IPv4 addresses).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import secrets
import time

import sqlalchemy as sa
from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

from app.extensions import autocommit, db

# Every setting that names a (count, seconds) limit; the longest period bounds purging.
SETTINGS = (
    "PIN_RATE_PER_CODE",
    "PIN_RATE_PER_CLIENT",
    "EXPORT_RATE_PER_CLIENT",
    "CODE_ENTRY_RATE_PER_CLIENT",
    "ROUTE_RATE_PER_CLIENT",
    "SURVEY_RATE_PER_CODE",
    "SURVEY_RATE_PER_CLIENT",
)
PURGE_EVERY_SECONDS = 60.0
SALT_HOURS_KEPT = 2
CLIENT_HASH_CHARS = 24

# One request counted for one key: a data-modifying CTE, so that every key of a request
# (a join code and a client) is counted by one statement in one round trip.
_HIT = """
    {name} AS (
        INSERT INTO rate_counter AS c (key, window_start, count) VALUES (:key{n}, now(), 1)
        ON CONFLICT (key) DO UPDATE SET
            window_start = CASE WHEN c.window_start <= now() - make_interval(secs => :period{n})
                                THEN now() ELSE c.window_start END,
            count = CASE WHEN c.window_start <= now() - make_interval(secs => :period{n})
                         THEN 1 ELSE c.count + 1 END
        RETURNING {n} AS n, c.count,
            extract(epoch FROM c.window_start + make_interval(secs => :period{n}) - now())
                AS remaining
    )"""


def _hits(count: int) -> sa.TextClause:
    parts = ",".join(_HIT.format(name=f"hit{n}", n=n) for n in range(count))
    union = " UNION ALL ".join(f"SELECT * FROM hit{n}" for n in range(count))
    return sa.text(f"WITH {parts} {union} ORDER BY n")


_PURGE = sa.text(
    "DELETE FROM rate_counter WHERE window_start < now() - make_interval(secs => :horizon)"
    " AND key NOT LIKE 'salt:%'"
)
_PURGE_SALTS = sa.text(
    "DELETE FROM rate_counter WHERE key LIKE 'salt:%'"
    " AND window_start < now() - make_interval(hours => :hours)"
)
# The hour's salt (key "salt:YYYYMMDDHH"): the first worker's random value wins.
_salts: dict[str, int] = {}
_last_purge = {"at": -1e9}


def hits(counted: list[tuple[str, int, float]], connection=None) -> list[float]:
    """Count one request for each ``(key, limit, period)`` in one statement (autocommit:
    it counts even if the request fails later); for each, 0 if allowed, else the
    seconds to wait. ``connection``: the request's own, to save a checkout."""
    values = {}
    for n, (key, _limit, period) in enumerate(counted):
        values[f"key{n}"], values[f"period{n}"] = key, float(period)
    with _autocommit(connection) as conn:
        rows = conn.execute(_hits(len(counted)), values).all()
        _purge_now_and_then(conn)
    return [
        0.0 if row.count <= limit else max(float(row.remaining), 0.0)
        for row, (_key, limit, _period) in zip(rows, counted, strict=True)
    ]


@contextlib.contextmanager
def _autocommit(connection):
    if connection is not None:
        yield connection
        return
    with autocommit() as own:
        yield own


def _purge_now_and_then(conn) -> None:
    if time.monotonic() - _last_purge["at"] < PURGE_EVERY_SECONDS:
        return
    _last_purge["at"] = time.monotonic()
    horizon = max(float(current_app.config[name][1]) for name in SETTINGS)
    conn.execute(_PURGE, {"horizon": horizon})
    conn.execute(_PURGE_SALTS, {"hours": SALT_HOURS_KEPT})


def _hour_salt() -> bytes:
    key = time.strftime("salt:%Y%m%d%H", time.gmtime())
    if key not in _salts:
        _salts.clear()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO rate_counter (key, window_start, count)"
                    " VALUES (:key, now(), :value) ON CONFLICT (key) DO NOTHING"
                ),
                {"key": key, "value": secrets.randbelow(2**31 - 1) + 1},
            )
            _salts[key] = conn.execute(
                sa.text("SELECT count FROM rate_counter WHERE key = :key"), {"key": key}
            ).scalar_one()
    return str(_salts[key]).encode()


def client_key() -> str:
    """The client's address as a hash salted by the hour: equal for one address within
    the hour, no address stored, none recoverable once the salt is purged."""
    digest = hmac.new(_hour_salt(), (request.remote_addr or "").encode(), hashlib.sha256)
    return "client:" + digest.hexdigest()[:CLIENT_HASH_CHARS]


def enforce(checks, connection=None) -> None:
    """Abort with 429 (and Retry-After) when any ``(key, setting name)`` is over its limit."""
    counted = []
    for key, setting in checks:
        limit, period = current_app.config[setting]
        counted.append((key, int(limit), float(period)))
    wait = max(hits(counted, connection))
    if wait:
        error = TooManyRequests(description="trop de requêtes, réessayez plus tard")
        error.retry_after = max(1, math.ceil(wait))
        raise error


def limit_writes(join_code: str, connection=None) -> None:
    """Pin and diagnostic writes: per join code and per client."""
    checks = ((f"code:{join_code}", "PIN_RATE_PER_CODE"), (client_key(), "PIN_RATE_PER_CLIENT"))
    enforce(checks, connection)


def limit_anonymous_exports() -> None:
    """Aggregated exports cost a count and a file each: anonymous clients wait their turn."""
    enforce(((f"export:{client_key()}", "EXPORT_RATE_PER_CLIENT"),))


def limit_code_entry() -> None:
    """Codes typed on /j: per client, so that nobody tries codes in bulk."""
    enforce(((f"join:{client_key()}", "CODE_ENTRY_RATE_PER_CLIENT"),))


def limit_survey_answers(code: str) -> None:
    """Questionnaire answers: per questionnaire code and per client."""
    checks = (
        (f"survey:{code}", "SURVEY_RATE_PER_CODE"),
        (f"survey:{client_key()}", "SURVEY_RATE_PER_CLIENT"),
    )
    enforce(checks)
