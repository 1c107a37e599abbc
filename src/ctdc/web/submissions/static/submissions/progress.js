// Polls a submission's progress while it is processed; reloads the page when the work is done.
// A static file because the Content-Security-Policy allows scripts from this site only ('self').
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var note = box.querySelector(".progress-note");
  var percent = box.querySelector(".progress-percent");
  var rows = box.querySelector(".progress-rows");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.progress;
        percent.textContent = s.progress + " %";
        note.textContent = s.note || s.status_label;
        // Rows read and checked so far, in words the server wrote in the page's language.
        if (rows && s.rows_done > 0) { rows.textContent = s.rows_text; rows.hidden = false; }
        // The no-worker notice is written by the server; when the worker comes or goes, a reload rewrites it.
        var notice = document.getElementById("worker-notice");
        if (s.busy && notice && notice.hidden === s.worker_missing) { window.location.reload(); return; }
        if (s.busy) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
