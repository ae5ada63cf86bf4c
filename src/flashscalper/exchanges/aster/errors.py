"""Aster error codes and their translation into FlashScalper's typed errors.

The client calls :func:`error_from_response` on every REST answer; the simulator raises
:class:`AsterApiError` and serves :meth:`AsterApiError.body` with :attr:`AsterApiError.http_status`.
Codes come from protocol/aster.md §10 (Binance USDⓈ-M numbering). The HTTP status that goes with each
code is UNVERIFIED on Aster: most are 400, rate limits 429.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from flashscalper.errors import (
    AuthFailed,
    ExchangeError,
    ExchangeUnavailable,
    FlashScalperError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)

DEFAULT_WEIGHT_BACKOFF_S = 60.0  # request-weight limits count per minute
DEFAULT_ORDER_BACKOFF_S = 10.0  # the order-count limiter has shorter windows
DEFAULT_BAN_BACKOFF_S = 120.0  # an HTTP 418 ban lasts at least two minutes
_MAX_MSG = 300


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One row of the code table: Binance-style name, our error type, default text, HTTP status, advice."""

    name: str
    kind: type[ExchangeError]
    message: str
    http_status: int = 400
    advice: str = ""


def _rows() -> dict[int, CodeInfo]:
    auth, limit, rej, gone, down, err = (
        AuthFailed, RateLimited, OrderRejected, OrderNotFound, ExchangeUnavailable, ExchangeError,
    )  # fmt: skip
    reconcile = "the request may or may not have executed: reconcile by clientOrderId"
    return {
        -1000: CodeInfo("UNKNOWN", down, "An unknown error occurred while processing the request.", 500),
        -1001: CodeInfo("DISCONNECTED", down, "Internal error; unable to process your request.", 503, reconcile),
        -1003: CodeInfo("TOO_MANY_REQUESTS", limit, "Too many requests; current limit is %s requests per minute.",
                        429, "slow down; the request weight limit counts per IP"),
        -1006: CodeInfo("UNEXPECTED_RESP", down, "An unexpected response was received.", 503, reconcile),
        -1007: CodeInfo("TIMEOUT", down, "Timeout waiting for response from backend server.", 503, reconcile),
        -1015: CodeInfo("TOO_MANY_ORDERS", limit, "Too many new orders.", 429, "slow down order placement"),
        -1021: CodeInfo("INVALID_TIMESTAMP", auth, "Timestamp for this request is outside of the recvWindow.",
                        advice="resync the clock offset with GET /fapi/v1/time, or widen recvWindow"),
        -1022: CodeInfo("INVALID_SIGNATURE", auth, "Signature for this request is not valid.",
                        advice="check ASTER_API_SECRET (V1) or ASTER_SIGNER_PRIVATE_KEY and chain id (V3)"),
        -1102: CodeInfo("MANDATORY_PARAM_EMPTY_OR_MALFORMED", err, "A mandatory parameter was not sent or malformed."),
        -1106: CodeInfo("PARAM_NOT_REQUIRED", err, "A parameter was sent when not required."),
        -1111: CodeInfo("BAD_PRECISION", rej, "Precision is over the maximum defined for this asset.",
                        advice="round price and quantity to tickSize / stepSize"),
        -1115: CodeInfo("INVALID_TIMEINFORCE", rej, "Invalid timeInForce."),
        -1116: CodeInfo("INVALID_ORDER_TYPE", rej, "Invalid orderType."),
        -1117: CodeInfo("INVALID_SIDE", rej, "Invalid side."),
        -1121: CodeInfo("BAD_SYMBOL", err, "Invalid symbol.", advice="check the market symbol (e.g. BTCUSDT)"),
        -1125: CodeInfo("INVALID_LISTEN_KEY", auth, "This listenKey does not exist.",
                        advice="create a new listenKey and reconnect the user stream"),
        -2010: CodeInfo("NEW_ORDER_REJECTED", rej, "New order rejected."),
        -2011: CodeInfo("CANCEL_REJECTED", gone, "Unknown order sent."),
        -2013: CodeInfo("NO_SUCH_ORDER", gone, "Order does not exist."),
        -2014: CodeInfo("BAD_API_KEY_FMT", auth, "API-key format invalid.", 401, "check ASTER_API_KEY"),
        -2015: CodeInfo("REJECTED_MBX_KEY", auth, "Invalid API-key, IP, or permissions for action.", 401,
                        "check the key, its IP whitelist and its trading permission"),
        -2018: CodeInfo("BALANCE_NOT_SUFFICIENT", rej, "Balance is insufficient."),
        -2019: CodeInfo("MARGIN_NOT_SUFFICIENT", rej, "Margin is insufficient."),
        -2021: CodeInfo("ORDER_WOULD_IMMEDIATELY_TRIGGER", rej, "Order would immediately trigger."),
        -2022: CodeInfo("REDUCE_ONLY_REJECT", rej, "ReduceOnly Order is rejected."),
        -2025: CodeInfo("MAX_OPEN_ORDER_EXCEEDED", rej, "Reach max open order limit."),
        -2027: CodeInfo("MAX_LEVERAGE_RATIO", rej, "Exceeded the maximum allowable position at current leverage."),
        -2028: CodeInfo("MIN_LEVERAGE_RATIO", rej, "Leverage is smaller than permitted: insufficient margin balance."),
        -4002: CodeInfo("PRICE_GREATER_THAN_MAX_PRICE", rej, "Price greater than max price."),
        -4003: CodeInfo("QTY_LESS_THAN_ZERO", rej, "Quantity less than or equal to zero."),
        -4004: CodeInfo("QTY_LESS_THAN_MIN_QTY", rej, "Quantity less than min quantity."),
        -4005: CodeInfo("QTY_GREATER_THAN_MAX_QTY", rej, "Quantity greater than max quantity."),
        -4006: CodeInfo("STOP_PRICE_LESS_THAN_MIN_PRICE", rej, "Stop price less than min price."),
        -4007: CodeInfo("STOP_PRICE_GREATER_THAN_MAX_PRICE", rej, "Stop price greater than max price."),
        -4013: CodeInfo("PRICE_LESS_THAN_MIN_PRICE", rej, "Price less than min price."),
        -4014: CodeInfo("PRICE_NOT_INCREASED_BY_TICK_SIZE", rej, "Price not increased by tick size."),
        -4015: CodeInfo("INVALID_CL_ORD_ID_LEN", rej, "Client order id is not valid.",
                        advice="client ids must match ^[.A-Z:/a-z0-9_-]{1,36}$"),
        -4016: CodeInfo("PRICE_HIGHER_THAN_MULTIPLIER_UP", rej, "Price is higher than mark price multiplier cap."),
        -4023: CodeInfo("QTY_NOT_INCREASED_BY_STEP_SIZE", rej, "Quantity not increased by step size."),
        -4024: CodeInfo("PRICE_LOWER_THAN_MULTIPLIER_DOWN", rej, "Price is lower than mark price multiplier floor."),
        -4028: CodeInfo("INVALID_LEVERAGE", err, "Leverage is not valid."),
        -4045: CodeInfo("REACH_MAX_STOP_ORDER_LIMIT", rej, "Reach max stop order limit."),
        -4046: CodeInfo("NO_NEED_TO_CHANGE_MARGIN_TYPE", err, "No need to change margin type."),
        -4047: CodeInfo("THERE_EXISTS_OPEN_ORDERS", err, "Margin type cannot be changed if there exists open orders."),
        -4048: CodeInfo("THERE_EXISTS_QUANTITY", err, "Margin type cannot be changed if there exists position."),
        -4059: CodeInfo("NO_NEED_TO_CHANGE_POSITION_SIDE", err, "No need to change position side."),
        -4061: CodeInfo("INVALID_POSITION_SIDE", rej, "Order's position side does not match user's setting."),
        -4067: CodeInfo("POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS", err, "Cannot change position side: open orders."),
        -4068: CodeInfo("POSITION_SIDE_CHANGE_EXISTS_QUANTITY", err, "Cannot change position side with a position."),
        -4118: CodeInfo("REDUCE_ONLY_MARGIN_CHECK_FAILED", rej, "ReduceOnly Order failed. Check existing open orders."),
        -4131: CodeInfo("MARKET_ORDER_REJECT", rej, "Best counter price is outside the PERCENT_PRICE band."),
        -4137: CodeInfo("QUANTITY_WITH_CLOSE_POSITION", rej, "Quantity must be zero with closePosition equals true."),
        -4138: CodeInfo("REDUCE_ONLY_WITH_CLOSE_POSITION", rej, "reduceOnly cannot be sent with closePosition."),
        -4142: CodeInfo("TPSL_WOULD_TRIGGER_IMMEDIATELY", rej, "Order would immediately trigger."),
        -4164: CodeInfo("MIN_NOTIONAL", rej,
                        "Order's notional must be no smaller than %s (unless you choose reduce only).",
                        advice="raise the size to the market's minimum notional"),
        -4168: CodeInfo("MULTI_ASSETS_MODE", err, "Isolated margin is not allowed in Multi-Assets mode."),
        -4183: CodeInfo("PRICE_ABOVE_STOP_MULTIPLIER_CAP", rej, "Limit price can't be higher than the cap."),
        -4184: CodeInfo("PRICE_BELOW_STOP_MULTIPLIER_FLOOR", rej, "Limit price can't be lower than the floor."),
        -4225: CodeInfo("NONCE_EXPIRED", auth, "Nonce Expired",
                        advice="use strictly increasing microsecond nonces within 10 s of server time"),
        # Binance's code for a post-only order that would cross; Aster's behaviour is UNVERIFIED (§7)
        -5022: CodeInfo("GTX_ORDER_REJECT", rej, "Post Only order rejected: it would execute as taker."),
        -5060: CodeInfo("PERCENT_PRICE_REJECT", rej, "Limit order price does not meet the PERCENT_PRICE filter limit."),
        -5076: CodeInfo("MIN_ORDER_VALUE", rej, "Total order value should be more than %s USDT."),
    }  # fmt: skip


