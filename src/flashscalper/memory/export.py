"""Exporting closed trades to CSV (standard library) or Parquet (needs ``pyarrow``).

Money stays exact: CSV cells hold the Decimal text, Parquet columns are ``decimal128(38, 18)``.
"""

from __future__ import annotations

import csv
import importlib
import json
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from flashscalper.errors import FlashScalperError
from flashscalper.memory.db import Database
from flashscalper.memory.queries import TRADE_COLUMNS, trade_records

__all__ = ["ExportError", "export_trades"]

_MONEY = {"size", "entry_price", "exit_price", "leverage", "pnl", "fees", "funding", "net_pnl", "roe", "net_roe"}
_INTS = {"id", "opened_at", "closed_at", "duration_ms"}
_JSON = {"signal", "features"}


class ExportError(FlashScalperError):
    """The export cannot be written (unknown format, missing pyarrow, unwritable path)."""


def export_trades(db: Database, path: str | Path, fmt: str, *, since_ms: int | None = None) -> int:
    """Write every trade (closed at or after ``since_ms``) to ``path`` as ``csv`` or ``parquet``.
    Returns the number of trades written."""
    fmt = fmt.lower()
    if fmt not in ("csv", "parquet"):
        raise ExportError(f"unknown export format {fmt!r}; use csv or parquet")
    writer = _write_csv if fmt == "csv" else _write_parquet
    if fmt == "parquet":
        _pyarrow()  # fail before touching the file
    records = trade_records(db, since_ms)
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        writer(records, target)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    return len(records)


def _cell(name: str, value: Any) -> Any:
    if name in _JSON:
        return json.dumps(value or {}, sort_keys=True)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _write_csv(records: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TRADE_COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow({name: _cell(name, record[name]) for name in TRADE_COLUMNS})


def _pyarrow() -> Any:
    try:
        return importlib.import_module("pyarrow")
    except ImportError:
        raise ExportError(
            "Parquet export needs pyarrow, which is not installed; install it with `pip install pyarrow` "
            "or export CSV instead (--export csv)"
        ) from None


def _write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    pa = _pyarrow()
    parquet = importlib.import_module("pyarrow.parquet")
    fields = []
    for name in TRADE_COLUMNS:
        if name in _MONEY:
            kind = pa.decimal128(38, 18)
        elif name in _INTS:
            kind = pa.int64()
        elif name == "adopted":
            kind = pa.bool_()
        elif name == "confidence":
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    schema = pa.schema(fields)
    columns = {
        name: [_parquet_value(name, r[name]) for r in records] for name in TRADE_COLUMNS
    }
    parquet.write_table(pa.table(columns, schema=schema), path)


def _parquet_value(name: str, value: Any) -> Any:
    if name in _JSON:
        return json.dumps(value or {}, sort_keys=True)
    if name in _MONEY and value is not None:
        with localcontext() as ctx:  # decimal128(38, 18) holds 20 integer digits; the default context 28
            ctx.prec = 38
            return Decimal(value).quantize(Decimal("1e-18"))
    return value
