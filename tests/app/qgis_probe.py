"""QGIS itself (Debian's QGIS 3.22, run by the system's python3 with python3-qgis) loads
collections of our OGC API the way a planner's QGIS does: its OAPIF provider, and for
a staff collection a "Basic" authentication configuration (any user name, the token as
password). Prints one JSON line; with an output path, renders the layers to a PNG.

Not a test module: tests/app/test_qgis.py runs it in its own interpreter, since PyQGIS
lives in the system's Python, not in the project's virtualenv.

Usage: python3 qgis_probe.py BASE_URL TOKEN|- OUT.png|- COLLECTION [COLLECTION…]
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsMarkerSymbol,
    QgsRectangle,
    QgsRendererCategory,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def basic_auth(token: str) -> str:
    """A Basic authentication configuration as a QGIS user makes it; its id."""
    manager = QgsApplication.authManager()
    manager.setMasterPassword("probe", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("Ressenti")
    config.setConfig("username", "qgis")
    config.setConfig("password", token)
    manager.storeAuthenticationConfig(config)
    return config.id()


def load(base: str, collection: str, authcfg: str | None) -> tuple[QgsVectorLayer, dict]:
    uri = f"url='{base}' typename='{collection}'"
    if authcfg:
        uri += f" authcfg={authcfg}"
    layer = QgsVectorLayer(uri, collection, "OAPIF")
    found = {"collection": collection, "valid": layer.isValid()}
    if layer.isValid():
        features = list(layer.getFeatures())
        found.update(
            features=len(features),
            fields=[field.name() for field in layer.fields()],
            crs=layer.crs().authid(),
            geometry_valid=all(f.geometry().isGeosValid() for f in features),
        )
    return layer, found


def style(layer: QgsVectorLayer) -> None:
    """Pale quartiers; pins by feeling, in the colours of the app's legend."""
    if layer.geometryType() == QgsWkbTypes.PolygonGeometry:
        layer.setRenderer(
            QgsSingleSymbolRenderer(
                QgsFillSymbol.createSimple(
                    {"color": "#eef1f4", "outline_color": "#5b6775", "outline_width": "0.4"}
                )
            )
        )
    elif "feeling" in layer.fields().names():
        categories = [
            QgsRendererCategory(
                value,
                QgsMarkerSymbol.createSimple(
                    {"color": colour, "outline_color": "white", "size": "2.4"}
                ),
                label,
            )
            for value, colour, label in (
                ("unsafe", "#c0392b", "insécurité"),
                ("safe", "#1e8449", "sécurité"),
            )
        ]
        layer.setRenderer(QgsCategorizedSymbolRenderer("feeling", categories))


def render(layers: list[QgsVectorLayer], out: str) -> None:
    for layer in layers:
        style(layer)
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[-1].crs())
    extent = QgsRectangle(layers[-1].extent())
    extent.scale(1.1)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(900, 600))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(out, "PNG")


def main() -> None:
    base, token, out, *collections = sys.argv[1:]
    profile = tempfile.mkdtemp(prefix="qgis-probe-")
    app = QgsApplication([], False, profile)
    app.initQgis()
    authcfg = basic_auth(token) if token != "-" else None
    layers, report = [], []
    for collection in collections:
        layer, found = load(base, collection, authcfg)
        report.append(found)
        if layer.isValid():
            layers.append(layer)
    if out != "-" and layers:
        render(list(reversed(layers)), out)
    print(json.dumps({"qgis": Qgis.QGIS_VERSION, "layers": report}), flush=True)
    # PyQGIS 3.22 may crash in exitQgis() while layers are alive: what was to be said is
    # said, so leave without tearing Qt down.
    os._exit(0)


if __name__ == "__main__":
    main()
