"""Paradex onboarding and JWT auth (protocol/paradex.md §3): the order signer, ``/auth`` and a cached JWT.

The JWT is refreshed ``JWT_REFRESH_MARGIN_S`` before it expires, under a lock so concurrent private calls
trigger one ``/auth``. A venue that answers NOT_ONBOARDED gets ``POST /onboarding`` first (when allowed).
The JWT and keys are never logged or put into error messages.
"""

from __future__ import annotations

import asyncio
import logging

import jwt

from flashscalper.clock import Clock
from flashscalper.errors import AuthFailed, ExchangeError, ExchangeUnavailable, MalformedMessage, RateLimited
from flashscalper.exchanges.paradex import mapping as m
from flashscalper.exchanges.paradex.http import ParadexHttp, map_answer
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.signing import ParadexSigner

log = logging.getLogger(__name__)

JWT_REFRESH_MARGIN_S = 60
JWT_DEFAULT_LIFETIME_S = 300  # the documented lifetime, used only if a token carries no exp


class ParadexAuth:
    """One account's credentials on one venue: the order signer and a JWT cache (a ``BearerToken``).

    ``identity`` is None for a public-only client: every private call then fails with ``AuthFailed``.
    ``chain_id`` (``starknet_chain_id``) is read from ``/system/config`` on first signing when not given.
    """

    def __init__(
        self,
        http: ParadexHttp,
        identity: ParadexIdentity | None,
        *,
        clock: Clock,
        chain_id: str | None = None,
        auth_signature_ttl_s: int = 1800,
        auto_onboard: bool = True,
    ) -> None:
        self._http = http
        self._identity = identity
        self._clock = clock
        self._chain_id = chain_id
        self._auth_ttl = auth_signature_ttl_s
        self._auto_onboard = auto_onboard
        self._signer: ParadexSigner | None = None
        self._jwt: str | None = None
        self._jwt_exp_s = 0
        self._auth_lock = asyncio.Lock()
        self._signer_lock = asyncio.Lock()
        self.auth_count = 0  # successful /auth calls (observability)

    @property
    def identity(self) -> ParadexIdentity | None:
        return self._identity

    def _now_s(self) -> int:
        return self._clock.time_ms() // 1000

    def require_identity(self) -> ParadexIdentity:
        """The identity, or ``AuthFailed`` naming the settings to configure."""
        if self._identity is None:
            raise AuthFailed(
                "this Paradex client has no credentials; set PARADEX_PRIVATE_KEY or PARADEX_L2_PRIVATE_KEY"
            )
        return self._identity

    async def signer(self) -> ParadexSigner:
        """The Starknet signer of this account, built once (reading the chain id first if needed)."""
        identity = self.require_identity()
        async with self._signer_lock:
            if self._signer is None:
                if self._chain_id is None:
                    config = map_answer("GET /system/config", m.system_config_from,
                                        await self._http.call("GET", "/system/config"))
                    self._chain_id = config.starknet_chain_id
                self._signer = ParadexSigner(self._chain_id, identity.account_address, identity.l2_private_key)
        return self._signer

    async def onboarding_status(self) -> m.OnboardingStatus:
        """``GET /onboarding``: does the venue know this Starknet key?"""
        identity = self.require_identity()
        params = {"account_signer_type": "starknet", "public_key": identity.public_key_hex}
        return map_answer("GET /onboarding", m.onboarding_from,
                          await self._http.call("GET", "/onboarding", params=params))

    async def onboard(self) -> None:
        """``POST /onboarding`` (idempotent): register the account once, signed with the L2 key."""
        identity = self.require_identity()
        if identity.l1_address is None:
            raise AuthFailed(
                "the Paradex account is not onboarded and no Ethereum address is known; onboard it once "
                "in the Paradex app, or configure PARADEX_PRIVATE_KEY (the L1 key)", code="NOT_ONBOARDED"
            )
        signer = await self.signer()
        headers = {
            "PARADEX-ETHEREUM-ACCOUNT": identity.l1_address,
            "PARADEX-STARKNET-ACCOUNT": identity.address_hex,
            "PARADEX-STARKNET-SIGNATURE": signer.sign_onboarding(),
        }
        # registering the same key twice is harmless, so an unclear outcome may be resent
        await self._http.call("POST", "/onboarding", body={"public_key": identity.public_key_hex}, headers=headers,
                              retry=True, expect_body=False)

    async def _post_auth(self) -> str:
        identity = self.require_identity()
        signer = await self.signer()
        now = self._now_s()
        expiration = now + self._auth_ttl
        headers = {
            "PARADEX-STARKNET-ACCOUNT": identity.address_hex,
            "PARADEX-STARKNET-SIGNATURE": signer.sign_auth(now, expiration),
            "PARADEX-TIMESTAMP": str(now),
            "PARADEX-SIGNATURE-EXPIRATION": str(expiration),
        }
        try:
            payload = await self._http.call("POST", "/auth", headers=headers, retry=True)  # issues a token only
        except ExchangeError as exc:
            if isinstance(exc, ExchangeUnavailable | RateLimited | AuthFailed):
                raise
            raise AuthFailed(str(exc), code=exc.code, status=exc.status) from None
        return map_answer("POST /auth", lambda p: m.req_str(m.require_obj(p, "auth"), "jwt_token"), payload)

    async def authenticate(self) -> None:
        """Get a fresh JWT now, onboarding first when the venue says NOT_ONBOARDED."""
        try:
            token = await self._post_auth()
        except AuthFailed as exc:
            if exc.code != "NOT_ONBOARDED" or not self._auto_onboard:
                raise
            log.info("Paradex account not onboarded yet: onboarding")
            await self.onboard()
            token = await self._post_auth()
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise MalformedMessage("POST /auth: jwt_token is not a JWT") from None
        exp = claims.get("exp")
        self._jwt_exp_s = int(exp) if isinstance(exp, int | float) else self._now_s() + JWT_DEFAULT_LIFETIME_S
        self._jwt = token
        self.auth_count += 1

    def _jwt_fresh(self) -> bool:
        return self._jwt is not None and self._jwt_exp_s - self._now_s() > JWT_REFRESH_MARGIN_S

    async def token(self) -> str:
        """The current JWT, refreshed first when it is near expiry."""
        if not self._jwt_fresh():
            async with self._auth_lock:
                if not self._jwt_fresh():  # another task may have refreshed while we waited
                    await self.authenticate()
        assert self._jwt is not None
        return self._jwt

    def drop(self) -> None:
        """Forget the JWT (the venue refused it): the next private call authenticates again."""
        self._jwt = None
