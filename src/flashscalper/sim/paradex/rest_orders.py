"""Order routes of the Paradex REST dialect: create (single and batch), modify, cancel, and queries.

``POST /orders`` answers 201 with the order as accepted (status NEW). Shape, timestamp and signature
problems are HTTP 400s; risk rejections (margin, position limit, post-only crossing) are not errors: the
order closes with a ``cancel_reason`` that shows on ``GET /orders-history`` and the WS ``orders`` channel.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from flashscalper.domain import Order, OrderStatus, OrderType
from flashscalper.sim.orders import OrderValidationError, SimOrderNotFound
from flashscalper.sim.paradex import render
from flashscalper.sim.paradex.orders_in import (
    VENUE_TYPES,
    IncomingOrder,
    check_timestamp,
    parse_common,
    parse_order,
    verify_modify,
    verify_order,
)
from flashscalper.sim.paradex.registry import ParadexAccount
from flashscalper.sim.paradex.wire import ACCOUNT, ApiError, bad, decimal_field, json_body, json_object, json_response

if TYPE_CHECKING:
    from flashscalper.sim.paradex.rest import Dialect

MAX_BATCH = 10  # the spec's bound for POST /orders/batch
_OPEN_LIKE = frozenset({OrderStatus.NEW, OrderStatus.OPEN})


def register_orders(d: Dialect) -> None:
    """Mount the order routes (batch paths before ``{order_id}`` so they win the match)."""
    from flashscalper.sim.paradex.rest import ORDERS, PRIVATE_GET

    sim, ex, registry = d.sim, d.sim.exchange, d.registry

    def account_of(request: web.Request) -> ParadexAccount:
        account = registry.by_id(request[ACCOUNT])
        if account is None:
            raise ApiError(401, "NOT_ONBOARDED", "User has never called /onboarding endpoint")
        return account

    def rendered(order: Order, account: str) -> dict[str, Any]:
        return render.order(order, registry.meta(order.id, account), account=account)

    def accept(account: ParadexAccount, incoming: IncomingOrder) -> dict[str, Any]:
        with registry.submitting(incoming.meta):
            order = ex.submit_order(account.id, incoming.request, stp=incoming.stp)
        registry.remember(order.id, incoming.meta)
        return render.order_ack(order, incoming.meta)

    def incoming_order(body: Any, account: ParadexAccount) -> IncomingOrder:
        now = sim.clock.time_ms()
        incoming = parse_order(body, ex.specs, account.id, now)
        check_timestamp(incoming.timestamp_ms, incoming.recv_window_ms, now)
        verify_order(incoming, registry.chain_id, account)
        return incoming

    async def hold_ack() -> None:
        delay = sim.faults.settings.ack_delay_ms
        if delay > 0:
            await asyncio.sleep(delay / 1000)

    async def create(request: web.Request) -> web.Response:
        account = account_of(request)
        incoming = incoming_order(await json_body(request), account)
        ack = accept(account, incoming)
        await hold_ack()
        return json_response(ack, status=201)

    async def create_batch(request: web.Request) -> web.Response:
        account = account_of(request)
        body = await json_body(request)
        if isinstance(body, dict) and isinstance(body.get("orders"), list):
            body = body["orders"]
        if not isinstance(body, list):
            raise bad("BINDING_ERROR", "body must be a JSON array of orders")
        if not 1 <= len(body) <= MAX_BATCH:
            raise bad("BATCH_SIZE_OUT_OF_RANGE", f"a batch holds 1 to {MAX_BATCH} orders, got {len(body)}")
        # any shape or signature problem rejects the whole batch; risk checks then run order by order
        incoming = [incoming_order(item, account) for item in body]
        orders, errors = [], []
        for index, item in enumerate(incoming):
            try:
                orders.append(accept(account, item))
            except OrderValidationError as exc:
                errors.append(render.error(exc.code, exc.message, {"index": index,
                                                                    "client_id": item.request.client_id}))
        await hold_ack()
        return json_response({"orders": orders, "errors": errors}, status=201)

    async def modify(request: web.Request) -> web.Response:
        account = account_of(request)
        order_id = request.match_info["order_id"]
        body = await json_object(request)
        if str(body.get("id", order_id)) != order_id:
            raise bad("VALIDATION_ERROR", "id in the body differs from the order id in the path")
        current = _own_order(ex, account.id, order_id)
        if current.status.is_terminal:
            raise bad("ORDER_IS_CLOSED", f"order {order_id} is closed")
        meta = registry.meta(order_id, account.id)
        market, side, venue_type, timestamp, recv_window, signature = parse_common(body, ex.specs)
        original_type = meta.venue_type if meta else current.type.value
        if market != current.market or side is not current.side or venue_type != original_type:
            raise bad("VALIDATION_ERROR", "market, side and type of a modified order must stay the same")
        if current.status is not OrderStatus.UNTRIGGERED and current.type is not OrderType.LIMIT:
            raise bad("VALIDATION_ERROR", "only LIMIT orders and untriggered TP/SL orders can be modified")
        now = sim.clock.time_ms()
        check_timestamp(timestamp, recv_window, now)
        verify_modify(body, registry.chain_id, account, order_id, market, side, venue_type, timestamp, signature)
        order_type = VENUE_TYPES[venue_type]
        size = decimal_field(body, "size")
        price = decimal_field(body, "price", required=False) if order_type.has_limit_price else None
        trigger = decimal_field(body, "trigger_price", required=False) if order_type.is_conditional else None
        order = ex.modify_order(account.id, order_id, size=size, price=price, trigger_price=trigger or None)
        row = rendered(order, account.id)
        row["request_info"] = {"id": order_id, "request_type": "MODIFY_ORDER", "status": row["status"],
                               "message": ""}
        await hold_ack()
        return json_response(row)

    async def cancel(request: web.Request) -> web.Response:
        ex.cancel_order(account_of(request).id, request.match_info["order_id"])
        await hold_ack()
        return web.Response(status=204)

    async def cancel_by_client_id(request: web.Request) -> web.Response:
        market = d.market(request.query.get("market"), required=False)
        ex.cancel_order_by_client_id(account_of(request).id, request.match_info["client_id"], market)
        await hold_ack()
        return web.Response(status=204)

    async def cancel_all(request: web.Request) -> web.Response:
        market = d.market(request.query.get("market"), required=False)
        ex.cancel_all(account_of(request).id, market)
        await hold_ack()
        return web.Response(status=200)

    async def cancel_batch(request: web.Request) -> web.Response:
        account = account_of(request)
        body = await json_object(request)
        order_ids, client_ids = body.get("order_ids") or [], body.get("client_order_ids") or []
        if not isinstance(order_ids, list) or not isinstance(client_ids, list):
            raise bad("BINDING_ERROR", "order_ids and client_order_ids must be arrays of strings")
        if not 1 <= len(order_ids) + len(client_ids) <= 100:
            raise bad("BATCH_SIZE_OUT_OF_RANGE", "cancel 1 to 100 orders per batch")
        results = [_cancel_one(ex, account.id, str(oid), None) for oid in order_ids]
        results += [_cancel_one(ex, account.id, None, str(cid)) for cid in client_ids]
        await hold_ack()
        return json_response({"results": results})

    async def open_orders(request: web.Request) -> web.Response:
        acct = account_of(request).id
        market = d.market(request.query.get("market"), required=False)
        return json_response({"results": [rendered(o, acct) for o in ex.open_orders(acct, market)]})

    async def get_order(request: web.Request) -> web.Response:
        acct = account_of(request).id
        order_id = request.match_info["order_id"]
        order = _own_order(ex, acct, order_id)
        if order.status not in _OPEN_LIKE:  # closed (and untriggered) orders live in orders-history
            raise ApiError(404, "ORDER_ID_NOT_FOUND", f"no NEW or OPEN order {order_id}; see /orders-history")
        return json_response(rendered(order, acct))

    async def get_by_client_id(request: web.Request) -> web.Response:
        acct = account_of(request).id
        client_id = request.match_info["client_id"]
        try:
            order = ex.get_order_by_client_id(acct, client_id)
        except SimOrderNotFound:
            order = None
        if order is None or order.status is not OrderStatus.OPEN:
            raise ApiError(404, "CLIENT_ORDER_ID_NOT_FOUND", f"no OPEN order with client id {client_id[:64]!r}")
        return json_response(rendered(order, acct))

    async def history(request: web.Request) -> web.Response:
        acct = account_of(request).id
        q = request.query
        market = d.market(q.get("market"), required=False)
        rows = [o for o in reversed(ex.order_history(acct, market))
                if (not q.get("client_id") or o.client_id == q["client_id"])
                and (not q.get("side") or o.side.value == q["side"])
                and (not q.get("status") or render.order_status(o) == q["status"])
                and (not q.get("type") or _venue_type(registry.meta(o.id), o) == q["type"])]
        return json_response(d.cursors.page(request, rows, lambda o: (o.created_at, int(o.id)),
                                            lambda o: rendered(o, acct)))

    d.route("POST", "/orders/batch", ORDERS, create_batch)
    d.route("DELETE", "/orders/batch", ORDERS, cancel_batch)
    d.route("POST", "/orders", ORDERS, create)
    d.route("DELETE", "/orders", ORDERS, cancel_all)
    d.route("GET", "/orders", PRIVATE_GET, open_orders)
    d.route("GET", "/orders-history", PRIVATE_GET, history)
    d.route("GET", "/orders/by_client_id/{client_id}", PRIVATE_GET, get_by_client_id)
    d.route("DELETE", "/orders/by_client_id/{client_id}", ORDERS, cancel_by_client_id)
    d.route("GET", "/orders/{order_id}", PRIVATE_GET, get_order)
    d.route("PUT", "/orders/{order_id}", ORDERS, modify)
    d.route("DELETE", "/orders/{order_id}", ORDERS, cancel)


def _venue_type(meta: render.OrderMeta | None, order: Order) -> str:
    return meta.venue_type if meta else order.type.value


def _own_order(ex: Any, account_id: str, order_id: str) -> Order:
    try:
        return ex.get_order(order_id, account_id)
    except SimOrderNotFound:
        raise ApiError(404, "ORDER_ID_NOT_FOUND", f"order {order_id[:40]} not found") from None


def _cancel_one(ex: Any, account_id: str, order_id: str | None, client_id: str | None) -> dict[str, Any]:
    """One row of ``DELETE /orders/batch``: QUEUED_FOR_CANCELLATION, ALREADY_CLOSED or NOT_FOUND."""
    row = {"id": order_id or "", "client_id": client_id or "", "account": account_id, "market": "",
           "status": "NOT_FOUND"}
    try:
        if order_id is not None:
            order = ex.cancel_order(account_id, order_id)
        else:
            order = ex.cancel_order_by_client_id(account_id, client_id)
    except SimOrderNotFound as exc:
        closed = _find_closed(ex, account_id, order_id, client_id) if exc.code != "ORDER_ID_NOT_FOUND" or \
            client_id is not None else None
        if closed is not None:
            row.update(id=closed.id, client_id=closed.client_id, market=closed.market, status="ALREADY_CLOSED")
        return row
    row.update(id=order.id, client_id=order.client_id, market=order.market, status="QUEUED_FOR_CANCELLATION")
    return row


def _find_closed(ex: Any, account_id: str, order_id: str | None, client_id: str | None) -> Order | None:
    if order_id is not None:
        try:
            return ex.get_order(order_id, account_id)
        except SimOrderNotFound:
            return None
    return next((o for o in reversed(ex.order_history(account_id)) if o.client_id == client_id), None)

