"""The pure core: encoding, hashing, signing, events, Merkle proofs, checkpoints.

Bytes and keys in, values or typed errors out. No database, clock, file or
randomness inside (import-linter enforces the first; review the rest).
"""
