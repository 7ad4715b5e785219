// Event report form (事件上报), phone first: the phone's position in one tap, photos from the
// camera with previews, and a draft in localStorage so that typed text survives a lost
// connection or a closed tab. The draft never holds the requester's name or phone (personal
// data); it keeps the idempotency key, so re-sending after a lost answer files one case.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var config = JSON.parse(document.getElementById("report-config").textContent);
  var labels = config.labels;
  var DRAFT_FIELDS = ["category", "title", "description", "address", "lat", "lon", "crs", "solved_on_spot",
    "channel", "idempotency_key"];

  function field(name) { return form.elements.namedItem(name); }
  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(16) + Math.random().toString(16).slice(2);
  }

  // ---- draft --------------------------------------------------------------------------------
  var storage = null;
  try { storage = window.localStorage; storage.setItem(config.draftKey + ".probe", "1"); storage.removeItem(config.draftKey + ".probe"); }
  catch (e) { storage = null; }

  function readForm() {
    var draft = {};
    DRAFT_FIELDS.forEach(function (name) {
      var input = field(name);
      if (!input) return;
      draft[name] = input.type === "checkbox" ? input.checked : input.value;
    });
    return draft;
  }
  function hasContent(draft) {
    return Boolean(draft.title || draft.description || draft.category || draft.address || draft.lat);
  }
  var saveTimer = null;
  function saveDraft() {
    if (!storage) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      var draft = readForm();
      if (hasContent(draft)) storage.setItem(config.draftKey, JSON.stringify(draft));
      else storage.removeItem(config.draftKey);
    }, 250);
  }
  function restoreDraft() {
    if (!storage || !config.restoreDraft) return;
    var draft = null;
    try { draft = JSON.parse(storage.getItem(config.draftKey) || "null"); } catch (e) { draft = null; }
    if (!draft || !hasContent(draft)) return;
    DRAFT_FIELDS.forEach(function (name) {
      var input = field(name);
      if (!input || draft[name] === undefined || draft[name] === null) return;
      if (input.type === "checkbox") input.checked = Boolean(draft[name]);
      else input.value = draft[name];
    });
    document.getElementById("draft-note").hidden = false;
    if (draft.lat && draft.lon) checkPlace(parseFloat(draft.lat), parseFloat(draft.lon), null);
  }
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  document.getElementById("draft-clear").addEventListener("click", function () {
    if (storage) storage.removeItem(config.draftKey);
    DRAFT_FIELDS.forEach(function (name) {
      var input = field(name);
      if (!input || name === "crs" || name === "channel") return;
      if (input.type === "checkbox") input.checked = false;
      else input.value = "";
    });
    field("idempotency_key").value = newKey();
    setStatus("", "");
    document.getElementById("draft-note").hidden = true;
    field("title").focus();
  });

  // ---- position -------------------------------------------------------------------------------
  var statusBox = document.getElementById("locate-status");
  var mapBox = document.getElementById("report-map");
  var miniMap = null;
  function setStatus(text, state) {
    statusBox.textContent = text;
    statusBox.classList.toggle("is-ok", state === "ok");
    statusBox.classList.toggle("is-error", state === "error");
  }
  function showOnMap(lat, lon, gridCode) {
    if (!window.PinganMiniMap || !window.L) return;
    mapBox.hidden = false;
    if (!miniMap) miniMap = window.PinganMiniMap(mapBox, { outlinesUrl: config.outlinesUrl });
    miniMap.map.invalidateSize();
    miniMap.setPoint(lat, lon);
    if (gridCode) miniMap.showGrid(gridCode);
  }
  function checkPlace(lat, lon, accuracy) {
    var extra = accuracy ? "（" + format(labels.accuracy, { m: Math.round(accuracy) }) + "）" : "";
    var url = config.locateUrl + "?lat=" + lat + "&lon=" + lon + "&crs=wgs84";
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (response.status === 404) { setStatus(labels.outside, "error"); showOnMap(lat, lon, null); return null; }
      return response.ok ? response.json() : null;
    }).then(function (found) {
      if (!found || !found.grid) return;
      setStatus(format(labels.located, { place: found.grid.name }) + extra, "ok");
      showOnMap(lat, lon, found.grid.code);
    }).catch(function () {
      // Offline: the position is kept and checked when the report is sent.
      setStatus(format(labels.located, { place: lat.toFixed(5) + ", " + lon.toFixed(5) }) + extra, "ok");
    });
  }
  document.getElementById("locate-button").addEventListener("click", function () {
    if (!navigator.geolocation) { setStatus(labels.unsupported, "error"); return; }
    setStatus(labels.locating, "");
    navigator.geolocation.getCurrentPosition(function (position) {
      // Browsers report GPS coordinates: WGS-84.
      var lat = Math.round(position.coords.latitude * 1e7) / 1e7;
      var lon = Math.round(position.coords.longitude * 1e7) / 1e7;
      field("lat").value = lat;
      field("lon").value = lon;
      field("crs").value = "wgs84";
      saveDraft();
      checkPlace(lat, lon, position.coords.accuracy);
    }, function (error) {
      setStatus(error.code === 1 ? labels.denied : labels.unavailable, "error");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });

  // ---- photos -----------------------------------------------------------------------------------
  var photos = document.getElementById("id_photos");
  var previews = document.getElementById("photo-previews");
  var count = document.getElementById("photo-count");
  photos.addEventListener("change", function () {
    previews.textContent = "";
    var files = Array.prototype.slice.call(photos.files || []);
    files.slice(0, config.maxPhotos).forEach(function (file) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      li.appendChild(img);
      previews.appendChild(li);
    });
    count.textContent = files.length > config.maxPhotos ? labels.tooManyPhotos
      : (files.length ? format(labels.photosChosen, { n: files.length }) : "");
    count.classList.toggle("field-error", files.length > config.maxPhotos);
  });

  restoreDraft();
  if (!config.restoreDraft && field("lat").value && field("lon").value) {
    checkPlace(parseFloat(field("lat").value), parseFloat(field("lon").value), null);
  }
  saveDraft();
})();
