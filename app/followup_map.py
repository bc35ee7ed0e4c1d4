"""Maps of the follow-up: action zones over the hot spots (board), one action's zone,
the zone drawing form (leaflet-draw from npm), and the public quartier map.

Loaded on the first follow-up page only (folium). Titles put in popups are escaped:
popups take HTML.
"""

from __future__ import annotations

import folium
import shapely
from branca.element import MacroElement, Template
from flask import current_app, url_for
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape
from markupsafe import escape

from app import layers, maps, territories
from app.dashboard_map import add_cell, add_hotspots
from app.followup import STATUS_COLOURS, STATUS_LABELS
from app.models import Action, Territory

AREA_LABEL = "{area:.2f}\u00a0km²"


def _base(territory: Territory, features=None):
    fmap = maps.base_map()
    maps.add_streets(fmap, url_for("public.streets", slug=territory.slug))
    maps.add_quartiers(fmap, features or territories.quartier_features(territory), AREA_LABEL)
    return fmap


def _fit(fmap, territory: Territory, shapes: list) -> None:
    if shapes:
        west, south, east, north = shapely.union_all(shapes).bounds
        fmap.fit_bounds([[south, west], [north, east]])
    else:
        bounds = territories.territory_bounds(territory)
        if bounds:
            fmap.fit_bounds(bounds)


def add_zones(fmap, actions: list[Action], link_slug: str | None = None) -> list:
    """Each action's zone, coloured by status, with its title in a popup (and a link to
    the action's page, with ``link_slug``: the territory's slug)."""
    group = folium.FeatureGroup(name=_("Actions"), show=True)
    shapes = []
    for action in actions:
        if action.zone is None:
            continue
        shape = to_shape(action.zone)
        shapes.append(shape)
        colour = STATUS_COLOURS[action.status]
        text = f"<strong>{escape(action.title)}</strong><br>{escape(STATUS_LABELS[action.status])}"
        if link_slug:
            href = url_for("followup.show", slug=link_slug, action_id=action.id)
            text += f'<br><a href="{escape(href)}">{escape(_("Voir l’action"))}</a>'
        folium.GeoJson(
            shapely.geometry.mapping(shape),
            style_function=lambda _f, colour=colour: {
                "color": colour,
                "weight": 3,
                "fillColor": colour,
                "fillOpacity": 0.25,
            },
            popup=folium.Popup(text, max_width=280),
        ).add_to(group)
    group.add_to(fmap)
    return shapes


def board_map(territory: Territory, actions: list[Action]) -> dict:
    fmap = _base(territory)
    filters = layers.parse_filters(territory, {})
    filters.full = True
    add_hotspots(fmap, territory, filters, show=True)
    add_zones(fmap, actions, link_slug=territory.slug)
    folium.LayerControl(collapsed=False).add_to(fmap)
    _fit(fmap, territory, [])
    return maps.render_parts(fmap)


def zone_map(territory: Territory, actions: list[Action]) -> dict:
    fmap = _base(territory)
    shapes = add_zones(fmap, actions)
    _fit(fmap, territory, shapes)
    return maps.render_parts(fmap)


