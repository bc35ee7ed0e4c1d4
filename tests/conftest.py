"""Root of the suites, free of Flask: ``tests/geo`` runs without it.

The app fixtures (real PostGIS) are in ``tests/app/conftest.py``, shared with the browser
tests of ``tests/e2e``; plain helpers are in ``tests/helpers.py``. The names below keep
working for test modules that still import them from here.
"""

from tests.helpers import (  # noqa: F401
    BLOSNE,
    BLOSNE_2,
    PASSWORD,
    QUARTIERS_DATA,
    csrf_token,
    login,
    pin_body,
)
from tests.helpers import app_config as _test_config  # noqa: F401
