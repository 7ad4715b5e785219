// Case pages (分拨台, 我的待办, 案件详情, 督办看板): action panels, no double submits, the small
// location map. The pages work without JavaScript: every panel is then shown open.
(function () {
  "use strict";

  // ---- action panels: one button per allowed action opens its form -------------------------
  var buttons = document.querySelectorAll("[data-action-open]");
  function panelOf(button) { return document.getElementById(button.getAttribute("aria-controls")); }
  function openPanel(button, focus) {
    buttons.forEach(function (other) {
      var panel = panelOf(other);
      var open = other === button && !(panel && panel.classList.contains("is-open") && focus);
      if (panel) panel.classList.toggle("is-open", open);
      other.setAttribute("aria-expanded", open ? "true" : "false");
      other.classList.toggle("is-current", open);
    });
    var panel = panelOf(button);
    if (focus && panel && panel.classList.contains("is-open")) {
      var first = panel.querySelector("select, textarea, input:not([type=hidden])");
      if (first) first.focus({ preventScroll: true });
      panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () { openPanel(button, true); });
    if (button.getAttribute("aria-expanded") === "true") button.classList.add("is-current");
  });
  document.querySelectorAll("[data-action-close]").forEach(function (close) {
    close.addEventListener("click", function () {
      var panel = close.closest(".action-panel");
      if (panel) panel.classList.remove("is-open");
      buttons.forEach(function (b) { b.setAttribute("aria-expanded", "false"); b.classList.remove("is-current"); });
    });
  });

  // ---- on a phone the filters fold away unless some are set: the list comes first -------------
  if (window.matchMedia && window.matchMedia("(max-width: 800px)").matches) {
    document.querySelectorAll("details[data-collapse-on-phone]:not([data-filtered])").forEach(function (d) {
      d.open = false;
    });
  }

  // ---- the current status tab stays in sight when the tabs scroll sideways (phones) ----------
  var currentTab = document.querySelector(".status-tabs .is-current");
  if (currentTab) {
    var strip = currentTab.parentElement;
    if (strip.scrollWidth > strip.clientWidth) {
      strip.scrollLeft = Math.max(0, currentTab.offsetLeft - strip.offsetLeft - 24);
    }
  }

  // ---- a form is sent once: a double tap must not post the same action twice ----------------
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.setAttribute("aria-disabled", "true");
        b.classList.add("is-busy");
      });
    });
  });
  // Coming back with the browser's Back button shows the page from its cache: allow sending again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll(".is-busy").forEach(function (b) { b.classList.remove("is-busy"); b.removeAttribute("aria-disabled"); });
    });
  });

  // ---- after a report was filed, its draft on this phone is no longer needed -----------------
  if (document.querySelector("[data-clear-draft]")) {
    try {
      Object.keys(window.localStorage).forEach(function (key) {
        if (key.indexOf("pingan.report.draft") === 0) window.localStorage.removeItem(key);
      });
    } catch (e) { /* storage unavailable: nothing to clear */ }
  }

  // ---- the small location map (detail page; the report page uses it too) -------------------
  function miniMap(element, config) {
    var L = window.L;
    if (!L || !element) return null;
    var map = L.map(element, { attributionControl: false, zoomControl: true, scrollWheelZoom: false });
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    var outline = L.geoJSON(null, {
      interactive: false,
      style: { color: "#7b4f9d", weight: 2, fillColor: "#7b4f9d", fillOpacity: 0.06 }
    }).addTo(map);
    var marker = null;
    function setPoint(lat, lon) {
      if (marker) marker.setLatLng([lat, lon]);
      else marker = L.circleMarker([lat, lon], { radius: 9, color: "#fff", weight: 3, fillColor: "#1c2430", fillOpacity: 1 }).addTo(map);
      if (!outline.getLayers().length) map.setView([lat, lon], 15);
    }
    function showGrid(code) {
      outline.clearLayers();
      if (!code || !config.outlinesUrl) return;
      fetch(config.outlinesUrl + "?level=grid&within=" + encodeURIComponent(code), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || !data.features || !data.features.length) return;
        outline.addData(data);
        map.fitBounds(outline.getBounds(), { padding: [12, 12], maxZoom: 17 });
      }).catch(function () { /* the point alone is enough */ });
    }
    if (config.lat !== undefined && config.lat !== null) setPoint(config.lat, config.lon);
    showGrid(config.grid);
    return { map: map, setPoint: setPoint, showGrid: showGrid };
  }
  window.PinganMiniMap = miniMap;

  var configNode = document.getElementById("case-map-config");
  if (configNode) {
    var start = function () { miniMap(document.getElementById("case-map"), JSON.parse(configNode.textContent)); };
    if (window.L) start(); else window.addEventListener("load", start);
  }
})();