ERROR_CODES: dict[int, CodeInfo] = _rows()


class AsterApiError(FlashScalperError):
    """An Aster error as the simulator (or request validation) produces it: ``{"code": -4164, "msg": …}``."""

    def __init__(self, code: int, msg: str | None = None, *, http_status: int | None = None) -> None:
        info = ERROR_CODES.get(code)
        self.code = code
        self.msg = msg if msg is not None else (info.message if info else "Unknown error.")
        self.http_status = http_status or (info.http_status if info else 400)
        super().__init__(f"{code}: {self.msg}")

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def is_success_envelope(body: Any) -> bool:
    """``{"code":200,…}`` or ``{"code":"200",…}`` (cancel-all) mean success despite the code field."""
    return isinstance(body, dict) and str(body.get("code")) == "200"


def _decode(body: Any) -> Any:
    if isinstance(body, bytes | bytearray | str):
        try:
            return orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            return None  # an HTML error page or a truncated answer
    return body


def _code_of(body: Any) -> int | None:
    if not isinstance(body, dict) or "code" not in body:
        return None
    try:
        return int(body["code"])
    except (TypeError, ValueError):
        return None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


_BANNED_UNTIL = re.compile(r"banned until (\d{12,})")


def _retry_after(headers: Mapping[str, str] | None, msg: str, default: float, now_ms: int | None) -> float:
    """Seconds to wait: the Retry-After header, else an "IP banned until <ms>" message, else ``default``."""
    value = _header(headers, "Retry-After")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
    match = _BANNED_UNTIL.search(msg)
    if match:
        now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        return max((int(match.group(1)) - now) / 1000.0, 0.0)
    return default