class DrawZone(MacroElement):
    """leaflet-draw's polygon and rectangle tools; the drawing goes, as GeoJSON, into the
    form's hidden ``zone_geojson`` field and ticks the "drawn zone" choice."""

    _template = Template(
        """
{% macro header(this, kwargs) %}
<link rel="stylesheet" href="{{ this.css }}">
<script src="{{ this.js }}"></script>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var drawn = new L.FeatureGroup().addTo(map);
  var initial = {{ this.initial_js }};
  if (initial) {
    L.geoJson(initial).eachLayer(function (layer) {
      (layer.getLayers ? layer.getLayers() : [layer]).forEach(function (l) { drawn.addLayer(l); });
    });
  }
  var text = {{ this.labels_js }}, local = L.drawLocal;
  local.draw.toolbar.buttons.polygon = text.polygon;
  local.draw.toolbar.buttons.rectangle = text.rectangle;
  local.draw.toolbar.actions = {title: text.cancel, text: text.cancel};
  local.draw.toolbar.finish = {title: text.finish, text: text.finish};
  local.draw.toolbar.undo = {title: text.undo, text: text.undo};
  local.draw.handlers.polygon.tooltip = {start: text.start, cont: text.cont, end: text.end};
  local.draw.handlers.rectangle.tooltip = {start: text.drag};
  local.draw.handlers.simpleshape.tooltip = {end: text.release};
  local.edit.toolbar.buttons = {edit: text.edit, editDisabled: text.nothing,
    remove: text.remove, removeDisabled: text.nothing};
  local.edit.toolbar.actions = {save: {title: text.save, text: text.save},
    cancel: {title: text.cancel, text: text.cancel},
    clearAll: {title: text.clear, text: text.clear}};
  map.addControl(new L.Control.Draw({
    draw: {polygon: {showArea: false, allowIntersection: false}, rectangle: {showArea: false},
           polyline: false, circle: false, marker: false, circlemarker: false},
    edit: {featureGroup: drawn}
  }));
  function sync() {
    var data = drawn.toGeoJSON();
    document.getElementById("zone_geojson").value =
      data.features.length ? JSON.stringify(data) : "";
    var choice = document.getElementById("zone_kind_drawn");
    if (choice && data.features.length) { choice.checked = true; }
  }
  map.on(L.Draw.Event.CREATED, function (event) { drawn.addLayer(event.layer); sync(); });
  map.on(L.Draw.Event.EDITED, sync);
  map.on(L.Draw.Event.DELETED, sync);
})();
{% endmacro %}
"""
    )

    def __init__(self, initial: dict | None):
        super().__init__()
        self._name = "DrawZone"
        self.css = url_for("static", filename="vendor/leaflet-draw/leaflet.draw.css")
        self.js = url_for("static", filename="vendor/leaflet-draw/leaflet.draw.js")
        self.initial_js = maps._js(initial)
        self.labels_js = maps._js(
            {
                "polygon": _("Dessiner un polygone"),
                "rectangle": _("Dessiner un rectangle"),
                "cancel": _("Annuler"),
                "finish": _("Terminer"),
                "undo": _("Effacer le dernier point"),
                "start": _("Cliquez pour placer le premier sommet."),
                "cont": _("Cliquez pour continuer le polygone."),
                "end": _("Cliquez le premier sommet pour fermer."),
                "drag": _("Cliquez-glissez pour dessiner un rectangle."),
                "release": _("Relâchez pour terminer."),
                "edit": _("Modifier la zone"),
                "remove": _("Effacer la zone"),
                "nothing": _("Aucune zone"),
                "save": _("Enregistrer"),
                "clear": _("Tout effacer"),
            }
        )


def draw_map(territory: Territory, action: Action | None) -> dict:
    fmap = _base(territory)
    filters = layers.parse_filters(territory, {})
    filters.full = True
    add_hotspots(fmap, territory, filters, show=True)
    initial = None
    shapes = []
    if action is not None and action.zone is not None:
        shape = to_shape(action.zone)
        shapes.append(shape)
        if action.zone_kind == "drawn":
            initial = shapely.geometry.mapping(shape)
        else:
            add_zones(fmap, [action])
    DrawZone(initial).add_to(fmap)
    _fit(fmap, territory, shapes)
    return maps.render_parts(fmap)


def public_quartier_map(territory: Territory, feature: dict, hexagons: list[dict], actions) -> dict:
    """The quartier, its k-suppressed hexagons and the public actions' zones."""
    fmap = _base(territory, [feature])
    group = folium.FeatureGroup(name=_("Ressentis (agrégés)"), show=True)
    for cell in hexagons:
        props = cell["properties"]
        unsafe, safe = props["unsafe"] or 0, props["safe"] or 0  # None: under k
        share = unsafe / max(unsafe + safe, 1)
        colour = "#c1121f" if share >= 0.5 else "#2a9d8f"
        fewer = _("moins de %(k)d", k=current_app.config["SUPPRESSION_K"])
        text = _(
            "%(unsafe)s ressentis d'insécurité, %(safe)s de sécurité",
            unsafe=props["unsafe"] if props["unsafe"] is not None else fewer,
            safe=props["safe"] if props["safe"] is not None else fewer,
        )
        add_cell(group, cell, colour, 0.2 + 0.5 * abs(share - 0.5) * 2, text)
    group.add_to(fmap)
    add_zones(fmap, actions)
    west, south, east, north = shapely.geometry.shape(feature["geometry"]).bounds
    fmap.fit_bounds([[south, west], [north, east]])
    return maps.render_parts(fmap)
