import numpy as np
import pytest

from geo import projections
from geo.errors import CRSError


@pytest.mark.parametrize(
    ("srid", "lonlat", "xy"),
    [
        # Projection origins, exact by definition of each CRS.
        (2154, (3.0, 46.5), (700_000.0, 6_600_000.0)),
        (3812, (4 + 21 / 60 + 33.177 / 3600, 50 + 47 / 60 + 52.134 / 3600), (649_328.0, 665_262.0)),
        (32631, (3.0, 0.0), (500_000.0, 0.0)),
        (32733, (15.0, 0.0), (500_000.0, 10_000_000.0)),
    ],
)
def test_known_points_project_to_known_coordinates(srid, lonlat, xy):
    x, y = projections.to_metric(*lonlat, srid)
    assert x == pytest.approx(xy[0], abs=0.01)
    assert y == pytest.approx(xy[1], abs=0.01)
    back = projections.to_lonlat(x, y, srid)
    assert back == pytest.approx(lonlat, abs=1e-9)


def test_axis_order_is_lon_lat_not_authority_lat_lon():
    # Rennes town hall: a (lat, lon) mix-up would land in the Indian Ocean.
    x, y = projections.to_metric(-1.6794, 48.1113, 2154)
    assert 340_000 < x < 360_000
    assert 6_780_000 < y < 6_800_000


def test_arrays_are_projected_together():
    lon = np.array([3.0, -1.6794])
    lat = np.array([46.5, 48.1113])
    x, y = projections.to_metric(lon, lat, 2154)
    assert x.shape == (2,)
    assert x[0] == pytest.approx(700_000.0, abs=0.01)


@pytest.mark.parametrize(
    ("country", "lon", "lat", "srid"),
    [
        ("FR", -1.68, 48.11, 2154),  # Rennes
        ("fr", 9.45, 42.70, 2154),  # Bastia, Corsica
        ("BE", 4.35, 50.85, 3812),  # Brussels
        ("FR", 55.45, -20.88, 32740),  # Saint-Denis de La Réunion: UTM 40S
        ("FR", -61.0, 14.6, 32620),  # Fort-de-France: UTM 20N
        ("CH", 6.14, 46.20, 32632),  # Geneva: UTM 32N
    ],
)
def test_metric_srid_per_territory(country, lon, lat, srid):
    assert projections.metric_srid(country, lon, lat) == srid


def test_belgian_territory_outside_belgium_is_refused():
    with pytest.raises(CRSError, match="outside Belgium"):
        projections.metric_srid("BE", -1.68, 48.11)


@pytest.mark.parametrize("lonlat", [(float("nan"), 48.0), (200.0, 48.0), (2.0, 95.0)])
def test_bad_coordinates_are_refused(lonlat):
    with pytest.raises(CRSError) as excinfo:
        projections.metric_srid("FR", *lonlat)
    assert excinfo.value.field == "lonlat"


def test_unknown_epsg_code_is_a_clear_error():
    with pytest.raises(CRSError, match="unknown EPSG code 999999"):
        projections.crs(999999)


def test_transformers_are_cached():
    assert projections.transformer(4326, 2154) is projections.transformer(4326, 2154)
    assert "Lambert-93" in projections.crs_label(2154)


# -- geometries between CRS84 and a CRS in its own axis order (OGC API Part 2) ---------------


@pytest.mark.parametrize(
    ("srid", "lonlat", "expected"),
    [
        (2154, (3.0, 46.5), (700_000.0, 6_600_000.0)),  # easting, northing
        (32631, (3.0, 0.0), (500_000.0, 0.0)),
        # Web Mercator on the sphere of radius 6378137 m: x = R·λ, y = R·ln tan(π/4 + φ/2).
        (3857, (3.0, 45.0), (333_958.472380, 5_621_521.486192)),
        (4326, (-1.6794, 48.1113), (48.1113, -1.6794)),  # latitude first
    ],
)
def test_geometries_leave_crs84_in_the_targets_axis_order(srid, lonlat, expected):
    import shapely

    (moved,) = projections.geojson_from_crs84([{"type": "Point", "coordinates": lonlat}], srid)
    assert moved["coordinates"] == pytest.approx(expected, abs=1e-3)
    (back,) = projections.to_crs84([shapely.geometry.shape(moved)], srid)
    assert (back.x, back.y) == pytest.approx(lonlat, abs=1e-9)


