"""Paradex identity: L1 (Ethereum) key → L2 (Starknet) key, public key and account address.

Derivation follows paradex-py (Python convention, see protocol/paradex.md §4.1–4.2): the L1 key signs the
EIP-712 "STARK Key" message, r of that signature seeds a sha256 grind, and the account address is the
Cairo-0 proxy deployment address. Unlike the SDK, an L1 key starting with a 0x00 byte works here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data

from flashscalper.errors import ConfigError
from flashscalper.exchanges.paradex import starknet

# secp256k1 group order: valid Ethereum keys are in [1, n).
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# Rejection bound of the grind: the largest multiple of the STARK order below 2^256.
_GRIND_BOUND = (1 << 256) - ((1 << 256) % starknet.EC_ORDER)
# Contract addresses live below 2^251 − 256.
_ADDRESS_BOUND = (1 << 251) - 256
_CONTRACT_ADDRESS_PREFIX = starknet.encode_short_string("STARKNET_CONTRACT_ADDRESS")
_SELECTOR_INITIALIZE = starknet.selector("initialize")
_HEX_RE = re.compile(r"(0x|0X)?[0-9a-fA-F]{1,64}")


# --------------------------------------------------------------------------------------------- parsing


def parse_l1_private_key(text: str, *, setting: str = "PARADEX_L1_PRIVATE_KEY") -> bytes:
    """Ethereum private key as 32 bytes, left-padded (keys whose first byte is 0x00 are valid)."""
    value = _parse_hex(text, setting=setting, what="an Ethereum private key")
    if not 1 <= value < _SECP256K1_ORDER:
        raise ConfigError(f"{setting} is out of range: expected a secp256k1 private key in [1, n)")
    return value.to_bytes(32, "big")


def parse_l2_private_key(value: int | str, *, setting: str = "PARADEX_L2_PRIVATE_KEY") -> int:
    """Starknet private key as an int in [1, EC_ORDER)."""
    key = value if isinstance(value, int) else _parse_hex(value, setting=setting, what="a Starknet private key")
    if not 1 <= key < starknet.EC_ORDER:
        raise ConfigError(f"{setting} is out of range: expected a Starknet private key in [1, EC_ORDER)")
    return key


def parse_account_address(value: int | str, *, setting: str = "PARADEX_ACCOUNT_ADDRESS") -> int:
    """Starknet account address as an int below 2^251 − 256."""
    address = value if isinstance(value, int) else _parse_hex(value, setting=setting, what="an address")
    if not 0 < address < _ADDRESS_BOUND:
        raise ConfigError(f"{setting} is out of range: expected a Starknet address below 2^251 - 256")
    return address


def _parse_hex(text: object, *, setting: str, what: str) -> int:
    # Never echo the value: it may be a secret.
    if not isinstance(text, str):
        raise ConfigError(f"{setting} must be a hex string ('0x' + up to 64 hex digits), {what}")
    stripped = text.strip()
    if not _HEX_RE.fullmatch(stripped):
        raise ConfigError(f"{setting} is malformed: expected '0x' followed by up to 64 hex digits ({what})")
    return int(stripped.removeprefix("0x").removeprefix("0X"), 16)


def _parse_felt_setting(value: int | str, setting: str) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(value, 0)
    except ValueError:
        raise ConfigError(f"{setting} is malformed: expected a 0x-hex or decimal integer") from None


# ------------------------------------------------------------------------------------------ derivation


def stark_key_typed_data(l1_chain_id: int) -> dict[str, object]:
    """EIP-712 "STARK Key" message that the L1 key signs to derive the L2 key."""
    return {
        "domain": {"name": "Paradex", "chainId": l1_chain_id, "version": "1"},
        "primaryType": "Constant",
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "Constant": [{"name": "action", "type": "string"}],
        },
        "message": {"action": "STARK Key"},
    }


def grind_key(seed: int) -> int:
    """sha256 grinding of paradex-py: seed and index as minimal even-length hex bytes, reject ≥ bound."""
    seed_bytes = _min_even_bytes(seed)
    index = 0
    while True:
        digest = int.from_bytes(hashlib.sha256(seed_bytes + _min_even_bytes(index)).digest(), "big")
        if digest < _GRIND_BOUND:
            return digest % starknet.EC_ORDER
        index += 1


def _min_even_bytes(value: int) -> bytes:
    # paradex-py re-encodes ints as hex padded to an even length: leading zero bytes vanish, 0 is one byte.
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def l2_private_key_from_l1(l1_key: bytes, l1_chain_id: int) -> int:
    """Derive the Starknet private key from a 32-byte Ethereum key (Python/paradex-py convention)."""
    signable = encode_typed_data(full_message=stark_key_typed_data(l1_chain_id))
    signed = Account.sign_message(signable, l1_key)
    return grind_key(signed.r)


def account_address(public_key: int, proxy_class_hash: int, account_class_hash: int) -> int:
    """Address of the Cairo-0 proxy account deployed by Paradex for ``public_key`` (deployer 0)."""
    calldata = [account_class_hash, _SELECTOR_INITIALIZE, 2, public_key, 0]
    return (
        starknet.pedersen_chain(
            [_CONTRACT_ADDRESS_PREFIX, 0, public_key, proxy_class_hash, starknet.pedersen_chain(calldata)]
        )
        % _ADDRESS_BOUND
    )


def l1_address_of(l1_key: bytes) -> str:
    """Checksummed Ethereum address of a 32-byte private key."""
    return Account.from_key(l1_key).address


# ------------------------------------------------------------------------------------------- identity


@dataclass(frozen=True, slots=True, repr=False)
class ParadexIdentity:
    """Everything that identifies a Paradex account to the venue. The L2 private key never shows in repr."""

    l1_address: str | None
    l2_private_key: int
    l2_public_key: int
    account_address: int

    @classmethod
    def from_l1_key(
        cls,
        l1_key_hex: str,
        *,
        l1_chain_id: int | str,
        account_proxy_hash: int | str,
        account_hash: int | str,
        setting: str = "PARADEX_L1_PRIVATE_KEY",
    ) -> ParadexIdentity:
        """Derive the identity from an Ethereum key and the ``/system/config`` values
        (``l1_chain_id``, ``paraclear_account_proxy_hash``, ``paraclear_account_hash``)."""
        l1_key = parse_l1_private_key(l1_key_hex, setting=setting)
        chain_id = _parse_felt_setting(l1_chain_id, "l1_chain_id")
        proxy_hash = _parse_felt_setting(account_proxy_hash, "paraclear_account_proxy_hash")
        impl_hash = _parse_felt_setting(account_hash, "paraclear_account_hash")
        l2_key = l2_private_key_from_l1(l1_key, chain_id)
        pub = starknet.public_key(l2_key)
        return cls(
            l1_address=l1_address_of(l1_key),
            l2_private_key=l2_key,
            l2_public_key=pub,
            account_address=account_address(pub, proxy_hash, impl_hash),
        )

    @classmethod
    def from_l2_key(
        cls,
        l2_key: int | str,
        address: int | str,
        *,
        l1_address: str | None = None,
        key_setting: str = "PARADEX_L2_PRIVATE_KEY",
        address_setting: str = "PARADEX_ACCOUNT_ADDRESS",
    ) -> ParadexIdentity:
        """Identity from an L2 key (main key or subkey) and the account address it trades for."""
        key = parse_l2_private_key(l2_key, setting=key_setting)
        return cls(
            l1_address=l1_address,
            l2_private_key=key,
            l2_public_key=starknet.public_key(key),
            account_address=parse_account_address(address, setting=address_setting),
        )

    def __repr__(self) -> str:
        return (
            f"ParadexIdentity(l1_address={self.l1_address!r}, l2_public_key={hex(self.l2_public_key)}, "
            f"account_address={hex(self.account_address)})"
        )

    @property
    def public_key_hex(self) -> str:
        """The public key as the API writes it (0x-hex)."""
        return hex(self.l2_public_key)

    @property
    def address_hex(self) -> str:
        """The account address as the API writes it (0x-hex)."""
        return hex(self.account_address)
