"""Token-protected controls (pause/resume entries, safe mode, emergency flatten) and the simulator's
"what if" buttons (drop the connection, price jump, rate-limit burst, liquidation).

Every POST needs ``X-Control-Token``: missing → 401, wrong → 403, and in both cases nothing happens.
The "what if" routes exist only when the venue is the local simulator (``session.extras["simulator"]``).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException

from flashscalper.dashboard.hub import LiveHub

__all__ = ["Controls", "build_control_router", "new_token"]

log = logging.getLogger(__name__)


def new_token() -> str:
    """A fresh control token (printed once at start)."""
    return secrets.token_urlsafe(24)


class Controls:
    """What the buttons do, on the live session."""

    def __init__(self, session: Any, hub: LiveHub, token: str) -> None:
        if not token:
            raise ValueError("the control token must not be empty")
        self.session = session
        self.hub = hub
        self._token = token

    @property
    def simulator(self) -> Any | None:
        return self.session.extras.get("simulator")

    def check(self, given: str | None) -> None:
        """Raise 401 without a token and 403 with a wrong one (compared in constant time)."""
        if not given:
            raise HTTPException(401, "control token required: send it in the X-Control-Token header")
        if not secrets.compare_digest(given.encode(), self._token.encode()):
            raise HTTPException(403, "wrong control token")

    def _announce(self, text: str, changed: set[str]) -> dict[str, Any]:
        log.warning("dashboard control: %s", text)
        self.hub.broadcast(changed, [{"kind": "control", "ts": _now(self.session), "state": "", "text": text}])
        return {"ok": True, "done": text, "risk": self.session.bot.risk.state.value,
                "safe_mode": bool(self.hub.state.mode.get("safe"))}

    async def pause(self) -> dict[str, Any]:
        self.session.bot.pause_entries("entries paused from the dashboard")
        return self._announce("entries paused", {"risk"})

    async def resume(self) -> dict[str, Any]:
        self.session.bot.resume("resumed from the dashboard")
        return self._announce("entries resumed", {"risk"})

    async def safe_mode(self, on: bool) -> dict[str, Any]:
        await self.session.bot.set_safe_mode(on)
        self.hub.state.mode["safe"] = on
        return self._announce(f"safe mode {'on' if on else 'off'}", {"mode", "risk"})

    async def flatten(self) -> dict[str, Any]:
        await self.session.bot.flatten("emergency flatten from the dashboard")
        return self._announce("emergency flatten: orders cancelled, positions closing", {"risk"})

    # ---- simulator "what if" ---------------------------------------------------------------------

    def _sim(self) -> Any:
        sim = self.simulator
        if sim is None:
            raise HTTPException(404, "what-if actions need the local simulator as the venue")
        return sim

    async def drop(self) -> dict[str, Any]:
        dropped = await self._sim().faults.drop_connections()
        return self._announce(f"what if: dropped {dropped} venue connection(s)", set())

    async def jump(self, market: str, fraction: float) -> dict[str, Any]:
        sim = self._sim()
        if market not in sim.exchange.specs:
            raise HTTPException(400, f"unknown market {market!r}; known: {', '.join(sorted(sim.exchange.specs))}")
        if not -0.5 <= fraction <= 0.5:
            raise HTTPException(400, "fraction must be between -0.5 and 0.5 (e.g. -0.03 for a 3 % drop)")
        if sim.market is None:
            raise HTTPException(400, "this simulator runs without a market generator")
        sim.market.jump(market, fraction)
        sim.exchange.tick()
        return self._announce(f"what if: {market} price jump {fraction * 100:+.1f}%", set())

    async def rate_limit(self, count: int) -> dict[str, Any]:
        if not 1 <= count <= 1000:
            raise HTTPException(400, "count must be between 1 and 1000")
        self._sim().faults.apply({"rest_429_burst": count})
        return self._announce(f"what if: the next {count} REST requests answer 429", set())

    async def liquidate(self) -> dict[str, Any]:
        sim = self._sim()
        account = self._bot_account(sim)
        sim.exchange.force_liquidate(account)
        return self._announce("what if: the venue liquidated the account", set())

    def _bot_account(self, sim: Any) -> str:
        accounts = list(sim.exchange.accounts())
        identity = getattr(getattr(self.session.exchange, "rest", None), "identity", None)
        if identity is not None:
            for candidate in (hex(identity.account_address), str(identity.account_address)):
                if candidate in accounts:
                    return candidate
        if len(accounts) == 1:
            return accounts[0]
        raise HTTPException(409, "cannot tell which simulator account is the bot's")


def _now(session: Any) -> int:
    return int(session.bot.clock.time_ms())


def build_control_router(controls: Controls) -> APIRouter:
    """``/api/control/*`` and ``/api/whatif/*`` routes, each checking the token first."""

    def require_token(token: str | None = Header(default=None, alias="X-Control-Token")) -> None:
        controls.check(token)  # a dependency: runs before the body is even validated

    router = APIRouter(dependencies=[Depends(require_token)])

    @router.post("/api/control/pause")
    async def pause() -> dict[str, Any]:
        return await controls.pause()

    @router.post("/api/control/resume")
    async def resume() -> dict[str, Any]:
        return await controls.resume()

    @router.post("/api/control/safe-mode")
    async def safe_mode(on: bool = Body(embed=True)) -> dict[str, Any]:
        return await controls.safe_mode(on)

    @router.post("/api/control/flatten")
    async def flatten() -> dict[str, Any]:
        return await controls.flatten()

    @router.post("/api/whatif/drop")
    async def drop() -> dict[str, Any]:
        return await controls.drop()

    @router.post("/api/whatif/jump")
    async def jump(market: str = Body(embed=True),
                   fraction: float = Body(embed=True)) -> dict[str, Any]:
        return await controls.jump(market, fraction)

    @router.post("/api/whatif/rate-limit")
    async def rate_limit(count: int = Body(default=20, embed=True)) -> dict[str, Any]:
        return await controls.rate_limit(count)

    @router.post("/api/whatif/liquidate")
    async def liquidate() -> dict[str, Any]:
        return await controls.liquidate()

    return router
