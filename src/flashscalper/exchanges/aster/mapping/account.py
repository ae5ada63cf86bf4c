"""Account state both ways: user trades (fills), positionRisk rows, balances and the ``/fapi/v4/account`` view."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flashscalper.domain import ZERO, AccountSnapshot, Balance, Fill, Liquidity, Position, Side
from flashscalper.errors import MalformedMessage

from .common import _dec, _dec_or_zero, _enum, _flag, _int, _obj, _opt_dec, _plain, _str, _wire_id
from .orders import order_from_json
from .vocabulary import _SIDES


def fill_from_user_trade(obj: Any) -> Fill:
    """A ``/fapi/v1/userTrades`` row (§8.5). ``fee`` is Aster's commission: positive = paid."""
    where = "userTrades row"
    obj = _obj(obj, where)
    # some live rows lack buyer/maker: assume taker, the conservative side for fee accounting
    maker = _flag(obj, "maker", where)
    return Fill(
        id=_str(obj, "id", where),
        order_id=_str(obj, "orderId", where),
        client_id=str(obj.get("clientOrderId", "")),
        market=_str(obj, "symbol", where),
        side=_enum(_SIDES, obj, "side", where),
        price=_dec(obj, "price", where),
        size=_dec(obj, "qty", where),
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        fee=_dec_or_zero(obj, "commission", where),
        realized_pnl=_dec_or_zero(obj, "realizedPnl", where),
        ts=_int(obj, "time", where),
    )


def fill_to_user_trade(fill: Fill, *, commission_asset: str = "USDT", position_side: str = "BOTH") -> dict[str, Any]:
    maker = fill.liquidity is Liquidity.MAKER
    return {
        "symbol": fill.market,
        "id": _wire_id(fill.id),
        "orderId": _wire_id(fill.order_id),
        "side": fill.side.value,
        "positionSide": position_side,
        "price": _plain(fill.price),
        "qty": _plain(fill.size),
        "quoteQty": _plain(fill.price * fill.size),
        "realizedPnl": _plain(fill.realized_pnl),
        "commission": _plain(fill.fee),
        "commissionAsset": commission_asset,
        "marginAsset": commission_asset,
        "time": fill.ts,
        "buyer": fill.side is Side.BUY,
        "maker": maker,
    }


def position_from_risk(obj: Any) -> Position:
    """A ``/fapi/v2/positionRisk`` row (§8.4): signed size in one-way mode."""
    where = "positionRisk row"
    obj = _obj(obj, where)
    return Position(
        market=_str(obj, "symbol", where),
        size=_dec(obj, "positionAmt", where),
        entry_price=_dec(obj, "entryPrice", where),
        mark_price=_dec_or_zero(obj, "markPrice", where),
        unrealized_pnl=_dec_or_zero(obj, "unRealizedProfit", where),
        leverage=_opt_dec(obj, "leverage", where),
        liquidation_price=_opt_dec(obj, "liquidationPrice", where),
        updated_at=_int(obj, "updateTime", where, default=0),
    )


def position_to_risk(
    position: Position, *, margin_type: str = "cross", max_notional: Decimal = Decimal(1_000_000)
) -> dict[str, Any]:
    return {
        "symbol": position.market,
        "positionAmt": _plain(position.size),
        "entryPrice": _plain(position.entry_price),
        "markPrice": _plain(position.mark_price),
        "unRealizedProfit": _plain(position.unrealized_pnl),
        "liquidationPrice": _plain(position.liquidation_price),
        "leverage": _plain(position.leverage or Decimal(20)),
        "maxNotionalValue": _plain(max_notional),
        "marginType": margin_type,
        "isolatedMargin": "0",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": _plain(position.size * (position.mark_price or position.entry_price)),
        "isolatedWallet": "0",
        "updateTime": position.updated_at,
    }


def balance_from_balances(rows: Any, asset: str = "USDT") -> Balance:
    """The ``asset`` row of ``/fapi/v2/balance`` (§8.3); a zero balance when the account has no such row."""
    if not isinstance(rows, list):
        raise MalformedMessage(f"Aster balance: expected a JSON array, got {type(rows).__name__}")
    for row in rows:
        row = _obj(row, "balance row")
        if row.get("asset") != asset:
            continue
        where = f"balance row {asset}"
        wallet = _dec(row, "balance", where)
        return Balance(
            asset=asset,
            wallet=wallet,
            equity=wallet + _dec_or_zero(row, "crossUnPnl", where),
            available=_dec(row, "availableBalance", where),
            updated_at=_int(row, "updateTime", where, default=0),
        )
    return Balance(asset=asset, wallet=ZERO, equity=ZERO, available=ZERO)


