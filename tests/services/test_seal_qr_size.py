"""The largest version 2 seal the formats allow stays at QR version ≤ 13, level Q, for seal
hosts up to 31 characters (docs/formats.md §11.1): readable at 15 mm on a phone."""

from __future__ import annotations

import hashlib

from ledger.core.seal import (
    MAX_DOSSIER,
    MAX_ISSUED_V2,
    MAX_PROCEDURE,
    MAX_RESULT_NUMBER,
    MAX_STATUS_ENTRY,
    MAX_STATUS_LIST,
    SEAL_KEY_ID_SIZE,
    SealClaims,
    StatusRef,
    seal_hs1,
    seal_url,
    sign_seal,
)
from ledger.core.signing import Signer
from ledger.services.seals.qr import MAX_URL_VERSION, make_qr

KEY = Signer(hashlib.sha256(b"qr size").digest())
HOSTS = ("https://dichvucong.hanoi.gov.vn", "https://xacthuc.hoso.example", "http://127.0.0.1:8000")


def largest(char: str = "9") -> bytes:
    claims = SealClaims(
        key_id=KEY.key_id[:SEAL_KEY_ID_SIZE],
        dossier=char * MAX_DOSSIER,
        procedure=char * MAX_PROCEDURE,
        result_number=char * MAX_RESULT_NUMBER,
        issued_s=MAX_ISSUED_V2,
        document_hash=b"\xff" * 16,
        event_hash=b"\xff" * 16,
        status=StatusRef(MAX_STATUS_LIST, MAX_STATUS_ENTRY),
    )
    return sign_seal(claims, KEY)


def test_the_largest_seal_fits_version_13_for_31_character_hosts() -> None:
    seal = largest()
    assert len(seal) <= 210
    for host in HOSTS:
        assert len(host) <= 31
        qr = make_qr(seal_url(host, seal))
        assert qr.designator.endswith("-Q")
        assert isinstance(qr.version, int)
        assert qr.version <= MAX_URL_VERSION, (host, qr.version, len(seal))
    assert make_qr(seal_hs1(seal)).version <= MAX_URL_VERSION  # type: ignore[operator]


def test_a_longer_host_is_what_pushes_it_over() -> None:
    """The limit is the host's: one of 50 characters no longer fits (so the docs say 31)."""
    qr = make_qr(seal_url("https://" + "x" * 42, largest()))
    assert isinstance(qr.version, int)
    assert qr.version > MAX_URL_VERSION
