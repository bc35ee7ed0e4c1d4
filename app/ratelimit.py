"""Rate limits that every worker and every node share: the counters live in PostgreSQL.

One row per key in the UNLOGGED table ``rate_counter``: a fixed window that opens at the
key's first request and lasts ``period`` seconds. A single ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` counts the request and reads the count, so two workers can never
both take the last slot, and it commits on its own connection: a request refused later
(422, 409) still counts. Old rows are purged now and then by whichever worker passes.

No IP address reaches the database: a client is keyed by an HMAC of its address with
the secret key, truncated (enough to tell clients apart, useless to recover an address).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

import sqlalchemy as sa
from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

from app.extensions import db

# Every setting that names a (count, seconds) limit; the longest period bounds purging.
SETTINGS = ("PIN_RATE_PER_CODE", "PIN_RATE_PER_CLIENT", "EXPORT_RATE_PER_CLIENT")
PURGE_EVERY_SECONDS = 300.0
CLIENT_HASH_CHARS = 24

_HIT = sa.text(
    """
    INSERT INTO rate_counter AS c (key, window_start, count) VALUES (:key, now(), 1)
    ON CONFLICT (key) DO UPDATE SET
        window_start = CASE WHEN c.window_start <= now() - make_interval(secs => :period)
                            THEN now() ELSE c.window_start END,
        count = CASE WHEN c.window_start <= now() - make_interval(secs => :period)
                     THEN 1 ELSE c.count + 1 END
    RETURNING c.count,
        extract(epoch FROM c.window_start + make_interval(secs => :period) - now())
    """
)
_PURGE = sa.text(
    "DELETE FROM rate_counter WHERE window_start < now() - make_interval(secs => :horizon)"
)
_last_purge = {"at": -1e9}


def hit(key: str, limit: int, period: float) -> float:
    """Count one request for ``key``; return 0 if allowed, else the seconds to wait."""
    with db.engine.begin() as conn:
        count, remaining = conn.execute(_HIT, {"key": key, "period": float(period)}).one()
        _purge_now_and_then(conn)
    return 0.0 if count <= limit else max(float(remaining), 0.0)


def _purge_now_and_then(conn) -> None:
    if time.monotonic() - _last_purge["at"] < PURGE_EVERY_SECONDS:
        return
    _last_purge["at"] = time.monotonic()
    horizon = max(float(current_app.config[name][1]) for name in SETTINGS)
    conn.execute(_PURGE, {"horizon": horizon})


def client_key() -> str:
    """The client's address as a keyed hash: equal for one address, no address stored."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, (request.remote_addr or "").encode(), hashlib.sha256)
    return "client:" + digest.hexdigest()[:CLIENT_HASH_CHARS]


def enforce(checks) -> None:
    """Abort with 429 (and Retry-After) when any ``(key, setting name)`` is over its limit."""
    for key, setting in checks:
        limit, period = current_app.config[setting]
        wait = hit(key, int(limit), float(period))
        if wait:
            error = TooManyRequests(description="trop de requêtes, réessayez plus tard")
            error.retry_after = max(1, math.ceil(wait))
            raise error


def limit_writes(join_code: str) -> None:
    """Pin and diagnostic writes: per join code and per client."""
    enforce(((f"code:{join_code}", "PIN_RATE_PER_CODE"), (client_key(), "PIN_RATE_PER_CLIENT")))


def limit_anonymous_exports() -> None:
    """Aggregated exports cost a count and a file each: anonymous clients wait their turn."""
    enforce(((f"export:{client_key()}", "EXPORT_RATE_PER_CLIENT"),))
