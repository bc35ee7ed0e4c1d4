"""A closed demo workshop in Rennes with a few hundred plausible pins, so that every
page has something to show after `make run`. Seeded: the same pins every time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from shapely.ops import unary_union

from app.extensions import db
from app.models import Category, Pin, Quartier, Street, Territory, Workshop, WorkshopGroup
from app.workshops.groups import new_join_code
from geo import projections

DEMO_TITLE = "Assises de la tranquillité — Le Blosne, Bréquigny, Sud Gare (démo)"
DEMO_QUARTIERS = ("Q.11", "Q.12", "Q.8")  # Le Blosne, Bréquigny, Sud gare
TIMES = ("morning", "day", "evening", "night", "always")
UNSAFE_TIMES = (0.08, 0.17, 0.30, 0.35, 0.10)
SAFE_TIMES = (0.20, 0.45, 0.15, 0.05, 0.15)
COMMENTS = (
    "Passage très sombre le soir, on évite.",
    "Des scooters roulent à toute vitesse sur le trottoir.",
    "Beaucoup de monde et des commerces ouverts, on s'y sent bien.",
    "Regroupements devant le hall, remarques aux passantes.",
    "Éclairage en panne depuis des semaines.",
    "Dépôts d'encombrants qui s'accumulent.",
    "Le square est bien entretenu, les enfants y jouent.",
    "Voitures réparées sur le parking, huile partout.",
)


def seed_demo_workshop(territory: Territory, pins: int = 320, seed: int = 2024) -> Workshop | None:
    """Create the demo workshop unless it exists; return it (None when it existed)."""
    exists = db.session.scalar(sa.select(Workshop.id).where(Workshop.title == DEMO_TITLE))
    if exists:
        return None
    quartiers = db.session.scalars(
        sa.select(Quartier).where(
            Quartier.territory_id == territory.id, Quartier.code.in_(DEMO_QUARTIERS)
        )
    ).all() or list(territory.quartiers)
    closed = datetime(2024, 11, 16, 12, 0, tzinfo=UTC)
    workshop = Workshop(
        territory=territory,
        kind="assises",
        title=DEMO_TITLE,
        edition="2024",
        held_on=closed.date(),
        place="Maison de quartier du Blosne",
        status="closed",
        opened_at=closed - timedelta(hours=3),
        closed_at=closed,
        quartiers=quartiers,
    )
    db.session.add(workshop)
    groups = [
        WorkshopGroup(territory_id=territory.id, name=f"Table {n}", join_code=new_join_code())
        for n in range(1, 5)
    ]
    workshop.groups = groups
    db.session.flush()
    rng = np.random.default_rng(seed)
    points = _street_points(territory, quartiers, pins, rng)
    _add_pins(workshop, groups, points, rng, closed)
    return workshop


def _street_points(territory, quartiers, count: int, rng) -> list[Point]:
    """Points along the streets, denser around a few hotspots, inside the quartiers."""
    area = unary_union([to_shape(q.geom) for q in quartiers])
    lines = [
        to_shape(g)
        for g in db.session.scalars(
            sa.select(Street.geom)
            .where(
                Street.territory_id == territory.id,
                sa.func.ST_Intersects(Street.geom, from_shape(area, srid=4326)),
            )
            .order_by(Street.id)  # the same demo every time: the seed draws from this order
        )
    ]
    if not lines:  # no streets imported: uniform points in the quartiers
        return _uniform_points(area, count, rng)
    lengths = np.array([line.length for line in lines])
    picks = rng.choice(len(lines), size=count * 8, p=lengths / lengths.sum())
    candidates = [lines[i].interpolate(rng.random(), normalized=True) for i in picks]
    candidates = [p for p in candidates if area.contains(p)]
    xy = np.array(
        projections.to_metric(
            [p.x for p in candidates], [p.y for p in candidates], territory.metric_srid
        )
    ).T
    centres = xy[rng.choice(len(xy), size=6, replace=False)]
    distance2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    weight = 0.15 + np.exp(-distance2 / (2 * 150.0**2)).sum(axis=1)
    chosen = rng.choice(
        len(candidates), size=min(count, len(candidates)), replace=False, p=weight / weight.sum()
    )
    return [candidates[i] for i in chosen]


def _uniform_points(area, count: int, rng) -> list[Point]:
    west, south, east, north = area.bounds
    points: list[Point] = []
    while len(points) < count:
        point = Point(rng.uniform(west, east), rng.uniform(south, north))
        if area.contains(point):
            points.append(point)
    return points


def _add_pins(workshop: Workshop, groups, points, rng, closed: datetime) -> None:
    categories = db.session.scalars(sa.select(Category).where(Category.code != "other")).all()
    unsafe = [c for c in categories if "unsafe" in c.feelings]
    safe = [c for c in categories if "safe" in c.feelings]
    for number, point in enumerate(points):
        feeling = "unsafe" if rng.random() < 0.68 else "safe"
        choices, times = (unsafe, UNSAFE_TIMES) if feeling == "unsafe" else (safe, SAFE_TIMES)
        comment = str(rng.choice(COMMENTS)) if rng.random() < 0.15 else None
        db.session.add(
            Pin(
                id=_uuid(rng),
                territory_id=workshop.territory_id,
                workshop_id=workshop.id,
                group_id=groups[number % len(groups)].id,
                feeling=feeling,
                category_id=choices[int(rng.integers(len(choices)))].id,
                time_of_day=str(rng.choice(TIMES, p=times)),
                comment=comment,
                comment_status=_status(comment, rng),
                geom=from_shape(Point(round(point.x, 7), round(point.y, 7)), srid=4326),
                created_at=closed - timedelta(minutes=int(rng.integers(5, 170))),
            )
        )


def _status(comment: str | None, rng) -> str | None:
    if comment is None:
        return None
    return "approved" if rng.random() < 0.8 else "pending"


def _uuid(rng):
    return uuid.UUID(bytes=rng.bytes(16), version=4)
