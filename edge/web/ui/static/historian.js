// Historian: tag tables, tag search, a uPlot trend of one or several tags, zoom and pan, CSV.
// Zoomed out the chart reads /machiot calculated values (min, max, avg per bucket, about one bucket
// per pixel column), so any range draws from the rollups; zoomed in it reads raw points.
"use strict";

(function () {
  const MAX_LISTED_TAGS = 200;
  const SCALE = 9;  // the most fraction digits /machiot prints
  // Rollup buckets the tag API offers, in seconds: sec and min x divisors of 60, hour x divisors of 24.
  const DIVISORS_60 = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
  const BUCKETS = [
    ...DIVISORS_60.map((n) => [n, "sec", n]), ...DIVISORS_60.map((n) => [n * 60, "min", n]),
    ...[1, 2, 3, 4, 6, 8, 12, 24].map((n) => [n * 3600, "hour", n])];
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

  const state = {table: null, tags: [], names: [], zone: "UTC", clock: null, range: null, whole: null, plot: null};
  // What the last drawing read and drew, for people checking it (and the browser tests).
  window.edgeTrend = {mode: null, requests: [], data: null, plot: null};

  // The tag API is read in UTC (tz=UTC), where a time's text names one instant even in the hour
  // a daylight-saving change repeats. Times are shown on the clock of the server's TIMEZONE
  // (state.zone, by name), each with the offset in force at that instant.

  // "YYYY-MM-DD HH:MI:SS mmm:uuu:nnn" in UTC -> seconds since the epoch (float).
  function secondsOf(text) {
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?: (\d{3}):(\d{3}):(\d{3}))?$/.exec(text);
    if (!m) return NaN;
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    const fraction = m[7] ? (+m[7]) / 1e3 + (+m[8]) / 1e6 + (+m[9]) / 1e9 : 0;
    return ms / 1000 + fraction;
  }

  // Seconds since the epoch -> the tag API's "YYYY-MM-DDTHH:MI:SS,mmm" in UTC.
  function timeText(seconds) {
    return new Date(Math.round(seconds * 1000)).toISOString().replace("Z", "").replace(".", ",");
  }

  function setZone(name) {
    try {
      state.clock = new Intl.DateTimeFormat("en-US", {timeZone: name, hourCycle: "h23", year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"});
      state.zone = name;
    } catch (e) {  // a zone this browser does not know: UTC, and say so
      state.clock = null;
      state.zone = "UTC";
    }
  }

  // Milliseconds to add to the instant `ms` to read the zone's clock then.
  function offsetAt(ms) {
    if (!state.clock) return 0;
    const p = {};
    for (const part of state.clock.formatToParts(new Date(ms))) p[part.type] = part.value;
    const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
    return wall - Math.floor(ms / 1000) * 1000;
  }

  // Seconds -> "YYYY-MM-DD HH:MI:SS.mmm" on the zone's clock.
  function shownTime(seconds) {
    const ms = Math.round(seconds * 1000);
    return new Date(ms + offsetAt(ms)).toISOString().replace("T", " ").replace("Z", "");
  }

  // The same with the offset ("2024-10-27 02:30:00.000+01:00"), which tells a repeated hour apart.
  function stampedTime(seconds) {
    const minutes = Math.round(offsetAt(Math.round(seconds * 1000)) / 60000), size = Math.abs(minutes);
    const pad = (n) => String(n).padStart(2, "0");
    return `${shownTime(seconds)}${minutes < 0 ? "-" : "+"}${pad(Math.floor(size / 60))}:${pad(size % 60)}`;
  }

  // "YYYY-MM-DD HH:MI:SS[.mmm]" typed in the range boxes, on the zone's clock -> seconds (NaN if
  // it is not that). A time in a repeated hour means its first occurrence.
  function parseShown(text) {
    const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:[.,](\d{1,3}))?$/.exec(text.trim());
    if (!m) return NaN;
    const wall = Date.parse(`${m[1]}T${m[2]}Z`) + Number((m[3] || "0").padEnd(3, "0"));
    // The instants the zone's offsets a day before and a day after give; of those whose clock
    // does read `wall`, the first. None does in the hour a change skips: the earlier offset's.
    const day = 86400000;
    const instants = [wall - offsetAt(wall - day), wall - offsetAt(wall + day)];
    const fitting = instants.filter((t) => t + offsetAt(t) === wall);
    return (fitting.length ? Math.min(...fitting) : instants[0]) / 1000;
  }

  async function machiot(path) {
    const asked = path + (path.includes("?") ? "&" : "?") + "tz=UTC";
    window.edgeTrend.requests.push(asked);
    const answer = await edge.api("GET", asked);
    if (!answer.json || answer.json.error_code) throw new Error(edge.errorText(answer));
    return answer.json;
  }

  async function loadTables(root) {
    const answer = await edge.api("GET", "/ui/historian/tables");
    if (!answer.ok) { edge.message(root, edge.errorText(answer), "error"); return; }
    setZone(answer.json.response.zone);
    root.querySelector("#hist-zone").textContent = state.zone;
    const select = root.querySelector("#hist-table");
    select.replaceChildren(...answer.json.response.tables.map((t) => edge.el("option", {}, t)));
    await chooseTable(root);
  }

  async function chooseTable(root) {
    state.table = root.querySelector("#hist-table").value;
    state.tags = [];
    state.names = [];
    if (!state.table) return;
    try {
      const answer = await machiot(`/machiot/tags/list/${encodeURIComponent(state.table)}?m=1`);
      state.names = answer.data.map((row) => row[0]);
    } catch (e) { edge.message(root, e.message, "error"); }
    listTags(root);
  }

  function listTags(root) {
    const search = root.querySelector("#hist-search").value.trim().toLowerCase();
    const found = state.names.filter((n) => n.toLowerCase().includes(search));
    const box = root.querySelector("#hist-tags");
    box.replaceChildren(...found.slice(0, MAX_LISTED_TAGS).map((name) => edge.el("label", {class: "tag"},
      edge.el("input", {type: "checkbox", value: name, checked: state.tags.includes(name), onchange: (e) => {
        state.tags = e.target.checked ? [...state.tags, name] : state.tags.filter((t) => t !== name);
      }}), " ", name)));
    root.querySelector("#hist-count").textContent = `${found.length} of ${state.names.length} tags` +
      (found.length > MAX_LISTED_TAGS ? `; the first ${MAX_LISTED_TAGS} shown, narrow the search` : "");
  }

  // The whole range of the chosen tags, from the per-tag stats (no data read).
  async function wholeRange() {
    const answer = await machiot(`/machiot/tags/range/${encodeURIComponent(state.table)}/` +
                                 `${state.tags.map(encodeURIComponent).join(",")}`);
    const times = answer.data.flatMap((row) => [row.min, row.max]).filter((t) => t).map(secondsOf);
    if (!times.length) return null;
    const start = Math.min(...times), end = Math.max(...times);
    return [start, end > start ? end : start + 1];
  }

  function bucketFor(span, columns) {
    const wanted = span / columns;
    return BUCKETS.find(([seconds]) => seconds >= wanted) || BUCKETS[BUCKETS.length - 1];
  }

  // One tag over [start, end]: raw points if there are no more than about two per pixel column,
  // else min, max and avg per bucket of about one column.
  async function readTag(tag, start, end, columns) {
    const table = encodeURIComponent(state.table), name = encodeURIComponent(tag);
    const from = encodeURIComponent(timeText(start)), to = encodeURIComponent(timeText(end));
    const limit = columns * 2;
    const raw = await machiot(`/machiot/datapoints/raw/${table}/${name}/${from}/${to}/2/${limit + 1}/0?m=1&s=${SCALE}`);
    if (raw.data.length <= limit) {
      return {mode: "raw", table: [raw.data.map((r) => secondsOf(r[1])), raw.data.map((r) => r[2])]};
    }
    const [seconds, type, value] = bucketFor(end - start, columns);
    // Buckets are aligned to the epoch and one is answered when its start lies in the range:
    // start at the boundary of the bucket holding `start`, so the first points are drawn too.
    const aligned = encodeURIComponent(timeText(Math.floor(start / seconds) * seconds));
    const calc = await machiot(`/machiot/datapoints/calculated/${table}/${name}/${aligned}/${to}/min,max,avg/0/` +
                               `${type}/${value}?m=1&s=${SCALE}`);
    const rows = calc.data;
    return {mode: `${value} ${type}`, table: [rows.map((r) => secondsOf(r[0])), rows.map((r) => r[1]),
                                              rows.map((r) => r[2]), rows.map((r) => r[3])]};
  }

  async function draw(root, range) {
    if (range && !(range[0] < range[1])) { edge.message(root, "Give the range as YYYY-MM-DD HH:MI:SS[.mmm], from before to.", "error"); return; }
    if (!state.tags.length) { edge.message(root, "Choose one or more tags.", "error"); return; }
    const box = root.querySelector("#hist-chart");
    const columns = Math.max(100, Math.floor(box.clientWidth || 800));
    const started = performance.now();
    window.edgeTrend.requests = [];
    let results;
    try {
      if (!range) {
        state.whole = await wholeRange();
        if (!state.whole) { edge.message(root, "These tags hold no data.", "error"); return; }
        range = state.whole;
      }
      results = await Promise.all(state.tags.map((tag) => readTag(tag, range[0], range[1], columns)));
    } catch (e) { edge.message(root, e.message, "error"); return; }
    state.range = range;
    root.querySelector("#hist-from").value = shownTime(range[0]);
    root.querySelector("#hist-to").value = shownTime(range[1]);

    const series = [{label: "time"}];
    const bands = [];
    results.forEach((r, i) => {
      const stroke = COLOURS[i % COLOURS.length];
      const tag = state.tags[i];
      if (r.mode === "raw") series.push({label: tag, stroke, spanGaps: true, points: {show: r.table[0].length < 200}});
      else {
        const first = series.length;
        series.push({label: `${tag} min`, stroke, width: 0.5, spanGaps: true},
                    {label: `${tag} max`, stroke, width: 0.5, spanGaps: true},
                    {label: `${tag} avg`, stroke, width: 1.5, spanGaps: true});
        bands.push({series: [first + 1, first], fill: stroke + "33"});
      }
    });
    const data = results.length === 1 ? results[0].table : uPlot.join(results.map((r) => r.table));
    if (state.plot) state.plot.destroy();
    const options = {
      width: columns, height: 400, series, bands,
      scales: {x: {time: true, range: () => [range[0], range[1]]}},
      cursor: {drag: {x: true, y: false}},
      hooks: {setSelect: [(u) => {
        if (u.select.width < 2) return;
        const from = u.posToVal(u.select.left, "x"), to = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({width: 0}, false);
        draw(root, [from, to]);
      }]},
      // Times on the axis on the server zone's clock: a Date whose local fields read as that
      // zone's wall clock at each instant.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), state.zone),
    };
    box.replaceChildren();
    state.plot = new uPlot(options, data, box);
    const modes = [...new Set(results.map((r) => r.mode))];
    const ms = (performance.now() - started).toFixed(0);
    root.querySelector("#hist-info").textContent =
      `${modes.includes("raw") && modes.length === 1 ? "Raw points" : "Per bucket of " + modes.filter((m) => m !== "raw").join(", ") + " (min, max, avg)"}; ` +
      `${data[0].length} times drawn in ${ms} ms`;
    Object.assign(window.edgeTrend, {mode: modes.join(","), data, plot: state.plot, range, drawnMs: Number(ms)});
  }

  function shift(root, fraction) {
    if (!state.range) return;
    const span = state.range[1] - state.range[0];
    draw(root, [state.range[0] + span * fraction, state.range[1] + span * fraction]);
  }

  function zoomOut(root) {
    if (!state.range) return;
    const span = state.range[1] - state.range[0];
    draw(root, [state.range[0] - span / 2, state.range[1] + span / 2]);
  }

  function csv() {
    const plot = state.plot;
    if (!plot) return;
    const labels = plot.series.map((s) => s.label);
    const lines = [["time", ...labels.slice(1)].join(",")];
    const data = plot.data;
    for (let i = 0; i < data[0].length; i++) {
      lines.push([stampedTime(data[0][i]), ...data.slice(1).map((col) => (col[i] === null || col[i] === undefined ? "" : col[i]))].join(","));
    }
    window.edgeTrend.csv = lines.join("\n") + "\n";
    const link = edge.el("a", {href: URL.createObjectURL(new Blob([window.edgeTrend.csv], {type: "text/csv"})),
                               download: `${state.table}-${state.tags.join("_")}.csv`});
    document.body.append(link);
    link.click();
    link.remove();
  }

  edge.pages.historian = {
    render(root) {
      root.append(edge.el("h1", {}, "Historian"),
        edge.el("div", {class: "historian"},
          edge.el("aside", {},
            edge.el("label", {}, "Table ", edge.el("select", {id: "hist-table", onchange: () => chooseTable(root)})),
            edge.el("input", {id: "hist-search", type: "search", placeholder: "Search tags", oninput: () => listTags(root)}),
            edge.el("p", {id: "hist-count", class: "quiet"}),
            edge.el("div", {id: "hist-tags", class: "tags"})),
          edge.el("div", {class: "chart-area"},
            edge.el("div", {class: "controls"},
              edge.el("button", {id: "hist-draw", onclick: () => draw(root, null)}, "Draw whole range"),
              edge.el("input", {id: "hist-from", size: 23}), "–", edge.el("input", {id: "hist-to", size: 23}),
              edge.el("span", {id: "hist-zone", class: "quiet", title: "The server's TIMEZONE"}),
              edge.el("button", {onclick: () => draw(root, [parseShown(root.querySelector("#hist-from").value),
                                                            parseShown(root.querySelector("#hist-to").value)])}, "Draw range"),
              edge.el("button", {title: "Pan left", onclick: () => shift(root, -0.5)}, "◀"),
              edge.el("button", {title: "Pan right", onclick: () => shift(root, 0.5)}, "▶"),
              edge.el("button", {onclick: () => zoomOut(root)}, "Zoom out"),
              edge.el("button", {id: "hist-csv", onclick: csv}, "CSV")),
            edge.el("div", {id: "hist-chart"}),
            edge.el("p", {id: "hist-info", class: "quiet"}, "Drag across the chart to zoom in."))));
      loadTables(root);
    },
    leave() { if (state.plot) state.plot.destroy(); state.plot = null; },
  };
})();
