"""Pins: checking what a resident sends, and turning stored pins into JSON.

Every check names the field and says what is wrong, in the reader's language; a pin
that fails any check is not written at all.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from geoalchemy2 import Geography
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point

from app.errors import ValidationError
from app.extensions import db
from app.models import (
    FEELINGS,
    TIMES_OF_DAY,
    Category,
    Pin,
    Quartier,
    Workshop,
    workshop_quartier,
)

EDITABLE = ("feeling", "category", "time_of_day", "comment", "lon", "lat")
CATEGORY_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    feelings: tuple[str, ...]
    active: bool


# Categories change rarely (an admin page) and are read on every pin: each worker keeps
# them for a few seconds; the admin page clears its own worker's copy at once.
_categories: dict = {"loaded_at": -1e9, "by_code": {}, "by_id": {}}


def _load_categories() -> None:
    if time.monotonic() - _categories["loaded_at"] < CATEGORY_CACHE_SECONDS:
        return
    refs = [
        CategoryRef(c.id, c.code, tuple(c.feelings), c.active)
        for c in db.session.scalars(sa.select(Category))
    ]
    _categories.update(
        by_code={r.code: r for r in refs if r.active},
        by_id={r.id: r for r in refs},
        loaded_at=time.monotonic(),
    )


def active_categories() -> dict[str, CategoryRef]:
    """Active categories by code (cached for CATEGORY_CACHE_SECONDS)."""
    _load_categories()
    return _categories["by_code"]


def category_code(category_id: int) -> str:
    _load_categories()
    ref = _categories["by_id"].get(category_id)
    if ref is None:  # created by another worker a moment ago
        forget_categories()
        _load_categories()
        ref = _categories["by_id"][category_id]
    return ref.code


def forget_categories() -> None:
    _categories["loaded_at"] = -1e9


def parse_pin(payload: Any, workshop: Workshop | None, partial: bool = False) -> dict:
    """Check a pin body; return clean values (``category`` as a Category) or raise 422.

    With ``partial`` (PATCH) only the fields present are checked, and at least one
    editable field must be there. ``workshop`` None: the caller checks that the place
    is inside the workshop's quartiers (the pin API's one statement, app.workshops.ingest).
    """
    if not isinstance(payload, dict):
        raise ValidationError({"body": _("Le corps doit être un objet JSON.")})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if not partial:
        clean["id"] = _uuid(payload.get("id"), errors)
    wanted = [f for f in EDITABLE if f in payload] if partial else list(EDITABLE)
    if partial and not wanted:
        raise ValidationError({"body": _("Aucun champ à modifier.")})
    for name in wanted:
        parser = _PARSERS[name]
        try:
            clean[name] = parser(payload.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if "category" in clean and ("feeling" in clean or not partial):
        _check_category_feeling(clean, errors)
    if not errors and ("lon" in clean) != ("lat" in clean):
        errors["lon" if "lon" not in clean else "lat"] = _("Donnez la longitude et la latitude.")
    if (
        not errors
        and workshop is not None
        and "lon" in clean
        and not inside_workshop(workshop, clean["lon"], clean["lat"])
    ):
        errors["lon"] = errors["lat"] = OUTSIDE()
    if errors:
        raise ValidationError(errors, _("Le point n'a pas été enregistré."))
    return clean


def OUTSIDE() -> str:  # noqa: N802 - a message, translated when asked
    return _("Ce point est hors des quartiers de l'atelier.")


def _uuid(value, errors: dict) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        errors["id"] = _("Identifiant manquant ou invalide (UUID attendu).")
        return None


def _feeling(value) -> str:
    if value not in FEELINGS:
        raise ValueError(_("Choisissez « unsafe » ou « safe »."))
    return value


def _time_of_day(value) -> str:
    if value not in TIMES_OF_DAY:
        raise ValueError(
            _("Moment inconnu ; valeurs possibles : %(values)s.", values=", ".join(TIMES_OF_DAY))
        )
    return value


def _category(value) -> CategoryRef:
    category = active_categories().get(value) if isinstance(value, str) else None
    if category is None:
        raise ValueError(_("Catégorie inconnue : %(value)s.", value=str(value)[:50]))
    return category


def _comment(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(_("Le commentaire doit être du texte."))
    value = value.strip()
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if len(value) > limit:
        raise ValueError(
            _("%(limit)d caractères au plus (%(n)d reçus).", limit=limit, n=len(value))
        )
    return value or None


def _coordinate(low: float, high: float):
    def parse(value) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(_("Nombre fini attendu."))
        if not low <= value <= high:
            raise ValueError(_("Doit être entre %(low)s et %(high)s degrés.", low=low, high=high))
        return float(value)

    return parse


_PARSERS = {
    "feeling": _feeling,
    "category": _category,
    "time_of_day": _time_of_day,
    "comment": _comment,
    "lon": _coordinate(-180.0, 180.0),
    "lat": _coordinate(-90.0, 90.0),
}


def _check_category_feeling(clean: dict, errors: dict) -> None:
    feeling = clean.get("feeling")
    if feeling and clean["category"] and feeling not in clean["category"].feelings:
        errors["category"] = _("Cette catégorie ne s'applique pas à ce ressenti.")


def inside_workshop(workshop: Workshop, lon: float, lat: float) -> bool:
    """Whether a point lies in (or within the tolerance of) the workshop's quartiers.

    Most taps are inside: a plain planar test answers them; only the others pay for
    the distance on the ellipsoid.
    """
    point = sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326)
    tolerance = current_app.config["PIN_BOUNDARY_TOLERANCE_M"]
    inside = sa.func.ST_Intersects(Quartier.geom, point)
    near = sa.func.ST_DWithin(
        sa.cast(Quartier.geom, _geography()), sa.cast(point, _geography()), tolerance
    )
    return any(_workshop_quartier_matches(workshop, test) for test in (inside, near))


def _workshop_quartier_matches(workshop: Workshop, condition) -> bool:
    query = (
        sa.select(Quartier.id)
        .join(workshop_quartier, workshop_quartier.c.quartier_id == Quartier.id)
        .where(
            Quartier.territory_id == workshop.territory_id,  # one shard (DESIGN §8)
            workshop_quartier.c.workshop_id == workshop.id,
            condition,
        )
        .limit(1)
    )
    return db.session.scalar(query) is not None


def _geography():
    return Geography(srid=4326)


def apply(pin: Pin, clean: dict) -> None:
    """Copy checked values onto a pin; a changed comment goes back to moderation."""
    for name in ("feeling", "time_of_day"):
        if name in clean:
            setattr(pin, name, clean[name])
    if "category" in clean:
        pin.category_id = clean["category"].id
    if "lon" in clean:
        pin.geom = from_shape(Point(clean["lon"], clean["lat"]), srid=4326)
    if "comment" in clean and clean["comment"] != pin.comment:
        pin.comment = clean["comment"]
        pin.comment_status = "pending" if clean["comment"] else None
        pin.moderated_by = pin.moderated_at = None


def same_content(pin: Pin, clean: dict) -> bool:
    """Whether a re-sent pin carries what is stored (coordinates to about 1 cm).

    The comment is not compared: anyone at the table sees a pin's id, and an answer that
    depended on the comment would let them test guesses at a pending text."""
    point = to_shape(pin.geom)
    return (
        pin.feeling == clean["feeling"]
        and pin.category_id == clean["category"].id
        and pin.time_of_day == clean["time_of_day"]
        and abs(point.x - clean["lon"]) < 1e-7
        and abs(point.y - clean["lat"]) < 1e-7
    )


# Comment text a resident's phone may read back from the server (DESIGN §6): approved
# text only. Pending and rejected text stays in the database; the author's phone keeps
# its own copy and learns the state from ``comment_status``.
SHOWN_COMMENT_STATUSES = (None, "approved")


def to_json(pin: Pin, with_comment: bool = True, echo_comment: bool = False) -> dict:
    """A pin for the resident API. ``comment`` is present only when approved (or absent
    altogether), or with ``echo_comment`` when answering the write that just sent it;
    ``comment_status`` always is."""
    point = to_shape(pin.geom)
    data = {
        "id": str(pin.id),
        "feeling": pin.feeling,
        "category": category_code(pin.category_id),
        "time_of_day": pin.time_of_day,
        "lon": round(point.x, 7),
        "lat": round(point.y, 7),
        "created_at": pin.created_at.isoformat(),
        "updated_at": pin.updated_at.isoformat(),
    }
    if with_comment:
        if echo_comment or pin.comment_status in SHOWN_COMMENT_STATUSES:
            data["comment"] = pin.comment
        data["comment_status"] = pin.comment_status
    return data
