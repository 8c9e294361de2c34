"""``hoso witness``: a standalone C2SP tlog-witness (c2sp.org/tlog-witness) that a
supervising agency runs apart from the ledger.

:mod:`~ledger.witness.keyfile` (the witness's key file), :mod:`~ledger.witness.state`
(the last size and root it cosigned per log, fsync'd before it answers),
:mod:`~ledger.witness.service` (one add-checkpoint, checked by
:mod:`ledger.core.witness`, cosigned, recorded) and :mod:`~ledger.witness.server`
(the HTTP interface, a Starlette app under uvicorn). It uses the pure core and
storage's durable files, never the ledger's database or settings: it sits beside the
API, above the composition root (docs/architecture.md).
"""

__all__ = ["keyfile", "server", "service", "state"]
