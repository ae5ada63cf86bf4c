"""The simulator's Aster REST dialect under ``/aster`` (protocol/aster.md §4–§8, §10, §12).

``register(app, sim)`` mounts the public market data here and the signed account/trading routes from
:mod:`flashscalper.sim.aster.trading`, plus ``POST /admin/aster/keys`` (new V1 key pair) and
``POST /admin/aster/agents`` (approve a V3 agent). Public paths exist under ``/fapi/v1`` and ``/fapi/v3``.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from flashscalper.domain import ZERO
from flashscalper.exchanges.aster.errors import AsterApiError
from flashscalper.exchanges.aster.mapping import (
    book_to_depth_snapshot,
    exchange_info_to_json,
    trade_to_agg_trade,
)
from flashscalper.sim.admin import json_body
from flashscalper.sim.aster.gate import AsterCall, Gate, json_response
from flashscalper.sim.aster.registry import AsterRegistry, registry_of
from flashscalper.sim.aster.render import trade_view
from flashscalper.sim.aster.streams import depth_update_id
from flashscalper.sim.aster.trading import register_trading

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator

PREFIX = "/aster"
DEPTH_LIMITS = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}  # limit -> weight
INTERVAL_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
               "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000,
               "1d": 86_400_000, "3d": 259_200_000, "1w": 604_800_000}


def int_param(call: AsterCall, key: str, default: int, low: int, high: int) -> int:
    raw = call.params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AsterApiError(-1102, f"Parameter '{key}' was malformed.") from None
    if not low <= value <= high:
        raise AsterApiError(-1102, f"Parameter '{key}' must be between {low} and {high}.")
    return value


def register(app: web.Application, sim: Simulator) -> None:
    """Mount the Aster REST dialect on ``app``."""
    reg = registry_of(sim)
    gate = Gate(reg)
    _register_public(app, reg, gate)
    register_trading(app, reg, gate, PREFIX)
    _register_admin(app, reg)


def _both(app: web.Application, method: str, path: str, handler: Any) -> None:
    for version in ("v1", "v3"):
        app.router.add_route(method, f"{PREFIX}/fapi/{version}/{path}", handler)


def _register_public(app: web.Application, reg: AsterRegistry, gate: Gate) -> None:
    sim, ex = reg.sim, reg.sim.exchange

    def symbol_of(call: AsterCall) -> tuple[str, str]:
        symbol = call.require("symbol").upper()
        return symbol, reg.engine_symbol(symbol)

    @gate.endpoint(1)
    async def ping(_: web.Request, __: AsterCall) -> Any:
        return {}

    @gate.endpoint(1)
    async def server_time(_: web.Request, __: AsterCall) -> Any:
        return {"serverTime": sim.clock.time_ms()}

    @gate.endpoint(1)
    async def exchange_info(_: web.Request, __: AsterCall) -> Any:
        return exchange_info_to_json(reg.rules.values(), sim.clock.time_ms())

    async def depth(request: web.Request) -> web.Response:
        limit = request.query.get("limit", "500")
        weight = DEPTH_LIMITS.get(int(limit)) if limit.isdigit() else None
        return await gate.endpoint(weight or 1)(depth_handler)(request)

    async def depth_handler(_: web.Request, call: AsterCall) -> Any:
        limit = int(call.params.get("limit", "500"))
        if limit not in DEPTH_LIMITS:
            raise AsterApiError(-1102, f"Parameter 'limit' must be one of {sorted(DEPTH_LIMITS)}.")
        _symbol, engine = symbol_of(call)
        book = ex.book_snapshot(engine, limit)
        now = sim.clock.time_ms()
        return book_to_depth_snapshot(book, last_update_id=depth_update_id(book.seq_no), event_time=now)

    @gate.endpoint(1)
    async def book_ticker(_: web.Request, call: AsterCall) -> Any:
        def row(symbol: str) -> dict[str, Any]:
            quote = ex.bbo(reg.engine_symbol(symbol))
            now = sim.clock.time_ms()
            if quote is None:
                return {"symbol": symbol, "bidPrice": "0", "bidQty": "0", "askPrice": "0", "askQty": "0", "time": now}
            return {"symbol": symbol, "bidPrice": f"{quote.bid:f}", "bidQty": f"{quote.bid_size:f}",
                    "askPrice": f"{quote.ask:f}", "askQty": f"{quote.ask_size:f}", "time": now}

        if "symbol" in call.params:
            return row(symbol_of(call)[0])
        return [row(s) for s in reg.rules]

    @gate.endpoint(1)
    async def ticker_price(_: web.Request, call: AsterCall) -> Any:
        symbol, engine = symbol_of(call)
        price = ex.last_price(engine) or ex.mark_price(engine)
        return {"symbol": symbol, "price": f"{price:f}", "time": sim.clock.time_ms()}

    def premium(symbol: str) -> dict[str, Any]:
        engine = reg.engine_symbol(symbol)
        mark = ex.mark_price(engine)
        history = ex.funding_history(engine)
        rate = history[-1].rate if history else ZERO
        next_funding = getattr(ex, "_next_funding_ms", 0)
        return {"symbol": symbol, "markPrice": f"{mark:f}", "indexPrice": f"{mark:f}",
                "estimatedSettlePrice": f"{mark:f}", "lastFundingRate": f"{rate:f}",
                "nextFundingTime": next_funding, "interestRate": "0", "time": sim.clock.time_ms()}

    @gate.endpoint(1)
    async def premium_index(_: web.Request, call: AsterCall) -> Any:
        if "symbol" in call.params:
            return premium(symbol_of(call)[0])
        return [premium(s) for s in reg.rules]

    @gate.endpoint(1)
    async def funding_rate(_: web.Request, call: AsterCall) -> Any:
        limit = int_param(call, "limit", 100, 1, 1000)
        symbols = [symbol_of(call)[0]] if "symbol" in call.params else list(reg.rules)
        rows = [{"symbol": s, "fundingRate": f"{row.rate:f}", "fundingTime": row.ts}
                for s in symbols for row in ex.funding_history(reg.engine_symbol(s))]
        rows.sort(key=lambda r: r["fundingTime"])
        return rows[-limit:]

    @gate.endpoint(1)
    async def trades(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        limit = int_param(call, "limit", 500, 1, 1000)
        return [{"id": int(t.trade.id), "price": f"{t.trade.price:f}", "qty": f"{t.trade.size:f}",
                 "quoteQty": f"{t.trade.price * t.trade.size:f}", "time": t.trade.ts,
                 "isBuyerMaker": t.trade.taker_side.value == "SELL"} for t in ex.recent_trades(engine, limit)]

    @gate.endpoint(20)
    async def agg_trades(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        limit = int_param(call, "limit", 500, 1, 1000)
        start = int_param(call, "startTime", 0, 0, 1 << 62)
        end = int_param(call, "endTime", 1 << 62, 0, 1 << 62)
        from_id = int_param(call, "fromId", 0, 0, 1 << 62)
        rows = [t.trade for t in ex.recent_trades(engine, 1000)
                if start <= t.trade.ts <= end and int(t.trade.id) >= from_id]
        out = []
        for trade in rows[:limit] if from_id else rows[-limit:]:
            tid = int(trade.id)
            out.append({k: v for k, v in trade_to_agg_trade(trade_view(reg, trade), first_trade_id=tid,
                                                              last_trade_id=tid).items()
                        if k not in ("e", "E", "s")})
        return out

    @gate.endpoint(5)
    async def klines(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        interval = call.require("interval")
        if interval not in INTERVAL_MS:
            raise AsterApiError(-1102, f"Invalid interval {interval!r}.")
        size = INTERVAL_MS[interval]
        limit = int_param(call, "limit", 500, 1, 1500)
        buckets: OrderedDict[int, list[Any]] = OrderedDict()
        for event in ex.recent_trades(engine, 1000):
            t = event.trade
            open_time = t.ts - t.ts % size
            row = buckets.get(open_time)
            if row is None:
                buckets[open_time] = [open_time, t.price, t.price, t.price, t.price, ZERO, open_time + size - 1,
                                      ZERO, 0, ZERO, ZERO, "0"]
                row = buckets[open_time]
            row[2], row[3], row[4] = max(row[2], t.price), min(row[3], t.price), t.price
            row[5] += t.size
            row[7] += t.size * t.price
            row[8] += 1
            if t.taker_side.value == "BUY":
                row[9] += t.size
                row[10] += t.size * t.price
        return [[f"{v:f}" if isinstance(v, Decimal) else v for v in row] for row in list(buckets.values())[-limit:]]

    for path, handler in (("ping", ping), ("time", server_time), ("exchangeInfo", exchange_info), ("depth", depth),
                          ("ticker/bookTicker", book_ticker), ("ticker/price", ticker_price),
                          ("premiumIndex", premium_index), ("fundingRate", funding_rate), ("trades", trades),
                          ("aggTrades", agg_trades), ("klines", klines)):
        _both(app, "GET", path, handler)


def _register_admin(app: web.Application, reg: AsterRegistry) -> None:
    async def new_key(request: web.Request) -> web.Response:
        data = await json_body(request)
        key, secret, account = reg.add_api_key(data.get("api_key"), data.get("api_secret"), data.get("account"))
        return json_response({"api_key": key, "api_secret": secret, "account": account})

    async def new_agent(request: web.Request) -> web.Response:
        data = await json_body(request)
        user, agent = str(data.get("user", "")), str(data.get("agent", ""))
        if not (user.startswith("0x") and agent.startswith("0x") and len(user) == len(agent) == 42):
            return json_response({"error": "BAD_REQUEST", "message": "user and agent must be 0x addresses"}, 400)
        reg.add_agent(user, agent)
        reg.v3_account(user)
        return json_response({"user": user, "agent": agent})

    async def listen_key_lifetime(request: web.Request) -> web.Response:
        data = await json_body(request)
        reg.listen_key_lifetime_ms = int(data.get("ms", reg.listen_key_lifetime_ms))
        return json_response({"listen_key_lifetime_ms": reg.listen_key_lifetime_ms})

    app.router.add_post("/admin/aster/keys", new_key)
    app.router.add_post("/admin/aster/agents", new_agent)
    app.router.add_post("/admin/aster/listen-key-lifetime", listen_key_lifetime)


__all__ = ["PREFIX", "register"]
