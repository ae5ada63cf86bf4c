"""Local dashboard and OBS browser-source overlays for live streaming.

``DashboardServer(session, port=0).start()`` runs it inside the bot's event loop (127.0.0.1 by default).

Overlays (transparent background; add each as an OBS *Browser Source* of this size):

=====================  ============  =============================================
``/overlay/trades``    420 × 360 px  a toast per fill and per closed trade (P&L)
``/overlay/pnl``       360 × 130 px  session P&L ticker with a sparkline
``/overlay/positions`` 480 × 260 px  open positions with live P&L / ROE
``/overlay/signal``    400 × 150 px  last signal: confidence meter and top reason
=====================  ============  =============================================

Query parameters (every page): ``theme=dark|light``, ``accent=%2300ff88``, ``font=Inter``,
``scale=1.2``, ``bg=%23000000aa`` (overlay background, default transparent) and ``privacy=1``
(no balances, sizes, money P&L or addresses are even sent; P&L in % and R). Each page reconnects by
itself and fades to a quiet "offline" state while the bot restarts. A REPLAY badge shows on every
surface in replay mode, a SAFE MODE badge while safe mode is on.
"""
