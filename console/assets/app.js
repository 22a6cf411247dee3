// Strata console. Plain JavaScript, no build step: it talks only to the
// server that served it (/query, /metrics, /console/words.json).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { db: "", rp: "", q: "", range: "1h", from: null, to: null, view: "chart", tab: "query" };
  const schema = { measurements: [], fields: {}, tags: {}, tagValues: {} };
  let words = { keywords: [], functions: [] };
  let chart = null, lastResults = null, metricsPrev = null;
  const api = { get chart() { return chart; }, get results() { return lastResults; }, state, ready: false };
  window.strataConsole = api;

  // ---- server access ----
  function authHeader() {
    const u = sessionStorage.getItem("strata.user"), p = sessionStorage.getItem("strata.pass");
    return u ? { Authorization: "Basic " + btoa(u + ":" + (p || "")) } : {};
  }
  async function query(q, params) {
    const body = new URLSearchParams(Object.assign({ q }, params || {}));
    // credentials "omit": a 401 then shows the console's login, not the
    // browser's own password prompt; the Authorization header is sent as set.
    const resp = await fetch("/query", { method: "POST", credentials: "omit", headers: Object.assign({ "Content-Type": "application/x-www-form-urlencoded" }, authHeader()), body });
    let json;
    try { json = await resp.json(); } catch (e) { throw new Error("HTTP " + resp.status); }
    if (resp.status === 401) $("login").hidden = false;
    if (json.error) throw new Error(json.error);
    for (const r of json.results || []) if (r.error) throw new Error(r.error);
    return json.results || [];
  }
  const firstColumn = (res) => ((res[0] && res[0].series) || []).flatMap((s) => s.values.map((v) => v[0]));
  const quoteIdent = (s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !words.keywords.includes(s.toUpperCase()) ? s : '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  const quoteString = (s) => "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";

  // ---- time range ----
  const units = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
  function rangeMs() {
    if (state.range === "abs") return [state.from, state.to];
    if (state.range === "all") return [null, null];
    const m = /^(\d+)([smhd])$/.exec(state.range);
    const now = Date.now();
    return [now - m[1] * units[m[2]], now];
  }
  function expand(q) {
    const [from, to] = rangeMs();
    let filter = "time >= '1678-01-01T00:00:00Z'";
    if (from !== null) filter = "time >= " + quoteString(new Date(from).toISOString()) + " AND time <= " + quoteString(new Date(to).toISOString());
    const span = from === null ? 86400e3 : to - from;
    const steps = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400, 604800];
    const want = span / 1000 / 300; // about 300 points across the chart
    const step = steps.find((s) => s >= want) || 604800;
    const interval = step % 86400 === 0 ? step / 86400 + "d" : step % 3600 === 0 ? step / 3600 + "h" : step % 60 === 0 ? step / 60 + "m" : step + "s";
    return q.replace(/\$timeFilter/g, filter).replace(/\$(__)?interval\b/g, interval);
  }

  // ---- URL state: a link reproduces what is shown ----
  function readURL() {
    const p = new URLSearchParams(location.search);
    for (const k of ["db", "rp", "q", "range", "view", "tab"]) if (p.has(k)) state[k] = p.get(k);
    if (p.has("from") && p.has("to")) { state.range = "abs"; state.from = +p.get("from"); state.to = +p.get("to"); }
  }
  function writeURL() {
    const p = new URLSearchParams();
    for (const k of ["db", "rp", "q", "view", "tab"]) if (state[k]) p.set(k, state[k]);
    if (state.range === "abs") { p.set("from", state.from); p.set("to", state.to); } else p.set("range", state.range);
    history.replaceState(null, "", "/?" + p.toString());
  }

  // ---- editor: highlighting, completion, history ----
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  function highlight() {
    const text = $("q").value;
    const re = /('(?:\\.|[^'\\])*'?)|("(?:\\.|[^"\\])*"?)|(\$\w+)|(\b\d+(?:\.\d+)?(?:ns|u|µ|ms|s|m|h|d|w)?\b)|([A-Za-z_][A-Za-z0-9_]*)(\s*\()?|([^'"$A-Za-z_\d]+|.)/g;
    let out = "", m;
    const kw = new Set(words.keywords), fn = new Set(words.functions);
    while ((m = re.exec(text)) !== null) {
      if (m[1]) out += '<span class="t-str">' + esc(m[1]) + "</span>";
      else if (m[2]) out += esc(m[2]);
      else if (m[3]) out += '<span class="t-var">' + esc(m[3]) + "</span>";
      else if (m[4]) out += '<span class="t-num">' + esc(m[4]) + "</span>";
      else if (m[5]) {
        const w = m[5];
        if (m[6] && fn.has(w.toLowerCase())) out += '<span class="t-fn">' + esc(w) + "</span>" + esc(m[6]);
        else if (kw.has(w.toUpperCase())) out += '<span class="t-kw">' + esc(w) + "</span>" + esc(m[6] || "");
        else out += esc(w) + esc(m[6] || "");
      } else out += esc(m[7]);
    }
    $("highlight").innerHTML = out + "\n";
    $("highlight").scrollTop = $("q").scrollTop;
  }
  let suggestions = [], suggestSel = 0;
  function currentWord() {
    const ta = $("q"), pos = ta.selectionStart, text = ta.value.slice(0, pos);
    const m = /[A-Za-z_][A-Za-z0-9_]*$/.exec(text);
    return m ? { word: m[0], start: pos - m[0].length, end: pos } : null;
  }
  function measurementsInQuery() {
    const out = [], re = /\bFROM\s+(?:"[^"]+"\.|\w+\.)?("(?:[^"\\]|\\.)+"|[A-Za-z_]\w*)/gi;
    let m;
    while ((m = re.exec($("q").value)) !== null) out.push(m[1].replace(/^"|"$/g, ""));
    return out;
  }
  async function ensureSchema(m) {
    if (schema.fields[m] || !state.db) return;
    schema.fields[m] = [];
    try {
      const [f, t] = await Promise.all([
        query("SHOW FIELD KEYS FROM " + quoteIdent(m), { db: state.db }),
        query("SHOW TAG KEYS FROM " + quoteIdent(m), { db: state.db })]);
      schema.fields[m] = ((f[0] && f[0].series && f[0].series[0] && f[0].series[0].values) || []).map((v) => ({ name: v[0], type: v[1] }));
      schema.tags[m] = firstColumn(t);
    } catch (e) { /* completion is best effort */ }
  }
  // tagValueContext finds a tag value being typed: key = 'prefix before the cursor.
  function tagValueContext() {
    const ta = $("q"), pos = ta.selectionStart, text = ta.value.slice(0, pos);
    const m = /(?:"([^"]+)"|([A-Za-z_]\w*))\s*(?:=|!=|<>)\s*'((?:[^'\\]|\\.)*)$/.exec(text);
    return m ? { key: m[1] || m[2], word: m[3], start: pos - m[3].length, end: pos } : null;
  }
  async function ensureTagValues(m, key) {
    const k = m + "\u0000" + key;
    if (schema.tagValues[k] || !state.db) return;
    schema.tagValues[k] = [];
    try {
      const r = await query("SHOW TAG VALUES FROM " + quoteIdent(m) + " WITH KEY = " + quoteIdent(key), { db: state.db });
      schema.tagValues[k] = ((r[0] && r[0].series) || []).flatMap((s) => s.values.map((v) => v[1]));
      if (tagValueContext()) updateSuggest();
    } catch (e) { /* completion is best effort */ }
  }
  let suggestCtx = null;
  function updateSuggest() {
    const box = $("suggest"), ms = measurementsInQuery(), cands = [];
    const tv = tagValueContext(), cw = tv || currentWord();
    suggestCtx = cw;
    if (!cw) { box.hidden = true; return; }
    const lw = cw.word.toLowerCase();
    const add = (text, kind) => { if (text.toLowerCase().startsWith(lw) && (text.length > lw.length || kind === "tag value") && !cands.some((c) => c.text === text)) cands.push({ text, kind }); };
    if (tv) {
      for (const m of ms) {
        ensureTagValues(m, tv.key);
        for (const v of schema.tagValues[m + "\u0000" + tv.key] || []) add(v, "tag value");
      }
    } else {
      ms.forEach((m) => ensureSchema(m));
      for (const m of ms) {
        for (const f of schema.fields[m] || []) add(f.name, "field " + f.type);
        for (const t of schema.tags[m] || []) add(t, "tag");
      }
      for (const m of schema.measurements) add(m, "measurement");
      for (const f of words.functions) add(f, "function");
      for (const k of words.keywords) add(cw.word === cw.word.toLowerCase() ? k.toLowerCase() : k, "keyword");
    }
    suggestions = cands.slice(0, 50);
    suggestSel = 0;
    if (!suggestions.length) { box.hidden = true; return; }
    box.innerHTML = suggestions.map((c, i) => '<li data-i="' + i + '"' + (i === 0 ? ' class="sel"' : "") + ">" + esc(c.text) + "<small>" + esc(c.kind) + "</small></li>").join("");
    box.hidden = false;
  }
  function accept(i) {
    const cw = suggestCtx, c = suggestions[i];
    if (!cw || !c) return;
    const ta = $("q");
    const text = c.kind === "function" ? c.text + "(" : c.kind === "measurement" ? quoteIdent(c.text) :
      c.kind === "tag value" ? c.text.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'" : c.text;
    ta.value = ta.value.slice(0, cw.start) + text + ta.value.slice(cw.end);
    ta.selectionStart = ta.selectionEnd = cw.start + text.length;
    $("suggest").hidden = true;
    highlight();
  }
  function moveSel(d) {
    suggestSel = (suggestSel + d + suggestions.length) % suggestions.length;
    [...$("suggest").children].forEach((li, i) => li.classList.toggle("sel", i === suggestSel));
  }
  const historyKey = "strata.history";
  function loadHistory() {
    const h = JSON.parse(localStorage.getItem(historyKey) || "[]");
    $("history").innerHTML = '<option value="">History…</option>' + h.map((q) => "<option>" + esc(q) + "</option>").join("");
    return h;
  }
  function remember(q) {
    const h = loadHistory().filter((x) => x !== q);
    h.unshift(q);
    localStorage.setItem(historyKey, JSON.stringify(h.slice(0, 100)));
    loadHistory();
  }

  // ---- running a query ----
  function message(text, error) { const m = $("message"); m.textContent = text; m.className = error ? "error" : ""; }
  async function run() {
    state.q = $("q").value.trim();
    writeURL();
    if (!state.q) return;
    remember(state.q);
    message("Running…");
    const t0 = performance.now();
    try {
      const params = { epoch: "ms" };
      if (state.db) params.db = state.db;
      if (state.rp) params.rp = state.rp;
      lastResults = await query(expand(state.q), params);
      const series = lastResults.flatMap((r) => r.series || []);
      const rows = series.reduce((n, s) => n + s.values.length, 0);
      message(series.length + " series, " + rows + " rows in " + Math.round(performance.now() - t0) + " ms");
      render();
    } catch (e) {
      lastResults = null;
      message(e.message, true);
      render();
    }
  }
  const seriesLabel = (s) => s.name + (s.tags ? "{" + Object.keys(s.tags).sort().map((k) => k + "=" + s.tags[k]).join(",") + "}" : "");
  const palette = ["#2f6fde", "#e4572e", "#29a36a", "#f0a202", "#8e44ad", "#17a2b8", "#d35400", "#7f8c8d", "#c0392b", "#16a085"];
  function render() {
    $("chart").hidden = state.view !== "chart";
    $("legend").hidden = state.view !== "chart";
    $("table").hidden = state.view !== "table";
    document.querySelectorAll(".switch button").forEach((b) => b.classList.toggle("active", b.dataset.view === state.view));
    if (state.view === "chart") renderChart(); else renderTable();
  }
  function renderChart() {
    if (chart) { chart.destroy(); chart = null; }
    $("legend").innerHTML = "";
    const series = (lastResults || []).flatMap((r) => r.series || []);
    const tables = [], labels = [];
    for (const s of series) {
      const ti = s.columns.indexOf("time");
      if (ti < 0) continue;
      s.columns.forEach((c, ci) => {
        if (ci === ti || !s.values.some((v) => typeof v[ci] === "number")) return;
        const xs = s.values.map((v) => v[ti] / 1000), ys = s.values.map((v) => (typeof v[ci] === "number" ? v[ci] : null));
        tables.push([xs, ys]);
        labels.push(seriesLabel(s) + (s.columns.length > 2 ? " " + c : ""));
      });
    }
    if (!tables.length) return;
    const data = uPlot.join(tables);
    const dark = document.documentElement.classList.contains("dark");
    const axis = { stroke: dark ? "#c9d1dc" : "#1d2330", grid: { stroke: dark ? "#2a303a" : "#e6e9ef" }, ticks: { stroke: dark ? "#2a303a" : "#e6e9ef" } };
    const opts = {
      width: Math.max(320, $("chart").clientWidth || 800), height: 360,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [axis, axis],
      series: [{ label: "time" }].concat(labels.map((l, i) => ({ label: l, stroke: palette[i % palette.length], width: 1.5, spanGaps: true, points: { show: data[0].length < 60 } }))),
    };
    chart = new uPlot(opts, data, $("chart"));
  }
  function fmtCell(col, v) {
    if (col === "time" && typeof v === "number") return new Date(v).toISOString();
    return v === null || v === undefined ? "" : String(v);
  }
  function renderTable() {
    const out = [];
    for (const s of (lastResults || []).flatMap((r) => r.series || [])) {
      out.push("<table><caption>" + esc(seriesLabel(s)) + "</caption><thead><tr>" + s.columns.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr></thead><tbody>");
      for (const row of s.values) out.push("<tr>" + row.map((v, i) => '<td class="' + (typeof v === "number" ? "n" : "s") + '">' + esc(fmtCell(s.columns[i], v)) + "</td>").join("") + "</tr>");
      out.push("</tbody></table>");
    }
    $("table").innerHTML = out.join("");
  }
  function csvText() {
    const cell = (v) => { const s = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
    const lines = [];
    let header = null;
    for (const s of (lastResults || []).flatMap((r) => r.series || [])) {
      const h = ["name", "tags"].concat(s.columns).join(",");
      if (h !== header) { lines.push(h); header = h; }
      const tags = s.tags ? Object.keys(s.tags).sort().map((k) => k + "=" + s.tags[k]).join(",") : "";
      for (const row of s.values) lines.push([s.name, tags].concat(row.map((v, i) => fmtCell(s.columns[i], v))).map(cell).join(","));
    }
    return lines.join("\n") + "\n";
  }
  api.csvText = csvText;
  function downloadCSV() {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([csvText()], { type: "text/csv" }));
    a.download = "strata-" + (state.db || "query") + ".csv";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  // ---- pickers ----
  async function loadDatabases() {
    try {
      const dbs = firstColumn(await query("SHOW DATABASES")).filter((d) => d !== "_internal");
      if (!state.db && dbs.length) state.db = dbs[0];
      $("db").innerHTML = dbs.map((d) => "<option" + (d === state.db ? " selected" : "") + ">" + esc(d) + "</option>").join("");
      await loadDatabase();
    } catch (e) { message(e.message, true); }
  }
  async function loadDatabase() {
    schema.measurements = []; schema.fields = {}; schema.tags = {}; schema.tagValues = {};
    if (!state.db) return;
    const [rps, ms] = await Promise.all([
      query("SHOW RETENTION POLICIES ON " + quoteIdent(state.db)),
      query("SHOW MEASUREMENTS", { db: state.db })]);
    $("rp").innerHTML = '<option value="">default</option>' + firstColumn(rps).map((r) => "<option" + (r === state.rp ? " selected" : "") + ">" + esc(r) + "</option>").join("");
    schema.measurements = firstColumn(ms);
    if (state.tab === "schema") loadSchemaPage();
  }

  // ---- schema browser ----
  async function loadSchemaPage() {
    $("measurements").innerHTML = schema.measurements.map((m) => "<li>" + esc(m) + "</li>").join("");
    try {
      const c = await query("SHOW SERIES CARDINALITY", { db: state.db });
      const n = ((c[0] && c[0].series) || []).reduce((a, s) => a + s.values[0][0], 0);
      $("cardinality").textContent = "(" + n + " series)";
    } catch (e) { $("cardinality").textContent = ""; }
  }
  async function showMeasurement(m) {
    [...$("measurements").children].forEach((li) => li.classList.toggle("sel", li.textContent === m));
    const d = $("schema-detail");
    try {
      const [f, tv, sc] = await Promise.all([
        query("SHOW FIELD KEYS FROM " + quoteIdent(m), { db: state.db }),
        query("SHOW TAG VALUES FROM " + quoteIdent(m) + " WITH KEY =~ /.*/", { db: state.db }),
        query("SHOW SERIES CARDINALITY FROM " + quoteIdent(m), { db: state.db })]);
      const fields = ((f[0].series && f[0].series[0].values) || []);
      const counts = {};
      for (const s of tv[0].series || []) for (const v of s.values) counts[v[0]] = (counts[v[0]] || 0) + 1;
      const series = ((sc[0].series) || []).reduce((a, s) => a + s.values[0][0], 0);
      d.innerHTML = "<h3>" + esc(m) + ' <span class="muted">(' + series + " series)</span></h3>" +
        '<table id="schema-fields"><caption>Fields</caption><tr><th>field</th><th>type</th></tr>' + fields.map((v) => '<tr><td class="s">' + esc(v[0]) + '</td><td class="s">' + esc(v[1]) + "</td></tr>").join("") + "</table>" +
        '<table id="schema-tags"><caption>Tag keys</caption><tr><th>tag key</th><th>values</th></tr>' + Object.keys(counts).sort().map((k) => '<tr><td class="s">' + esc(k) + "</td><td>" + counts[k] + "</td></tr>").join("") + "</table>";
    } catch (e) { d.textContent = e.message; }
  }

  // ---- status page, from /metrics ----
  function parseMetrics(text) {
    const out = {};
    for (const line of text.split("\n")) {
      if (!line || line[0] === "#") continue;
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const key = m[1] + (m[2] || "");
      out[key] = parseFloat(m[3]);
      out[m[1] + "#sum"] = (out[m[1] + "#sum"] || 0) + parseFloat(m[3]);
    }
    return out;
  }
  const human = (n, unit) => {
    if (n === null || n === undefined || isNaN(n)) return "…";
    const k = unit === "B" ? 1024 : 1000, u = ["", "k", "M", "G", "T"];
    let i = 0;
    while (Math.abs(n) >= k && i < u.length - 1) { n /= k; i++; }
    return (i ? n.toFixed(1) : Math.round(n * 10) / 10) + " " + u[i] + (unit || "");
  };
  async function loadStatus() {
    let text;
    try {
      const resp = await fetch("/metrics", { credentials: "omit", headers: authHeader() });
      if (!resp.ok) throw new Error("/metrics: HTTP " + resp.status);
      text = await resp.text();
    } catch (e) { $("status-cards").textContent = e.message; return; }
    const m = parseMetrics(text), now = Date.now();
    const prev = metricsPrev;
    metricsPrev = { m, at: now };
    const rate = (name) => prev ? (m[name + "#sum"] - prev.m[name + "#sum"]) / ((now - prev.at) / 1000) : null;
    const latency = prev ? (m["strata_storage_write_duration_seconds_sum"] - prev.m["strata_storage_write_duration_seconds_sum"]) /
      Math.max(1, m["strata_storage_write_duration_seconds_count"] - prev.m["strata_storage_write_duration_seconds_count"]) : null;
    const cards = [
      ["Ingest", human(rate("strata_write_points_total"), "pt/s"), "points written per second"],
      ["Write latency", latency === null ? "…" : (latency * 1000).toFixed(2) + " ms", "mean time to durable, last interval"],
      ["Series", human(m["strata_storage_series"]), "in all databases"],
      ["Disk", human((m['strata_disk_bytes{part="index"}'] || 0) + (m['strata_disk_bytes{part="wal"}'] || 0), "B"), "index " + human(m['strata_disk_bytes{part="index"}'], "B") + ", WAL " + human(m['strata_disk_bytes{part="wal"}'], "B")],
      ["WAL backlog", String(m["strata_wal_segments"] ?? "…") + " segments", "not yet flushed to blocks"],
      ["Head", human(m["strata_storage_head_bytes"], "B"), "recent points in memory awaiting flush"],
      ["Write stalls", String(m["strata_storage_write_stalls_total"] ?? 0), "writes that waited for a flush"],
      ["Dropped points", String(m["strata_write_points_dropped_total#sum"] ?? 0), "rejected by writes"],
      ["Memory", human(m["process_resident_memory_bytes"], "B"), "resident set of the server"],
    ];
    $("status-cards").innerHTML = cards.map((c) => '<div class="card" data-card="' + esc(c[0]) + '"><span>' + esc(c[0]) + "</span><b>" + esc(c[1]) + "</b><span>" + esc(c[2]) + "</span></div>").join("");
    try {
      const q = await query("SHOW QUERIES");
      const s = q[0].series && q[0].series[0];
      $("queries").innerHTML = s ? "<table><tr>" + s.columns.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>" + s.values.map((r) => "<tr>" + r.map((v) => '<td class="s">' + esc(String(v)) + "</td>").join("") + "</tr>").join("") + "</table>" : "none";
    } catch (e) { $("queries").textContent = e.message; }
  }
  let statusTimer = null;

  // ---- tabs, theme, wiring ----
  function showTab(tab) {
    state.tab = tab;
    for (const t of ["query", "schema", "status"]) { $("page-" + t).hidden = t !== tab; $("tab-" + t).classList.toggle("active", t === tab); }
    clearInterval(statusTimer);
    if (tab === "schema") loadSchemaPage();
    if (tab === "status") { loadStatus(); statusTimer = setInterval(loadStatus, 2000); }
    writeURL();
  }
  function setTheme(dark) { document.documentElement.classList.toggle("dark", dark); localStorage.setItem("strata.theme", dark ? "dark" : "light"); if (chart) renderChart(); }
  function toLocalInput(ms) { const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000); return d.toISOString().slice(0, 19); }

  async function init() {
    const saved = localStorage.getItem("strata.theme");
    setTheme(saved ? saved === "dark" : matchMedia("(prefers-color-scheme: dark)").matches);
    readURL();
    try { words = await (await fetch("/console/words.json")).json(); } catch (e) { /* highlighting without keywords */ }
    $("q").value = state.q;
    $("range").value = state.range;
    $("abs").hidden = state.range !== "abs";
    if (state.range === "abs") { $("from").value = toLocalInput(state.from); $("to").value = toLocalInput(state.to); }
    highlight();
    loadHistory();
    const ta = $("q");
    ta.addEventListener("input", () => { highlight(); updateSuggest(); });
    ta.addEventListener("scroll", () => { $("highlight").scrollTop = ta.scrollTop; });
    ta.addEventListener("keydown", (e) => {
      const open = !$("suggest").hidden;
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("suggest").hidden = true; run(); }
      else if (open && (e.key === "Tab" || e.key === "Enter")) { e.preventDefault(); accept(suggestSel); }
      else if (open && e.key === "ArrowDown") { e.preventDefault(); moveSel(1); }
      else if (open && e.key === "ArrowUp") { e.preventDefault(); moveSel(-1); }
      else if (e.key === "Escape") $("suggest").hidden = true;
    });
    $("suggest").addEventListener("mousedown", (e) => { const li = e.target.closest("li"); if (li) { e.preventDefault(); accept(+li.dataset.i); } });
    ta.addEventListener("blur", () => setTimeout(() => { $("suggest").hidden = true; }, 100));
    $("run").addEventListener("click", run);
    $("history").addEventListener("change", (e) => { if (e.target.value) { ta.value = e.target.value; highlight(); e.target.value = ""; } });
    document.querySelectorAll(".switch button").forEach((b) => b.addEventListener("click", () => { state.view = b.dataset.view; writeURL(); render(); }));
    $("csv").addEventListener("click", downloadCSV);
    document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
    $("db").addEventListener("change", async (e) => { state.db = e.target.value; state.rp = ""; writeURL(); await loadDatabase(); });
    $("rp").addEventListener("change", (e) => { state.rp = e.target.value; writeURL(); });
    $("range").addEventListener("change", (e) => {
      state.range = e.target.value;
      $("abs").hidden = state.range !== "abs";
      if (state.range === "abs") {
        state.to = Date.now(); state.from = state.to - 3600e3;
        $("from").value = toLocalInput(state.from); $("to").value = toLocalInput(state.to);
      }
      writeURL();
    });
    for (const id of ["from", "to"]) $(id).addEventListener("change", (e) => { state[id] = new Date(e.target.value).getTime(); writeURL(); });
    $("measurements").addEventListener("click", (e) => { if (e.target.tagName === "LI") showMeasurement(e.target.textContent); });
    $("theme").addEventListener("click", () => setTheme(!document.documentElement.classList.contains("dark")));
    $("login-toggle").addEventListener("click", () => { $("login").hidden = !$("login").hidden; });
    $("login").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem("strata.user", $("user").value);
      sessionStorage.setItem("strata.pass", $("pass").value);
      $("login").hidden = true;
      loadDatabases();
    });
    window.addEventListener("resize", () => { if (chart) chart.setSize({ width: $("chart").clientWidth, height: 360 }); });
    await loadDatabases();
    showTab(state.tab);
    render();
    if (state.q) await run();
    api.ready = true;
  }
  init();
})();
