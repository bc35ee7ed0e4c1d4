"""The layer cache shared by every worker and node (DESIGN §3).

A layer document is stored in ``layer_cache`` under a key made of the territory, the
layer, its filters, who may see what (full counts or the public release, k) and the
language, with the territory's data version at the time it was computed. The version
(``data_version``, migration 0013) is bumped by database triggers on every pin,
release and quartier write, so a stored document is served only while nothing it was
computed from has changed: the second identical request does no counting, on any worker.

The version is read before computing: a document computed while a pin arrived may
already count it, and is stored under the older version, which the new pin's bump has
made stale. A cache that cannot be written (a read-only replica, a full disk) only
costs the next request its computation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import DataVersion, LayerCache, Territory

log = logging.getLogger(__name__)

# Documents larger than this are not stored (a density at 25 m over a whole town).
MAX_BODY = 8 * 1024 * 1024
# Entries unused for this long are removed now and then by the writes.
KEEP = "1 hour"
PRUNE_CHANCE = 0.02


def data_version(territory: Territory) -> int:
    version = db.session.scalar(
        sa.select(DataVersion.version).where(DataVersion.territory_id == territory.id)
    )
    return version or 0


def cache_key(territory: Territory, layer: str, filters, *extra) -> str:
    """A stable digest of everything the document depends on besides the data."""

    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    fields = {k: plain(v) for k, v in sorted(dataclasses.asdict(filters).items())}
    text = json.dumps([territory.id, layer, fields, filters.k, *extra], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cached(territory: Territory, key: str, compute: Callable[[], bytes]) -> tuple[bytes, bool]:
    """``(body, hit)``: the stored document for ``key`` if it is of the territory's
    current data version, else ``compute()``'s, stored for the next request."""
    version = data_version(territory)
    body = db.session.scalar(
        sa.select(LayerCache.body).where(
            LayerCache.territory_id == territory.id,  # one shard (DESIGN §8)
            LayerCache.key == key,
            LayerCache.version == version,
            # Labels and settings are not versioned: an hour bounds how long they lag.
            LayerCache.created_at > sa.func.now() - sa.text(f"interval '{KEEP}'"),
        )
    )
    if body is not None:
        return bytes(body), True
    body = compute()
    if len(body) <= MAX_BODY:
        _store(territory, key, version, body)
    return body, False


def _store(territory: Territory, key: str, version: int, body: bytes) -> None:
    insert = upsert(LayerCache).values(
        key=key, territory_id=territory.id, version=version, body=body, created_at=sa.func.now()
    )
    insert = insert.on_conflict_do_update(
        index_elements=[LayerCache.key],
        set_={"version": version, "body": body, "created_at": sa.func.now()},
        # Never replace a document of a newer version by an older one.
        where=LayerCache.version <= version,
    )
    try:
        with db.session.begin_nested():
            db.session.execute(insert)
            if random.random() < PRUNE_CHANCE:  # noqa: S311 (not a secret)
                db.session.execute(
                    sa.delete(LayerCache).where(
                        LayerCache.created_at < sa.func.now() - sa.text(f"interval '{KEEP}'")
                    )
                )
        db.session.commit()
    except SQLAlchemyError as exc:  # a cache that cannot be written costs only time
        db.session.rollback()
        log.warning("layer cache not written: %s", exc.__class__.__name__)
