"""Application services over storage: the dossier service (commands in, signed events
out), the inspector's audit report, offline bundles, the verifier's database source,
the QR seals, and the ledger's side of C2SP tlog-witness (submitting checkpoints to
witnesses)."""

__all__ = [
    "audit_report",
    "bundles",
    "dossiers",
    "index_proofs",
    "seals",
    "status_lists",
    "tiles",
    "verify_source",
    "witnessing",
]
