// Keeps the queue and an open conversation fresh without a reload; all carer text goes in as textContent.
(function () {
  "use strict";

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    return td;
  }

  function pollQueue(table) {
    var seen = {};
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr[data-id]"), function (tr) { seen[tr.dataset.id] = true; });
    var every = (parseInt(table.dataset.poll, 10) || 10) * 1000, last = null;
    function tick() {
      fetch(table.dataset.json, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (r.status === 401) { window.location.reload(); } return r.json(); })
        .then(function (data) {
          var shape = JSON.stringify(data);
          if (shape === last) { return; }  // nothing changed: leave the rows (and the worker's focus) alone
          last = shape;
          var tbody = table.querySelector("tbody"), fresh = false;
          tbody.textContent = "";
          data.items.forEach(function (i) {
            var tr = document.createElement("tr");
            tr.dataset.id = i.id; tr.dataset.urgency = i.urgency; tr.dataset.state = i.state;
            tr.className = i.urgency + (i.overdue ? " overdue" : "");
            if (!seen[i.id] && i.urgency === "urgent" && i.state === "open") { tr.className += " new"; fresh = true; }
            seen[i.id] = true;
            var badge = cell(""), span = document.createElement("span");
            span.className = "badge " + i.urgency; span.textContent = i.urgency; badge.appendChild(span);
            tr.appendChild(badge);
            tr.appendChild(cell(i.carer));
            tr.appendChild(cell(i.reason.replace(/_/g, " ")));
            tr.appendChild(cell(i.risk_flags.join(", ")));
            tr.appendChild(cell(i.waited + (i.overdue ? " over target" : "")));
            tr.appendChild(cell(i.target));
            tr.appendChild(cell(i.state === "claimed" ? "with " + i.claimed_by : "open"));
            var open = cell(""), a = document.createElement("a");
            a.href = table.dataset.base + "handoffs/" + i.id; a.textContent = "Open"; open.appendChild(a);
            tr.appendChild(open);
            tbody.appendChild(tr);
          });
          var count = document.getElementById("urgent-count");
          count.textContent = data.urgent_open + " urgent";
          count.classList.toggle("hidden", data.urgent_open === 0);
          document.title = (data.urgent_open ? "(" + data.urgent_open + " urgent) " : "") + "Queue - CarerText";
          if (fresh) { document.getElementById("new-urgent").classList.remove("hidden"); }
        })
        .catch(function () { /* the next tick tries again */ })
        .then(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }

  function pollMessages(section) {
    var list = document.getElementById("messages");
    var every = (parseInt(section.dataset.poll, 10) || 10) * 1000;
    function tick() {
      fetch(section.dataset.json + "?after=" + encodeURIComponent(section.dataset.after), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          (data.messages || []).forEach(function (m) {
            var li = document.createElement("li"), meta = document.createElement("span"), body = document.createElement("span");
            li.className = "msg " + m.direction + " kind-" + m.kind + " new"; li.dataset.id = m.id;
            meta.className = "meta"; meta.textContent = m.at + " " + (m.direction === "in" ? "carer" : m.kind);
            body.className = "body"; body.textContent = m.body;
            li.appendChild(meta); li.appendChild(body); list.appendChild(li);
            section.dataset.after = m.id;
          });
        })
        .catch(function () {})
        .then(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }

  var queue = document.getElementById("queue");
  if (queue) { pollQueue(queue); }
  var conversation = document.getElementById("conversation");
  if (conversation) { pollMessages(conversation); }
})();
