"""Aster (Binance-fapi-shaped) JSON ↔ domain types, in both directions.

The client reads venue JSON with the ``*_from_*`` functions; the simulator serves domain state with the
``*_to_*`` functions, so both sides agree on one wire shape. Parsing is lenient where the live API drifts
from the docs (numbers as strings or JSON numbers, ``minNotional``/``notional``, ``orderTypes``/``OrderType``,
a missing ``maker``) and strict where a missing field would corrupt state: those raise ``MalformedMessage``
naming the payload and the field. Field names follow protocol/aster.md §5, §8, §11 and §12.

One module per job, all re-exported here: ``symbols`` (exchangeInfo), ``orders`` (order objects and
new-order params), ``account`` (fills, positions, balances, account), ``market_data`` (tickers, depth,
trades, mark prices), ``user_stream`` (user-data-stream events); ``common`` holds the strict field readers
and ``vocabulary`` the enum words they share.
"""

from .account import (
    account_snapshot_from_json,
    account_to_json,
    balance_from_account,
    balance_from_balances,
    balance_to_json,
    fill_from_user_trade,
    fill_to_user_trade,
    position_from_risk,
    position_to_risk,
)
from .common import VENUE
from .market_data import (
    DepthDiff,
    book_from_depth,
    book_to_depth_snapshot,
    depth_diff_from_stream,
    depth_update_to_json,
    mark_price_from_json,
    mark_price_to_json,
    quote_from_book_ticker,
    quote_to_book_ticker,
    trade_from_agg_trade,
    trade_from_rest,
    trade_to_agg_trade,
    unwrap_stream,
)
from .orders import (
    CLIENT_ID_PATTERN,
    order_from_json,
    order_request_from_params,
    order_request_to_params,
    order_to_json,
)
from .symbols import (
    SymbolRules,
    exchange_info_to_json,
    markets_from_exchange_info,
    symbol_rules_from_json,
    symbol_rules_to_json,
)
from .user_stream import (
    WalletChange,
    account_update_to_json,
    events_from_user_stream,
    order_trade_update_to_json,
    wallet_changes_from_account_update,
)
from .vocabulary import order_status_from_aster

__all__ = [
    "CLIENT_ID_PATTERN",
    "VENUE",
    "DepthDiff",
    "SymbolRules",
    "WalletChange",
    "account_snapshot_from_json",
    "account_to_json",
    "account_update_to_json",
    "balance_from_account",
    "balance_from_balances",
    "balance_to_json",
    "book_from_depth",
    "book_to_depth_snapshot",
    "depth_diff_from_stream",
    "depth_update_to_json",
    "events_from_user_stream",
    "exchange_info_to_json",
    "fill_from_user_trade",
    "fill_to_user_trade",
    "mark_price_from_json",
    "mark_price_to_json",
    "markets_from_exchange_info",
    "order_from_json",
    "order_request_from_params",
    "order_request_to_params",
    "order_status_from_aster",
    "order_to_json",
    "order_trade_update_to_json",
    "position_from_risk",
    "position_to_risk",
    "quote_from_book_ticker",
    "quote_to_book_ticker",
    "symbol_rules_from_json",
    "symbol_rules_to_json",
    "trade_from_agg_trade",
    "trade_from_rest",
    "trade_to_agg_trade",
    "unwrap_stream",
    "wallet_changes_from_account_update",
]
