// Live debugging on a component page: streams /api/v0/web/debug/{id} (the
// URL is in the section's data-url) and shows the last MAX_LINES lines.
// The stream is chunked text, each line ended by "|;|", as in Alloy.
(function () {
  "use strict";
  var MAX_LINES = 1000;
  var DELIM = "|;|";
  var section = document.getElementById("livedebug");
  if (!section) return;
  var toggle = document.getElementById("livedebug-toggle");
  var prob = document.getElementById("livedebug-prob");
  var clear = document.getElementById("livedebug-clear");
  var status = document.getElementById("livedebug-status");
  var out = document.getElementById("livedebug-out");
  var lines = [];
  var abort = null;
  var count = 0;

  function setStatus(text, failed) {
    status.textContent = text;
    status.classList.toggle("error", !!failed);
  }

  function show(newLines) {
    lines = lines.concat(newLines);
    if (lines.length > MAX_LINES) lines = lines.slice(lines.length - MAX_LINES);
    var atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    out.textContent = lines.join("\n");
    if (atBottom) out.scrollTop = out.scrollHeight;
  }

  function stop(text) {
    if (abort) abort.abort();
    abort = null;
    toggle.textContent = "Start";
    toggle.setAttribute("aria-pressed", "false");
    setStatus(text || "Stopped.");
  }

  function start() {
    var ctl = new AbortController();
    abort = ctl;
    toggle.textContent = "Stop";
    toggle.setAttribute("aria-pressed", "true");
    setStatus("Waiting for data…");
    var url = section.getAttribute("data-url") + "?sampleProb=" + encodeURIComponent(prob.value);
    fetch(url, { signal: ctl.signal, cache: "no-store", credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok || !resp.body) {
          return resp.text().then(function (t) { throw new Error(t || ("HTTP " + resp.status)); });
        }
        var reader = resp.body.getReader();
        var decoder = new TextDecoder();
        var pending = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) {
              if (abort === ctl) stop("The stream ended (live debugging turned off or the component removed).");
              return;
            }
            pending += decoder.decode(r.value, { stream: true });
            var parts = pending.split(DELIM);
            pending = parts.pop();
            if (parts.length) {
              count += parts.length;
              show(parts);
              setStatus("Streaming: " + count + (count === 1 ? " line" : " lines") + " received.");
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        if (err.name === "AbortError") return;
        if (abort === ctl) stop("Failed: " + err.message);
        setStatus("Failed: " + err.message, true);
      });
  }

  toggle.addEventListener("click", function () {
    if (abort) stop(); else start();
  });
  prob.addEventListener("change", function () {
    if (abort) { stop(); start(); }
  });
  clear.addEventListener("click", function () {
    lines = []; count = 0; out.textContent = "";
  });
})();
