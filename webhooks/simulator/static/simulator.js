// Phone simulator: send as the carer, poll the conversation every second. Text goes in via textContent only.
(function () {
  "use strict";
  const sendUrl = document.body.dataset.sendUrl;
  const messagesUrl = document.body.dataset.messagesUrl;
  const list = document.getElementById("conversation");
  const status = document.getElementById("status");

  function who() {
    const channel = document.querySelector("input[name=channel]:checked").value;
    return { channel: channel, phone: document.getElementById("number").value.trim() };
  }

  function postJson(url, data) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
  }

  async function send(data) {
    status.textContent = "sending…";
    try {
      const answer = await postJson(sendUrl, data);
      const result = await answer.json();
      status.textContent = answer.ok ? "" : (result.error || "failed");
      return answer.ok;
    } catch (err) {
      status.textContent = "gateway unreachable";
      return false;
    } finally {
      poll();
    }
  }

  // WhatsApp shows a Content's quick-reply buttons or list under its text; a tap goes back as Twilio sends it.
  function choices(m) {
    const box = document.createElement("div");
    box.className = "choices " + m.choices.kind;
    if (m.choices.button) {
      const label = document.createElement("span");
      label.textContent = m.choices.button;
      box.appendChild(label);
    }
    m.choices.items.forEach(function (item) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = item.title;
      button.addEventListener("click", function () {
        const data = who();
        data.profile_name = document.getElementById("profile").value;
        data.tapped = { kind: m.choices.kind, id: item.id, title: item.title };
        send(data);
      });
      box.appendChild(button);
    });
    return box;
  }

  let shown = "";

  function render(messages) {
    // Redrawn only when something changed: a button being clicked must not be replaced under the pointer.
    const now = JSON.stringify(messages);
    if (now === shown) { return; }
    shown = now;
    const items = messages.map(function (m) {
      const li = document.createElement("li");
      li.className = m.direction === "in" ? "in" : "out";
      li.appendChild(document.createTextNode(m.body));
      if (m.choices) { li.appendChild(choices(m)); }
      const meta = document.createElement("small");
      meta.textContent = new Date(m.at * 1000).toLocaleTimeString() + " · " + m.status;
      li.appendChild(meta);
      return li;
    });
    list.replaceChildren.apply(list, items);
  }

  async function poll() {
    try {
      const answer = await postJson(messagesUrl, who());
      if (answer.ok) {
        const data = await answer.json();
        render(data.messages);
        status.textContent = data.error || "";
      }
    } catch (err) {
      status.textContent = "gateway unreachable";
    }
  }

  document.getElementById("compose").addEventListener("submit", async function (event) {
    event.preventDefault();
    const body = document.getElementById("body");
    const data = who();
    data.body = body.value;
    data.profile_name = document.getElementById("profile").value;
    if (await send(data)) { body.value = ""; }
  });

  document.getElementById("body").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      document.getElementById("compose").requestSubmit();
    }
  });
  document.getElementById("phone").addEventListener("change", poll);
  setInterval(poll, 1000);
  poll();
})();
