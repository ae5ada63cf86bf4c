"""Importing candles and trades: every accepted shape, and clear errors naming file and row."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flashscalper.domain import Quote, Side, Trade
from flashscalper.replay.data import DataError, candles_to_events, load_candles, load_dataset, market_spec

T0 = 1_704_067_200_000
ROWS = [[T0, "100", "105", "99", "104", "30"], [T0 + 60_000, "104", "104.5", "101", "102", "9"]]


def test_json_arrays_csv_and_parquet_give_the_same_candles(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps(ROWS))
    (tmp_path / "c.csv").write_text("Timestamp,Open,High,Low,Close,Volume\n"
                                    + "\n".join(",".join(map(str, r)) for r in ROWS) + "\n")
    pq.write_table(pa.table({k: [r[i] for r in ROWS] for i, k in
                             enumerate(("ts", "open", "high", "low", "close", "volume"))}), tmp_path / "c.parquet")
    loaded = [load_candles(tmp_path / f"c.{ext}") for ext in ("json", "csv", "parquet")]
    assert loaded[0] == loaded[1] == loaded[2]
    assert loaded[0][0].high == Decimal(105) and loaded[0][1].ts == T0 + 60_000


def test_candles_become_a_documented_tick_path(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps(ROWS))
    candles = load_candles(tmp_path / "c.json")
    spec = market_spec("TEST-USD-PERP", Decimal(100), tick=Decimal("0.5"), step=Decimal("0.1"))
    events = list(candles_to_events(candles, spec))
    quotes = [e for e in events if isinstance(e, Quote)]
    mids = [(q.bid + q.ask) / 2 for q in quotes]
    # up candle O->L->H->C, down candle O->H->L->C; one tick either side
    assert mids == [100, 99, 105, 104, 104, Decimal("104.5"), 101, 102]
    assert all(q.ask - q.bid == Decimal(1) for q in quotes)
    assert [q.ts - T0 for q in quotes[:4]] == [0, 15_000, 30_000, 45_000]
    trades = [e for e in events if isinstance(e, Trade)]
    assert [t.taker_side for t in trades[:3]] == [Side.SELL, Side.BUY, Side.SELL]
    assert trades[0].size == Decimal(10)  # volume 30 / 3


@pytest.mark.parametrize(("content", "message"), [
    ("timestamp,open,high,low,close,volume\n1,100,105,99,104,1\n2,100,x,99,104,1\n",
     r"c\.csv: row 2: high is not a number"),
    ("timestamp,open,high,low,close,volume\n1,100,105,99,104,1\n2,100,101,99,104,1\n", r"row 2: inconsistent candle"),
    ("timestamp,open,high,low\n1,100,105,99\n", r"row 1: missing 'close'"),
    ("timestamp,open,high,low,close,volume\n120,1,1,1,1,1\n60,1,1,1,1,1\n", r"row 2: timestamp .* is not after"),
])
def test_malformed_candles_name_file_and_row(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_candles(path)


def test_a_gap_is_an_error_unless_allowed(tmp_path: Path) -> None:
    rows = [ROWS[0], ROWS[1], [T0 + 240_000, "102", "103", "101", "102", "1"]]
    path = tmp_path / "gappy.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(DataError, match=r"gappy\.json: row 3: gap of 2 missing candle\(s\)"):
        load_candles(path)
    assert len(load_candles(path, allow_gaps=True)) == 3


def test_trades_import_to_quotes_and_trades(tmp_path: Path) -> None:
    path = tmp_path / "trades.json"
    path.write_text(json.dumps([[T0, "100.5", "0.2", "buy"], [T0 + 10, "100.0", "0.1", "SELL"]]))
    data = load_dataset(path, market="BTC-USD-PERP")
    events = list(data.events())
    assert [type(e).__name__ for e in events] == ["Quote", "Trade", "Quote", "Trade"]
    assert events[1].taker_side is Side.BUY and events[3].price == Decimal("100.0")
    bad = tmp_path / "trades_bad.csv"
    bad.write_text("timestamp,price,size,side\n1,100,1,up\n")
    with pytest.raises(DataError, match=r"trades_bad\.csv: row 1: side must be buy or sell"):
        load_dataset(bad)
