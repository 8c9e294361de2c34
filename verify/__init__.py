"""Offline verification of a ledger or a bundle, on the pure core only (docs/verify.md).

What others use: :func:`verify.run.verify_ledger` and :func:`verify.bundle.verify_bundle`
over a :class:`verify.source.Source` under :class:`verify.trust.TrustRoots`; the steps
and check ids (``checks``), findings and exit codes (``findings``), the JSON and HTML
reports (``report``, ``html``). The bundle's bytes (``bundle_format``) and index evidence
(``evidence``) are public too. The passes themselves (``integrity``, ``anchors``,
``dossiers``, ``index``, ``privacy``, ``roles``, ``sigpool``) are private.
"""

__all__ = [
    "bundle",
    "bundle_format",
    "checks",
    "evidence",
    "findings",
    "follow",
    "html",
    "peers",
    "report",
    "run",
    "source",
    "trust",
]
