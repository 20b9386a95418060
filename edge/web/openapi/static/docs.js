// Renders /openapi.json for people: operations grouped by tag, each with its parameters, request
// body and answers. A few dozen lines of our own instead of a renderer fetched from a CDN.
"use strict";

(function () {
  const METHODS = ["get", "put", "post", "patch", "delete", "head"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  const json = (value) => el("pre", {}, JSON.stringify(value, null, 2));

  function content(media) {
    return Object.entries(media || {}).map(([type, m]) => el("div", {}, el("p", {}, el("code", {}, type)),
      m.schema ? el("details", {}, el("summary", {}, "schema"), json(m.schema)) : null,
      m.example !== undefined ? el("details", {open: ""}, el("summary", {}, "example"), json(m.example)) : null));
  }

  function operation(path, method, op) {
    const params = op.parameters || [];
    return el("details", {class: "op " + method, "data-path": path},
      el("summary", {}, el("span", {class: "method"}, method.toUpperCase()), " ", el("code", {}, path), " ",
         op.summary || ""),
      op.description ? el("p", {}, op.description) : null,
      params.length ? el("table", {}, el("tr", {}, ["Parameter", "In", "Required", "Description", "Example"]
        .map((h) => el("th", {}, h))), params.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)),
        el("td", {}, p.in), el("td", {}, p.required ? "yes" : ""), el("td", {}, p.description || ""),
        el("td", {}, p.example === undefined ? "" : String(p.example))))) : null,
      op.requestBody ? [el("h4", {}, "Request body"), content(op.requestBody.content)] : null,
      el("h4", {}, "Answers"),
      Object.entries(op.responses || {}).map(([status, r]) => el("div", {class: "response"},
        el("p", {}, el("strong", {}, status), " ", r.description || ""), content(r.content))));
  }

  function render(doc) {
    const byTag = new Map((doc.tags || []).map((t) => [t.name, []]));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const tag = (op.tags || ["Other"])[0];
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operation(path, method, op));
      }
    }
    const root = document.getElementById("docs");
    root.replaceChildren(el("h1", {}, `${doc.info.title} ${doc.info.version}`), el("p", {}, doc.info.description || ""),
      ...[...byTag].map(([tag, ops]) => el("section", {}, el("h2", {}, tag), ops)));
  }

  document.getElementById("filter").addEventListener("input", (e) => {
    const wanted = e.target.value.toLowerCase();
    for (const op of document.querySelectorAll(".op")) op.hidden = !op.dataset.path.toLowerCase().includes(wanted);
  });

  fetch("/openapi.json", {credentials: "same-origin", headers: {"X-Requested-With": "edge-ui"}})
    .then(async (response) => {
      if (response.status === 401) {
        document.getElementById("docs").replaceChildren(el("p", {}, "Log in first: ", el("a", {href: "/"}, "the web UI"),
                                                          ", then come back here."));
        return;
      }
      render(await response.json());
    });
})();
