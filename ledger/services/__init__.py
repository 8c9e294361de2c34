"""Application services over storage: the dossier service (commands in, signed events
out), offline bundles, the verifier's database source, and the QR seals."""

__all__ = ["bundles", "dossiers", "index_proofs", "seals", "status_lists", "verify_source"]
