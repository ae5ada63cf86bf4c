"""Strict readers of Aster JSON fields and the writers of its plain values.

Every reader failure raises ``MalformedMessage`` naming the payload (``where``) and the field, so a
drifted or corrupt venue message says what was wrong instead of surfacing as a KeyError deep in a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flashscalper.domain import ZERO
from flashscalper.errors import MalformedMessage
from flashscalper.exchanges.aster.auth import encode_value

VENUE = "aster"


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMessage(f"Aster {where}: expected a JSON object, got {type(value).__name__}")
    return value


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise MalformedMessage(f"Aster {where}: missing field '{key}'") from None


def _to_dec(value: Any, key: str, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not a number: {value!r}")
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise MalformedMessage(f"Aster {where}: field '{key}' is not a number: {value!r}") from None
    if not result.is_finite():
        raise MalformedMessage(f"Aster {where}: field '{key}' is not finite: {value!r}")
    return result


def _dec(obj: Mapping[str, Any], key: str, where: str) -> Decimal:
    return _to_dec(_get(obj, key, where), key, where)


def _opt_dec(obj: Mapping[str, Any], key: str, where: str, *, zero_is_none: bool = True) -> Decimal | None:
    """An optional number; Aster writes "0" for "not set" (price of a market order, stopPrice, avgPrice)."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    result = _to_dec(value, key, where)
    return None if zero_is_none and result == 0 else result


def _dec_or_zero(obj: Mapping[str, Any], key: str, where: str) -> Decimal:
    """An optional amount (fee, PnL, filled size, a filter bound) where absent means zero."""
    return _opt_dec(obj, key, where, zero_is_none=False) or ZERO


def _int(obj: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = obj.get(key) if default is not None else _get(obj, key, where)
    if value is None:
        return default  # type: ignore[return-value]
    if isinstance(value, bool):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not an integer: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not an integer: {value!r}") from None


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, where)
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    raise MalformedMessage(f"Aster {where}: field '{key}' is not a string: {value!r}")


def _flag(obj: Mapping[str, Any], key: str, where: str) -> bool:
    """Booleans come as JSON booleans or as "true"/"false" strings; absent means false."""
    value = obj.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MalformedMessage(f"Aster {where}: field '{key}' is not a boolean: {value!r}")


def _enum(table: Mapping[str, Any], obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = _get(obj, key, where)
    try:
        return table[value]
    except (KeyError, TypeError):
        raise MalformedMessage(f"Aster {where}: field '{key}' has unknown value {value!r}") from None


def _plain(value: Decimal | None) -> str:
    return "0" if value is None else encode_value(value)


def _wire_id(value: str) -> int | str:
    """Aster sends order, trade and aggregate ids as JSON numbers; a non-numeric id stays a string."""
    return int(value) if value.isdigit() else value
