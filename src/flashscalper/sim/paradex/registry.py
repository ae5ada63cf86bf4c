"""Paradex identities known to the simulator: public key ↔ account address ↔ engine account, and the wire
attributes of orders the engine does not keep.

The engine account id is the Paradex account address in lowercase 0x-hex, so the ``account`` field of every
rendered object is simply the engine id. Onboarding creates the engine account and credits it with the
simulator's test USDC (``sim.fund_usdc``), once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from flashscalper.exchanges.paradex import curve
from flashscalper.exchanges.paradex.keys import account_address
from flashscalper.sim.paradex.render import OrderMeta

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator


@dataclass(frozen=True, slots=True)
class ParadexAccount:
    """One onboarded account: its Starknet key, address and the Ethereum address it was onboarded with."""

    address: int
    public_key: int
    l1_address: str
    onboarded_at: int

    @property
    def id(self) -> str:
        """The engine account id (and the ``account`` field on the wire)."""
        return hex(self.address)


class ParadexRegistry:
    """Accounts, order wire metadata and margin settings of the Paradex dialect of one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self.chain_id: str = sim.system["starknet_chain_id"]
        self._proxy_hash = int(sim.system["paraclear_account_proxy_hash"], 16)
        self._account_hash = int(sim.system["paraclear_account_hash"], 16)
        self._by_address: dict[int, ParadexAccount] = {}
        self._by_key: dict[int, ParadexAccount] = {}
        self._derived: dict[int, int] = {}
        self.order_meta: dict[str, OrderMeta] = {}
        self._pending: OrderMeta | None = None
        self.margin_type: dict[tuple[str, str], str] = {}
        self.leverage: dict[tuple[str, str], int] = {}  # what POST /account/margin set, per (account, market)
        # Signature checks of hot keys use G's window table: build it (once per process, ~0.2 s) at start-up
        # rather than inside the first order.
        curve.precompute()

    def derive_address(self, public_key: int) -> int:
        """The account address Paradex deploys for ``public_key`` (§4.2), cached."""
        address = self._derived.get(public_key)
        if address is None:
            address = self._derived[public_key] = account_address(public_key, self._proxy_hash, self._account_hash)
        return address

    def onboard(self, public_key: int, address: int, l1_address: str) -> ParadexAccount:
        """Register an account (idempotent) and fund it with the simulator's test USDC the first time."""
        known = self._by_address.get(address)
        if known is not None:
            return known
        account = ParadexAccount(address, public_key, l1_address, self._sim.clock.time_ms())
        self._by_address[address] = account
        self._by_key[public_key] = account
        exchange = self._sim.exchange
        if account.id not in exchange.accounts():
            exchange.create_account(account.id, Decimal(self._sim.fund_usdc))
        return account

    def by_address(self, address: int) -> ParadexAccount | None:
        return self._by_address.get(address)

    def by_id(self, account_id: str) -> ParadexAccount | None:
        try:
            return self._by_address.get(int(account_id, 16))
        except ValueError:
            return None

    def by_public_key(self, public_key: int) -> ParadexAccount | None:
        return self._by_key.get(public_key)

    def accounts(self) -> list[ParadexAccount]:
        return list(self._by_address.values())

    def remember(self, order_id: str, meta: OrderMeta) -> None:
        self.order_meta[order_id] = meta

    @contextmanager
    def submitting(self, meta: OrderMeta) -> Iterator[None]:
        """Around ``exchange.submit_order``: the engine publishes the new order's events before it returns
        its id, so a listener asking for the metadata of an unknown order of the same account gets this."""
        self._pending = meta
        try:
            yield
        finally:
            self._pending = None

    def meta(self, order_id: str, account: str = "") -> OrderMeta | None:
        """Wire metadata of an order (None for orders that did not come through the Paradex dialect)."""
        meta = self.order_meta.get(order_id)
        pending = self._pending
        if meta is None and pending is not None and account == pending.account:
            meta = self.order_meta[order_id] = pending
        return meta


def registry_of(sim: Simulator) -> ParadexRegistry:
    """The simulator's Paradex registry, created on first use (REST and WS share it)."""
    registry = getattr(sim, "paradex", None)
    if registry is None:
        registry = ParadexRegistry(sim)
        sim.paradex = registry  # type: ignore[attr-defined]
    return registry
