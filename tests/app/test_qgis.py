"""QGIS 3.22 (Debian's, through PyQGIS in the system's python3) loads our OGC API as a
planner's QGIS does: the public collections as they are, the staff points with a Basic
authentication configuration (the token as password), and nothing of the staff layer
without it. The probe (tests/app/qgis_probe.py) runs in its own interpreter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

PROBE = os.path.join(os.path.dirname(__file__), "qgis_probe.py")
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin")


def _has_pyqgis() -> bool:
    if not SYSTEM_PYTHON:
        return False
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return found.returncode == 0


# make test installs python3-qgis (scripts/install-system-deps.sh --test); a machine
# without it (DATABASE_URL set against another host, say) says why this is skipped.
pytestmark = pytest.mark.skipif(not _has_pyqgis(), reason="python3-qgis is not installed")


def probe(base: str, token: str | None, out: str | None, *collections: str) -> dict:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [SYSTEM_PYTHON, PROBE, f"{base}/ogc", token or "-", out or "-", *collections],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        layer["collection"]: layer for layer in json.loads(done.stdout.splitlines()[-1])["layers"]
    }


def test_qgis_loads_the_staff_points_with_basic_auth(live_server, pins, planner_token, tmp_path):
    picture = tmp_path / "qgis.png"
    layers = probe(live_server, planner_token, str(picture), "rennes-quartiers", "rennes-points")
    points = layers["rennes-points"]
    assert points["valid"] and points["features"] == len(pins) and points["crs"] == "EPSG:4326"
    assert {"feeling", "category", "time_of_day"} <= set(points["fields"])
    quartiers = layers["rennes-quartiers"]
    assert quartiers["valid"] and quartiers["features"] == 12 and quartiers["geometry_valid"]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 5000


def test_qgis_gets_nothing_of_the_staff_points_without_auth(live_server, pins):
    layers = probe(live_server, None, None, "rennes-points")
    points = layers["rennes-points"]
    assert not points["valid"] or points["features"] == 0


def test_qgis_reads_public_hexagons_and_hot_spots(live_server, clustered_release):
    layers = probe(live_server, None, None, "rennes-hexagons", "rennes-hotspots")
    for name in ("rennes-hexagons", "rennes-hotspots"):
        assert layers[name]["valid"] and layers[name]["features"] > 0
        assert layers[name]["geometry_valid"]  # QGIS's own check (GEOS), as Check Validity
