// Live updates for shoal's pages. Every few seconds the page fetches itself
// (same URL, so the same filter, sort and page) and swaps the content of
// each [data-live] region, leaving everything else alone: the filter box
// keeps its text and focus, the window and the tables keep their scroll.
// Sort headers, pagination and the filter are enhanced the same way, so
// they update the table without reloading the page. Without JavaScript
// every link and form still works as a plain page load.
(function () {
  "use strict";
  var INTERVAL_MS = 5000;
  var paused = false;
  var inflight = null;
  var status = document.getElementById("live-status");
  var toggle = document.getElementById("live-toggle");

  function setStatus(text, failed) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", !!failed);
  }

  // selectionInside reports whether the user is selecting text in a live
  // region; swapping it would drop the selection, so that round is skipped.
  function selectionInside() {
    var sel = window.getSelection && window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return false;
    var node = sel.getRangeAt(0).commonAncestorContainer;
    while (node) {
      if (node.nodeType === 1 && node.hasAttribute("data-live")) return true;
      node = node.parentNode;
    }
    return false;
  }

  function swap(doc) {
    var active = document.activeElement;
    var focusKey = null, focusRegion = null;
    if (active && active.closest) {
      focusRegion = active.closest("[data-live]");
      if (focusRegion) focusKey = active.getAttribute("data-key") || active.getAttribute("href");
    }
    var regions = document.querySelectorAll("[data-live]");
    for (var i = 0; i < regions.length; i++) {
      var el = regions[i];
      var fresh = doc.getElementById(el.id);
      if (!fresh) continue;
      // Folded values the user opened stay open.
      var open = el.querySelectorAll("details[open][data-key]");
      for (var j = 0; j < open.length; j++) {
        var same = fresh.querySelector('details[data-key="' + CSS.escape(open[j].getAttribute("data-key")) + '"]');
        if (same) same.setAttribute("open", "");
      }
      var closed = el.querySelectorAll("details[data-key]:not([open])");
      for (var k = 0; k < closed.length; k++) {
        var shut = fresh.querySelector('details[data-key="' + CSS.escape(closed[k].getAttribute("data-key")) + '"]');
        if (shut) shut.removeAttribute("open");
      }
      if (fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML;
    }
    if (focusRegion && focusKey) {
      var again = focusRegion.querySelector('[data-key="' + CSS.escape(focusKey) + '"]') ||
        focusRegion.querySelector('[href="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    if (doc.title) document.title = doc.title;
  }

  function refresh(force) {
    if (!force && (paused || document.hidden || selectionInside())) return;
    if (inflight) inflight.abort();
    var ctl = new AbortController();
    inflight = ctl;
    fetch(location.href, { signal: ctl.signal, headers: { "X-Shoal-Live": "1" }, credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.text();
      })
      .then(function (html) {
        swap(new DOMParser().parseFromString(html, "text/html"));
        setStatus("Live: updated at " + new Date().toLocaleTimeString() + ".");
      })
      .catch(function (err) {
        if (err.name === "AbortError") return;
        setStatus("Live: the last update failed (" + err.message + "); retrying.", true);
      })
      .finally(function () { if (inflight === ctl) inflight = null; });
  }

  function navigate(url, replace) {
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    refresh(true);
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-nav]");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    var url = new URL(a.getAttribute("href"), location.href);
    navigate(url.href, false);
    var input = document.querySelector("form[data-filter] input[type=search]");
    if (input) input.value = url.searchParams.get(input.name) || "";
  });

  var forms = document.querySelectorAll("form[data-filter]");
  Array.prototype.forEach.call(forms, function (form) {
    var timer = null;
    function apply(replace) {
      // Only the search box: sort and page size come from the current
      // URL, which clicks on headers may have changed since the page loaded.
      var input = form.querySelector("input[type=search]");
      var url = new URL(location.href);
      if (input.value.trim() === "") url.searchParams.delete(input.name);
      else url.searchParams.set(input.name, input.value.trim());
      url.searchParams.delete("page");
      navigate(url.href, replace);
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(timer); apply(false); });
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { apply(true); }, 300); });
  });

  window.addEventListener("popstate", function () {
    var input = document.querySelector("form[data-filter] input[type=search]");
    if (input) input.value = new URL(location.href).searchParams.get(input.name) || "";
    refresh(true);
  });

  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.setAttribute("aria-pressed", String(paused));
      toggle.textContent = paused ? "Resume updates" : "Pause updates";
      setStatus(paused ? "Live: paused." : "Live: updates every 5 s.");
      if (!paused) refresh(true);
    });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(false); });
  setInterval(function () { refresh(false); }, INTERVAL_MS);
})();
