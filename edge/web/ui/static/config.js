// Configuration: the JSON in an editor validated as you type (violations at their json_path),
// templates, save, the revision history and a diff between two revisions.
"use strict";

(function () {
  const VALIDATE_DELAY_MS = 400;
  let pending = null;
  let sequence = 0;

  // Where each value of a JSON text lies: "a/0/b" -> [start, end]. A small scanner of our own, since
  // JSON.parse tells no positions; the text is known to parse when this runs.
  function locate(text) {
    const spans = {};
    let i = 0;
    const space = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
    const string = () => {
      i++;
      while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
    };
    const value = (path) => {
      space();
      const start = i;
      if (text[i] === "{") {
        i++; space();
        while (text[i] !== "}") {
          const keyStart = i; string();
          const key = JSON.parse(text.slice(keyStart, i));
          space(); i++;  // the colon
          value(path.concat(key)); space();
          if (text[i] === ",") { i++; space(); }
        }
        i++;
      } else if (text[i] === "[") {
        i++; space();
        let n = 0;
        while (text[i] !== "]") {
          value(path.concat(n++)); space();
          if (text[i] === ",") { i++; space(); }
        }
        i++;
      } else if (text[i] === '"') string();
      else while (i < text.length && !",}] \t\r\n".includes(text[i])) i++;
      spans[path.join("/")] = [start, i];
    };
    value([]);
    return spans;
  }

  // The deepest part of `path` the text holds (a missing key points at the object that lacks it).
  function spanOf(spans, path) {
    for (let n = path.length; n >= 0; n--) {
      const found = spans[path.slice(0, n).join("/")];
      if (found) return found;
    }
    return [0, 0];
  }

  function pathText(path) {
    return path.length ? path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "")
                       : "(whole configuration)";
  }

  function showViolations(root, violations, heading) {
    const editor = root.querySelector("#config-editor");
    const list = root.querySelector("#violations");
    list.replaceChildren();
    if (!violations.length) { list.append(edge.el("li", {class: "ok"}, heading || "Valid")); return; }
    let spans = null;
    try { spans = locate(editor.value); } catch (e) { spans = null; }
    for (const v of violations) {
      const item = edge.el("li", {class: v.level, "data-path": pathText(v.json_path)},
        edge.el("code", {}, pathText(v.json_path)), " ", v.level, ": ", v.description);
      item.addEventListener("click", () => {
        if (!spans) return;
        const [start, end] = spanOf(spans, v.json_path);
        editor.focus();
        editor.setSelectionRange(start, end);
      });
      list.append(item);
    }
  }

  async function validate(root) {
    const editor = root.querySelector("#config-editor");
    let body;
    try { body = JSON.parse(editor.value); } catch (e) {
      showViolations(root, [{json_path: [], level: "error", description: "Not JSON: " + e.message}]);
      return;
    }
    const mine = ++sequence;
    const answer = await edge.api("POST", "/v1/config/validate", body);
    if (mine !== sequence || !root.isConnected) return;  // a newer edit has been sent since
    if (answer.json && answer.json.response && answer.json.response.violations) {
      showViolations(root, answer.json.response.violations);
    } else showViolations(root, [{json_path: [], level: "error", description: edge.errorText(answer)}]);
  }

  async function load(root) {
    const answer = await edge.api("GET", "/v1/config");
    if (!answer.ok) { edge.message(root, edge.errorText(answer), "error"); return; }
    root.querySelector("#config-editor").value = JSON.stringify(answer.json.response, null, 2);
    const modified = answer.json.meta && answer.json.meta.last_modified;
    root.querySelector("#config-modified").textContent = modified ? `Last saved ${modified} UTC` : "Never saved";
    validate(root);
  }

  async function save(root) {
    let body;
    try { body = JSON.parse(root.querySelector("#config-editor").value); } catch (e) {
      edge.message(root, "Not JSON: " + e.message, "error"); return;
    }
    const answer = await edge.api("POST", "/v1/config", body);
    if (answer.ok) {
      edge.message(root, "Saved; the pipeline reloads it.", "ok");
      await load(root);
      history(root);
    } else if (answer.json && answer.json.response && answer.json.response.violations) {
      edge.message(root, "Not saved: the configuration has errors (below).", "error");
      showViolations(root, answer.json.response.violations);
    } else edge.message(root, "Not saved: " + edge.errorText(answer), "error");
  }

  async function templates(root) {
    const answer = await edge.api("GET", "/v1/config/templates");
    if (!answer.ok) return;
    const select = root.querySelector("#template");
    for (const t of answer.json.response) {
      const option = edge.el("option", {value: t.name, title: t.description}, t.name);
      option.configuration = t.configuration;
      select.append(option);
    }
  }

  function useTemplate(root) {
    const option = root.querySelector("#template").selectedOptions[0];
    if (!option || !option.configuration) return;
    if (!confirm(`Replace the editor's text with the template ${option.value}? Nothing is saved until you save.`)) return;
    root.querySelector("#config-editor").value = JSON.stringify(option.configuration, null, 2);
    validate(root);
  }

  // Line diff of two texts by their longest common subsequence: [" " | "-" | "+", line].
  function diffLines(a, b) {
    const n = a.length, m = b.length;
    const common = Array.from({length: n + 1}, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    const out = [];
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { out.push([" ", a[i]]); i++; j++; }
      else if (common[i + 1][j] >= common[i][j + 1]) out.push(["-", a[i++]]);
      else out.push(["+", b[j++]]);
    }
    while (i < n) out.push(["-", a[i++]]);
    while (j < m) out.push(["+", b[j++]]);
    return out;
  }

  let revisions = [];

  async function history(root) {
    const answer = await edge.api("GET", "/ui/config/revisions?limit=50");
    if (!answer.ok) return;
    revisions = answer.json.response;
    const options = () => revisions.map((r) => edge.el("option", {value: r.revision},
      `#${r.revision} ${r.saved_at} (${r.source})`));
    root.querySelector("#rev-a").replaceChildren(...options());
    root.querySelector("#rev-b").replaceChildren(...options());
    if (revisions.length > 1) root.querySelector("#rev-a").selectedIndex = 1;
  }

  function showDiff(root) {
    const pick = (id) => revisions.find((r) => String(r.revision) === root.querySelector(id).value);
    const a = pick("#rev-a"), b = pick("#rev-b");
    const out = root.querySelector("#diff");
    if (!a || !b) { out.textContent = "No revisions saved yet."; return; }
    const lines = diffLines(JSON.stringify(a.body, null, 2).split("\n"), JSON.stringify(b.body, null, 2).split("\n"));
    const changed = lines.filter(([kind]) => kind !== " ").length;
    out.replaceChildren(edge.el("p", {}, `#${a.revision} → #${b.revision}: ${changed} changed lines`),
      ...lines.map(([kind, line]) => edge.el("div", {class: {"-": "del", "+": "add", " ": "same"}[kind]},
                                            kind + " " + line)));
  }

  edge.pages.config = {
    render(root) {
      const admin = edge.isAdmin();
      const editor = edge.el("textarea", {id: "config-editor", spellcheck: "false", rows: 28});
      editor.addEventListener("input", () => {
        clearTimeout(pending);
        pending = setTimeout(() => validate(root), VALIDATE_DELAY_MS);
      });
      root.append(
        edge.el("h1", {}, "Configuration"),
        edge.el("div", {class: "controls"},
          edge.el("select", {id: "template"}), edge.el("button", {onclick: () => useTemplate(root)}, "Use template"),
          edge.el("button", {id: "config-save", disabled: !admin, onclick: () => save(root)}, "Save"),
          edge.el("button", {onclick: () => load(root)}, "Reload"),
          edge.el("span", {id: "config-modified", class: "quiet"})),
        edge.el("div", {class: "editor"}, editor, edge.el("ul", {id: "violations"})),
        edge.el("p", {class: "quiet"}, "Secrets are shown masked; saving a masked value keeps the stored secret."),
        edge.el("h2", {}, "Revisions"),
        edge.el("div", {class: "controls"}, "From ", edge.el("select", {id: "rev-a"}), " to ",
                edge.el("select", {id: "rev-b"}), edge.el("button", {onclick: () => showDiff(root)}, "Diff")),
        edge.el("div", {id: "diff", class: "diff"}));
      load(root);
      templates(root);
      history(root);
    },
    leave() { clearTimeout(pending); },
  };
  edge.locateJson = locate;
})();
