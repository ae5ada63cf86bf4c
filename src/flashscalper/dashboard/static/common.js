// FlashScalper live surfaces: shared client code (no build step, no dependencies).
// One WebSocket per page: a snapshot first, then deltas. Reconnects on its own with backoff and
// shows a quiet "offline" state meanwhile. Theme comes from the query string:
//   ?theme=dark|light&accent=%2300ff88&font=Inter&scale=1.2&privacy=1&bg=%23000a
"use strict";

const FS = (() => {
  const params = new URLSearchParams(location.search);
  const privacy = ["1", "true", "yes", "on"].includes((params.get("privacy") || "").toLowerCase());

  function applyTheme() {
    const root = document.documentElement;
    root.dataset.theme = params.get("theme") === "light" ? "light" : "dark";
    const accent = params.get("accent");
    if (accent && /^#?[0-9a-fA-F]{3,8}$/.test(accent)) root.style.setProperty("--accent", accent.startsWith("#") ? accent : "#" + accent);
    const font = params.get("font");
    if (font && /^[\w \-]{1,40}$/.test(font)) root.style.setProperty("--font", `"${font}", system-ui, sans-serif`);
    const scale = parseFloat(params.get("scale") || "1");
    if (scale > 0.2 && scale < 5) root.style.setProperty("--scale", String(scale));
    const bg = params.get("bg");
    if (bg && /^#?[0-9a-fA-F]{3,8}$/.test(bg)) root.style.setProperty("--overlay-bg", bg.startsWith("#") ? bg : "#" + bg);
  }

  // ---- formatting ------------------------------------------------------------------------------
  const isNum = (v) => typeof v === "number" && isFinite(v);
  function money(v, digits = 2) {
    if (!isNum(v)) return "—";
    const s = Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    return (+Math.abs(v).toFixed(digits) === 0 ? "" : v < 0 ? "−" : "+") + s;
  }
  function plain(v, digits = 2) {
    if (!isNum(v)) return "—";
    return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function price(v) {
    if (!isNum(v)) return "—";
    const digits = v >= 1000 ? 1 : v >= 10 ? 2 : v >= 1 ? 3 : 5;
    return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  // signed figures; a value that rounds to zero shows no sign (no "−0.00%")
  function signed(v, digits, unit) {
    if (!isNum(v)) return "—";
    const s = Math.abs(v).toFixed(digits);
    return (+s === 0 ? "" : v > 0 ? "+" : "−") + s + unit;
  }
  function pct(v, digits = 2) { return signed(v, digits, "%"); }
  function r(v) { return signed(v, 2, "R"); }
  function share(v, digits = 1) { return isNum(v) ? v.toFixed(digits) + "%" : "—"; }
  function size(v) { return isNum(v) ? String(+v.toPrecision(8)) : ""; }
  function tone(v) { return !isNum(v) || v === 0 ? "flat" : v > 0 ? "up" : "down"; }
  function clock(ms) { return isNum(ms) ? new Date(ms).toLocaleTimeString("en-GB", { hour12: false }) : ""; }
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const market = (m) => (m || "").replace(/-USD-PERP$|USDT$/, "");

  // ---- mode badges (REPLAY on every surface, SAFE, PRIVACY, DEMO) ------------------------------
  function renderBadges(mode) {
    let host = document.getElementById("fs-badges");
    if (!host) { host = el("div", { id: "fs-badges", class: "fs-badges" }); document.body.append(host); }
    host.replaceChildren();
    if (!mode) return;
    if (mode.replay) host.append(el("span", { class: "badge badge-replay", text: "REPLAY" }));
    if (mode.safe) host.append(el("span", { class: "badge badge-safe", text: "SAFE MODE" }));
    if (document.body.dataset.overlay) return;  // on stream: only what viewers must know (REPLAY, SAFE)
    if (mode.privacy) host.append(el("span", { class: "badge badge-privacy", text: "PRIVACY" }));
    if (mode.demo) host.append(el("span", { class: "badge badge-demo", text: "DEMO" }));
    if (mode.paper) host.append(el("span", { class: "badge badge-paper", text: "PAPER" }));
  }

  // ---- live connection -------------------------------------------------------------------------
  // handlers: onState(state, changedKeys, events) called after every frame; onStatus(status)
  function connect(handlers) {
    let state = null, seq = -1, ws = null, delay = 500, timer = null;
    const setStatus = (s) => {
      document.body.dataset.status = s;
      handlers.onStatus && handlers.onStatus(s);
    };
    function open() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const url = `${proto}//${location.host}/ws${privacy ? "?privacy=1" : ""}`;
      setStatus(state ? "offline" : "connecting");
      try { ws = new WebSocket(url); } catch (e) { schedule(); return; }
      ws.onmessage = (msg) => {
        const frame = JSON.parse(msg.data);
        if (frame.type === "snapshot") {
          state = frame.state; seq = frame.seq; delay = 500;
          setStatus("live");
          renderBadges(state.mode);
          handlers.onState(state, new Set(Object.keys(state)), [], true);
        } else if (frame.type === "delta" && state && frame.seq > seq) {
          seq = frame.seq;
          const changes = frame.changes || {};
          for (const [k, v] of Object.entries(changes)) {
            if (k === "market_points") appendPoints(state, v);
            else if (k === "market_quotes") mergeQuotes(state, v);
            else state[k] = v;
          }
          if (changes.mode) renderBadges(state.mode);
          handlers.onState(state, new Set(Object.keys(changes)), frame.events || [], false);
        }
      };
      ws.onclose = () => { ws = null; setStatus("offline"); schedule(); };
      ws.onerror = () => { /* onclose follows */ };
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 1.6, 4000);
    }
    open();
    return { get state() { return state; } };
  }

  function appendPoints(state, points) {
    state.markets = state.markets || {};
    for (const [sym, p] of Object.entries(points)) {
      const m = state.markets[sym] || (state.markets[sym] = { series: [] });
      m.series = m.series || [];
      m.series.push(p);
      if (m.series.length > 240) m.series.splice(0, m.series.length - 240);
    }
  }
  function mergeQuotes(state, quotes) {
    for (const [sym, q] of Object.entries(quotes)) {
      const m = state.markets[sym] || (state.markets[sym] = { series: [] });
      Object.assign(m, q);
    }
  }

  // ---- tiny SVG charts -------------------------------------------------------------------------
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  }
  // line chart of [[x, y], ...]; markers [{x, y, kind}] drawn as triangles/circles
  function lineChart(host, points, opts = {}) {
    const w = opts.width || 300, h = opts.height || 80, pad = 4;
    const root = svg("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", class: "chart" });
    if (points.length >= 2) {
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (const [x, y] of points) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
      if (opts.zero) { y0 = Math.min(y0, 0); y1 = Math.max(y1, 0); }
      if (y1 === y0) { y1 += 1; y0 -= 1; }
      const sx = (x) => pad + (x - x0) / Math.max(x1 - x0, 1) * (w - 2 * pad);
      const sy = (y) => h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad);
      if (opts.zero) root.append(svg("line", { x1: 0, x2: w, y1: sy(0), y2: sy(0), class: "zero" }));
      const d = points.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("");
      if (opts.fill) root.append(svg("path", { d: `${d}L${sx(x1).toFixed(1)},${h}L${sx(x0).toFixed(1)},${h}Z`, class: "area" }));
      root.append(svg("path", { d, class: "line " + (opts.tone || "") }));
      for (const m of opts.markers || []) {
        if (m.x < x0 || m.x > x1 + 2000) continue;
        const cx = sx(Math.min(m.x, x1)), cy = sy(Math.max(Math.min(m.y, y1), y0));
        const up = m.side === "BUY";
        const tri = up ? `${cx},${cy - 5} ${cx - 5},${cy + 4} ${cx + 5},${cy + 4}` : `${cx},${cy + 5} ${cx - 5},${cy - 4} ${cx + 5},${cy - 4}`;
        root.append(svg("polygon", { points: tri, class: `marker marker-${m.kind}` }));
      }
    }
    host.replaceChildren(root);
  }

  applyTheme();
  return { params, privacy, connect, money, plain, price, pct, r, share, size, tone, clock, el, market, lineChart, isNum };
})();
