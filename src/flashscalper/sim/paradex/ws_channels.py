"""Paradex WebSocket channel names as the simulator understands them (protocol/paradex.md §6.3).

``parse_channel(name, markets)`` turns a channel name into a :class:`Channel` or raises
:class:`ChannelError` with a message that says what is wrong. Routing keys are the channel names
themselves, so the hub can index subscribers by name and look them up per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Feed = Literal["snapshot", "deltas"]

PUBLIC_MARKET_KINDS = frozenset({"bbo", "trades", "funding_data"})
PRIVATE_MARKET_KINDS = frozenset({"orders", "fills", "funding_payments"})
PRIVATE_PLAIN_KINDS = frozenset({"positions", "account", "balance_events", "tradebusts"})
BOOK_DEPTH = 15
BOOK_RATES_MS = {"50ms": 50, "100ms": 100}
ALL = "ALL"


class ChannelError(ValueError):
    """The channel name is unknown or malformed (answered with JSON-RPC -32602)."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One parsed channel: its full ``name``, its ``kind`` (the part before the first dot), the market
    it is scoped to (``ALL`` or None when not market-scoped) and, for books, the feed and rate."""

    name: str
    kind: str
    market: str | None = None
    feed: Feed | None = None
    rate_ms: int = 0

    @property
    def private(self) -> bool:
        return self.kind in PRIVATE_MARKET_KINDS or self.kind in PRIVATE_PLAIN_KINDS

    @property
    def is_book(self) -> bool:
        return self.kind == "order_book"


def parse_channel(name: object, markets: frozenset[str] | set[str] | dict[str, object]) -> Channel:
    """Parse ``name`` against the venue's ``markets``; raises ChannelError when it is not servable."""
    if not isinstance(name, str) or not name:
        raise ChannelError("params.channel must be a non-empty string such as 'bbo.BTC-USD-PERP'")
    kind, dot, rest = name.partition(".")
    if kind in PRIVATE_PLAIN_KINDS:
        if dot:
            raise ChannelError(f"channel {kind!r} takes no market suffix")
        return Channel(name, kind)
    if kind == "markets_summary":
        if not dot or rest == ALL:
            return Channel(name, kind, ALL)
        return Channel(name, kind, _market(rest, markets, name))
    if kind in PUBLIC_MARKET_KINDS or kind in PRIVATE_MARKET_KINDS:
        if not dot:
            raise ChannelError(f"channel {kind!r} needs a market, e.g. '{kind}.BTC-USD-PERP' or '{kind}.ALL'")
        if rest == ALL:
            return Channel(name, kind, ALL)
        return Channel(name, kind, _market(rest, markets, name))
    if kind == "order_book":
        return _book_channel(name, rest, markets)
    raise ChannelError(f"unknown channel {name[:80]!r}; the simulator serves bbo, trades, order_book, "
                       "markets_summary, funding_data, orders, fills, positions, account, balance_events, "
                       "tradebusts, funding_payments")


def _market(text: str, markets: frozenset[str] | set[str] | dict[str, object], channel: str) -> str:
    if text not in markets:
        raise ChannelError(f"unknown market {text[:40]!r} in channel {channel[:80]!r}; known: "
                           f"{', '.join(sorted(markets))}")
    return text


def _book_channel(name: str, rest: str, markets: frozenset[str] | set[str] | dict[str, object]) -> Channel:
    # order_book.{market}.{feed}@{depth}@{rate}[@{price_tick}]; market symbols contain no dots
    market, dot, spec = rest.partition(".")
    if not dot:
        raise ChannelError(f"book channel {name[:80]!r} must look like "
                           "'order_book.BTC-USD-PERP.deltas@15@50ms'")
    market = _market(market, markets, name)
    parts = spec.split("@")
    if len(parts) == 4:
        raise ChannelError("price-tick grouped books are not served by the simulator; drop the @{price_tick}")
    if len(parts) != 3:
        raise ChannelError(f"book channel {name[:80]!r} must end in '{{feed}}@15@{{50ms|100ms}}'")
    feed, depth, rate = parts
    if feed not in ("snapshot", "deltas"):
        raise ChannelError(f"book feed must be 'snapshot' or 'deltas', got {feed[:20]!r}")
    if depth != str(BOOK_DEPTH):
        raise ChannelError(f"book depth is fixed at {BOOK_DEPTH}, got {depth[:10]!r}")
    rate_ms = BOOK_RATES_MS.get(rate)
    if rate_ms is None:
        raise ChannelError(f"book rate must be 50ms or 100ms, got {rate[:10]!r}")
    return Channel(name, "order_book", market, feed, rate_ms)  # type: ignore[arg-type]
