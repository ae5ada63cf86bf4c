"""State of the simulator's Aster dialect: symbols, credentials, nonces, listenKeys and order extras.

* Symbols: Aster names (``BTCUSDT``) map to the engine's markets (``BTC-USD-PERP``); the engine settles in
  USDC, the dialect shows the same money as USDT.
* V1 credentials are API key/secret pairs created by ``POST /admin/aster/keys`` or ``add_api_key`` (what a
  ``--aster-key KEY:SECRET`` option feeds, see :func:`parse_key_option`). Each key owns one engine account.
* V3 credentials are wallets: a request signed by ``signer`` for ``user`` is accepted when ``signer == user``
  or when ``signer`` was registered as ``user``'s agent (``POST /admin/aster/agents``).
* Accounts are created and funded with the simulator's test money on first contact.
* listenKeys live ``listen_key_lifetime_ms`` (60 min by default; tests shorten it) and keep-alives extend them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from flashscalper.domain import Market
from flashscalper.errors import ConfigError
from flashscalper.exchanges.aster.auth import NonceWindows
from flashscalper.exchanges.aster.errors import AsterApiError
from flashscalper.exchanges.aster.mapping import SymbolRules

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator

ASSET = "USDT"
LISTEN_KEY_LIFETIME_MS = 60 * 60 * 1000
# Aster symbol -> engine market
SYMBOLS: dict[str, str] = {
    "BTCUSDT": "BTC-USD-PERP",
    "ETHUSDT": "ETH-USD-PERP",
    "SOLUSDT": "SOL-USD-PERP",
}


def parse_key_option(value: str) -> tuple[str, str]:
    """``KEY:SECRET`` (the ``--aster-key`` option) → (key, secret)."""
    key, sep, secret = value.partition(":")
    if not sep or not key or not secret:
        raise ConfigError(f"--aster-key expects KEY:SECRET, got {value[:8]!r}…")
    return key, secret


@dataclass(slots=True)
class ListenKey:
    key: str
    account: str
    expires_at_ms: int
    expired_sent: bool = False


@dataclass(slots=True)
class OrderExtras:
    """Wire attributes the engine does not keep."""

    close_position: bool = False
    hidden: bool = False  # rejected synchronously over REST: never shown on the user stream


@dataclass(slots=True)
class AsterRegistry:
    """Everything the Aster REST and WS dialects of one simulator share."""

    sim: Simulator
    listen_key_lifetime_ms: int = LISTEN_KEY_LIFETIME_MS
    api_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (secret, account)
    agents: dict[str, set[str]] = field(default_factory=dict)  # user (lower) -> agent addresses (lower)
    nonces: NonceWindows = field(default_factory=NonceWindows)
    listen_keys: dict[str, ListenKey] = field(default_factory=dict)
    extras: dict[str, OrderExtras] = field(default_factory=dict)
    margin_types: dict[tuple[str, str], str] = field(default_factory=dict)
    skip_depth_events: int = 0  # test hook: drop the next N depth diffs on the wire (a lost packet)
    ban_after_429: int = 5  # consecutive 429s from one IP before an HTTP 418 ban
    ban_ms: int = 120_000
    rules: dict[str, SymbolRules] = field(default_factory=dict)

    def __post_init__(self) -> None:
        specs = self.sim.exchange.specs
        for symbol, engine in SYMBOLS.items():
            if engine in specs:
                market = replace(specs[engine].market, symbol=symbol, quote=ASSET)
                self.rules[symbol] = SymbolRules.from_market(market)

    # ---- symbols -------------------------------------------------------------------------------

    def engine_symbol(self, symbol: str) -> str:
        """The engine market of an Aster symbol; -1121 when unknown."""
        engine = SYMBOLS.get(symbol.upper()) if symbol else None
        if engine is None or symbol.upper() not in self.rules:
            raise AsterApiError(-1121)
        return engine

    def aster_symbol(self, engine: str) -> str | None:
        return next((s for s, e in SYMBOLS.items() if e == engine), None)

    def market(self, symbol: str) -> Market:
        return self.rules[symbol].to_market()

    # ---- accounts and credentials --------------------------------------------------------------

    def ensure_account(self, account: str) -> str:
        """Create and fund the engine account on first contact."""
        exchange = self.sim.exchange
        if account not in exchange.accounts():
            exchange.create_account(account, Decimal(self.sim.fund_usdc))
        return account

    def add_api_key(self, key: str | None = None, secret: str | None = None, account: str | None = None
                    ) -> tuple[str, str, str]:
        """Register a V1 key pair (random when not given); returns (key, secret, account id)."""
        key = key or secrets.token_hex(32)
        secret = secret or secrets.token_hex(32)
        account = account or f"aster-{key[:12]}"
        self.api_keys[key] = (secret, account)
        self.ensure_account(account)
        return key, secret, account

    def v1_credentials(self, key: str) -> tuple[str, str] | None:
        return self.api_keys.get(key)

    def add_agent(self, user: str, agent: str) -> None:
        self.agents.setdefault(user.lower(), set()).add(agent.lower())

    def may_sign(self, user: str, signer: str) -> bool:
        return user.lower() == signer.lower() or signer.lower() in self.agents.get(user.lower(), ())

    def v3_account(self, user: str) -> str:
        return self.ensure_account(user.lower())

    # ---- listenKeys ----------------------------------------------------------------------------

    def listen_key_for(self, account: str) -> ListenKey:
        """The account's active key, extended; or a new one (as POST /listenKey behaves)."""
        now = self.sim.clock.time_ms()
        for lk in self.listen_keys.values():
            if lk.account == account and lk.expires_at_ms > now:
                lk.expires_at_ms = now + self.listen_key_lifetime_ms
                return lk
        lk = ListenKey(secrets.token_urlsafe(48), account, now + self.listen_key_lifetime_ms)
        self.listen_keys[lk.key] = lk
        return lk

    def keep_alive(self, account: str, key: str | None) -> ListenKey:
        now = self.sim.clock.time_ms()
        candidates = [self.listen_keys.get(key)] if key else [lk for lk in self.listen_keys.values()
                                                              if lk.account == account]
        for lk in candidates:
            if lk is not None and lk.account == account and lk.expires_at_ms > now:
                lk.expires_at_ms = now + self.listen_key_lifetime_ms
                return lk
        raise AsterApiError(-1125)

    def close_listen_key(self, account: str, key: str | None) -> None:
        for k, lk in list(self.listen_keys.items()):
            if lk.account == account and (key is None or k == key):
                del self.listen_keys[k]

    def live_listen_key(self, key: str) -> ListenKey | None:
        lk = self.listen_keys.get(key)
        if lk is None or lk.expires_at_ms <= self.sim.clock.time_ms():
            return None
        return lk

    # ---- orders --------------------------------------------------------------------------------

    def extras_of(self, order_id: str) -> OrderExtras:
        return self.extras.get(order_id) or OrderExtras()

    def hide(self, order_id: str) -> None:
        self.extras.setdefault(order_id, OrderExtras()).hidden = True


def registry_of(sim: Simulator) -> AsterRegistry:
    """The simulator's Aster registry, created on first use (REST and WS share it)."""
    registry = getattr(sim, "aster", None)
    if registry is None:
        registry = AsterRegistry(sim)
        sim.aster = registry  # type: ignore[attr-defined]
    return registry
