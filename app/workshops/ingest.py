"""A new pin in one database round trip (issue 16, DESIGN §3).

The pin API's hot path: a workshop of 200 residents may send a few thousand pins in
half an hour, often in bursts. One SQL statement, run in autocommit, checks that the
group's workshop is open and that the point lies in (or within the tolerance of) its
quartiers, and inserts the pin; ``ON CONFLICT DO NOTHING`` turns a replayed id into "not
created", which the view answers by comparing with the stored pin (200 or 409).

The join code's group is looked up once per worker and remembered (its ids never
change); whether its workshop is still open is read by the statement itself, so a
workshop closed a second ago refuses the pin. Every check of the ORM path is kept:
fields and category in :func:`app.workshops.pins.parse_pin`, state and place here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.workshops import groups

# The statement's parts are named in its result: the workshop's status (None for a
# group deleted since it was remembered), whether the point is inside, and the
# created_at of the row it wrote (None: not written).
INSERT_PIN = sa.text(
    """
    WITH grp AS (
        -- A questionnaire's code takes pins only within its window (app.survey.window):
        -- 'outside' whatever the workshop's status, before `flask survey sync` runs.
        SELECT g.id, g.workshop_id, g.territory_id,
               CASE WHEN s.id IS NOT NULL AND NOT (
                        (CAST(:clock AS timestamptz) AT TIME ZONE t.time_zone)::date
                        BETWEEN s.opens_on AND s.closes_on)
                    THEN 'outside' ELSE w.status END AS status
        FROM workshop_group g JOIN workshop w ON w.id = g.workshop_id
        JOIN territory t ON t.id = g.territory_id
        LEFT JOIN survey s ON s.workshop_id = w.id
        WHERE g.territory_id = :territory_id AND g.id = :group_id
        FOR SHARE OF w  -- a closing workshop waits for the pins being written, then releases them
    ),
    place AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom),
    area AS (
        SELECT q.geom FROM quartier q JOIN workshop_quartier wq ON wq.quartier_id = q.id
        WHERE q.territory_id = :territory_id AND wq.workshop_id = :workshop_id
    ),
    inside AS (
        SELECT EXISTS (SELECT 1 FROM area, place WHERE ST_Intersects(area.geom, place.geom))
            OR EXISTS (
                SELECT 1 FROM area, place
                WHERE ST_DWithin(area.geom::geography, place.geom::geography, :tolerance)
            ) AS ok
    ),
    written AS (
        INSERT INTO pin (id, territory_id, workshop_id, group_id, feeling, category_id,
                         time_of_day, comment, comment_status, geom, created_at, updated_at)
        SELECT :id, grp.territory_id, grp.workshop_id, grp.id, :feeling, :category_id,
               :time_of_day, :comment, :comment_status, place.geom, :now, :now
        FROM grp, inside, place
        WHERE grp.status = 'open' AND inside.ok
        ON CONFLICT (id) DO NOTHING
        RETURNING created_at
    )
    SELECT grp.status, inside.ok AS inside, (SELECT created_at FROM written) AS created_at
    FROM inside LEFT JOIN grp ON true
    """
)

REMEMBER = 300.0  # seconds a worker remembers a code's group
REMEMBERED_MAX = 20_000  # codes; forgotten all at once past this (a few MB at most)


@dataclass(frozen=True)
class GroupRef:
    """What the pin API needs of a group: ids that never change."""

    id: int
    workshop_id: int
    territory_id: int
    join_code: str


_remembered: dict[str, tuple[float, GroupRef]] = {}


def group_ref(code: str) -> GroupRef:
    """The group of ``code``: remembered, or looked up with the full checks (404 for an
    unknown code, 403 for a draft or closed workshop)."""
    key = groups.normalise_code(code)
    found = _remembered.get(key)
    if found and time.monotonic() - found[0] < REMEMBER:
        return found[1]
    group = groups.group_by_code(code)
    ref = GroupRef(group.id, group.workshop_id, group.territory_id, group.join_code)
    if len(_remembered) >= REMEMBERED_MAX:
        _remembered.clear()
    _remembered[key] = (time.monotonic(), ref)
    return ref


@dataclass(frozen=True)
class Written:
    # The workshop's status ('outside': a questionnaire's window), None if the group is gone.
    status: str | None
    inside: bool
    created_at: datetime | None  # None: not written (refused, or the id exists)


def insert_pin(group: GroupRef, clean: dict, now: datetime, autocommit) -> Written:
    """Run the one statement for a checked pin body (``clean`` from ``parse_pin``) on an
    ``autocommit`` connection."""
    comment = clean["comment"]
    values = {
        "territory_id": group.territory_id,
        "group_id": group.id,
        "workshop_id": group.workshop_id,
        "id": clean["id"],
        "feeling": clean["feeling"],
        "category_id": clean["category"].id,
        "time_of_day": clean["time_of_day"],
        "comment": comment,
        "comment_status": "pending" if comment else None,
        "lon": clean["lon"],
        "lat": clean["lat"],
        "tolerance": current_app.config["PIN_BOUNDARY_TOLERANCE_M"],
        "now": now,
        "clock": clock.now(),
    }
    row = autocommit.execute(INSERT_PIN, values).one()
    return Written(row.status, bool(row.inside), row.created_at)
