// Keeps a running broadcast's progress and report fresh without a reload.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section) { return; }
  function tick() {
    fetch(section.dataset.json, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        Array.prototype.forEach.call(section.querySelectorAll("td[data-key]"), function (td) {
          td.textContent = String(data[td.dataset.key]);
        });
        document.getElementById("bar").setAttribute("width", String(Math.round(400 * data.done_share)));
        if (data.state !== section.dataset.state) { window.location.reload(); return; }
        if (data.state === "running" || data.pending > 0) { window.setTimeout(tick, 1000); }
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 1000);
}());
