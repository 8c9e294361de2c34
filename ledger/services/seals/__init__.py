"""The QR seal as a service (the bytes are :mod:`ledger.core.seal`): issuing seals and the
trust list (``issue``), the online check (``check``), QR images (``qr``) and the
printable result sheet (``sheet``). docs/seal.md."""

__all__ = ["check", "issue", "qr", "sheet"]
