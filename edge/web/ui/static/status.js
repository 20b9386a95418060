// Status: machine, pipeline with start/stop/restart, services, last transmit, backup; refreshes itself.
"use strict";

(function () {
  const REFRESH_MS = 3000;
  let timer = null;

  function gb(value) { return value === undefined || value === null ? "" : Number(value).toFixed(1) + " GB"; }
  function pct(value) { return value === undefined || value === null ? "" : Number(value).toFixed(0) + " %"; }

  async function control(root, action) {
    for (const b of root.querySelectorAll(".controls button")) b.disabled = true;
    const answer = await edge.api("POST", `/v1/ftx/${action}`);
    edge.message(root, answer.ok ? `Pipeline ${action}: ${answer.json.response}` : edge.errorText(answer),
                 answer.ok ? "ok" : "error");
    await refresh(root);
  }

  function show(root, status) {
    const {machine_info: m, factorytx: ftx, last_data_transmit: last, backup} = status;
    const state = root.querySelector("#pipeline-state");
    state.textContent = ftx.status;
    state.className = "state " + ftx.status;
    for (const b of root.querySelectorAll(".controls button")) b.disabled = !edge.isAdmin();
    const services = Object.entries(ftx.services || {}).map(([name, s]) =>
      [name, s.status, `${s.component_type} ${s.type}`, s.last_run, s.records_in, s.records_out, s.error_count,
       s.last_error ? `${s.last_error_time}: ${s.last_error}` : ""]);
    root.querySelector("#services").replaceChildren(services.length
      ? edge.table(["Service", "Status", "Kind", "Last run", "Records in", "Records out", "Errors", "Last error"],
                   services)
      : edge.el("p", {}, "No service is configured."));
    root.querySelector("#machine").replaceChildren(edge.table(["", "Total", "Available", "Used"], [
      ["CPU", `${m.cpu.cpu_count} cores`, "", pct(m.cpu.percent)],
      ["Memory", gb(m.memory.total_gb), gb(m.memory.available_gb), pct(m.memory.percent_used)],
      ["Disk", gb(m.disk.total_gb), gb(m.disk.available_gb), pct(m.disk.percent_used)],
    ]));
    const lastRows = Object.entries(last || {}).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v]);
    root.querySelector("#transmit").replaceChildren(lastRows.length ? edge.table(["", ""], lastRows)
      : edge.el("p", {}, "Nothing transmitted yet."));
    const b = backup.config;
    root.querySelector("#backup").textContent = b.last_success ? `Last success ${b.last_success}` +
      (b.error_message ? `; last error: ${b.error_message}` : "") : (b.error_message || "No backup yet");
    root.querySelector("#refreshed").textContent = "Refreshed " + new Date().toLocaleTimeString();
  }

  async function refresh(root) {
    const answer = await edge.api("GET", "/v1/status");
    if (!root.isConnected) return;
    if (answer.ok) show(root, answer.json.response);
    else edge.message(root, edge.errorText(answer), "error");
  }

  edge.pages.status = {
    render(root) {
      const button = (action) => edge.el("button", {id: `pipeline-${action}`, disabled: true,
                                                    onclick: () => control(root, action)},
                                        action[0].toUpperCase() + action.slice(1));
      root.append(
        edge.el("h1", {}, "Status"),
        edge.el("div", {class: "controls"}, "Pipeline: ", edge.el("span", {id: "pipeline-state", class: "state"}, "…"),
                button("start"), button("stop"), button("restart")),
        edge.el("h2", {}, "Services"), edge.el("div", {id: "services"}),
        edge.el("h2", {}, "Machine"), edge.el("div", {id: "machine"}),
        edge.el("h2", {}, "Last data transmit"), edge.el("div", {id: "transmit"}),
        edge.el("h2", {}, "Configuration backup"), edge.el("p", {id: "backup"}),
        edge.el("p", {id: "refreshed", class: "quiet"}));
      refresh(root);
      timer = setInterval(() => refresh(root), REFRESH_MS);
    },
    leave() { clearInterval(timer); timer = null; },
  };
})();
