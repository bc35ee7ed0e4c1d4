"""The OpenAPI 3.0 document of the OGC endpoint alone, at ``/ogc/api``, as OGC API
clients expect it (GDAL's OAPIF driver, QGIS, OWSLib): served as
``application/vnd.oai.openapi+json;version=3.0``, with ``servers`` naming the endpoint,
paths relative to it (``/collections/{collectionId}/items``), and the ``limit``
parameter in ``components.parameters`` with its maximum, so that clients page at the
size the server allows and send the collections' filters to the server.

It is cut from the whole document of :mod:`app.openapi` (one description, two views).
"""

from __future__ import annotations

import copy
import re

from app.gis.ogc.collections import LIMIT_DEFAULT, LIMIT_MAX

MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
PREFIX = "/ogc"
# OGC API – Features names its path parameters so.
RENAMED = {"collection_id": "collectionId", "feature_id": "featureId"}

LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": False,
    "description": f"Features per page (default {LIMIT_DEFAULT}, at most {LIMIT_MAX:,}).",
    "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
}


def ogc_document(whole: dict, server: str) -> dict:
    """The part of ``whole`` under ``/ogc``, relative to ``server`` (its absolute URL)."""
    document = copy.deepcopy(whole)
    paths = {}
    for path, operations in whole["paths"].items():
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            continue
        relative = path[len(PREFIX) :] or "/"
        for old, new in RENAMED.items():
            relative = relative.replace("{" + old + "}", "{" + new + "}")
        paths[relative] = _renamed(copy.deepcopy(operations))
    document["paths"] = paths
    document["servers"] = [{"url": server, "description": "OGC API – Features"}]
    document["info"]["title"] = "Ressenti — OGC API Features"
    document["components"].setdefault("parameters", {})["limit"] = LIMIT
    return document


def _renamed(operations: dict) -> dict:
    for operation in operations.values():
        parameters = []
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path":
                parameter["name"] = RENAMED.get(parameter["name"], parameter["name"])
            if parameter.get("name") == "limit" and parameter.get("in") == "query":
                parameter = {"$ref": "#/components/parameters/limit"}
            parameters.append(parameter)
        operation["parameters"] = parameters
        operation["operationId"] = re.sub(r"^ogc_", "", operation.get("operationId", ""))
    return operations
