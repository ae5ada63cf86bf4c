"""The simulator's Paradex REST dialect under ``/v1`` (protocol/paradex.md §2–§5, checklist §8).

``register(app, sim)`` mounts every route. Public and system data, onboarding, auth and account reads live
here; order entry and queries live in :mod:`flashscalper.sim.paradex.rest_orders`. Each route runs inside
:func:`~flashscalper.sim.paradex.wire.guarded` (faults → bearer → rate limit → handler).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from flashscalper.domain import ZERO
from flashscalper.errors import ConfigError
from flashscalper.exchanges.paradex import signing
from flashscalper.exchanges.paradex.keys import parse_account_address
from flashscalper.sim.paradex import render
from flashscalper.sim.paradex.registry import ParadexRegistry, registry_of
from flashscalper.sim.paradex.rest_orders import register_orders
from flashscalper.sim.paradex.wire import (
    ACCOUNT,
    BearerCache,
    Cursors,
    Handler,
    RouteSpec,
    bad,
    error_response,
    guarded,
    json_object,
    json_response,
    query_int,
)

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator

PREFIX = "/v1"
AUTH_MAX_VALIDITY_S = 7 * 24 * 3600  # PARADEX-SIGNATURE-EXPIRATION at most one week after the timestamp
AUTH_DEFAULT_VALIDITY_S = 30 * 60
AUTH_CLOCK_SKEW_S = 5  # a client clock slightly ahead of ours is tolerated
_DAY_MS = 86_400_000

PUBLIC = RouteSpec("public", private=False)
AUTH = RouteSpec("auth", private=False)
PRIVATE_GET = RouteSpec("private_get", private=True)
ORDERS = RouteSpec("orders", private=True)


class Dialect:
    """Shared state of the REST routes: the simulator, the registry, bearer cache and cursor signer."""

    def __init__(self, app: web.Application, sim: Simulator) -> None:
        self.app = app
        self.sim = sim
        self.registry: ParadexRegistry = registry_of(sim)
        self.bearer = BearerCache(sim)
        self.cursors = Cursors()

    def route(self, method: str, path: str, spec: RouteSpec, handler: Handler) -> None:
        self.app.router.add_route(method, PREFIX + path, guarded(self.sim, self.bearer, spec, handler))

    def market(self, symbol: str | None, *, required: bool = True) -> str | None:
        """Check a market symbol; MARKET_NOT_FOUND if unknown, VALIDATION_ERROR if required and absent."""
        if not symbol:
            if required:
                raise bad("VALIDATION_ERROR", "query parameter market is required")
            return None
        if symbol not in self.sim.exchange.specs:
            raise bad("MARKET_NOT_FOUND", f"market {symbol} not found; known: "
                      f"{', '.join(sorted(self.sim.exchange.specs))}")
        return symbol


def register(app: web.Application, sim: Simulator) -> None:
    """Mount the Paradex REST dialect on ``app``."""
    d = Dialect(app, sim)
    _register_public(d)
    _register_auth(d)
    _register_account(d)
    register_orders(d)
    app.middlewares.append(_json_not_found)


@web.middleware
async def _json_not_found(request: web.Request, handler: Any) -> web.StreamResponse:
    """Unknown /v1 paths and methods answer with the venue's JSON error body, not aiohttp's text."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if not request.path.startswith(PREFIX + "/"):
            raise
        return error_response(404, "NOT_FOUND", f"no route {request.method} {request.path}")
    except web.HTTPMethodNotAllowed:
        if not request.path.startswith(PREFIX + "/"):
            raise
        return error_response(405, "NOT_FOUND", f"method {request.method} not allowed on {request.path}")


# --------------------------------------------------------------------------------------- public


def system_config(sim: Simulator, base_url: str) -> dict[str, Any]:
    """Every SystemConfig field the official SDK reads; addresses that have no meaning here are zero."""
    zero = "0x0"
    return {
        "starknet_chain_id": sim.system["starknet_chain_id"],
        "l1_chain_id": sim.system["l1_chain_id"],
        "paraclear_account_hash": sim.system["paraclear_account_hash"],
        "paraclear_account_proxy_hash": sim.system["paraclear_account_proxy_hash"],
        "paraclear_evm_account_hash": sim.system.get("paraclear_evm_account_hash", zero),
        "paraclear_address": zero,
        "paraclear_decimals": signing.CHAIN_DECIMALS,
        "oracle_address": zero,
        "starknet_fullnode_rpc_url": base_url + "/rpc",
        "starknet_fullnode_rpc_base_url": base_url + "/rpc",
        "starknet_gateway_url": base_url + "/gateway",
        "block_explorer_url": base_url + "/explorer",
        "bridged_tokens": [{
            "name": "USD Coin", "symbol": "USDC", "decimals": 6, "l1_token_address": zero,
            "l1_bridge_address": zero, "l2_token_address": zero, "l2_bridge_address": zero,
        }],
        "l1_core_contract_address": zero,
        "l1_operator_address": zero,
        "l1_withdraw_relayer_address": zero,
        "l2_withdraw_relayer_address": zero,
        "liquidation_fee": "0.2",
        "partial_liquidation_buffer": "0.2",
        "partial_liquidation_share_increment": "0.05",
        "universal_deployer_address": zero,
        "environment": "local",
    }


