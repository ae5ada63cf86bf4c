"""The default strategy: a tick-driven momentum / mean-reversion scalper.

Every quote (top-of-book event) updates, per market, on the mid price: a fast and a slow EMA, a
Wilder RSI, a tick ATR (typical size of a mid move), Bollinger bands and a realised-volatility
regime; and, from the quote, the spread and the top-of-book size imbalance. Order-book updates
replace the size imbalance with a depth imbalance over the top levels (while they stay fresh), and
public trades feed a time-windowed taker-flow delta. Nothing waits for a candle to close.

Once every indicator has warmed up, each quote is checked in this order:

1. **Cooldown** – at most one signal per market per ``cooldown_ms`` (event time).
2. **Spread filter** – skip when the book is crossed/locked, when the spread is wider than
   ``max_spread_atr`` × tick ATR (the move we hope to catch would not pay the spread), or wider than
   ``max_spread_bps``.
3. **Volatility gate** – skip in the LOW regime (``block_low_vol``) and optionally in HIGH
   (``block_high_vol``); in HIGH the confidence is multiplied by ``high_vol_factor``.
4. **Setup** –
   *momentum_breakout*: the fast EMA is at least ``trend_threshold_atr`` ATRs away from the slow EMA,
   the mid is on the trend side of the fast EMA (still pushing), and RSI agrees without being
   exhausted (BUY needs ``rsi_momentum_floor`` ≤ RSI ≤ ``rsi_overbought``, SELL the mirror image).
   *mean_reversion* (if enabled, only without a trend: gap < ``mr_max_trend_atr`` ATRs): the mid is
   ``mr_zscore`` standard deviations outside the Bollinger middle and RSI is stretched the same way
   (≥ ``mr_rsi_high`` / ≤ ``mr_rsi_low``); the signal fades the stretch.
5. **Vetoes** – book imbalance against the side by more than ``imbalance_veto``, or taker flow
   against it by more than ``flow_veto`` (flow only counts when trades printed in the window).
6. **Confidence** – a weighted mean of five components, each in [0, 1]::

       setup     momentum: |EMA gap| / (trend_full_atr × ATR);  mean reversion: |z| / mr_full_zscore
       flow      taker-flow ratio in the signal's direction (0 when against or no trades)
       imbalance book imbalance in the signal's direction (0 when against)
       rsi       momentum: room left before overbought/oversold, (OB − RSI) / (OB − 50) for a BUY;
                 mean reversion: how far past the stretch level, (RSI − high) / (100 − high) for a SELL
       spread    1 − spread / (max_spread_atr × ATR)

   confidence = Σ wᵢ·cᵢ / Σ wᵢ with the ``w_*`` weights of ``ScalperParams`` (defaults 0.35, 0.25,
   0.20, 0.10, 0.10), times ``high_vol_factor`` in the HIGH regime. A signal is emitted only when
   confidence ≥ ``min_confidence``.

Signals carry human-readable reasons, a feature snapshot for learning, and the setup name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flashscalper.domain import BookUpdate, MarkPrice, Quote, Side, Trade
from flashscalper.errors import ConfigError
from flashscalper.strategy.base import Signal, Strategy, register_strategy
from flashscalper.strategy.indicators import EMA, RSI, Bollinger, TickATR
from flashscalper.strategy.microstructure import (
    OrderBookImbalance,
    SpreadMonitor,
    TradeFlowDelta,
    VolatilityRegime,
    VolRegime,
)

_REGIME_CODE = {VolRegime.LOW: 0.0, VolRegime.NORMAL: 1.0, VolRegime.HIGH: 2.0}


class ScalperParams(BaseModel):
    """Thresholds and weights of the default scalper. Periods and windows count quote events unless
    named ``*_ms`` (event-time milliseconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fast_ema: int = Field(8, ge=1)
    slow_ema: int = Field(34, ge=2)
    rsi_period: int = Field(14, ge=2)
    atr_period: int = Field(30, ge=2)
    bollinger_period: int = Field(60, ge=5)
    bollinger_k: float = Field(2.0, gt=0)
    book_levels: int = Field(5, ge=1)
    book_stale_ms: int = Field(2_000, ge=0)
    flow_window_ms: int = Field(5_000, gt=0)
    vol_short_window: int = Field(30, ge=5)
    vol_long_window: int = Field(300, ge=10)
    vol_low_ratio: float = Field(0.5, gt=0)
    vol_high_ratio: float = Field(2.0, gt=0)

    trend_threshold_atr: float = Field(1.5, gt=0)
    trend_full_atr: float = Field(4.0, gt=0)
    rsi_momentum_floor: float = Field(52.0, ge=50, le=100)
    rsi_overbought: float = Field(80.0, gt=50, lt=100)
    rsi_oversold: float = Field(20.0, gt=0, lt=50)
    mean_reversion: bool = True
    mr_zscore: float = Field(2.5, gt=0)
    mr_full_zscore: float = Field(3.5, gt=0)
    mr_max_trend_atr: float = Field(1.5, ge=0)
    mr_rsi_high: float = Field(65.0, gt=50, lt=100)
    mr_rsi_low: float = Field(35.0, gt=0, lt=50)
    max_spread_atr: float = Field(2.0, gt=0)
    max_spread_bps: float = Field(10.0, gt=0)
    block_low_vol: bool = True
    block_high_vol: bool = False
    high_vol_factor: float = Field(0.85, ge=0, le=1)
    imbalance_veto: float = Field(0.4, ge=0, le=1)
    flow_veto: float = Field(0.3, ge=0, le=1)
    min_confidence: float = Field(0.5, ge=0, le=1)
    cooldown_ms: int = Field(3_000, ge=0)

    w_setup: float = Field(0.35, ge=0)
    w_flow: float = Field(0.25, ge=0)
    w_imbalance: float = Field(0.20, ge=0)
    w_rsi: float = Field(0.10, ge=0)
    w_spread: float = Field(0.10, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> ScalperParams:
        if self.fast_ema >= self.slow_ema:
            raise ValueError(f"fast_ema ({self.fast_ema}) must be shorter than slow_ema ({self.slow_ema})")
        if self.vol_short_window >= self.vol_long_window:
            raise ValueError("vol_short_window must be shorter than vol_long_window")
        if self.vol_low_ratio >= self.vol_high_ratio:
            raise ValueError("vol_low_ratio must be below vol_high_ratio")
        if self.w_setup + self.w_flow + self.w_imbalance + self.w_rsi + self.w_spread <= 0:
            raise ValueError("at least one confidence weight must be positive")
        return self


class MarketState:
    """All indicators of one market, plus when it last signalled."""

    __slots__ = (
        "atr",
        "bands",
        "book_imbalance",
        "book_ts",
        "ema_fast",
        "ema_slow",
        "flow",
        "last_signal_ts",
        "mark",
        "quote_imbalance",
        "rsi",
        "spread",
        "vol",
        "warm",
    )

    def __init__(self, p: ScalperParams) -> None:
        self.ema_fast = EMA(p.fast_ema)
        self.ema_slow = EMA(p.slow_ema)
        self.rsi = RSI(p.rsi_period)
        self.atr = TickATR(p.atr_period)
        self.bands = Bollinger(p.bollinger_period, p.bollinger_k)
        self.spread = SpreadMonitor()
        self.vol = VolatilityRegime(p.vol_short_window, p.vol_long_window, p.vol_low_ratio, p.vol_high_ratio)
        self.quote_imbalance = OrderBookImbalance(1)
        self.book_imbalance = OrderBookImbalance(p.book_levels)
        self.book_ts = -(2**62)
        self.flow = TradeFlowDelta(p.flow_window_ms)
        self.last_signal_ts = -(2**62)
        self.mark = math.nan
        self.warm = False

    def update_quote(self, quote: Quote) -> float:
        """Feed one quote to every quote-driven indicator; returns the mid as a float.

        A one-sided quote (a side at price 0) has no meaningful mid: it is skipped and NaN returned.
        """
        bid = float(quote.bid)
        ask = float(quote.ask)
        if not (bid > 0.0 and ask > 0.0):
            return math.nan
        mid = (bid + ask) * 0.5
        self.ema_fast.update(mid)
        self.ema_slow.update(mid)
        self.rsi.update(mid)
        self.atr.update(mid)
        self.bands.update(mid)
        self.spread.update(bid, ask)
        self.vol.update(mid)
        self.flow.advance(quote.ts)  # expire old prints even when no trade arrives
        self.quote_imbalance.update(float(quote.bid_size), float(quote.ask_size))
        return mid

    @property
    def ready(self) -> bool:
        return self.ema_slow.ready and self.rsi.ready and self.atr.ready and self.bands.ready and self.vol.ready


@register_strategy("scalper")
class ScalperStrategy(Strategy):
    """Momentum / mean-reversion scalper driven by quotes; see the module docstring for the rules."""

    def __init__(self, params: ScalperParams | Mapping[str, Any] | None = None) -> None:
        if params is None:
            params = ScalperParams()
        elif not isinstance(params, ScalperParams):
            try:
                params = ScalperParams(**dict(params))
            except ValidationError as exc:
                raise ConfigError(f"invalid scalper parameters: {exc}") from exc
        self.params = params
        self._states: dict[str, MarketState] = {}

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None = None) -> ScalperStrategy:
        return cls(params)

    def state(self, market: str) -> MarketState:
        """Indicator state of ``market`` (created on first use)."""
        st = self._states.get(market)
        if st is None:
            st = self._states[market] = MarketState(self.params)
        return st

    def is_ready(self, market: str) -> bool:
        st = self._states.get(market)
        return st is not None and st.ready

    # ---- callbacks --------------------------------------------------------------------------

    def on_trade(self, trade: Trade) -> Signal | None:
        self.state(trade.market).flow.update_trade(trade)
        return None

    def on_book(self, book: BookUpdate) -> Signal | None:
        st = self.state(book.market)
        st.book_imbalance.update_book(book)
        st.book_ts = book.ts
        return None

    def on_mark(self, mark: MarkPrice) -> Signal | None:
        self.state(mark.market).mark = float(mark.mark)
        return None

    def on_quote(self, quote: Quote) -> Signal | None:
        st = self._states.get(quote.market)
        if st is None:
            st = self.state(quote.market)
        mid = st.update_quote(quote)
        if mid != mid:  # one-sided book: nothing to trade on
            return None
        ts = quote.ts
        if not st.warm:
            if not st.ready:
                return None
            st.warm = True
        if ts - st.last_signal_ts < self.params.cooldown_ms:
            return None
        signal = self._evaluate(st, quote, mid)
        if signal is not None:
            st.last_signal_ts = ts
        return signal

    # ---- decision ---------------------------------------------------------------------------

    def imbalance(self, st: MarketState, ts: int) -> float:
        """Depth imbalance while book updates are fresh, else top-of-book size imbalance."""
        if ts - st.book_ts <= self.params.book_stale_ms:
            return st.book_imbalance.value
        return st.quote_imbalance.value

    def _evaluate(self, st: MarketState, quote: Quote, mid: float) -> Signal | None:
        p = self.params
        atr = st.atr.value
        if not atr > 0.0:
            return None
        fast = st.ema_fast.value
        gap_atr = (fast - st.ema_slow.value) / atr
        rsi = st.rsi.value
        side: Side | None = None
        setup = ""
        if gap_atr >= p.trend_threshold_atr and mid >= fast and p.rsi_momentum_floor <= rsi <= p.rsi_overbought:
            side, setup = Side.BUY, "momentum_breakout"
        elif (
            gap_atr <= -p.trend_threshold_atr and mid <= fast and p.rsi_oversold <= rsi <= 100.0 - p.rsi_momentum_floor
        ):
            side, setup = Side.SELL, "momentum_breakout"
        elif p.mean_reversion and abs(gap_atr) < p.mr_max_trend_atr:
            z = st.bands.zscore
            if z >= p.mr_zscore and rsi >= p.mr_rsi_high:
                side, setup = Side.SELL, "mean_reversion"
            elif z <= -p.mr_zscore and rsi <= p.mr_rsi_low:
                side, setup = Side.BUY, "mean_reversion"
        if side is None:
            return None
        # Gates are checked after the setup only because most ticks have no setup; the order of
        # AND-ed conditions does not change the outcome.
        spread = st.spread.spread
        spread_atr = spread / atr
        if spread <= 0.0 or spread_atr > p.max_spread_atr or st.spread.bps > p.max_spread_bps:
            return None
        regime = st.vol.regime
        if (regime is VolRegime.LOW and p.block_low_vol) or (regime is VolRegime.HIGH and p.block_high_vol):
            return None

        sign = 1.0 if side is Side.BUY else -1.0
        imbalance = self.imbalance(st, quote.ts)
        if sign * imbalance < -p.imbalance_veto:
            return None
        flow = st.flow
        has_flow = flow.trade_count > 0
        flow_ratio = flow.ratio
        if has_flow and sign * flow_ratio < -p.flow_veto:
            return None
        return self._build_signal(
            st, quote, mid, side, setup, gap_atr, rsi, imbalance, flow_ratio, has_flow, spread_atr, regime
        )

    def _build_signal(
        self,
        st: MarketState,
        quote: Quote,
        mid: float,
        side: Side,
        setup: str,
        gap_atr: float,
        rsi: float,
        imbalance: float,
        flow_ratio: float,
        has_flow: bool,
        spread_atr: float,
        regime: VolRegime,
    ) -> Signal | None:
        p = self.params
        sign = 1.0 if side is Side.BUY else -1.0
        z = st.bands.zscore
        if setup == "momentum_breakout":
            c_setup = min(1.0, abs(gap_atr) / p.trend_full_atr)
            extreme = p.rsi_overbought if side is Side.BUY else p.rsi_oversold
            c_rsi = _clip01((extreme - rsi) / (extreme - 50.0))
        else:
            c_setup = min(1.0, abs(z) / p.mr_full_zscore)
            if side is Side.SELL:
                c_rsi = _clip01((rsi - p.mr_rsi_high) / (100.0 - p.mr_rsi_high))
            else:
                c_rsi = _clip01((p.mr_rsi_low - rsi) / p.mr_rsi_low)
        c_flow = max(0.0, sign * flow_ratio) if has_flow else 0.0
        c_imb = max(0.0, sign * imbalance)
        c_spread = _clip01(1.0 - spread_atr / p.max_spread_atr)
        weight_sum = p.w_setup + p.w_flow + p.w_imbalance + p.w_rsi + p.w_spread
        confidence = (
            p.w_setup * c_setup + p.w_flow * c_flow + p.w_imbalance * c_imb + p.w_rsi * c_rsi + p.w_spread * c_spread
        ) / weight_sum
        if regime is VolRegime.HIGH:
            confidence *= p.high_vol_factor
        confidence = _clip01(confidence)
        if confidence < p.min_confidence:
            return None

        fast, slow = st.ema_fast.value, st.ema_slow.value
        word = "above" if gap_atr > 0 else "below"
        if setup == "momentum_breakout":
            trend = "uptrend" if side is Side.BUY else "downtrend"
            setup_reason = (
                f"EMA{p.fast_ema} {word} EMA{p.slow_ema} by {abs(gap_atr):.1f} ATR ({trend}), mid beyond fast EMA"
            )
            rsi_reason = f"RSI {rsi:.0f} confirms momentum without being exhausted"
        else:
            stretch = "above the upper" if z > 0 else "below the lower"
            setup_reason = f"mid {abs(z):.1f} sd {stretch} Bollinger band in a trendless market, fading it"
            rsi_reason = f"RSI {rsi:.0f} stretched {'up' if z > 0 else 'down'} with the move"
        favour = "bids" if imbalance > 0 else "asks"
        flow_reason = (
            f"taker flow {flow_ratio:+.0%} over {p.flow_window_ms / 1000:g}s"
            if has_flow
            else "no trades in the flow window"
        )
        reasons = (
            setup_reason,
            rsi_reason,
            f"book imbalance {imbalance:+.2f} favours {favour}",
            flow_reason,
            f"spread {spread_atr:.2f} ATR (limit {p.max_spread_atr:g})",
            f"volatility regime {regime.value} (short/long {st.vol.ratio:.2f})",
        )
        features = {
            "mid": mid,
            "ema_fast": fast,
            "ema_slow": slow,
            "ema_gap_atr": gap_atr,
            "rsi": rsi,
            "atr": st.atr.value,
            "bollinger_z": z,
            "spread": st.spread.spread,
            "spread_atr": spread_atr,
            "spread_bps": st.spread.bps,
            "imbalance": imbalance,
            "flow_ratio": flow_ratio,
            "flow_delta": st.flow.delta,
            "flow_trades": float(st.flow.trade_count),
            "vol_ratio": st.vol.ratio,
            "vol_regime": _REGIME_CODE[regime],
            "confidence": confidence,
        }
        if st.mark == st.mark:  # only once a mark price has arrived (NaN before)
            features["mark"] = st.mark
        return Signal(
            market=quote.market,
            side=side,
            confidence=confidence,
            reasons=reasons,
            features=features,
            ts=quote.ts,
            setup=setup,
            strategy=self.name,
            price=quote.mid,
        )


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