def balance_to_json(balance: Balance, *, unrealized_pnl: Decimal | None = None) -> dict[str, Any]:
    """One ``/fapi/v2/balance`` row."""
    upnl = balance.equity - balance.wallet if unrealized_pnl is None else unrealized_pnl
    return {
        "accountAlias": "FlashScalperSim",
        "asset": balance.asset,
        "balance": _plain(balance.wallet),
        "crossWalletBalance": _plain(balance.wallet),
        "crossUnPnl": _plain(upnl),
        "availableBalance": _plain(balance.available),
        "maxWithdrawAmount": _plain(max(balance.available, ZERO)),
        "marginAvailable": True,
        "updateTime": balance.updated_at,
    }


def balance_from_account(obj: Any, asset: str = "USDT") -> Balance:
    """The account-wide collateral view of ``/fapi/v4/account`` (§8.2), labelled with ``asset``."""
    where = "account"
    obj = _obj(obj, where)
    return Balance(
        asset=asset,
        wallet=_dec(obj, "totalWalletBalance", where),
        equity=_dec(obj, "totalMarginBalance", where),
        available=_dec(obj, "availableBalance", where),
        initial_margin=_dec_or_zero(obj, "totalInitialMargin", where),
        maintenance_margin=_dec_or_zero(obj, "totalMaintMargin", where),
        updated_at=_int(obj, "updateTime", where, default=0),
    )


def account_snapshot_from_json(
    account: Any, open_orders: Sequence[Any] = (), asset: str = "USDT", ts: int = 0
) -> AccountSnapshot:
    """Balance + non-flat positions of ``/fapi/v4/account`` + parsed open orders, for reconciliation."""
    where = "account positions[]"
    positions = []
    for raw in _obj(account, "account").get("positions") or []:
        row = _obj(raw, where)
        size = _dec(row, "positionAmt", where)
        if size == 0:
            continue  # the account lists every symbol
        positions.append(
            Position(
                market=_str(row, "symbol", where),
                size=size,
                entry_price=_dec(row, "entryPrice", where),
                unrealized_pnl=_dec_or_zero(row, "unrealizedProfit", where),
                leverage=_opt_dec(row, "leverage", where),
                updated_at=_int(row, "updateTime", where, default=0),
            )
        )
    return AccountSnapshot(
        balance=balance_from_account(account, asset),
        positions=positions,
        open_orders=[order_from_json(o) for o in open_orders],
        ts=ts,
    )


def account_to_json(balance: Balance, positions: Iterable[Position] = ()) -> dict[str, Any]:
    """A ``/fapi/v4/account`` answer for a single-asset cross-margin account."""
    p = _plain
    upnl = balance.equity - balance.wallet
    asset_row = {
        "asset": balance.asset, "walletBalance": p(balance.wallet), "unrealizedProfit": p(upnl),
        "marginBalance": p(balance.equity), "maintMargin": p(balance.maintenance_margin),
        "initialMargin": p(balance.initial_margin), "positionInitialMargin": p(balance.initial_margin),
        "openOrderInitialMargin": "0", "crossWalletBalance": p(balance.wallet), "crossUnPnl": p(upnl),
        "availableBalance": p(balance.available), "maxWithdrawAmount": p(max(balance.available, ZERO)),
        "marginAvailable": True, "updateTime": balance.updated_at,
    }  # fmt: skip
    position_rows = [
        {
            "symbol": pos.market, "initialMargin": "0", "maintMargin": "0",
            "unrealizedProfit": p(pos.unrealized_pnl), "positionInitialMargin": "0", "openOrderInitialMargin": "0",
            "leverage": p(pos.leverage or Decimal(20)), "isolated": False, "entryPrice": p(pos.entry_price),
            "maxNotional": "1000000", "positionSide": "BOTH", "positionAmt": p(pos.size),
            "updateTime": pos.updated_at,
        }
        for pos in positions
    ]
    return {
        "feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "updateTime": balance.updated_at,
        "totalInitialMargin": p(balance.initial_margin), "totalMaintMargin": p(balance.maintenance_margin),
        "totalWalletBalance": p(balance.wallet), "totalUnrealizedProfit": p(upnl),
        "totalMarginBalance": p(balance.equity), "totalPositionInitialMargin": p(balance.initial_margin),
        "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": p(balance.wallet),
        "totalCrossUnPnl": p(upnl), "availableBalance": p(balance.available),
        "maxWithdrawAmount": p(max(balance.available, ZERO)), "assets": [asset_row], "positions": position_rows,
    }  # fmt: skip
