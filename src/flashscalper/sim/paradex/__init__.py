"""The simulator's Paradex dialect: the real Paradex REST protocol (and, alongside, WebSocket) over loopback.

* :mod:`.render` — engine objects → Paradex JSON shapes (pure; REST and WS share them).
* :mod:`.registry` — public key ↔ account address ↔ engine account, onboarding and funding, order metadata.
* :mod:`.rest` — ``register(app, sim)`` mounts ``/v1`` routes; order routes in :mod:`.rest_orders`,
  order parsing and signature checks in :mod:`.orders_in`, HTTP plumbing in :mod:`.wire`.
"""
