"""Every migration goes down and up again, and a pin can be written at every step; the
constants the migrations quote are the Python ones (migrations/README.md)."""

from __future__ import annotations

import importlib.util
import re

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.helpers import BLOSNE, PROJECT_ROOT

VERSIONS = PROJECT_ROOT / "migrations" / "versions"
# Columns the pin triggers keep, and the revision that added each.
KEPT = {"x_m": "0004", "y_m": "0004", "quartier_id": "0005", "hex_q": "0007", "hex_r": "0007",
        "grid_i": "0008", "grid_j": "0008"}  # fmt: skip


def _revisions(app) -> list[str]:
    """Revision ids from the first to the head."""
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _write_a_pin(revision: str) -> dict:
    """Insert a territory, a quartier around Le Blosne, a workshop, a group and a pin with
    plain SQL (valid at every revision since 0003); return the pin as stored. Rolled back."""
    run = db.session.execute
    lon, lat = BLOSNE
    try:
        territory = run(sa.text(
            "INSERT INTO territory (slug, name, country, metric_srid, created_at) "
            "VALUES ('t', 'T', 'FR', 2154, now()) RETURNING id")).scalar()
        run(sa.text(
            "INSERT INTO quartier (territory_id, code, name, geom, source, source_digest, "
            "imported_at) VALUES (:t, 'Q', 'Q', ST_Multi(ST_Expand(ST_SetSRID("
            "ST_MakePoint(:lon, :lat), 4326), 0.01)), 'test', 'x', now())"),
            {"t": territory, "lon": lon, "lat": lat})
        if run(sa.text("SELECT to_regprocedure('territory_grid(integer, integer)')")).scalar():
            run(sa.text("SELECT territory_grid(:t, 600)"), {"t": territory})
        workshop = run(sa.text(
            "INSERT INTO workshop (territory_id, kind, title, edition, held_on, place, status, "
            "created_at) VALUES (:t, 'atelier', 'A', '', current_date, '', 'open', now()) "
            "RETURNING id"), {"t": territory}).scalar()
        group = run(sa.text(
            "INSERT INTO workshop_group (territory_id, workshop_id, name, join_code, troubles, "
            "causes, solutions, residents_role, created_at) "
            "VALUES (:t, :w, 'T1', 'CODE', '', '', '', '', now()) RETURNING id"),
            {"t": territory, "w": workshop}).scalar()
        return dict(run(sa.text(
            "INSERT INTO pin (id, territory_id, workshop_id, group_id, feeling, category_id, "
            "time_of_day, geom, created_at, updated_at) VALUES (gen_random_uuid(), :t, :w, :g, "
            "'unsafe', (SELECT id FROM category WHERE code = 'lighting'), 'night', "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), now(), now()) RETURNING *"),
            {"t": territory, "w": workshop, "g": group, "lon": lon, "lat": lat}).mappings().one())
    finally:
        db.session.rollback()


def _check_pin_at(revision: str) -> None:
    if revision < "0003":
        return  # no pin table yet
    pin = _write_a_pin(revision)
    for column, since in KEPT.items():
        if revision >= since:
            assert pin[column] is not None, f"{column} not kept at revision {revision}"
        else:
            assert column not in pin, f"{column} present at revision {revision}"


def test_every_revision_goes_down_and_up_with_pins_writable(app):
    with app.app_context():
        revisions = _revisions(app)
        assert revisions[0] == "0001" and revisions[-1] >= "0012"
        _check_pin_at(revisions[-1])
        for revision in reversed(["base", *revisions[:-1]]):
            downgrade(revision=revision)
            _check_pin_at(revision if revision != "base" else "0000")
        for revision in revisions:
            upgrade(revision=revision)
            _check_pin_at(revision)
        assert db.session.execute(sa.text("SELECT count(*) FROM category")).scalar() > 0


def _migration(name: str):
    (path,) = VERSIONS.glob(f"{name}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constants_quoted_by_migrations_are_the_python_ones():
    from app.analysis.cells import DEFAULT_SIZE
    from app.territories.places import DENSITY_MAX_CELLS

    assert _migration("0007").DEFAULT_SIZE == DEFAULT_SIZE
    assert _migration("0008").DEFAULT_SIZE == DEFAULT_SIZE
    assert _migration("0008").GRID_CELLS == DENSITY_MAX_CELLS
    from app.models import QUESTION_KINDS, QUESTION_SECTIONS, SURVEY_TEXT_STATUSES

    assert _migration("0015").QUESTION_KINDS == QUESTION_KINDS
    assert _migration("0015").QUESTION_SECTIONS == QUESTION_SECTIONS
    assert _migration("0015").SURVEY_TEXT_STATUSES == SURVEY_TEXT_STATUSES


def test_the_pin_trigger_function_uses_the_default_hexagon_size(app):
    from app.analysis.cells import DEFAULT_SIZE

    with app.app_context():
        source = db.session.execute(
            sa.text("SELECT pg_get_functiondef('pin_keep_xy_hexagon_cell'::regproc)")
        ).scalar()
        triggers = db.session.execute(
            sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'pin'::regclass "
                    "AND NOT tgisinternal ORDER BY tgname")
        ).scalars().all()
    assert f"/ {DEFAULT_SIZE};" in source and "grid_i" in source
    assert triggers == [
        "pin_bump_data_version_delete",
        "pin_bump_data_version_insert",
        "pin_bump_data_version_update",
        "pin_keep_xy_hexagon_cell",
        "pin_set_quartier",
    ]


def test_pins_the_api_accepts_outside_every_quartier_still_get_one(app):
    """pin_quartier's nearest-quartier distance covers the API's boundary tolerance."""
    from app.config import Defaults

    with app.app_context():
        source = db.session.execute(
            sa.text("SELECT pg_get_functiondef('pin_quartier'::regproc)")
        ).scalar()
    (distance,) = re.findall(r"ST_DWithin\([^;]*?, (\d+)\)", source)
    assert float(distance) >= Defaults.PIN_BOUNDARY_TOLERANCE_M


def test_reference_rows_are_those_the_migrations_seed(app):
    """Each test starts from the categories and themes of a fresh migration, whatever
    an earlier session (or test) changed in the test database."""
    categories = [(code, fr, en) for code, fr, en, *_ in _migration("0003").SEED_CATEGORIES]
    themes = [tuple(theme) for theme in _migration("0006").SEED_THEMES]
    with app.app_context():
        stored = db.session.execute(
            sa.text("SELECT code, label_fr, label_en FROM category ORDER BY id")
        ).all()
        assert [tuple(row) for row in stored] == categories
        stored = db.session.execute(
            sa.text("SELECT code, label_fr, label_en FROM theme ORDER BY id")
        ).all()
        assert [tuple(row) for row in stored] == themes
        db.session.execute(sa.text("UPDATE category SET label_fr = 'Changé'"))
        db.session.commit()  # the next test, or the next session, must not see this
