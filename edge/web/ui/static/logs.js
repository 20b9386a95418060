// Logs: the tail of factorytx_core.log or factorytx_web.log, following it while asked.
"use strict";

(function () {
  const FOLLOW_MS = 2000;
  let timer = null;

  async function load(root) {
    const name = root.querySelector("#log-name").value;
    const lines = root.querySelector("#log-lines").value;
    const answer = await edge.api("GET", `/v1/log/stream/${encodeURIComponent(name)}?lines=${encodeURIComponent(lines)}`);
    if (!root.isConnected) return;
    const out = root.querySelector("#log-text");
    if (!answer.ok) { out.textContent = edge.errorText(answer); return; }
    const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    out.textContent = answer.json.response.join("\n");
    if (atBottom) out.scrollTop = out.scrollHeight;
  }

  function follow(root) {
    clearInterval(timer);
    timer = root.querySelector("#log-follow").checked ? setInterval(() => load(root), FOLLOW_MS) : null;
  }

  edge.pages.logs = {
    render(root) {
      root.append(edge.el("h1", {}, "Logs"), edge.el("div", {class: "controls"},
        edge.el("select", {id: "log-name", onchange: () => load(root)},
                edge.el("option", {}, "factorytx_core.log"), edge.el("option", {}, "factorytx_web.log")),
        edge.el("label", {}, "Lines ", edge.el("input", {id: "log-lines", type: "number", min: 1, value: 200,
                                                          onchange: () => load(root)})),
        edge.el("label", {}, edge.el("input", {id: "log-follow", type: "checkbox", checked: true,
                                               onchange: () => follow(root)}), " Follow"),
        edge.el("button", {onclick: () => load(root)}, "Refresh")),
        edge.el("pre", {id: "log-text", class: "log"}));
      load(root).then(() => { const out = root.querySelector("#log-text"); out.scrollTop = out.scrollHeight; });
      follow(root);
    },
    leave() { clearInterval(timer); timer = null; },
  };
})();
