"""Accounts, positions and cross margin.

Positions keep a signed ``cost`` (sum of size × price of the open part) instead of an average price, and
realized P&L is defined so that ``collateral - cost`` moves by exactly ``-size × price`` on every fill.
That identity is what makes the whole exchange conserve USDC + unrealized P&L to the last digit:
between two counterparties the moves cancel, and the sum of all positions is always zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flashscalper.domain import ONE, ZERO, Balance, Position, Side
from flashscalper.sim.markets import MarketSpec
from flashscalper.sim.orders import SimOrder

_COST_QUANTUM = Decimal("1e-12")  # keeps partial-close costs short; realized P&L absorbs the rounding


class AccountStatus:
    ACTIVE = "ACTIVE"
    LIQUIDATION = "LIQUIDATION"  # being liquidated right now


class PositionState:
    """One market's position of one account."""

    __slots__ = ("cost", "created_at", "funding_pnl", "last_fill_id", "market", "realized_pnl", "size",
                 "updated_at")

    def __init__(self, market: str) -> None:
        self.market = market
        self.size = ZERO  # signed
        self.cost = ZERO  # signed: size × average entry
        self.realized_pnl = ZERO
        self.funding_pnl = ZERO
        self.last_fill_id = ""
        self.created_at = 0
        self.updated_at = 0

    @property
    def entry_price(self) -> Decimal:
        return self.cost / self.size if self.size else ZERO

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return self.size * mark - self.cost

    def apply_fill(self, side: Side, size: Decimal, price: Decimal) -> Decimal:
        """Book a fill and return its realized P&L (before fees)."""
        delta = size if side is Side.BUY else -size
        old = self.size
        new = old + delta
        if old == 0 or (old > 0) is (delta > 0):
            new_cost = self.cost + delta * price
        elif new == 0:
            new_cost = ZERO
        elif (new > 0) is (old > 0):
            new_cost = (self.cost * new / old).quantize(_COST_QUANTUM)
        else:  # flipped: the new side opened at this fill's price
            new_cost = new * price
        realized = new_cost - self.cost - delta * price
        self.size, self.cost = new, new_cost
        self.realized_pnl += realized
        return realized


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Paradex-style account view (GET /account)."""

    account: str
    account_value: Decimal  # collateral + unrealized P&L
    total_collateral: Decimal  # USDC balance
    free_collateral: Decimal  # account value - initial margin requirement
    initial_margin_requirement: Decimal
    maintenance_margin_requirement: Decimal
    margin_cushion: Decimal  # account value - maintenance requirement
    status: str
    settlement_asset: str
    seq_no: int
    updated_at: int

    def to_balance(self) -> Balance:
        return Balance(
            asset=self.settlement_asset, wallet=self.total_collateral, equity=self.account_value,
            available=self.free_collateral, initial_margin=self.initial_margin_requirement,
            maintenance_margin=self.maintenance_margin_requirement, updated_at=self.updated_at,
        )


class Account:
    """A cross-margined USDC account: collateral, positions, per-market leverage, open orders."""

    __slots__ = ("client_ids", "collateral", "default_leverage", "id", "internal", "leverage", "open_buy",
                 "open_count", "open_orders", "open_sell", "positions", "reduce_only_count", "seq_no",
                 "status", "updated_at")

    def __init__(self, account_id: str, *, default_leverage: Decimal = Decimal(10), internal: bool = False):
        self.id = account_id
        self.collateral = ZERO
        self.positions: dict[str, PositionState] = {}
        self.leverage: dict[str, Decimal] = {}
        self.default_leverage = default_leverage
        self.status = AccountStatus.ACTIVE
        self.internal = internal  # insurance fund: never margin-checked or liquidated
        self.seq_no = 0
        self.updated_at = 0
        self.open_orders: dict[str, SimOrder] = {}  # every non-terminal order, resting or untriggered
        self.client_ids: dict[str, str] = {}  # client id -> order id, for open orders
        self.open_buy: dict[str, Decimal] = {}  # resting, non-reduce-only size per market (margin)
        self.open_sell: dict[str, Decimal] = {}
        self.open_count: dict[str, int] = {}
        self.reduce_only_count: dict[str, int] = {}  # resting reduce-only orders per market

    def next_seq(self) -> int:
        self.seq_no += 1
        return self.seq_no

    def position(self, market: str) -> PositionState:
        pos = self.positions.get(market)
        if pos is None:
            pos = self.positions[market] = PositionState(market)
        return pos

    def position_size(self, market: str) -> Decimal:
        pos = self.positions.get(market)
        return pos.size if pos is not None else ZERO

    def leverage_for(self, market: str) -> Decimal:
        return self.leverage.get(market, self.default_leverage)

    # ---- margin --------------------------------------------------------------------------------

    def unrealized_pnl(self, marks: dict[str, Decimal]) -> Decimal:
        return sum((p.size * marks[m] - p.cost for m, p in self.positions.items() if p.size), ZERO)

    def account_value(self, marks: dict[str, Decimal]) -> Decimal:
        return self.collateral + self.unrealized_pnl(marks)

    def market_margin(self, market: str, mark: Decimal, spec: MarketSpec, extra_buy: Decimal = ZERO,
                      extra_sell: Decimal = ZERO) -> Decimal:
        """Initial margin of one market: position plus resting orders, on the worse side."""
        pos = self.positions.get(market)
        size = pos.size if pos is not None else ZERO
        long_side = size + self.open_buy.get(market, ZERO) + extra_buy
        short_side = size - self.open_sell.get(market, ZERO) - extra_sell
        exposure = long_side if long_side > -short_side else -short_side
        if exposure <= 0:
            return ZERO
        notional = exposure * mark
        base = spec.margin.base_fraction(notional)
        leverage_fraction = ONE / self.leverage.get(market, self.default_leverage)
        return notional * (leverage_fraction if leverage_fraction > base else base)

    def initial_margin(
        self,
        marks: dict[str, Decimal],
        specs: dict[str, MarketSpec],
        extra: tuple[str, Side, Decimal] | None = None,
    ) -> Decimal:
        """Initial margin for positions plus resting orders (worst side per market), optionally with one
        more hypothetical order ``extra`` = (market, side, size)."""
        markets = set(self.open_buy) | set(self.open_sell) | {m for m, p in self.positions.items() if p.size}
        if extra is not None:
            markets.add(extra[0])
        total = ZERO
        for m in markets:
            if extra is not None and extra[0] == m:
                buy, sell = (extra[2], ZERO) if extra[1] is Side.BUY else (ZERO, extra[2])
                total += self.market_margin(m, marks[m], specs[m], buy, sell)
            else:
                total += self.market_margin(m, marks[m], specs[m])
        return total

    def maintenance_margin(self, marks: dict[str, Decimal], specs: dict[str, MarketSpec]) -> Decimal:
        total = ZERO
        for m, p in self.positions.items():
            if p.size:
                notional = abs(p.size) * marks[m]
                margin = specs[m].margin
                total += notional * margin.base_fraction(notional) * margin.mmf_factor
        return total

    def summary(self, marks: dict[str, Decimal], specs: dict[str, MarketSpec], asset: str = "USDC"
                ) -> AccountSummary:
        value = self.account_value(marks)
        imr = self.initial_margin(marks, specs)
        mmr = self.maintenance_margin(marks, specs)
        return AccountSummary(
            account=self.id, account_value=value, total_collateral=self.collateral, free_collateral=value - imr,
            initial_margin_requirement=imr, maintenance_margin_requirement=mmr, margin_cushion=value - mmr,
            status=self.status, settlement_asset=asset, seq_no=self.seq_no, updated_at=self.updated_at,
        )

    def position_view(self, market: str, mark: Decimal, specs: dict[str, MarketSpec], marks: dict[str, Decimal],
                      ts: int, seq_no: int) -> Position:
        """Domain view of one position, with an estimated cross-margin liquidation price."""
        pos = self.position(market)
        liq: Decimal | None = None
        if pos.size:
            # price at which account value meets maintenance, holding every other market still
            spec = specs[market]
            mmf = spec.margin.base_fraction(abs(pos.size) * mark) * spec.margin.mmf_factor
            others = self.account_value(marks) - pos.unrealized_pnl(mark)
            other_mm = self.maintenance_margin(marks, specs) - abs(pos.size) * mark * mmf
            denom = pos.size - abs(pos.size) * mmf
            if denom:
                price = (pos.cost - others + other_mm) / denom
                liq = price if price > 0 else None
        return Position(
            market=market, size=pos.size, entry_price=pos.entry_price, mark_price=mark,
            unrealized_pnl=pos.unrealized_pnl(mark), realized_pnl=pos.realized_pnl,
            leverage=self.leverage_for(market), liquidation_price=liq, updated_at=ts, seq_no=seq_no,
        )
