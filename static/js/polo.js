// Polo's own small behaviours, loaded with `defer` (no inline script: the CSP forbids it).
// "/" focuses the search box; Escape or a click elsewhere closes the live results.
(function () {
  "use strict";
  // When a header or pager link changes the view, the form's sort and per-page follow.
  document.addEventListener("htmx:pushedIntoHistory", function () {
    var form = document.getElementById("filters");
    if (!form) return;
    var params = new URLSearchParams(window.location.search);
    if (form.elements.sort) form.elements.sort.value = params.get("sort") || "";
    if (form.elements.per_page) form.elements.per_page.value = params.get("per_page") || "50";
  });
  // Filter forms send only the filters that are set, so pushed URLs stay short.
  document.addEventListener("htmx:configRequest", function (e) {
    if (!e.target || e.target.id !== "filters") return;
    var params = e.detail.parameters;
    var keys = typeof params.keys === "function" ? Array.from(params.keys()) : Object.keys(params);
    keys.forEach(function (k) {
      var v = typeof params.get === "function" ? params.get(k) : params[k];
      if (v === "" || v === null) {
        if (typeof params.delete === "function") params.delete(k); else delete params[k];
      }
    });
  });
  var box = document.getElementById("site-search");
  var results = document.getElementById("search-results");
  if (!box || !results) return;
  function close() {
    if (window.htmx) window.htmx.trigger(box, "htmx:abort");
    results.innerHTML = "";
  }
  document.addEventListener("keydown", function (e) {
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement && document.activeElement.tagName);
    if (e.key === "/" && !typing) { e.preventDefault(); box.focus(); box.select(); }
    if (e.key === "Escape") { close(); }
  });
  document.addEventListener("click", function (e) {
    if (!results.contains(e.target) && e.target !== box) close();
  });
})();
