"""The hexagon arithmetic run inside PostGIS gives the same cells as numpy."""

import numpy as np
import sqlalchemy as sa

from app.extensions import db
from geo.hexgrid import axial_cells, axial_sql


def test_postgis_and_numpy_put_points_in_the_same_hexagons(app):
    rng = np.random.default_rng(3)
    x = rng.uniform(340_000, 360_000, 5000)
    y = rng.uniform(6_780_000, 6_800_000, 5000)
    # Points exactly on cell edges and corners, where rounding must agree too.
    x = np.append(x, [350_000.0, 350_000.0 + 50 * np.sqrt(3)])
    y = np.append(y, [6_790_000.0, 6_790_075.0])
    q_sql, r_sql = axial_sql("t.x", "t.y", 100.0, origin=(350_000.0, 6_790_000.0))
    query = sa.text(
        f"SELECT {q_sql} AS q, {r_sql} AS r FROM unnest(:x, :y) WITH ORDINALITY AS t(x, y, i) "
        "ORDER BY t.i"
    )
    with app.app_context():
        rows = db.session.execute(query, {"x": x.tolist(), "y": y.tolist()}).all()
    q, r = axial_cells(x, y, 100.0, origin=(350_000.0, 6_790_000.0))
    assert [row.q for row in rows] == q.tolist()
    assert [row.r for row in rows] == r.tolist()


def test_each_pins_stored_default_hexagon_is_the_computed_one(app, client, make_workshop):
    """The trigger's hexagon (migration 0007) equals geo.hexgrid's, and the layer at the
    default size (stored cells) equals the layer at a size a hair off (computed cells)."""
    from app.analysis.cells import DEFAULT_SIZE
    from app.analysis.counts import hexagon_counts
    from app.analysis.filters import parse_filters
    from app.models import Pin, Territory
    from tests.conftest import BLOSNE, pin_body

    code = make_workshop()["codes"][0]
    rng = np.random.default_rng(5)
    for dx, dy in rng.normal(0, 0.002, (60, 2)):
        body = pin_body(lon=BLOSNE[0] + dx / 3, lat=BLOSNE[1] + dy / 3)
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    with app.app_context():
        rows = db.session.execute(sa.select(Pin.x_m, Pin.y_m, Pin.hex_q, Pin.hex_r)).all()
        x, y = np.array([(row.x_m, row.y_m) for row in rows]).T
        q, r = axial_cells(x, y, 150.0)
        assert [row.hex_q for row in rows] == q.tolist()
        assert [row.hex_r for row in rows] == r.tolist()
        territory = db.session.scalar(sa.select(Territory))
        stored = parse_filters(territory, {})
        computed = parse_filters(territory, {"size": "150.0000001"})
        assert stored.size == DEFAULT_SIZE != computed.size
        assert hexagon_counts(territory, stored) == hexagon_counts(territory, computed)
