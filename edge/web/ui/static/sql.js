// SQL console: a /machbase statement and its answer as a table; an error shown as answered.
"use strict";

(function () {
  async function run(root) {
    const statement = root.querySelector("#sql-text").value;
    const out = root.querySelector("#sql-result");
    out.replaceChildren(edge.el("p", {class: "quiet"}, "Running…"));
    const started = performance.now();
    // As a form field in a POST body: a statement of any length, never in a URL or a log line.
    const answer = await edge.api("POST", "/machbase", "q=" + encodeURIComponent(statement),
                                  "application/x-www-form-urlencoded");
    const ms = (performance.now() - started).toFixed(0);
    const j = answer.json;
    if (!j || j.error_code) {
      out.replaceChildren(edge.el("p", {class: "error", id: "sql-error"},
        j ? `Error ${j.error_code}: ${j.error_message}` : `HTTP ${answer.status}: ${answer.text}`));
      return;
    }
    const columns = (j.columns || []).map((c) => c.name);
    const rows = (j.data || []).map((row) => (Array.isArray(row) ? row : columns.map((c) => row[c])));
    const summary = j.effect_rows !== undefined ? `${j.effect_rows} rows affected` :
      j.append_success !== undefined ? `${j.append_success} appended, ${j.append_failure} failed` :
      `${rows.length} rows`;
    out.replaceChildren(edge.el("p", {class: "quiet"}, `${summary} in ${ms} ms. ${j.error_message || ""}`),
                        columns.length ? edge.table(columns, rows) : "");
  }

  edge.pages.sql = {
    render(root) {
      const text = edge.el("textarea", {id: "sql-text", rows: 6, spellcheck: "false"});
      text.value = "select * from v$tag_stat";
      text.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(root); });
      root.append(edge.el("h1", {}, "SQL"), text,
        edge.el("div", {class: "controls"}, edge.el("button", {id: "sql-run", onclick: () => run(root)}, "Run"),
                edge.el("span", {class: "quiet"}, "Ctrl+Enter runs. A reader's statements run read-only.")),
        edge.el("div", {id: "sql-result", class: "result"}));
    },
  };
})();
