"""The dashboard's FastAPI application: pages, overlays, JSON state, metrics, the /ws push channel, controls.

Routes::

    GET  /                      dashboard page
    GET  /overlay/{trades|pnl|positions|signal}   OBS browser-source overlays (transparent)
    GET  /api/state[?privacy=1] the state as JSON (same shape as the WebSocket snapshot)
    GET  /api/health            liveness and mode
    GET  /metrics               Prometheus text format
    WS   /ws[?privacy=1]        snapshot, then deltas as things change
    POST /api/control/{pause,resume,safe-mode,flatten}   need X-Control-Token
    POST /api/whatif/{drop,jump,rate-limit,liquidate}    need X-Control-Token; simulator only
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from importlib.resources import files
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from flashscalper.dashboard.controls import Controls, build_control_router
from flashscalper.dashboard.hub import LiveHub

__all__ = ["OVERLAYS", "create_app"]

OVERLAYS = ("trades", "pnl", "positions", "signal")
_NO_STORE = {"Cache-Control": "no-store"}


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def static_dir() -> str:
    """Where the pages, scripts and styles shipped inside the package live."""
    return str(files("flashscalper.dashboard") / "static")


def create_app(hub: LiveHub, *, controls: Controls | None = None) -> FastAPI:
    """Build the app around a running :class:`LiveHub` (and the controls, when the bot is live)."""
    app = FastAPI(title="FlashScalper dashboard", docs_url=None, redoc_url=None, openapi_url=None,
)
    started = time.monotonic()
    root = static_dir()
    pages = {name: (files("flashscalper.dashboard") / "static" / f"{name}.html") for name in ("dashboard", *OVERLAYS)}
    app.mount("/static", StaticFiles(directory=root), name="static")

    @app.get("/", response_class=HTMLResponse)
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(pages["dashboard"].read_text("utf-8"), headers=_NO_STORE)

    @app.get("/overlay/{name}", response_class=HTMLResponse)
    async def overlay(name: str) -> HTMLResponse:
        if name not in OVERLAYS:
            raise HTTPException(404, f"no overlay {name!r}; overlays: {', '.join(OVERLAYS)}")
        return HTMLResponse(pages[name].read_text("utf-8"), headers=_NO_STORE)

    @app.get("/api/state")
    async def state(privacy: str | None = None) -> Response:
        body = orjson.dumps(hub.view(private=_truthy(privacy)))
        return Response(body, media_type="application/json", headers=_NO_STORE)

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        conn = hub.state.section("connection")
        return {"status": "ok", "mode": hub.state.mode.get("name"), "venue_connected": conn["ok"],
                "risk": hub.state.risk.get("state"), "clients": len(hub.clients),
                "controls": controls is not None,
                "whatif": controls is not None and controls.simulator is not None,
                "privacy_forced": hub.force_privacy, "uptime_s": round(time.monotonic() - started, 1)}

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(hub.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        client = hub.connect(private=_truthy(websocket.query_params.get("privacy")))

        async def drain_incoming() -> None:
            # the page sends nothing we act on; reading notices a closed socket promptly
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    await websocket.receive_text()

        reader = asyncio.create_task(drain_incoming())
        try:
            while True:
                getter = asyncio.ensure_future(client.queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                frame = getter.result()
                if frame is None:  # the hub ended this client (shutdown or too slow)
                    with contextlib.suppress(Exception):
                        await websocket.close(code=1012)
                    break
                await websocket.send_text(frame.decode())
        except (WebSocketDisconnect, OSError):
            pass
        finally:
            hub.disconnect(client)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    if controls is not None:
        app.include_router(build_control_router(controls))
    return app
