"""The strategy API: Signal validation, event routing and the registry config uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import BookUpdate, MarkPrice, Quote, Side, Trade
from flashscalper.errors import ConfigError
from flashscalper.strategy.base import (
    Signal,
    Strategy,
    available_strategies,
    create_strategy,
    register_strategy,
    strategy_class,
)


def make_signal(confidence: float) -> Signal:
    return Signal(
        market="ETH-USD-PERP",
        side=Side.BUY,
        confidence=confidence,
        reasons=("because",),
        features={"rsi": 55.0},
        ts=1,
        setup="test",
    )


def test_signal_confidence_must_be_a_probability() -> None:
    assert make_signal(0.0).confidence == 0.0
    assert make_signal(1.0).confidence == 1.0
    for bad in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match="confidence"):
            make_signal(bad)


@register_strategy("test-echo")
class EchoStrategy(Strategy):
    """Signals a BUY on every trade and remembers what it saw."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.seen: list[str] = []

    def on_quote(self, quote: Quote) -> Signal | None:
        self.seen.append("quote")
        return None

    def on_trade(self, trade: Trade) -> Signal | None:
        self.seen.append("trade")
        return Signal(trade.market, trade.taker_side, self.threshold, ("echo",), {}, trade.ts, "echo")

    def on_book(self, book: BookUpdate) -> Signal | None:
        self.seen.append("book")
        return None

    def on_mark(self, mark: MarkPrice) -> Signal | None:
        self.seen.append("mark")
        return None


def test_registry_builds_a_strategy_by_name_with_config_params() -> None:
    strategy = create_strategy("test-echo", {"threshold": 0.7})
    assert isinstance(strategy, EchoStrategy) and strategy.threshold == 0.7
    assert strategy.name == "test-echo"
    assert "test-echo" in available_strategies()


def test_builtin_scalper_is_found_without_importing_it_first() -> None:
    assert "scalper" in available_strategies()
    cls = strategy_class("scalper")
    assert cls.name == "scalper"
    strategy = create_strategy("scalper", {"cooldown_ms": 500})
    assert strategy.params.cooldown_ms == 500  # type: ignore[attr-defined]


def test_unknown_strategy_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown strategy 'scalpr'.*scalper"):
        create_strategy("scalpr")


def test_a_name_cannot_be_taken_twice() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @register_strategy("test-echo")
        class Impostor(Strategy):
            pass


def test_on_event_routes_market_data_to_the_callbacks() -> None:
    strategy = EchoStrategy()
    d = Decimal
    quote = Quote("ETH-USD-PERP", d("1999"), d("1"), d("2001"), d("1"), ts=1)
    trade = Trade("ETH-USD-PERP", "t1", d("2000"), d("0.1"), Side.SELL, ts=2)
    book = BookUpdate("ETH-USD-PERP", (), (), ts=3)
    mark = MarkPrice("ETH-USD-PERP", d("2000"), ts=4)
    outputs = [strategy.on_event(ev) for ev in (quote, trade, book, mark, object())]
    assert strategy.seen == ["quote", "trade", "book", "mark"]
    assert outputs[1] is not None and outputs[1].side is Side.SELL
    assert [o for i, o in enumerate(outputs) if i != 1] == [None] * 4


def test_base_strategy_is_silent() -> None:
    quote = Quote("ETH-USD-PERP", Decimal(1), Decimal(1), Decimal(2), Decimal(1), ts=1)
    assert Strategy().on_event(quote) is None
