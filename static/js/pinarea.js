// The workshop's area on the resident's map: is a point inside its quartiers (the same
// test the server makes, so a tap outside is refused before anything is sent), and a
// dimming mask over everything outside them.

/* global L */

// Polygons of a GeoJSON FeatureCollection as lists of rings of [lon, lat].
function polygons(collection) {
  const out = [];
  for (const feature of collection.features || []) {
    const geometry = feature.geometry || {};
    if (geometry.type === "Polygon") out.push(geometry.coordinates);
    if (geometry.type === "MultiPolygon") out.push(...geometry.coordinates);
  }
  return out;
}

function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Whether (lon, lat) lies in one of the quartiers (in the outer ring, not in a hole).
export function insideArea(collection, lon, lat) {
  return polygons(collection).some(
    ([outer, ...holes]) => inRing(lon, lat, outer) && !holes.some((hole) => inRing(lon, lat, hole)),
  );
}

// A polygon covering the world with the quartiers cut out, in its own pane under them.
export function outsideMask(map, collection) {
  map.createPane("outside").style.zIndex = 360;
  const world = [[-89, -179.9], [-89, 179.9], [89, 179.9], [89, -179.9]];
  const holes = polygons(collection).map(([outer]) => outer.map(([lon, lat]) => [lat, lon]));
  return L.polygon([world, ...holes], {
    pane: "outside", interactive: false, stroke: false, fillColor: "#1d2733", fillOpacity: 0.45,
    className: "outside-mask",
  }).addTo(map);
}