def _build(kind: type[ExchangeError], text: str, code: int | None, name: str, status: int,
           headers: Mapping[str, str] | None, msg: str, now_ms: int | None) -> ExchangeError:  # fmt: skip
    code_str = "" if code is None else str(code)
    error: ExchangeError
    if kind is OrderRejected:
        error = OrderRejected(text, reason=name, status=status)
    elif kind is RateLimited:
        if status == 418:
            default = DEFAULT_BAN_BACKOFF_S
        else:
            default = DEFAULT_ORDER_BACKOFF_S if code == -1015 else DEFAULT_WEIGHT_BACKOFF_S
        wait = _retry_after(headers, msg, default, now_ms)
        error = RateLimited(f"{text}; retry in {wait:.0f} s", retry_after=wait, code=code_str, status=status)
    else:
        error = kind(text, code=code_str, status=status)
    error.aster_code = code  # type: ignore[attr-defined]  # the numeric code, whatever the error type
    return error


def error_from_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None, *, now_ms: int | None = None
) -> ExchangeError | None:
    """The typed error an Aster REST answer stands for, or None when it is a success.

    ``body`` may be raw bytes/str or already-decoded JSON. Every returned error carries ``aster_code``
    (the numeric code, or None when the body had none). ``now_ms`` is only used to turn an
    "IP banned until <ms>" message into a wait.
    """
    data = _decode(body)
    code = _code_of(data)
    if status < 400 and (code is None or code >= 0 or is_success_envelope(data)):
        return None
    msg = str(data.get("msg", "")) if isinstance(data, dict) else ""
    msg = msg[:_MAX_MSG]
    info = ERROR_CODES.get(code) if code is not None else None
    if status in (418, 429) or (info is not None and info.kind is RateLimited):
        kind: type[ExchangeError] = RateLimited
        name = info.name if info else ("IP_BANNED" if status == 418 else "TOO_MANY_REQUESTS")
    elif info is not None:
        kind, name = info.kind, info.name
    elif status >= 500 or status == 403:  # 5xx outage, 403 = WAF block in front of the API
        kind, name = ExchangeUnavailable, f"HTTP_{status}"
    elif status == 401:
        kind, name = AuthFailed, "HTTP_401"
    else:
        kind, name = ExchangeError, f"HTTP_{status}" if code is None else f"CODE_{code}"
    label = name if code is None else f"{code} {name}"
    text = f"Aster answered HTTP {status} ({label})" + (f": {msg}" if msg else "")
    if status == 503:
        text += "; the request status is unknown: reconcile by clientOrderId before retrying"
    elif info is not None and info.advice:
        text += f"; {info.advice}"
    return _build(kind, text, code, name, status, headers, msg, now_ms)


def raise_for_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None, *, now_ms: int | None = None
) -> None:
    """Raise the typed error for an Aster REST answer, if it is one."""
    error = error_from_response(status, body, headers, now_ms=now_ms)
    if error is not None:
        raise error