def test_polygons_move_with_all_their_vertices_and_keep_their_turn_on_the_ground():
    import shapely
    from shapely.geometry import mapping

    square = shapely.box(-1.70, 48.10, -1.60, 48.20)  # counter-clockwise, as RFC 7946 wants
    lambert, latlon = (
        shapely.geometry.shape(projections.geojson_from_crs84([mapping(square)], s, decimals=2)[0])
        for s in (2154, 4326)
    )
    corners = np.array(square.exterior.coords)
    x, y = projections.to_metric(corners[:, 0], corners[:, 1], 2154)
    assert np.array(lambert.exterior.coords) == pytest.approx(np.round(np.column_stack([x, y]), 2))
    assert np.array(latlon.exterior.coords) == pytest.approx(corners[:, ::-1])
    assert lambert.exterior.is_ccw
    assert not latlon.exterior.is_ccw  # the same ring, read with latitude as x


def test_a_latitude_first_box_comes_back_as_longitude_latitude():
    import shapely

    (box,) = projections.to_crs84([shapely.box(48.10, -1.70, 48.20, -1.60)], 4326)
    assert box.bounds == pytest.approx((-1.70, 48.10, -1.60, 48.20))


@pytest.mark.parametrize(
    ("srid", "inside", "outside"),
    [
        (4326, (48.11, -1.68), (95.0, -1.68)),  # latitude then longitude
        (2154, (351_949.0, 6_789_308.0), (0.0, 0.0)),
        (3812, (649_328.0, 665_262.0), (351_949.0, 6_789_308.0)),
        (3857, (-186_950.0, 6_125_000.0), (0.0, 3.0e7)),
    ],
)
def test_crs_bounds_are_the_area_of_use_in_the_crs_axis_order(srid, inside, outside):
    first_min, second_min, first_max, second_max = projections.crs_bounds(srid)

    def within(a, b):
        return first_min <= a <= first_max and second_min <= b <= second_max

    assert within(*inside) and not within(*outside)


def test_axis_order_of_each_offered_crs():
    assert projections.northing_first(4326)
    assert not any(projections.northing_first(s) for s in (2154, 3812, 32630, 3857))


def test_geojson_geometries_move_in_one_go_with_their_nesting():
    import shapely

    point = {"type": "Point", "coordinates": [3.0, 46.5]}
    square = shapely.box(-1.70, 48.10, -1.60, 48.20)
    holed = shapely.Polygon(
        square.exterior.coords, [shapely.box(-1.66, 48.14, -1.64, 48.16).exterior.coords]
    )
    multi = shapely.geometry.mapping(
        shapely.MultiPolygon([holed, shapely.box(2.9, 46.4, 3.1, 46.6)])
    )
    moved = projections.geojson_from_crs84([point, multi], 2154, decimals=2)
    assert moved[0] == {"type": "Point", "coordinates": [700_000.0, 6_600_000.0]}
    assert moved[1]["type"] == "MultiPolygon"
    first = multi["coordinates"][0][1][2]  # a vertex of the hole
    assert moved[1]["coordinates"][0][1][2] == pytest.approx(
        projections.to_metric(*first, 2154), abs=0.005
    )
    assert [len(ring) for polygon in moved[1]["coordinates"] for ring in polygon] == [5, 5, 5]
    (latlon,) = projections.geojson_from_crs84([point], 4326)
    assert latlon["coordinates"] == [46.5, 3.0]  # latitude first
    assert multi["coordinates"][0][0][0] == (-1.6, 48.1)  # the input is left as it was


def test_geojson_without_any_vertex_comes_back_as_it_was():
    empty = {"type": "MultiPolygon", "coordinates": []}
    assert projections.geojson_from_crs84([empty], 2154) == [empty]
    assert projections.geojson_from_crs84([], 2154) == []
