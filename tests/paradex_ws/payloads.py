"""Paradex channel payloads in their JSON shapes (protocol/paradex.md §2, §6.3)."""

from __future__ import annotations

from typing import Any

MARKET = "BTC-USD-PERP"
T0 = 1_700_000_000_000


def bbo(bid: str = "64999.5", ask: str = "65000.5", seq: int = 1, market: str = MARKET) -> dict[str, Any]:
    return {"market": market, "bid": bid, "bid_size": "1.25", "ask": ask, "ask_size": "0.5",
            "last_updated_at": T0 + seq, "seq_no": seq}


def trade(trade_id: str = "1700000000000000000000001", price: str = "65000", side: str = "BUY") -> dict[str, Any]:
    return {"id": trade_id, "market": MARKET, "side": side, "size": "0.01", "price": price,
            "created_at": T0 + 5, "trade_type": "FILL"}


def level(side: str, price: str, size: str) -> dict[str, str]:
    return {"side": side, "price": price, "size": size}


def book(seq: int, *, snapshot: bool = False, inserts: list[dict[str, str]] | None = None,
         updates: list[dict[str, str]] | None = None, deletes: list[dict[str, str]] | None = None,
         market: str = MARKET) -> dict[str, Any]:
    return {"market": market, "seq_no": seq, "last_updated_at": T0 + seq, "update_type": "s" if snapshot else "d",
            "inserts": inserts or [], "updates": updates or [], "deletes": deletes or []}


def starting_book(seq: int = 10) -> dict[str, Any]:
    return book(seq, snapshot=True, inserts=[
        level("BUY", "64999", "1"), level("BUY", "64998", "2"), level("BUY", "64990", "3"),
        level("SELL", "65001", "1"), level("SELL", "65002", "2"),
    ])


def summary(mark: str = "65000.1", market: str = MARKET) -> dict[str, Any]:
    return {"symbol": market, "mark_price": mark, "underlying_price": "64990", "funding_rate": "0.0001",
            "bid": "64999", "bid_size": "1", "ask": "65001", "ask_size": "1", "last_traded_price": "65000",
            "volume_24h": "1000", "open_interest": "50", "total_volume": "9999", "created_at": T0 + 7}


def funding(rate: str = "0.0002") -> dict[str, Any]:
    return {"market": MARKET, "funding_rate": rate, "funding_index": "12.5", "funding_premium": "0.1",
            "funding_rate_8h": "0.0003", "funding_period_hours": 8, "impact_premium_rate": "0", "created_at": T0 + 9}


def order(order_id: str = "1681462103821101699438490000", seq: int = 1, status: str = "OPEN",
          remaining: str = "0.1") -> dict[str, Any]:
    return {"id": order_id, "account": "0x1", "market": MARKET, "side": "BUY", "type": "LIMIT", "size": "0.1",
            "remaining_size": remaining, "price": "64000", "avg_fill_price": "", "status": status,
            "cancel_reason": "", "client_id": "c-1", "instruction": "GTC", "flags": [], "trigger_price": "0",
            "created_at": T0, "last_updated_at": T0 + seq, "seq_no": seq}


def fill(fill_id: str = "f-1", order_id: str = "1681462103821101699438490000") -> dict[str, Any]:
    return {"id": fill_id, "order_id": order_id, "client_id": "c-1", "market": MARKET, "side": "BUY",
            "liquidity": "MAKER", "price": "64000", "size": "0.05", "remaining_size": "0.05", "fee": "0.01",
            "fee_currency": "USDC", "realized_pnl": "0", "created_at": T0 + 11, "account": "0x1"}


def position(size: str = "0.05") -> dict[str, Any]:
    return {"id": f"0x1-{MARKET}", "account": "0x1", "market": MARKET, "status": "OPEN", "side": "LONG",
            "size": size, "average_entry_price": "64000", "unrealized_pnl": "1.5", "realized_positional_pnl": "0",
            "leverage": "10", "liquidation_price": "", "seq_no": 3, "last_updated_at": T0 + 12}


def account(value: str = "10001.5") -> dict[str, Any]:
    return {"account": "0x1", "account_value": value, "total_collateral": "10000", "free_collateral": "9000",
            "initial_margin_requirement": "320", "maintenance_margin_requirement": "160", "settlement_asset": "USDC",
            "status": "ACTIVE", "seq_no": 4, "updated_at": T0 + 13}


def balance_event(after: str = "9999.99") -> dict[str, Any]:
    return {"type": "TRANSACTION_FILL", "fill_id": "f-1", "market": MARKET, "status": "ON_BLOCKCHAIN",
            "settlement_asset_name": "USDC", "settlement_asset_balance_before": "10000",
            "settlement_asset_balance_after": after, "realized_pnl": "0", "fees": "0.01", "created_at": T0 + 14}
