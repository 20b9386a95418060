// The UI's core: the session (login, CSRF token), calls to the API, pages by #hash.
"use strict";

const edge = {
  session: null,   // {user, role, csrf_token}
  pages: {},       // name -> {render(root), leave()}
  current: null,
};

// One call to the server's API. The session cookie goes along by itself; X-Requested-With keeps
// the server from answering 401 with a Basic challenge (the browser's own password dialog).
edge.api = async function (method, path, body, contentType) {
  const headers = {"X-Requested-With": "edge-ui"};
  if (edge.session && edge.session.csrf_token && method !== "GET") headers["X-CSRF-Token"] = edge.session.csrf_token;
  const init = {method, headers, credentials: "same-origin"};
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { json = null; }
  if (response.status === 401 && edge.session) edge.showLogin("Your session has ended; log in again.");
  return {status: response.status, ok: response.ok, json, text};
};

// The text of an error answer in either envelope.
edge.errorText = function (answer) {
  const j = answer.json;
  if (!j) return `HTTP ${answer.status}`;
  if (j.error && j.error.text) return j.error.text;
  if (j.error_message !== undefined && j.error_code) return `${j.error_code}: ${j.error_message}`;
  if (typeof j.response === "string") return j.response;
  return `HTTP ${answer.status}`;
};

edge.isAdmin = () => !!edge.session && edge.session.role === "admin";

// A DOM element: el("button", {class: "x", onclick: f}, "text", child...).
edge.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

// A table of rows (arrays) under a header.
edge.table = function (header, rows) {
  return edge.el("table", {}, edge.el("thead", {}, edge.el("tr", {}, header.map((h) => edge.el("th", {}, h)))),
    edge.el("tbody", {}, rows.map((row) => edge.el("tr", {}, row.map((cell) => edge.el("td", {},
      cell === null || cell === undefined ? "" : (cell instanceof Node ? cell : String(cell))))))));
};

edge.message = function (root, text, kind) {
  let box = root.querySelector(":scope > .message");
  if (!box) { box = edge.el("p", {class: "message"}); root.prepend(box); }
  box.className = "message " + (kind || "");
  box.textContent = text;
};

edge.showLogin = function (why) {
  edge.session = null;
  if (edge.current && edge.pages[edge.current].leave) edge.pages[edge.current].leave();
  edge.current = null;
  document.getElementById("page").replaceChildren();
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = why || "";
};

edge.showApp = function () {
  document.getElementById("login").hidden = true;
  document.getElementById("nav").hidden = false;
  const s = edge.session;
  document.getElementById("who").textContent = s.user ? `${s.user} (${s.role})` : "authentication off";
  document.getElementById("logout").hidden = !s.csrf_token;
  edge.route();
};

edge.route = function () {
  if (!edge.session) return;
  const name = (location.hash || "#status").slice(1).split("?")[0];
  const page = edge.pages[name] ? name : "status";
  if (edge.current && edge.pages[edge.current].leave) edge.pages[edge.current].leave();
  edge.current = page;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === "#" + page);
  const root = document.getElementById("page");
  root.replaceChildren();
  root.dataset.page = page;
  edge.pages[page].render(root);
};

edge.start = async function () {
  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const answer = await edge.api("POST", "/ui/login", {user: form.user.value, password: form.password.value});
    if (!answer.ok) { document.getElementById("login-error").textContent = edge.errorText(answer); return; }
    form.password.value = "";
    edge.session = answer.json.response;
    edge.showApp();
  });
  document.getElementById("logout").addEventListener("click", async () => {
    await edge.api("POST", "/ui/logout");
    edge.showLogin("Logged out.");
  });
  window.addEventListener("hashchange", edge.route);
  const answer = await edge.api("GET", "/ui/session");
  if (answer.ok) { edge.session = answer.json.response; edge.showApp(); } else edge.showLogin("");
};
