"""Local admin endpoints of the simulator: fault injection and "what if" market moves.

The simulator binds to loopback; these routes exist for tests, the chaos run and the demo's buttons.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data, default=str), status=status, content_type="application/json")


def _bad(message: str) -> web.Response:
    return _json({"error": "BAD_REQUEST", "message": message}, status=400)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (400 when it is not JSON or not an object)."""
    try:
        data = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise web.HTTPBadRequest(text="body is not JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


def register(app: web.Application, sim: Simulator) -> None:
    async def state(_: web.Request) -> web.Response:
        return _json(
            {
                "faults": asdict(sim.faults.settings),
                "fault_counters": sim.faults.counters,
                "markets": {m: str(sim.exchange.mark_price(m)) for m in sim.exchange.specs},
                "accounts": len(sim.exchange.accounts()),
                "total_equity": str(sim.exchange.total_equity()),
            }
        )

    async def faults(request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            settings = sim.faults.apply(body)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        dropped = await sim.faults.drop_connections() if body.get("drop_ws") else 0
        return _json({"faults": asdict(settings), "dropped": dropped})

    async def clear(_: web.Request) -> web.Response:
        sim.faults.clear()
        return _json({"faults": asdict(sim.faults.settings)})

    async def drop(_: web.Request) -> web.Response:
        return _json({"dropped": await sim.faults.drop_connections()})

    async def jump(request: web.Request) -> web.Response:
        body = await json_body(request)
        market, fraction = body.get("market"), body.get("fraction")
        if market not in sim.exchange.specs:
            return _bad(f"unknown market {market!r}; known: {', '.join(sorted(sim.exchange.specs))}")
        try:
            move = float(fraction)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return _bad("fraction must be a number such as -0.03 for a 3 % drop")
        if not -0.5 <= move <= 0.5:
            return _bad("fraction must be between -0.5 and 0.5")
        if sim.market is None:
            return _bad("this simulator runs without a market generator")
        sim.market.jump(market, move)
        sim.exchange.tick()
        return _json({"market": market, "mark": str(sim.exchange.mark_price(market))})

    async def liquidate(request: web.Request) -> web.Response:
        body = await json_body(request)
        account = str(body.get("account", ""))
        if account not in sim.exchange.accounts():
            return _bad(f"unknown account {account!r}")
        sim.exchange.force_liquidate(account)
        return _json({"account": account, "liquidated": True})

    async def fund(request: web.Request) -> web.Response:
        body = await json_body(request)
        account = str(body.get("account", ""))
        try:
            amount = Decimal(str(body.get("amount")))
        except InvalidOperation:
            return _bad("amount must be a decimal number")
        if account not in sim.exchange.accounts():
            return _bad(f"unknown account {account!r}")
        sim.exchange.fund_account(account, amount)
        return _json({"account": account, "funded": str(amount)})

    app.router.add_get("/admin/state", state)
    app.router.add_post("/admin/faults", faults)
    app.router.add_delete("/admin/faults", clear)
    app.router.add_post("/admin/drop", drop)
    app.router.add_post("/admin/jump", jump)
    app.router.add_post("/admin/liquidate", liquidate)
    app.router.add_post("/admin/fund", fund)
