"""HTTP plumbing of the Paradex dialect: error bodies, the per-route guard (faults → auth → rate limit →
handler → headers), bearer tokens, request parsing and opaque cursor pagination.

Every handler runs inside :func:`guarded`, so no exception ever escapes as a bare 500: a known
:class:`ApiError` becomes the venue's ``{"error","message","data"}`` body, anything else INTERNAL_ERROR
(logged with its traceback on the simulator's side only).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from flashscalper.sim.orders import SimRequestError
from flashscalper.sim.paradex.render import error
from flashscalper.sim.ratelimit import BucketState
from flashscalper.sim.tokens import TokenError

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator

log = logging.getLogger("flashscalper.sim.paradex")
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The engine account a private request's JWT names (typed request keys arrived in aiohttp 3.12).
ACCOUNT: Any = web.RequestKey("paradex_account", str) if hasattr(web, "RequestKey") else "paradex_account"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class ApiError(Exception):
    """An answer with the venue's error body."""

    def __init__(self, status: int, code: str, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.data = data


def bad(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(status: int, code: str, message: str, data: Any = None) -> web.Response:
    return json_response(error(code, message, data), status)


# ----------------------------------------------------------------------------------------- bearer


class BearerCache:
    """Verified tokens → account, so a bot sending hundreds of orders a second pays the ES384 check once
    per token. Expiry is still checked on every request against the simulator's (maybe virtual) clock."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._seen: dict[str, tuple[str, int]] = {}

    def account_of(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "INVALID_TOKEN", "missing or malformed jwt")
        token = token.strip()
        now_s = self._sim.clock.time_ms() // 1000
        cached = self._seen.get(token)
        if cached is not None:
            if cached[1] <= now_s:
                raise ApiError(401, "INVALID_TOKEN", "token is expired; call POST /v1/auth again")
            return cached[0]
        try:
            account = self._sim.tokens.verify(token)
        except TokenError as exc:
            raise ApiError(401, "INVALID_TOKEN", str(exc)) from None
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[token] = (account, now_s + self._sim.tokens.lifetime_s)
        return account


# ---------------------------------------------------------------------------------------- guarding


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """How a route is limited: ``scope`` of PARADEX_LIMITS, and whether it needs a bearer token."""

    scope: str
    private: bool


def _limit_headers(state: BucketState) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(state.limit),
        "x-ratelimit-remaining": str(state.remaining),
        "x-ratelimit-reset": str(state.reset_s),
        "x-ratelimit-window": str(state.window_s),
    }


def guarded(sim: Simulator, bearer: BearerCache, spec: RouteSpec, handler: Handler) -> Handler:
    """Wrap ``handler``: fault injection first, then the bearer token, the token bucket and the handler."""

    async def guard(request: web.Request) -> web.StreamResponse:
        headers: dict[str, str] = {}
        try:
            fault = sim.faults.rest_fault()
            if fault is not None:
                return _fault_response(sim, fault)
            if spec.private:
                request[ACCOUNT] = bearer.account_of(request)
            key = request[ACCOUNT] if spec.private else (request.remote or "?")
            state = sim.limiter.take(spec.scope, key)
            headers = _limit_headers(state)
            if not state.allowed:
                response = error_response(429, "RATE_LIMIT_EXCEEDED",
                                          f"too many requests; retry in {state.retry_after_s:.3f}s")
                response.headers.update(headers)
                return response
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.data)
        except SimRequestError as exc:
            response = error_response(exc.status or 400, exc.code, exc.message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = error_response(500, "INTERNAL_ERROR", "internal error in the simulator; see its log")
        response.headers.update(headers)
        return response

    return guard


def _fault_response(sim: Simulator, status: int) -> web.Response:
    if status == 429:
        now_s = sim.clock.time_ms() / 1000
        response = error_response(429, "RATE_LIMIT_EXCEEDED", "too many requests (injected fault)")
        response.headers.update({"x-ratelimit-limit": "0", "x-ratelimit-remaining": "0",
                                 "x-ratelimit-reset": str(math.ceil(now_s) + 1), "x-ratelimit-window": "1"})
        return response
    return error_response(status, "SERVICE_UNAVAILABLE", "service unavailable (injected fault)")


# ---------------------------------------------------------------------------------------- parsing


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise bad("BINDING_ERROR", "request body is empty; expected JSON")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad("BINDING_ERROR", f"request body is not valid JSON: {exc}") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad("BINDING_ERROR", "request body must be a JSON object")
    return body


def query_int(request: web.Request, name: str, default: int | None = None, *, minimum: int = 0,
              maximum: int | None = None) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad("INVALID_REQUEST_PARAMETER", f"{name} must be an integer, got {text[:30]!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise bad("INVALID_REQUEST_PARAMETER", f"{name} must be between {minimum}{upper}")
    return value


def decimal_field(body: dict[str, Any], name: str, *, required: bool = True) -> Decimal | None:
    """A decimal string (or int) field; floats are refused as the venue's strict binding does."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise bad("VALIDATION_ERROR", f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad("BINDING_ERROR", f"{name} must be a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise bad("VALIDATION_ERROR", f"{name} is not a decimal number: {str(value)[:30]!r}") from None
    if not number.is_finite() or number < 0:
        raise bad("VALIDATION_ERROR", f"{name} must be a finite, non-negative decimal")
    return number


# ------------------------------------------------------------------------------------- pagination


class Cursors:
    """Opaque, signed cursors over lists sorted newest first by (created_at, numeric id).

    A cursor names the row it continues from and a direction; it is HMAC-signed with a key made per
    simulator run, so edited or foreign cursors are refused like Paradex refuses legacy ones."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def encode(self, key: tuple[int, int], direction: str) -> str:
        payload = base64.urlsafe_b64encode(orjson.dumps([key[0], key[1], direction])).rstrip(b"=")
        tag = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
        return (payload + b"." + base64.urlsafe_b64encode(tag).rstrip(b"=")).decode()

    def decode(self, cursor: str) -> tuple[tuple[int, int], str]:
        try:
            payload, _, tag = cursor.encode().partition(b".")
            expected = base64.urlsafe_b64encode(
                hmac.new(self._key, payload, hashlib.sha256).digest()[:12]).rstrip(b"=")
            if not hmac.compare_digest(tag, expected):
                raise ValueError
            ts, ident, direction = orjson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
            if direction not in ("n", "p"):
                raise ValueError
            return (int(ts), int(ident)), direction
        except (ValueError, TypeError, UnicodeError):
            raise bad("INVALID_REQUEST_PARAMETER", "cursor is invalid or from another server") from None

    def page(self, request: web.Request, rows: Sequence[T], key: Callable[[T], tuple[int, int]],
             render: Callable[[T], Any]) -> dict[str, Any]:
        """One page of ``rows`` (newest first) after the query's start_at/end_at/cursor/page_size."""
        size = query_int(request, "page_size", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
        assert size is not None
        start_at = query_int(request, "start_at")
        end_at = query_int(request, "end_at")
        picked = [r for r in rows if (start_at is None or key(r)[0] >= start_at)
                  and (end_at is None or key(r)[0] <= end_at)]
        cursor = request.query.get("cursor")
        lo, hi = 0, len(picked)
        if cursor:
            anchor, direction = self.decode(cursor)
            if direction == "n":  # rows strictly older than the anchor
                lo = next((i for i, r in enumerate(picked) if key(r) < anchor), len(picked))
                hi = min(lo + size, len(picked))
            else:  # rows strictly newer than the anchor, the page just before it
                hi = next((i for i, r in enumerate(picked) if key(r) <= anchor), len(picked))
                lo = max(0, hi - size)
        else:
            hi = min(size, len(picked))
        chunk = picked[lo:hi]
        return {
            "next": self.encode(key(chunk[-1]), "n") if chunk and hi < len(picked) else None,
            "prev": self.encode(key(chunk[0]), "p") if chunk and lo > 0 else None,
            "results": [render(r) for r in chunk],
        }
