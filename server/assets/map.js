// The coverage map: paints the shipped boundaries with the coverage embedded in the page (the body
// of GET /api/v1/coverage for the same unit, year and type), shows a unit's figures on hover and
// click, switches between the annual and the cumulative measure, and loads the establishments as
// clustered markers when asked or when zoomed in. No inline scripts: everything comes from data-*.
(function () {
  "use strict";

  // Filters: a change of year or type reloads the page with the new query (the form is a GET).
  document.querySelectorAll("#map-filters [data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });

  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var d = el.dataset;
  var cov = JSON.parse(d.coverage);
  var lang = d.lang === "en" ? "en" : "vi";
  var measure = d.measure === "cumulative" ? "cumulative" : "annual";
  var paintTotal = d.paint === "total";
  var drill = d.drill ? d.drill.split(",") : [];
  var byUnit = {};
  cov.children.forEach(function (r) { byUnit[r.unit_id] = r; });

  // ---- Formatting: the same rules as the server (page.rs: Lang::num, Lang::pct_bp). ----
  function fmtNum(n) {
    var s = String(Math.abs(Math.trunc(n))), out = "", sep = lang === "vi" ? "." : ",";
    for (var i = 0; i < s.length; i++) {
      if (i > 0 && (s.length - i) % 3 === 0) out += sep;
      out += s[i];
    }
    return (n < 0 ? "-" : "") + out;
  }
  function fmtPct(share) {
    if (share === null || share === undefined) return "—";
    var bp = Math.round(share * 10000), whole = Math.trunc(bp / 100), tenth = Math.trunc((bp % 100) / 10);
    return lang === "vi" ? whole + "," + tenth + " %" : whole + "." + tenth + "%";
  }
  function fmtDate(iso) {
    var p = iso.split("-");
    return p[2] + "/" + p[1] + "/" + p[0];
  }
  function projection(p) {
    if (!p) return "—";
    switch (p.status) {
      case "met": return d.projMet;
      case "on_pace": return d.projOnPace + " " + fmtDate(p.date);
      case "not_in_time": return d.projNotInTime;
      default: return d.projNoActivity;
    }
  }

  // ---- Colours: share against the target, breaking at the target (coverage.rs: bucket). ----
  var COLORS = {
    m3: "#006d2c", m2: "#31a354", m1: "#74c476", m0: "#a1d99b",
    u3: "#fed976", u2: "#feb24c", u1: "#fd8d3c", u0: "#e31a1c", none: "#eceff3",
  };
  function target() {
    return measure === "annual" ? cov.programme.annual_min_share : cov.programme.end_share;
  }
  function quarter(x) { return Math.min(3, Math.max(0, Math.floor(x + 1e-9))); }
  function bucket(share, t) {
    if (share === null || share === undefined) return "none";
    if (share + 1e-9 >= t) return t >= 1 ? "m3" : "m" + quarter((share - t) / ((1 - t) / 4));
    return "u" + quarter(share / t * 4);
  }
  function rowFor(unitId) {
    if (paintTotal) return unitId === d.only ? cov.total : null;
    return byUnit[unitId] || null;
  }
  function bucketOf(unitId) {
    var r = rowFor(unitId);
    return r ? bucket(r[measure].share, target()) : "none";
  }
  var markersOn = false;
  function style(feature) {
    var b = bucketOf(feature.properties.unit_id);
    return {
      color: b === "none" ? "#8a94a3" : "#ffffff", weight: 1.2, opacity: 1,
      dashArray: b === "none" ? "4 3" : null,
      fillColor: COLORS[b],
      // Lighter while the establishments are shown, so their colours stand out.
      fillOpacity: markersOn ? 0.35 : b === "none" ? 0.75 : 0.88,
    };
  }

  // ---- The map ----
  var map = L.map(el, { zoomSnap: 0.5, minZoom: 4, maxZoom: 18 });
  if (d.tiles) {
    var host = "";
    try { host = new URL(d.tiles.replace(/\{s\}/g, "a")).host; } catch (e) { host = ""; }
    L.tileLayer(d.tiles, { maxZoom: 19, attribution: host }).addTo(map);
  }
  var geo = null, selected = null;

  // The legend: in the map's corner on a wide screen, under the map on a phone.
  var legendBox = document.getElementById("legend"), legendInMap = false;
  if (legendBox && window.matchMedia("(min-width: 900px)").matches) {
    legendInMap = true;
    var legendControl = L.control({ position: "bottomleft" });
    legendControl.onAdd = function () {
      L.DomEvent.disableClickPropagation(legendBox);
      L.DomEvent.disableScrollPropagation(legendBox);
      legendBox.classList.add("leaflet-control");
      return legendBox;
    };
    legendControl.addTo(map);
  }

  function query(unit) {
    var q = new URLSearchParams({ unit: unit, year: d.year });
    if (d.type) q.set("type", d.type);
    return q;
  }

  // ---- Side panel ----
  var panel = document.getElementById("map-panel");
  function field(name) { return panel.querySelector('[data-field="' + name + '"]'); }
  function showPanel(unitId, name) {
    var row = unitId ? rowFor(unitId) : cov.total;
    if (!unitId) { unitId = cov.unit; name = cov.total.name; }
    var m = row ? row[measure] : null;
    // The unit's name as the API gives it (the boundary file may spell it out in full).
    field("name").textContent = row ? row.name : name;
    var label = field("measure-label");
    label.textContent = measure === "annual" ? label.dataset.annual : label.dataset.cumulative;
    field("in_scope").textContent = m ? fmtNum(m.in_scope) : "—";
    field("inspected").textContent = m ? fmtNum(m.inspected) : "—";
    field("share").textContent = m ? (m.in_scope > 0 ? fmtPct(m.share) : d.tNoScope) : "—";
    field("needed").textContent = m ? fmtNum(m.needed) : "—";
    field("projection").textContent = m ? projection(m.projection) : "—";
    panel.dataset.unit = unitId;
    panel.dataset.bucket = row ? bucket(m.share, target()) : "none";
    field("table-link").href = "/coverage?" + query(unitId).toString();
    var drillLink = field("drill-link");
    var canDrill = d.level === "country" && drill.indexOf(unitId) >= 0;
    drillLink.hidden = !canDrill;
    if (canDrill) {
      var q = query(unitId);
      q.set("measure", measure);
      drillLink.href = "/map?" + q.toString();
    }
    panel.querySelector('[data-action="back"]').hidden = !selected || paintTotal;
  }
  panel.querySelector('[data-action="back"]').addEventListener("click", function () {
    select(null);
  });

  function highlight(layer, on) {
    if (!layer) return;
    if (on) {
      layer.setStyle({ color: "#0b3d6e", weight: 3, dashArray: null });
      layer.bringToFront();
    } else {
      geo.resetStyle(layer);
    }
  }
  function select(layer) {
    if (selected) highlight(selected, false);
    selected = layer;
    if (layer) {
      highlight(layer, true);
      showPanel(layer.feature.properties.unit_id, layer.feature.properties.name);
    } else {
      showPanel(null);
    }
  }

  function tooltip(layer) {
    var p = layer.feature.properties, row = rowFor(p.unit_id), box = document.createElement("div");
    var b = document.createElement("div");
    b.textContent = row ? row.name : p.name;
    box.appendChild(b);
    var s = document.createElement("span");
    var m = row && row[measure];
    s.textContent = m ? (m.in_scope > 0 ? fmtPct(m.share) + " · " + fmtNum(m.inspected) + "/" + fmtNum(m.in_scope) : d.tNoScope) : "—";
    box.appendChild(s);
    return box;
  }

  function paint() {
    geo.setStyle(style);
    geo.eachLayer(function (layer) {
      var e = layer.getElement && layer.getElement();
      if (e) e.setAttribute("data-bucket", bucketOf(layer.feature.properties.unit_id));
    });
    if (selected) highlight(selected, true);
    showPanel(selected ? selected.feature.properties.unit_id : null,
      selected ? selected.feature.properties.name : null);
    document.querySelectorAll("#legend .legend-set").forEach(function (set) {
      set.hidden = set.dataset.measure !== measure;
    });
  }

  function failed(msg) {
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = msg;
    el.parentNode.insertBefore(p, el);
  }

  fetch(d.geo, { credentials: "same-origin" })
    .then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    })
    .then(function (data) {
      var features = data.features.filter(function (f) {
        return !d.only || f.properties.unit_id === d.only;
      });
      geo = L.geoJSON({ type: "FeatureCollection", features: features }, {
        className: "unit-shape",
        style: style,
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(tooltip, { sticky: true, className: "unit-tip", direction: "top" });
          layer.on("click", function () { select(layer); });
          layer.on("mouseover", function () { if (layer !== selected) layer.setStyle({ weight: 2.5 }); });
          layer.on("mouseout", function () { if (layer !== selected) geo.resetStyle(layer); });
        },
      });
      // The view first: Leaflet creates the shapes only once the map has one.
      // Keep the shapes clear of the legend in the bottom-left corner.
      var left = legendInMap ? legendBox.offsetWidth + 16 : 12;
      if (features.length) map.fitBounds(geo.getBounds(), { paddingTopLeft: [left, 12], paddingBottomRight: [12, 12] });
      else map.setView([16.1, 107.5], 8);
      geo.addTo(map);
      geo.eachLayer(function (layer) {
        var e = layer.getElement && layer.getElement();
        if (e) {
          e.setAttribute("data-unit", layer.feature.properties.unit_id);
          e.setAttribute("data-bucket", bucketOf(layer.feature.properties.unit_id));
        }
      });
      showPanel(null);
      el.dataset.painted = String(features.length);
      el.dataset.renderedMs = String(Math.round(performance.now()));
      el.dataset.ready = "1";
      if (window.performance && performance.mark) performance.mark("map-rendered");
      maybeAutoMarkers();
    })
    .catch(function (e) {
      failed(d.tBoundaryError);
      // A programming error shows in the console; a network failure (or leaving the page) does not.
      if (!(e instanceof TypeError && /fetch/i.test(e.message))) console.error(e);
    });

  // ---- Annual / cumulative ----
  document.querySelectorAll('#map-filters input[name="measure"]').forEach(function (input) {
    input.addEventListener("change", function () {
      if (!input.checked) return;
      measure = input.value === "cumulative" ? "cumulative" : "annual";
      el.dataset.measure = measure;
      if (geo) paint();
      var u = new URL(window.location.href);
      u.searchParams.set("measure", measure);
      history.replaceState(null, "", u.toString());
    });
  });

  // ---- Establishment markers ----
  var toggle = document.getElementById("markers-toggle");
  var status = document.getElementById("markers-status");
  var cluster = null, loading = null, userOff = false;
  var AUTO_ZOOM = 13;

  function popup(m) {
    var box = document.createElement("div"), b = document.createElement("strong");
    b.textContent = m.name;
    box.appendChild(b);
    var s = document.createElement("div");
    var legendItem = document.querySelector(".statuses .est-" + m.status);
    s.textContent = legendItem ? legendItem.parentNode.textContent.trim() : m.status;
    box.appendChild(s);
    var a = document.createElement("a");
    a.href = "/establishments/" + encodeURIComponent(m.id);
    a.textContent = d.tOpen;
    box.appendChild(a);
    return box;
  }

  function loadMarkers() {
    if (loading) return loading;
    status.textContent = d.tLoading;
    loading = fetch(d.markers, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (data) {
        cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 45, disableClusteringAtZoom: 17, showCoverageOnHover: false });
        var icons = {};
        var markers = data.items.map(function (m) {
          var icon = icons[m.status] || (icons[m.status] = L.divIcon({ className: "est est-" + m.status, iconSize: [14, 14] }));
          var mk = L.marker([m.lat, m.lon], { icon: icon, title: m.name, alt: m.name });
          mk.bindPopup(function () { return popup(m); });
          return mk;
        });
        cluster.addLayers(markers);
        el.dataset.markers = String(markers.length);
        status.textContent = markers.length ? fmtNum(markers.length) + " " + (lang === "vi" ? "cơ sở" : "establishments") : d.tNoMarkers;
        return cluster;
      })
      .catch(function (e) {
        loading = null;
        toggle.checked = false;
        markersOn = false;
        if (geo) paint();
        status.textContent = d.tLoadError;
        throw e;
      });
    return loading;
  }

  function showMarkers(on) {
    markersOn = on;
    if (geo) paint();
    if (on) {
      loadMarkers().then(function (c) { if (toggle.checked) map.addLayer(c); }, function () {});
    } else if (cluster) {
      map.removeLayer(cluster);
    }
  }
  toggle.addEventListener("change", function () {
    if (!toggle.checked) userOff = true;
    showMarkers(toggle.checked);
  });
  function maybeAutoMarkers() {
    if (!toggle.checked && !userOff && map.getZoom() >= AUTO_ZOOM) {
      toggle.checked = true;
      showMarkers(true);
    }
  }
  map.on("zoomend", maybeAutoMarkers);
})();
