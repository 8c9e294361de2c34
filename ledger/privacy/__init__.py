"""Personal data: commitments in signed bytes, a per-subject encrypted vault, a keyed
index, erasure that keeps every proof valid, and an access log (docs/privacy.md).
:mod:`~ledger.privacy.service` (``PersonalData``) is how the rest of hoso uses it."""

__all__ = ["access_log", "crypto", "free_text", "records", "service", "vault"]
