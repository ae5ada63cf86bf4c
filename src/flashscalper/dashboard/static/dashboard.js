// FlashScalper dashboard page: renders the pushed state; controls POST with the control token.
"use strict";

(() => {
  const { el, money, plain, price, pct, r, share, size, tone, clock, market, isNum } = FS;
  const $ = (id) => document.getElementById(id);
  let current = null;
  const priv = (s) => FS.privacy || (s && s.mode && s.mode.privacy);

  function kv(host, pairs) {
    host.replaceChildren(...pairs.filter(([, v]) => v !== null).map(([k, v]) =>
      el("div", {}, el("b", { text: v }), el("span", { text: k }))));
  }
  function rows(host, items, cells, empty) {
    host.replaceChildren(...(items.length ? items.map((it) => el("tr", {}, ...cells(it).map((c) =>
      c instanceof Node ? c : el("td", { text: c ?? "" })))) : [el("tr", {}, el("td", { class: "muted", colspan: 12, text: empty }))]));
  }
  const td = (text, cls) => el("td", { class: cls, text });

  const render = {
    mode(s) {
      document.body.classList.toggle("private", !!priv(s));
      $("venue").textContent = `${s.mode.venue || "venue"} · ${s.mode.name}`;
      $("whatif").hidden = !s.mode.simulator;
      const safe = $("safe-btn");
      safe.textContent = `Safe mode: ${s.mode.safe ? "on" : "off"}`;
      safe.classList.toggle("on", !!s.mode.safe);
    },
    risk(s) {
      const st = s.risk.state || "—";
      const chip = $("risk");
      chip.textContent = "risk " + st;
      chip.className = "chip risk " + (st === "ACTIVE" ? "ok" : st === "HALTED" ? "bad" : "warn");
      kv($("risk-detail"), [["state", st], ["margin use", share(s.risk.margin_utilisation_percent)],
        ["losing streak", String(s.risk.losing_streak ?? 0)],
        ["why", (s.risk.reasons && s.risk.reasons[0]) || s.risk.last_change || "—"]]);
    },
    account(s) { render.pnl(s); },
    pnl(s) {
      const p = s.pnl || {}, a = s.account || {}, hide = priv(s) || !isNum(p.session);
      const value = hide ? p.session_percent : p.session;
      $("pnl-main").textContent = hide ? pct(p.session_percent) : money(p.session);
      $("pnl-main").className = "big " + tone(value);
      $("pnl-sub").textContent = (hide ? "" : pct(p.session_percent) + " · ") + r(p.r_total) +
        ` · ${p.trades || 0} trades · ${p.wins || 0}W ${p.losses || 0}L` + (isNum(p.win_rate) ? ` (${p.win_rate.toFixed(0)}%)` : "");
      const series = (p.series || []).map((x) => [x[0], hide ? x[x.length === 2 ? 1 : 2] : x[1]]);
      FS.lineChart($("pnl-chart"), series, { width: 600, height: 120, zero: true, fill: true, tone: tone(value) });
      kv($("account"), hide ? [["margin use", share(a.margin_utilisation_percent)], ["R total", r(p.r_total)]] : [
        ["equity", plain(a.equity)], ["available", plain(a.available)], ["margin in use", plain(a.margin_in_use)],
        ["margin use", share(a.margin_utilisation_percent)], ["realized", money(p.realized)], ["unrealized", money(p.unrealized)]]);
    },
    positions(s) {
      const hide = priv(s);
      rows($("positions"), s.positions || [], (p) => [market(p.market), td(p.side === "BUY" ? "LONG" : "SHORT", "side-" + p.side),
        hide ? null : size(p.size), price(p.entry_price), price(p.mark_price),
        hide ? null : td(money(p.unrealized_pnl), tone(p.unrealized_pnl)), td(pct(p.roe), tone(p.roe)), td(r(p.r), tone(p.r)),
        price(p.stop_price), price(p.take_profit_price),
        isNum(p.liquidation_distance_percent) ? p.liquidation_distance_percent.toFixed(1) + "%" : "—"].filter((c) => c !== null),
        "flat — no open positions");
    },
    signal(s) {
      const g = s.signal;
      if (!g) return;
      $("sig-title").replaceChildren(el("span", { class: "side-" + g.side, text: g.side === "BUY" ? "LONG " : "SHORT " }),
        market(g.market) + " · " + (g.setup || "").replace(/_/g, " "));
      const c = Math.round((g.confidence || 0) * 100);
      $("sig-bar").style.width = c + "%";
      $("sig-conf").textContent = c + "% confidence";
      $("sig-reasons").replaceChildren(...(g.reasons || []).slice(0, 4).map((t) => el("li", { text: t })));
      $("sig-note").textContent = (g.acted ? "taken" : "skipped") + (g.note ? ": " + g.note : "");
    },
    fills(s) {
      const hide = priv(s);
      rows($("fills"), (s.fills || []).slice(0, 8), (f) => [clock(f.ts), market(f.market), td(f.side, "side-" + f.side),
        hide ? null : size(f.size), price(f.price), (f.purpose || "").toLowerCase()].filter((c) => c !== null), "no fills yet");
    },
    trades(s) {
      const hide = priv(s);
      rows($("trades"), (s.trades || []).slice(0, 8), (t) => [clock(t.ts), market(t.market), td(t.side === "BUY" ? "LONG" : "SHORT", "side-" + t.side),
        price(t.entry_price) + " → " + price(t.exit_price), hide ? null : td(money(t.net_pnl), tone(t.net_pnl)),
        td(pct(t.roe), tone(t.roe)), td(r(t.r), tone(t.r)), t.reason].filter((c) => c !== null), "no closed trades yet");
    },
    orders(s) {
      const hide = priv(s);
      rows($("orders"), (s.orders || []).slice(0, 8), (o) => [clock(o.ts), market(o.market), td(o.side, "side-" + o.side), o.type,
        o.status, hide ? null : size(o.size), price(o.price), td(o.note || "", "note")].filter((c) => c !== null), "no orders yet");
    },
    markets(s) {
      const host = $("markets");
      for (const [sym, m] of Object.entries(s.markets || {})) {
        let box = host.querySelector(`[data-market="${sym}"]`);
        if (!box) {
          box = el("div", { "data-market": sym }, el("div", { class: "mkt-head" }), el("div", { class: "chart-box" }));
          host.append(box);
        }
        box.firstChild.replaceChildren(el("b", { text: market(sym) }), el("span", { class: "px", text: price(m.price) }),
          el("span", { class: "muted", text: "spread " + (isNum(m.spread_bps) ? m.spread_bps.toFixed(2) + " bps" : "—") }),
          el("span", { class: "muted", text: "imbalance " + (isNum(m.imbalance) ? (m.imbalance * 100).toFixed(0) + "%" : "—") }),
          el("span", { class: "muted", text: "funding " + (isNum(m.funding_rate) ? (m.funding_rate * 100).toFixed(4) + "%" : "—") }));
        const markers = (s.markers || []).filter((k) => k.market === sym).map((k) => ({ x: k.ts, y: k.price, kind: k.kind, side: k.side }));
        FS.lineChart(box.lastChild, m.series || [], { width: 500, height: 90, markers });
      }
    },
    connection(s) {
      const c = s.connection || {};
      const link = $("link");
      link.textContent = c.ok === false ? "venue disconnected" : "venue connected";
      link.className = "chip link " + (c.ok === false ? "bad" : "ok");
    },
  };
  const ORDER = ["mode", "risk", "account", "pnl", "positions", "signal", "fills", "trades", "orders", "markets", "connection"];
  let marketsPending = false;

  function toast(text, cls = "") {
    const t = el("div", { class: "toast " + cls, text });
    $("toasts").prepend(t);
    while ($("toasts").children.length > 4) $("toasts").lastElementChild.remove();
    setTimeout(() => t.remove(), 6000);
  }

  FS.connect({
    onState(state, changed, events) {
      current = state;
      if (changed.has("market_points") || changed.has("market_quotes") || changed.has("markers")) changed.add("markets");
      for (const name of ORDER) if (changed.has(name) && state[name] !== undefined) {
        if (name === "markets") {  // charts at most once per animation frame
          if (!marketsPending) { marketsPending = true; requestAnimationFrame(() => { marketsPending = false; render.markets(current); }); }
        } else render[name](state);
      }
      for (const e of events) {
        if (e.kind === "trade_closed") toast(`closed ${market(e.market)}: ` + (priv(state) || !isNum(e.net_pnl) ? `${pct(e.roe)} · ${r(e.r)}` : `${money(e.net_pnl)} (${pct(e.roe)})`), tone(e.roe));
        else if (e.kind === "control" || e.kind === "risk_state") toast(e.text || e.state);
      }
    },
    onStatus(s) { if (s !== "live") { const l = $("link"); l.textContent = "dashboard offline · reconnecting"; l.className = "chip link bad"; } },
  });

  // ---- controls --------------------------------------------------------------------------------
  const CONFIRM = {
    pause: "Pause new entries? Open positions stay managed.",
    resume: "Resume trading (risk state back to ACTIVE if nothing else holds it)?",
    "safe-mode": "Toggle safe mode (caps leverage, size and position count)?",
    flatten: "EMERGENCY FLATTEN: cancel every order and close every position at market, then halt?",
    drop: "Drop the simulated venue connection?", jump: "Move the simulated price 3% down?",
    "rate-limit": "Make the next 20 REST requests answer 429?", liquidate: "Liquidate the simulated account?",
  };
  async function post(path, body, label) {
    const msg = $("control-msg");
    const token = $("token").value.trim();
    try {
      const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Control-Token": token },
                                      body: JSON.stringify(body || {}) });
      const data = await res.json().catch(() => ({}));
      if (res.ok) { msg.className = "control-msg done"; msg.textContent = "✓ " + (data.done || label); }
      else {
        msg.className = "control-msg refused";
        msg.textContent = (res.status === 401 ? "refused (401): enter the control token" :
          res.status === 403 ? "refused (403): wrong control token" : `refused (${res.status}): ${data.detail || ""}`);
      }
    } catch (e) { msg.className = "control-msg refused"; msg.textContent = "dashboard offline"; }
  }
  document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => {
    const action = b.dataset.action;
    if (!window.confirm(CONFIRM[action])) return;
    const body = action === "safe-mode" ? { on: !(current && current.mode && current.mode.safe) } : {};
    post("/api/control/" + action, body, b.textContent);
  }));
  document.querySelectorAll("[data-whatif]").forEach((b) => b.addEventListener("click", () => {
    const what = b.dataset.whatif;
    if (!window.confirm(CONFIRM[what])) return;
    const first = current && Object.keys(current.markets || {})[0];
    const body = what === "jump" ? { market: first, fraction: -0.03 } : what === "rate-limit" ? { count: 20 } : {};
    post("/api/whatif/" + what, body, b.textContent);
  }));
})();
