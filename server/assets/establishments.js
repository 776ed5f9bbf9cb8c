// Establishments pages: the detail page's small map (marker + commune boundary, no base tiles),
// the full-size photo viewer, and upload progress on the import page. Data comes from data-*
// attributes; no inline scripts (CSP).
(function () {
  "use strict";

  function initMap() {
    var el = document.getElementById("est-map");
    if (!el || !window.L) return;
    var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
    var has = isFinite(lat) && isFinite(lon);
    var map = L.map(el, { zoomControl: true, attributionControl: false, scrollWheelZoom: false });
    if (has) {
      L.circleMarker([lat, lon], { radius: 9, color: "#fff", weight: 2, fillColor: "#c62828", fillOpacity: 1 }).addTo(map);
      map.setView([lat, lon], 15);
    } else {
      map.setView([16.46, 107.59], 9);
    }
    var geo = el.dataset.geo, unit = el.dataset.unit;
    if (!geo) return;
    fetch(geo, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.features) return;
        var feats = data.features.filter(function (f) { return f.properties && f.properties.unit_id === unit; });
        if (!feats.length) return;
        var layer = L.geoJSON({ type: "FeatureCollection", features: feats }, {
          style: { color: "#0b3d6e", weight: 2, fillColor: "#0b3d6e", fillOpacity: 0.06 },
          interactive: false
        }).addTo(map);
        layer.bringToBack();
        var bounds = layer.getBounds();
        if (has) bounds.extend([lat, lon]);
        map.fitBounds(bounds, { padding: [12, 12], maxZoom: 16 });
        el.dataset.boundary = "shown";
      })
      .catch(function () { /* the map works without the boundary */ });
  }

  function initPhotos() {
    var box = document.getElementById("est-lightbox");
    var img = document.getElementById("est-lightbox-img");
    if (!box || !img || typeof box.showModal !== "function") return;
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a.est-photo");
      if (!a) return;
      e.preventDefault();
      img.src = a.dataset.full;
      var thumb = a.querySelector("img");
      img.alt = thumb ? thumb.alt : "";
      box.showModal();
    });
    box.addEventListener("click", function (e) { if (e.target === box) box.close(); });
    box.addEventListener("close", function () { img.removeAttribute("src"); });
  }

  function initImport() {
    var bar = document.getElementById("import-upload");
    if (!bar) return;
    document.body.addEventListener("htmx:xhr:progress", function (e) {
      if (e.detail && e.detail.lengthComputable) {
        bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
      }
    });
    // Problems with the file come back as 4xx fragments: show them in place of the preview.
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      var t = e.detail.target;
      if (t && t.id === "import-result" && e.detail.xhr.status >= 400 && e.detail.xhr.status < 500
          && e.detail.xhr.status !== 401 && e.detail.xhr.status !== 403) {
        e.detail.shouldSwap = true;
        e.detail.isError = false;
      }
    });
  }

  initMap();
  initPhotos();
  initImport();
})();
