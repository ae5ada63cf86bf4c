"""The one interface every venue implements. Nothing above it knows which venue it talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from flashscalper.domain import (
    AccountSnapshot,
    Balance,
    BookUpdate,
    Event,
    Fill,
    Market,
    Order,
    OrderRequest,
    Position,
    Quote,
    Trade,
)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a venue can do natively; the core asks these flags instead of asking for a venue's name."""

    native_stop_orders: bool = True  # stop-loss / take-profit can rest on the venue
    modify_order: bool = False
    post_only: bool = True
    batch_orders: bool = False
    cancel_on_disconnect: bool = False
    close_position_orders: bool = False  # a stop that closes whatever the position is when triggered


@runtime_checkable
class Exchange(Protocol):
    """An async venue connection: market data, account state and order entry, all in domain types."""

    name: str
    capabilities: Capabilities

    async def connect(self) -> None:
        """Authenticate and open streams. Idempotent."""

    async def close(self) -> None: ...

    # ---- reference and market data ----
    async def markets(self) -> dict[str, Market]: ...

    async def quote(self, market: str) -> Quote: ...

    async def order_book(self, market: str, depth: int = 15) -> BookUpdate: ...

    async def recent_trades(self, market: str, limit: int = 100) -> list[Trade]: ...

    async def subscribe_market_data(self, markets: list[str]) -> None:
        """Start pushing Quote / BookUpdate / Trade / MarkPrice events for these markets into ``events()``."""

    def events(self) -> AsyncIterator[Event]:
        """Every market, private and connection event, in arrival order. One consumer."""
        ...

    # ---- account ----
    async def balance(self) -> Balance: ...

    async def positions(self) -> list[Position]: ...

    async def open_orders(self, market: str | None = None) -> list[Order]: ...

    async def fills(self, market: str | None = None, since_ms: int | None = None) -> list[Fill]: ...

    async def snapshot(self) -> AccountSnapshot:
        """Balance, positions and open orders read together (reconciliation)."""
        ...

    async def set_leverage(self, market: str, leverage: Decimal) -> None: ...

    # ---- orders ----
    async def place_order(self, request: OrderRequest) -> Order:
        """Validate against the market's rules, sign and send. Returns the venue's acknowledgement."""
        ...

    async def cancel_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> bool:
        """Cancel one order. Returns False when the venue says it is unknown or already closed (terminal)."""
        ...

    async def cancel_all(self, market: str | None = None) -> None: ...

    async def get_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        """Current state of one order, open or closed (raises OrderNotFound when the venue has no record)."""
        ...
