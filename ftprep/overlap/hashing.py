"""Canonical serialisation of a parsed record and its 128-bit digest.

Two lines hold the same record when their canonical forms are equal: keys sorted, no whitespace, so key
order and JSON formatting do not matter. Digests are 128-bit BLAKE2b: collisions are negligible even for
billions of records, and 16 bytes keep memory small.
"""

from __future__ import annotations

import json
from hashlib import blake2b
from typing import Any

import orjson

DIGEST_SIZE = 16


def canonical_bytes(record: Any) -> bytes:
    """The record serialised with sorted keys and no whitespace (UTF-8, non-ASCII kept as is).

    orjson handles every value JSON parsing yields except integers beyond 64 bits; those fall back to the
    standard library with the same layout so the digest stays defined.
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=True).encode("utf-8", "surrogatepass")


def digest_bytes(data: bytes) -> bytes:
    """128-bit BLAKE2b digest of ``data``."""
    return blake2b(data, digest_size=DIGEST_SIZE).digest()


def record_digest(record: Any) -> bytes:
    """128-bit digest of the record's canonical serialisation: equal for equal records."""
    return digest_bytes(canonical_bytes(record))


def digest_halves(digest: bytes) -> tuple[int, int]:
    """A 16-byte digest as two unsigned 64-bit integers (high, low), for compact array storage."""
    value = int.from_bytes(digest, "big")
    return value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF
