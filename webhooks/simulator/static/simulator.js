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

  function render(messages) {
    const items = messages.map(function (m) {
      const li = document.createElement("li");
      li.className = m.direction === "in" ? "in" : "out";
      li.appendChild(document.createTextNode(m.body));
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
    status.textContent = "sending…";
    try {
      const answer = await postJson(sendUrl, data);
      const result = await answer.json();
      status.textContent = answer.ok ? "" : (result.error || "failed");
      if (answer.ok) { body.value = ""; }
    } catch (err) {
      status.textContent = "gateway unreachable";
    }
    poll();
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
