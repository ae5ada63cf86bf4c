"""JWTs for the simulated venue: ES384 like Paradex, with a key made fresh for each simulator run."""

from __future__ import annotations

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from flashscalper.clock import Clock

TOKEN_LIFETIME_S = 300  # Paradex JWTs live five minutes and cannot be extended


class TokenError(Exception):
    """The bearer token is missing, malformed, expired or not ours."""


class TokenIssuer:
    def __init__(self, clock: Clock, *, issuer: str = "flashscalper-sim", lifetime_s: int = TOKEN_LIFETIME_S) -> None:
        self._clock = clock
        self._key = ec.generate_private_key(ec.SECP384R1())
        self._public = self._key.public_key()
        self.issuer = issuer
        self.lifetime_s = lifetime_s

    def issue(self, account: str, *, subkey: str | None = None) -> str:
        now = self._clock.time_ms() // 1000
        claims = {"typ": "at+JWT", "sub": account, "iss": self.issuer, "iat": now, "exp": now + self.lifetime_s}
        if subkey:
            claims["pubkey"] = subkey
        return jwt.encode(claims, self._key, algorithm="ES384")

    def verify(self, token: str) -> str:
        """Return the account the token was issued to."""
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["ES384"],
                issuer=self.issuer,
                options={"verify_exp": False, "require": ["sub", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid bearer token: {exc}") from None
        # Expiry is checked against the simulator's clock, which may be virtual.
        if int(claims["exp"]) <= self._clock.time_ms() // 1000:
            raise TokenError("bearer token expired; call POST /v1/auth again")
        return str(claims["sub"])

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self._public, as_dict=True)
        jwk.update({"use": "sig", "alg": "ES384", "kid": "sim-1"})
        return {"keys": [jwk]}
