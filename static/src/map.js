/*
 * The maps (Leaflet, from npm): a round's plans as numbered pins that lead to their cards, a
 * plan's place, choosing a point (it fills the form's two fields), an area's boundary.
 *
 * Every map is an enhancement: its element comes hidden, and only this script shows it. The page
 * says everything in words without it. What a map shows comes from the element's data attributes
 * (JSON the server wrote); nothing is inline.
 */
(function () {
  "use strict";

  var NETHERLANDS = [52.2, 5.3];

  function json(text) {
    return text ? JSON.parse(text) : null;
  }

  function pinIcon(number) {
    return L.divIcon({
      className: "",
      html: '<span class="proeftuin-pin" aria-hidden="true">' + number + "</span>",
      iconSize: [28, 28],
      iconAnchor: [14, 14],
    });
  }

  function start(element) {
    if (element.dataset.started) {
      return;
    }
    element.dataset.started = "1";
    element.hidden = false;
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: true });
    map.attributionControl.setPrefix(false);
    L.tileLayer(element.dataset.tiles, {
      attribution: element.dataset.attribution,
      maxZoom: 19,
      minZoom: 6,
    }).addTo(map);
    var bounds = L.latLngBounds([]);

    var boundary = json(element.dataset.boundary);
    if (boundary) {
      var outline = L.geoJSON(boundary, {
        style: { color: "#00536e", weight: 3, fill: false },
        interactive: false,
      }).addTo(map);
      bounds.extend(outline.getBounds());
    }

    (json(element.dataset.pins) || []).forEach(function (pin) {
      var marker = L.marker([pin.lat, pin.lon], {
        icon: pinIcon(pin.n),
        title: pin.n + ". " + pin.title,
        keyboard: Boolean(pin.target),
      }).addTo(map);
      if (pin.target) {
        marker.on("click", function () {
          window.location.hash = pin.target;
        });
        // A pin is a button (tabindex 0) for keyboards too: Enter follows it, as a click does.
        marker.on("keydown", function (event) {
          if (event.originalEvent.key === "Enter") {
            window.location.hash = pin.target;
          }
        });
      }
      bounds.extend(marker.getLatLng());
    });

    if (element.dataset.picker) {
      pick(map, element, bounds);
    }

    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
    } else {
      map.setView(NETHERLANDS, 7);
    }
  }

  function pick(map, element, bounds) {
    var latitude = document.getElementById(element.dataset.latitude);
    var longitude = document.getElementById(element.dataset.longitude);
    var marker = null;
    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng, { icon: pinIcon("•"), keyboard: false }).addTo(map);
      }
    }
    var lat = parseFloat((latitude.value || "").replace(",", "."));
    var lon = parseFloat((longitude.value || "").replace(",", "."));
    if (isFinite(lat) && isFinite(lon)) {
      place([lat, lon]);
      bounds.extend([lat, lon]);
    }
    map.on("click", function (event) {
      place(event.latlng);
      latitude.value = event.latlng.lat.toFixed(6);
      longitude.value = event.latlng.lng.toFixed(6);
    });
  }

  // Leaflet (some 40 KB) is fetched only when a map comes near the screen: on a phone the
  // round's map lies below the fold, and a visitor who never scrolls there never pays for it.
  var leaflet = null;
  function withLeaflet(url, then) {
    if (typeof L !== "undefined") {
      then();
      return;
    }
    if (!leaflet) {
      leaflet = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    leaflet.then(then, function () {});
  }

  function startWhenNear(element) {
    if (element.dataset.started) {
      return;
    }
    var go = function () {
      withLeaflet(element.dataset.leaflet, function () {
        start(element);
      });
    };
    if (!("IntersectionObserver" in window)) {
      go();
      return;
    }
    element.hidden = false; // so it has a place on the page to come near to
    var watcher = new IntersectionObserver(
      function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          watcher.disconnect();
          go();
        }
      },
      { rootMargin: "200px" }
    );
    watcher.observe(element);
  }

  function startAll() {
    document.querySelectorAll("[data-map]").forEach(startWhenNear);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
  // The round page's list (with its map) is swapped in by htmx when a theme is chosen.
  document.addEventListener("htmx:afterSettle", startAll);
})();
