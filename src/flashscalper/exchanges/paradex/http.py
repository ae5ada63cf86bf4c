"""Paradex REST transport (protocol/paradex.md §2): send, resend by the shared policy, map error bodies.

One logical request (:meth:`ParadexHttp.call`) may be several HTTP requests:
* network errors, timeouts and 5xx are resent with backoff when the request is idempotent (see
  :mod:`flashscalper.exchanges.retry`);
* 429 waits until ``x-ratelimit-reset`` (bounded) and resends; out of attempts it raises
  ``RateLimited(retry_after)``;
* one 401 on a private call drops the cached JWT, authenticates again and resends once.

Error answers ``{"error","message","data"}`` become typed errors (:func:`error_for`). Round-trip times are kept
per endpoint for :meth:`ParadexHttp.latency_stats`. The JWT is never logged or put into error messages.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any, Protocol, TypeVar

import aiohttp
import orjson

from flashscalper.clock import Clock
from flashscalper.errors import (
    AuthFailed,
    ExchangeError,
    ExchangeUnavailable,
    MalformedMessage,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from flashscalper.exchanges.paradex import mapping as m
from flashscalper.exchanges.retry import TRANSPORT_ERRORS, RetryPolicy, idempotent

T = TypeVar("T")

AUTH_CODES = frozenset({
    "INVALID_TOKEN", "UNAUTHORIZED_ERROR", "NOT_ONBOARDED", "ACCOUNT_NOT_FOUND", "PUBLIC_KEY_INVALID",
    "INVALID_STARKNET_SIGNATURE", "STARKNET_SIGNATURE_VERIFICATION_FAILED", "INVALID_STARKNET_ADDRESS",
    "INVALID_SUBKEY", "INVALID_SIGNATURE_EXPIRATION",
})
NOT_FOUND_CODES = frozenset({
    "NOT_FOUND", "ORDER_ID_NOT_FOUND", "CLIENT_ORDER_ID_NOT_FOUND", "ORDER_IS_CLOSED", "ORDER_IS_NOT_OPEN",
    "ALGO_ID_NOT_FOUND",
})
UNAVAILABLE_CODES = frozenset({"INTERNAL_ERROR", "SERVICE_UNAVAILABLE"})
LATENCY_SAMPLES = 256


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Round-trip times of one endpoint over its last samples (ms)."""

    count: int
    mean_ms: float
    p50_ms: float
    max_ms: float


class BearerToken(Protocol):
    """Where private calls get their JWT (``ParadexAuth``), and how a refused one is dropped."""

    async def token(self) -> str: ...

    def drop(self) -> None: ...


def error_for(status: int, payload: Any, where: str, *, order_endpoint: bool) -> ExchangeError:
    """Map an HTTP error answer ``{"error","message","data"}`` to a typed error."""
    code, message = "", ""
    if isinstance(payload, Mapping):
        code = str(payload.get("error") or "")
        message = str(payload.get("message") or "")[:200]
    text = f"{where}: HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 401 or code in AUTH_CODES or "missing or malformed jwt" in message.lower():
        return AuthFailed(text, code=code, status=status)
    if status >= 500 or code in UNAVAILABLE_CODES:
        return ExchangeUnavailable(text, code=code, status=status)
    if order_endpoint and (status == 404 or code in NOT_FOUND_CODES):
        return OrderNotFound(text, code=code, status=status)
    if order_endpoint and status in (400, 403, 409, 422):
        return OrderRejected(text, reason=code or f"HTTP_{status}", status=status)
    return ExchangeError(text, code=code, status=status)


def map_answer(where: str, mapper: Callable[[Any], T], payload: Any) -> T:
    """Apply a payload mapper, naming the endpoint in a ``MalformedMessage``."""
    try:
        return mapper(payload)
    except MalformedMessage as exc:
        raise MalformedMessage(f"{where}: {exc}") from None


def map_results(where: str, mapper: Callable[[Any], T], payload: Any) -> list[T]:
    """Map each row of a ``{"results": [...]}`` answer."""
    rows = map_answer(where, lambda p: m.results(p, "response"), payload)
    return [map_answer(where, mapper, row) for row in rows]


class ParadexHttp:
    """Requests to one Paradex REST base URL, with retries, rate-limit waits, re-auth and error mapping.

    ``session`` may be injected (and is then not closed by :meth:`close`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        clock: Clock,
        policy: RetryPolicy,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 10.0,
        rate_limit_default_wait_s: float = 1.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._clock = clock
        self.policy = policy
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._rl_default = rate_limit_default_wait_s
        self._latency: dict[str, deque[float]] = {}

    async def close(self) -> None:
        """Close the HTTP session if this transport created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def latency_stats(self) -> dict[str, LatencyStats]:
        """Per endpoint ("GET /markets", "POST /orders", …): count, mean, median and max over the last 256."""
        out = {}
        for name, samples in self._latency.items():
            values = list(samples)
            out[name] = LatencyStats(len(values), sum(values) / len(values), median(values), max(values))
        return out

    async def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any, headers: dict[str, str], label: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        started = time.perf_counter()
        async with self._session.request(
            method, self._base + path, params=query, data=data, headers=headers, timeout=self._timeout
        ) as resp:
            raw = await resp.read()
            status, resp_headers = resp.status, resp.headers
        self._latency.setdefault(label, deque(maxlen=LATENCY_SAMPLES)).append((time.perf_counter() - started) * 1000)
        return status, resp_headers, raw

    def _rate_limit_wait(self, headers: Mapping[str, str]) -> float:
        reset = headers.get("x-ratelimit-reset")
        try:
            value = float(reset) if reset is not None else None
        except ValueError:
            value = None
        if value is None:
            return self._rl_default
        # Documented as unix seconds; a small number can only be "seconds from now".
        wait = value - self._clock.time_ms() / 1000 if value > 1e9 else value
        return min(max(wait, 0.0), self.policy.rate_limit_max_wait_s)

    async def call(
        self,
        method: str,
        path: str,
        *,
        label: str | None = None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: BearerToken | None = None,
        retry: bool | None = None,
        order_endpoint: bool = False,
        expect_body: bool = True,
    ) -> Any:
        """One logical request. ``auth`` makes it private (Bearer JWT); ``retry`` None means "if idempotent"."""
        label = label or f"{method} {path}"
        where = f"{method} {path}"
        attempts = self.policy.attempts(where, retry=idempotent(method) if retry is None else retry)
        reauthed = False
        while True:
            hdrs = dict(headers or {})
            if auth is not None:
                hdrs["Authorization"] = "Bearer " + await auth.token()
            try:
                status, resp_headers, raw = await self._send(method, path, params, body, hdrs, label)
            except TRANSPORT_ERRORS as exc:
                await attempts.network_error(exc)
                continue
            if status == 429:
                wait = self._rate_limit_wait(resp_headers)
                if await attempts.wait_rate_limit(wait):
                    continue
                raise RateLimited(f"{where}: rate limited; retry after {wait:.1f}s", retry_after=wait)
            if status >= 500 and await attempts.backoff(f"HTTP {status}"):
                continue
            if status == 401 and auth is not None and not reauthed:
                auth.drop()  # the server no longer accepts it: get a new one and resend once
                reauthed = True
                continue
            if status >= 400:
                raise error_for(status, _loads_or_none(raw), where, order_endpoint=order_endpoint)
            if not expect_body:
                return None
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise MalformedMessage(f"{where}: answer is not JSON ({len(raw)} bytes)", status=status) from None

    async def paged(
        self, path: str, params: Mapping[str, Any], mapper: Callable[[Any], T], *, auth: BearerToken | None,
        max_pages: int,
    ) -> list[T]:
        """``GET`` following ``next`` cursors for up to ``max_pages`` pages."""
        out: list[T] = []
        cursor: str | None = None
        for _ in range(max_pages):
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            payload = await self.call("GET", path, params=query, auth=auth)
            out.extend(map_results(f"GET {path}", mapper, payload))
            cursor = payload.get("next") if isinstance(payload, Mapping) else None
            if not cursor:
                break
        return out


def _loads_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
