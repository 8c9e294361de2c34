"""Durable storage of the ledger on eventsourcing's recorders (SQLite and PostgreSQL):
the checked event store, the Merkle log, checkpoints, the key registry, the custodial
signer and the encrypted keystore file. ``keystore_format`` (the file's bytes) is
private to storage."""

__all__ = [
    "checkpoints",
    "commits",
    "custodian",
    "database",
    "durable",
    "errors",
    "index_store",
    "keys",
    "keystore",
    "merkle_log",
    "outage",
    "signer_state",
    "sql",
    "status_entries",
    "store",
    "trust_lists",
]
