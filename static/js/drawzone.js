// The action form's zone: leaflet-draw's polygon and rectangle tools on the form's map.
// The drawing goes, as GeoJSON, into the hidden zone_geojson field and ticks the
// "drawn zone" choice. Texts are French (or English) from the map's data island.

/* global L */
import { drawnMaps } from "./layermap.js";

function translate(text) {
  const local = L.drawLocal;
  local.draw.toolbar.buttons.polygon = text.polygon;
  local.draw.toolbar.buttons.rectangle = text.rectangle;
  local.draw.toolbar.actions = { title: text.cancel, text: text.cancel };
  local.draw.toolbar.finish = { title: text.finish, text: text.finish };
  local.draw.toolbar.undo = { title: text.undo, text: text.undo };
  local.draw.handlers.polygon.tooltip = { start: text.start, cont: text.cont, end: text.end };
  local.draw.handlers.rectangle.tooltip = { start: text.drag };
  local.draw.handlers.simpleshape.tooltip = { end: text.release };
  local.edit.toolbar.buttons = {
    edit: text.edit, editDisabled: text.nothing, remove: text.remove, removeDisabled: text.nothing,
  };
  local.edit.toolbar.actions = {
    save: { title: text.save, text: text.save },
    cancel: { title: text.cancel, text: text.cancel },
    clearAll: { title: text.clear, text: text.clear },
  };
}

function addDrawing(map, { initial, labels }) {
  const drawn = new L.FeatureGroup().addTo(map);
  if (initial) {
    L.geoJSON(initial).eachLayer((layer) => {
      for (const part of layer.getLayers ? layer.getLayers() : [layer]) drawn.addLayer(part);
    });
  }
  translate(labels);
  map.addControl(new L.Control.Draw({
    draw: {
      polygon: { showArea: false, allowIntersection: false },
      rectangle: { showArea: false },
      polyline: false, circle: false, marker: false, circlemarker: false,
    },
    edit: { featureGroup: drawn },
  }));
  function sync() {
    const data = drawn.toGeoJSON();
    document.getElementById("zone_geojson").value = data.features.length ? JSON.stringify(data) : "";
    const choice = document.getElementById("zone_kind_drawn");
    if (choice && data.features.length) choice.checked = true;
  }
  map.on(L.Draw.Event.CREATED, (event) => { drawn.addLayer(event.layer); sync(); });
  map.on(L.Draw.Event.EDITED, sync);
  map.on(L.Draw.Event.DELETED, sync);
}

for (const { map, spec } of drawnMaps.values()) {
  if (spec.draw) addDrawing(map, spec.draw);
}
