"""Signed Aster routes of the simulator: account reads, leverage/margin type, orders, listenKey.

V1 paths (``/fapi/v1``, ``/fapi/v2`` balance/positionRisk/account, ``/fapi/v4/account``) take HMAC; the same
routes under ``/fapi/v3`` take EIP-712 agent signatures (the gate decides by the path).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from flashscalper.domain import Order, OrderRequest, OrderStatus, TriggerSource
from flashscalper.exchanges.aster.errors import AsterApiError
from flashscalper.exchanges.aster.mapping import (
    account_to_json,
    balance_to_json,
    fill_to_user_trade,
    order_request_from_params,
    position_to_risk,
)
from flashscalper.sim.aster.filters import check_order
from flashscalper.sim.aster.gate import SIGNED, USER_STREAM, AsterCall, Gate
from flashscalper.sim.aster.registry import OrderExtras
from flashscalper.sim.aster.render import balance_view, fill_view, order_json, position_view
from flashscalper.sim.orders import CancelReason, OrderValidationError, SimOrderNotFound

if TYPE_CHECKING:
    from flashscalper.sim.aster.registry import AsterRegistry

# engine closing reasons that Aster answers synchronously with an error instead of an order
_REJECT_CODES = {
    CancelReason.NOT_ENOUGH_MARGIN: -2019,
    CancelReason.ORDER_EXCEEDS_POSITION_LIMIT: -2027,
    CancelReason.MAX_OPEN_ORDERS_EXCEEDED: -2025,
    CancelReason.REDUCE_ONLY_WOULD_INCREASE: -2022,
}
_ENGINE_CODES = {"DUPLICATED_CLIENT_ID": -4116, "MARKET_NOT_FOUND": -1121}
MAX_LEVERAGE = 125


def _engine_error(exc: OrderValidationError) -> AsterApiError:
    code = _ENGINE_CODES.get(exc.code)
    if code is not None:
        return AsterApiError(code, "ClientOrderId is duplicated." if code == -4116 else None)
    if "notional" in exc.message:
        return AsterApiError(-4164)
    return AsterApiError(-2010, f"New order rejected: {exc.message}")


def register_trading(app: web.Application, reg: AsterRegistry, gate: Gate, prefix: str) -> None:
    sim, ex = reg.sim, reg.sim.exchange

    def route(method: str, paths: tuple[str, ...], handler: Any) -> None:
        for path in paths:
            app.router.add_route(method, f"{prefix}/fapi/{path}", handler)

    def symbol_of(call: AsterCall) -> tuple[str, str]:
        symbol = call.require("symbol").upper()
        return symbol, reg.engine_symbol(symbol)

    def positions(account: str, symbol: str | None = None) -> list[Any]:
        rows = []
        for pos in ex.positions(account):
            view = position_view(reg, pos)
            if symbol is None or view.market == symbol:
                margin = reg.margin_types.get((account, view.market), "cross")
                rows.append(position_to_risk(view, margin_type=margin))
        held = {r["symbol"] for r in rows}
        for sym, engine in ((s, reg.engine_symbol(s)) for s in reg.rules):
            if sym not in held and (symbol is None or sym == symbol):
                rows.append(position_to_risk(position_view(reg, ex.position(account, engine))))
        return rows

    @gate.endpoint(5, SIGNED)
    async def account(_: web.Request, call: AsterCall) -> Any:
        acct = call.account_id
        views = [position_view(reg, ex.position(acct, reg.engine_symbol(s))) for s in reg.rules]
        return account_to_json(balance_view(ex.account_summary(acct)), views)

    @gate.endpoint(5, SIGNED)
    async def balance(_: web.Request, call: AsterCall) -> Any:
        return [balance_to_json(balance_view(ex.account_summary(call.account_id)))]

    @gate.endpoint(5, SIGNED)
    async def position_risk(_: web.Request, call: AsterCall) -> Any:
        symbol = symbol_of(call)[0] if "symbol" in call.params else None
        return positions(call.account_id, symbol)

    @gate.endpoint(1, SIGNED)
    async def leverage(_: web.Request, call: AsterCall) -> Any:
        symbol, engine = symbol_of(call)
        raw = call.require("leverage")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LEVERAGE:
            raise AsterApiError(-4028)
        if Decimal(raw) > ex.specs[engine].max_leverage:
            raise AsterApiError(-4028, f"Leverage {raw} is above the maximum {ex.specs[engine].max_leverage}.")
        ex.set_leverage(call.account_id, engine, Decimal(raw))
        return {"leverage": int(raw), "maxNotionalValue": "1000000", "symbol": symbol}

    @gate.endpoint(1, SIGNED)
    async def margin_type(_: web.Request, call: AsterCall) -> Any:
        symbol, _engine = symbol_of(call)
        wanted = call.require("marginType").upper()
        if wanted not in ("ISOLATED", "CROSSED"):
            raise AsterApiError(-1102, "marginType must be ISOLATED or CROSSED.")
        key = (call.account_id, symbol)
        new = "isolated" if wanted == "ISOLATED" else "cross"
        if reg.margin_types.get(key, "cross") == new:
            raise AsterApiError(-4046)
        reg.margin_types[key] = new
        return {"code": 200, "msg": "success"}

    @gate.endpoint(1, SIGNED, order=True)
    async def new_order(_: web.Request, call: AsterCall) -> Any:
        symbol, engine = symbol_of(call)
        parsed = order_request_from_params(call.params)
        rules = reg.rules[symbol]
        check_order(rules, parsed, mark=ex.mark_price(engine), last=ex.last_price(engine))
        acct = call.account_id
        if parsed.client_id and any(o.client_id == parsed.client_id for o in ex.open_orders(acct)):
            raise AsterApiError(-4116, "ClientOrderId is duplicated.")
        client_id = parsed.client_id or f"sim-{sim.clock.time_ms()}-{len(reg.extras)}"
        request = OrderRequest(engine, parsed.side, parsed.type, parsed.size, client_id, parsed.price,
                               parsed.trigger_price, parsed.tif, parsed.reduce_only, parsed.close_position)
        source = TriggerSource.MARK if call.params.get("workingType") == "MARK_PRICE" else TriggerSource.LAST
        try:
            order = ex.submit_order(acct, request, trigger_source=source)
        except OrderValidationError as exc:
            raise _engine_error(exc) from None
        reg.extras[order.id] = OrderExtras(close_position=parsed.close_position)
        code = _REJECT_CODES.get(order.cancel_reason) if order.status is OrderStatus.REJECTED else None
        if code is not None:
            reg.hide(order.id)  # Aster rejects synchronously: no order, no stream event
            raise AsterApiError(code)
        return order_json(reg, order)

    def find(call: AsterCall, engine: str) -> Order:
        acct = call.account_id
        order_id, client_id = call.params.get("orderId"), call.params.get("origClientOrderId")
        if not order_id and not client_id:
            raise AsterApiError(-1102, "Either orderId or origClientOrderId must be sent.")
        if order_id:
            try:
                order = ex.get_order(order_id, acct)
            except SimOrderNotFound:
                raise AsterApiError(-2013) from None
        else:
            order = next((o for o in reversed(ex.order_history(acct, engine)) if o.client_id == client_id), None)
            if order is None:
                raise AsterApiError(-2013)
        if order.market != engine or reg.extras_of(order.id).hidden:
            raise AsterApiError(-2013)
        return order

    @gate.endpoint(1, SIGNED)
    async def get_order(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        return order_json(reg, find(call, engine))

    @gate.endpoint(1, SIGNED, order=True)
    async def cancel_order(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        try:
            order = find(call, engine)
        except AsterApiError:
            raise AsterApiError(-2011) from None
        if order.status.is_terminal:
            raise AsterApiError(-2011)
        return order_json(reg, ex.cancel_order(call.account_id, order.id))

    @gate.endpoint(1, SIGNED)
    async def open_orders(_: web.Request, call: AsterCall) -> Any:
        engine = symbol_of(call)[1] if "symbol" in call.params else None
        return [order_json(reg, o) for o in ex.open_orders(call.account_id, engine)]

    @gate.endpoint(1, SIGNED)
    async def cancel_all(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        ex.cancel_all(call.account_id, engine)
        return {"code": "200", "msg": "The operation of cancel all open order is done."}

    @gate.endpoint(5, SIGNED)
    async def user_trades(_: web.Request, call: AsterCall) -> Any:
        _symbol, engine = symbol_of(call)
        now = sim.clock.time_ms()
        start = int(call.params.get("startTime") or now - 7 * 86_400_000)
        end = int(call.params.get("endTime") or now)
        from_id = call.params.get("fromId")
        limit = min(int(call.params.get("limit") or 500), 1000)
        rows = []
        for event in ex.fills(call.account_id, engine):
            fill = event.fill
            if from_id is not None:
                if int(fill.id) < int(from_id):
                    continue
            elif not start <= fill.ts <= end:
                continue
            rows.append(fill_to_user_trade(fill_view(reg, fill)))
        return rows[:limit] if from_id is not None else rows[-limit:]

    @gate.endpoint(1, USER_STREAM)
    async def listen_key_new(_: web.Request, call: AsterCall) -> Any:
        return {"listenKey": reg.listen_key_for(call.account_id).key}

    @gate.endpoint(1, USER_STREAM)
    async def listen_key_keep(_: web.Request, call: AsterCall) -> Any:
        reg.keep_alive(call.account_id, call.params.get("listenKey"))
        return {}

    @gate.endpoint(1, USER_STREAM)
    async def listen_key_close(_: web.Request, call: AsterCall) -> Any:
        reg.close_listen_key(call.account_id, call.params.get("listenKey"))
        return {}

    for path in ("v2/account", "v4/account", "v3/account", "v3/accountWithJoinMargin"):
        route("GET", (path,), account)
    route("GET", ("v2/balance", "v3/balance"), balance)
    route("GET", ("v2/positionRisk", "v3/positionRisk"), position_risk)
    route("POST", ("v1/leverage", "v3/leverage"), leverage)
    route("POST", ("v1/marginType", "v3/marginType"), margin_type)
    route("POST", ("v1/order", "v3/order"), new_order)
    route("GET", ("v1/order", "v3/order"), get_order)
    route("DELETE", ("v1/order", "v3/order"), cancel_order)
    route("GET", ("v1/openOrders", "v3/openOrders"), open_orders)
    route("DELETE", ("v1/allOpenOrders", "v3/allOpenOrders"), cancel_all)
    route("GET", ("v1/userTrades", "v3/userTrades"), user_trades)
    route("POST", ("v1/listenKey", "v3/listenKey"), listen_key_new)
    route("PUT", ("v1/listenKey", "v3/listenKey"), listen_key_keep)
    route("DELETE", ("v1/listenKey", "v3/listenKey"), listen_key_close)
