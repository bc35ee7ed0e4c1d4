import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GEO_MODULES = sorted(f"geo.{p.stem}" for p in (ROOT / "geo").glob("*.py"))


@pytest.mark.parametrize("module", [*GEO_MODULES, "tests.geo.conftest", "tests.conftest"])
def test_geo_does_not_import_flask_or_app(module):
    """geo/, and the fixtures its tests run under, import neither Flask nor app."""
    code = (
        f"import {module}, sys; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'app')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
