"""Strict readers of Paradex JSON fields, and the one writer of wire decimals.

A required field that is missing, of the wrong type or not a decimal raises ``MalformedMessage``
naming the field (``context.key``). Decimals are built from strings (or ints) only, never via float.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flashscalper.domain import Side
from flashscalper.errors import MalformedMessage


def _where(context: str, key: str) -> str:
    return f"{context}.{key}" if context else key


def require_obj(value: Any, context: str) -> Mapping[str, Any]:
    """``value`` as a JSON object, or MalformedMessage naming ``context``."""
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{context or 'message'}: expected a JSON object, got {type(value).__name__}")
    return value


def require_list(value: Any, context: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedMessage(f"{context}: expected a JSON array, got {type(value).__name__}")
    return value


def results(payload: Any, context: str) -> list[Any]:
    """The ``results`` array of a list endpoint."""
    return require_list(require_obj(payload, context).get("results"), _where(context, "results"))


def req(obj: Mapping[str, Any], key: str, context: str = "") -> Any:
    if key not in obj or obj[key] is None:
        raise MalformedMessage(f"missing field {_where(context, key)}")
    return obj[key]


def req_str(obj: Mapping[str, Any], key: str, context: str = "") -> str:
    value = req(obj, key, context)
    if not isinstance(value, str):
        raise MalformedMessage(f"field {_where(context, key)} must be a string, got {type(value).__name__}")
    return value


def opt_str(obj: Mapping[str, Any], key: str, context: str = "", default: str = "") -> str:
    if obj.get(key) is None:
        return default
    return req_str(obj, key, context)


def to_decimal(value: Any, where: str) -> Decimal:
    """A decimal from a JSON string or int. Floats are refused: they already lost precision."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedMessage(f"field {where} must be a decimal string, got {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MalformedMessage(f"field {where} is not a decimal: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise MalformedMessage(f"field {where} is not a finite decimal: {value!r}")
    return number


def req_dec(obj: Mapping[str, Any], key: str, context: str = "") -> Decimal:
    return to_decimal(req(obj, key, context), _where(context, key))


def opt_dec(obj: Mapping[str, Any], key: str, context: str = "") -> Decimal | None:
    """A decimal, or None when the field is absent, null or "" (Paradex writes "" for 'no value')."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    return to_decimal(value, _where(context, key))


def req_int(obj: Mapping[str, Any], key: str, context: str = "") -> int:
    """An integer from a JSON int or a string of digits (ms timestamps come both ways)."""
    value = req(obj, key, context)
    if isinstance(value, bool):
        raise MalformedMessage(f"field {_where(context, key)} must be an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise MalformedMessage(f"field {_where(context, key)} must be an integer, got {str(value)[:40]!r}")


def opt_int(obj: Mapping[str, Any], key: str, context: str = "", default: int = 0) -> int:
    if obj.get(key) is None or obj.get(key) == "":
        return default
    return req_int(obj, key, context)


def side_of(value: Any, where: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise MalformedMessage(f"field {where} must be BUY or SELL, got {str(value)[:20]!r}") from None


def dec_str(value: Decimal) -> str:
    """Plain decimal notation for the wire ("10", never "1E+1")."""
    text = format(value, "f")
    return "0" if text in ("-0", "") else text
