import subprocess
import sys
from pathlib import Path

import pytest

GEO_MODULES = sorted(p.stem for p in (Path(__file__).parents[2] / "geo").glob("*.py"))


@pytest.mark.parametrize("module", GEO_MODULES)
def test_geo_does_not_import_flask_or_app(module):
    code = (
        f"import geo.{module}, sys; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'app')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
