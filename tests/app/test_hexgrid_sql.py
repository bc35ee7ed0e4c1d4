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
