"""Folium maps served from our own assets: Leaflet from static/vendor, never another host.

Folium's defaults load Leaflet, jQuery, Bootstrap and fonts from public CDNs; a page
that reaches another host breaks offline workshops and leaks residents' addresses, so
every map built here replaces them with the npm-installed copies.
"""

from __future__ import annotations

import json
import re

import folium
from branca.element import MacroElement, Template
from flask import current_app, url_for
from markupsafe import escape

QUARTIER_STYLE = {"color": "#1f4e79", "weight": 2, "fillColor": "#4a90c2", "fillOpacity": 0.12}
QUARTIER_HIGHLIGHT = {"weight": 4, "fillOpacity": 0.3}
_VIEWPORT = re.compile(r"<meta name=\"viewport\"[^>]*>", re.S)
STREET_STYLE = {"color": "#8a8a8a", "weight": 1, "opacity": 0.8}


class RemoteGeoJson(MacroElement):
    """A GeoJSON layer fetched by the browser from one of our URLs, not embedded."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
fetch({{ this.url_js }}, {credentials: "same-origin"})
  .then(function (response) { return response.ok ? response.json() : null; })
  .then(function (data) {
    if (data) { L.geoJson(data, {{ this.options_js }}).addTo({{ this._parent.get_name() }}); }
  })
  .catch(function () {});
{% endmacro %}
"""
    )

    def __init__(self, url: str, options: dict):
        super().__init__()
        self._name = "RemoteGeoJson"
        self.url_js = _js(url)
        self.options_js = _js(options)


def _js(value) -> str:
    """JSON for an inline script, safe against a closing ``</script>``."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


def base_map() -> folium.Map:
    """A map with local Leaflet assets and the configured tile layer, if any."""
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    fmap.default_js = [
        ("leaflet", url_for("static", filename="vendor/leaflet/leaflet.js")),
        # folium's popups are built with jQuery.
        ("jquery", url_for("static", filename="vendor/jquery/jquery.min.js")),
    ]
    fmap.default_css = [("leaflet_css", url_for("static", filename="vendor/leaflet/leaflet.css"))]
    tile_url = current_app.config.get("TILE_URL")
    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=current_app.config["TILE_ATTRIBUTION"], max_zoom=19
        ).add_to(fmap)
    return fmap


def add_streets(fmap: folium.Map, streets_url: str) -> None:
    """Draw street centre-lines under the quartiers, fetched after the page loads."""
    folium.map.CustomPane("streets", z_index=350, pointer_events=False).add_to(fmap)
    RemoteGeoJson(
        streets_url, {"pane": "streets", "interactive": False, "style": STREET_STYLE}
    ).add_to(fmap)


def add_quartiers(fmap: folium.Map, features: list[dict], area_label: str) -> None:
    """Outline quartiers, each with a tooltip giving its name and area.

    Names come from imported files: they are escaped here because folium's tooltip
    inserts property values as HTML.
    """
    shown = [
        {
            **feature,
            "properties": {
                "label": str(escape(feature["properties"]["name"])),
                "area": area_label.format(area=feature["properties"]["area_km2"]),
            },
        }
        for feature in features
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": shown},
        name="quartiers",
        style_function=lambda _feature: QUARTIER_STYLE,
        highlight_function=lambda _feature: QUARTIER_HIGHLIGHT,
        tooltip=folium.GeoJsonTooltip(fields=["label", "area"], labels=False),
    ).add_to(fmap)


def render_parts(fmap: folium.Map) -> dict[str, str]:
    """Split a folium map into the pieces our page template places: head, body, script."""
    root = fmap.get_root()
    root.render()
    header = _VIEWPORT.sub("", root.header.render())  # ours allows zooming the page
    return {
        "header": header,
        "html": root.html.render(),
        "script": root.script.render(),
    }
