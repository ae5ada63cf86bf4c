"""Market specifications for the local exchange, with Paradex-like precision and risk parameters.

``MarketSpec`` wraps the venue-neutral :class:`~flashscalper.domain.Market` with what only an exchange
needs: the margin curve (Paradex ``delta1_cross_margin_params``), the funding clamp, the slippage guard
for market orders and the price the simulation starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flashscalper.domain import ZERO, Market


@dataclass(frozen=True, slots=True)
class MarginParams:
    """Paradex ``delta1_cross_margin_params``.

    Initial margin fraction = max(1/leverage, imf_base, imf_factor * sqrt(notional - imf_shift));
    maintenance fraction = initial fraction at max leverage (imf_base ...) times ``mmf_factor``.
    ``imf_factor`` grows the requirement for very large positions; 0 switches that off.
    """

    imf_base: Decimal = Decimal("0.02")
    imf_factor: Decimal = ZERO
    imf_shift: Decimal = ZERO
    mmf_factor: Decimal = Decimal("0.5")

    def base_fraction(self, notional: Decimal) -> Decimal:
        """The leverage-independent initial margin fraction for a position of ``notional`` USD."""
        if self.imf_factor and notional > self.imf_shift:
            return max(self.imf_base, self.imf_factor * (notional - self.imf_shift).sqrt())
        return self.imf_base


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Everything the simulator knows about one perpetual market."""

    market: Market
    margin: MarginParams
    initial_price: Decimal
    max_slippage: Decimal = Decimal("0.05")  # market orders never fill further than this from mark
    price_bands_width: Decimal = Decimal("0.05")
    max_funding_rate: Decimal = Decimal("0.005")  # clamp per funding period
    interest_rate: Decimal = ZERO
    settlement_asset: str = "USDC"

    @property
    def symbol(self) -> str:
        return self.market.symbol

    @property
    def max_leverage(self) -> Decimal:
        return self.market.max_leverage


def _perp(
    base: str,
    *,
    tick: str,
    step: str,
    price: str,
    max_order: str,
    position_limit: str,
    imf_base: str,
    max_leverage: int,
) -> MarketSpec:
    symbol = f"{base}-USD-PERP"
    margin = MarginParams(imf_base=Decimal(imf_base), mmf_factor=Decimal("0.5"))
    market = Market(
        symbol=symbol,
        base=base,
        quote="USD",
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_notional=Decimal(10),
        max_order_size=Decimal(max_order),
        position_limit=Decimal(position_limit),
        max_open_orders=100,
        max_leverage=Decimal(max_leverage),
        imf_base=margin.imf_base,
        mmf_factor=margin.mmf_factor,
        funding_period_hours=8,
    )
    return MarketSpec(market=market, margin=margin, initial_price=Decimal(price))


def default_markets() -> dict[str, MarketSpec]:
    """BTC, ETH and SOL perpetuals with precision close to what Paradex lists."""
    specs = [
        _perp("BTC", tick="0.1", step="0.00001", price="95000", max_order="100",
              position_limit="500", imf_base="0.02", max_leverage=50),
        _perp("ETH", tick="0.01", step="0.0001", price="3400", max_order="2000",
              position_limit="10000", imf_base="0.02", max_leverage=50),
        _perp("SOL", tick="0.001", step="0.01", price="190", max_order="50000",
              position_limit="250000", imf_base="0.05", max_leverage=20),
    ]
    return {spec.symbol: spec for spec in specs}
