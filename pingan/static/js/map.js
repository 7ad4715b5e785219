// Grid map: county and township outlines on load, grids when zoomed in or when a township is
// clicked; clicking a grid shows its code, its grid workers and its parents.
// Data: GET {outlinesUrl}?level=…&within=… (GeoJSON) and GET {detailUrl}{code} (JSON).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var labels = config.labels;
  var statusBox = document.getElementById("map-status");
  var L = window.L;

  function status(text) { statusBox.textContent = text || ""; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) {
        var error = new Error("HTTP " + r.status);
        error.status = r.status;
        throw error;
      }
      return r.json();
    });
  }

  // ---- map and layers -------------------------------------------------------------------
  var map = L.map("map", { attributionControl: Boolean(config.tileUrl), zoomSnap: 0.5 });
  map.setView([35, 105], 4);  // replaced by the data's bounds as soon as outlines arrive
  var baseLayers = {};
  if (config.tileUrl) {
    var tiles = L.tileLayer(config.tileUrl, { maxZoom: 18 });
    tiles.addTo(map);
    map.attributionControl.setPrefix("");
    baseLayers[labels.tiles] = tiles;
  }
  // Panes keep the order fixed whatever loads first: townships, grids, then county borders on top.
  [["townships", 410], ["grids", 420], ["counties", 430]].forEach(function (pane) {
    map.createPane(pane[0]).style.zIndex = pane[1];
  });
  map.getPane("counties").style.pointerEvents = "none";

  // Neutral outline colours: red, yellow, blue and green mean deadline and risk states (UI.md).
  // Township lines are wider than grid lines, so they stay visible where the two coincide.
  var STYLE = {
    county: { color: "#1c2633", weight: 3.5, opacity: 0.9, fill: false, className: "pa-county" },
    township: { color: "#35567d", weight: 2.6, opacity: 0.85, fillColor: "#35567d", fillOpacity: 0.04, className: "pa-township" },
    grid: { color: "#7b4f9d", weight: 1, opacity: 0.9, fillColor: "#7b4f9d", fillOpacity: 0.05, className: "pa-grid" }
  };
  var FOCUS_STYLE = { weight: 3, fillOpacity: 0.18 };

  var seen = { county: {}, township: {}, grid: {} };
  var byCode = {};

  var counties = L.geoJSON(null, { pane: "counties", interactive: false, style: STYLE.county });
  var townships = L.geoJSON(null, {
    pane: "townships",
    style: STYLE.township,
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.name, { sticky: true });
      layer.on("click", function () {
        map.fitBounds(layer.getBounds(), { padding: [20, 20] });
        loadGrids(feature.properties.code);
      });
    }
  });
  var grids = L.geoJSON(null, {
    pane: "grids",
    style: STYLE.grid,
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.name, { sticky: true });
      layer.on("click", function (event) {
        L.DomEvent.stopPropagation(event);
        layer.closeTooltip();
        openGridPopup(feature.properties, event.latlng);
      });
    }
  });
  counties.addTo(map);
  townships.addTo(map);
  grids.addTo(map);

  var overlays = {};
  overlays[labels.county] = counties;
  overlays[labels.township] = townships;
  overlays[labels.grid] = grids;
  L.control.layers(baseLayers, overlays, { collapsed: window.innerWidth < 800 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  function addFeatures(level, layerGroup, collection) {
    var fresh = (collection.features || []).filter(function (f) {
      var code = f.properties && f.properties.code;
      if (!code || seen[level][code] || !f.geometry) return false;
      seen[level][code] = true;
      return true;
    });
    if (fresh.length) {
      layerGroup.addData({ type: "FeatureCollection", features: fresh });
      layerGroup.eachLayer(function (layer) { byCode[layer.feature.properties.code] = layer; });
    }
    return fresh.length;
  }

  function loadOutlines(level, layerGroup, within) {
    var url = config.outlinesUrl + "?level=" + encodeURIComponent(level);
    if (within) url += "&within=" + encodeURIComponent(within);
    return getJSON(url).then(function (collection) { return addFeatures(level, layerGroup, collection); });
  }

  var gridsLoaded = {};
  function loadGrids(within) {
    if (!within || gridsLoaded[within]) return gridsLoaded[within] || Promise.resolve(0);
    status(labels.loading);
    gridsLoaded[within] = loadOutlines("grid", grids, within).then(function (n) {
      status("");
      return n;
    }, function (error) {
      delete gridsLoaded[within];
      status(labels.loadFailed);
      throw error;
    });
    return gridsLoaded[within];
  }

  // Zoomed in far enough: load the grids of every township in view.
  function loadGridsInView() {
    if (map.getZoom() < config.gridMinZoom) return;
    var view = map.getBounds();
    var wanted = [];
    townships.eachLayer(function (layer) {
      if (wanted.length < 20 && view.intersects(layer.getBounds())) wanted.push(layer.feature.properties.code);
    });
    wanted.forEach(function (code) { loadGrids(code).catch(function () {}); });
  }
  map.on("moveend", loadGridsInView);

  // ---- the grid popup -------------------------------------------------------------------
  function fact(dl, term, value) {
    dl.appendChild(el("dt", null, term));
    var dd = el("dd", null, value);
    dl.appendChild(dd);
    return dd;
  }

  function openGridPopup(props, latlng) {
    var box = el("div", "map-popup");
    box.appendChild(el("h3", null, props.name));
    var dl = el("dl");
    box.appendChild(dl);
    var code = fact(dl, labels.code, props.code);
    code.className = "mono popup-code";
    var workers = fact(dl, labels.workers, labels.loading);
    var parents = fact(dl, labels.parents, labels.loading);
    var popup = L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(box).openOn(map);
    getJSON(config.detailUrl + encodeURIComponent(props.code)).then(function (detail) {
      var names = (detail.workers || []).map(function (w) { return w.name || w.username; });
      workers.textContent = names.length ? names.join("、") : labels.noWorkers;
      var chain = (detail.ancestors || []).map(function (a) { return a.name; });
      parents.textContent = chain.length ? chain.join(" › ") : "—";
      if (detail.synthetic) box.appendChild(el("p", "note", labels.synthetic));
      popup.update();
    }, function (error) {
      var text = error.status === 404 ? labels.notFound : labels.loadFailed;
      workers.textContent = text;
      parents.textContent = "—";
      popup.update();
    });
  }

  // ---- start ----------------------------------------------------------------------------
  function fitAll() {
    var bounds = L.latLngBounds([]);
    [counties, townships, grids].forEach(function (group) {
      if (group.getLayers().length) bounds.extend(group.getBounds());
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20] });
      return true;
    }
    return false;
  }

  function showFocus(code, detail) {
    var layer = byCode[code];
    if (layer) {
      if (layer.feature.properties.level === "grid") {
        layer.setStyle(FOCUS_STYLE);
        layer.unbindTooltip().bindTooltip(layer.feature.properties.name, {
          permanent: true, direction: "center", className: "map-label"
        });
      }
      map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16 });
    } else if (detail && detail.lat !== null && detail.lon !== null && detail.lat !== undefined) {
      map.setView([detail.lat, detail.lon], 14);
    } else {
      fitAll();
    }
  }

  function focusOn(code) {
    return getJSON(config.detailUrl + encodeURIComponent(code)).then(function (detail) {
      // A grid is shown with its neighbours (the grids of its village) when the user may see
      // them, else on its own (a grid worker's scope is their grid); an area with its grids.
      var next;
      if (detail.level === "grid") {
        next = loadGrids(config.focusParentVisible && detail.parent_code ? detail.parent_code : code);
      } else if (detail.level === "township" || detail.level === "village") {
        next = loadGrids(detail.code);
      } else {
        next = Promise.resolve(0);
      }
      return next.then(function () { showFocus(code, detail); });
    }, function (error) {
      status(error.status === 404 ? labels.notFound : labels.loadFailed);
      fitAll();
    });
  }

  status(labels.loading);
  Promise.all([loadOutlines("county", counties), loadOutlines("township", townships)]).then(function () {
    status("");
    if (config.focus) return focusOn(config.focus);
    if (!fitAll()) status(labels.empty);
    return null;
  }).catch(function () {
    status(labels.loadFailed);
  }).then(function () {
    document.getElementById("map").setAttribute("data-ready", "1");
    if (!grids.getLayers().length && townships.getLayers().length && map.getZoom() < config.gridMinZoom) {
      status(labels.zoomHint);
    }
    loadGridsInView();
  });
})();
