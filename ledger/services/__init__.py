"""Application services over storage: the dossier service (commands in, signed events
out), the inspector's audit report, offline bundles, the verifier's database source, and
the QR seals."""

__all__ = [
    "audit_report",
    "bundles",
    "dossiers",
    "index_proofs",
    "seals",
    "status_lists",
    "verify_source",
]
