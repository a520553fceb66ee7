// The directory's progressive enhancement: "use my position" (the browser's geolocation, when
// the visitor allows it, fills the form's lat/lon and searches), and a map of the results listed
// on the page when the server has a tile URL (data-tiles). Without it, the list is the page.
(function () {
  "use strict";
  var form = document.getElementById("directory-search");
  var here = document.getElementById("use-position");
  if (form && here && navigator.geolocation) {
    here.hidden = false;
    here.addEventListener("click", function () {
      here.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(5);
        form.elements.lon.value = pos.coords.longitude.toFixed(5);
        form.submit();
      }, function () {
        here.disabled = false;
      }, { timeout: 10000, maximumAge: 600000 });
    });
  }
  var box = document.getElementById("directory-map");
  if (!box || !window.L || !box.dataset.tiles) { return; }
  box.hidden = false;
  var center = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lon)];
  var map = window.L.map(box).setView(center, 10);
  window.L.tileLayer(box.dataset.tiles, { maxZoom: 18, attribution: box.dataset.attribution || "" }).addTo(map);
  window.L.circle(center, { radius: parseFloat(box.dataset.radius) * 1000, fill: false }).addTo(map);
  var bounds = [center];
  document.querySelectorAll("[data-map-lat]").forEach(function (el) {
    var at = [parseFloat(el.dataset.mapLat), parseFloat(el.dataset.mapLon)];
    var link = el.querySelector("a");
    // A pin drawn by the stylesheet (.map-pin): Leaflet's default one is an image the server
    // does not serve. Producers and pickup points in two colours, as their lists' headings say.
    var list = el.parentElement && el.parentElement.previousElementSibling;
    var kind = list && list.id === "points" ? " point" : "";
    var pin = window.L.divIcon({ className: "map-pin" + kind, iconSize: [20, 20] });
    var marker = window.L.marker(at, { icon: pin, title: link ? link.textContent : "" }).addTo(map);
    if (link) { marker.bindPopup(link.cloneNode(true)); }
    bounds.push(at);
  });
  map.fitBounds(bounds, { padding: [20, 20] });
})();
