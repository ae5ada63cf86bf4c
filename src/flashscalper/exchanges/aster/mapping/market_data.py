"""Market data both ways: book tickers, depth snapshots and diffs, trades and mark prices (REST and streams)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flashscalper.domain import ZERO, BookLevel, BookUpdate, MarkPrice, Quote, Side, Trade
from flashscalper.errors import MalformedMessage

from .common import _dec, _flag, _get, _int, _obj, _opt_dec, _plain, _str, _to_dec, _wire_id


def _event_ts(obj: Mapping[str, Any], where: str) -> int:
    # the transaction time T when the event carries one, else the event time E
    return _int(obj, "T", where, default=0) or _int(obj, "E", where)


def unwrap_stream(message: Any) -> tuple[str | None, dict[str, Any]]:
    """``{"stream": name, "data": payload}`` (combined) → (name, payload); a raw payload → (None, payload)."""
    message = _obj(message, "stream message")
    if "stream" in message and "data" in message:
        return str(message["stream"]), _obj(message["data"], f"stream {message['stream']} data")
    return None, message


def quote_from_book_ticker(obj: Any) -> Quote:
    """A ``bookTicker`` stream event, or a REST ``/fapi/v1/ticker/bookTicker`` object."""
    obj = _obj(obj, "bookTicker")
    if "s" in obj:
        where = "bookTicker event"
        return Quote(
            market=_str(obj, "s", where),
            bid=_dec(obj, "b", where),
            bid_size=_dec(obj, "B", where),
            ask=_dec(obj, "a", where),
            ask_size=_dec(obj, "A", where),
            ts=_event_ts(obj, where),
            seq_no=_int(obj, "u", where, default=0),
        )
    where = "bookTicker"
    return Quote(
        market=_str(obj, "symbol", where),
        bid=_dec(obj, "bidPrice", where),
        bid_size=_dec(obj, "bidQty", where),
        ask=_dec(obj, "askPrice", where),
        ask_size=_dec(obj, "askQty", where),
        ts=_int(obj, "time", where, default=0),
    )


def quote_to_book_ticker(quote: Quote, *, update_id: int, event_time: int | None = None) -> dict[str, Any]:
    """The ``<symbol>@bookTicker`` stream event."""
    return {
        "e": "bookTicker", "u": update_id, "E": quote.ts if event_time is None else event_time, "T": quote.ts,
        "s": quote.market, "b": _plain(quote.bid), "B": _plain(quote.bid_size),
        "a": _plain(quote.ask), "A": _plain(quote.ask_size),
    }  # fmt: skip


def _levels(obj: Mapping[str, Any], key: str, where: str) -> tuple[BookLevel, ...]:
    raw = _get(obj, key, where)
    if not isinstance(raw, list):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not a list of [price, qty]")
    levels = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) < 2:
            raise MalformedMessage(f"Aster {where}: field '{key}' has a level that is not [price, qty]: {item!r}")
        levels.append(BookLevel(_to_dec(item[0], key, where), _to_dec(item[1], key, where)))
    return tuple(levels)


def _levels_to_json(levels: Iterable[BookLevel]) -> list[list[str]]:
    return [[_plain(lv.price), _plain(lv.size)] for lv in levels]


def _sorted_book(bids: Iterable[BookLevel], asks: Iterable[BookLevel]) -> tuple[tuple[BookLevel, ...], ...]:
    return (
        tuple(sorted(bids, key=lambda lv: lv.price, reverse=True)),
        tuple(sorted(asks, key=lambda lv: lv.price)),
    )


def book_from_depth(obj: Any, symbol: str | None = None) -> BookUpdate:
    """A full view of the book: the REST ``/fapi/v1/depth`` snapshot (pass ``symbol``; it has none) or a
    partial-depth stream event ``<s>@depth5/10/20`` (which carries ``s``). Best level first on both sides."""
    obj = _obj(obj, "depth")
    if "lastUpdateId" in obj:
        where = "depth snapshot"
        if symbol is None:
            raise MalformedMessage("Aster depth snapshot: the caller must name the symbol")
        bids, asks = _levels(obj, "bids", where), _levels(obj, "asks", where)
        seq = _int(obj, "lastUpdateId", where)
        ts = _int(obj, "T", where, default=0) or _int(obj, "E", where, default=0)
    else:
        where = "depthUpdate event"
        symbol = _str(obj, "s", where)
        bids, asks = _levels(obj, "b", where), _levels(obj, "a", where)
        seq = _int(obj, "u", where)
        ts = _event_ts(obj, where)
    sorted_bids, sorted_asks = _sorted_book(bids, asks)
    return BookUpdate(symbol, sorted_bids, sorted_asks, ts=ts, seq_no=seq, is_snapshot=True)


def book_to_depth_snapshot(book: BookUpdate, *, last_update_id: int, event_time: int | None = None) -> dict:
    """The REST ``/fapi/v1/depth`` answer."""
    return {
        "lastUpdateId": last_update_id,
        "E": book.ts if event_time is None else event_time,
        "T": book.ts,
        "bids": _levels_to_json(book.bids),
        "asks": _levels_to_json(book.asks),
    }


@dataclass(frozen=True, slots=True)
class DepthDiff:
    """One diff-depth event (§13): absolute sizes per level, size 0 deletes; chain on ``prev_final_id``."""

    market: str
    first_id: int  # U
    final_id: int  # u
    prev_final_id: int  # pu
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts: int
    event_time: int = 0


def depth_diff_from_stream(obj: Any) -> DepthDiff:
    """A ``<s>@depth`` / ``@depth@100ms`` diff event."""
    where = "depthUpdate event"
    obj = _obj(obj, where)
    return DepthDiff(
        market=_str(obj, "s", where),
        first_id=_int(obj, "U", where),
        final_id=_int(obj, "u", where),
        prev_final_id=_int(obj, "pu", where),
        bids=_levels(obj, "b", where),
        asks=_levels(obj, "a", where),
        ts=_event_ts(obj, where),
        event_time=_int(obj, "E", where, default=0),
    )


def depth_update_to_json(diff: DepthDiff) -> dict[str, Any]:
    """A ``depthUpdate`` event (diff or, with the top N levels, partial)."""
    return {
        "e": "depthUpdate", "E": diff.event_time or diff.ts, "T": diff.ts, "s": diff.market,
        "U": diff.first_id, "u": diff.final_id, "pu": diff.prev_final_id,
        "b": _levels_to_json(diff.bids),
        "a": _levels_to_json(diff.asks),
    }  # fmt: skip


def trade_from_agg_trade(obj: Any) -> Trade:
    """An ``aggTrade`` event (stream; ``m`` = buyer is maker, so the taker sold)."""
    where = "aggTrade event"
    obj = _obj(obj, where)
    return Trade(
        market=_str(obj, "s", where),
        id=_str(obj, "a", where),
        price=_dec(obj, "p", where),
        size=_dec(obj, "q", where),
        taker_side=Side.SELL if _flag(obj, "m", where) else Side.BUY,
        ts=_int(obj, "T", where),
    )


def trade_from_rest(symbol: str, obj: Any) -> Trade:
    """A ``/fapi/v1/trades`` row."""
    where = "trades row"
    obj = _obj(obj, where)
    return Trade(
        market=symbol,
        id=_str(obj, "id", where),
        price=_dec(obj, "price", where),
        size=_dec(obj, "qty", where),
        taker_side=Side.SELL if _flag(obj, "isBuyerMaker", where) else Side.BUY,
        ts=_int(obj, "time", where),
    )


def trade_to_agg_trade(trade: Trade, *, first_trade_id: int, last_trade_id: int, event_time: int | None = None) -> dict:
    return {
        "e": "aggTrade", "E": trade.ts if event_time is None else event_time, "s": trade.market,
        "a": _wire_id(trade.id), "p": _plain(trade.price), "q": _plain(trade.size),
        "f": first_trade_id, "l": last_trade_id, "T": trade.ts, "m": trade.taker_side is Side.SELL,
    }  # fmt: skip


def mark_price_from_json(obj: Any) -> MarkPrice:
    """A ``markPriceUpdate`` stream event or a REST ``/fapi/v1/premiumIndex`` object."""
    obj = _obj(obj, "markPrice")
    if "s" in obj:
        where = "markPriceUpdate event"
        return MarkPrice(
            market=_str(obj, "s", where),
            mark=_dec(obj, "p", where),
            ts=_int(obj, "E", where),
            index=_opt_dec(obj, "i", where),
            funding_rate=_opt_dec(obj, "r", where, zero_is_none=False),
        )
    where = "premiumIndex"
    return MarkPrice(
        market=_str(obj, "symbol", where),
        mark=_dec(obj, "markPrice", where),
        ts=_int(obj, "time", where, default=0),
        index=_opt_dec(obj, "indexPrice", where),
        funding_rate=_opt_dec(obj, "lastFundingRate", where, zero_is_none=False),
    )


def mark_price_to_json(mark: MarkPrice, *, next_funding_time: int) -> dict[str, Any]:
    """The ``<symbol>@markPrice`` stream event."""
    index = mark.index if mark.index is not None else mark.mark
    return {
        "e": "markPriceUpdate", "E": mark.ts, "s": mark.market, "p": _plain(mark.mark), "i": _plain(index),
        "P": _plain(mark.mark), "r": _plain(mark.funding_rate or ZERO), "T": next_funding_time,
    }  # fmt: skip
