// Streams: each configured stream with its markers; restream with confirmation.
"use strict";

(function () {
  async function restream(root, stream) {
    if (!confirm(`Restream ${stream.asset}:${stream.stream_type} of ${stream.data_receiver}? ` +
                 "Its data is read again from the source and sent again.")) return;
    const answer = await edge.api("POST", "/v1/restream",
                                  {[stream.data_receiver]: [{asset: stream.asset, stream_type: stream.stream_type}]});
    edge.message(root, answer.ok ? answer.json.response : "Restream failed: " + edge.errorText(answer),
                 answer.ok ? "ok" : "error");
    load(root);
  }

  function markers(list) {
    if (!list.length) return "none";
    return edge.el("ul", {class: "markers"}, list.map((m) => edge.el("li", {class: m.level},
      `${m.timestamp} ${m.level} ${m.category} (${m.component}): ${m.message}`)));
  }

  async function load(root) {
    const answer = await edge.api("GET", "/v1/streams");
    const box = root.querySelector("#streams");
    if (!answer.ok) { edge.message(root, edge.errorText(answer), "error"); return; }
    const streams = answer.json.response;
    box.replaceChildren(streams.length ? edge.table(["Stream", "Receiver", "Markers", ""], streams.map((s) => [
      s.stream, s.data_receiver, markers(s.markers),
      edge.el("button", {disabled: !edge.isAdmin(), onclick: () => restream(root, s)}, "Restream")]))
      : edge.el("p", {}, "No stream is configured."));
  }

  edge.pages.streams = {
    render(root) {
      root.append(edge.el("h1", {}, "Streams"), edge.el("button", {onclick: () => load(root)}, "Refresh"),
                  edge.el("div", {id: "streams"}));
      load(root);
    },
  };
})();
