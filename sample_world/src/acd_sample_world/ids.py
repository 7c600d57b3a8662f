"""Deterministic randomness, identifiers and number formats of the sample world.

Every entity draws from its own `random.Random`, derived from the world seed and the entity's
name (`sub_rng(seed, "person", 17)`), so the world can be generated as a stream, one entity at
a time, and still be identical run after run. Nothing here reads the clock.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sub_rng(seed: int, *parts: object) -> random.Random:
    """An independent generator for one entity of the world, fixed by seed and name."""
    key = "\x1f".join([str(seed), *(str(part) for part in parts)]).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=16).digest(), "big"))


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from `rng`."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def digits(rng: random.Random, length: int, *, first: str = "") -> str:
    """A decimal id of exactly `length` digits (never a leading zero), e.g. Meta and TikTok ids."""
    head = first or str(rng.randint(1, 9))
    body_len = length - len(head)
    return head + str(rng.randrange(10**body_len)).zfill(body_len)


def stripe_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    """A Stripe-style object id such as `ch_3Pq…` (base62 body)."""
    return prefix + "_" + "".join(rng.choices(_BASE62, k=length))


def hex_string(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def sha256_of(seed: int, *parts: object) -> str:
    """A stable content hash for a generated asset (the hash of its notional bytes)."""
    key = "\x1f".join([str(seed), *(str(part) for part in parts)]).encode()
    return hashlib.sha256(key).hexdigest()


def decimal_string(value: float | Decimal, places: int) -> str:
    """Meta's number style: rounded to `places`, trailing zeros dropped (`"38.4"`, `"0"`)."""
    text = fixed_string(value, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fixed_string(value: float | Decimal, places: int) -> str:
    """TikTok's number style: exactly `places` decimals (`"20.000"`, `"1.41"`)."""
    quantum = Decimal(1).scaleb(-places)
    return str(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))
