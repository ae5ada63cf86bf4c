// FlashScalper overlays: trades (toasts), pnl (ticker), positions, signal. Privacy clients receive
// no money or sizes from the server at all; these renderers show "%" and "R" instead.
"use strict";

const FSOverlay = (() => {
  const { el, pct, r, money, price, tone, market, size, isNum } = FS;
  const hideMoney = (state) => FS.privacy || (state && state.mode && state.mode.privacy);

  function trades(host) {
    const seen = new Set();
    const MAX = 5, LIFETIME_MS = 12000;
    function add(node) {
      host.prepend(node);
      while (host.children.length > MAX) host.lastElementChild.remove();
      setTimeout(() => { node.classList.add("fade"); setTimeout(() => node.remove(), 700); }, LIFETIME_MS);
    }
    function fillToast(e, priv) {
      const verb = e.purpose === "ENTRY" ? "ENTRY" : e.purpose === "EXTERNAL" ? "FILL" : "EXIT";
      const qty = priv || !isNum(e.size) ? "" : size(e.size) + " ";
      return el("div", { class: "toast panel fill", "data-kind": "fill", "data-fill-id": e.id || "" },
        el("span", { class: "kind", text: verb }),
        el("span", { class: "what" }, el("span", { class: "side-" + e.side, text: e.side === "BUY" ? "BUY " : "SELL " }),
          qty + market(e.market), el("small", { text: "@ " + price(e.price) })),
        el("span", { class: "amount muted", text: (e.liquidity || "").toLowerCase() }));
    }
    function closeToast(e, priv) {
      const t = tone(isNum(e.net_pnl) ? e.net_pnl : e.roe);
      const main = priv || !isNum(e.net_pnl) ? pct(e.roe) : money(e.net_pnl);
      const sub = priv || !isNum(e.net_pnl) ? r(e.r) : pct(e.roe) + " · " + r(e.r);
      return el("div", { class: `toast panel closed ${t}`, "data-kind": "trade_closed" },
        el("span", { class: "kind", text: e.reason || "CLOSED" }),
        el("span", { class: "what" }, market(e.market) + " " + (e.side === "BUY" ? "long" : "short") + " closed",
          el("small", { text: price(e.entry_price) + " → " + price(e.exit_price) })),
        el("span", { class: "amount " + t }, main, el("small", { text: sub })));
    }
    FS.connect({
      onState(state, changed, events) {
        const priv = hideMoney(state);
        for (const e of events) {
          if (e.kind === "fill") {
            if (e.id && seen.has(e.id)) continue;
            if (e.id) seen.add(e.id);
            add(fillToast(e, priv));
          } else if (e.kind === "trade_closed") add(closeToast(e, priv));
        }
      },
    });
  }

  function pnl() {
    const main = document.getElementById("pnl-main"), side = document.getElementById("pnl-side");
    const spark = document.getElementById("pnl-spark");
    let last = null;
    FS.connect({
      onState(state, changed) {
        if (!changed.has("pnl") && !changed.has("mode")) return;
        const p = state.pnl || {}, priv = hideMoney(state) || !isNum(p.session);
        const value = priv ? p.session_percent : p.session;
        const text = priv ? pct(p.session_percent) : money(p.session);
        main.textContent = text;
        main.className = "pnl-main " + tone(value);
        if (last !== null && last !== text) { main.classList.add("flash"); setTimeout(() => main.classList.remove("flash"), 500); }
        last = text;
        const wl = `${p.wins || 0}W ${p.losses || 0}L`;
        side.textContent = priv ? `${r(p.r_total)} · ${wl}` : `${pct(p.session_percent)} · ${r(p.r_total)} · ${wl}`;
        const series = (p.series || []).map((s) => [s[0], priv ? s[s.length === 2 ? 1 : 2] : s[1]]);
        FS.lineChart(spark, series, { width: 300, height: 40, zero: true, fill: true, tone: tone(value) });
      },
    });
  }

  function positions(host) {
    FS.connect({
      onState(state, changed) {
        if (!changed.has("positions")) return;
        const priv = hideMoney(state);
        const rows = (state.positions || []).map((p) => el("div", { class: "pos", "data-market": p.market },
          el("span", { class: "mkt", text: market(p.market) }),
          el("span", { class: "side side-" + p.side, text: p.side === "BUY" ? "LONG" : "SHORT" }),
          el("span", { class: "px", text: (priv ? "" : size(p.size) + " @ ") + price(p.entry_price) + " → " + price(p.mark_price) }),
          el("span", { class: "pl " + tone(p.roe) }, priv || !isNum(p.unrealized_pnl) ? pct(p.roe) : money(p.unrealized_pnl),
            el("small", { text: priv ? r(p.r) : pct(p.roe) }))));
        host.replaceChildren(...(rows.length ? rows : [el("div", { class: "empty", text: "flat — no open positions" })]));
      },
    });
  }

  function signal() {
    const title = document.getElementById("sig-title"), bar = document.getElementById("sig-bar");
    const conf = document.getElementById("sig-conf"), reason = document.getElementById("sig-reason");
    FS.connect({
      onState(state, changed) {
        if (!changed.has("signal")) return;
        const s = state.signal;
        if (!s) return;
        title.replaceChildren(el("span", { class: "side-" + s.side, text: s.side === "BUY" ? "LONG " : "SHORT " }),
          market(s.market) + (s.setup ? " · " + s.setup.replace(/_/g, " ") : ""));
        const c = Math.round((s.confidence || 0) * 100);
        bar.style.width = c + "%";
        conf.textContent = `${c}% confidence${s.acted ? " · taken" : ""}`;
        reason.textContent = (s.reasons && s.reasons[0]) || "";
      },
    });
  }

  return { trades, pnl, positions, signal };
})();