def _register_public(d: Dialect) -> None:
    sim, ex = d.sim, d.sim.exchange

    async def config(request: web.Request) -> web.Response:
        return json_response(system_config(sim, f"{request.scheme}://{request.host}"))

    async def time(_: web.Request) -> web.Response:
        return json_response({"server_time": str(sim.clock.time_ms())})

    async def state(_: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def markets(request: web.Request) -> web.Response:
        wanted = request.query.get("market")
        rows = [render.market(spec) for symbol, spec in ex.specs.items() if not wanted or symbol == wanted]
        return json_response({"results": rows})

    async def summary(request: web.Request) -> web.Response:
        wanted = request.query.get("market")
        if not wanted:
            raise bad("VALIDATION_ERROR", "query parameter market is required (a symbol or ALL)")
        symbols = list(ex.specs) if wanted == "ALL" else [d.market(wanted)]
        return json_response({"results": [_summary(d, s) for s in symbols if s]})

    async def orderbook(request: web.Request) -> web.Response:
        market = d.market(request.match_info["market"])
        depth = query_int(request, "depth", 20, minimum=1, maximum=1000)
        return json_response(render.orderbook(ex.book_snapshot(market, depth or 20)))  # type: ignore[arg-type]

    async def bbo(request: web.Request) -> web.Response:
        market = d.market(request.match_info["market"])
        book = ex.book_snapshot(market, 1)  # type: ignore[arg-type]
        bid = book.bids[0] if book.bids else None
        ask = book.asks[0] if book.asks else None
        return json_response({
            "market": market, "bid": render.dec(bid.price if bid else None),
            "bid_size": render.dec(bid.size if bid else None), "ask": render.dec(ask.price if ask else None),
            "ask_size": render.dec(ask.size if ask else None), "last_updated_at": book.ts, "seq_no": book.seq_no,
        })

    async def trades(request: web.Request) -> web.Response:
        market = d.market(request.query.get("market"))
        rows = list(reversed(ex.recent_trades(market, 1000)))  # type: ignore[arg-type]
        return json_response(d.cursors.page(request, rows, lambda t: (t.trade.ts, int(t.trade.id)), render.trade))

    async def funding(request: web.Request) -> web.Response:
        market = d.market(request.query.get("market"))
        spec = ex.specs[market]  # type: ignore[index]
        rows = list(reversed(list(enumerate(ex.funding_history(market)))))  # type: ignore[arg-type]
        return json_response(d.cursors.page(
            request, rows, lambda r: (r[1].ts, r[0]),
            lambda r: render.funding_data(r[1], spec, ex.funding_interval_ms)))

    async def jwks(_: web.Request) -> web.Response:
        return json_response(sim.tokens.jwks())

    d.route("GET", "/system/config", PUBLIC, config)
    d.route("GET", "/system/time", PUBLIC, time)
    d.route("GET", "/system/state", PUBLIC, state)
    d.route("GET", "/markets", PUBLIC, markets)
    d.route("GET", "/markets/summary", PUBLIC, summary)
    d.route("GET", "/orderbook/{market}", PUBLIC, orderbook)
    d.route("GET", "/bbo/{market}", PUBLIC, bbo)
    d.route("GET", "/trades", PUBLIC, trades)
    d.route("GET", "/funding/data", PUBLIC, funding)
    d.route("GET", "/jwks.json", PUBLIC, jwks)


def _summary(d: Dialect, symbol: str) -> dict[str, Any]:
    ex = d.sim.exchange
    now = d.sim.clock.time_ms()
    spec = ex.specs[symbol]
    history = ex.funding_history(symbol)
    rate = render.period_rate(history[-1], spec, ex.funding_interval_ms) if history else ZERO
    volume = sum((t.trade.size for t in ex.recent_trades(symbol, 1000) if t.trade.ts >= now - _DAY_MS), ZERO)
    open_interest = ZERO
    for account in d.registry.accounts():
        for pos in ex.positions(account.id):
            if pos.market == symbol and pos.size > 0:
                open_interest += pos.size
    return render.market_summary(symbol, mark=ex.mark_price(symbol), last=ex.last_price(symbol),
                                 quote=ex.bbo(symbol), funding_rate=rate, volume_24h=volume,
                                 open_interest=open_interest, ts=now)


# ----------------------------------------------------------------------------------- onboarding/auth


def _hex_header(request: web.Request, name: str, code: str) -> int:
    value = request.headers.get(name)
    if not value:
        raise bad("VALIDATION_ERROR", f"header {name} is required")
    try:
        return parse_account_address(value.strip(), setting=name)
    except ConfigError:
        raise bad(code, f"header {name} is not a Starknet address") from None


def _int_header(request: web.Request, name: str, default: int | None = None) -> int:
    value = request.headers.get(name)
    if value is None or value == "":
        if default is None:
            raise bad("VALIDATION_ERROR", f"header {name} is required")
        return default
    try:
        return int(value)
    except ValueError:
        raise bad("INVALID_TIMESTAMP", f"header {name} must be unix seconds, got {value[:20]!r}") from None


def _signature_header(request: web.Request) -> str:
    value = request.headers.get("PARADEX-STARKNET-SIGNATURE")
    if not value:
        raise bad("VALIDATION_ERROR", "header PARADEX-STARKNET-SIGNATURE is required")
    try:
        signing.parse_signature(value)
    except ValueError as exc:
        raise bad("INVALID_STARKNET_SIGNATURE", str(exc)) from None
    return value


def _public_key(text: str | None) -> int:
    if not text:
        raise bad("VALIDATION_ERROR", "public_key is required")
    try:
        key = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise bad("PUBLIC_KEY_INVALID", "public_key must be a 0x-hex Starknet public key") from None
    if key <= 0:
        raise bad("PUBLIC_KEY_INVALID", "public_key must be a 0x-hex Starknet public key")
    return key


def _register_auth(d: Dialect) -> None:
    sim, registry = d.sim, d.registry

    async def onboarding_status(request: web.Request) -> web.Response:
        signer_type = request.query.get("account_signer_type", "starknet")
        if signer_type != "starknet":
            raise bad("VALIDATION_ERROR", "only account_signer_type=starknet is simulated")
        key = _public_key(request.query.get("public_key"))
        address = registry.derive_address(key)
        return json_response({
            "address": hex(address), "exists": registry.by_address(address) is not None,
            "account_signer_type": "starknet",
            "derivation_info": {"class_hash": sim.system["paraclear_account_hash"],
                                "proxy_class_hash": sim.system["paraclear_account_proxy_hash"]},
        })

    async def onboard(request: web.Request) -> web.Response:
        l1 = request.headers.get("PARADEX-ETHEREUM-ACCOUNT", "").strip()
        if not l1:
            raise bad("VALIDATION_ERROR", "header PARADEX-ETHEREUM-ACCOUNT is required")
        address = _hex_header(request, "PARADEX-STARKNET-ACCOUNT", "INVALID_STARKNET_ADDRESS")
        signature = _signature_header(request)
        body = await json_object(request)
        key = _public_key(body.get("public_key") if isinstance(body.get("public_key"), str) else None)
        if registry.derive_address(key) != address:
            raise bad("INVALID_STARKNET_ADDRESS",
                      "PARADEX-STARKNET-ACCOUNT is not the account address derived from public_key")
        digest = signing.onboarding_message_hash(registry.chain_id, address)
        if not signing.verify_signature(digest, signature, key):
            raise bad("STARKNET_SIGNATURE_VERIFICATION_FAILED", "onboarding signature does not verify")
        registry.onboard(key, address, l1)
        return web.Response(status=200)

    async def auth(request: web.Request) -> web.Response:
        address = _hex_header(request, "PARADEX-STARKNET-ACCOUNT", "INVALID_STARKNET_ADDRESS")
        signature = _signature_header(request)
        timestamp = _int_header(request, "PARADEX-TIMESTAMP")
        expiration = _int_header(request, "PARADEX-SIGNATURE-EXPIRATION", timestamp + AUTH_DEFAULT_VALIDITY_S)
        account = registry.by_address(address)
        if account is None:
            raise bad("NOT_ONBOARDED", "User has never called /onboarding endpoint")
        signer_key = account.public_key
        path_key = request.match_info.get("public_key")
        if path_key is not None and _public_key(path_key) != account.public_key:
            raise bad("INVALID_SUBKEY", "the public key in the path is not registered for this account")
        now_s = sim.clock.time_ms() // 1000
        if timestamp > now_s + AUTH_CLOCK_SKEW_S:
            raise bad("INVALID_TIMESTAMP", f"PARADEX-TIMESTAMP {timestamp} is in the future (server {now_s})")
        if expiration < now_s:
            raise bad("INVALID_SIGNATURE_EXPIRATION", "PARADEX-SIGNATURE-EXPIRATION has passed")
        if expiration - timestamp > AUTH_MAX_VALIDITY_S or expiration < timestamp:
            raise bad("INVALID_SIGNATURE_EXPIRATION", "signature validity must be between 0 and one week")
        digest = signing.auth_message_hash(registry.chain_id, address, timestamp, expiration)
        if not signing.verify_signature(digest, signature, signer_key):
            raise bad("STARKNET_SIGNATURE_VERIFICATION_FAILED", "auth signature does not verify")
        return json_response({"jwt_token": sim.tokens.issue(account.id)})

    d.route("GET", "/onboarding", PUBLIC, onboarding_status)
    d.route("POST", "/onboarding", AUTH, onboard)
    d.route("POST", "/auth", AUTH, auth)
    d.route("POST", "/auth/{public_key}", AUTH, auth)


# -------------------------------------------------------------------------------------------- account


def _register_account(d: Dialect) -> None:
    ex, registry = d.sim.exchange, d.registry

    async def account(request: web.Request) -> web.Response:
        return json_response(render.account_summary(ex.account_summary(request[ACCOUNT])))

    async def account_summary(request: web.Request) -> web.Response:
        return json_response({"results": [render.account_summary(ex.account_summary(request[ACCOUNT]))]})

    async def balance(request: web.Request) -> web.Response:
        return json_response({"results": [render.balance(ex.account_summary(request[ACCOUNT]))]})

    async def positions(request: web.Request) -> web.Response:
        acct = request[ACCOUNT]
        return json_response({"results": [
            render.position(p, account=acct, funding_index=ex.funding_index.get(p.market, ZERO))
            for p in ex.positions(acct)]})

    async def fills(request: web.Request) -> web.Response:
        acct = request[ACCOUNT]
        market = d.market(request.query.get("market"), required=False)
        rows = list(reversed(ex.fills(acct, market)))
        return json_response(d.cursors.page(request, rows, lambda f: (f.fill.ts, int(f.fill.id)),
                                            lambda f: render.fill(f, account=acct)))

    async def funding_payments(request: web.Request) -> web.Response:
        acct = request[ACCOUNT]
        market = d.market(request.query.get("market"))
        rows = list(reversed(ex.funding_payments(acct, market)))
        return json_response(d.cursors.page(request, rows, lambda e: (e.payment.ts, int(e.payment.id)),
                                            render.funding_payment))

    def margin_config(acct: str, market: str) -> dict[str, Any]:
        leverage = registry.leverage.get((acct, market), ex.default_leverage)
        return {"market": market, "leverage": int(leverage),
                "margin_type": registry.margin_type.get((acct, market), "CROSS")}

    async def get_margin(request: web.Request) -> web.Response:
        acct = request[ACCOUNT]
        market = d.market(request.match_info.get("market") or request.query.get("market"), required=False)
        markets = [market] if market else list(ex.specs)
        return json_response({"account": acct, "configs": [margin_config(acct, m) for m in markets]})

    async def set_margin(request: web.Request) -> web.Response:
        acct = request[ACCOUNT]
        market = d.market(request.match_info["market"])
        assert market is not None
        body = await json_object(request)
        leverage = body.get("leverage")
        if isinstance(leverage, bool) or not isinstance(leverage, int):
            raise bad("BINDING_ERROR", "leverage must be an integer")
        margin_type = body.get("margin_type", "CROSS")
        if margin_type not in ("CROSS", "ISOLATED"):
            raise bad("VALIDATION_ERROR", "margin_type must be CROSS or ISOLATED")
        if margin_type == "ISOLATED":
            raise bad("VALIDATION_ERROR", "isolated margin is not simulated; use CROSS")
        ex.set_leverage(acct, market, Decimal(leverage))
        registry.margin_type[(acct, market)] = margin_type
        registry.leverage[(acct, market)] = leverage
        return json_response({"account": acct, **margin_config(acct, market)})

    d.route("GET", "/account", PRIVATE_GET, account)
    d.route("GET", "/account/summary", PRIVATE_GET, account_summary)
    d.route("GET", "/balance", PRIVATE_GET, balance)
    d.route("GET", "/positions", PRIVATE_GET, positions)
    d.route("GET", "/fills", PRIVATE_GET, fills)
    d.route("GET", "/funding/payments", PRIVATE_GET, funding_payments)
    d.route("GET", "/account/margin", PRIVATE_GET, get_margin)
    d.route("GET", "/account/margin/{market}", PRIVATE_GET, get_margin)
    d.route("POST", "/account/margin/{market}", PRIVATE_GET, set_margin)
