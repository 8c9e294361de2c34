"""The pure core: encoding, hashing, signing, events, chains, Merkle proofs, checkpoints,
commitments and the seal's bytes.

Bytes and keys in, values or typed errors out. No database, clock, file or
randomness inside (import-linter enforces the first; review the rest).
:mod:`~ledger.core.base45` is the seal's own encoding, private to the core.
"""

__all__ = [
    "chain",
    "checkpoint",
    "commitment",
    "encoding",
    "errors",
    "event",
    "hashing",
    "index",
    "merkle",
    "note",
    "policy",
    "registry",
    "seal",
    "seal_trust",
    "signing",
    "status_list",
    "tiles",
    "witness",
]
