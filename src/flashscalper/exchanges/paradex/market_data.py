"""Paradex public market data over REST (protocol/paradex.md §2): markets, books, trades, funding.

:class:`ParadexMarketData` is the base of ``ParadexRestClient``: it also holds the plumbing every endpoint
uses (one logical request through :class:`ParadexHttp`, optionally with the account's JWT, and cursor paging).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flashscalper.domain import BookUpdate, Market, MarkPrice, Quote, Trade
from flashscalper.errors import ExchangeError
from flashscalper.exchanges.paradex import mapping as m
from flashscalper.exchanges.paradex.auth import ParadexAuth
from flashscalper.exchanges.paradex.http import ParadexHttp, map_answer, map_results

T = TypeVar("T")


class ParadexMarketData:
    """Paradex public endpoints in domain types, plus a cache of market rules (used by order validation)."""

    def __init__(self, http: ParadexHttp, auth: ParadexAuth) -> None:
        self._http = http
        self._auth = auth
        self._markets: dict[str, Market] = {}

    # ------------------------------------------------------------------------------------ transport

    async def _call(
        self, method: str, path: str, *, private: bool = False, retry: bool | None = None, **kwargs: Any
    ) -> Any:
        """One logical request (:meth:`ParadexHttp.call`); ``private`` sends the JWT."""
        return await self._http.call(method, path, auth=self._auth if private else None, retry=retry, **kwargs)

    async def _paged(
        self, path: str, params: Mapping[str, Any], mapper: Callable[[Any], T], *, private: bool, max_pages: int
    ) -> list[T]:
        return await self._http.paged(path, params, mapper, auth=self._auth if private else None,
                                      max_pages=max_pages)

    # -------------------------------------------------------------------------------- public data

    async def system_config(self) -> m.SystemConfig:
        """``GET /system/config`` (chain ids and account class hashes)."""
        return map_answer("GET /system/config", m.system_config_from, await self._call("GET", "/system/config"))

    async def system_time(self) -> int:
        """Server time in ms."""
        payload = await self._call("GET", "/system/time")
        return map_answer("GET /system/time", lambda p: m.req_int(m.require_obj(p, "time"), "server_time"), payload)

    async def markets(self) -> dict[str, Market]:
        """All markets by symbol (also refreshes the cache used by order validation)."""
        payload = await self._call("GET", "/markets")
        found = {mk.symbol: mk for mk in map_results("GET /markets", m.market_from, payload)}
        self._markets.update(found)
        return found

    async def market(self, symbol: str) -> Market:
        """One market's rules, from the cache or ``/markets``."""
        if symbol not in self._markets:
            await self.markets()
        if symbol not in self._markets:
            raise ExchangeError(f"market {symbol} is not listed on Paradex", code="MARKET_NOT_FOUND")
        return self._markets[symbol]

    async def markets_summary(self, market: str = "ALL") -> list[MarkPrice]:
        payload = await self._call("GET", "/markets/summary", params={"market": market})
        return map_results("GET /markets/summary", m.mark_price_from, payload)

    async def orderbook(self, market: str, depth: int | None = None) -> BookUpdate:
        path = f"/orderbook/{market}"
        payload = await self._call("GET", path, label="GET /orderbook/{market}", params={"depth": depth})
        return map_answer(f"GET {path}", m.book_from, payload)

    async def bbo(self, market: str) -> Quote:
        path = f"/bbo/{market}"
        return map_answer(f"GET {path}", m.quote_from, await self._call("GET", path, label="GET /bbo/{market}"))

    async def trades(self, market: str, page_size: int = 100) -> list[Trade]:
        """The latest public trades (one page)."""
        payload = await self._call("GET", "/trades", params={"market": market, "page_size": page_size})
        return map_results("GET /trades", m.trade_from, payload)

    async def funding_data(
        self, market: str, *, start_at: int | None = None, end_at: int | None = None, page_size: int = 100,
        max_pages: int = 1,
    ) -> list[m.FundingObservation]:
        params = {"market": market, "start_at": start_at, "end_at": end_at, "page_size": page_size}
        return await self._paged("/funding/data", params, m.funding_observation_from, private=False,
                                 max_pages=max_pages)
