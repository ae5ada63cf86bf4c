"""Run the real ``flashscalper`` command with one extra, test-only strategy registered.

``FLASHSCALPER_STRATEGY=test_every_nth_quote`` then picks it: a BUY signal on every 5th two-sided quote of a
market, so ``flashscalper run`` opens a position within seconds instead of waiting for the scalper's setups.

    python tests/ops/cli_with_test_strategy.py run --duration 10
"""

from __future__ import annotations

import sys

from flashscalper.cli import app
from flashscalper.domain import Quote, Side
from flashscalper.strategy.base import Signal, Strategy, register_strategy


@register_strategy("test_every_nth_quote")
class EveryNthQuote(Strategy):
    """Tests only: BUY on every 5th two-sided quote of each market."""

    every = 5

    def __init__(self) -> None:
        self.count: dict[str, int] = {}

    def on_quote(self, quote: Quote) -> Signal | None:
        if quote.bid <= 0 or quote.ask <= 0:
            return None
        n = self.count[quote.market] = self.count.get(quote.market, 0) + 1
        if n % self.every:
            return None
        return Signal(quote.market, Side.BUY, 1.0, ("every 5th quote",), {}, quote.ts, "test", price=quote.mid)


if __name__ == "__main__":
    sys.exit(app())
